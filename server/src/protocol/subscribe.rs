//! `subscribe` and `unsubscribe`: public channels are joined at once; private and presence
//! channels after the app's auth endpoint answers 200; presence channels also announce members.
//!
//! Both handlers run synchronously as the packet arrives and change the connection's
//! [`Subscriptions`](super::subscriptions) under its lock; only the wait for the app's answer to a
//! guarded subscribe is asynchronous, and what happens when it arrives is again decided under the
//! lock against the ticket the subscribe took.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use socketioxide::extract::SocketRef;

use super::connection::Connection;
use super::subscriptions::{Channels, Held};
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
/// ... when no authorization slot freed up in time (`maxConcurrentAuth`).
const STATUS_BUSY: u16 = 503;

/// What a subscribe became as it arrived.
enum Admitted {
    /// Joined a public channel, refused, or ignored: nothing left to do.
    Done,
    /// A guarded channel: ask the app, holding this ticket.
    Ask(u64),
}

/// Apply a `subscribe` as it arrives. For a private or presence channel, the returned future
/// asks the app and applies its answer; everything before it has already taken effect.
pub(super) fn on_subscribe(
    engine: &Arc<Engine>,
    conn: &Arc<Connection>,
    socket: &SocketRef,
    data: &Value,
) -> Option<impl Future<Output = ()> + Send + use<>> {
    let channel = channel_of(engine, socket, data)?;
    let kind = ChannelKind::of(channel);
    let limit = engine.config.limits.max_channels_per_socket;
    let admitted = conn.channels.with(|ch| {
        if ch.is_closed() {
            return Admitted::Done;
        }
        if !ch.has_room_for(channel, limit) {
            engine.stats.dropped(DropReason::ChannelLimit);
            tracing::warn!(socket = %socket.id, channel, limit, "subscribe refused: maxChannelsPerSocket reached");
            refuse(socket, channel, STATUS_TOO_MANY);
            return Admitted::Done;
        }
        if kind.is_guarded() {
            Admitted::Ask(ch.begin(channel))
        } else {
            join(engine, ch, socket, channel);
            Admitted::Done
        }
    });
    let Admitted::Ask(ticket) = admitted else {
        return None;
    };
    let headers = data
        .pointer("/auth/headers")
        .and_then(Value::as_object)
        .cloned();
    let (engine, conn, socket) = (engine.clone(), conn.clone(), socket.clone());
    let channel = channel.to_owned();
    Some(async move {
        authorize(&engine, &conn, &socket, &channel, headers, ticket).await;
    })
}

/// Ask the app about `channel` and apply the answer, unless the client unsubscribed, subscribed
/// again or went away meanwhile.
async fn authorize(
    engine: &Engine,
    conn: &Connection,
    socket: &SocketRef,
    channel: &str,
    headers: Option<Map<String, Value>>,
    ticket: u64,
) {
    let asked = Instant::now();
    let outcome = engine
        .auth
        .authorize(channel, headers.as_ref(), &conn.handshake)
        .await;
    let took = asked.elapsed();
    conn.channels.with(|ch| {
        let Some(held) = ch.finish(channel, ticket) else {
            dev_log!(engine, socket = %socket.id, channel, "authorization outlived its subscription");
            return;
        };
        answer(engine, ch, socket, channel, outcome, took);
        if ch.is_joined(channel) {
            for Held { event, data } in held {
                super::whisper::relay(engine, socket, channel, &event, &data);
            }
        }
    });
}

/// Apply the app's answer to a subscribe whose ticket is still current.
fn answer(
    engine: &Engine,
    ch: &mut Channels,
    socket: &SocketRef,
    channel: &str,
    outcome: Outcome,
    took: std::time::Duration,
) {
    match outcome {
        Outcome::Granted(body) => {
            engine.stats.auth(None, took);
            dev_log!(engine, socket = %socket.id, channel, "authenticated");
            if ChannelKind::of(channel) != ChannelKind::Presence {
                join(engine, ch, socket, channel);
                return;
            }
            match Member::from_auth_body(&body) {
                Ok(member) => join_presence(engine, ch, socket, channel, member),
                Err(e) => {
                    tracing::warn!(socket = %socket.id, channel, reason = %e, "presence subscription refused");
                    refuse(socket, channel, 200);
                }
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
            tracing::warn!(socket = %socket.id, channel, limit = engine.config.limits.max_concurrent_auth, "subscribe refused: no authorization slot freed up in time (maxConcurrentAuth)");
            refuse(socket, channel, STATUS_BUSY);
        }
    }
}

/// Apply an `unsubscribe` as it arrives: a waiting subscribe of the channel is cancelled, a
/// joined channel is left.
pub(super) fn on_unsubscribe(engine: &Engine, conn: &Connection, socket: &SocketRef, data: &Value) {
    let Some(channel) = channel_of(engine, socket, data) else {
        return;
    };
    conn.channels.with(|ch| {
        ch.cancel(channel);
        if ch.leave(channel) {
            socket.leave(channel.to_owned());
            left(engine, socket, channel);
        }
    });
    dev_log!(engine, socket = %socket.id, channel, "left channel (unsubscribed)");
}

/// The connection closed: undo every channel it joined, so the gauges and presence lists lose
/// exactly what it added. socketioxide removes it from its rooms afterwards.
pub(super) fn on_close(engine: &Engine, conn: &Connection, socket: &SocketRef) {
    conn.channels.with(|ch| {
        for channel in ch.close() {
            left(engine, socket, &channel);
        }
    });
}

/// Bookkeeping of a channel the socket is no longer in: the gauge, and for presence the
/// member record (others see `presence:leaving` when it was the user's last socket).
fn left(engine: &Engine, socket: &SocketRef, channel: &str) {
    let kind = ChannelKind::of(channel);
    engine.stats.unsubscribed(kind);
    if kind == ChannelKind::Presence
        && let Some(member) = engine.presence.leave(channel, socket.id)
    {
        if let Some(node) = &engine.cluster {
            // The cluster decides whether the user left everywhere.
            node.presence_left(channel, member);
            return;
        }
        let leaving = (channel, member.wire());
        drive(
            socket
                .to(channel.to_owned())
                .emit(PRESENCE_LEAVING, &leaving),
        );
        engine.pusher.socketio_member_left(engine, channel, &member);
    }
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

fn join(engine: &Engine, ch: &mut Channels, socket: &SocketRef, channel: &str) {
    if ch.join(channel) {
        socket.join(channel.to_owned());
        engine.stats.subscribed(ChannelKind::of(channel));
    }
    dev_log!(engine, socket = %socket.id, channel, "joined channel");
}

fn join_presence(
    engine: &Engine,
    ch: &mut Channels,
    socket: &SocketRef,
    channel: &str,
    member: Member,
) {
    if ch.join(channel) {
        socket.join(channel.to_owned());
        engine.stats.subscribed(ChannelKind::Presence);
    }
    let joined = engine.presence.join(channel, socket.id, member);
    if let Some(node) = &engine.cluster {
        cluster_join(engine, node, socket, channel, &joined);
        return;
    }
    let members: Vec<_> = joined.members.iter().map(|(_, m)| m.wire()).collect();
    socket.emit(PRESENCE_SUBSCRIBED, &(channel, members)).ok(); // client gone: nothing to tell
    if joined.first_of_user
        && let Some((_, me)) = joined.members.iter().find(|(sid, _)| *sid == socket.id)
    {
        let joining = (channel, me.wire());
        drive(
            socket
                .to(channel.to_owned())
                .emit(PRESENCE_JOINING, &joining),
        );
        engine.pusher.socketio_member_joined(engine, channel, me);
    }
    dev_log!(engine, socket = %socket.id, channel, "joined presence channel");
}

/// In a cluster the member list and the first-of-user decision are the cluster's: handed to
/// its presence task, which answers the socket once Redis has.
fn cluster_join(
    engine: &Engine,
    node: &crate::cluster::Node,
    socket: &SocketRef,
    channel: &str,
    joined: &crate::presence::Joined,
) {
    let Some((_, me)) = joined.members.iter().find(|(sid, _)| *sid == socket.id) else {
        return;
    };
    let local = joined.members.iter().map(|(_, m)| m.clone()).collect();
    let joiner = crate::cluster::Joiner::SocketIo(socket.id);
    node.presence_joined(channel, joiner, me.clone(), joined.first_of_user, local);
    dev_log!(engine, socket = %socket.id, channel, "joined presence channel (cluster)");
}

fn refuse(socket: &SocketRef, channel: &str, status: u16) {
    socket.emit(SUBSCRIPTION_ERROR, &(channel, status)).ok(); // client gone: nothing to tell
}
