//! Read routes: server status, channel list, one channel, a presence channel's users.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};

use super::{ApiError, ApiQuery, ApiState, Authorized};
use crate::channel::ChannelKind;

type ApiResult = Result<Json<Value>, ApiError>;

/// `GET /health` (no key): for load balancers and process managers.
pub(super) async fn health(State(state): State<ApiState>) -> Json<Value> {
    let stats = &state.engine.stats;
    let redis = if state.engine.config.subscribers.redis {
        json!(state.redis.connected())
    } else {
        Value::Null
    };
    // The ring's drain thread: whether it runs, restarts after a panic, corrupt-ring resets.
    let ring = state
        .engine
        .config
        .shm
        .enabled
        .then(|| stats.ring.snapshot());
    let status = if ring.as_ref().is_some_and(|r| !r.up) {
        "degraded"
    } else {
        "ok"
    };
    Json(json!({
        "status": status,
        "version": crate::VERSION,
        "uptime": stats.uptime(),
        "connections": stats.connections(),
        "redis_connected": redis,
        "ring": ring,
        "cluster": state.engine.cluster.as_ref().map(|n| json!({
            "node": n.id(),
            "relay_subscribed": n.subscribed(),
        })),
    }))
}

/// `GET /apps/:appId/status`.
pub(super) async fn status(State(state): State<ApiState>, _: Authorized) -> ApiResult {
    let stats = &state.engine.stats;
    let rss = resident_bytes();
    let mut body = json!({
        "subscription_count": stats.connections(),
        "uptime": stats.uptime(),
        // Node's shape, kept for dashboards that read it; there is no JS heap here.
        "memory_usage": { "rss": rss, "heapTotal": 0, "heapUsed": 0, "external": 0, "arrayBuffers": 0 },
        "redis_connected": state.redis.connected(),
    });
    if let Some(cluster) = cluster_status(&state).await {
        body["cluster"] = cluster;
    }
    Ok(Json(body))
}

/// This node's id and the cluster's live nodes, when the cluster is on.
async fn cluster_status(state: &ApiState) -> Option<Value> {
    let node = state.engine.cluster.as_ref()?;
    let nodes = crate::cluster::api::live_nodes(&state.engine).await;
    Some(json!({ "node": node.id(), "nodes": nodes }))
}

/// `GET /apps/:appId/channels[?filter_by_prefix=]`. In a cluster, for every node.
pub(super) async fn list(
    State(state): State<ApiState>,
    _: Authorized,
    Query(query): Query<ApiQuery>,
) -> ApiResult {
    let io = &state.engine.io;
    let rooms = io.rooms().await.unwrap_or_default();
    let prefix = query.filter_by_prefix.as_deref().unwrap_or("");
    // One channel space: the default Pusher app's sockets and the other nodes' count too.
    let mut counts = crate::cluster::api::other_nodes_counts(&state.engine, 0)
        .await
        .unwrap_or_default();
    for (room, count) in state.engine.pusher.default_channels() {
        *counts.entry(room).or_insert(0) += count as u64;
    }
    for room in rooms {
        let count = io.to(room.clone()).sockets().len() as u64;
        *counts.entry(room.into_owned()).or_insert(0) += count;
    }
    let mut channels = Map::new();
    for (room, count) in counts {
        if count > 0 && room.starts_with(prefix) {
            channels.insert(
                room,
                json!({ "subscription_count": count, "occupied": true }),
            );
        }
    }
    Ok(Json(json!({ "channels": channels })))
}

/// `GET /apps/:appId/channels/:channel`. In a cluster, for every node.
pub(super) async fn show(
    State(state): State<ApiState>,
    _: Authorized,
    Path((_, channel)): Path<(String, String)>,
) -> ApiResult {
    let local = state.engine.io.to(channel.clone()).sockets().len()
        + state.engine.pusher.default_count(&channel);
    let others = crate::cluster::api::other_nodes_counts(&state.engine, 0)
        .await
        .and_then(|c| c.get(&channel).copied())
        .unwrap_or(0);
    let count = local as u64 + others;
    let mut body = json!({ "subscription_count": count, "occupied": count > 0 });
    if ChannelKind::of(&channel) == ChannelKind::Presence {
        body["user_count"] = json!(users_of(&state, &channel).await.len());
    }
    Ok(Json(body))
}

/// `GET /apps/:appId/channels/:channel/users` (presence channels only). In a cluster, for
/// every node.
pub(super) async fn users(
    State(state): State<ApiState>,
    _: Authorized,
    Path((_, channel)): Path<(String, String)>,
) -> ApiResult {
    if ChannelKind::of(&channel) != ChannelKind::Presence {
        return Err(ApiError::NotPresence);
    }
    Ok(Json(json!({ "users": users_of(&state, &channel).await })))
}

/// `{"id":..,"user_info":..}` per user present: the cluster's when it answers, else this node's.
async fn users_of(state: &ApiState, channel: &str) -> Vec<Value> {
    let user = |id: &str, info: &str| {
        let id: Value = serde_json::from_str(id).unwrap_or(Value::Null);
        let info: Value = serde_json::from_str(info).unwrap_or(Value::Null);
        json!({ "id": id, "user_info": info })
    };
    if let Some(members) = crate::cluster::api::members(&state.engine, channel).await {
        return members
            .iter()
            .filter_map(|m| serde_json::from_str::<Map<String, Value>>(m.get()).ok())
            .map(|m| {
                let field = |k| m.get(k).map_or("null".to_owned(), Value::to_string);
                user(&field("user_id"), &field("user_info"))
            })
            .collect();
    }
    state
        .engine
        .presence
        .users(channel)
        .iter()
        .map(|m| user(m.user_id.get(), m.user_info.get()))
        .collect()
}

/// Resident set size of this process, from `/proc/self/status` (0 where that is unavailable).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
