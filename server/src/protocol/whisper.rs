//! `client event` (whispers): relayed to the other sockets of a private or presence channel the
//! sender has joined, for event names containing `client-`. Anything else is dropped without a
//! reply, as laravel-echo-server does.

use serde_json::Value;
use socketioxide::extract::SocketRef;

use crate::engine::{Engine, dev_log, drive};
use crate::payload;

pub(super) fn on_client_event(engine: &Engine, socket: &SocketRef, data: Value) {
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
    let packet = (w.channel.as_str(), &w.data);
    drive(socket.to(w.channel.clone()).emit(&w.event, &packet));
    engine.stats.whispered();
}
