//! Resource exhaustion as an attacker or an overloaded host causes it: sessions that never
//! CONNECT, a process short of file descriptors, a reader that stops after a burst, a client
//! flooding undecodable packets. What is asserted is what a client or an operator observes:
//! HTTP answers, closed connections, events received, log lines, `/metrics`.
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::binary::Binary;
use common::{Client, TestServer, WAIT, eventually};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Frame;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The server closes a session that has not CONNECTed after this (5 s), plus the margin of the
/// reservation that counts it.
const CONNECT_LIMIT: Duration = Duration::from_secs(6);

/// Open an Engine.IO 4 WebSocket session and read its OPEN packet, without CONNECTing.
async fn open_session(addr: std::net::SocketAddr) -> Result<Ws, String> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    match ws.next().await {
        Some(Ok(Frame::Text(t))) if t.as_str().starts_with('0') => Ok(ws),
        other => Err(format!("no OPEN packet: {other:?}")),
    }
}

/// Open a session and CONNECT it.
async fn connected_session(addr: std::net::SocketAddr) -> Result<Ws, String> {
    let mut ws = open_session(addr).await?;
    ws.send(Frame::text("40"))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Frame::Text(t))) if t.as_str().starts_with("40") => return Ok(ws),
            // The first heartbeat may come first.
            Some(Ok(Frame::Text(t))) if t.as_str() == "2" => {
                ws.send(Frame::text("3")).await.map_err(|e| e.to_string())?;
            }
            other => return Err(format!("no CONNECT answer: {other:?}")),
        }
    }
}

/// Read until the server closes the connection or `within` passes; whether it closed.
async fn closed_within(ws: &mut Ws, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Frame::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Wait until `channel` has `n` subscribers (HTTP API).
async fn subscribers(base: &str, channel: &str, n: usize) {
    let url = format!("{base}/apps/app/channels/{channel}?auth_key=secret");
    let want = format!(r#""subscription_count":{n}"#);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let body = reqwest::get(&url).await.expect("api").text().await;
        if body.is_ok_and(|b| b.contains(&want)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel} never had {n} subscribers"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn handshake_status(client: &reqwest::Client, url: &str) -> u16 {
    client
        .get(url)
        .send()
        .await
        .expect("handshake answered")
        .status()
        .as_u16()
}

/// 1,000 Engine.IO handshakes that never CONNECT, against `maxConnections: 50`: no more than 50
/// sessions exist at any time, the rest are refused with 503, and `/health` answers throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_without_connect_count_against_max_connections() {
    let s = TestServer::start(|c| c.limits.max_connections = 50).await;
    let client = reqwest::Client::new();
    let url = format!("{}/socket.io/?EIO=4&transport=polling", s.url());
    let (mut admitted, mut refused) = (0, 0);
    for _ in 0..20 {
        let answers =
            futures_util::future::join_all((0..50).map(|_| handshake_status(&client, &url))).await;
        for status in answers {
            match status {
                200 => admitted += 1,
                503 => refused += 1,
                other => panic!("handshake answered {other}"),
            }
        }
        let stats = s.handle.stats();
        let sessions = stats.pending_sessions() + stats.connections();
        assert!(sessions <= 50, "{sessions} sessions with maxConnections 50");
        assert_eq!(s.get("/health").await.0, 200);
    }
    assert_eq!(admitted + refused, 1000);
    assert!(
        refused >= 500,
        "only {refused} of 1000 handshakes refused ({admitted} admitted)"
    );
    let metrics = s.handle.stats().prometheus();
    assert!(
        metrics.contains(&format!(
            r#"rust_echo_dropped_total{{reason="connection_limit"}} {refused}"#
        )),
        "{metrics}"
    );
}

/// A session that never CONNECTs holds its place only until the server closes it: the client
/// sees the connection closed, and the place is free again for a real client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_never_connects_is_closed_and_its_place_freed() {
    let s = TestServer::start(|c| c.limits.max_connections = 1).await;
    let mut idle = open_session(s.addr).await.expect("session opens");
    let client = reqwest::Client::new();
    let url = format!("{}/socket.io/?EIO=4&transport=polling", s.url());
    assert_eq!(
        handshake_status(&client, &url).await,
        503,
        "the CONNECT-less session counts"
    );
    assert!(
        closed_within(&mut idle, CONNECT_LIMIT + WAIT).await,
        "the server closes a session that never CONNECTs"
    );
    let mut freed = false;
    let deadline = tokio::time::Instant::now() + CONNECT_LIMIT + WAIT;
    while !freed && tokio::time::Instant::now() < deadline {
        freed = handshake_status(&client, &url).await == 200;
        if !freed {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert!(freed, "a new session is admitted once the idle one is gone");
    assert!(
        eventually(CONNECT_LIMIT + WAIT, || s.handle.stats().pending_sessions()
            == 0)
        .await,
        "the gauge of waiting sessions goes back to 0"
    );
}

/// With `ulimit -n 256` and `maxConnections` far above it, sessions stop short of the limit (503)
/// so that `/health` still answers; a flood of silent TCP connections that exhausts the
/// descriptors costs a handful of log lines, and `/health` answers again once they are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_short_of_descriptors_keeps_answering_health_and_does_not_flood_its_log() {
    let server = Binary::start(
        json!({
            "maxConnections": 1000,
            "subscribers": { "redis": false, "http": true },
            "shm": { "enabled": false },
        }),
        Some(256),
    );
    let (mut held, mut refused) = (Vec::new(), 0);
    for _ in 0..300 {
        match tokio::time::timeout(Duration::from_secs(3), connected_session(server.addr)).await {
            Ok(Ok(ws)) => held.push(ws),
            Ok(Err(_)) | Err(_) => refused += 1,
        }
    }
    assert!(held.len() >= 100, "only {} sessions held", held.len());
    assert!(refused > 0, "300 sessions cannot fit in 256 descriptors");
    let health = server.health().await;
    assert!(
        health.is_some(),
        "/health answers while {} sessions are held",
        held.len()
    );
    let connections = health.expect("answered")["connections"].as_u64();
    assert!(connections >= Some(held.len() as u64), "{connections:?}");

    // Silent connections take every descriptor left, so accept fails until the server closes
    // them (header timeout); the first one accepted is the first one closed.
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(
            tokio::net::TcpStream::connect(server.addr)
                .await
                .expect("connect (the backlog takes what accept cannot)"),
        );
    }
    let mut first = silent.remove(0);
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::io::AsyncReadExt::read(&mut first, &mut byte),
    )
    .await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the server closes a silent connection: {read:?}"
    );
    drop(silent);
    let mut answered = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !answered && tokio::time::Instant::now() < deadline {
        answered = server.health().await.is_some();
    }
    assert!(answered, "/health answers again");
    let log = server.log();
    let errors = log.lines().filter(|l| l.contains("ERROR")).count();
    assert!(errors <= 3, "{errors} ERROR lines:\n{log}");
    assert!(log.lines().count() <= 10, "the log floods:\n{log}");
    assert!(server.metric("rust_echo_accept_errors_total").await >= 1.0);
    drop(held);
}

/// A reader that stops after a short burst is disconnected once its writes have made no
/// progress for the stall time, although no broadcast overflows its (large) queue and no more
/// events come; the other client receives every event in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_after_a_burst_is_disconnected_without_more_events() {
    const EVENTS: usize = 100_000;
    let s = TestServer::start(|c| {
        c.limits.max_buffered_packets = 2 * EVENTS;
        // Only the watchdog may disconnect the stalled client (it answers no ping).
        c.socketio.ping_interval = Duration::from_secs(120);
        c.socketio.ping_timeout = Duration::from_secs(120);
    })
    .await;
    let mut stalled = s.client().await;
    let mut reader = s.client().await;
    stalled.subscribe("news").await;
    reader.subscribe("news").await;
    subscribers(&s.url(), "news", 2).await;
    let pad = "x".repeat(194);
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let reading = tokio::spawn(async move {
        for i in 0..EVENTS {
            let raw = reader.next_event_raw().await;
            assert_eq!(raw, format!(r#"["Ev","news","{i:06}{}"]"#, "x".repeat(194)));
            counter.store(i + 1, Ordering::Relaxed);
        }
        reader
    });
    for i in 0..EVENTS {
        s.publish("news", "Ev", &format!("\"{i:06}{pad}\""), None);
        if i == 10 {
            // The short burst the stalled client reads before it stops.
            for _ in 0..10 {
                stalled.next_event_raw().await;
            }
        }
        if i % 1000 == 999 {
            let caught_up = eventually(Duration::from_secs(30), || {
                received.load(Ordering::Relaxed) + 5_000 > i
            })
            .await;
            assert!(caught_up, "the reading client fell behind at {i}");
        }
    }
    let mut reader = reading.await.expect("the reader got every event in order");
    let dropped = eventually(Duration::from_secs(15), || {
        s.handle.stats().connections() == 1
    })
    .await;
    assert!(dropped, "the stalled client is still connected");
    assert_eq!(
        s.handle
            .stats()
            .drops(rust_echo_server::stats::DropReason::SlowReader),
        1,
        "the watchdog disconnected it"
    );
    assert!(stalled.closed().await, "its connection is closed");
    let (_, health) = s.get("/health").await;
    let health: serde_json::Value = serde_json::from_str(&health).expect("json");
    assert_eq!(health["connections"], 1);
    s.publish("news", "After", "1", None);
    assert_eq!(reader.next_event_raw().await, r#"["After","news",1]"#);
}

/// A client sending 10,000 packets nested past the parser's depth limit costs a handful of log
/// lines, is disconnected, is counted in `/metrics`, and another client is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_flooding_undecodable_packets_is_disconnected_and_the_log_stays_quiet() {
    let server = Binary::start(
        json!({
            "subscribers": { "redis": false, "http": true },
            "shm": { "enabled": false },
            "clients": [{ "appId": "app", "key": "secret" }],
        }),
        None,
    );
    let mut bystander = Client::connect(server.addr, 4).await;
    bystander.subscribe("news").await;
    subscribers(&format!("http://{}", server.addr), "news", 1).await;
    let http = reqwest::Client::new();

    let mut attacker = connected_session(server.addr).await.expect("connects");
    let frame = format!(r#"42["subscribe",{}{}]"#, "[".repeat(130), "]".repeat(130));
    let mut sent = 0;
    for _ in 0..10_000 {
        if attacker.send(Frame::text(frame.clone())).await.is_err() {
            break;
        }
        sent += 1;
    }
    assert!(
        closed_within(&mut attacker, WAIT).await,
        "the attacker is disconnected (sent {sent})"
    );
    let undecodable = r#"rust_echo_dropped_total{reason="undecodable_packet"}"#;
    assert!(server.metric(undecodable).await >= 10.0);
    assert!(server.metric("rust_echo_log_lines_suppressed_total").await >= 1.0);
    let log = server.log();
    assert!(log.lines().count() <= 5, "the log floods:\n{log}");

    let res = http
        .post(format!(
            "http://{}/apps/app/events?auth_key=secret",
            server.addr
        ))
        .body(r#"{"channel":"news","name":"Ev","data":1}"#)
        .send()
        .await
        .expect("publish");
    assert_eq!(res.status(), 200);
    assert_eq!(bystander.next_event_raw().await, r#"["Ev","news",1]"#);
}

/// A session that leaves the namespace (`41`) is not kept open, uncounted, for a later CONNECT:
/// the server closes its connection, and the place goes to the next client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_leaves_the_namespace_is_closed() {
    let s = TestServer::start(|c| c.limits.max_connections = 1).await;
    let mut left = connected_session(s.addr).await.expect("connects");
    left.send(Frame::text("41")).await.expect("send");
    assert!(
        closed_within(&mut left, WAIT).await,
        "the server closes a session that left its namespace"
    );
    assert!(eventually(WAIT, || s.handle.stats().connections() == 0).await);
    connected_session(s.addr)
        .await
        .expect("the next client takes the place");
}

/// Clients that each break the protocol once are disconnected and counted, one log line per
/// period for all of them: a flood of such connections cannot flood the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_are_counted_and_logged_once_per_period() {
    const CLIENTS: usize = 40;
    let server = Binary::start(
        json!({ "subscribers": { "redis": false }, "shm": { "enabled": false } }),
        None,
    );
    for _ in 0..CLIENTS {
        let mut ws = connected_session(server.addr).await.expect("connects");
        ws.send(Frame::text("42garbage")).await.expect("sends");
        assert!(closed_within(&mut ws, WAIT).await, "disconnected");
    }
    let violations = r#"rust_echo_disconnects_total{reason="packet_parsing"}"#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while server.metric(violations).await < CLIENTS as f64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            server.metrics().await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = server.log();
    let lines = log.matches("protocol violation").count();
    assert!((1..=2).contains(&lines), "{lines} lines:\n{log}");
}
