//! Channel authorization against the Laravel app's `/broadcasting/auth`, as laravel-echo-server
//! does it (form field `channel_name`, the client's headers and cookies), plus what it lacks: a
//! timeout, a shared keep-alive connection pool, and the browser headers Sanctum needs.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::error::StartError;

/// Headers of the socket's handshake request that are forwarded to the auth endpoint.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    /// `Cookie` (carries the Laravel session).
    pub cookie: Option<HeaderValue>,
    /// `Referer` (also selects the auth host).
    pub referer: Option<HeaderValue>,
    /// `Origin` (Sanctum's stateful-domain check).
    pub origin: Option<HeaderValue>,
    /// `User-Agent`.
    pub user_agent: Option<HeaderValue>,
    /// The connection's forwarded chain (see [`crate::forwarded`]): the handshake's
    /// `X-Forwarded-For` followed by the peer address, or as sent by a trusted proxy.
    pub forwarded_for: Option<HeaderValue>,
    /// Headers from a socket.io ≥ 3 client's CONNECT payload (`auth.headers`).
    pub connect_headers: Option<Map<String, Value>>,
}

/// What the auth endpoint decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// HTTP 200; the body, parsed as JSON when it is JSON, else as a string.
    Granted(Value),
    /// Any other HTTP status, and the start of the body for the log.
    Denied {
        /// The HTTP status.
        status: u16,
        /// The first bytes of the body.
        body: String,
    },
    /// No answer (connection refused, timeout, TLS error): status 0 for the client.
    Failed(String),
    /// `maxConcurrentAuth` requests stayed in flight for half of `authTimeout`; the request was
    /// never sent. Status 503 for the client.
    Busy,
}

/// Headers never taken from the client: they describe the request this server sends.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "upgrade",
    "keep-alive",
    "te",
    "trailer",
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Sends authorization requests; one per server, cloned cheaply.
#[derive(Debug, Clone)]
pub struct Authorizer {
    client: reqwest::Client,
    hosts: Vec<String>,
    endpoint: String,
    /// One permit per request in flight (`maxConcurrentAuth`).
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Authorizer {
    /// Build the client and its connection pool.
    ///
    /// # Errors
    /// The TLS stack could not be set up.
    pub fn new(config: &Config) -> Result<Self, StartError> {
        // Several crates in one process may each try to install a provider; the first one wins
        // and that is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.auth_timeout)
            .connect_timeout(config.auth_timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(config.limits.max_concurrent_auth)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| StartError::AuthClient(e.to_string()))?;
        Ok(Authorizer {
            client,
            hosts: config.auth_host.clone(),
            endpoint: config.auth_endpoint.clone(),
            slots: Arc::new(Semaphore::new(config.limits.max_concurrent_auth)),
            wait: config.auth_timeout,
        })
    }

    /// The auth host for a socket, as laravel-echo-server picks it: the first configured host,
    /// unless the handshake's `Referer` matches one (`.example.com` matches any subdomain), in
    /// which case the Referer's own scheme and host are used. A Referer that matches nothing
    /// falls back to the first host (laravel-echo-server took the last one).
    pub fn host_for(&self, referer: Option<&str>) -> String {
        let first = self
            .hosts
            .first()
            .map_or("http://localhost", String::as_str);
        let Some(url) = referer.and_then(|r| reqwest::Url::parse(r).ok()) else {
            return first.to_owned();
        };
        let Some(hostname) = url.host_str() else {
            return first.to_owned();
        };
        let host = match url.port() {
            Some(p) => format!("{hostname}:{p}"),
            None => hostname.to_owned(),
        };
        let origin = format!("{}://{host}", url.scheme());
        let from_dot = hostname.find('.').map(|i| &hostname[i..]);
        let matches = |entry: &str| from_dot == Some(entry) || origin == entry || host == entry;
        if self.hosts.iter().any(|h| matches(h)) {
            origin
        } else {
            first.to_owned()
        }
    }

    /// Ask the app whether this socket may join `channel`. `client_headers` are the
    /// `auth.headers` of the `subscribe` payload, forwarded verbatim.
    ///
    /// The whole exchange, waiting for a slot included, ends within `authTimeout`. At most
    /// `maxConcurrentAuth` requests are in flight; others wait their turn for up to half of
    /// `authTimeout` and are then answered [`Outcome::Busy`] without being sent, so a request
    /// is only sent with at least half of `authTimeout` left to answer it, and one that waited
    /// has only what is left.
    pub async fn authorize(
        &self,
        channel: &str,
        client_headers: Option<&Map<String, Value>>,
        handshake: &Handshake,
    ) -> Outcome {
        let asked = tokio::time::Instant::now();
        let deadline = asked + self.wait;
        let queue_deadline = asked + self.wait / 2;
        let Ok(Ok(_slot)) = tokio::time::timeout_at(queue_deadline, self.slots.acquire()).await
        else {
            return Outcome::Busy;
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let referer = handshake.referer.as_ref().and_then(|r| r.to_str().ok());
        let url = format!("{}{}", self.host_for(referer), self.endpoint);
        let headers = request_headers(client_headers, handshake);
        let response = self
            .client
            .post(&url)
            .headers(headers)
            .form(&[("channel_name", channel)])
            .timeout(left)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(error_chain(&e, &url)),
        };
        let status = response.status().as_u16();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(error_chain(&e, &url)),
        };
        if status != 200 {
            let end = body.len().min(300);
            return Outcome::Denied {
                status,
                body: String::from_utf8_lossy(&body[..end]).into_owned(),
            };
        }
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        Outcome::Granted(value)
    }
}

/// Client headers first (socket.io ≥ 3 CONNECT headers, then the subscribe payload's), then the
/// handshake's cookie and browser headers where the client did not set them, then
/// `X-Forwarded-For` with the connection's chain rightmost (a client's own value is only a claim
/// on its left), then `X-Requested-With` so Laravel answers errors as JSON.
fn request_headers(client: Option<&Map<String, Value>>, hs: &Handshake) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut claim = None;
    for source in [hs.connect_headers.as_ref(), client].into_iter().flatten() {
        for (name, value) in source {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            if NOT_FORWARDED.contains(&name.as_str()) {
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            if name == X_FORWARDED_FOR {
                claim = Some(text);
            } else if let Ok(v) = HeaderValue::from_str(&text) {
                headers.insert(name, v);
            }
        }
    }
    let chain = hs.forwarded_for.as_ref().and_then(|v| v.to_str().ok());
    if let Some(v) = crate::forwarded::with_claim(claim.as_deref(), chain)
        .and_then(|f| HeaderValue::from_str(&f).ok())
    {
        headers.insert(X_FORWARDED_FOR, v);
    }
    let defaults = [
        (reqwest::header::COOKIE, &hs.cookie),
        (reqwest::header::REFERER, &hs.referer),
        (reqwest::header::ORIGIN, &hs.origin),
        (reqwest::header::USER_AGENT, &hs.user_agent),
    ];
    for (name, value) in defaults {
        if let Some(v) = value
            && !headers.contains_key(&name)
        {
            headers.insert(name, v.clone());
        }
    }
    headers.insert(
        HeaderName::from_static("x-requested-with"),
        HeaderValue::from_static("XMLHttpRequest"),
    );
    headers
}

fn error_chain(e: &reqwest::Error, url: &str) -> String {
    let mut msg = if e.is_timeout() {
        format!("timed out requesting {url}")
    } else {
        format!("error requesting {url}")
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(hosts: &[&str]) -> Authorizer {
        let config = Config {
            auth_host: hosts.iter().map(|h| (*h).to_owned()).collect(),
            ..Config::default()
        };
        Authorizer::new(&config).unwrap()
    }

    #[test]
    fn auth_host_follows_referer_matching() {
        let a = authorizer(&["http://app.test", ".example.com", "https://b.io:8443"]);
        assert_eq!(a.host_for(None), "http://app.test");
        assert_eq!(
            a.host_for(Some("https://shop.example.com/x")),
            "https://shop.example.com"
        );
        assert_eq!(
            a.host_for(Some("https://b.io:8443/page")),
            "https://b.io:8443"
        );
        assert_eq!(a.host_for(Some("http://other.org/")), "http://app.test");
        assert_eq!(a.host_for(Some("not a url")), "http://app.test");
    }

    #[test]
    fn client_headers_win_and_hop_headers_are_dropped() {
        let client: Map<String, Value> = serde_json::from_str(
            r#"{"X-CSRF-TOKEN":"t","Cookie":"a=1","Host":"evil","Bad Name":"x","N":5}"#,
        )
        .unwrap();
        let hs = Handshake {
            cookie: Some(HeaderValue::from_static("laravel_session=s")),
            user_agent: Some(HeaderValue::from_static("UA")),
            ..Handshake::default()
        };
        let h = request_headers(Some(&client), &hs);
        assert_eq!(h["x-csrf-token"], "t");
        assert_eq!(h["cookie"], "a=1");
        assert_eq!(h["user-agent"], "UA");
        assert_eq!(h["n"], "5");
        assert_eq!(h["x-requested-with"], "XMLHttpRequest");
        assert!(!h.contains_key("host"));
    }
}
