//! Exact delivery through every ingress: `count` events through each of in-process (PHP hosting
//! the server, publishing on the same process), the ring (two PHP processes publishing to the
//! binary), Redis `PUBLISH` (two connections) and the HTTP API (two keep-alive connections), to
//! `clients` clients subscribed to every publisher's channel. Each client checks each
//! publisher's sequence: lost, duplicated or reordered.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use echo_bench::fleet::{Eio, Fleet, Tally};
use serde_json::json;

use crate::figures::Figures;
use crate::harness::{self, Env, Server};
use crate::php::Php;
use crate::publishers::{Flow, Publisher, Sink, wait_delivered};

/// Sizes of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub count: u64,
    pub clients: usize,
}

pub async fn run(env: &Env, figs: &mut Figures, size: Size) -> Result<(), String> {
    in_process(env, figs, size).await?;
    let server = Server::start(env, "ingress", |_| {}).await?;
    let fleet = Fleet::connect(server.addr, size.clients, Eio::V3).await?;
    fleet.shared.no_latencies.store(true, Relaxed);
    let channels: Vec<(String, u32)> = ["ring", "redis", "http"]
        .iter()
        .enumerate()
        .flat_map(|(i, name)| {
            (0..2).map(move |p| (format!("rel-{name}-{p}"), 10 * (i as u32 + 1) + p))
        })
        .collect();
    harness::subscribe(&fleet, &channels, Duration::from_secs(20)).await?;
    for (channel, _) in &channels {
        server
            .wait_subscribers(channel, size.clients as u64, Duration::from_secs(20))
            .await?;
    }
    for (i, name) in ["ring", "redis", "http"].iter().enumerate() {
        let mine = &channels[2 * i..2 * i + 2];
        let mut pubs = Vec::new();
        for (channel, id) in mine {
            let sink = match *name {
                "ring" => Sink::Php(Box::new(
                    ring_publisher(env, &server.ring, channel, *id, size.count / 2).await?,
                )),
                "redis" => Sink::Redis(redis_connection(env.redis_port).await?),
                _ => Sink::Http(
                    tokio::net::TcpStream::connect(server.addr)
                        .await
                        .map_err(|e| e.to_string())?,
                    server.addr,
                ),
            };
            pubs.push(Publisher {
                sink,
                channel: channel.clone(),
                id: *id,
            });
        }
        measure(figs, name, &fleet, pubs, size, server.metrics).await?;
    }
    Ok(())
}

/// PHP hosts the server and publishes to it on the same process.
async fn in_process(env: &Env, figs: &mut Figures, size: Size) -> Result<(), String> {
    let port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let metrics = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let mut config = harness::config(env, port, &format!("rust-echo-rel-php-{port}"), metrics);
    config["subscribers"] = json!({ "http": true, "redis": false });
    let args = [
        "host".to_owned(),
        "rel-memory".to_owned(),
        "1".to_owned(),
        size.count.to_string(),
        crate::publishers::BATCH.to_string(),
        config.to_string(),
    ];
    let mut php = Php::spawn(env, "publisher.php", &args, &[])?;
    php.expect("ready", Duration::from_secs(20)).await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let fleet = Fleet::connect(addr, size.clients, Eio::V3).await?;
    fleet.shared.no_latencies.store(true, Relaxed);
    let channels = [("rel-memory".to_owned(), 1)];
    harness::subscribe(&fleet, &channels, Duration::from_secs(20)).await?;
    harness::wait_subscribers(
        addr,
        "rel-memory",
        size.clients as u64,
        Duration::from_secs(20),
    )
    .await?;
    let publisher = Publisher {
        sink: Sink::Php(Box::new(php)),
        channel: channels[0].0.clone(),
        id: 1,
    };
    let metrics = std::net::SocketAddr::from(([127, 0, 0, 1], metrics));
    measure(figs, "in_process", &fleet, vec![publisher], size, metrics).await
}

/// The server's own count of what it dropped so far, by reason.
async fn dropped(figs: &mut Figures, name: &str, metrics: std::net::SocketAddr) {
    let Ok((200, body)) =
        echo_bench::http::get_text(metrics, "/metrics", Duration::from_secs(5)).await
    else {
        figs.fail(format!("ingress.{name}: /metrics did not answer"));
        return;
    };
    for line in body
        .lines()
        .filter(|l| l.starts_with("rust_echo_dropped_total{"))
    {
        if let Some((labels, value)) = line.split_once("} ")
            && value != "0"
        {
            let reason = labels.rsplit('"').nth(1).unwrap_or("unknown");
            figs.put(&format!("ingress.{name}.server_dropped.{reason}"), value);
        }
    }
}

async fn ring_publisher(
    env: &Env,
    ring: &str,
    channel: &str,
    id: u32,
    count: u64,
) -> Result<Php, String> {
    let args = [
        "ring".to_owned(),
        channel.to_owned(),
        id.to_string(),
        count.to_string(),
        crate::publishers::BATCH.to_string(),
    ];
    let mut php = Php::spawn(env, "publisher.php", &args, &[("RUST_ECHO_RING", ring)])?;
    php.expect("ready", Duration::from_secs(20)).await?;
    Ok(php)
}

pub async fn redis_connection(port: u16) -> Result<redis::aio::MultiplexedConnection, String> {
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(|e| e.to_string())?;
    client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("redis on {port}: {e}"))
}

/// Run the publishers (splitting `size.count` among them) and check what every client got.
async fn measure(
    figs: &mut Figures,
    name: &str,
    fleet: &Fleet,
    pubs: Vec<Publisher>,
    size: Size,
    metrics: std::net::SocketAddr,
) -> Result<(), String> {
    let clients = size.clients as u64;
    let flow = Arc::new(Flow {
        shared: fleet.shared.clone(),
        base: fleet.shared.delivered.load(Relaxed),
        slowest_base: fleet.shared.slowest(),
        published: AtomicU64::new(0),
    });
    let each = size.count / pubs.len() as u64;
    let started = Instant::now();
    // The publishers stay alive until the end: the in-process one hosts the server.
    let alive = publish(pubs, each, &flow).await?;
    let expected = flow.published.load(Relaxed) * clients;
    let wait = wait_delivered(&fleet.shared, flow.base + expected, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    let t = fleet.tally().await;
    let prefix = format!("ingress.{name}");
    figs.put(&format!("{prefix}.events"), flow.published.load(Relaxed));
    figs.put(
        &format!("{prefix}.deliveries_per_s"),
        (t.received as f64 / elapsed.as_secs_f64()).round(),
    );
    check(figs, &prefix, expected, &t);
    if let Err(e) = wait {
        figs.fail(format!("{prefix}: {e}"));
    }
    dropped(figs, name, metrics).await;
    for p in alive {
        if let Sink::Php(php) = p.sink {
            php.finish().await;
        }
    }
    Ok(())
}

/// Every publisher publishes `each` events, all at once; the publishers once they are done.
async fn publish(
    pubs: Vec<Publisher>,
    each: u64,
    flow: &Arc<Flow>,
) -> Result<Vec<Publisher>, String> {
    let tasks: Vec<_> = pubs
        .into_iter()
        .map(|p| tokio::spawn(p.run(each, flow.clone())))
        .collect();
    let mut done = Vec::new();
    for t in tasks {
        done.push(t.await.map_err(|e| e.to_string())??);
    }
    Ok(done)
}

/// The exact-delivery checks: `expected` deliveries, each once and in order, to every client.
fn check(figs: &mut Figures, prefix: &str, expected: u64, t: &Tally) {
    let lost = expected.saturating_sub(t.received.saturating_sub(t.behind));
    figs.check(&format!("{prefix}.lost"), lost, lost == 0, "0");
    figs.check(
        &format!("{prefix}.duplicated_or_reordered"),
        t.behind,
        t.behind == 0,
        "0",
    );
    figs.check(&format!("{prefix}.skipped"), t.gaps, t.gaps == 0, "0");
    figs.check(
        &format!("{prefix}.clients_failed"),
        t.silent,
        t.silent == 0,
        "0",
    );
}
