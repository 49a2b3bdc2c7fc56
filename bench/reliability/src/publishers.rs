//! Publishers of sequenced events for exact-delivery checks, one per channel: PHP over the
//! extension (in-process or ring), Redis `PUBLISH` pipelines, and pipelined HTTP API requests.
//! Each publishes in batches and waits between batches until the clients are at most a window
//! behind, so no socket's queue overflows: a loss the suite reports is the server's, not the
//! load's. Event data is `{"c":ID,"s":SEQUENCE,"t":0,"w":0}`, what `echo_bench::client` checks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use echo_bench::client::Shared;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::APP;
use crate::php::Php;

/// Events in flight to the slowest client at most. A socket queues 4,096 packets; each publisher
/// adds a batch before it waits again, so the window leaves room for every publisher's batch.
pub const WINDOW: u64 = 1_000;
/// Events per batch.
pub const BATCH: u64 = 100;
/// A run fails when deliveries make no progress for this long.
const STALL: Duration = Duration::from_secs(30);

/// Where a publisher's events go.
pub enum Sink {
    /// A PHP process running `publisher.php` (which numbers its own events).
    Php(Box<Php>),
    /// A Redis connection.
    Redis(redis::aio::MultiplexedConnection),
    /// A keep-alive connection to the HTTP API.
    Http(TcpStream, SocketAddr),
}

/// One publisher: its sink, channel and id.
pub struct Publisher {
    pub sink: Sink,
    pub channel: String,
    pub id: u32,
}

/// What the clients of a run have in common with its publishers.
pub struct Flow {
    pub shared: Arc<Shared>,
    /// `delivered` when the run started.
    pub base: u64,
    /// The slowest client's deliveries when the run started.
    pub slowest_base: u64,
    /// Events published by all publishers so far.
    pub published: AtomicU64,
}

impl Flow {
    /// Wait until the slowest client trails publishes by at most `WINDOW` events.
    async fn wait_window(&self) -> Result<(), String> {
        let owed = self.slowest_base + self.published.load(Relaxed).saturating_sub(WINDOW);
        wait_for(|| self.shared.slowest(), owed, STALL)
            .await
            .map_err(|e| format!("the slowest client: {e}"))
    }
}

/// Wait until `shared.delivered` reaches `target`, failing after `stall` without progress.
pub async fn wait_delivered(shared: &Shared, target: u64, stall: Duration) -> Result<(), String> {
    wait_for(|| shared.delivered.load(Relaxed), target, stall).await
}

/// Wait until `count()` reaches `target`, failing after `stall` without progress.
async fn wait_for(count: impl Fn() -> u64, target: u64, stall: Duration) -> Result<(), String> {
    let mut last = (count(), tokio::time::Instant::now());
    loop {
        let now = count();
        if now >= target {
            return Ok(());
        }
        if now != last.0 {
            last = (now, tokio::time::Instant::now());
        } else if last.1.elapsed() > stall {
            return Err(format!(
                "deliveries stuck at {now} of {target} for {stall:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

impl Publisher {
    /// Publish `count` events, batch by batch, keeping within the window.
    pub async fn run(mut self, count: u64, flow: Arc<Flow>) -> Result<Publisher, String> {
        let mut s = 0;
        while s < count {
            let n = BATCH.min(count - s);
            self.batch(s, n).await?;
            s += n;
            flow.published.fetch_add(n, Relaxed);
            flow.wait_window().await?;
        }
        if let Sink::Php(php) = &mut self.sink {
            php.expect("done", Duration::from_secs(30)).await?;
        }
        Ok(self)
    }

    async fn batch(&mut self, from: u64, n: u64) -> Result<(), String> {
        let id = self.id;
        let data = |s: u64| format!(r#"{{"c":{id},"s":{s},"t":0,"w":0}}"#);
        match &mut self.sink {
            Sink::Php(php) => {
                php.send("go").await?;
                php.expect("published", Duration::from_secs(60))
                    .await
                    .map(|_| ())
            }
            Sink::Redis(conn) => {
                let mut pipe = redis::pipe();
                for s in from..from + n {
                    let payload = format!(
                        r#"{{"event":"App\\Events\\Bench","data":{},"socket":null}}"#,
                        data(s)
                    );
                    pipe.cmd("PUBLISH").arg(&self.channel).arg(payload).ignore();
                }
                pipe.query_async::<()>(conn)
                    .await
                    .map_err(|e| format!("redis PUBLISH: {e}"))
            }
            Sink::Http(stream, addr) => {
                let mut out = Vec::with_capacity(256 * n as usize);
                for s in from..from + n {
                    let body = format!(
                        r#"{{"channel":"{}","name":"App\\Events\\Bench","data":{}}}"#,
                        self.channel,
                        data(s)
                    );
                    let head = format!(
                        "POST /apps/{APP}/events?auth_key={APP} HTTP/1.1\r\nHost: {addr}\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    out.extend_from_slice(head.as_bytes());
                    out.extend_from_slice(body.as_bytes());
                }
                stream
                    .write_all(&out)
                    .await
                    .map_err(|e| format!("HTTP API: {e}"))?;
                read_responses(stream, n).await
            }
        }
    }
}

/// Read `n` pipelined responses; any status but 200 is an error.
async fn read_responses(stream: &mut TcpStream, n: u64) -> Result<(), String> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut seen = 0;
    let mut at = 0;
    while seen < n {
        while let Some(end) = buf[at..].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[at..at + end]).to_ascii_lowercase();
            if !head.starts_with("http/1.1 200") {
                return Err(format!(
                    "HTTP API answered {}",
                    head.lines().next().unwrap_or("")
                ));
            }
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() < at + end + 4 + len {
                break;
            }
            at += end + 4 + len;
            seen += 1;
        }
        if seen >= n {
            break;
        }
        let read = tokio::time::timeout(STALL, stream.read_buf(&mut buf))
            .await
            .map_err(|_| "HTTP API: no response within 30 s".to_owned())?
            .map_err(|e| format!("HTTP API: {e}"))?;
        if read == 0 {
            return Err(format!(
                "HTTP API closed the connection after {seen} of {n} responses"
            ));
        }
    }
    Ok(())
}
