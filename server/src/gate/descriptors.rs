//! The process's file descriptor budget: new Socket.IO sessions stop while fewer than a reserve
//! of descriptors are left under `RLIMIT_NOFILE`, so `/health`, the HTTP API, Redis and the auth
//! requests still get one when sessions fill the rest.
//!
//! Checked on every handshake, so it is arithmetic on counters: the descriptors the process had
//! open besides the listener's connections (counted from `/proc/self/fd` at start and again at
//! most every [`RECOUNT_EVERY`] once the budget is half used), plus the open connections the
//! watchdog tracks. Without `/proc` (not Linux) there is no check.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Descriptors kept free for everything but new sessions: a quarter of the limit, at most 64.
const MOST_RESERVED: u64 = 64;

const RECOUNT_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub(crate) struct Descriptors {
    /// The soft `RLIMIT_NOFILE`, when known.
    limit: Option<u64>,
    reserve: u64,
    /// Open descriptors that are not the listener's connections.
    others: AtomicU64,
    recounted: Mutex<Instant>,
}

impl Descriptors {
    /// Read the limit and count what is open now, with `connections` of the listener's open.
    pub(crate) fn measure(connections: u64) -> Self {
        let limit = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|text| soft_open_files(&text));
        let others = open_now().map_or(0, |n| n.saturating_sub(connections));
        Descriptors {
            limit,
            reserve: limit.map_or(0, |l| (l / 4).min(MOST_RESERVED)),
            others: AtomicU64::new(others),
            recounted: Mutex::new(Instant::now()),
        }
    }

    /// Whether a new session would eat into the reserve, `connections` being open.
    pub(crate) fn exhausted(&self, connections: u64) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        let used = self.others.load(Relaxed).saturating_add(connections);
        if used >= limit / 2 {
            self.recount(connections);
        }
        self.others.load(Relaxed).saturating_add(connections) >= limit - self.reserve
    }

    /// Count again what the process holds besides connections (Redis, auth requests, files a PHP
    /// host opened), at most every [`RECOUNT_EVERY`].
    fn recount(&self, connections: u64) {
        let Ok(mut last) = self.recounted.try_lock() else {
            return;
        };
        if last.elapsed() < RECOUNT_EVERY {
            return;
        }
        *last = Instant::now();
        if let Some(n) = open_now() {
            self.others.store(n.saturating_sub(connections), Relaxed);
        }
    }
}

/// The soft limit of "Max open files" in `/proc/self/limits`.
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn open_now() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(u64::try_from(entries.count()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            256                  4096                 files     \n";
        assert_eq!(soft_open_files(text), Some(256));
        assert_eq!(
            soft_open_files("Max open files  unlimited unlimited files"),
            None
        );
        assert_eq!(soft_open_files(""), None);
    }

    #[test]
    fn new_sessions_stop_a_reserve_short_of_the_limit() {
        let d = Descriptors {
            limit: Some(256),
            reserve: 64,
            others: AtomicU64::new(20),
            recounted: Mutex::new(Instant::now()),
        };
        assert!(!d.exhausted(171));
        assert!(d.exhausted(172));
        let unknown = Descriptors {
            limit: None,
            reserve: 0,
            others: AtomicU64::new(0),
            recounted: Mutex::new(Instant::now()),
        };
        assert!(!unknown.exhausted(u64::MAX));
    }
}
