//! `subscribe` and `unsubscribe`: public channels are joined at once; private and presence
//! channels after the app's auth endpoint answers 200; presence channels also announce members.

use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::connection::Connection;
use crate::auth::Outcome;
use crate::channel::ChannelKind;
use crate::engine::{Engine, dev_log, drive};
use crate::payload;
use crate::presence::Member;
use crate::stats::DropReason;

pub(crate) const SUBSCRIPTION_ERROR: &str = "subscription_error";
pub(crate) const PRESENCE_SUBSCRIBED: &str = "presence:subscribed";
pub(crate) const PRESENCE_JOINING: &str = "presence:joining";
pub(crate) const PRESENCE_LEAVING: &str = "presence:leaving";

/// The status sent with `subscription_error` when the auth request got no answer.
const STATUS_NO_ANSWER: u16 = 0;
/// ... when the socket is at `maxChannelsPerSocket`.
const STATUS_TOO_MANY: u16 = 429;
/// ... when no authorization slot freed up within `authTimeout`.
const STATUS_BUSY: u16 = 503;

pub(super) async fn on_subscribe(
    engine: &Engine,
    conn: &Connection,
    socket: &SocketRef,
    data: &Value,
) {
    let Some(channel) = channel_of(engine, socket, data) else {
        return;
    };
    let limit = engine.config.limits.max_channels_per_socket;
    let rooms = socket.rooms();
    if rooms.len() >= limit && !rooms.iter().any(|r| r == channel) {
        engine.stats.dropped(DropReason::ChannelLimit);
        tracing::warn!(socket = %socket.id, channel, limit, "subscribe refused: maxChannelsPerSocket reached");
        refuse(socket, channel, STATUS_TOO_MANY);
        return;
    }
    let kind = ChannelKind::of(channel);
    if !kind.is_guarded() {
        join(engine, socket, channel);
        return;
    }
    let Some(ticket) = conn.begin(channel, limit) else {
        engine.stats.dropped(DropReason::ChannelLimit);
        tracing::warn!(socket = %socket.id, channel, "subscribe refused: too many authorizations in flight");
        refuse(socket, channel, STATUS_TOO_MANY);
        return;
    };
    let headers = data.pointer("/auth/headers").and_then(Value::as_object);
    let asked = std::time::Instant::now();
    let outcome = engine
        .auth
        .authorize(channel, headers, &conn.handshake)
        .await;
    let took = asked.elapsed();
    // The client may have gone, unsubscribed or subscribed again while Laravel answered.
    if !conn.finish(channel, ticket) || !socket.connected() {
        dev_log!(engine, socket = %socket.id, channel, "authorization outlived its subscription");
        return;
    }
    match outcome {
        Outcome::Granted(body) => {
            engine.stats.auth(None, took);
            dev_log!(engine, socket = %socket.id, channel, "authenticated");
            if kind == ChannelKind::Presence {
                match Member::from_auth_body(&body) {
                    Ok(member) => join_presence(engine, socket, channel, member),
                    Err(e) => {
                        tracing::warn!(socket = %socket.id, channel, reason = %e, "presence subscription refused");
                        refuse(socket, channel, 200);
                    }
                }
            } else {
                join(engine, socket, channel);
            }
        }
        Outcome::Denied { status, body } => {
            engine.stats.auth(Some(status), took);
            dev_log!(engine, socket = %socket.id, channel, status, body = %body, "could not be authenticated");
            refuse(socket, channel, status);
        }
        Outcome::Failed(reason) => {
            engine.stats.auth(Some(STATUS_NO_ANSWER), took);
            tracing::warn!(socket = %socket.id, channel, %reason, "authentication request failed");
            refuse(socket, channel, STATUS_NO_ANSWER);
        }
        Outcome::Busy => {
            engine.stats.auth(Some(STATUS_BUSY), took);
            engine.stats.dropped(DropReason::AuthQueue);
            tracing::warn!(socket = %socket.id, channel, limit = engine.config.limits.max_concurrent_auth, "subscribe refused: no free authorization slot within authTimeout (maxConcurrentAuth)");
            refuse(socket, channel, STATUS_BUSY);
        }
    }
}

pub(super) fn on_unsubscribe(engine: &Engine, conn: &Connection, socket: &SocketRef, data: &Value) {
    let Some(channel) = channel_of(engine, socket, data) else {
        return;
    };
    conn.cancel(channel);
    if socket.rooms().iter().any(|r| r == channel) {
        socket.leave(channel.to_owned());
        engine.stats.unsubscribed(ChannelKind::of(channel));
    }
    if ChannelKind::of(channel) == ChannelKind::Presence
        && let Some(member) = engine.presence.leave(channel, socket.id)
    {
        let leaving = (channel, member.wire(None));
        drive(
            engine
                .io
                .to(channel.to_owned())
                .emit(PRESENCE_LEAVING, &leaving),
        );
    }
    dev_log!(engine, socket = %socket.id, channel, "left channel (unsubscribed)");
}

/// The `channel` of a subscribe/unsubscribe payload, if it is a usable name.
fn channel_of<'a>(engine: &Engine, socket: &SocketRef, data: &'a Value) -> Option<&'a str> {
    let max = engine.config.limits.max_channel_name_length;
    payload::subscription_channel(data, max)
        .inspect_err(
            |e| tracing::debug!(socket = %socket.id, reason = %e, "subscription payload ignored"),
        )
        .ok()
}

fn join(engine: &Engine, socket: &SocketRef, channel: &str) {
    let joined_before = socket.rooms().iter().any(|r| r == channel);
    socket.join(channel.to_owned());
    // A disconnect racing this join has already cleaned the rooms; undo so nothing leaks.
    if !socket.connected() {
        socket.leave(channel.to_owned());
        return;
    }
    if !joined_before {
        engine.stats.subscribed(ChannelKind::of(channel));
    }
    dev_log!(engine, socket = %socket.id, channel, "joined channel");
}

fn join_presence(engine: &Engine, socket: &SocketRef, channel: &str, member: Member) {
    let joined_before = socket.rooms().iter().any(|r| r == channel);
    socket.join(channel.to_owned());
    let joined = engine.presence.join(channel, socket.id, member);
    if !socket.connected() {
        socket.leave(channel.to_owned());
        engine.presence.leave(channel, socket.id);
        return;
    }
    if !joined_before {
        engine.stats.subscribed(ChannelKind::Presence);
    }
    let members: Vec<_> = joined
        .members
        .iter()
        .map(|(sid, m)| m.wire(Some(*sid)))
        .collect();
    socket.emit(PRESENCE_SUBSCRIBED, &(channel, members)).ok(); // client gone: nothing to tell
    if joined.first_of_user
        && let Some((_, me)) = joined.members.iter().find(|(sid, _)| *sid == socket.id)
    {
        let joining = (channel, me.wire(Some(socket.id)));
        drive(
            socket
                .to(channel.to_owned())
                .emit(PRESENCE_JOINING, &joining),
        );
    }
    dev_log!(engine, socket = %socket.id, channel, "joined presence channel");
}

fn refuse(socket: &SocketRef, channel: &str, status: u16) {
    socket.emit(SUBSCRIPTION_ERROR, &(channel, status)).ok(); // client gone: nothing to tell
}
