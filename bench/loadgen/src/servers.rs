//! The servers under test, started the way their users start them: laravel-echo-server 1.6.3 and
//! the `rust-echo` binary from a `laravel-echo-server.json`, rust-echo embedded in this process
//! (its in-process publish path), and the raw broadcaster. Each child is pinned to the server
//! CPU and stopped by its process group.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::procs::Proc;
use crate::publish::Ingress;
use crate::{http, sys};

/// What to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// laravel-echo-server 1.6.3 (Node).
    Les,
    /// The `rust-echo` binary: Redis and shared-memory ingress.
    RustEcho,
    /// rust-echo embedded in the load generator: the in-process queue.
    InProcess,
    /// The raw tungstenite broadcaster: one frame per message written to every socket.
    Raw,
    /// socketioxide with the socketioxide-redis adapter (`adapter-node`): two-node rows only.
    Adapter,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Les => "laravel-echo-server",
            Kind::RustEcho => "rust-echo",
            Kind::InProcess => "rust-echo (embedded)",
            Kind::Raw => "raw broadcaster",
            Kind::Adapter => "socketioxide-redis",
        }
    }
}

/// Where things are and what the servers connect to.
#[derive(Debug, Clone)]
pub struct Env {
    /// The repository root.
    pub root: PathBuf,
    /// Scratch folder for configs and logs.
    pub out: PathBuf,
    pub redis_port: u16,
    pub auth_url: String,
    /// CPU the servers run on (the load generator keeps the other).
    pub server_cpu: Option<usize>,
}

/// A server running for one scenario.
pub struct Running {
    pub kind: Kind,
    pub addr: SocketAddr,
    proc: Option<Proc>,
    embedded: Option<Embedded>,
}

struct Embedded {
    runtime: tokio::runtime::Runtime,
    handle: rust_echo_server::ServerHandle,
}

/// laravel-echo-server.json for both servers.
fn config(env: &Env, port: u16) -> Value {
    json!({
        "host": "127.0.0.1",
        "port": port,
        "authHost": env.auth_url,
        "authEndpoint": "/broadcasting/auth",
        "clients": [{ "appId": "bench", "key": "bench" }],
        "database": "redis",
        "databaseConfig": { "redis": { "host": "127.0.0.1", "port": env.redis_port } },
        "devMode": false,
        "protocol": "http",
        "subscribers": { "http": true, "redis": true },
        "shm": { "size": 64 * 1024 * 1024 }
    })
}

/// Start `kind` and wait until it serves.
pub async fn start(kind: Kind, env: &Env, name: &str) -> Result<Running, String> {
    start_with(kind, env, name, &Value::Null).await
}

/// A `rust-echo` binary that is a node of the cluster `namespace` (on the bench's Redis); waits
/// until its relay is subscribed.
pub async fn start_cluster_node(env: &Env, name: &str, namespace: &str) -> Result<Running, String> {
    let extra = json!({ "cluster": { "enabled": true, "namespace": namespace } });
    let node = start_with(Kind::RustEcho, env, name, &extra).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while http::get(node.addr, "/health")
        .await
        .ok()
        .map(|h| h["cluster"]["relay_subscribed"].clone())
        != Some(Value::Bool(true))
    {
        if Instant::now() > deadline {
            return Err(format!(
                "{name}: the cluster relay did not subscribe within 10 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(node)
}

/// socketioxide with its Redis adapter, as a node of a pair; `ingress`: the Redis channel whose
/// Laravel payloads it emits to the other nodes.
pub async fn start_adapter_node(
    env: &Env,
    name: &str,
    ingress: Option<&str>,
) -> Result<Running, String> {
    start_with(Kind::Adapter, env, name, &json!({ "ingress": ingress })).await
}

/// As [`start`], with `extra` keys set over the configuration.
async fn start_with(kind: Kind, env: &Env, name: &str, extra: &Value) -> Result<Running, String> {
    let port = sys::free_port().map_err(|e| e.to_string())?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let dir = env.out.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write_config = |dir: &Path| {
        let file = dir.join("laravel-echo-server.json");
        let mut value = config(env, port);
        if let (Value::Object(base), Value::Object(more)) = (&mut value, extra) {
            base.extend(more.clone());
        }
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))
    };
    let (proc, embedded) = match kind {
        Kind::Les => {
            write_config(&dir)?;
            let script = env
                .root
                .join("e2e/node_modules/laravel-echo-server/bin/server.js");
            if !script.exists() {
                return Err(format!(
                    "{} is missing: run `make setup` (npm ci in e2e/)",
                    script.display()
                ));
            }
            let script = script.to_string_lossy().into_owned();
            let mut p = Proc::spawn(
                name,
                "node",
                &[&script, "start"],
                &dir,
                &env.out,
                env.server_cpu,
                &[],
            )?;
            p.wait_for_log("Server ready!", Duration::from_secs(20))?;
            (Some(p), None)
        }
        Kind::RustEcho => {
            write_config(&dir)?;
            let bin = env.root.join("target/release/rust-echo");
            let bin = bin.to_string_lossy().into_owned();
            let d = dir.to_string_lossy().into_owned();
            let mut p = Proc::spawn(
                name,
                &bin,
                &["start", "--dir", &d],
                &dir,
                &env.out,
                env.server_cpu,
                &[("RUST_LOG", "warn")],
            )?;
            p.wait_for_log("Server ready!", Duration::from_secs(20))?;
            wait_redis_connected(addr).await?;
            (Some(p), None)
        }
        Kind::Raw => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let bin = exe.with_file_name("raw-broadcast");
            let bin = bin.to_string_lossy().into_owned();
            let (p1, r) = (port.to_string(), env.redis_port.to_string());
            let mut p = Proc::spawn(
                name,
                &bin,
                &["--port", &p1, "--redis-port", &r],
                &dir,
                &env.out,
                env.server_cpu,
                &[],
            )?;
            p.wait_for_log("ready", Duration::from_secs(10))?;
            (Some(p), None)
        }
        Kind::Adapter => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let bin = exe.with_file_name("adapter-node");
            let bin = bin.to_string_lossy().into_owned();
            let (p1, r) = (port.to_string(), env.redis_port.to_string());
            let mut args = vec!["--port", &p1, "--redis-port", &r];
            if let Some(channel) = extra["ingress"].as_str() {
                args.extend(["--ingress", channel]);
            }
            let mut p = Proc::spawn(name, &bin, &args, &dir, &env.out, env.server_cpu, &[])?;
            p.wait_for_log("ready", Duration::from_secs(10))?;
            (Some(p), None)
        }
        Kind::InProcess => (None, Some(embed(env, port).await?)),
    };
    if let (Some(cpu), Some(p)) = (env.server_cpu, &proc) {
        check_pinned(name, p.pid(), cpu)?;
    }
    Ok(Running {
        kind,
        addr,
        proc,
        embedded,
    })
}

/// Every figure assumes the server has a CPU of its own: refuse to measure when it does not.
fn check_pinned(name: &str, pid: u32, cpu: usize) -> Result<(), String> {
    match sys::allowed_cpus(pid) {
        Some(list) if list == cpu.to_string() => Ok(()),
        seen => Err(format!(
            "{name} may run on CPUs {}, not CPU {cpu} alone",
            seen.as_deref().unwrap_or("?")
        )),
    }
}

/// rust-echo on a runtime of its own whose one worker is pinned to the server CPU (its queue
/// drain thread, started from that worker, inherits the pinning).
async fn embed(env: &Env, port: u16) -> Result<Embedded, String> {
    let cpu = env.server_cpu;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("rust-echo-embedded")
        .on_thread_start(move || {
            if let Some(c) = cpu {
                sys::pin_current_thread(c);
            }
        })
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut value = config(env, port);
    value["subscribers"] = json!({ "http": true, "redis": false });
    value["shm"] = json!({ "enabled": false });
    let cfg = rust_echo_server::Config::from_value(&value, "bench")
        .map_err(|e| e.to_string())?
        .config;
    let handle = runtime
        .spawn(rust_echo_server::start(cfg))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("embedded rust-echo: {e}"))?;
    Ok(Embedded { runtime, handle })
}

async fn wait_redis_connected(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = http::get(addr, "/apps/bench/status?auth_key=bench").await;
        if let Ok(v) = status
            && v["redis_connected"] == Value::Bool(true)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("rust-echo did not connect to redis within 10 s".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Running {
    /// The server's own process, for memory and CPU readings (none when embedded).
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    /// This rust-echo binary's shared-memory ring.
    pub fn ring(&self) -> Result<Ingress, String> {
        let ring = rust_echo_server::shm::default_name(self.addr.port());
        let producer =
            rust_echo_server::shm::Producer::new(&ring).map_err(|e| format!("ring {ring}: {e}"))?;
        Ok(Ingress::Shm(producer))
    }

    /// The ingresses this server takes, in the order they are measured.
    pub async fn ingresses(&self, env: &Env) -> Result<Vec<Ingress>, String> {
        match self.kind {
            Kind::Les | Kind::Raw | Kind::Adapter => {
                Ok(vec![Ingress::redis(env.redis_port).await?])
            }
            Kind::RustEcho => {
                let ring = rust_echo_server::shm::default_name(self.addr.port());
                let producer = rust_echo_server::shm::Producer::new(&ring)
                    .map_err(|e| format!("ring {ring}: {e}"))?;
                Ok(vec![
                    Ingress::redis(env.redis_port).await?,
                    Ingress::Shm(producer),
                ])
            }
            Kind::InProcess => {
                let e = self.embedded.as_ref().ok_or("no embedded server")?;
                Ok(vec![Ingress::Memory(e.handle.publisher())])
            }
        }
    }

    /// Sockets subscribed to `channel`, from the HTTP API both servers offer.
    pub async fn subscribers(&self, channel: &str) -> Result<u64, String> {
        let v = http::get(
            self.addr,
            &format!("/apps/bench/channels/{channel}?auth_key=bench"),
        )
        .await?;
        Ok(v["subscription_count"].as_u64().unwrap_or(0))
    }

    /// Occupied channels whose names start with `prefix`.
    pub async fn channels(&self, prefix: &str) -> Result<u64, String> {
        let v = http::get(
            self.addr,
            &format!("/apps/bench/channels?filter_by_prefix={prefix}&auth_key=bench"),
        )
        .await?;
        Ok(v["channels"].as_object().map_or(0, |m| m.len() as u64))
    }

    /// Stop the server; a rust-echo ring file left behind is removed (and reported).
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(e) = self.embedded.take() {
            let Embedded { runtime, handle } = e;
            let _ = runtime.spawn(handle.shutdown()).await;
            runtime.shutdown_background();
        }
        drop(self.proc.take());
        let ring =
            Path::new("/dev/shm").join(rust_echo_server::shm::default_name(self.addr.port()));
        if ring.exists() {
            let _ = std::fs::remove_file(&ring);
            return Err(format!("{} was left behind (removed)", ring.display()));
        }
        Ok(())
    }
}
