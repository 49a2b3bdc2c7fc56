//! Pusher-protocol fan-out, rust-echo beside Laravel Reverb (`php artisan reverb:start` in the
//! Laravel 11 test app): N raw Pusher clients in one public channel, M events published through
//! the signed HTTP API in batches of 10 (Pusher's limit), one after the other. Throughput is
//! deliveries per second from the first publish until every client holds every event. Prints a
//! table and `ratio pusher_fanout_throughput_x_reverb`.
//!
//! Reverb runs on ReactPHP's `stream_select` loop here: ext-uv and ext-event are not in Debian,
//! and `select(2)` handles at most 1,024 descriptors, so Reverb's ceiling is about 1,000
//! connections; the default run stays below it.
//!
//! Usage: `pusher-fanout [--clients N] [--events M]` from the repository root, after
//! `cargo build --release` and `scripts/setup-laravel11.sh app`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use echo_bench::procs::Proc;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const ID: &str = "bench-id";
const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret";
const BATCH: usize = 10;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (clients, events) = (opt("--clients", 500), opt("--events", 200));
    echo_bench::sys::raise_nofile(8_192);
    let root = std::env::current_dir().unwrap_or_default();
    let out = root.join("bench/output/pusher");
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("{}: {e}", out.display());
        return std::process::ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(both(&root, &out, clients, events)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pusher fan-out: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn both(root: &Path, out: &Path, clients: usize, events: usize) -> Result<(), String> {
    println!("Pusher fan-out: {clients} clients, {events} events (deliveries/s)");
    let echo = {
        let (proc, addr) = start_rust_echo(root, out)?;
        let r = fanout(addr, clients, events).await;
        drop(proc);
        r?
    };
    println!("  rust-echo  {echo:>12.0}");
    let laravel = root.join(".build/laravel11-app");
    if !laravel.join("vendor/laravel/reverb").exists() {
        return Err(
            "the Laravel 11 app with Reverb is not installed (scripts/setup-laravel11.sh app)"
                .into(),
        );
    }
    let reverb = {
        let (proc, addr) = start_reverb(&laravel, out)?;
        wait_listening(addr).await?;
        let r = fanout(addr, clients, events).await;
        drop(proc);
        r?
    };
    println!("  Reverb     {reverb:>12.0}  (stream_select: at most ~1,000 connections)");
    println!(
        "ratio pusher_fanout_throughput_x_reverb {:.2}",
        echo / reverb
    );
    Ok(())
}

fn start_rust_echo(root: &Path, out: &Path) -> Result<(Proc, SocketAddr), String> {
    let port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let dir = out.join("rust-echo");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = serde_json::json!({
        "host": "127.0.0.1", "port": port, "devMode": false,
        "subscribers": {"http": true, "redis": false}, "metrics": {"enabled": false},
        "apps": [{"id": ID, "key": KEY, "secret": SECRET}],
        "shm": {"enabled": false}
    });
    let file = dir.join("laravel-echo-server.json");
    std::fs::write(&file, config.to_string()).map_err(|e| e.to_string())?;
    let bin: PathBuf = root.join("target/release/rust-echo");
    let (bin, d) = (
        bin.to_string_lossy().into_owned(),
        dir.to_string_lossy().into_owned(),
    );
    let mut p = Proc::spawn(
        "pusher-rust-echo",
        &bin,
        &["start", "--dir", &d],
        &dir,
        out,
        None,
        &[("RUST_LOG", "warn")],
    )?;
    p.wait_for_log("Server ready!", Duration::from_secs(20))?;
    Ok((p, SocketAddr::from(([127, 0, 0, 1], port))))
}

fn start_reverb(laravel: &Path, out: &Path) -> Result<(Proc, SocketAddr), String> {
    let port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let port_arg = format!("--port={port}");
    let env = [
        ("REVERB_APP_ID", ID),
        ("REVERB_APP_KEY", KEY),
        ("REVERB_APP_SECRET", SECRET),
    ];
    let p = Proc::spawn(
        "pusher-reverb",
        "php",
        &["artisan", "reverb:start", "--host=127.0.0.1", &port_arg],
        laravel,
        out,
        None,
        &env,
    )?;
    Ok((p, SocketAddr::from(([127, 0, 0, 1], port))))
}

async fn wait_listening(addr: SocketAddr) -> Result<(), String> {
    for _ in 0..400 {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("nothing listens on {addr}"))
}

/// Connect and subscribe `clients`, publish `events`, and return deliveries per second.
async fn fanout(addr: SocketAddr, clients: usize, events: usize) -> Result<f64, String> {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Result<(), String>>(clients);
    for chunk in (0..clients).collect::<Vec<_>>().chunks(100) {
        let mut ready = Vec::new();
        for _ in chunk {
            ready.push(client(addr, events, done_tx.clone()));
        }
        for r in futures_util::future::join_all(ready).await {
            r?;
        }
    }
    let start = Instant::now();
    let mut sent = 0;
    while sent < events {
        let n = BATCH.min(events - sent);
        let batch: Vec<_> = (sent..sent + n)
            .map(|i| serde_json::json!({"name": "Bench", "channel": "bench", "data": format!("{{\"seq\":{i}}}")}))
            .collect();
        publish(addr, &serde_json::json!({ "batch": batch }).to_string()).await?;
        sent += n;
    }
    for _ in 0..clients {
        match tokio::time::timeout(Duration::from_secs(120), done_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => return Err(e),
            _ => return Err("not every client got every event within 120 s".into()),
        }
    }
    Ok((clients * events) as f64 / start.elapsed().as_secs_f64())
}

/// A subscribed client; a task then counts its events and reports once it has all of them.
async fn client(
    addr: SocketAddr,
    events: usize,
    done: tokio::sync::mpsc::Sender<Result<(), String>>,
) -> Result<(), String> {
    let url = format!("ws://{addr}/app/{KEY}?protocol=7&client=js&version=8.4.0");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    let subscribe = r#"{"event":"pusher:subscribe","data":{"channel":"bench"}}"#;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("subscription_succeeded") => break,
            Some(Ok(Message::Text(t))) if t.contains("connection_established") => {
                ws.send(Message::Text(subscribe.into()))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Some(Ok(_)) => {}
            other => return Err(format!("subscribe: {other:?}")),
        }
    }
    tokio::spawn(async move {
        let mut got = 0;
        while got < events {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.contains("\"Bench\"") => got += 1,
                Some(Ok(_)) => {}
                other => {
                    let _ = done
                        .send(Err(format!("after {got} events: {other:?}")))
                        .await;
                    return;
                }
            }
        }
        let _ = done.send(Ok(())).await;
    });
    Ok(())
}

/// `POST /apps/{id}/batch_events`, signed.
async fn publish(addr: SocketAddr, body: &str) -> Result<(), String> {
    let path = format!("/apps/{ID}/batch_events");
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let md5 = hex::encode(Md5::digest(body.as_bytes()));
    let query = format!("auth_key={KEY}&auth_timestamp={ts}&auth_version=1.0&body_md5={md5}");
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(format!("POST\n{path}\n{query}").as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let request = format!(
        "POST {path}?{query}&auth_signature={signature} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    s.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer);
    // Reverb answers HTTP/1.0.
    if answer.starts_with("HTTP/1.") && answer.get(9..12) == Some("200") {
        Ok(())
    } else {
        Err(format!(
            "publish: {}",
            answer.lines().next().unwrap_or_default()
        ))
    }
}
