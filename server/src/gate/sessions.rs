//! Engine.IO sessions that have not sent the Socket.IO CONNECT yet.
//!
//! socketioxide counts a socket only once it CONNECTs, so `maxConnections` alone let any number
//! of handshakes without a CONNECT hold a session (and a descriptor) each. Every handshake the
//! gate admits takes a reservation here, counted with the connected sockets against the limit;
//! the CONNECT (sent by the server itself for Engine.IO 3 clients) turns it into a connection.
//! socketioxide closes a session that has not CONNECTed after [`CONNECT_TIMEOUT`], and the
//! reservation lapses a moment later, so it can never outlive its session.
//!
//! A session that leaves the namespace (`41`) would stay open uncounted, pinging, and could
//! CONNECT again later; [`left_namespace`] closes a WebSocket-opened one (socket.io-client closes
//! its transport after its last namespace anyway).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use socketioxide::extract::SocketRef;
use socketioxide::socket::DisconnectReason;

use crate::listener::watchdog::Hangup;
use crate::stats::Stats;

/// How long a new Engine.IO session may wait before sending the Socket.IO CONNECT. Clients send
/// it right after the handshake's answer; a session that has not is closed.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A reservation lapses this long after its handshake: the connect timeout plus a margin for the
/// time between the gate and the session's creation.
const HOLD: Duration = CONNECT_TIMEOUT.saturating_add(Duration::from_secs(1));

/// When each waiting session's handshake was admitted, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    admitted: Mutex<VecDeque<Instant>>,
}

impl Pending {
    /// Take a reservation when fewer than `limit` sessions exist with `connected` of them
    /// connected (0: no limit); how many wait afterwards, or `None` when full.
    pub(crate) fn reserve(&self, connected: u64, limit: u64) -> Option<usize> {
        let mut admitted = self.lock();
        let now = Instant::now();
        lapse(&mut admitted, now);
        let waiting = u64::try_from(admitted.len()).unwrap_or(u64::MAX);
        if limit != 0 && connected.saturating_add(waiting) >= limit {
            return None;
        }
        admitted.push_back(now);
        Some(admitted.len())
    }

    /// A waiting session CONNECTed, or a handshake failed: give back the oldest reservation
    /// (the others' lapse later, never earlier than their sessions close). How many wait now.
    pub(crate) fn release(&self) -> usize {
        let mut admitted = self.lock();
        admitted.pop_front();
        lapse(&mut admitted, Instant::now());
        admitted.len()
    }

    /// How many wait, after the lapsed ones are dropped.
    pub(crate) fn waiting(&self) -> usize {
        let mut admitted = self.lock();
        lapse(&mut admitted, Instant::now());
        admitted.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Instant>> {
        self.admitted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Keep `rust_echo_pending_sessions` current while no handshake comes (reservations lapse on
/// their own); ends once the gate is gone.
pub(crate) async fn report(pending: Weak<Pending>, stats: Arc<Stats>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Some(pending) = pending.upgrade() else {
            return;
        };
        stats.set_pending_sessions(pending.waiting());
    }
}

/// The socket left the namespace: when the client asked for it (`41`), end its Engine.IO
/// session too by resetting its connection, if it has one of its own.
pub(crate) fn left_namespace(socket: &SocketRef, reason: DisconnectReason) {
    if reason == DisconnectReason::ClientNSDisconnect
        && let Some(hangup) = Hangup::of_session(socket.req_parts())
    {
        hangup.hang_up();
    }
}

fn lapse(admitted: &mut VecDeque<Instant>, now: Instant) {
    while admitted
        .front()
        .is_some_and(|&at| now.saturating_duration_since(at) >= HOLD)
    {
        admitted.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::Pending;

    #[test]
    fn reservations_count_with_connections_against_the_limit() {
        let pending = Pending::default();
        assert_eq!(pending.reserve(1, 3), Some(1));
        assert_eq!(pending.reserve(1, 3), Some(2));
        assert_eq!(pending.reserve(1, 3), None, "1 connected + 2 waiting = 3");
        assert_eq!(pending.release(), 1);
        assert_eq!(pending.reserve(1, 3), Some(2));
        assert_eq!(pending.reserve(0, 0), Some(3), "0: no limit");
        pending.release();
        pending.release();
        pending.release();
        assert_eq!(
            pending.release(),
            0,
            "releasing with none waiting is harmless"
        );
    }
}
