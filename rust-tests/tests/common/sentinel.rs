//! Redis Sentinel on free loopback ports: one master, one replica and three sentinels watching
//! the master as `mymaster` (down after 1 s), all killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::redis_server::{free_port, loopback_args};

pub const MASTER: &str = "mymaster";

pub struct Sentinels {
    master: Option<Child>,
    others: Vec<Child>,
    pub master_port: u16,
    pub replica_port: u16,
    pub ports: Vec<u16>,
    dir: std::path::PathBuf,
}

fn spawn(args: &[&str]) -> Child {
    Command::new("redis-server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed")
}

async fn query(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let mut con = client.get_multiplexed_async_connection().await?;
    cmd.query_async(&mut con).await
}

/// A field of `SENTINEL master mymaster` as text.
async fn master_field(port: u16, field: &str) -> Option<String> {
    let mut cmd = redis::cmd("SENTINEL");
    cmd.arg("master").arg(MASTER);
    let redis::Value::Array(items) = query(port, &cmd).await.ok()? else {
        return None;
    };
    let text = |v: &redis::Value| match v {
        redis::Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    };
    items
        .chunks_exact(2)
        .find(|kv| text(&kv[0]).as_deref() == Some(field))
        .and_then(|kv| text(&kv[1]))
}

impl Sentinels {
    pub async fn start() -> Self {
        let (master_port, replica_port) = (free_port(), free_port());
        let mp = master_port.to_string();
        let dir =
            std::env::temp_dir().join(format!("rust-echo-sentinel-{}-{mp}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        // A replica writes the RDB of its first sync into its directory: the scratch folder, not
        // the working directory (rust-tests/).
        let d = dir.to_str().expect("path");
        let rp = replica_port.to_string();
        let master = spawn(&[loopback_args(&mp), vec!["--dir", d]].concat());
        let replica_of = vec!["--dir", d, "--replicaof", "127.0.0.1", &mp];
        let mut others = vec![spawn(&[loopback_args(&rp), replica_of].concat())];
        let mut ports = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let conf = dir.join(format!("sentinel-{port}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\nsentinel monitor {MASTER} 127.0.0.1 {mp} 2\n\
                     sentinel down-after-milliseconds {MASTER} 1000\n\
                     sentinel failover-timeout {MASTER} 3000\n"
                ),
            )
            .expect("sentinel conf");
            others.push(spawn(&[conf.to_str().expect("path"), "--sentinel"]));
            ports.push(port);
        }
        let s = Sentinels {
            master: Some(master),
            others,
            master_port,
            replica_port,
            ports,
            dir,
        };
        // Every sentinel knows the replica and the two other sentinels: a failover can happen.
        for &port in &s.ports {
            let mut ready = false;
            for _ in 0..1500 {
                let replicas = master_field(port, "num-slaves").await;
                let others = master_field(port, "num-other-sentinels").await;
                if replicas.as_deref() == Some("1") && others.as_deref() == Some("2") {
                    ready = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(ready, "sentinel {port} sees the replica and its peers");
        }
        s
    }

    /// The master's port as the sentinels report it now.
    pub async fn master(&self) -> Option<u16> {
        let mut cmd = redis::cmd("SENTINEL");
        cmd.arg("get-master-addr-by-name").arg(MASTER);
        let redis::Value::Array(addr) = query(self.ports[0], &cmd).await.ok()? else {
            return None;
        };
        match addr.get(1) {
            Some(redis::Value::BulkString(p)) => std::str::from_utf8(p).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// PUBLISH on the current master; subscribers reached, or `None` when none answers.
    pub async fn publish(&self, channel: &str, payload: &str) -> Option<i64> {
        let port = self.master().await?;
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(payload);
        match query(port, &cmd).await.ok()? {
            redis::Value::Int(n) => Some(n),
            _ => None,
        }
    }

    /// SIGKILL the master.
    pub fn kill_master(&mut self) {
        if let Some(mut m) = self.master.take() {
            let _ = m.kill();
            let _ = m.wait();
        }
    }

    /// `databaseConfig.redis` for a server using these sentinels.
    pub fn config(&self) -> serde_json::Value {
        let nodes: Vec<_> = self
            .ports
            .iter()
            .map(|p| serde_json::json!({ "host": "127.0.0.1", "port": p }))
            .collect();
        serde_json::json!({ "sentinels": nodes, "name": MASTER })
    }
}

impl Drop for Sentinels {
    fn drop(&mut self) {
        self.kill_master();
        for c in &mut self.others {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
