//! `client event` (whispers): relayed to the other sockets of a private or presence channel the
//! sender has joined, for event names containing `client-`. Anything else is dropped without a
//! reply, as laravel-echo-server does.

use serde_json::Value;
use socketioxide::extract::SocketRef;

use crate::channel::{ChannelKind, is_client_event};
use crate::engine::{Engine, dev_log, drive};

pub(super) fn on_client_event(engine: &Engine, socket: &SocketRef, data: Value) {
    // laravel-echo sends an object; some clients send the object as a JSON string.
    let data = match data {
        Value::String(s) => match serde_json::from_str(&s) {
            Ok(v) => v,
            Err(_) => return,
        },
        other => other,
    };
    let channel = data
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event = data
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if channel.is_empty() || event.is_empty() {
        return;
    }
    if !is_client_event(event) || !ChannelKind::of(channel).is_guarded() {
        dev_log!(engine, socket = %socket.id, channel, event, "whisper refused: not a client event on a private channel");
        return;
    }
    if !socket.rooms().iter().any(|r| r == channel) {
        dev_log!(engine, socket = %socket.id, channel, event, "whisper refused: sender not subscribed");
        return;
    }
    let payload = data.get("data").unwrap_or(&Value::Null);
    drive(
        socket
            .to(channel.to_owned())
            .emit(event, &(channel, payload)),
    );
    engine.stats.whispered();
}
