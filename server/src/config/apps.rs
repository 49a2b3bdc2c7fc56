//! Pusher-protocol apps (`apps[]`): Reverb's per-app settings in the file's camelCase, and the
//! one app Reverb's own `REVERB_APP_ID`, `REVERB_APP_KEY` and `REVERB_APP_SECRET` describe.
//!
//! The first app is the default app: its channels are the Socket.IO channels (one channel
//! space), so every ingress reaches its Pusher clients. Further apps have channel spaces of their
//! own, reached through the Pusher HTTP API with their id.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::schema::NonEmpty;
use super::values::{Count, Flag, List, Text};

/// One `apps[]` entry as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub struct AppEntry {
    /// `app_id`: the id in the HTTP API's `/apps/{id}/...`.
    pub id: NonEmpty,
    /// The public key clients connect with (`/app/{key}`).
    pub key: NonEmpty,
    /// Signs channel authorizations and HTTP API requests.
    pub secret: NonEmpty,
    /// Host patterns of browser origins allowed to connect (`*` wildcards); default `["*"]`.
    #[serde(default)]
    pub allowed_origins: Option<List>,
    /// Seconds of silence after which the server pings a client.
    #[serde(default)]
    pub ping_interval: Option<Count<1>>,
    /// Seconds of silence after which a client pings (sent to it on connect).
    #[serde(default)]
    pub activity_timeout: Option<Count<1>>,
    /// Largest message a client may send, bytes.
    #[serde(default)]
    pub max_message_size: Option<Count<1>>,
    /// Connections the app may hold at once (unset: no limit).
    #[serde(default)]
    pub capacity: Option<Count<1>>,
    /// Who may send client events: `members`, `all` or `none`.
    #[serde(default)]
    pub accept_client_events_from: Option<Text>,
    /// Reverb's per-connection message rate limit.
    #[serde(default)]
    pub rate_limiting: Option<RateLimitingEntry>,
}

/// `apps[].rateLimiting`, as Reverb's `rate_limiting`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub struct RateLimitingEntry {
    /// Off unless `true`.
    #[serde(default)]
    pub enabled: Flag,
    /// Messages a connection may send per window (Reverb's default 60).
    #[serde(default)]
    pub max_attempts: Option<Count<1, { u32::MAX as u64 }>>,
    /// The window, seconds (Reverb's default 60).
    #[serde(default)]
    pub decay_seconds: Option<Count<1>>,
    /// Close the connection at the limit, instead of refusing each message past it.
    #[serde(default)]
    pub terminate_on_limit: Flag,
}

/// A connection's message rate limit (Reverb's `rate_limiting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Messages per window.
    pub max_attempts: u32,
    /// The window, counted from its first message.
    pub decay: Duration,
    /// Close the connection when a message is refused.
    pub terminate: bool,
}

/// Who may send `client-*` events (Reverb's `accept_client_events_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvents {
    /// Only sockets subscribed to the channel; the relayed event names the sender's `user_id`.
    Members,
    /// Any socket of the app, subscribed or not.
    All,
    /// Nobody: client events are answered with error 4301.
    None,
}

/// A Pusher-protocol app the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PusherApp {
    /// `app_id`.
    pub id: String,
    /// Public key.
    pub key: String,
    /// Signing secret.
    pub secret: String,
    /// Allowed origin host patterns; `*` alone allows any.
    pub allowed_origins: Vec<String>,
    /// Silence after which the server pings the client, then closes it (4201) after as long again.
    pub ping_interval: Duration,
    /// Sent to clients in `pusher:connection_established`.
    pub activity_timeout: Duration,
    /// Largest client message, bytes.
    pub max_message_size: usize,
    /// Most connections at once; `None` for no limit.
    pub capacity: Option<usize>,
    /// Who may send client events.
    pub client_events: ClientEvents,
    /// Messages a connection may send; `None`: no limit (Reverb's default).
    pub rate_limit: Option<RateLimit>,
}

impl PusherApp {
    /// An app with Reverb's defaults.
    pub fn new(id: &str, key: &str, secret: &str) -> Self {
        PusherApp {
            id: id.to_owned(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            allowed_origins: vec!["*".to_owned()],
            ping_interval: Duration::from_secs(60),
            activity_timeout: Duration::from_secs(30),
            max_message_size: 10_000,
            capacity: None,
            client_events: ClientEvents::Members,
            rate_limit: None,
        }
    }
}

/// Build the apps of a document; the error names the key.
pub(super) fn build(entries: Vec<AppEntry>) -> Result<Vec<PusherApp>, String> {
    let mut apps: Vec<PusherApp> = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let mut app = PusherApp::new(&e.id.0, &e.key.0, &e.secret.0);
        if let Some(List(origins)) = e.allowed_origins {
            app.allowed_origins = origins;
        }
        if let Some(Count(s)) = e.ping_interval {
            app.ping_interval = Duration::from_secs(s);
        }
        if let Some(Count(s)) = e.activity_timeout {
            app.activity_timeout = Duration::from_secs(s);
        }
        if let Some(n) = e.max_message_size {
            app.max_message_size = n.to_usize();
        }
        app.capacity = e.capacity.map(|n| n.to_usize());
        app.rate_limit = e.rate_limiting.filter(|r| r.enabled.0).map(|r| RateLimit {
            max_attempts: r
                .max_attempts
                .map_or(60, |Count(n)| u32::try_from(n).unwrap_or(u32::MAX)),
            decay: Duration::from_secs(r.decay_seconds.map_or(60, |Count(s)| s)),
            terminate: r.terminate_on_limit.0,
        });
        if let Some(Text(from)) = e.accept_client_events_from {
            app.client_events = match from.as_str() {
                "members" => ClientEvents::Members,
                "all" => ClientEvents::All,
                "none" | "" => ClientEvents::None,
                _ => {
                    return Err(format!(
                        "apps.{i}.acceptClientEventsFrom: expected `members`, `all` or `none`"
                    ));
                }
            };
        }
        if apps.iter().any(|a| a.id == app.id || a.key == app.key) {
            return Err(format!(
                "apps.{i}: an app with this id or key is already configured"
            ));
        }
        apps.push(app);
    }
    Ok(apps)
}

/// The app Reverb's environment variables describe, when all three are set and not empty.
pub fn from_reverb_env(vars: &BTreeMap<String, String>) -> Option<PusherApp> {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    Some(PusherApp::new(
        get("REVERB_APP_ID")?,
        get("REVERB_APP_KEY")?,
        get("REVERB_APP_SECRET")?,
    ))
}
