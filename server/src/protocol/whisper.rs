//! `client event` (whispers): relayed to the other sockets of a private or presence channel the
//! sender has joined, for event names containing `client-`. Anything else is dropped without a
//! reply, as laravel-echo-server does. A whisper sent right after a subscribe of its channel
//! waits for that subscribe's authorization and is relayed once it is granted, so it takes
//! effect after the subscribe the client sent first. Past the per-socket rate limit whispers are
//! dropped and the sender told once with `client_event_error`. In a cluster a relayed whisper
//! also goes to the other nodes' sockets of the channel.

use std::sync::Arc;

use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::connection::Connection;
use super::rate::Verdict;
use super::subscriptions::Whisper;
use crate::channel::ChannelKind;
use crate::config::ClientEvents;
use crate::engine::{Engine, dev_log};
use crate::payload;
use crate::presence::Member;
use crate::stats::DropReason;
use crate::whisper::{ClientEvent, Sender};

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
    conn.channels.with(|ch| {
        let route = ch.whisper(&w.channel, &w.event, &w.data, || allowed(engine, conn, socket, &w.channel));
        match route {
            Whisper::Relay => relay(engine, socket, &w.channel, &w.event, &w.data),
            Whisper::Held => {
                dev_log!(engine, socket = %socket.id, channel = %w.channel, "whisper held until the subscribe is authorized");
            }
            Whisper::Full => {
                dev_log!(engine, socket = %socket.id, channel = %w.channel, "whisper dropped: too many held behind a subscribe");
            }
            Whisper::NotSubscribed => {
                dev_log!(engine, socket = %socket.id, channel = %w.channel, "whisper refused: sender not subscribed");
            }
            Whisper::Limited => {}
        }
    });
}

/// Whether the rate limit lets one more whisper through; tells the sender once per burst.
fn allowed(engine: &Engine, conn: &Connection, socket: &SocketRef, channel: &str) -> bool {
    let Some(bucket) = &conn.client_events else {
        return true;
    };
    match bucket.take() {
        Verdict::Allowed => true,
        verdict => {
            engine.stats.dropped(DropReason::ClientEventRate);
            if verdict == Verdict::Refused {
                let limit = engine.config.limits.client_events_per_second;
                tracing::warn!(socket = %socket.id, channel, limit, "client events dropped: rate limit exceeded");
                socket.emit(CLIENT_EVENT_ERROR, &(channel, 429)).ok(); // gone: nothing to tell
            }
            false
        }
    }
}

/// Send a whisper to the other sockets of `channel`, of both protocols and on every node.
pub(super) fn relay(engine: &Engine, socket: &SocketRef, channel: &str, event: &str, data: &Value) {
    // A `Value` always serializes.
    let Ok(data) = serde_json::value::to_raw_value(data) else {
        return;
    };
    let member = member_for_pusher(engine, channel, socket);
    let event = ClientEvent {
        app: 0,
        channel,
        event,
        data: &data,
        user_id: member.as_ref().map(|m| m.user_id.get()),
    };
    event.deliver(engine, Sender::SocketIo(socket));
}

/// The sender's member of a presence channel, whose `user_id` Pusher receivers get with the
/// whisper when only members may send client events (as Reverb adds it to a member's).
fn member_for_pusher(engine: &Engine, channel: &str, socket: &SocketRef) -> Option<Arc<Member>> {
    let space = engine.pusher.default_space()?;
    if space.app.client_events != ClientEvents::Members
        || ChannelKind::of(channel) != ChannelKind::Presence
    {
        return None;
    }
    engine.presence.member_of(channel, socket.id)
}
