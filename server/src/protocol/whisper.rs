//! `client event` (whispers): relayed to the other sockets of a private or presence channel the
//! sender has joined, for event names containing `client-`. Anything else is dropped without a
//! reply, as laravel-echo-server does. Past the per-socket rate limit they are dropped and the
//! sender told once with `client_event_error`.

use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::connection::Connection;
use super::rate::Verdict;
use crate::engine::{Engine, dev_log, drive};
use crate::payload;
use crate::stats::DropReason;

/// Sent to a client whose client events exceed `clientEventsPerSecond`:
/// `[channel, 429]`, once per burst of refusals.
pub(crate) const CLIENT_EVENT_ERROR: &str = "client_event_error";

pub(super) fn on_client_event(engine: &Engine, conn: &Connection, socket: &SocketRef, data: Value) {
    let w = match payload::whisper(data) {
        Ok(w) => w,
        Err(e) => {
            dev_log!(engine, socket = %socket.id, reason = %e, "whisper refused");
            return;
        }
    };
    if !socket.rooms().iter().any(|r| *r == w.channel) {
        dev_log!(engine, socket = %socket.id, channel = %w.channel, "whisper refused: sender not subscribed");
        return;
    }
    if let Some(bucket) = &conn.client_events {
        match bucket.take() {
            Verdict::Allowed => {}
            verdict => {
                engine.stats.dropped(DropReason::ClientEventRate);
                if verdict == Verdict::Refused {
                    let limit = engine.config.limits.client_events_per_second;
                    tracing::warn!(socket = %socket.id, channel = %w.channel, limit, "client events dropped: rate limit exceeded");
                    socket.emit(CLIENT_EVENT_ERROR, &(&w.channel, 429)).ok(); // gone: nothing to tell
                }
                return;
            }
        }
    }
    let packet = (w.channel.as_str(), &w.data);
    drive(socket.to(w.channel.clone()).emit(&w.event, &packet));
    engine.stats.whispered();
}
