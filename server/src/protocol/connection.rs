//! Per-connection state kept beside socketioxide's socket: the handshake headers forwarded to the
//! auth endpoint and the subscriptions whose authorization is still in flight.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ConnectInfo;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::rate::Bucket;
use crate::auth::Handshake;
use crate::config::Limits;
use crate::listener::Peer;

/// One client connection.
#[derive(Debug)]
pub(crate) struct Connection {
    /// Headers of the handshake request.
    pub handshake: Handshake,
    /// Channel → ticket of the latest subscribe waiting for authorization. An unsubscribe or a
    /// newer subscribe replaces or removes the ticket, so a late auth reply cannot join a channel
    /// the client has left since.
    pending: Mutex<HashMap<String, u64>>,
    next_ticket: AtomicU64,
    /// The client-event rate limit; `None` when off.
    pub client_events: Option<Bucket>,
    /// Undecodable packets sent recently.
    pub strikes: crate::undecodable::Strikes,
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
            pending: Mutex::new(HashMap::new()),
            next_ticket: AtomicU64::new(0),
            client_events: Bucket::new(limits.client_events_per_second, limits.client_event_burst),
            strikes: crate::undecodable::Strikes::default(),
        }
    }

    /// Register a subscribe that waits for authorization; `None` when `limit` are already waiting.
    pub(crate) fn begin(&self, channel: &str, limit: usize) -> Option<u64> {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.lock();
        if pending.len() >= limit && !pending.contains_key(channel) {
            return None;
        }
        pending.insert(channel.to_owned(), ticket);
        Some(ticket)
    }

    /// Whether `ticket` is still the latest subscribe for `channel`; consumes it when it is.
    pub(crate) fn finish(&self, channel: &str, ticket: u64) -> bool {
        let mut pending = self.lock();
        if pending.get(channel) == Some(&ticket) {
            pending.remove(channel);
            true
        } else {
            false
        }
    }

    /// Forget a waiting subscribe (the client unsubscribed).
    pub(crate) fn cancel(&self, channel: &str) {
        self.lock().remove(channel);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
