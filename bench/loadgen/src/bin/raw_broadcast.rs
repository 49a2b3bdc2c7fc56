//! `raw-broadcast --port P --redis-port R`: a Socket.IO broadcaster with no per-socket work, the
//! reference rust-echo's fan-out is measured against. It speaks just enough Engine.IO 3/4 for a client to connect (open packet,
//! CONNECT, heartbeats), treats every socket as subscribed to everything, and for each Redis
//! message encodes one Socket.IO text frame and writes that same frame to every socket —
//! no rooms, no auth, no per-socket encoding. Prints `ready` once it listens and subscribes.

use std::net::SocketAddr;

use echo_bench::laravel::Payload;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames queued per socket before a slow socket misses some (reported at exit).
const BACKLOG: usize = 8_192;

fn arg(name: &str) -> Option<u16> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (Some(port), Some(redis_port)) = (arg("--port"), arg("--redis-port")) else {
        eprintln!("usage: raw-broadcast --port P --redis-port R");
        std::process::exit(2);
    };
    let (tx, _) = broadcast::channel::<Utf8Bytes>(BACKLOG);
    let client = redis::Client::open(format!("redis://127.0.0.1:{redis_port}/"))?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe("*").await?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("ready");
    let frames = tx.clone();
    tokio::spawn(async move {
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let channel = msg.get_channel_name().to_owned();
            let Ok(p) = serde_json::from_slice::<Payload<'_>>(msg.get_payload_bytes()) else {
                continue;
            };
            let channel = serde_json::to_string(&channel).unwrap_or_default();
            let text = format!("42[{},{channel},{}]", p.event.get(), p.data.get());
            // No receivers yet is fine: nobody to deliver to.
            let _ = frames.send(Utf8Bytes::from(text));
        }
    });
    let mut id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        id += 1;
        tokio::spawn(serve(stream, id, tx.subscribe()));
    }
}

async fn serve(stream: TcpStream, id: u64, mut frames: broadcast::Receiver<Utf8Bytes>) {
    let mut eio = 4;
    // The callback's error type is tungstenite's (an HTTP response), not ours to shrink.
    #[allow(clippy::result_large_err)]
    let read_eio = |req: &Request, resp: Response| {
        if req.uri().query().is_some_and(|q| q.contains("EIO=3")) {
            eio = 3;
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, read_eio).await else {
        return;
    };
    let sid = format!("raw{id}");
    let open =
        format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000}}"#);
    if ws.send(Message::text(open)).await.is_err() {
        return;
    }
    if eio == 3 && ws.send(Message::text("40")).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let first = match frame {
                    Ok(f) => f,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!("socket {sid} missed {n} frames");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                // Queue everything already waiting, then one flush: one write for many frames.
                if ws.feed(Message::Text(first)).await.is_err() {
                    return;
                }
                while let Ok(f) = frames.try_recv() {
                    if ws.feed(Message::Text(f)).await.is_err() {
                        return;
                    }
                }
                if ws.flush().await.is_err() {
                    return;
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    let reply = match t.as_str() {
                        "2" => Some("3".to_owned()),
                        "40" => Some(format!(r#"40{{"sid":"{sid}"}}"#)),
                        _ => None,
                    };
                    if let Some(r) = reply
                        && ws.send(Message::text(r)).await.is_err()
                    {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}
