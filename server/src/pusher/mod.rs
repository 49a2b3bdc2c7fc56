//! The Pusher Channels protocol (v7), as Laravel Reverb serves it, beside the Socket.IO
//! protocol on the same listener and in the same channel space: laravel-echo's `reverb` and
//! `pusher` broadcasters (pusher-js) connect to `/app/{key}`, and Laravel's `reverb` and
//! `pusher` broadcast drivers publish through the signed HTTP API.
//!
//! - `space`: the apps, their channel spaces (the first app's is the Socket.IO one) and the
//!   delivery of a message to their Pusher sockets;
//! - `channels`: the Pusher sockets of each channel, cache channels;
//! - `outbox`: a socket's queue of shared outgoing frames;
//! - `upgrade`: the WebSocket handshake on `/app/{key}`;
//! - `connection`: one task per connection, pings and activity;
//! - `subscribe`: `pusher:subscribe`, `unsubscribe`, `ping`;
//! - `members`: presence across both protocols;
//! - `client_event`: `client-*` events;
//! - `frames`: the JSON frames, in and out; `error`: `pusher:error` codes;
//! - `signature`: HMAC-SHA256 signatures; `origin`: `allowed_origins`; `limit`: Reverb's
//!   per-connection message rate limit;
//! - `api`: the HTTP API with request signing (`/apps/{id}/events`, ...).

pub(crate) mod api;
mod channels;
mod client_event;
mod connection;
mod error;
pub(crate) mod frames;
mod limit;
pub(crate) mod members;
mod origin;
pub(crate) mod outbox;
mod signature;
mod space;
mod subscribe;
mod upgrade;

pub(crate) use space::{Pusher, terminate_user};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request};
use axum::routing::get;

use crate::engine::Engine;

/// What `pusherPort` serves: the WebSocket route and the HTTP API, signed or not (an unsigned
/// request is refused there, as Reverb refuses it).
pub(crate) fn own_port_router(engine: Arc<Engine>) -> Router {
    routes(engine.clone()).merge(api::router(engine))
}

/// The WebSocket route, `/app/{key}`, and Reverb's health check, `/up`.
pub(crate) fn routes(engine: Arc<Engine>) -> Router {
    Router::new().route("/up", get(api::connections::up)).route(
        "/app/{key}",
        get(move |Path(key): Path<String>, req: Request| {
            upgrade::upgrade(engine.clone(), key, req)
        }),
    )
}
