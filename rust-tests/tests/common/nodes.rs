//! Several `rust-echo` binaries forming one cluster over one real `redis-server`: each with its
//! own ring, the same API client, and the relay subscribed before a test publishes.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

use super::binary::Binary;
use super::{Client, RedisServer, http, until_eq};

/// The database the nodes keep their shared keys in (not the default, to show it is used).
pub const DB: i64 = 3;

pub struct Node {
    pub bin: Binary,
    /// The node's shared-memory ring.
    pub ring: String,
}

/// The config of a cluster node on `redis`, with `extra` keys merged over it.
pub fn config(redis: &RedisServer, extra: &Value) -> (Value, String) {
    let redis_config = json!({
        "host": "127.0.0.1", "port": redis.port, "password": redis.password, "db": DB
    });
    config_with(redis_config, &format!("test-{}", redis.port), extra)
}

/// The config of a cluster node with `databaseConfig.redis` set to `redis` and the cluster's
/// `namespace`, with `extra` keys merged over it; and the node's ring name.
pub fn config_with(redis: Value, namespace: &str, extra: &Value) -> (Value, String) {
    static N: AtomicU32 = AtomicU32::new(0);
    let ring = format!(
        "rust-echo-cluster-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut config = json!({
        "databaseConfig": { "redis": redis },
        "clients": [{ "appId": "app", "key": "secret" }],
        "shm": { "enabled": true, "name": ring },
        "cluster": { "enabled": true, "namespace": namespace },
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut config, extra) {
        for (k, v) in more {
            base.insert(k.clone(), v.clone());
        }
    }
    (config, ring)
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "=== log of the node at {}\n{}",
                self.bin.addr,
                self.bin.log()
            );
        }
    }
}

impl Node {
    /// Start a node and wait until its relay subscriber is up.
    pub async fn start(redis: &RedisServer, extra: &Value) -> Node {
        Node::start_config(config(redis, extra)).await
    }

    /// Start a node of a config made by [`config_with`] and wait until its relay subscriber is up.
    pub async fn start_config((config, ring): (Value, String)) -> Node {
        let node = Node {
            bin: Binary::start(config, None),
            ring,
        };
        until_eq("the relay subscribed", Some(true), || async {
            node.bin
                .health()
                .await
                .and_then(|h| h["cluster"]["relay_subscribed"].as_bool())
        })
        .await;
        node
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.bin.addr)
    }

    /// This node's id, from `/health`.
    pub async fn id(&self) -> String {
        let h = self.bin.health().await.expect("health");
        h["cluster"]["node"].as_str().expect("node id").to_owned()
    }

    pub async fn client(&self, eio: u8) -> Client {
        Client::connect(self.bin.addr, eio).await
    }

    /// `POST /apps/app/events`.
    pub async fn post_event(&self, channel: &str, name: &str, data: &Value, socket: Option<&str>) {
        let res = http()
            .post(format!("{}/apps/app/events?auth_key=secret", self.url()))
            .body(
                json!({ "channel": channel, "name": name, "data": data, "socket_id": socket })
                    .to_string(),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "event accepted");
    }

    /// Publish through this node's shared-memory ring.
    pub fn ring_publish(&self, channel: &str, event: &str, data: &str) {
        let mut p = rust_echo_server::shm::Producer::new(&self.ring).expect("ring name");
        let record = rust_echo_server::shm::Record {
            channels: &[channel],
            event,
            data,
            socket: None,
        };
        p.publish(&record).expect("ring accepts");
    }

    /// GET an API path (`?auth_key=secret` added), as JSON.
    pub async fn api(&self, path: &str) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        let res = http()
            .get(format!("{}{path}{sep}auth_key=secret", self.url()))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{path}");
        serde_json::from_str(&res.text().await.expect("body")).expect("json")
    }
}
