//! Client packets whose payload cannot be decoded (JSON nested past the parser's depth limit,
//! say). A real client never sends one; a hostile one can send thousands a second, and each used
//! to write an ERROR line. Each is counted (`rust_echo_dropped_total{reason="undecodable_packet"}`)
//! and ignored; one line per [`LOG_EVERY`] for the whole server says how many; a client that sends
//! [`STRIKES`] within [`WINDOW`] is disconnected and its connection reset.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socketioxide::extract::SocketRef;

use crate::engine::Engine;
use crate::listener::watchdog::Hangup;
use crate::logging::Throttle;
use crate::stats::DropReason;

/// Undecodable packets within [`WINDOW`] that disconnect a client.
pub(crate) const STRIKES: u32 = 10;
pub(crate) const WINDOW: Duration = Duration::from_secs(10);
const LOG_EVERY: Duration = Duration::from_secs(10);

static IGNORED_LOG: Throttle = Throttle::new(LOG_EVERY);
static DISCONNECTED_LOG: Throttle = Throttle::new(LOG_EVERY);

/// One client's undecodable packets in the current window.
#[derive(Debug, Default)]
pub(crate) struct Strikes {
    window: Mutex<Option<(Instant, u32)>>,
}

impl Strikes {
    /// Count one; `true` exactly when this one reaches [`STRIKES`] within the window.
    fn strike(&self) -> bool {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let (start, n) = match *window {
            Some((start, n)) if now.saturating_duration_since(start) < WINDOW => (start, n + 1),
            _ => (now, 1),
        };
        *window = Some((start, n));
        n == STRIKES
    }
}

/// `event`'s payload from `socket` could not be decoded: count, log (throttled), and disconnect
/// the client once it has used up its strikes.
pub(crate) fn undecodable(
    engine: &Engine,
    socket: &SocketRef,
    strikes: &Strikes,
    event: &str,
    error: &dyn Display,
) {
    engine.stats.dropped(DropReason::UndecodablePacket);
    if let Some(held_back) = IGNORED_LOG.admit(&engine.stats) {
        tracing::warn!(
            socket = %socket.id,
            event,
            error = %error,
            undecodable_since_last_line = held_back + 1,
            "ignored a client packet that cannot be decoded"
        );
    }
    if !strikes.strike() {
        return;
    }
    if let Some(held_back) = DISCONNECTED_LOG.admit(&engine.stats) {
        tracing::warn!(
            socket = %socket.id,
            strikes = STRIKES,
            window_s = WINDOW.as_secs(),
            disconnected_since_last_line = held_back + 1,
            "disconnecting a client that keeps sending undecodable packets"
        );
    }
    let hangup = Hangup::of_session(socket.req_parts());
    let _ = socket.clone().disconnect();
    if let Some(hangup) = hangup {
        hangup.hang_up();
    }
}

#[cfg(test)]
mod tests {
    use super::{STRIKES, Strikes};

    #[test]
    fn the_strike_that_reaches_the_limit_is_reported_once() {
        let strikes = Strikes::default();
        let out: Vec<bool> = (0..STRIKES + 5).map(|_| strikes.strike()).collect();
        assert_eq!(out.iter().filter(|&&b| b).count(), 1);
        assert!(out[usize::try_from(STRIKES).expect("small") - 1]);
    }
}
