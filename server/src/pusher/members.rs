//! Presence across protocols: one member list per channel (the engine's [`Presence`]), whichever
//! protocol a member uses. A user's first socket in a channel makes it join and its last one
//! makes it leave; Pusher sockets are told with `pusher_internal:member_added`/`member_removed`,
//! Socket.IO sockets with `presence:joining`/`presence:leaving`.
//!
//! [`Presence`]: crate::presence::Presence

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::connection::Conn;
use super::frames;
use super::space::AppSpace;
use super::subscribe::Joined;
use crate::cluster::{Joiner, scoped};
use crate::engine::{Engine, drive};
use crate::presence::Member;
use crate::protocol::{PRESENCE_JOINING, PRESENCE_LEAVING};

/// Record the socket as `member` of `channel`; its `subscription_succeeded` frame with the
/// member list. Others hear of the user when this is its first socket there. In a cluster the
/// member list and the news are the cluster's: the frame is sent once Redis has answered.
pub(super) fn join(conn: &Conn, channel: &str, member: Member) -> Joined {
    let space = conn.space();
    let me = Arc::new(member.clone());
    let joined = space.presence(&conn.engine).join(channel, conn.sid, member);
    if let Some(node) = &conn.engine.cluster {
        let local = joined.members.iter().map(|(_, m)| m.clone()).collect();
        let joiner = Joiner::Pusher {
            id: conn.id.clone(),
            outbox: conn.outbox.clone(),
        };
        let name = scoped(&conn.engine, conn.app, channel);
        node.presence_joined(&name, joiner, me.clone(), joined.first_of_user, local);
        return (me, None);
    }
    let frame = succeeded(channel, joined.members.iter().rev().map(|(_, m)| m));
    if joined.first_of_user {
        added(&conn.engine, space, channel, &me, By::Pusher(&conn.id));
    }
    (me, Some(frame))
}

/// Remove the socket's record from `channel`; others hear of it when it was the user's last
/// (in a cluster: its last anywhere).
pub(super) fn leave(conn: &Conn, channel: &str) {
    let space = conn.space();
    if let Some(member) = space.presence(&conn.engine).leave(channel, conn.sid) {
        if let Some(node) = &conn.engine.cluster {
            node.presence_left(&scoped(&conn.engine, conn.app, channel), member);
            return;
        }
        removed(&conn.engine, space, channel, &member, By::Pusher(&conn.id));
    }
}

/// Which protocol's socket joined or left; that protocol's own code tells its other sockets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum By<'a> {
    /// The Pusher socket with this id.
    Pusher(&'a str),
    /// A Socket.IO socket.
    SocketIo,
}

/// A user's first socket joined `channel` of the app: tell the other Pusher sockets, and for
/// the default app the Socket.IO sockets when the member is a Pusher socket.
pub(crate) fn added(engine: &Engine, space: &AppSpace, channel: &str, member: &Member, by: By<'_>) {
    let except = match by {
        By::Pusher(id) => Some(id),
        By::SocketIo => None,
    };
    space.channels.broadcast(channel, except, false, || {
        let data = serde_json::to_string(&member.wire()).unwrap_or_default();
        frames::with_data("pusher_internal:member_added", &data, Some(channel))
    });
    if space.is_default() && matches!(by, By::Pusher(_)) {
        drive(
            engine
                .io
                .to(channel.to_owned())
                .emit(PRESENCE_JOINING, &(channel, member.wire())),
        );
    }
}

/// A user's last socket left `channel` of the app: tell the Pusher sockets, and for the default
/// app the Socket.IO sockets when the member was a Pusher socket.
pub(crate) fn removed(
    engine: &Engine,
    space: &AppSpace,
    channel: &str,
    member: &Member,
    by: By<'_>,
) {
    space.channels.broadcast(channel, None, false, || {
        let data = format!("{{\"user_id\":{}}}", member.user_id.get());
        frames::with_data("pusher_internal:member_removed", &data, Some(channel))
    });
    if space.is_default() && matches!(by, By::Pusher(_)) {
        drive(
            engine
                .io
                .to(channel.to_owned())
                .emit(PRESENCE_LEAVING, &(channel, member.wire())),
        );
    }
}

/// `pusher_internal:subscription_succeeded` of a presence channel:
/// `{"presence":{"count":..,"ids":[..],"hash":{id: user_info}}}`, oldest member first.
fn succeeded<'a>(channel: &str, members: impl Iterator<Item = &'a Arc<Member>>) -> Utf8Bytes {
    succeeded_frame(
        channel,
        members.map(|m| (m.user_id.get(), m.user_key(), m.user_info.get())),
    )
}

/// The same frame from the cluster's member list (member JSON from Redis: untrusted, a member
/// without a `user_id` is left out).
pub(crate) fn succeeded_from_json(channel: &str, members: &[Box<RawValue>]) -> Utf8Bytes {
    let members: Vec<Member> = members
        .iter()
        .filter_map(|m| {
            let value: Value = serde_json::from_str(m.get()).ok()?;
            Member::from_auth_body(&json!({ "channel_data": value })).ok()
        })
        .collect();
    succeeded_frame(
        channel,
        members
            .iter()
            .map(|m| (m.user_id.get(), m.user_key(), m.user_info.get())),
    )
}

/// `(user_id JSON, user key, user_info JSON)` of each member, oldest first.
fn succeeded_frame<'a>(
    channel: &str,
    members: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) -> Utf8Bytes {
    let mut ids = Vec::new();
    let mut hash = Map::new();
    for (id, key, info) in members {
        ids.push(serde_json::from_str::<Value>(id).unwrap_or(Value::Null));
        let info = serde_json::from_str::<Value>(info).unwrap_or(Value::Null);
        hash.insert(key.to_owned(), info);
    }
    let data = format!(
        "{{\"presence\":{{\"count\":{},\"ids\":{},\"hash\":{}}}}}",
        ids.len(),
        Value::Array(ids),
        Value::Object(hash)
    );
    frames::with_data(
        "pusher_internal:subscription_succeeded",
        &data,
        Some(channel),
    )
}
