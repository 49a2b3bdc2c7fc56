//! One Socket.IO client over WebSocket (Engine.IO 3 as socket.io-client 2.x, or Engine.IO 4 as
//! socket.io-client 3.x/4.x) running as its own task: it subscribes on command, answers
//! heartbeats, and checks every benchmark message it receives — one count per channel, in
//! sequence — recording the latency from the publisher's timestamp.
//!
//! Benchmark messages carry `{"c":CHANNEL,"s":SEQUENCE,"t":NANOS,"w":WARMUP}` as their data;
//! the timestamp is [`now_ns`] in this process, so publisher and clients share one clock.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::ws::{CLOSE, PING, TEXT, Ws};

/// Nanoseconds on this process's monotonic clock (the payload timestamp).
pub fn now_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Counters all clients of a run share.
#[derive(Debug, Default)]
pub struct Shared {
    /// Measured (non-warm-up) messages delivered to any client.
    pub delivered: AtomicU64,
    /// Channel subscriptions that have seen their first warm-up message.
    pub synced: AtomicU64,
    /// Warm-up messages delivered to any client (every one, not only the first per channel).
    pub warm_ups: AtomicU64,
    /// [`now_ns`] at the latest measured delivery.
    pub last_delivery_ns: AtomicU64,
    /// Clients whose connection failed after the handshake.
    pub failed: AtomicU64,
    /// The first such failure.
    pub first_error: Mutex<Option<String>>,
    /// Skip recording latencies (runs of tens of millions of deliveries whose publishers do
    /// not stamp messages).
    pub no_latencies: std::sync::atomic::AtomicBool,
    /// Each client's own count of measured deliveries, so a publisher can pace by the slowest.
    per_client: Mutex<Vec<std::sync::Arc<AtomicU64>>>,
    wake_at: AtomicU64,
    notify: Notify,
}

impl Shared {
    fn add_delivered(&self, n: u64, at_ns: u64) {
        self.last_delivery_ns.fetch_max(at_ns, Relaxed);
        let now = self.delivered.fetch_add(n, Relaxed) + n;
        if now >= self.wake_at.load(Relaxed) {
            self.notify.notify_one();
        }
    }

    /// Wait until `delivered` reaches `target`. Gives up when it makes no progress for
    /// `stall`, returning the count reached.
    pub async fn wait_delivered(&self, target: u64, stall: Duration) -> Result<(), u64> {
        let mut last = u64::MAX;
        loop {
            self.wake_at.store(target, Relaxed);
            let notified = self.notify.notified();
            let now = self.delivered.load(Relaxed);
            if now >= target {
                return Ok(());
            }
            if tokio::time::timeout(stall, notified).await.is_err() {
                let now = self.delivered.load(Relaxed);
                if now == last {
                    return Err(now);
                }
                last = now;
            }
        }
    }

    /// A counter for one more client.
    fn register(&self) -> std::sync::Arc<AtomicU64> {
        let mine = std::sync::Arc::new(AtomicU64::new(0));
        let mut all = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        all.push(mine.clone());
        mine
    }

    /// Measured deliveries to the client that has received the fewest (0 with no clients).
    pub fn slowest(&self) -> u64 {
        let all = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().map(|c| c.load(Relaxed)).min().unwrap_or(0)
    }

    fn fail(&self, error: String) {
        self.failed.fetch_add(1, Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(error);
    }
}

/// What a client reports (and resets) at the end of a phase.
#[derive(Debug, Default)]
pub struct Report {
    /// Measured messages received.
    pub received: u64,
    /// Messages skipped over: a later sequence number arrived first.
    pub gaps: u64,
    /// Messages at or below a sequence number already seen (duplicates or reordering).
    pub behind: u64,
    /// Messages for a channel this client did not subscribe to.
    pub foreign: u64,
    /// `subscription_error` replies to subscriptions that expected none.
    pub refused: u64,
    /// Latency of each measured message in microseconds.
    pub latencies_us: Vec<u32>,
}

/// A subscription request.
#[derive(Debug)]
pub struct Sub {
    /// Channel name.
    pub channel: String,
    /// Its number in benchmark messages.
    pub id: u32,
    /// The user the auth endpoint should answer for (sent as the `X-User` auth header).
    pub user: Option<u64>,
    /// The first sequence number expected, when the publisher has published nothing on the
    /// channel yet; `None`: the first warm-up message sets it.
    pub start: Option<u64>,
}

/// Commands from the coordinator.
#[derive(Debug)]
pub enum Cmd {
    /// Subscribe; `ack` resolves on `presence:subscribed` for presence channels and when the
    /// packet is sent otherwise, or with the status of a `subscription_error`.
    Subscribe(Sub, oneshot::Sender<Result<(), String>>),
    /// Hand over the counters and latencies gathered so far and start afresh.
    Report(oneshot::Sender<Report>),
}

struct Chan {
    id: u32,
    next: u64,
    synced: bool,
}

/// Connect and open a Socket.IO session, then run the client on its own task (on the runtime
/// this is called on). Only a `probe` records latencies.
pub async fn spawn(
    server: SocketAddr,
    source: Option<IpAddr>,
    eio: u8,
    shared: std::sync::Arc<Shared>,
    probe: bool,
) -> std::io::Result<mpsc::UnboundedSender<Cmd>> {
    let query = format!("/socket.io/?EIO={eio}&transport=websocket");
    let mut ws = Ws::connect(server, source, &query).await?;
    let ping = open(&mut ws, eio).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let mine = shared.register();
    tokio::spawn(async move {
        if let Err(e) = run(ws, eio, ping, rx, &shared, &mine, probe).await {
            shared.fail(e.to_string());
        }
    });
    Ok(tx)
}

/// The Engine.IO open packet and the Socket.IO CONNECT exchange; returns the ping interval.
async fn open(ws: &mut Ws, eio: u8) -> std::io::Result<Duration> {
    let open = next_text(ws).await?;
    let body = open
        .strip_prefix('0')
        .ok_or_else(|| std::io::Error::other(format!("expected the open packet, got {open}")))?;
    let v: Value = serde_json::from_str(body).map_err(std::io::Error::other)?;
    let ping = Duration::from_millis(v["pingInterval"].as_u64().unwrap_or(25_000));
    if eio == 4 {
        ws.send_text("40").await?;
    }
    loop {
        let t = next_text(ws).await?;
        if t.starts_with("40") {
            return Ok(ping);
        }
        if t == "2" {
            ws.send_text("3").await?;
        }
    }
}

async fn next_text(ws: &mut Ws) -> std::io::Result<String> {
    loop {
        if let Some((op, range)) = ws.frame()? {
            let end = range.end;
            let text = String::from_utf8_lossy(&ws.bytes()[range]).into_owned();
            ws.consume(end);
            if op == TEXT {
                return Ok(text);
            }
            continue;
        }
        let read = tokio::time::timeout(Duration::from_secs(20), ws.fill())
            .await
            .map_err(|_| std::io::Error::other("no open packet within 20 s"))??;
        if read == 0 {
            return Err(std::io::Error::other(
                "closed during the Socket.IO handshake",
            ));
        }
    }
}

struct State {
    chans: Vec<Chan>,
    pending: Vec<(String, oneshot::Sender<Result<(), String>>)>,
    report: Report,
    /// Whether this client records latencies.
    probe: bool,
}

async fn run(
    mut ws: Ws,
    eio: u8,
    ping: Duration,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    shared: &Shared,
    mine: &AtomicU64,
    probe: bool,
) -> std::io::Result<()> {
    let mut st = State {
        chans: Vec::new(),
        pending: Vec::new(),
        report: Report::default(),
        probe,
    };
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + ping, ping);
    loop {
        let mut counted = 0;
        let mut last_ns = 0;
        let mut pong = false;
        let mut ping_payload = None;
        while let Some((op, range)) = ws.frame()? {
            let end = range.end;
            let payload = &ws.bytes()[range];
            match op {
                TEXT => match on_text(payload, &mut st, shared) {
                    Seen::Counted(at) => {
                        counted += 1;
                        last_ns = at;
                    }
                    Seen::Ping => pong = true,
                    Seen::Other => {}
                    Seen::Closed => return Ok(()),
                },
                PING => ping_payload = Some(payload.to_vec()),
                CLOSE => return Ok(()),
                _ => {}
            }
            ws.consume(end);
        }
        if counted > 0 {
            mine.fetch_add(counted, Relaxed);
            shared.add_delivered(counted, last_ns);
        }
        if pong {
            ws.send_text("3").await?;
        }
        if let Some(p) = ping_payload {
            ws.send(0xA, &p).await?;
        }
        tokio::select! {
            biased;
            cmd = rx.recv() => match cmd {
                None => return Ok(()),
                Some(Cmd::Report(reply)) => {
                    let _ = reply.send(std::mem::take(&mut st.report));
                }
                Some(Cmd::Subscribe(sub, ack)) => subscribe(&mut ws, &mut st, sub, ack).await?,
            },
            read = ws.fill() => {
                if read? == 0 {
                    return Err(std::io::Error::other("the server closed the connection"));
                }
            }
            _ = heartbeat.tick(), if eio == 3 => ws.send_text("2").await?,
        }
    }
}

async fn subscribe(
    ws: &mut Ws,
    st: &mut State,
    sub: Sub,
    ack: oneshot::Sender<Result<(), String>>,
) -> std::io::Result<()> {
    let auth = match sub.user {
        Some(u) => serde_json::json!({ "headers": { "X-User": u.to_string() } }),
        None => serde_json::json!({ "headers": {} }),
    };
    let packet = serde_json::json!(["subscribe", { "channel": sub.channel, "auth": auth }]);
    ws.send_text(&format!("42{packet}")).await?;
    st.chans.push(Chan {
        id: sub.id,
        next: sub.start.unwrap_or(0),
        synced: sub.start.is_some(),
    });
    if sub.channel.starts_with("presence-") {
        st.pending.push((sub.channel, ack));
    } else {
        let _ = ack.send(Ok(()));
    }
    Ok(())
}

enum Seen {
    Counted(u64),
    Ping,
    Other,
    Closed,
}

fn on_text(payload: &[u8], st: &mut State, shared: &Shared) -> Seen {
    match payload {
        b"2" => return Seen::Ping,
        b"1" | b"41" => return Seen::Closed,
        _ if !payload.starts_with(b"42") => return Seen::Other,
        _ => {}
    }
    // The benchmark data is the packet's last object: `{"c":..,"s":..,"t":..,"w":..}]`.
    if let Some(at) = payload.iter().rposition(|&b| b == b'{')
        && let Some([c, s, t, w]) = fields(&payload[at..])
    {
        let now = now_ns();
        let Some(chan) = st.chans.iter_mut().find(|ch| u64::from(ch.id) == c) else {
            st.report.foreign += 1;
            return Seen::Other;
        };
        if w == 1 {
            shared.warm_ups.fetch_add(1, Relaxed);
            if !chan.synced {
                chan.synced = true;
                chan.next = s + 1;
                shared.synced.fetch_add(1, Relaxed);
            }
            return Seen::Other;
        }
        match s.cmp(&chan.next) {
            std::cmp::Ordering::Equal => chan.next += 1,
            std::cmp::Ordering::Greater => {
                st.report.gaps += s - chan.next;
                chan.next = s + 1;
            }
            std::cmp::Ordering::Less => st.report.behind += 1,
        }
        st.report.received += 1;
        if !st.probe || shared.no_latencies.load(Relaxed) {
            return Seen::Counted(now);
        }
        let us = now.saturating_sub(t) / 1_000;
        st.report
            .latencies_us
            .push(u32::try_from(us).unwrap_or(u32::MAX));
        return Seen::Counted(now);
    }
    control(&payload[2..], st);
    Seen::Other
}

/// Parse `{"c":N,"s":N,"t":N,"w":N}`.
fn fields(obj: &[u8]) -> Option<[u64; 4]> {
    let mut out = [0u64; 4];
    let mut rest = obj;
    for (i, key) in [&b"{\"c\":"[..], b",\"s\":", b",\"t\":", b",\"w\":"]
        .iter()
        .enumerate()
    {
        rest = rest.strip_prefix(*key)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        out[i] = rest[..digits]
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        rest = &rest[digits..];
    }
    rest.starts_with(b"}").then_some(out)
}

/// Replies to subscriptions: `presence:subscribed` and `subscription_error`.
fn control(json: &[u8], st: &mut State) {
    let Ok(Value::Array(args)) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let (Some(name), Some(channel)) = (
        args.first().and_then(Value::as_str),
        args.get(1).and_then(Value::as_str),
    ) else {
        return;
    };
    let result = match name {
        "presence:subscribed" => Ok(()),
        "subscription_error" => Err(format!(
            "subscription_error {} for {channel}",
            args.get(2).unwrap_or(&Value::Null)
        )),
        _ => return,
    };
    if let Some(i) = st.pending.iter().position(|(c, _)| c == channel) {
        let (_, ack) = st.pending.swap_remove(i);
        let _ = ack.send(result);
    } else if result.is_err() {
        st.report.refused += 1;
    }
}
