//! Idle memory: the server's resident memory before and after N idle clients connect, each in
//! one public channel (all the same) and one presence channel (a room of 100 users, as a chat
//! would have; laravel-echo-server rewrites a presence channel's whole member list on every
//! join, so one room of N would measure that instead of memory).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Sub;
use crate::fleet::{Eio, Fleet};
use crate::servers::{self, Env, Kind};
use crate::sys;

/// Users per presence channel.
const ROOM: usize = 100;

/// Subscriptions awaiting their answer at a time. Idle clients arrive over a while; 19,000
/// presence authorizations at once would wait in the server's auth queue past half of
/// `authTimeout` and be refused with 503 (the load generator, which also answers them, shares
/// one core with every client).
const SUBSCRIBE_WINDOW: usize = 2_000;

#[derive(Debug, Clone, Serialize)]
pub struct MemoryRow {
    pub clients: usize,
    pub server: &'static str,
    pub rss_before: u64,
    pub rss_after: u64,
    /// (after − before) / clients, bytes.
    pub per_connection: f64,
    pub connect_s: f64,
}

pub async fn run(
    env: &Env,
    kind: Kind,
    clients: usize,
    eio: Eio,
    rows: &mut Vec<MemoryRow>,
) -> Result<(), String> {
    let name = format!("memory-{}-{clients}", super::fanout::slug(kind));
    let server = servers::start(kind, env, &name).await?;
    let result = measure(&server, clients, eio, rows).await;
    let stopped = server.stop().await;
    result.and(stopped)
}

async fn measure(
    server: &servers::Running,
    clients: usize,
    eio: Eio,
    rows: &mut Vec<MemoryRow>,
) -> Result<(), String> {
    let pid = server
        .pid()
        .ok_or("memory is measured on a server process")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = sys::rss_bytes(pid).ok_or("cannot read the server's VmRSS")?;
    let started = Instant::now();
    let fleet = Fleet::connect(server.addr, clients, eio).await?;
    let subs = |i: usize| {
        vec![
            Sub {
                channel: "lobby".to_owned(),
                id: 0,
                user: None,
                start: None,
            },
            Sub {
                channel: format!("presence-room.{}", i / ROOM),
                id: 1,
                user: Some(i as u64),
                start: None,
            },
        ]
    };
    fleet
        .subscribe_paced(subs, Duration::from_secs(180), SUBSCRIBE_WINDOW)
        .await?;
    let connect_s = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.subscribers("lobby").await? < clients as u64 {
        if Instant::now() > deadline {
            return Err(format!(
                "{}: not every client joined the public channel",
                server.kind.label()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Idle: let buffers from the subscription burst settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = sys::rss_bytes(pid).ok_or("cannot read the server's VmRSS")?;
    let row = MemoryRow {
        clients,
        server: server.kind.label(),
        rss_before: before,
        rss_after: after,
        per_connection: after.saturating_sub(before) as f64 / clients as f64,
        connect_s,
    };
    eprintln!(
        "  memory   {clients:>6} {:<20} {:>8.1} KiB per connection",
        row.server,
        row.per_connection / 1024.0
    );
    rows.push(row);
    if !fleet.is_empty()
        && fleet
            .shared
            .failed
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    {
        return Err(format!("connections failed: {}", fleet.first_error()));
    }
    Ok(())
}
