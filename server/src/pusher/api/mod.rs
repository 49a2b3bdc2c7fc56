//! The Pusher HTTP API with Pusher's request signing, so Laravel's `reverb` and `pusher`
//! broadcast drivers (pusher-php-server) publish unchanged:
//! `POST /apps/{id}/events`, `/batch_events`, `GET /apps/{id}/channels`, `/channels/{name}`,
//! `/channels/{name}/users`, `GET /apps/{id}/connections` and
//! `POST /apps/{id}/users/{user}/terminate_connections`.
//!
//! These paths are laravel-echo-server's API paths too; a request carrying `auth_signature` is
//! the Pusher API's, any other keeps going to the laravel-echo-server API (see [`is_signed`]).
//!
//! - `signed`: the signature check, as an extractor;
//! - `events`: publishing; `channels`: channel information, users, terminating connections;
//!   `connections`: the count of connections, and Reverb's `/up` health check.

mod channels;
pub(crate) mod connections;
mod events;
mod signed;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::engine::Engine;

/// Whether a request is for the Pusher API: it is signed.
pub(crate) fn is_signed(req: &Request) -> bool {
    req.uri().path().starts_with("/apps/")
        && req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("auth_signature=")))
}

/// The request as the Pusher API's router should see it: routing the laravel-echo-server API
/// already matched it and left that route's path parameters among its extensions.
pub(crate) fn fresh(req: Request) -> Request {
    let (parts, body) = req.into_parts();
    let mut fresh = Request::new(body);
    *fresh.method_mut() = parts.method;
    *fresh.uri_mut() = parts.uri;
    *fresh.version_mut() = parts.version;
    *fresh.headers_mut() = parts.headers;
    fresh
}

/// The routes.
pub(crate) fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/apps/{app_id}/events", post(events::events))
        .route("/apps/{app_id}/batch_events", post(events::batch))
        .route("/apps/{app_id}/channels", get(channels::list))
        .route("/apps/{app_id}/connections", get(connections::connections))
        .route("/apps/{app_id}/channels/{channel}", get(channels::show))
        .route(
            "/apps/{app_id}/channels/{channel}/users",
            get(channels::users),
        )
        .route(
            "/apps/{app_id}/users/{user}/terminate_connections",
            post(channels::terminate),
        )
        .with_state(engine)
}

/// Why a Pusher API request failed; the status and text Reverb answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PusherApiError {
    /// 404: no app has the id.
    #[error("No matching application for ID [{0}].")]
    UnknownApp(String),
    /// 401: the signature does not match, or the key is not the app's.
    #[error("Authentication signature invalid.")]
    Signature,
    /// 401: `auth_timestamp` is missing or more than 600 s from the server's clock.
    #[error("Timestamp expired: Given timestamp is not within 600s of server time")]
    Timestamp,
    /// 422: the body lacks a field or has one of the wrong type.
    #[error("{0}")]
    Invalid(String),
    /// 400: `/users` of a channel that is not a presence channel.
    #[error("{{}}")]
    NotPresence,
    /// 404: `/users` of a channel nobody is in.
    #[error("{{}}")]
    NoChannel,
}

impl IntoResponse for PusherApiError {
    fn into_response(self) -> Response {
        let status = match self {
            PusherApiError::UnknownApp(_) | PusherApiError::NoChannel => StatusCode::NOT_FOUND,
            PusherApiError::Signature | PusherApiError::Timestamp => StatusCode::UNAUTHORIZED,
            PusherApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PusherApiError::NotPresence => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}
