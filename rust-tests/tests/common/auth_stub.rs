//! A real HTTP endpoint standing where Laravel's `/broadcasting/auth` would be: it answers by
//! channel name and records every request (headers, form body, peer address).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// The reply for one channel: status, body, and a delay before answering.
pub type Reply = (u16, String, Duration);

#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: String,
    pub peer: SocketAddr,
}

type Responder = Arc<dyn Fn(&str, &HeaderMap) -> Reply + Send + Sync>;

pub struct AuthStub {
    /// Base URL for `authHost`.
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl AuthStub {
    /// Answer each request with `respond(channel_name, headers)`.
    pub async fn start(
        respond: impl Fn(&str, &HeaderMap) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = (requests.clone(), Arc::new(respond) as Responder);
        let app = Router::new()
            .route("/broadcasting/auth", post(handle))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .ok();
        });
        AuthStub {
            url: format!("http://{addr}"),
            requests,
        }
    }

    /// Laravel's answers for a signed-in user: `true` for private channels, and for presence
    /// channels member data of the user named by the client's `X-User` auth header.
    pub async fn laravel() -> Self {
        Self::start(|channel, headers| {
            if channel.starts_with("presence-") {
                let id = headers
                    .get("x-user")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("1");
                let body =
                    format!(r#"{{"channel_data":{{"user_id":{id},"user_info":{{"id":{id}}}}}}}"#);
                (200, body, Duration::ZERO)
            } else {
                (200, "true".to_owned(), Duration::ZERO)
            }
        })
        .await
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn handle(
    State((requests, respond)): State<(Arc<Mutex<Vec<Recorded>>>, Responder)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let channel = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("channel_name="))
        .map(|c| c.replace("%2D", "-").replace("%2E", ".").replace('+', " "))
        .unwrap_or_default();
    requests.lock().expect("lock").push(Recorded {
        headers: headers.clone(),
        body: body.clone(),
        peer,
    });
    let (status, reply, delay) = respond(&channel, &headers);
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).expect("status"), reply)
}
