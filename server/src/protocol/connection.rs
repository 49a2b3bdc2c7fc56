//! Per-connection state kept beside socketioxide's socket: the handshake headers forwarded to the
//! auth endpoint, the connection's channels and its client-event rate limit.

use axum::extract::ConnectInfo;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::rate::Bucket;
use super::subscriptions::Subscriptions;
use crate::auth::Handshake;
use crate::config::Config;
use crate::forwarded;
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
    /// Undecodable packets sent recently.
    pub strikes: crate::undecodable::Strikes,
}

impl Connection {
    pub(crate) fn new(socket: &SocketRef, auth: &Value, config: &Config) -> Self {
        let limits = &config.limits;
        let parts = socket.req_parts();
        let h = &parts.headers;
        let get = |name: &str| h.get(name).cloned();
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(Peer(addr))| addr.ip());
        let received = joined(h, "x-forwarded-for", b", ");
        let received = received.as_ref().and_then(|v| v.to_str().ok());
        let forwarded_for = forwarded::chain(received, peer, &config.trusted_proxies)
            .and_then(|c| HeaderValue::from_str(&c).ok());
        Connection {
            handshake: Handshake {
                cookie: joined(h, "cookie", b"; "),
                referer: get("referer"),
                origin: get("origin"),
                user_agent: get("user-agent"),
                forwarded_for,
                connect_headers: auth.get("headers").and_then(Value::as_object).cloned(),
            },
            channels: Subscriptions::default(),
            client_events: Bucket::new(limits.client_events_per_second, limits.client_event_burst),
            strikes: crate::undecodable::Strikes::default(),
        }
    }
}

/// Every value of a header that may be sent several times (HTTP/2 clients split cookies; each
/// proxy may add its own `X-Forwarded-For` line) as one value.
fn joined(headers: &HeaderMap, name: &str, separator: &[u8]) -> Option<HeaderValue> {
    let mut all = headers.get_all(name).iter();
    let first = all.next()?.clone();
    let rest: Vec<&HeaderValue> = all.collect();
    if rest.is_empty() {
        return Some(first);
    }
    let mut joined = first.as_bytes().to_vec();
    for v in rest {
        joined.extend_from_slice(separator);
        joined.extend_from_slice(v.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}
