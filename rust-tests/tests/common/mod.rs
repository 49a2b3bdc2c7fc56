//! Shared test fixtures: a server on a free port, a raw Socket.IO client that shows the exact
//! packets on the wire, an HTTP auth endpoint that records what it was sent, and a real
//! `redis-server` process.
#![allow(dead_code, unused_imports)]

pub mod auth_stub;
pub mod binary;
pub mod client;
pub mod redis_server;

use std::net::SocketAddr;
use std::time::Duration;

use rust_echo_server::{Config, ServerHandle};

pub use auth_stub::AuthStub;
pub use client::Client;
pub use redis_server::RedisServer;

/// How long a test waits for something that should arrive.
pub const WAIT: Duration = Duration::from_secs(5);

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
        let res = reqwest::get(format!("{}{path}", self.url()))
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    /// POST a raw body to a path, returning status and body.
    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", self.url()))
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }
}

/// Check `f` every 10 ms until it holds or `within` has passed; whether it held.
pub async fn eventually(within: Duration, f: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Let in-flight handlers run (joins are processed asynchronously by the server).
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}
