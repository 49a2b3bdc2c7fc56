//! `GET /app/{key}`: the WebSocket handshake of the Pusher protocol, on the server's own
//! listener. The upgrade is answered here and the connection handed to its task
//! ([`super::connection::run`]); an unknown key still gets a WebSocket, to carry error 4001.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::engine::Engine;

/// Answer the handshake and start the connection's task.
pub(crate) async fn upgrade(engine: Arc<Engine>, key: String, mut req: Request) -> Response {
    let Some(accept) = accept_key(req.headers()) else {
        return (StatusCode::UPGRADE_REQUIRED, "WebSocket upgrade expected").into_response();
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let app = engine.pusher.by_key(&key).map(|a| a.index);
    let max = app.map(|i| engine.pusher.apps[i].app.max_message_size);
    let upgrading = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let upgraded = match upgrading.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "pusher upgrade failed");
                return;
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(max)
            .max_frame_size(max);
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        super::connection::run(engine, app, origin, ws).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `Sec-WebSocket-Accept` for a valid WebSocket upgrade request.
fn accept_key(headers: &HeaderMap) -> Option<String> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has(header::UPGRADE, "websocket") || !has(header::CONNECTION, "upgrade") {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    Some(derive_accept_key(key.as_bytes()))
}
