//! A real Redis Cluster on free loopback ports, made by `redis-cli --cluster create`: masters,
//! optionally one replica each, every process killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::nodes::{Node, config_with};
use super::redis_server::{free_port, loopback_args};
use super::until;

/// Failure detection: a master is failed over this long after it stopped answering.
pub const NODE_TIMEOUT_MS: &str = "1500";

/// One redis-server of the cluster; [`DataNode::start_again`] brings it back with its identity.
pub struct DataNode {
    child: Option<Child>,
    pub port: u16,
    args: Vec<String>,
}

impl DataNode {
    async fn start(port: u16, args: Vec<String>) -> DataNode {
        let mut node = DataNode {
            child: None,
            port,
            args,
        };
        node.start_again().await;
        node
    }

    /// Start the process again on the same port and cluster config file.
    pub async fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        self.child = Some(child);
        let port = self.port;
        until(format!("redis on {port} to answer"), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub async fn cmd<T: redis::FromRedisValue>(&self, args: &[&str]) -> redis::RedisResult<T> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        let mut con = client.get_multiplexed_async_connection().await?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query_async(&mut con).await
    }

    pub async fn publish(&self, channel: &str, n: u64) -> redis::RedisResult<i64> {
        let payload = format!(r#"{{"event":"E","data":{n}}}"#);
        self.cmd(&["PUBLISH", channel, &payload]).await
    }
}

impl Drop for DataNode {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct RedisCluster {
    pub nodes: Vec<DataNode>,
    dir: PathBuf,
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisCluster {
    /// `masters` masters with `replicas` replicas each, once every node says `cluster_state:ok`.
    pub async fn start(masters: usize, replicas: usize) -> RedisCluster {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rust-echo-redis-cluster-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut nodes = Vec::new();
        for _ in 0..masters * (1 + replicas) {
            let port = free_port();
            let p = port.to_string();
            // Its own free port for the cluster bus: port + 10000, the default, is often taken
            // on a busy machine.
            let bus = free_port().to_string();
            let conf = dir.join(format!("nodes-{port}.conf"));
            let log = dir.join(format!("redis-{port}.log"));
            let mut args: Vec<String> = loopback_args(&p).into_iter().map(String::from).collect();
            for a in [
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                &bus,
                // A replica may always take over, however long its link to the master was idle.
                "--cluster-replica-validity-factor",
                "0",
                "--cluster-config-file",
                conf.to_str().expect("utf-8 dir"),
                "--cluster-require-full-coverage",
                "no",
                "--cluster-node-timeout",
                NODE_TIMEOUT_MS,
                "--dir",
                dir.to_str().expect("utf-8 dir"),
                "--logfile",
                log.to_str().expect("utf-8 dir"),
            ] {
                args.push(a.to_owned());
            }
            nodes.push(DataNode::start(port, args).await);
        }
        let cluster = RedisCluster { nodes, dir };
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(cluster.seeds())
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli");
        assert!(created.success(), "redis-cli --cluster create");
        cluster
            .wait_ok(&cluster.nodes.iter().collect::<Vec<_>>())
            .await;
        cluster
    }

    /// Wait until each of `nodes` says the cluster is fine (and knows every node's role).
    pub async fn wait_ok(&self, nodes: &[&DataNode]) {
        for node in nodes {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let info: String = node.cmd(&["CLUSTER", "INFO"]).await.unwrap_or_default();
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
    }

    /// The last lines of node `i`'s log, for a failure message.
    pub fn log_tail(&self, i: usize) -> String {
        let log =
            std::fs::read_to_string(self.dir.join(format!("redis-{}.log", self.nodes[i].port)))
                .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Every node as "127.0.0.1:port".
    pub fn seeds(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    /// The node that holds `key` as master: the others answer MOVED, or nothing when dead.
    pub async fn master_of(&self, key: &str) -> Option<usize> {
        for (i, node) in self.nodes.iter().enumerate() {
            if node.child.is_some() && node.cmd::<i64>(&["EXISTS", key]).await.is_ok() {
                return Some(i);
            }
        }
        None
    }

    /// A namespace whose hash slot the first seed does not serve, so that only asking the
    /// cluster for the slot's master finds it.
    pub async fn namespace_off_the_first_seed(&self) -> String {
        for i in 0.. {
            let ns = format!("rc-{}-{i}", self.nodes[0].port);
            if self.master_of(&format!("{{{ns}}}:x")).await != Some(0) {
                return ns;
            }
        }
        unreachable!()
    }

    /// `n` rust-echo cluster nodes of `namespace` on this Redis Cluster (the Laravel subscriber
    /// and the backplane both given `clusterNodes`), `extra` keys merged into their config.
    pub async fn rust_echo_nodes(&self, namespace: &str, extra: &Value, n: usize) -> Vec<Node> {
        let redis = json!({ "clusterNodes": self.seeds(), "keyPrefix": "p_" });
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(Node::start_config(config_with(redis.clone(), namespace, extra)).await);
        }
        out
    }
}
