//! Channel information, as Reverb answers it: `occupied`, `subscription_count` (not for
//! presence channels), `user_count` (presence channels only). For the default app a channel's
//! sockets are its Pusher and its Socket.IO sockets (the figures the laravel-echo-server API
//! gives); in a cluster, every app's figures are every node's.

use std::collections::BTreeMap;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::PusherApiError;
use super::signed::Signed;
use crate::channel::ChannelKind;
use crate::cluster::scoped;
use crate::engine::Engine;
use crate::pusher::space::AppSpace;

type Answer = Result<Json<Value>, PusherApiError>;

/// Subscriptions per channel of the app on the other nodes of a cluster; empty without a
/// cluster, or when Redis does not answer.
pub(super) struct Others(BTreeMap<String, u64>);

impl Others {
    pub(super) async fn of(engine: &Engine, space: &AppSpace) -> Others {
        let counts = crate::cluster::api::other_nodes_counts(engine, space.index).await;
        Others(counts.unwrap_or_default())
    }
}

/// Sockets of `channel` in the app on every node, of both protocols for the default app.
fn sockets(engine: &Engine, space: &AppSpace, channel: &str, others: &Others) -> usize {
    let socketio = if space.is_default() {
        engine.io.to(channel.to_owned()).sockets().len()
    } else {
        0
    };
    let elsewhere = others.0.get(channel).copied().unwrap_or(0);
    space.channels.count(channel) + socketio + usize::try_from(elsewhere).unwrap_or(usize::MAX)
}

/// The `user_id`s present in a presence channel: the cluster's when Redis answers, else this
/// node's.
async fn user_ids(engine: &Engine, space: &AppSpace, channel: &str) -> Vec<Value> {
    let name = scoped(engine, space.index, channel);
    if let Some(members) = crate::cluster::api::members(engine, &name).await {
        return members
            .iter()
            .filter_map(|m| serde_json::from_str::<Map<String, Value>>(m.get()).ok())
            .map(|m| m.get("user_id").cloned().unwrap_or(Value::Null))
            .collect();
    }
    space
        .presence(engine)
        .users(channel)
        .iter()
        .map(|m| serde_json::from_str::<Value>(m.user_id.get()).unwrap_or(Value::Null))
        .collect()
}

/// The `info` attributes asked for (comma-separated) of `channel`.
pub(super) async fn info(
    engine: &Engine,
    space: &AppSpace,
    channel: &str,
    wanted: &str,
    others: &Others,
) -> Value {
    let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
    let count = sockets(engine, space, channel, others);
    let mut out = Map::new();
    if wanted.contains(&"occupied") {
        out.insert("occupied".to_owned(), json!(count > 0));
    }
    if count == 0 {
        return Value::Object(out);
    }
    let presence = ChannelKind::of(channel) == ChannelKind::Presence;
    if wanted.contains(&"user_count") && presence {
        let users = user_ids(engine, space, channel).await.len();
        out.insert("user_count".to_owned(), json!(users));
    }
    if wanted.contains(&"subscription_count") && !presence {
        out.insert("subscription_count".to_owned(), json!(count));
    }
    if wanted.contains(&"cache")
        && let Some(frame) = space.channels.cached(channel)
    {
        let cached: Value = serde_json::from_str(frame.as_str()).unwrap_or(Value::Null);
        out.insert("cache".to_owned(), cached);
    }
    Value::Object(out)
}

/// `GET /apps/{id}/channels[?filter_by_prefix=&info=]`: occupied channels.
pub(super) async fn list(State(engine): State<Arc<Engine>>, signed: Signed) -> Answer {
    let space = &engine.pusher.apps[signed.app];
    let prefix = signed.param("filter_by_prefix").unwrap_or_default();
    let wanted = signed.param("info").unwrap_or_default();
    let others = Others::of(&engine, space).await;
    let mut names: Vec<String> = space.channels.all().into_iter().map(|(n, _)| n).collect();
    if space.is_default() {
        let rooms = engine.io.rooms().await.unwrap_or_default();
        names.extend(rooms.into_iter().map(std::borrow::Cow::into_owned));
    }
    names.extend(others.0.keys().cloned());
    names.sort();
    names.dedup();
    let mut channels = Map::new();
    for name in names.into_iter().filter(|n| n.starts_with(prefix)) {
        if sockets(&engine, space, &name, &others) > 0 {
            let i = info(&engine, space, &name, wanted, &others).await;
            channels.insert(name, i);
        }
    }
    Ok(Json(json!({ "channels": channels })))
}

/// `GET /apps/{id}/channels/{channel}[?info=]`: `occupied` and what `info` asks for.
pub(super) async fn show(
    State(engine): State<Arc<Engine>>,
    Path((_, channel)): Path<(String, String)>,
    signed: Signed,
) -> Answer {
    let space = &engine.pusher.apps[signed.app];
    let wanted = format!("{},occupied", signed.param("info").unwrap_or_default());
    let others = Others::of(&engine, space).await;
    Ok(Json(info(&engine, space, &channel, &wanted, &others).await))
}

/// `GET /apps/{id}/channels/{channel}/users`: `{"users":[{"id":..}]}`.
pub(super) async fn users(
    State(engine): State<Arc<Engine>>,
    Path((_, channel)): Path<(String, String)>,
    signed: Signed,
) -> Answer {
    let space = &engine.pusher.apps[signed.app];
    if sockets(&engine, space, &channel, &Others::of(&engine, space).await) == 0 {
        return Err(PusherApiError::NoChannel);
    }
    if ChannelKind::of(&channel) != ChannelKind::Presence {
        return Err(PusherApiError::NotPresence);
    }
    let users: Vec<Value> = user_ids(&engine, space, &channel)
        .await
        .into_iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Ok(Json(json!({ "users": users })))
}

/// `POST /apps/{id}/users/{user}/terminate_connections`: close the app's sockets that joined a
/// presence channel as that user, on every node of a cluster.
pub(super) async fn terminate(
    State(engine): State<Arc<Engine>>,
    Path((_, user)): Path<(String, String)>,
    signed: Signed,
) -> Answer {
    crate::pusher::terminate_user(&engine, signed.app, &user);
    if let Some(node) = &engine.cluster {
        node.relay_terminate(engine.pusher.id_of(signed.app), &user);
    }
    Ok(Json(json!({})))
}
