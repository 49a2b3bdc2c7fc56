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
/// Descriptors the process may hold above its baseline afterwards, besides its idle keep-alive
/// connections to the auth endpoint (a pool of at most `maxConcurrentAuth`, closed after 60 s
/// idle).
const FD_SLACK: u64 = 8;
/// Growth of resident memory allowed over the second half of the churn, against the first half:
/// the allocator keeps freed buffers for reuse, so memory plateaus; a leak grows with the
/// connections made.
const RSS_GROWTH: f64 = 1.25;

/// The process's resources before the churn, half way through and right at its end.
struct Usage {
    fd_before: u64,
    rss_before: f64,
    rss_half: Option<f64>,
    rss_end: f64,
}

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
    let (fd_peak, rss_half) = watch(pid, length, stop).await;
    let rss_end = harness::rss_mib(pid).unwrap_or(f64::MAX);
    for s in slots {
        let _ = s.await;
    }
    figs.put("churn.connections_made", cycles.load(Relaxed));
    figs.put("churn.connection_errors", errors.load(Relaxed));
    figs.put("churn.descriptors_peak", fd_peak);
    let usage = Usage {
        fd_before,
        rss_before,
        rss_half,
        rss_end,
    };
    check_after(figs, &server, pid, &auth.url, &usage).await
}

/// Sample the process every 500 ms until `stop`: its peak of descriptors, and its resident
/// memory half way through the `length` of the churn.
async fn watch(pid: u32, length: Duration, stop: Instant) -> (u64, Option<f64>) {
    let (mut peak_fd, mut rss_half) = (0, None);
    let half = Instant::now() + length / 2;
    while Instant::now() < stop {
        peak_fd = peak_fd.max(harness::descriptors(pid).unwrap_or(0));
        if rss_half.is_none() && Instant::now() >= half {
            rss_half = harness::rss_mib(pid);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (peak_fd, rss_half)
}

/// The checks once every slot has dropped its connection: gauges, presence members,
/// descriptors and memory.
async fn check_after(
    figs: &mut Figures,
    server: &Server,
    pid: u32,
    auth_url: &str,
    usage: &Usage,
) -> Result<(), String> {
    let settled = settle(server).await;
    let (conns, subs) = settled.unwrap_or((-1.0, -1.0));
    figs.check("churn.gauge_connections_after", conns, conns == 0.0, "0");
    figs.check("churn.gauge_subscriptions_after", subs, subs == 0.0, "0");
    let ghosts = ghosts(server).await?;
    figs.check("churn.ghost_presence_members", ghosts, ghosts == 0, "0");
    let fd_after = harness::descriptors(pid).unwrap_or(u64::MAX);
    let pooled = sockets_to(pid, auth_url);
    figs.put("churn.descriptors_before", usage.fd_before);
    figs.put("churn.descriptors_after", fd_after);
    figs.put("churn.descriptors_after_auth_pool", pooled);
    let rest = fd_after.saturating_sub(pooled);
    let ok = rest <= usage.fd_before + FD_SLACK;
    figs.check(
        "churn.descriptors_after_besides_auth_pool",
        rest,
        ok,
        "≤ before + 8",
    );
    let rss_after = harness::rss_mib(pid).unwrap_or(f64::MAX);
    let (rss_half, rss_end) = (usage.rss_half.unwrap_or(0.0), usage.rss_end);
    figs.put("churn.rss_mib_before", format!("{:.1}", usage.rss_before));
    figs.put("churn.rss_mib_half_way", format!("{rss_half:.1}"));
    let flat = rss_end <= rss_half * RSS_GROWTH;
    figs.check(
        "churn.rss_mib_end",
        format!("{rss_end:.1}"),
        flat,
        "≤ 1.25 × half way",
    );
    figs.put("churn.rss_mib_after", format!("{rss_after:.1}"));
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
        let Ok(tx) = client::spawn(addr, None, 3, shared.clone(), false).await else {
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

/// Descriptors of `pid` that are TCP connections to the port of `url`.
fn sockets_to(pid: u32, url: &str) -> u64 {
    let Some(port) = url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()) else {
        return 0;
    };
    let hex_port = format!(":{port:04X}");
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    let inodes: std::collections::HashSet<String> = table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2)?.ends_with(&hex_port)).then(|| f.get(9).map(|s| (*s).to_owned()))?
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| {
            let l = l.to_string_lossy();
            l.strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|i| inodes.contains(i))
        })
        .count() as u64
}
