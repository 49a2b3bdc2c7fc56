//! The Redis subscriber on a Redis Cluster: it listens on one node and hears what is published on
//! any; a dead node is replaced by the next. Real redis-server processes, a real cluster made with
//! `redis-cli --cluster create`. (Sentinel: `sentinel.rs`.)
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::redis_server::{free_port, loopback_args};
use common::{Client, TestServer, until};

/// A redis-server (or Sentinel) process with the given arguments, killed when dropped.
struct Node {
    child: Child,
    port: u16,
}

impl Node {
    async fn start(port: u16, args: &[&str]) -> Node {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        let node = Node { child, port };
        until(format!("redis on {port} to answer"), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
        node
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn cmd<T: redis::FromRedisValue>(&self, args: &[&str]) -> redis::RedisResult<T> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        let mut con = client.get_multiplexed_async_connection().await?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query_async(&mut con).await
    }

    async fn publish(&self, channel: &str, n: u64) -> redis::RedisResult<i64> {
        let payload = format!(r#"{{"event":"E","data":{n}}}"#);
        self.cmd(&["PUBLISH", channel, &payload]).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rust-echo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn data_node(port: u16, extra: &[&str]) -> Node {
    let p = port.to_string();
    let mut args = loopback_args(&p);
    args.extend_from_slice(extra);
    Node::start(port, &args).await
}

/// The data of the next event the client receives on `news`.
async fn next_number(c: &mut Client) -> u64 {
    let raw = c.next_event_raw().await;
    let v: serde_json::Value = serde_json::from_str(&raw).expect("json");
    v[2].as_u64()
        .unwrap_or_else(|| panic!("unexpected event {raw}"))
}

/// Three masters in a Redis Cluster; the server is given all three. A publish on any node reaches
/// the subscriber; the node it listens on dies, it moves to the next, and publishes on the
/// survivors keep arriving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_publishes_from_any_node_and_a_dead_node() {
    let dir = temp_dir("cluster");
    let ports = [free_port(), free_port(), free_port()];
    let mut nodes = Vec::new();
    for port in ports {
        let conf = dir
            .join(format!("nodes-{port}.conf"))
            .to_string_lossy()
            .into_owned();
        let extra = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &conf,
            "--cluster-require-full-coverage",
            "no",
            "--dir",
            dir.to_str().expect("utf-8 dir"),
        ];
        nodes.push(data_node(port, &extra).await);
    }
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli");
    assert!(created.success(), "redis-cli --cluster create");
    for node in &nodes {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info: String = node.cmd(&["CLUSTER", "INFO"]).await.expect("cluster info");
            if info.contains("cluster_state:ok") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster never formed: {info}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let seeds: Vec<(String, u16)> = ports.iter().map(|p| ("127.0.0.1".to_owned(), *p)).collect();
    let s = TestServer::start(move |c| {
        c.subscribers.redis = true;
        c.redis.cluster_nodes = seeds;
        c.redis.key_prefix = "p_".to_owned();
    })
    .await;
    until("the subscriber to connect to the cluster", || {
        s.handle.redis_connected()
    })
    .await;
    let mut c = s.client().await;
    c.subscribe("news").await;
    s.wait_subscribers("news", 1).await;
    // PUBLISH counts only the receiving node's own subscribers; the event reaches every node's.
    for (i, node) in nodes.iter().enumerate() {
        node.publish("p_news", i as u64).await.expect("publish");
        assert_eq!(next_number(&mut c).await, i as u64);
    }
    // The subscriber listens on the first node; kill it.
    nodes[0].kill();
    until("the subscriber to notice", || !s.handle.redis_connected()).await;
    until("the subscriber to move to another node", || {
        s.handle.redis_connected()
    })
    .await;
    for (n, node) in [(10, &nodes[1]), (11, &nodes[2])] {
        node.publish("p_news", n).await.expect("publish");
        assert_eq!(next_number(&mut c).await, n);
    }
}
