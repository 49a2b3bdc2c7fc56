//! A fast stand-in for Laravel's `/broadcasting/auth`: `true` for private channels, member data
//! for presence channels (the user named by the client's `X-User` auth header), as Laravel's
//! `RedisBroadcaster` answers. It counts answers and remembers when it sent the last one, which
//! is when the last subscription of a burst was authorized.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;

use crate::client::now_ns;

/// Counters of the running stub.
#[derive(Debug, Default)]
pub struct AuthCounts {
    /// Requests answered.
    pub answered: AtomicU64,
    /// [`now_ns`] when the latest answer was produced.
    pub last_ns: AtomicU64,
}

/// A running stub.
#[derive(Debug)]
pub struct AuthStub {
    /// Base URL for `authHost`.
    pub url: String,
    pub counts: Arc<AuthCounts>,
}

impl AuthStub {
    /// Serve on a free port of 127.0.0.1 on the current runtime.
    pub async fn start() -> Result<AuthStub, String> {
        let counts = Arc::new(AuthCounts::default());
        let app = Router::new()
            .route("/broadcasting/auth", post(answer))
            .with_state(counts.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("auth endpoint: {e}"))?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(AuthStub {
            url: format!("http://{addr}"),
            counts,
        })
    }
}

async fn answer(State(counts): State<Arc<AuthCounts>>, headers: HeaderMap, body: String) -> String {
    let presence = body.contains("channel_name=presence-");
    let reply = if presence {
        let user = headers
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        format!(r#"{{"channel_data":{{"user_id":{user},"user_info":{{"id":{user}}}}}}}"#)
    } else {
        "true".to_owned()
    };
    counts.answered.fetch_add(1, Relaxed);
    counts.last_ns.fetch_max(now_ns(), Relaxed);
    reply
}
