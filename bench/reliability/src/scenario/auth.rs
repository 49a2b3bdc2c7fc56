//! An auth endpoint that refuses, fails, hangs and lies, behind `authTimeout`: every presence
//! subscribe must end (`presence:subscribed` or `subscription_error`) within it. 150 hanging
//! requests outnumber `maxConcurrentAuth` (100), so queued subscribes are measured too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use echo_bench::client::{self, Cmd, Shared, Sub};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use crate::figures::Figures;
use crate::harness::{Env, Server};

const AUTH_TIMEOUT_MS: u64 = 2_000;
/// Scheduling slack on top of `authTimeout` for a subscribe to count as ended within it.
const SLACK_MS: u64 = 500;
const CLIENTS: usize = 50;
/// Each client's subscriptions: (mode, how many).
const MODES: [(&str, usize); 7] = [
    ("ok", 1),
    ("refuse", 1),
    ("fail", 1),
    ("hang", 3),
    ("partial", 1),
    ("garbage", 1),
    ("wrong", 1),
];

/// One presence subscribe: the stub's mode, when it was sent, and the answer to come.
type Wait = (&'static str, Instant, oneshot::Receiver<Result<(), String>>);
/// How one subscribe ended: its mode, ms until it ended (`None`: not within 3 × authTimeout),
/// whether it joined, and whether it was refused with 503 (no authorization slot freed in time).
type Ended = (&'static str, Option<u128>, bool, bool);

pub async fn run(env: &Env, figs: &mut Figures) -> Result<(), String> {
    let stub = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("http://{}", stub.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(serve(stub));
    let server = Server::start(env, "auth", |c| {
        c["authHost"] = json!(url);
        c["authTimeout"] = json!(AUTH_TIMEOUT_MS);
    })
    .await?;
    let (waits, clients) = subscribe(&server).await?;
    let results = timed(waits).await?;
    drop(clients);
    for (mode, _) in MODES {
        report(figs, mode, &results);
    }
    Ok(())
}

/// `CLIENTS` clients, each subscribing to its channels of every mode; the waits for the answers
/// and the clients (dropping a client's sender closes it).
async fn subscribe(server: &Server) -> Result<(Vec<Wait>, Vec<UnboundedSender<Cmd>>), String> {
    let shared = Arc::new(Shared::default());
    let (mut waits, mut clients) = (Vec::new(), Vec::new());
    for i in 0..CLIENTS {
        let tx = client::spawn(server.addr, None, 3, shared.clone(), false)
            .await
            .map_err(|e| e.to_string())?;
        for (mode, n) in MODES {
            for k in 0..n {
                let (ack, rx) = oneshot::channel();
                let channel = format!("presence-{mode}-{i}-{k}");
                let sub = Sub {
                    channel,
                    id: 0,
                    user: Some(i as u64 + 1),
                    start: Some(0),
                };
                tx.send(Cmd::Subscribe(sub, ack))
                    .map_err(|_| "client gone".to_owned())?;
                waits.push((mode, Instant::now(), rx));
            }
        }
        clients.push(tx);
    }
    Ok((waits, clients))
}

/// Each wait on its own task, so every answer is timed when it arrives.
async fn timed(waits: Vec<Wait>) -> Result<Vec<Ended>, String> {
    let deadline = Duration::from_millis(AUTH_TIMEOUT_MS * 3);
    let timers: Vec<_> = waits
        .into_iter()
        .map(|(mode, sent, rx)| {
            tokio::spawn(async move {
                match tokio::time::timeout(deadline, rx).await {
                    Ok(Ok(r)) => {
                        let busy = r
                            .as_ref()
                            .is_err_and(|e| e.starts_with("subscription_error 503 "));
                        (mode, Some(sent.elapsed().as_millis()), r.is_ok(), busy)
                    }
                    _ => (mode, None, false, false),
                }
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in timers {
        results.push(t.await.map_err(|e| e.to_string())?);
    }
    Ok(results)
}

/// The checks of one mode: every subscribe ended within authTimeout, and only `ok` joined —
/// each of its subscribes that got an authorization slot. With the slots held by hanging
/// requests for all of authTimeout, a queued subscribe is refused with 503 unsent (issue 11,
/// C.12): it cannot be answered within authTimeout otherwise.
fn report(figs: &mut Figures, mode: &str, results: &[Ended]) {
    let mine: Vec<_> = results.iter().filter(|r| r.0 == mode).collect();
    let unended = mine.iter().filter(|r| r.1.is_none()).count();
    let longest = mine.iter().filter_map(|r| r.1).max().unwrap_or(0);
    let joined = mine.iter().filter(|r| r.2).count();
    let name = format!("auth.{mode}");
    figs.check(&format!("{name}.not_ended"), unended, unended == 0, "0");
    let within = longest <= u128::from(AUTH_TIMEOUT_MS + SLACK_MS);
    figs.check(
        &format!("{name}.longest_ms"),
        longest,
        within,
        "≤ authTimeout (2000) + 500",
    );
    let busy = mine.iter().filter(|r| r.3).count();
    figs.put(&format!("{name}.busy_503"), busy);
    let want = if mode == "ok" { mine.len() - busy } else { 0 };
    figs.check(
        &format!("{name}.joined"),
        joined,
        joined == want,
        &want.to_string(),
    );
}

/// The stub: behaviour chosen by the channel name's second word.
async fn serve(listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(answer(stream));
    }
}

async fn answer(mut s: TcpStream) {
    let Some(body) = read_request(&mut s).await else {
        return;
    };
    let channel = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("channel_name="))
        .unwrap_or("")
        .to_owned();
    let mode = channel.split('-').nth(1).unwrap_or("");
    let reply: &[u8] = match mode {
        "ok" => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"channel_data\":{\"user_id\":1,\"user_info\":{\"a\":1}}}",
        "refuse" => b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        "fail" => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!",
        "partial" => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"channel_data\":",
        "garbage" => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n<html>not json</html>",
        "wrong" => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"channel_data\":\"5\"}",
        _ => b"",
    };
    let _ = s.write_all(reply).await;
    if matches!(mode, "hang" | "partial") {
        // Hold the connection open without another byte.
        tokio::time::sleep(Duration::from_secs(3_600)).await;
    }
}

async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Some(String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
            }
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
