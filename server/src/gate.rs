//! Admission of Socket.IO handshakes, before socketioxide allocates anything for them: browser
//! origins outside `allowedOrigins` get HTTP 403; new sessions past `maxConnections` (connected
//! sockets plus [`sessions`] still waiting for their CONNECT) or within the descriptor reserve
//! ([`descriptors`]) get 503 and the connection is closed. Requests of sessions that already
//! exist (`sid` in the query) always pass.

mod descriptors;
mod detached;
pub(crate) mod sessions;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Config;
use crate::listener::watchdog::Watchdog;
use crate::logging::Throttle;
use crate::origin::AllowedOrigins;
use crate::stats::{DropReason, Stats};
use descriptors::Descriptors;
use detached::detached;
use sessions::Pending;

/// Refusals come in floods; one line per period says how many.
static REFUSED_LOG: Throttle = Throttle::new(Duration::from_secs(10));
static ORIGIN_LOG: Throttle = Throttle::new(Duration::from_secs(10));

/// What the gate checks.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    path: String,
    origins: AllowedOrigins,
    max_connections: usize,
    stats: Arc<Stats>,
    pending: Arc<Pending>,
    descriptors: Arc<Descriptors>,
    watchdog: Arc<Watchdog>,
}

/// Why a new session was refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// `maxConnections` reached.
    Full,
    /// Within the descriptor reserve.
    Descriptors,
}

impl Gate {
    /// The gate, with the task that keeps the pending-session gauge current (current runtime).
    pub(crate) fn new(config: &Config, stats: Arc<Stats>, watchdog: Arc<Watchdog>) -> Self {
        let pending = Arc::new(Pending::default());
        tokio::spawn(sessions::report(Arc::downgrade(&pending), stats.clone()));
        Gate {
            path: config.socketio.path.clone(),
            origins: config.allowed_origins.clone(),
            max_connections: config.limits.max_connections,
            stats,
            pending,
            descriptors: Arc::new(Descriptors::measure(watchdog.open() as u64)),
            watchdog,
        }
    }

    /// A session CONNECTs (the namespace's admission): refused when `maxConnections` sockets are
    /// connected (handshakes that raced past the gate), else its reservation becomes a connection.
    pub(crate) fn admit_connect(&self) -> Result<(), String> {
        let limit = u64::try_from(self.max_connections).unwrap_or(u64::MAX);
        if self.max_connections != 0 && self.stats.connections() >= limit {
            return Err(self.refuse(Refusal::Full));
        }
        self.stats.set_pending_sessions(self.pending.release());
        Ok(())
    }

    /// A new Engine.IO session asks to open: reserve its place or say why not.
    fn admit_handshake(&self) -> Result<(), Refusal> {
        if self.descriptors.exhausted(self.watchdog.open() as u64) {
            return Err(Refusal::Descriptors);
        }
        let limit = u64::try_from(self.max_connections).unwrap_or(u64::MAX);
        let waiting = self
            .pending
            .reserve(self.stats.connections(), limit)
            .ok_or(Refusal::Full)?;
        self.stats.set_pending_sessions(waiting);
        Ok(())
    }

    /// A Pusher connection asks to open: refused like a new Socket.IO session past
    /// `maxConnections` (both protocols' connections count) or within the descriptor reserve.
    fn admit_pusher(&self) -> Result<(), Refusal> {
        if self.descriptors.exhausted(self.watchdog.open() as u64) {
            return Err(Refusal::Descriptors);
        }
        let limit = u64::try_from(self.max_connections).unwrap_or(u64::MAX);
        if self.max_connections != 0
            && self.stats.connections() + self.pending.waiting() as u64 >= limit
        {
            return Err(Refusal::Full);
        }
        Ok(())
    }

    /// Count and log (throttled) a refusal; the message for the client.
    fn refuse(&self, why: Refusal) -> String {
        let (reason, message) = match why {
            Refusal::Full => (
                DropReason::ConnectionLimit,
                format!(
                    "Server is at its connection limit ({})",
                    self.max_connections
                ),
            ),
            Refusal::Descriptors => (
                DropReason::DescriptorReserve,
                "Server is short of file descriptors".to_owned(),
            ),
        };
        self.stats.dropped(reason);
        if let Some(held_back) = REFUSED_LOG.admit(&self.stats) {
            tracing::warn!(
                limit = self.max_connections,
                reason = reason.as_str(),
                refused_since_last_line = held_back + 1,
                "connection refused: {message}"
            );
        }
        message
    }
}

/// The middleware: runs on every request, acts on Socket.IO handshakes and Pusher connections.
pub(crate) async fn admit(gate: Gate, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/app/") {
        return match gate.admit_pusher() {
            Ok(()) => next.run(req).await,
            Err(why) => unavailable(&gate, why),
        };
    }
    if !req.uri().path().starts_with(&gate.path) {
        return next.run(req).await;
    }
    if let Some(origin) = req.headers().get(axum::http::header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| gate.origins.allows(o))
    {
        if let Some(held_back) = ORIGIN_LOG.admit(&gate.stats) {
            tracing::warn!(origin = ?origin, refused_since_last_line = held_back + 1, "socket refused: origin not allowed");
        }
        return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
    }
    let new_session = !req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("sid=")));
    if !new_session {
        return next.run(req).await;
    }
    if let Err(why) = gate.admit_handshake() {
        return unavailable(&gate, why);
    }
    let response = next.run(detached(req)).await;
    let status = response.status();
    if !(status.is_success() || status == StatusCode::SWITCHING_PROTOCOLS) {
        // No session was opened.
        gate.stats.set_pending_sessions(gate.pending.release());
    }
    response
}

/// 503 for a refused connection, in Engine.IO's error shape so clients log something
/// meaningful; the connection closes so that its descriptor is free at once.
fn unavailable(gate: &Gate, why: Refusal) -> Response {
    let message = gate.refuse(why);
    let body = serde_json::json!({ "code": 503, "message": message });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONNECTION, "close")],
        axum::Json(body),
    )
        .into_response()
}
