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
    }))
}

/// `GET /apps/:appId/status`.
pub(super) async fn status(State(state): State<ApiState>, _: Authorized) -> ApiResult {
    let stats = &state.engine.stats;
    let rss = resident_bytes();
    Ok(Json(json!({
        "subscription_count": stats.connections(),
        "uptime": stats.uptime(),
        // Node's shape, kept for dashboards that read it; there is no JS heap here.
        "memory_usage": { "rss": rss, "heapTotal": 0, "heapUsed": 0, "external": 0, "arrayBuffers": 0 },
        "redis_connected": state.redis.connected(),
    })))
}

/// `GET /apps/:appId/channels[?filter_by_prefix=]`.
pub(super) async fn list(
    State(state): State<ApiState>,
    _: Authorized,
    Query(query): Query<ApiQuery>,
) -> ApiResult {
    let io = &state.engine.io;
    let rooms = io.rooms().await.unwrap_or_default();
    let prefix = query.filter_by_prefix.as_deref().unwrap_or("");
    // One channel space: the default Pusher app's sockets count too.
    let mut counts: std::collections::BTreeMap<String, usize> =
        state.engine.pusher.default_channels().into_iter().collect();
    for room in rooms {
        let count = io.to(room.clone()).sockets().len();
        *counts.entry(room.into_owned()).or_default() += count;
    }
    let mut channels = Map::new();
    for (name, count) in counts.into_iter().filter(|(r, _)| r.starts_with(prefix)) {
        if count > 0 {
            channels.insert(
                name,
                json!({ "subscription_count": count, "occupied": true }),
            );
        }
    }
    Ok(Json(json!({ "channels": channels })))
}

/// `GET /apps/:appId/channels/:channel`.
pub(super) async fn show(
    State(state): State<ApiState>,
    _: Authorized,
    Path((_, channel)): Path<(String, String)>,
) -> ApiResult {
    let count = state.engine.io.to(channel.clone()).sockets().len()
        + state.engine.pusher.default_count(&channel);
    let mut body = json!({ "subscription_count": count, "occupied": count > 0 });
    if ChannelKind::of(&channel) == ChannelKind::Presence {
        body["user_count"] = json!(state.engine.presence.users(&channel).len());
    }
    Ok(Json(body))
}

/// `GET /apps/:appId/channels/:channel/users` (presence channels only).
pub(super) async fn users(
    State(state): State<ApiState>,
    _: Authorized,
    Path((_, channel)): Path<(String, String)>,
) -> ApiResult {
    if ChannelKind::of(&channel) != ChannelKind::Presence {
        return Err(ApiError::NotPresence);
    }
    let users: Vec<Value> = state
        .engine
        .presence
        .users(&channel)
        .iter()
        .map(|m| {
            let id: Value = serde_json::from_str(m.user_id.get()).unwrap_or(Value::Null);
            let info: Value = serde_json::from_str(m.user_info.get()).unwrap_or(Value::Null);
            json!({ "id": id, "user_info": info })
        })
        .collect();
    Ok(Json(json!({ "users": users })))
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
