//! Presence for the whole cluster, kept in Redis (see [`super::scripts`]). Each node still keeps
//! its own sockets' records in [`crate::presence::Presence`], which says when a user is first or
//! last *on this node*; only those transitions reach Redis, where a per-user count of nodes says
//! when the user is first or last *in the cluster*: then `presence:joining` / `presence:leaving`
//! goes to this node's sockets and, through the relay, to every other node's.
//!
//! The socket handlers must not wait on Redis (they run under the connection's lock), so they
//! queue an [`Op`]; one task applies the ops in the order they were queued, so a socket's join
//! always reaches Redis before its leave. `presence:subscribed` goes out once Redis answered,
//! with the cluster's member list. The queue is unbounded on purpose: a lost leave would leave a
//! member behind for good, and an op is queued at most twice per subscription.

use std::sync::Arc;

use redis::Value as RedisValue;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::announce::{Joiner, News, announce, unscoped};
use super::backplane::Link;
use super::keys::{Keys, node_field};
use super::scripts;
use crate::engine::Engine;
use crate::presence::Member;
use crate::protocol::PRESENCE_SUBSCRIBED;
use crate::pusher::members::succeeded_from_json;

/// A change of this node's presence, to apply to the cluster's.
#[derive(Debug)]
pub(crate) enum Op {
    /// `joiner` joined `channel` (its cluster name) as `member`; `first` when the user was not
    /// on this node yet.
    Join {
        channel: String,
        joiner: Joiner,
        member: Arc<Member>,
        first: bool,
        /// This node's members, for `presence:subscribed` when Redis cannot be reached.
        local: Vec<Arc<Member>>,
    },
    /// The user's last socket on this node left `channel` (its cluster name).
    Leave {
        channel: String,
        member: Arc<Member>,
    },
    /// Make Redis hold exactly this node's members again: after writes were lost while Redis
    /// could not be reached, or (`lost`) after this node's registration was gone (Redis lost
    /// its data, or this node was cut off long enough to be swept). See `resync`.
    Resync { lost: bool },
    /// Sweep the node `id`, which stopped refreshing its liveness key (or is this node,
    /// stopping), and announce its users' leaving; answer when done.
    Sweep {
        id: String,
        done: Option<tokio::sync::oneshot::Sender<()>>,
    },
}

pub(crate) type Ops = mpsc::UnboundedSender<Op>;
pub(crate) type OpQueue = mpsc::UnboundedReceiver<Op>;

/// Apply ops until every sender is gone.
pub(crate) async fn run(engine: Arc<Engine>, mut ops: OpQueue) {
    let Some(node) = engine.cluster.clone() else {
        return;
    };
    let keys = node.keys().clone();
    let mut link = Link::new(node.redis().clone());
    while let Some(op) = ops.recv().await {
        match op {
            Op::Join {
                channel,
                joiner,
                member,
                first,
                local,
            } => {
                let result = join(&engine, &mut link, &keys, &channel, &member, first).await;
                joined(&engine, &channel, &joiner, &member, result, &local);
            }
            Op::Leave { channel, member } => {
                if let Some(gone) =
                    leave(&engine, &mut link, &keys, &channel, member.user_key()).await
                {
                    announce(&engine, &channel, News::Leaving, gone, None, None);
                }
            }
            Op::Resync { lost } => super::resync::run(&engine, &mut link, &keys, lost).await,
            Op::Sweep { id, done } => {
                for (channel, gone) in sweep(&engine, &mut link, &keys, &id).await {
                    announce(&engine, &channel, News::Leaving, gone, None, None);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        }
    }
}

/// What Redis said about a join: whether the user is new to the cluster, when (Redis's clock,
/// microseconds), and the members then.
pub(super) struct JoinResult {
    pub(super) first_in_cluster: bool,
    pub(super) at: u64,
    members: Vec<Box<RawValue>>,
}

/// Apply a join to Redis (`first`: the user's first socket on this node); `None` when Redis
/// could not be reached, after marking the node for a resync.
pub(super) async fn join(
    engine: &Engine,
    link: &mut Link,
    keys: &Keys,
    channel: &str,
    member: &Member,
    first: bool,
) -> Option<JoinResult> {
    let members_key = keys.members(channel);
    let values = if first {
        let id = engine.cluster.as_ref()?.id();
        let json = serde_json::to_string(&member.wire()).ok()?;
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(scripts::JOIN)
            .arg(3)
            .arg(&members_key)
            .arg(keys.nodes_of_user(channel))
            .arg(keys.node(id))
            .arg(member.user_key())
            .arg(json)
            .arg(node_field(channel, member.user_key()));
        let Some(v) = link.query::<Vec<RedisValue>>(&engine.stats, &cmd).await else {
            engine.cluster.as_ref()?.mark_dirty();
            return None;
        };
        v
    } else {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(scripts::MEMBERS).arg(1).arg(&members_key);
        link.query::<Vec<RedisValue>>(&engine.stats, &cmd).await?
    };
    Some(read_join(&values))
}

/// `{nodes having the user, added, now, members...}`; anything unexpected counts as "not new".
fn read_join(values: &[RedisValue]) -> JoinResult {
    let int = |v: Option<&RedisValue>| match v {
        Some(RedisValue::Int(n)) => *n,
        _ => 0,
    };
    let first_in_cluster = int(values.first()) == 1 && int(values.get(1)) == 1;
    let members = values.iter().skip(3).filter_map(raw_json).collect();
    JoinResult {
        first_in_cluster,
        at: u64::try_from(int(values.get(2))).unwrap_or(0),
        members,
    }
}

/// Member JSON from Redis: untrusted, kept only when it is JSON.
pub(super) fn raw_json(v: &RedisValue) -> Option<Box<RawValue>> {
    let bytes = match v {
        RedisValue::BulkString(b) => b,
        _ => return None,
    };
    let text = std::str::from_utf8(bytes).ok()?;
    RawValue::from_string(text.to_owned()).ok()
}

/// Tell the socket who is here, and everyone else that the user arrived when it is new to the
/// cluster. Without Redis, this node's members and its own notion of "first" stand in.
fn joined(
    engine: &Engine,
    name: &str,
    joiner: &Joiner,
    member: &Member,
    result: Option<JoinResult>,
    local: &[Arc<Member>],
) {
    let (members, first, at) = match result {
        Some(r) => (r.members, r.first_in_cluster, Some(r.at)),
        None => {
            let wire = local
                .iter()
                .filter_map(|m| serde_json::value::to_raw_value(&m.wire()).ok())
                .collect();
            (wire, false, None)
        }
    };
    let channel = unscoped(engine, name).map_or(name, |(_, c)| c);
    match joiner {
        Joiner::SocketIo(sid) => {
            if let Some(s) = engine.io.get_socket(*sid) {
                s.emit(PRESENCE_SUBSCRIBED, &(channel, &members)).ok(); // gone: nothing to tell
            }
        }
        Joiner::Pusher { outbox, .. } => {
            outbox.send(&succeeded_from_json(channel, &members));
        }
    }
    // Relayed news of members its list already names is not for this socket (Socket.IO
    // sockets of the shared space; see `announce::render`).
    if let (Some(at), Joiner::SocketIo(sid)) = (at, joiner)
        && name == channel
    {
        engine.presence.set_snapshot(channel, *sid, at);
    }
    if first && let Ok(me) = serde_json::value::to_raw_value(&member.wire()) {
        announce(engine, name, News::Joining, me, Some(joiner), at);
    }
}

/// The member JSON when `user` left the cluster with this node's leave. A write that did not
/// reach Redis marks the node for a resync.
pub(super) async fn leave(
    engine: &Engine,
    link: &mut Link,
    keys: &Keys,
    channel: &str,
    user: &str,
) -> Option<Box<RawValue>> {
    let node = engine.cluster.as_ref()?;
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(scripts::LEAVE)
        .arg(3)
        .arg(keys.members(channel))
        .arg(keys.nodes_of_user(channel))
        .arg(keys.node(node.id()))
        .arg(user)
        .arg(node_field(channel, user));
    match link.query::<RedisValue>(&engine.stats, &cmd).await {
        Some(v) => raw_json(&v),
        None => {
            node.mark_dirty();
            None
        }
    }
}

/// Remove what node `id` added; the members that left the cluster, by channel.
async fn sweep(
    engine: &Engine,
    link: &mut Link,
    keys: &Keys,
    id: &str,
) -> Vec<(String, Box<RawValue>)> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(scripts::SWEEP)
        .arg(5)
        .arg(keys.node(id))
        .arg(keys.nodes())
        .arg(keys.subscriptions(id))
        .arg(keys.swept(id))
        .arg(keys.connections(id))
        .arg(keys.prefix())
        .arg(id);
    let Some(values) = link.query::<Vec<RedisValue>>(&engine.stats, &cmd).await else {
        return Vec::new();
    };
    values
        .chunks_exact(2)
        .filter_map(|pair| {
            let RedisValue::BulkString(ch) = &pair[0] else {
                return None;
            };
            Some((String::from_utf8(ch.clone()).ok()?, raw_json(&pair[1])?))
        })
        .collect()
}
