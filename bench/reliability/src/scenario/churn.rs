//! 2,000 client slots churning for a while: each connects, joins a public channel and one of 20
//! presence channels (as its own user), stays 0–300 ms and drops its connection without a
//! goodbye; then the next. Afterwards every gauge must be back to 0, no presence channel may keep
//! a member, and descriptors and memory must be back near where they were before the churn.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use echo_bench::auth::AuthStub;
use echo_bench::client::{self, Cmd, Shared, Sub};
use serde_json::json;
use tokio::sync::oneshot;

use crate::figures::Figures;
use crate::harness::{self, Env, Rng, Server};

const SLOTS: usize = 2_000;
const ROOMS: usize = 20;
/// Descriptors the process may hold above its baseline afterwards (listener backlog, timers).
const FD_SLACK: u64 = 8;
/// Resident memory the process may keep above its baseline afterwards: allocator caches of
/// 2,000 connections' buffers, which the allocator keeps for reuse rather than returning.
const RSS_SLACK_MIB: f64 = 64.0;

pub async fn run(env: &Env, figs: &mut Figures, length: Duration) -> Result<(), String> {
    let auth = AuthStub::start().await?;
    let server = Server::start(env, "churn", |c| c["authHost"] = json!(auth.url)).await?;
    let pid = server.pid().ok_or("no pid")?;
    let fd_before = harness::descriptors(pid).unwrap_or(0);
    let rss_before = harness::rss_mib(pid).unwrap_or(0.0);
    let cycles = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + length;
    let slots: Vec<_> = (0..SLOTS)
        .map(|slot| {
            tokio::spawn(churn(
                server.addr,
                slot,
                stop,
                cycles.clone(),
                errors.clone(),
            ))
        })
        .collect();
    let mut peak_fd = 0;
    while Instant::now() < stop {
        peak_fd = peak_fd.max(harness::descriptors(pid).unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for s in slots {
        let _ = s.await;
    }
    figs.put("churn.connections_made", cycles.load(Relaxed));
    figs.put("churn.connection_errors", errors.load(Relaxed));
    figs.put("churn.descriptors_peak", peak_fd);
    let settled = settle(&server).await;
    let (conns, subs) = settled.unwrap_or((-1.0, -1.0));
    figs.check("churn.gauge_connections_after", conns, conns == 0.0, "0");
    figs.check("churn.gauge_subscriptions_after", subs, subs == 0.0, "0");
    let ghosts = ghosts(&server).await?;
    figs.check("churn.ghost_presence_members", ghosts, ghosts == 0, "0");
    let fd_after = harness::descriptors(pid).unwrap_or(u64::MAX);
    figs.put("churn.descriptors_before", fd_before);
    figs.check(
        "churn.descriptors_after",
        fd_after,
        fd_after <= fd_before + FD_SLACK,
        "≤ before + 8",
    );
    let rss_after = harness::rss_mib(pid).unwrap_or(f64::MAX);
    figs.put("churn.rss_mib_before", format!("{rss_before:.1}"));
    figs.check(
        "churn.rss_mib_after",
        format!("{rss_after:.1}"),
        rss_after <= rss_before + RSS_SLACK_MIB,
        "≤ before + 64",
    );
    Ok(())
}

/// One slot: connect, join, linger, drop; until `stop`.
async fn churn(
    addr: std::net::SocketAddr,
    slot: usize,
    stop: Instant,
    cycles: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
) {
    let shared = Arc::new(Shared::default());
    let mut rng = Rng::new(slot as u64 * 7919 + 1);
    while Instant::now() < stop {
        let Ok(tx) = client::spawn(addr, None, 3, shared.clone()).await else {
            errors.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        cycles.fetch_add(1, Relaxed);
        let user = (slot + 1) as u64;
        for channel in [
            "rel-churn".to_owned(),
            format!("presence-churn-{}", slot % ROOMS),
        ] {
            let (ack, rx) = oneshot::channel();
            let sub = Sub {
                channel,
                id: 0,
                user: Some(user),
                start: Some(0),
            };
            if tx.send(Cmd::Subscribe(sub, ack)).is_err() {
                break;
            }
            // Half the slots leave before the presence answer arrives.
            if rng.below(2) == 0 {
                let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        drop(tx);
    }
}

/// Wait for the connection and subscription gauges to reach 0 (30 s at most); their last values.
async fn settle(server: &Server) -> Result<(f64, f64), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let conns = server.metric("rust_echo_connections").await?;
        let subs = server.metric("rust_echo_subscriptions").await?;
        if (conns == 0.0 && subs == 0.0) || Instant::now() > deadline {
            return Ok((conns, subs));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Members still listed in any presence channel.
async fn ghosts(server: &Server) -> Result<u64, String> {
    let mut n = 0;
    for room in 0..ROOMS {
        let v = server
            .api(&format!("/channels/presence-churn-{room}/users"))
            .await;
        n += v
            .ok()
            .and_then(|v| v["users"].as_array().map(|u| u.len() as u64))
            .unwrap_or(0);
    }
    let listed = server.api("/channels?filter_by_prefix=presence-").await?;
    let occupied = listed["channels"].as_object().map_or(0, |m| m.len() as u64);
    // An occupied presence channel whose users list came back empty still holds someone.
    Ok(n.max(occupied))
}
