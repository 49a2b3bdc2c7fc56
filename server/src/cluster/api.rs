//! The HTTP API's view of the whole cluster: subscriptions per channel of each app added up over
//! the live nodes (each node's own count is live; the others' are what their last beat wrote, at
//! most [`super::liveness::BEAT`] old), and presence users from the shared member lists. When
//! Redis cannot be reached the routes answer with this node's figures.

use std::collections::BTreeMap;
use std::sync::Mutex;

use redis::aio::MultiplexedConnection;
use serde_json::value::RawValue;

use super::announce::unscoped;
use super::backplane;
use crate::engine::Engine;

/// One shared connection for the API's reads; cloned out of the lock, never held across an await.
#[derive(Debug, Default)]
pub(crate) struct ApiLink(Mutex<Option<MultiplexedConnection>>);

impl ApiLink {
    async fn get(&self, engine: &Engine) -> Option<MultiplexedConnection> {
        let held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if held.is_some() {
            return held;
        }
        let node = engine.cluster.as_ref()?;
        let con = backplane::connection(node.redis())
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "cluster API: Redis unreachable"))
            .ok()?;
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(con.clone());
        Some(con)
    }

    fn broken(&self, e: &redis::RedisError) {
        tracing::debug!(error = %e, "cluster API: Redis read failed");
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// The live nodes of the cluster (this one included), sorted.
pub(crate) async fn live_nodes(engine: &Engine) -> Option<Vec<String>> {
    let node = engine.cluster.as_ref()?;
    let mut con = node.api.get(engine).await?;
    let mut ids = alive(node, &mut con)
        .await
        .inspect_err(|e| node.api.broken(e))
        .ok()?;
    if !ids.iter().any(|id| id == node.id()) {
        ids.push(node.id().to_owned());
    }
    ids.sort();
    Some(ids)
}

/// The registered nodes whose liveness key is still there.
async fn alive(
    node: &super::Node,
    con: &mut MultiplexedConnection,
) -> redis::RedisResult<Vec<String>> {
    let keys = node.keys();
    let ids: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.nodes())
        .query_async(con)
        .await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.exists(keys.alive(id));
    }
    let live: Vec<bool> = pipe.query_async(con).await?;
    Ok(ids
        .into_iter()
        .zip(live)
        .filter_map(|(id, up)| up.then_some(id))
        .collect())
}

/// Subscriptions per channel of app `app` (0: the default app, whose channels are the Socket.IO
/// channels) on the other live nodes, by channel.
pub(crate) async fn other_nodes_counts(
    engine: &Engine,
    app: usize,
) -> Option<BTreeMap<String, u64>> {
    let replies = from_other_nodes(engine, |pipe, keys, id| {
        pipe.hgetall(keys.subscriptions(id));
    })
    .await?;
    let mut sum = BTreeMap::new();
    for reply in replies {
        let Some(counts) = readable::<BTreeMap<String, redis::Value>>(reply) else {
            continue;
        };
        for (name, n) in counts {
            if let Some((of, channel)) = unscoped(engine, &name)
                && of == app
                && let Some(n) = readable::<u64>(n)
            {
                *sum.entry(channel.to_owned()).or_insert(0) += n;
            }
        }
    }
    Some(sum)
}

/// Connections of the app with id `app` subscribed to a channel, on the other live nodes.
pub(crate) async fn other_nodes_connections(engine: &Engine, app: &str) -> Option<u64> {
    let replies = from_other_nodes(engine, |pipe, keys, id| {
        pipe.hget(keys.connections(id), app);
    })
    .await?;
    Some(replies.into_iter().filter_map(readable::<u64>).sum())
}

/// One reply per live node other than this one, to the command `ask` adds to a pipeline for
/// it; `None` without a cluster or when Redis does not answer. A node's error reply (its key of
/// another type) stays in its own slot, so it cannot hide the other nodes' figures.
async fn from_other_nodes(
    engine: &Engine,
    ask: impl Fn(&mut redis::Pipeline, &super::keys::Keys, &str),
) -> Option<Vec<redis::Value>> {
    let node = engine.cluster.as_ref()?;
    let mut con = node.api.get(engine).await?;
    let result = async {
        let mut ids = alive(node, &mut con).await?;
        ids.retain(|id| id != node.id());
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for id in &ids {
            ask(&mut pipe, node.keys(), id);
        }
        pipe.query_async(&mut con).await
    }
    .await;
    result.inspect_err(|e| node.api.broken(e)).ok()
}

/// A figure another node wrote, or `None` (logged) when it is not what a node writes: anything
/// with access to Redis can write into these keys.
fn readable<T: redis::FromRedisValue>(value: redis::Value) -> Option<T> {
    if matches!(value, redis::Value::Nil) {
        return None;
    }
    redis::from_redis_value(value)
        .inspect_err(|e| tracing::debug!(error = %e, "cluster API: unreadable figure skipped"))
        .ok()
}

/// The members of a presence channel across the cluster (member JSON, `user_id` and
/// `user_info`), sorted by their text so every node answers alike.
pub(crate) async fn members(engine: &Engine, channel: &str) -> Option<Vec<Box<RawValue>>> {
    let node = engine.cluster.as_ref()?;
    let mut con = node.api.get(engine).await?;
    let raw: Vec<Vec<u8>> = redis::cmd("HVALS")
        .arg(node.keys().members(channel))
        .query_async(&mut con)
        .await
        .inspect_err(|e| node.api.broken(e))
        .ok()?;
    let mut members: Vec<Box<RawValue>> = raw
        .into_iter()
        .filter_map(|b| String::from_utf8(b).ok())
        .filter_map(|s| RawValue::from_string(s).ok())
        .collect();
    members.sort_by(|a, b| a.get().cmp(b.get()));
    Some(members)
}
