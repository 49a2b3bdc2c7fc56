//! The HTTP API on the Socket.IO port (laravel-echo-server's routes, JSON bodies and status
//! codes): `GET /`, `/apps/:appId/status|channels|channels/:c|channels/:c/users` and
//! `POST /apps/:appId/events`, authorized by the configured `clients`. Channel counts include the
//! default Pusher app's sockets (one channel space).

mod channels;
mod error;
mod events;

use std::sync::Arc;

use std::collections::HashMap;

use axum::Router;
use axum::extract::Request;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::engine::Engine;
use crate::ingress::redis::RedisStatus;
pub use error::ApiError;

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct ApiState {
    pub engine: Arc<Engine>,
    pub redis: Arc<RedisStatus>,
}

/// Query parameters the routes read; others are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiQuery {
    auth_key: Option<String>,
    filter_by_prefix: Option<String>,
}

/// The route table.
pub(crate) fn router(state: ApiState) -> Router {
    let headers = response_headers(&state.engine.config);
    let mut router = Router::new()
        .route("/", get(|| async { "OK" }))
        .route("/health", get(channels::health))
        .route("/apps/{app_id}/status", get(channels::status))
        .route("/apps/{app_id}/channels", get(channels::list))
        .route("/apps/{app_id}/channels/{channel}", get(channels::show))
        .route(
            "/apps/{app_id}/channels/{channel}/users",
            get(channels::users),
        );
    if state.engine.config.subscribers.http {
        router = router.route("/apps/{app_id}/events", post(events::post));
    }
    let headers = Arc::new(headers);
    let (pusher_ws, pusher_api) = (
        crate::pusher::routes(state.engine.clone()),
        crate::pusher::api::router(state.engine.clone()),
    );
    router
        .with_state(state)
        .merge(pusher_ws)
        // Signed requests are the Pusher API's, on the same paths.
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let mut pusher_api = pusher_api.clone();
            async move {
                if crate::pusher::api::is_signed(&req) {
                    let req = crate::pusher::api::fresh(req);
                    let answer = tower_service::Service::call(&mut pusher_api, req).await;
                    answer.unwrap_or_else(|e| match e {})
                } else {
                    next.run(req).await
                }
            }
        }))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let headers = headers.clone();
            async move {
                // CORS preflight: answered here, with the configured headers, for every route.
                let mut res: Response = if req.method() == axum::http::Method::OPTIONS {
                    axum::http::StatusCode::NO_CONTENT.into_response()
                } else {
                    next.run(req).await
                };
                for (name, value) in headers.iter() {
                    res.headers_mut().insert(name.clone(), value.clone());
                }
                res
            }
        }))
}

/// The `headers` and `apiOriginAllow` response headers, checked once at start-up.
fn response_headers(config: &crate::Config) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    let mut add = |name: &str, value: &str| match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(n), Ok(v)) => out.push((n, v)),
        _ => tracing::warn!(header = name, "invalid response header in config; ignored"),
    };
    for (name, value) in &config.headers {
        add(name, value);
    }
    let cors = &config.api_origin_allow;
    if cors.allow_cors {
        add("access-control-allow-origin", &cors.allow_origin);
        add("access-control-allow-methods", &cors.allow_methods);
        add("access-control-allow-headers", &cors.allow_headers);
    }
    out
}

/// Proof that the request named a configured app id and its key; extracting it performs the
/// check, so every `/apps/:appId` handler takes one.
#[derive(Debug)]
pub(crate) struct Authorized;

impl axum::extract::FromRequestParts<ApiState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Unauthorized)?;
        let Query(query) = Query::<ApiQuery>::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let app_id = params.get("app_id").map_or("", String::as_str);
        authorize(state, app_id, &parts.headers, &query)?;
        Ok(Authorized)
    }
}

/// Check the app id and key: `Authorization: Bearer <key>` (or the bare key) or `?auth_key=`.
fn authorize(
    state: &ApiState,
    app_id: &str,
    headers: &HeaderMap,
    query: &ApiQuery,
) -> Result<(), ApiError> {
    let from_header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replacen("Bearer ", "", 1));
    let Some(key) = from_header.or_else(|| query.auth_key.clone()) else {
        return Err(ApiError::Unauthorized);
    };
    let ok = state
        .engine
        .config
        .clients
        .iter()
        .any(|c| c.app_id == app_id && constant_time_eq(c.key.as_bytes(), key.as_bytes()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Compare keys without leaking how many leading bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
