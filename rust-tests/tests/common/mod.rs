//! Shared test fixtures: a server on a free port, a raw Socket.IO client that shows the exact
//! packets on the wire, an HTTP auth endpoint that records what it was sent, and a real
//! `redis-server` process, and waits for conditions (never for the clock).
#![allow(dead_code, unused_imports)]

pub mod auth_stub;
pub mod binary;
pub mod client;
pub mod nodes;
pub mod pusher;
pub mod pusher_cluster;
pub mod redis_cluster;
pub mod redis_server;
pub mod sentinel;
pub mod wait;

use std::net::SocketAddr;
use std::time::Duration;

use rust_echo_server::{Config, ServerHandle};

pub use auth_stub::AuthStub;
pub use client::Client;
pub use redis_server::RedisServer;
pub use wait::{eventually, until, until_eq};

/// How long a test waits for something that should arrive.
pub const WAIT: Duration = Duration::from_secs(5);

/// One HTTP client for every request a test makes: building one loads the system's root
/// certificates, which takes long enough to slow polling loops down. No pooled connections, as
/// each test has its own runtime and a port may be reused by the next test's server.
pub fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("HTTP client")
    });
    &HTTP
}

/// The numbers at `field` of the objects in the array `list` (e.g. the `id`s of an API's
/// users), sorted: member lists come in no particular order.
pub fn sorted_ids(list: &serde_json::Value, field: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| m[field].as_u64().expect("a numeric id"))
        .collect();
    ids.sort_unstable();
    ids
}

/// A server for one test; stopped when the test's runtime ends.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
}

impl TestServer {
    /// Start with the defaults a test wants (loopback, free port, no Redis) changed by `f`.
    pub async fn start(f: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            host: Some("127.0.0.1".to_owned()),
            port: 0,
            ..Config::default()
        };
        config.subscribers.redis = false;
        config.clients = vec![rust_echo_server::config::ApiClient {
            app_id: "app".to_owned(),
            key: "secret".to_owned(),
        }];
        f(&mut config);
        let handle = rust_echo_server::start(config)
            .await
            .expect("server starts");
        TestServer {
            addr: handle.local_addr(),
            handle,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connect a socket.io-client 4.x style client (Engine.IO 4).
    pub async fn client(&self) -> Client {
        Client::connect(self.addr, 4).await
    }

    /// Connect a socket.io-client 2.x style client (Engine.IO 3).
    pub async fn client_v2(&self) -> Client {
        Client::connect(self.addr, 3).await
    }

    /// Publish through the in-process bus.
    pub fn publish(&self, channel: &str, event: &str, data: &str, socket: Option<&str>) {
        let msg = rust_echo_server::Message::new(
            vec![channel.to_owned()],
            event.to_owned(),
            data,
            socket.map(str::to_owned),
        )
        .expect("valid message");
        self.handle.publisher().publish(msg).expect("queued");
    }

    /// GET a path of the HTTP API, returning status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = http()
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// POST a raw body to a path, returning status and body.
    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let res = http()
            .post(format!("{}{path}", self.url()))
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// How many sockets the HTTP API reports in `channel`.
    pub async fn subscribers(&self, channel: &str) -> u64 {
        let (status, body) = self
            .get(&format!("/apps/app/channels/{channel}?auth_key=secret"))
            .await;
        assert_eq!(status, 200, "channel info for {channel}: {body}");
        let info: serde_json::Value = serde_json::from_str(&body).expect("channel info json");
        info["subscription_count"]
            .as_u64()
            .expect("subscription_count")
    }

    /// Wait until the HTTP API reports `n` sockets in `channel`: from then on a broadcast to
    /// `channel` reaches them (joins happen asynchronously, after the subscribe packet).
    pub async fn wait_subscribers(&self, channel: &str, n: u64) {
        until_eq(format!("{n} subscribers in {channel}"), n, || {
            self.subscribers(channel)
        })
        .await;
    }

    /// Wait until the API's channel list is exactly `json`.
    pub async fn wait_channels(&self, json: &str) {
        until_eq("the channel list", json.to_owned(), || async {
            self.get("/apps/app/channels?auth_key=secret").await.1
        })
        .await;
    }

    /// Wait until the server counts `n` open connections.
    pub async fn wait_connections(&self, n: u64) {
        until_eq(format!("{n} open connections"), n, || {
            std::future::ready(self.handle.stats().connections())
        })
        .await;
    }

    /// Publish a marker event on `channel` and assert it is the next event each client gets:
    /// nothing was delivered to them before it. One socket's packets arrive in the order they
    /// were published, so this proves the absence of anything published earlier through the
    /// same ingress without waiting for a fixed time.
    pub async fn assert_marker_next(&self, channel: &str, clients: &mut [&mut Client]) {
        self.publish(channel, "Marker", r#""end""#, None);
        for c in clients.iter_mut() {
            assert_eq!(
                c.next_event_raw().await,
                format!(r#"["Marker","{channel}","end"]"#),
                "nothing before the marker (socket {})",
                c.sid
            );
        }
    }
}
