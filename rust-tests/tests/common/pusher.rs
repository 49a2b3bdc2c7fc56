//! A raw Pusher-protocol client over WebSocket (what pusher-js sends and reads, frame by frame),
//! and Pusher's signatures for channel authorizations and HTTP API requests.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::WAIT;

pub const KEY: &str = "app-key";
pub const SECRET: &str = "app-secret";
pub const ID: &str = "app-id";

/// Hex HMAC-SHA256.
pub fn hmac(secret: &str, message: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What the app's auth endpoint answers for a private or presence channel: `key:signature`.
pub fn channel_auth(socket_id: &str, channel: &str, channel_data: Option<&str>) -> String {
    let message = match channel_data {
        Some(d) => format!("{socket_id}:{channel}:{d}"),
        None => format!("{socket_id}:{channel}"),
    };
    format!("{KEY}:{}", hmac(SECRET, &message))
}

/// The query string pusher-php-server sends: `auth_key`, `auth_timestamp`, `auth_version`,
/// `body_md5`, the given parameters and `auth_signature`, signed with `secret`.
pub fn signed_query(
    method: &str,
    path: &str,
    body: &str,
    params: &[(&str, &str)],
    key: &str,
    secret: &str,
    timestamp: u64,
) -> String {
    let ts = timestamp.to_string();
    let md5 = hex::encode(Md5::digest(body.as_bytes()));
    let mut all: Vec<(&str, &str)> = vec![
        ("auth_key", key),
        ("auth_timestamp", &ts),
        ("auth_version", "1.0"),
    ];
    if !body.is_empty() {
        all.push(("body_md5", &md5));
    }
    all.extend_from_slice(params);
    all.sort();
    let query: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let query = query.join("&");
    let signature = hmac(secret, &format!("{method}\n{path}\n{query}"));
    format!("{query}&auth_signature={signature}")
}

/// A Socket.IO client and two Pusher clients in `channel` (the default app's key), joined.
pub async fn mixed_room(
    s: &super::TestServer,
    channel: &str,
) -> (super::Client, PusherClient, PusherClient) {
    let mut sio = s.client().await;
    sio.subscribe(channel).await;
    let mut p1 = PusherClient::connect(s.addr, KEY).await;
    let mut p2 = PusherClient::connect(s.addr, KEY).await;
    p1.subscribe(channel).await;
    p2.subscribe(channel).await;
    s.wait_subscribers(channel, 3).await;
    (sio, p1, p2)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub struct PusherClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// `socket_id` from `pusher:connection_established`.
    pub socket_id: String,
}

impl PusherClient {
    /// Connect to `/app/{key}` and read `pusher:connection_established`.
    pub async fn connect(addr: SocketAddr, key: &str) -> Self {
        let mut c = Self::open(addr, key, None).await;
        let first: Value = serde_json::from_str(&c.next().await).expect("json");
        assert_eq!(first["event"], "pusher:connection_established", "{first}");
        let data: Value =
            serde_json::from_str(first["data"].as_str().expect("data")).expect("data");
        c.socket_id = data["socket_id"].as_str().expect("socket_id").to_owned();
        c
    }

    /// Open the WebSocket without reading anything.
    pub async fn open(addr: SocketAddr, key: &str, origin: Option<&str>) -> Self {
        let mut req = format!("ws://{addr}/app/{key}?protocol=7&client=js&version=8.4.0")
            .into_client_request()
            .expect("request");
        if let Some(origin) = origin {
            req.headers_mut()
                .insert("origin", origin.parse().expect("origin"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect");
        PusherClient {
            ws,
            socket_id: String::new(),
        }
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Frame::Text(text.to_owned().into()))
            .await
            .expect("send");
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_raw(&frame.to_string()).await;
    }

    /// The next text frame, exactly as sent.
    pub async fn next(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("open")
                .expect("frame");
            match frame {
                Frame::Text(t) => return t.to_string(),
                Frame::Ping(_) | Frame::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Whether the server closes the connection (after anything still unread).
    pub async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Frame::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Subscribe and return the server's answer.
    pub async fn subscribe(&mut self, channel: &str) -> String {
        self.send(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
            .await;
        self.next().await
    }

    /// Subscribe to a private channel with a valid signature.
    pub async fn subscribe_private(&mut self, channel: &str) -> String {
        let auth = channel_auth(&self.socket_id, channel, None);
        self.send(json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}}))
            .await;
        self.next().await
    }

    /// Subscribe to a presence channel as `user_id` with `user_info`.
    pub async fn subscribe_presence(&mut self, channel: &str, member: Value) -> String {
        let data = member.to_string();
        let auth = channel_auth(&self.socket_id, channel, Some(&data));
        self.send(json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth, "channel_data": data}}))
            .await;
        self.next().await
    }
}
