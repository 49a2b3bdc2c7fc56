//! The Prometheus endpoint: `GET /metrics` on a listener of its own (default `127.0.0.1:9601`),
//! so the numbers are not exposed on the public Socket.IO port.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::MetricsConfig;
use crate::stats::Stats;

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bind the metrics listener and serve until `shutdown` turns true. A port that cannot be bound
/// costs the metrics, not the server: it is logged and `None` returned.
pub(crate) async fn serve(
    config: &MetricsConfig,
    stats: Arc<Stats>,
    mut shutdown: watch::Receiver<bool>,
) -> Option<SocketAddr> {
    if !config.enabled {
        return None;
    }
    let addr = crate::config::socket_address(&config.host, config.port);
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(%addr, error = %e, "metrics listener not started");
            return None;
        }
    };
    let local = listener.local_addr().ok()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(stats);
    tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    Some(local)
}

async fn metrics(State(stats): State<Arc<Stats>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], stats.prometheus())
}
