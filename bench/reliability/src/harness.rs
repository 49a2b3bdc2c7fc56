//! What every scenario stands on: the release `rust-echo` binary started from a
//! `laravel-echo-server.json` (restartable on the same port and ring, and killable with SIGKILL),
//! its `/metrics` and HTTP API, and a process's descriptors and memory.
#![allow(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use echo_bench::client::Sub;
use echo_bench::fleet::Fleet;
use echo_bench::http::get_text;
use echo_bench::procs::Proc;
use echo_bench::sys;
use serde_json::{Value, json};

/// The app id and key of the HTTP API in every server the suite starts.
pub const APP: &str = "rel";

/// Where things are.
#[derive(Debug, Clone)]
pub struct Env {
    /// The repository root.
    pub root: PathBuf,
    /// Scratch folder: configs and logs.
    pub out: PathBuf,
    /// The shared redis-server (scenarios that kill Redis start their own).
    pub redis_port: u16,
}

impl Env {
    pub fn bin(&self) -> PathBuf {
        self.root.join("target/release/rust-echo")
    }

    pub fn ext(&self) -> PathBuf {
        self.root.join("target/release/librust_echo.so")
    }

    pub fn php_script(&self, name: &str) -> PathBuf {
        self.root.join("bench/reliability/php").join(name)
    }
}

/// `laravel-echo-server.json` for a server on `port` with ring `ring` and metrics on `metrics`.
pub fn config(env: &Env, port: u16, ring: &str, metrics: u16) -> Value {
    json!({
        "host": "127.0.0.1",
        "port": port,
        "authHost": "http://127.0.0.1:9",
        "authEndpoint": "/broadcasting/auth",
        "clients": [{ "appId": APP, "key": APP }],
        "database": "redis",
        "databaseConfig": { "redis": { "host": "127.0.0.1", "port": env.redis_port } },
        "devMode": false,
        "protocol": "http",
        "subscribers": { "http": true, "redis": true },
        "shm": { "name": ring, "size": 64 * 1024 * 1024 },
        "metrics": { "enabled": true, "host": "127.0.0.1", "port": metrics }
    })
}

/// A running `rust-echo` binary.
pub struct Server {
    proc: Option<Proc>,
    name: String,
    dir: PathBuf,
    env: Env,
    starts: u32,
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
    pub ring: String,
}

impl Server {
    /// Start the binary with the base config changed by `tweak`; wait until it serves.
    pub async fn start(
        env: &Env,
        name: &str,
        tweak: impl FnOnce(&mut Value),
    ) -> Result<Server, String> {
        let port = sys::free_port().map_err(|e| e.to_string())?;
        let metrics = sys::free_port().map_err(|e| e.to_string())?;
        let ring = format!("rust-echo-rel-{}-{port}", std::process::id());
        let dir = env.out.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut value = config(env, port, &ring, metrics);
        tweak(&mut value);
        let file = dir.join("laravel-echo-server.json");
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut s = Server {
            proc: None,
            name: name.to_owned(),
            dir,
            env: env.clone(),
            starts: 0,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            metrics: SocketAddr::from(([127, 0, 0, 1], metrics)),
            ring,
        };
        s.spawn().await?;
        Ok(s)
    }

    /// Start the process (again, after [`Server::kill`]): same port, ring and config.
    pub async fn spawn(&mut self) -> Result<(), String> {
        self.starts += 1;
        let log_name = format!("{}-{}", self.name, self.starts);
        let bin = self.env.bin().to_string_lossy().into_owned();
        let dir = self.dir.to_string_lossy().into_owned();
        // SERVER_LOG sets the servers' RUST_LOG (e.g. `rust_echo_server::engine=debug`).
        let log = std::env::var("SERVER_LOG").unwrap_or_else(|_| "warn".to_owned());
        let vars = [("RUST_LOG", log.as_str())];
        let mut p = Proc::spawn(
            &log_name,
            &bin,
            &["start", "--dir", &dir],
            &self.dir,
            &self.env.out,
            None,
            &vars,
        )?;
        p.wait_for_log("Server ready!", Duration::from_secs(20))?;
        self.proc = Some(p);
        Ok(())
    }

    /// Bytes the current process has logged (its stdout and stderr).
    pub fn log_bytes(&self) -> u64 {
        let log = self
            .env
            .out
            .join(format!("{}-{}.log", self.name, self.starts));
        std::fs::metadata(log).map_or(0, |m| m.len())
    }

    /// SIGKILL, as a crash or the OOM killer would; the ring file stays behind.
    pub fn kill(&mut self) {
        if let Some(p) = self.proc.take() {
            kill9(p.pid());
            drop(p);
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    /// Whether the process is still running (it has not crashed).
    pub fn running(&mut self) -> bool {
        self.proc.as_mut().is_some_and(Proc::running)
    }

    /// The sum of the `/metrics` samples whose name (labels included) starts with `prefix`.
    pub async fn metric(&self, prefix: &str) -> Result<f64, String> {
        let (status, body) = get_text(self.metrics, "/metrics", Duration::from_secs(5)).await?;
        if status != 200 {
            return Err(format!("/metrics answered {status}"));
        }
        Ok(body
            .lines()
            .filter(|l| !l.starts_with('#') && l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }

    /// `GET path?auth_key=…` on the HTTP API, as JSON.
    pub async fn api(&self, path: &str) -> Result<Value, String> {
        let sep = if path.contains('?') { '&' } else { '?' };
        echo_bench::http::get(self.addr, &format!("/apps/{APP}{path}{sep}auth_key={APP}")).await
    }

    /// Sockets subscribed to `channel`.
    pub async fn subscribers(&self, channel: &str) -> Result<u64, String> {
        let v = self.api(&format!("/channels/{channel}")).await?;
        Ok(v["subscription_count"].as_u64().unwrap_or(0))
    }

    /// Wait until `channel` has `n` subscribers.
    pub async fn wait_subscribers(
        &self,
        channel: &str,
        n: u64,
        within: Duration,
    ) -> Result<(), String> {
        wait_subscribers(self.addr, channel, n, within).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.proc.take());
        let _ = std::fs::remove_file(format!("/dev/shm/{}", self.ring));
    }
}

/// Wait until `channel` on the server at `addr` has `n` subscribers.
pub async fn wait_subscribers(
    addr: SocketAddr,
    channel: &str,
    n: u64,
    within: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + within;
    let mut last = 0;
    while tokio::time::Instant::now() < deadline {
        let path = format!("/apps/{APP}/channels/{channel}?auth_key={APP}");
        if let Ok(v) = echo_bench::http::get(addr, &path).await {
            last = v["subscription_count"].as_u64().unwrap_or(0);
            if last == n {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "{channel} has {last} subscribers, not {n}, after {within:?}"
    ))
}

/// Subscribe every client of `fleet` to each public channel of `channels` (name, publisher id),
/// every publisher numbering its events from 0, and wait `within` for the acknowledgements.
pub async fn subscribe(
    fleet: &Fleet,
    channels: &[(String, u32)],
    within: Duration,
) -> Result<(), String> {
    let subs = |_| {
        channels
            .iter()
            .map(|(c, id)| Sub {
                channel: c.clone(),
                id: *id,
                user: None,
                start: Some(0),
            })
            .collect()
    };
    fleet.subscribe(subs, within).await
}

/// SIGKILL one process.
pub fn kill9(pid: u32) {
    let pid = i32::try_from(pid).unwrap_or(i32::MAX);
    // SAFETY: kill(2) on a child this suite started; harmless when it already exited.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Open descriptors of `pid`.
pub fn descriptors(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Resident memory of `pid` in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    sys::rss_bytes(pid).map(|b| b as f64 / 1_048_576.0)
}

/// A small fast generator for random bytes and choices (no cryptographic quality needed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
