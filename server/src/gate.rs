//! Admission of Socket.IO handshakes, before socketioxide allocates anything for them: browser
//! origins outside `allowedOrigins` get HTTP 403, new sessions past `maxConnections` get 503.
//! Requests of sessions that already exist (`sid` in the query) always pass.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Config;
use crate::origin::AllowedOrigins;
use crate::stats::{DropReason, Stats};

/// What the gate checks.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    path: String,
    origins: AllowedOrigins,
    max_connections: usize,
    stats: Arc<Stats>,
}

impl Gate {
    pub(crate) fn new(config: &Config, stats: Arc<Stats>) -> Self {
        Gate {
            path: config.socketio.path.clone(),
            origins: config.allowed_origins.clone(),
            max_connections: config.limits.max_connections,
            stats,
        }
    }

    /// Whether `maxConnections` is reached (0: no limit).
    pub(crate) fn full(&self) -> bool {
        self.max_connections != 0
            && self.stats.connections() >= u64::try_from(self.max_connections).unwrap_or(u64::MAX)
    }

    pub(crate) fn refuse_full(&self) -> String {
        self.stats.dropped(DropReason::ConnectionLimit);
        tracing::warn!(
            limit = self.max_connections,
            "connection refused: maxConnections reached"
        );
        format!(
            "Server is at its connection limit ({})",
            self.max_connections
        )
    }
}

/// The middleware: runs on every request, acts on Socket.IO handshakes only.
pub(crate) async fn admit(gate: Gate, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(&gate.path) {
        return next.run(req).await;
    }
    if let Some(origin) = req.headers().get(axum::http::header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| gate.origins.allows(o))
    {
        tracing::warn!(origin = ?origin, "socket refused: origin not allowed");
        return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
    }
    let new_session = !req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("sid=")));
    if new_session && gate.full() {
        let message = gate.refuse_full();
        // Engine.IO's error shape, so clients log something meaningful.
        let body = serde_json::json!({ "code": 503, "message": message });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    if new_session {
        return next.run(detached(req)).await;
    }
    next.run(req).await
}

/// The request with its URI and headers copied out of the connection's read buffer.
///
/// hyper parses them without copying, as slices of its 8–16 KiB read buffer; the Socket.IO layer
/// keeps the handshake request for the life of the session, and with it that whole buffer.
/// Copying the few hundred bytes that matter lets the buffer go once the connection upgrades.
fn detached(req: Request) -> Request {
    let (mut parts, body) = req.into_parts();
    let mut headers = axum::http::HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
            axum::http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    parts.headers = headers;
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}
