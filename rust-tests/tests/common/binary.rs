//! The `rust-echo` binary as an operator runs it: its own process (so its file descriptor limit
//! and its log are its own), a config file in a fresh folder, stderr kept for counting lines.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The binary `make build` produces; `RUST_ECHO_BIN` overrides. A missing binary fails the test.
pub fn path() -> PathBuf {
    let path = std::env::var_os("RUST_ECHO_BIN").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/debug/rust-echo"
            ))
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p rust-echo-server` (or set RUST_ECHO_BIN)",
        path.display()
    );
    path
}

pub struct Binary {
    child: Child,
    dir: PathBuf,
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
}

impl Binary {
    /// Start `rust-echo start` with `config` (laravel-echo-server.json keys; port 0 and a free
    /// metrics port are set here) and, when given, a file descriptor limit set with `prlimit`.
    /// Returns once it printed "Server ready!".
    pub fn start(mut config: serde_json::Value, nofile: Option<u32>) -> Self {
        // reqwest's TLS backend needs a provider; in-process servers install it, this test may
        // have none.
        let _ = rustls::crypto::ring::default_provider().install_default();
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rust-echo-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        config["host"] = "127.0.0.1".into();
        config["port"] = 0.into();
        config["metrics"] = serde_json::json!({ "enabled": true, "host": "127.0.0.1", "port": 0 });
        // Test clients often do not read (so do not answer pings) while they wait: no heartbeat
        // deadline within a test.
        config["socketio"] = serde_json::json!({ "pingInterval": 120_000, "pingTimeout": 120_000 });
        std::fs::write(
            dir.join("laravel-echo-server.json"),
            serde_json::to_vec(&config).expect("json"),
        )
        .expect("config written");
        let stderr = std::fs::File::create(dir.join("stderr.log")).expect("log file");
        let mut command = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg(path());
                c
            }
            None => Command::new(path()),
        };
        let mut child = command
            .arg("start")
            .arg("--dir")
            .arg(&dir)
            .current_dir(&dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("rust-echo spawns");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut port, mut metrics) = (None, None);
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no \"Server ready!\"; stderr: {}", log_of(&dir)));
            if let Some(p) = line.split(" on port ").nth(1) {
                port = p.trim().parse::<u16>().ok();
            }
            if let Some(m) = line.split("Metrics at http://").nth(1) {
                metrics = m.trim_end_matches("/metrics").parse::<SocketAddr>().ok();
            }
            if line == "Server ready!" {
                break;
            }
        }
        let port = port.expect("port printed");
        Binary {
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            metrics: metrics.expect("metrics address printed"),
        }
    }

    /// SIGKILL, as a crash or the OOM killer would, and reap the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as a process manager stops it; does not wait for the exit (see [`Self::wait`]).
    pub fn terminate(&mut self) {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// Wait until the process exited.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("exit status")
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        log_of(&self.dir)
    }

    /// `GET /metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.metrics))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics body")
    }

    /// The value of one metric line (name with labels), 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// `GET /health` with a short timeout: `Some(json)` when it answered 200.
    pub async fn health(&self) -> Option<serde_json::Value> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("client");
        let res = client
            .get(format!("http://{}/health", self.addr))
            .send()
            .await
            .ok()?;
        if res.status() != 200 {
            return None;
        }
        serde_json::from_str(&res.text().await.ok()?).ok()
    }
}

fn log_of(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
