//! `GET /apps/{id}/connections`, Reverb's count of the app's connections subscribed to at least
//! one channel (on every node of a cluster), and `GET /up`, Reverb's health check, which load
//! balancers in front of Reverb already probe.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::signed::Signed;
use crate::engine::Engine;

/// `{"connections":N}`: this node's count, plus the other nodes' at their last beat.
pub(super) async fn connections(State(engine): State<Arc<Engine>>, signed: Signed) -> Json<Value> {
    let space = &engine.pusher.apps[signed.app];
    let here = space.subscribed_connections(&engine).await as u64;
    let elsewhere = crate::cluster::api::other_nodes_connections(&engine, &space.app.id)
        .await
        .unwrap_or(0);
    Json(json!({ "connections": here + elsewhere }))
}

/// `{"health":"OK"}`, unsigned, as Reverb answers it.
pub(crate) async fn up() -> Json<Value> {
    Json(json!({ "health": "OK" }))
}
