//! `adapter-node --port P --redis-port R [--ingress CHANNEL]`: a Socket.IO server on socketioxide
//! with the socketioxide-redis 0.4 adapter, the off-the-shelf alternative to rust-echo's own
//! cluster relay (docs/adr/0009). It speaks laravel-echo-server's `subscribe` (joins the room the
//! channel names; no auth), and with `--ingress` SUBSCRIBEs to CHANNEL on Redis and emits each
//! Laravel payload to that room through the adapter, which reaches the other nodes' sockets.
//! Prints `ready` once it serves; at exit (SIGTERM), its emits: how many, failed, mean time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use echo_bench::laravel::Payload;
use futures_util::StreamExt;
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Data, SocketRef};
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};

/// What the ingress did, printed at exit.
#[derive(Default)]
struct Stats {
    emits: AtomicU64,
    failed: AtomicU64,
    emit_ns: AtomicU64,
}

#[derive(Deserialize)]
struct Subscribe {
    channel: String,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>) {
    socket.on("subscribe", on_subscribe);
}

async fn on_subscribe<A: Adapter>(socket: SocketRef<A>, Data(sub): Data<Subscribe>) {
    socket.join(sub.channel);
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: Option<u16> = arg("--port").and_then(|p| p.parse().ok());
    let redis_port: Option<u16> = arg("--redis-port").and_then(|p| p.parse().ok());
    let (Some(port), Some(redis_port)) = (port, redis_port) else {
        eprintln!("usage: adapter-node --port P --redis-port R [--ingress CHANNEL]");
        std::process::exit(2);
    };
    // The adapter's drivers speak RESP3.
    let client = redis::Client::open(format!("redis://127.0.0.1:{redis_port}/?protocol=resp3"))?;
    let adapter = RedisAdapterCtr::new_with_redis(&client).await?;
    let (layer, io) = SocketIo::builder()
        .with_adapter::<RedisAdapter<_>>(adapter)
        .build_layer();
    io.ns("/", on_connect).await?;
    let stats = Arc::new(Stats::default());
    if let Some(channel) = arg("--ingress") {
        let ingress = redis::Client::open(format!("redis://127.0.0.1:{redis_port}/"))?;
        let mut pubsub = ingress.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let (io, stats) = (io.clone(), stats.clone());
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let Ok(p) = serde_json::from_slice::<Payload<'_>>(msg.get_payload_bytes()) else {
                    continue;
                };
                let Ok(event) = serde_json::from_str::<String>(p.event.get()) else {
                    continue;
                };
                // One at a time: the adapter keeps the order of what one node emits.
                let started = std::time::Instant::now();
                let sent = io
                    .to(channel.clone())
                    .emit(&event, &(&channel, p.data))
                    .await;
                let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                stats.emit_ns.fetch_add(took, Ordering::Relaxed);
                stats.emits.fetch_add(1, Ordering::Relaxed);
                if sent.is_err() {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = async move {
        term.recv().await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    let emits = stats.emits.load(Ordering::Relaxed);
    eprintln!(
        "emits: {emits}, failed: {}, mean {:.1} µs each",
        stats.failed.load(Ordering::Relaxed),
        stats.emit_ns.load(Ordering::Relaxed) as f64 / emits.max(1) as f64 / 1_000.0
    );
    Ok(())
}
