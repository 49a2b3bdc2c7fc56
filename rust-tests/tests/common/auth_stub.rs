//! A real HTTP endpoint standing where Laravel's `/broadcasting/auth` would be: it answers by
//! channel name and records every request (headers, form body, peer address). A held stub
//! keeps every answer back until the test releases it, so "still in flight" is a state the test
//! controls rather than a delay it hopes is long enough.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
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

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    respond: Responder,
    /// `true` once answers may go out.
    open: Arc<tokio::sync::watch::Sender<bool>>,
    answered: Arc<AtomicUsize>,
}

pub struct AuthStub {
    /// Base URL for `authHost`.
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    open: Arc<tokio::sync::watch::Sender<bool>>,
    answered: Arc<AtomicUsize>,
}

impl AuthStub {
    /// Answer each request with `respond(channel_name, headers)`.
    pub async fn start(
        respond: impl Fn(&str, &HeaderMap) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::serve(respond, true).await
    }

    /// Like [`AuthStub::start`], but every answer waits until [`AuthStub::release`].
    pub async fn held(respond: impl Fn(&str, &HeaderMap) -> Reply + Send + Sync + 'static) -> Self {
        Self::serve(respond, false).await
    }

    async fn serve(
        respond: impl Fn(&str, &HeaderMap) -> Reply + Send + Sync + 'static,
        open: bool,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(tokio::sync::watch::Sender::new(open));
        let answered = Arc::new(AtomicUsize::new(0));
        let state = Shared {
            requests: requests.clone(),
            respond: Arc::new(respond),
            open: open.clone(),
            answered: answered.clone(),
        };
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
            open,
            answered,
        }
    }

    /// Let every held answer, and every later one, go out.
    pub fn release(&self) {
        self.open.send_replace(true);
    }

    /// How many answers have been sent.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// The `channel_name` of every request received, in arrival order.
    pub fn channels(&self) -> Vec<String> {
        self.recorded()
            .iter()
            .map(|r| channel_of(&r.body))
            .collect()
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

fn channel_of(body: &str) -> String {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("channel_name="))
        .map(|c| c.replace("%2D", "-").replace("%2E", ".").replace('+', " "))
        .unwrap_or_default()
}

async fn handle(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let channel = channel_of(&body);
    shared.requests.lock().expect("lock").push(Recorded {
        headers: headers.clone(),
        body: body.clone(),
        peer,
    });
    let (status, reply, delay) = (shared.respond)(&channel, &headers);
    tokio::time::sleep(delay).await;
    let mut open = shared.open.subscribe();
    let _ = open.wait_for(|open| *open).await;
    shared.answered.fetch_add(1, Ordering::SeqCst);
    (StatusCode::from_u16(status).expect("status"), reply)
}
