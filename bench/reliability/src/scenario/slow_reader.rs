//! One client stops reading after subscribing; a burst of 100,000 events of about 200 bytes goes
//! to its channel over the ring, paced so the ten clients that do read never fall behind. Then
//! nothing more is published. The stalled client must be disconnected within the configured
//! time (a connection that has `maxBufferedPackets` queued and accepts no byte for 2 s), and the
//! others must get every event.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use echo_bench::fleet::{Eio, Fleet};
use echo_bench::load::{Outcome, Pace, saturate};
use echo_bench::publish::{Ingress, Outbox};
use echo_bench::ws::Ws;

use crate::figures::Figures;
use crate::harness::{self, Env, Server};

const READERS: usize = 10;
const EVENTS: u64 = 100_000;
/// The server's stall limit for a full queue.
const CONFIGURED_MS: u128 = 2_000;
/// Polling and scheduling slack on top of it.
const SLACK_MS: u128 = 1_000;

pub async fn run(env: &Env, figs: &mut Figures) -> Result<(), String> {
    let server = Server::start(env, "slow-reader", |_| {}).await?;
    // About 200 bytes a frame: the channel name is repeated in every event.
    let channel = format!("rel-slow-{}", "x".repeat(120));
    let stalled = stalled_client(&server, &channel).await?;
    let fleet = Fleet::connect(server.addr, READERS, Eio::V3).await?;
    harness::subscribe(&fleet, &[(channel.clone(), 0)], Duration::from_secs(10)).await?;
    server
        .wait_subscribers(&channel, READERS as u64 + 1, Duration::from_secs(10))
        .await?;
    let outcome = burst(&server, &fleet, &channel).await?;
    let burst_end = Instant::now();
    figs.put("slow_reader.burst_events", outcome.published);
    figs.put("slow_reader.burst_ms", outcome.elapsed.as_millis());
    let missing = outcome.missing();
    figs.check("slow_reader.readers_missing", missing, outcome.exact(), "0");
    let gone = stalled_gone(&server, &channel, burst_end).await;
    let readers_left = fleet.shared.failed.load(Relaxed);
    figs.check(
        "slow_reader.readers_disconnected",
        readers_left,
        readers_left == 0,
        "0",
    );
    match gone {
        Some(ms) => figs.check(
            "slow_reader.disconnected_after_quiet_ms",
            ms,
            ms <= CONFIGURED_MS + SLACK_MS,
            "≤ 3000",
        ),
        None => figs.check(
            "slow_reader.disconnected_after_quiet_ms",
            "never",
            false,
            "≤ 3000 (within 60 s)",
        ),
    }
    drop(stalled);
    Ok(())
}

/// A raw WebSocket client that subscribes to `channel` and then never reads.
async fn stalled_client(server: &Server, channel: &str) -> Result<Ws, String> {
    let mut stalled = Ws::connect(server.addr, None, "/socket.io/?EIO=3&transport=websocket")
        .await
        .map_err(|e| format!("stalled client: {e}"))?;
    let subscribe =
        format!(r#"42["subscribe",{{"channel":"{channel}","auth":{{"headers":{{}}}}}}]"#);
    stalled
        .send_text(&subscribe)
        .await
        .map_err(|e| e.to_string())?;
    Ok(stalled)
}

/// `EVENTS` events to `channel` over the ring, paced by what the readers got.
async fn burst(server: &Server, fleet: &Fleet, channel: &str) -> Result<Outcome, String> {
    let producer =
        rust_echo_server::shm::Producer::new(&server.ring).map_err(|e| format!("ring: {e}"))?;
    let mut out = Outbox::new(Ingress::Shm(producer), vec![channel.to_owned()]);
    let pace = Pace {
        count: EVENTS,
        fanout: READERS as u64,
        window: 1_000 * READERS as u64,
        batch: 100,
        deadline: Duration::from_secs(120),
    };
    saturate(&mut out, fleet, &[0], pace).await
}

/// Ms from the end of the burst until only the readers are subscribed (`None`: not within 60 s).
async fn stalled_gone(server: &Server, channel: &str, burst_end: Instant) -> Option<u128> {
    loop {
        let n = server.subscribers(channel).await.unwrap_or(u64::MAX);
        if n <= READERS as u64 {
            return Some(burst_end.elapsed().as_millis());
        }
        if burst_end.elapsed() > Duration::from_secs(60) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
