//! A real `redis-server` on a free loopback port, killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    /// `requirepass`, when the server was started with one.
    pub password: Option<String>,
    /// Where a server that keeps its data across restarts writes it.
    dir: Option<std::path::PathBuf>,
}

impl RedisServer {
    pub async fn start() -> Self {
        Self::start_with_password(None).await
    }

    pub async fn start_with_password(password: Option<&str>) -> Self {
        let port = free_port();
        let password = password.map(str::to_owned);
        let mut server = RedisServer {
            child: None,
            port,
            password,
            dir: None,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let port = self.port.to_string();
        let mut args = loopback_args(&port);
        if let Some(p) = &self.password {
            args.extend(["--requirepass", p]);
        }
        let dir = self.dir.as_ref().map(|d| d.to_string_lossy().into_owned());
        if let Some(d) = &dir {
            args.extend(["--dir", d]);
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        self.child = Some(child);
        let mut last = None;
        for _ in 0..200 {
            match self.connection().await {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not start on port {}: {last:?}", self.port);
    }

    /// Kill the server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A server that keeps its data across [`Self::stop_saving`] and [`Self::start_again`].
    pub async fn start_persistent() -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("rust-echo-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut server = RedisServer {
            child: None,
            port,
            password: None,
            dir: Some(dir),
        };
        server.spawn().await;
        server
    }

    /// `SHUTDOWN SAVE`: write the data and exit, as a restart for maintenance does.
    pub async fn stop_saving(&mut self) {
        if let Ok(mut con) = self.connection().await {
            let _ = redis::cmd("SHUTDOWN")
                .arg("SAVE")
                .query_async::<()>(&mut con)
                .await;
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Start on the same port (with the data saved, for a persistent server).
    pub async fn start_again(&mut self) {
        self.spawn().await;
    }

    /// Start again on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let auth = self
            .password
            .as_deref()
            .map(|p| format!(":{p}@"))
            .unwrap_or_default();
        let client = redis::Client::open(format!("redis://{auth}127.0.0.1:{}/", self.port))?;
        client.get_multiplexed_async_connection().await
    }

    /// PUBLISH and return how many subscribers received it.
    pub async fn publish(&self, channel: &str, payload: &str) -> i64 {
        let mut con = self.connection().await.expect("redis connection");
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut con)
            .await
            .expect("publish")
    }

    /// PUBLISH each `(channel, payload)` in one pipeline, so that subscribers receive them
    /// together, as a burst.
    pub async fn publish_burst(&self, messages: &[(String, String)]) {
        let mut con = self.connection().await.expect("redis connection");
        let mut pipe = redis::pipe();
        for (channel, payload) in messages {
            pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
        }
        pipe.query_async::<()>(&mut con).await.expect("publish");
    }
}

impl RedisServer {
    /// Whether `key` exists in database `db`.
    pub async fn exists(&self, db: i64, key: &str) -> bool {
        let mut con = self.connection_to(db).await;
        redis::cmd("EXISTS")
            .arg(key)
            .query_async::<i64>(&mut con)
            .await
            .expect("exists")
            == 1
    }

    /// Runs each of `commands` (words of one command each) in database `db`, as any client of
    /// this Redis could.
    pub async fn run(&self, db: i64, commands: &[&[&str]]) {
        let mut con = self.connection_to(db).await;
        for words in commands {
            redis::cmd(words[0])
                .arg(&words[1..])
                .query_async::<redis::Value>(&mut con)
                .await
                .expect("command");
        }
    }

    /// A connection of its own with database `db` selected.
    async fn connection_to(&self, db: i64) -> redis::aio::MultiplexedConnection {
        let mut con = self.connection().await.expect("redis connection");
        redis::cmd("SELECT")
            .arg(db)
            .query_async::<()>(&mut con)
            .await
            .expect("select");
        con
    }

    /// How many commands Redis refused with `error` (e.g. `WRONGPASS`), from `INFO errorstats`.
    pub async fn errors(&self, error: &str) -> u64 {
        let mut con = self.connection().await.expect("redis connection");
        let info: String = redis::cmd("INFO")
            .arg("errorstats")
            .query_async(&mut con)
            .await
            .expect("info");
        let prefix = format!("errorstat_{error}:count=");
        info.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or(0, |n| n.trim().parse().expect("count"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A redis-server on loopback port `port`, persisting nothing.
pub fn loopback_args(port: &str) -> Vec<&str> {
    vec![
        "--port",
        port,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
