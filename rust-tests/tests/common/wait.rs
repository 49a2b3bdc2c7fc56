//! Waiting for conditions instead of for the clock: poll what the server or a client reports
//! until it holds, and when it never does, fail naming what was awaited and what was last seen.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::time::Duration;

use super::WAIT;

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(10);

/// Check `f` every 10 ms until it holds or `within` has passed; whether it held.
pub async fn eventually(within: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
    true
}

/// Wait until `f` holds; panic naming `what` after [`WAIT`].
pub async fn until(what: impl Display, f: impl FnMut() -> bool) {
    let mut f = f;
    until_eq(what, true, || std::future::ready(f())).await;
}

/// Wait until `probe` produces `expected` (each call a fresh probe, e.g. an HTTP request);
/// panic naming `what` and the last value seen after [`WAIT`].
pub async fn until_eq<T, F, Fut>(what: impl Display, expected: T, mut probe: F) -> T
where
    T: PartialEq + Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let seen = probe().await;
        if seen == expected {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}: expected {expected:?}, last seen {seen:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}
