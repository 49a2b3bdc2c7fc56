//! Hostile input for a while, all at once: connections writing random bytes, WebSocket sessions
//! sending malformed Engine.IO and Socket.IO packets, sessions that never send the Socket.IO
//! CONNECT, and slowloris requests that dribble a header byte a second. `/health` is asked every
//! 200 ms throughout and must answer each time within 2 s; the server must not crash, and
//! afterwards a real client must still get an event.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use echo_bench::fleet::{Eio, Fleet};
use echo_bench::ws::Ws;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::figures::Figures;
use crate::harness::{self, Env, Rng, Server};

const RANDOM_CONNS: usize = 10;
const MALFORMED_CONNS: usize = 10;
const CONNECTLESS: usize = 500;
const SLOWLORIS: usize = 100;

/// Packets that decode badly at some layer.
const MALFORMED: &[&str] = &[
    "",
    "4",
    "42",
    "42[",
    "42[]",
    "42{}",
    "42[\"subscribe\"]",
    "42[\"subscribe\",null]",
    "42[\"subscribe\",{\"channel\":5}]",
    "42[\"subscribe\",{\"channel\":\"private-x\",\"auth\":7}]",
    "42[\"unsubscribe\",{\"channel\":[]}]",
    "42[\"client-x\",{\"channel\":\"a\",\"data\":1e999}]",
    "41",
    "40/nope,",
    "43",
    "44[1]",
    "45-[\"x\"]",
    "451-[\"a\",{\"_placeholder\":true,\"num\":9}]",
    "2probe",
    "5",
    "6",
    "9",
    "0{}",
    "1",
    "3",
    "42[\"\\ud800\"]",
    "42999999999999999999999[\"a\"]",
];

#[derive(Default)]
struct Counts {
    random: AtomicU64,
    malformed: AtomicU64,
    connectless: AtomicU64,
    slowloris: AtomicU64,
}

pub async fn run(env: &Env, figs: &mut Figures, length: Duration) -> Result<(), String> {
    let mut server = Server::start(env, "garbage", |c| c["maxConnections"] = json!(1_000)).await?;
    let counts = Arc::new(Counts::default());
    let stop = Instant::now() + length;
    let tasks = attack(server.addr, stop, &counts);
    let health = watch_health(server.addr, stop).await;
    for t in tasks {
        let _ = t.await;
    }
    counts.put(figs);
    figs.put("garbage.health_asked", health.asked);
    figs.check(
        "garbage.health_failed",
        health.failed,
        health.failed == 0,
        "0",
    );
    figs.put("garbage.health_slowest_ms", health.slowest_ms);
    // One client must not be able to flood the log (issue 11, B.9): reported, not checked here.
    figs.put("garbage.server_log_kib", server.log_bytes() / 1024);
    let crashed = u8::from(!server.running());
    figs.check("garbage.crashes", crashed, crashed == 0, "0");
    let works = crashed == 0
        && still_delivers(&server)
            .await
            .inspect_err(|e| eprintln!("garbage: no delivery afterwards: {e}"))
            .is_ok();
    figs.check("garbage.delivers_afterwards", u8::from(works), works, "1");
    Ok(())
}

impl Counts {
    fn put(&self, figs: &mut Figures) {
        figs.put("garbage.random_byte_connections", self.random.load(Relaxed));
        figs.put("garbage.malformed_packets", self.malformed.load(Relaxed));
        figs.put(
            "garbage.connectless_sessions",
            self.connectless.load(Relaxed),
        );
        figs.put(
            "garbage.slowloris_connections",
            self.slowloris.load(Relaxed),
        );
    }
}

/// Every kind of hostile client, each on its own task until `stop`.
fn attack(addr: SocketAddr, stop: Instant, counts: &Arc<Counts>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    tasks.extend(spawn_n(RANDOM_CONNS, |i| {
        random_bytes(addr, stop, i, counts.clone())
    }));
    tasks.extend(spawn_n(MALFORMED_CONNS, |i| {
        malformed(addr, stop, i, counts.clone())
    }));
    tasks.extend(spawn_n(1, |_| connectless(addr, stop, counts.clone())));
    tasks.extend(spawn_n(SLOWLORIS, |_| {
        slowloris(addr, stop, counts.clone())
    }));
    tasks
}

/// `n` tasks, the i-th running `task(i)`.
fn spawn_n<F>(n: usize, task: impl Fn(u64) -> F) -> Vec<JoinHandle<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    (0..n as u64).map(|i| tokio::spawn(task(i))).collect()
}

/// How `/health` answered while under attack.
#[derive(Default)]
struct Health {
    asked: u64,
    failed: u64,
    slowest_ms: u128,
}

/// Ask `/health` every 200 ms until `stop`; an answer other than 200 within 2 s is a failure.
async fn watch_health(addr: SocketAddr, stop: Instant) -> Health {
    let mut h = Health::default();
    while Instant::now() < stop {
        let t = Instant::now();
        h.asked += 1;
        match echo_bench::http::get_text(addr, "/health", Duration::from_secs(2)).await {
            Ok((200, _)) => h.slowest_ms = h.slowest_ms.max(t.elapsed().as_millis()),
            _ => h.failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h
}

async fn random_bytes(addr: SocketAddr, stop: Instant, seed: u64, counts: Arc<Counts>) {
    let mut rng = Rng::new(seed + 17);
    while Instant::now() < stop {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        counts.random.fetch_add(1, Relaxed);
        // Sometimes a plausible request line first, so the bytes reach deeper.
        if rng.below(2) == 0 {
            let _ = s
                .write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n")
                .await;
        }
        let n = 1 + rng.below(4096) as usize;
        let _ = s.write_all(&rng.bytes(n)).await;
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(200), s.read(&mut sink)).await;
    }
}

async fn malformed(addr: SocketAddr, stop: Instant, seed: u64, counts: Arc<Counts>) {
    let mut rng = Rng::new(seed + 101);
    while Instant::now() < stop {
        let eio = if rng.below(2) == 0 { 3 } else { 4 };
        let path = format!("/socket.io/?EIO={eio}&transport=websocket");
        let Ok(mut ws) = Ws::connect(addr, None, &path).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        for _ in 0..200 {
            let sent = match rng.below(4) {
                0 => {
                    let n = 1 + rng.below(512) as usize;
                    ws.send(0x2, &rng.bytes(n)).await
                }
                1 => {
                    let mut p = MALFORMED[rng.below(MALFORMED.len() as u64) as usize]
                        .as_bytes()
                        .to_vec();
                    let n = rng.below(8) as usize;
                    p.extend(rng.bytes(n).iter().map(|b| b'!' + b % 90));
                    ws.send(0x1, &p).await
                }
                2 => {
                    let depth = 1 + rng.below(200) as usize;
                    let nested = format!(
                        "42[\"subscribe\",{}{}]",
                        "[".repeat(depth),
                        "]".repeat(depth)
                    );
                    ws.send_text(&nested).await
                }
                _ => {
                    ws.send_text(MALFORMED[rng.below(MALFORMED.len() as u64) as usize])
                        .await
                }
            };
            if sent.is_err() {
                break;
            }
            counts.malformed.fetch_add(1, Relaxed);
            while let Ok(Some((_, r))) = ws.frame() {
                ws.consume(r.end);
            }
        }
        let _ = tokio::time::timeout(Duration::from_millis(10), ws.fill()).await;
    }
}

/// Engine.IO 4 sessions that never send `40`, held open; reopened as the server closes them.
async fn connectless(addr: SocketAddr, stop: Instant, counts: Arc<Counts>) {
    let mut held = Vec::new();
    while Instant::now() < stop {
        if held.len() < CONNECTLESS {
            if let Ok(ws) = Ws::connect(addr, None, "/socket.io/?EIO=4&transport=websocket").await {
                counts.connectless.fetch_add(1, Relaxed);
                held.push(ws);
            }
            continue;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Drop the ones the server closed, so they are opened again.
        let mut alive = Vec::with_capacity(held.len());
        for mut ws in held.drain(..) {
            match tokio::time::timeout(Duration::from_millis(1), ws.fill()).await {
                Ok(Ok(0) | Err(_)) => {}
                _ => alive.push(ws),
            }
        }
        held = alive;
    }
}

/// A request header dribbled one byte a second.
async fn slowloris(addr: SocketAddr, stop: Instant, counts: Arc<Counts>) {
    let head = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    while Instant::now() < stop {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        counts.slowloris.fetch_add(1, Relaxed);
        for b in head.iter().cycle() {
            if Instant::now() >= stop || s.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn still_delivers(server: &Server) -> Result<(), String> {
    // The CONNECT-less sessions the attack left hold `maxConnections` until the server closes
    // them (5 s without a CONNECT): a handshake gets 503 until then.
    let deadline = Instant::now() + Duration::from_secs(10);
    let fleet = loop {
        match Fleet::connect(server.addr, 1, Eio::V3).await {
            Ok(fleet) => break fleet,
            Err(e) if Instant::now() < deadline && e.contains("503") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    };
    harness::subscribe(
        &fleet,
        &[("rel-after".to_owned(), 0)],
        Duration::from_secs(5),
    )
    .await?;
    server
        .wait_subscribers("rel-after", 1, Duration::from_secs(5))
        .await?;
    let body = r#"{"channel":"rel-after","name":"E","data":{"c":0,"s":0,"t":0,"w":0}}"#;
    let req = format!(
        "POST /apps/rel/events?auth_key=rel HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(server.addr)
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    crate::publishers::wait_delivered(&fleet.shared, 1, Duration::from_secs(5)).await
}
