//! Fan-out over two rust-echo nodes of one cluster: the clients split between them, events
//! through node A's shared-memory ring, so half of every message's deliveries cross the Redis
//! relay to node B. Deliveries per second at saturation, with every message counted exactly
//! once at every client (a loss or a duplicate fails the run, as for the other rust-echo rows).

use std::time::Duration;

use super::Plan;
use super::fanout::FanoutRow;
use super::{Delivery, cpu_share};
use crate::client::Sub;
use crate::fleet::{Eio, Fleet};
use crate::load;
use crate::publish::Outbox;
use crate::servers::{self, Env};
use crate::sys;

/// Messages in flight per subscriber at saturation (as in the one-node fan-out).
const WINDOW: u64 = 256;

/// The server label of the row.
pub const LABEL: &str = "rust-echo, 2 nodes";

/// Run the two-node fan-out with `clients` split over the nodes; the row is appended.
pub async fn run(
    plan: &Plan,
    env: &Env,
    clients: usize,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let namespace = format!("bench-{}", std::process::id());
    let a = servers::start_cluster_node(env, &format!("two-nodes-a-{clients}"), &namespace).await?;
    let b = match servers::start_cluster_node(env, &format!("two-nodes-b-{clients}"), &namespace)
        .await
    {
        Ok(b) => b,
        Err(e) => {
            let _ = a.stop().await;
            return Err(e);
        }
    };
    let result = measure(plan, &a, &b, clients, rows).await;
    let (sa, sb) = (a.stop().await, b.stop().await);
    result.and(sa).and(sb)
}

async fn measure(
    plan: &Plan,
    a: &servers::Running,
    b: &servers::Running,
    clients: usize,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let fleet = Fleet::connect_to(&[a.addr, b.addr], clients, Eio::V3).await?;
    let subs = |_| {
        vec![Sub {
            channel: "bench".to_owned(),
            id: 0,
            user: None,
            start: None,
        }]
    };
    fleet.subscribe(subs, Duration::from_secs(60)).await?;
    let mut out = Outbox::new(a.ring()?, vec!["bench".to_owned()]);
    load::warm_up(&mut out, &fleet, clients as u64, Duration::from_secs(60)).await?;
    let fanout = clients as u64;
    let pids = [a.pid(), b.pid()];
    let cpu = |pids: &[Option<u32>]| -> Option<f64> {
        pids.iter().map(|p| p.and_then(sys::cpu_seconds)).sum()
    };
    let (s0, l0) = (cpu(&pids), sys::cpu_seconds(std::process::id()));
    let pace = load::Pace {
        count: (plan.saturation_deliveries / fanout).max(50),
        fanout,
        window: WINDOW * fanout,
        batch: 32,
        deadline: plan.saturation_time,
    };
    let sat = load::saturate(&mut out, &fleet, &[0], pace).await?;
    let (s1, l1) = (cpu(&pids), sys::cpu_seconds(std::process::id()));
    let row = FanoutRow {
        clients,
        server: LABEL,
        ingress: "shm (node A)",
        eio: "3",
        connect_s: fleet.connect_time.as_secs_f64(),
        throughput: sat.rate(),
        saturation: Delivery::of(&sat),
        server_cpu: cpu_share(s0, s1, sat.elapsed),
        loadgen_cpu: cpu_share(l0, l1, sat.elapsed),
        offered: None,
        p50_ms: None,
        p99_ms: None,
        max_ms: None,
        latency: None,
    };
    eprintln!(
        "  fan-out {clients:>6} {LABEL:<20} {:<10} {:>12.0} deliveries/s",
        row.ingress, row.throughput
    );
    rows.push(row);
    Ok(())
}
