//! Per-connection state kept beside socketioxide's socket: the handshake headers forwarded to the
//! auth endpoint, the connection's channels and its client-event rate limit.

use axum::extract::ConnectInfo;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::rate::Bucket;
use super::subscriptions::Subscriptions;
use crate::auth::Handshake;
use crate::config::Limits;
use crate::listener::Peer;

/// One client connection.
#[derive(Debug)]
pub(crate) struct Connection {
    /// Headers of the handshake request.
    pub handshake: Handshake,
    /// Joined channels and subscribes waiting for authorization, changed in arrival order.
    pub channels: Subscriptions,
    /// The client-event rate limit; `None` when off.
    pub client_events: Option<Bucket>,
}

impl Connection {
    pub(crate) fn new(socket: &SocketRef, auth: &Value, limits: &Limits) -> Self {
        let parts = socket.req_parts();
        let h = &parts.headers;
        let get = |name: &str| h.get(name).cloned();
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .and_then(|ConnectInfo(Peer(addr))| HeaderValue::from_str(&addr.ip().to_string()).ok());
        Connection {
            handshake: Handshake {
                cookie: joined_cookies(h),
                referer: get("referer"),
                origin: get("origin"),
                user_agent: get("user-agent"),
                forwarded_for: get("x-forwarded-for").or(peer),
                connect_headers: auth.get("headers").and_then(Value::as_object).cloned(),
            },
            channels: Subscriptions::default(),
            client_events: Bucket::new(limits.client_events_per_second, limits.client_event_burst),
        }
    }
}

/// HTTP/2 clients may split cookies over several headers; join them as one `Cookie` header.
fn joined_cookies(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut all = headers.get_all("cookie").iter();
    let first = all.next()?.clone();
    let rest: Vec<&HeaderValue> = all.collect();
    if rest.is_empty() {
        return Some(first);
    }
    let mut joined = first.as_bytes().to_vec();
    for v in rest {
        joined.extend_from_slice(b"; ");
        joined.extend_from_slice(v.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}
