//! Fan-out over two nodes, the clients split between them and events entering node A only, so
//! half of every message's deliveries cross Redis to node B: rust-echo's cluster relay (events
//! through node A's shared-memory ring), and socketioxide with the socketioxide-redis adapter
//! (events through a Redis channel node A alone reads), the alternative ADR 0009 weighs.
//! Deliveries per second at saturation, with every message counted at every client (a loss or
//! a duplicate fails the run for rust-echo; the adapter's are reported).

use std::time::Duration;

use super::Plan;
use super::fanout::FanoutRow;
use crate::client::Sub;
use crate::fleet::{Eio, Fleet};
use crate::load;
use crate::publish::{Ingress, Outbox};
use crate::servers::{self, Env, Kind};

/// Messages in flight per subscriber at saturation (as in the one-node fan-out).
const WINDOW: u64 = 256;

/// Messages published at once, unpaced, after the saturation phase: what a pair does with a
/// burst (below rust-echo's per-socket queue of 4,096 packets, above the adapter's receive
/// buffer of 1,024 messages).
const BURST: u64 = 2_000;

/// The channel every client is in.
const CHANNEL: &str = "bench";

/// The server label of rust-echo's row (the report looks it up).
pub const LABEL: &str = "rust-echo, 2 nodes";

/// The ingress labels of the paced and the burst row.
type Labels = (&'static str, &'static str);

/// Which pair of servers.
#[derive(Debug, Clone, Copy)]
pub enum Pair {
    /// Two rust-echo nodes of one cluster.
    RustEcho,
    /// Two socketioxide servers on the socketioxide-redis adapter.
    Adapter,
}

impl Pair {
    pub fn kind(self) -> Kind {
        match self {
            Pair::RustEcho => Kind::RustEcho,
            Pair::Adapter => Kind::Adapter,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Pair::RustEcho => LABEL,
            Pair::Adapter => "socketioxide-redis, 2 nodes",
        }
    }

    async fn start(self, env: &Env, name: &str, first: bool) -> Result<servers::Running, String> {
        match self {
            Pair::RustEcho => {
                let namespace = format!("bench-{}", std::process::id());
                servers::start_cluster_node(env, name, &namespace).await
            }
            Pair::Adapter => {
                let ingress = first.then_some(CHANNEL);
                servers::start_adapter_node(env, name, ingress).await
            }
        }
    }

    /// Where events enter node `a`, and the table's ingress labels (paced, burst).
    async fn ingress(self, env: &Env, a: &servers::Running) -> Result<(Ingress, Labels), String> {
        match self {
            Pair::RustEcho => Ok((a.ring()?, ("shm (node A)", "shm (node A), burst"))),
            Pair::Adapter => Ok((
                Ingress::redis(env.redis_port).await?,
                ("redis (node A)", "redis (node A), burst"),
            )),
        }
    }
}

/// Run the two-node fan-out of `pair` with `clients` split over the nodes; the row is appended.
pub async fn run(
    plan: &Plan,
    env: &Env,
    clients: usize,
    pair: Pair,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let slug = super::fanout::slug(pair.kind());
    let a = pair
        .start(env, &format!("two-nodes-{slug}-a-{clients}"), true)
        .await?;
    let b = match pair
        .start(env, &format!("two-nodes-{slug}-b-{clients}"), false)
        .await
    {
        Ok(b) => b,
        Err(e) => {
            let _ = a.stop().await;
            return Err(e);
        }
    };
    let result = match pair.ingress(env, &a).await {
        Ok((ingress, labels)) => {
            let row = Row {
                server: pair.label(),
                pids: [a.pid(), b.pid()],
                clients,
            };
            measure(plan, [&a, &b], ingress, &row, labels, rows).await
        }
        Err(e) => Err(e),
    };
    let (sa, sb) = (a.stop().await, b.stop().await);
    result.and(sa).and(sb)
}

/// What the rows of one pair share.
struct Row {
    server: &'static str,
    pids: [Option<u32>; 2],
    clients: usize,
}

async fn measure(
    plan: &Plan,
    [a, b]: [&servers::Running; 2],
    ingress: Ingress,
    row: &Row,
    (paced, burst): Labels,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let clients = row.clients;
    let fleet = Fleet::connect_to(&[a.addr, b.addr], clients, Eio::V3).await?;
    let subs = |_| {
        vec![Sub {
            channel: CHANNEL.to_owned(),
            id: 0,
            user: None,
            start: None,
        }]
    };
    fleet.subscribe(subs, Duration::from_secs(60)).await?;
    let mut out = Outbox::new(ingress, vec![CHANNEL.to_owned()]);
    load::warm_up(&mut out, &fleet, clients as u64, Duration::from_secs(60)).await?;
    let fanout = clients as u64;
    let pace = load::Pace {
        count: (plan.saturation_deliveries / fanout).max(50),
        fanout,
        window: WINDOW * fanout,
        batch: 32,
        deadline: plan.saturation_time,
    };
    rows.push(phase(&fleet, &mut out, row, paced, pace).await?);
    let pace = load::Pace {
        count: BURST,
        window: u64::MAX,
        batch: 256,
        ..pace
    };
    rows.push(phase(&fleet, &mut out, row, burst, pace).await?);
    Ok(())
}

/// One saturation phase, as a row of the fan-out table.
async fn phase(
    fleet: &Fleet,
    out: &mut Outbox,
    row: &Row,
    ingress: &'static str,
    pace: load::Pace,
) -> Result<FanoutRow, String> {
    let name = super::fanout::RowName {
        clients: row.clients,
        server: row.server,
        ingress,
        eio: "3",
    };
    let r = super::fanout::saturation(out, fleet, &row.pids, pace, name).await?;
    eprintln!(
        "  fan-out {:>6} {:<20} {:<10} {:>12.0} deliveries/s, {} missing",
        row.clients, row.server, r.ingress, r.throughput, r.saturation.missing
    );
    Ok(r)
}
