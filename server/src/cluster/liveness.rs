//! Liveness: every node refreshes a key with a TTL ([`TTL`]) every [`BEAT`], and registers in
//! the set of nodes. On every beat each node also looks for registered nodes whose key expired —
//! killed, frozen or cut off from Redis — and has the presence task sweep them: their members
//! leave everywhere within `TTL + BEAT` (6 s) of their last beat. Two nodes sweeping the same
//! node are harmless: the sweep script deletes what it took away, so the second finds nothing.
//!
//! The beat also writes this node's subscription count per channel (`{ns}:subscriptions:{id}`)
//! of every app and its count of subscribed connections per app (`{ns}:connections:{id}`), so
//! the HTTP API of any node can add up the live nodes' counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::announce::scoped;
use super::backplane::Link;
use super::presence::Op;
use crate::engine::Engine;

/// How long a node counts as alive after its last beat.
pub(crate) const TTL: Duration = Duration::from_secs(5);
/// How often a node beats and looks for dead nodes.
pub(crate) const BEAT: Duration = Duration::from_secs(1);

/// Beat until the task is aborted.
pub(crate) async fn run(engine: Arc<Engine>) {
    let Some(node) = engine.cluster.clone() else {
        return;
    };
    let mut link = Link::new(node.redis().clone());
    let mut registered = false;
    let mut tick = tokio::time::interval(BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(con) = link.get(&engine.stats).await else {
            continue;
        };
        match beat(&engine, con).await {
            Ok(was_alive) => {
                if registered && !was_alive {
                    tracing::warn!(
                        "cluster: this node's liveness key was gone (Redis restarted or unreachable for too long)"
                    );
                    node.take_dirty();
                    node.presence(Op::Resync { lost: true });
                } else if node.take_dirty() {
                    node.presence(Op::Resync { lost: false });
                }
                registered = true;
            }
            Err(e) => {
                link.failed(&e);
            }
        }
    }
}

/// Refresh this node's key and counts, and queue sweeps of dead nodes; whether this node's key
/// was still there.
async fn beat(engine: &Engine, con: &mut MultiplexedConnection) -> redis::RedisResult<bool> {
    let Some(node) = engine.cluster.as_ref() else {
        return Ok(true);
    };
    let keys = node.keys();
    let counts = subscription_counts(engine).await;
    let connections = connection_counts(engine).await;
    let ttl = u64::try_from(TTL.as_millis()).unwrap_or(u64::MAX);
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("SET")
        .arg(keys.alive(node.id()))
        .arg(1)
        .arg("PX")
        .arg(ttl)
        .arg("GET")
        .cmd("SADD")
        .arg(keys.nodes())
        .arg(node.id())
        .ignore()
        .del(keys.subscriptions(node.id()))
        .ignore()
        .del(keys.connections(node.id()))
        .ignore();
    if !counts.is_empty() {
        pipe.hset_multiple(keys.subscriptions(node.id()), &counts)
            .ignore();
    }
    if !connections.is_empty() {
        pipe.hset_multiple(keys.connections(node.id()), &connections)
            .ignore();
    }
    pipe.cmd("SMEMBERS").arg(keys.nodes());
    let (was, members): (Option<String>, Vec<String>) = pipe.query_async(con).await?;
    let others: Vec<&String> = members.iter().filter(|id| *id != node.id()).collect();
    if others.is_empty() {
        return Ok(was.is_some());
    }
    let mut exists = redis::pipe();
    for id in &others {
        exists.exists(keys.alive(id));
    }
    let alive: Vec<bool> = exists.query_async(con).await?;
    for (id, alive) in others.into_iter().zip(alive) {
        if !alive {
            tracing::info!(node = %id, "cluster: node stopped beating; removing its members");
            node.presence(Op::Sweep {
                id: id.clone(),
                done: None,
            });
        }
    }
    Ok(was.is_some())
}

/// This node's connections per app id, of the apps with any subscribed to a channel.
async fn connection_counts(engine: &Engine) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for space in &engine.pusher.apps {
        let n = space.subscribed_connections(engine).await;
        if n > 0 {
            out.push((space.app.id.clone(), n));
        }
    }
    out
}

/// This node's sockets per channel with at least one: a channel of the default app counts its
/// Socket.IO and its Pusher sockets; another app's channel is named as [`scoped`] names it, so
/// the apps' channels of one name are apart.
async fn subscription_counts(engine: &Engine) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for room in engine.io.rooms().await.unwrap_or_default() {
        let n = engine.io.to(room.clone()).sockets().len();
        *counts.entry(room.into_owned()).or_default() += n;
    }
    for space in &engine.pusher.apps {
        for (channel, n) in space.channels.all() {
            let name = scoped(engine, space.index, &channel).into_owned();
            *counts.entry(name).or_default() += n;
        }
    }
    counts.into_iter().filter(|(_, n)| *n > 0).collect()
}
