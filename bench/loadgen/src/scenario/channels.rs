//! Many channels: every client subscribes to a private channel of its own at once, each
//! authorized against the stub auth endpoint — authorized subscriptions per second — then
//! messages go out round-robin across all channels (one subscriber each): publish throughput.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Delivery, Plan};
use crate::auth::AuthCounts;
use crate::client::{Sub, now_ns};
use crate::fleet::{Eio, Fleet};
use crate::load;
use crate::publish::Outbox;
use crate::servers::{self, Env, Kind};

#[derive(Debug, Clone, Serialize)]
pub struct ChannelsRow {
    pub clients: usize,
    pub server: &'static str,
    /// Authorized subscriptions per second.
    pub subscribe_rate: f64,
    /// Subscriptions answered with `subscription_error`.
    pub refused: u64,
    pub publish: Vec<PublishRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishRow {
    pub ingress: &'static str,
    /// Deliveries per second (one per message).
    pub throughput: f64,
    pub delivery: Delivery,
}

pub async fn run(
    plan: &Plan,
    env: &Env,
    auth: &AuthCounts,
    kind: Kind,
    rows: &mut Vec<ChannelsRow>,
) -> Result<(), String> {
    let name = format!("channels-{}", super::fanout::slug(kind));
    let server = servers::start(kind, env, &name).await?;
    let result = measure(plan, env, auth, &server, rows).await;
    let stopped = server.stop().await;
    result.and(stopped)
}

async fn measure(
    plan: &Plan,
    env: &Env,
    auth: &AuthCounts,
    server: &servers::Running,
    rows: &mut Vec<ChannelsRow>,
) -> Result<(), String> {
    let n = plan.channel_clients;
    let fleet = Fleet::connect(server.addr, n, Eio::V3).await?;
    let names: Vec<String> = (0..n).map(|i| format!("private-user.{i}")).collect();
    let answered_before = auth.answered.load(Relaxed);
    let started = now_ns();
    let subs = |i: usize| {
        vec![Sub {
            channel: names[i].clone(),
            id: u32::try_from(i).unwrap_or(u32::MAX),
            user: Some(i as u64),
            start: Some(0),
        }]
    };
    fleet.subscribe(subs, Duration::from_secs(60)).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while auth.answered.load(Relaxed) < answered_before + n as u64 {
        if Instant::now() > deadline {
            return Err(format!(
                "{}: only {} of {n} authorizations within 120 s",
                server.kind.label(),
                auth.answered.load(Relaxed) - answered_before
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = auth.last_ns.load(Relaxed).saturating_sub(started);
    let subscribe_rate = n as f64 / (took as f64 / 1e9).max(1e-9);
    // The answer is in; the server joins the socket to the channel right after. Confirm all
    // are joined before any message is owed to them.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let joined = server.channels("private-user.").await?;
        if joined >= n as u64 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{}: {joined} of {n} private channels joined",
                server.kind.label()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refused = fleet.tally().await.refused;
    let mut row = ChannelsRow {
        clients: n,
        server: server.kind.label(),
        subscribe_rate,
        refused,
        publish: Vec::new(),
    };
    eprintln!(
        "  channels {n:>6} {:<20} {subscribe_rate:>10.0} authorized subscriptions/s",
        row.server
    );
    let order: Vec<usize> = (0..n).collect();
    let mut out: Option<Outbox> = None;
    for ingress in server.ingresses(env).await? {
        let out = match &mut out {
            Some(o) => {
                o.set_ingress(ingress);
                o
            }
            None => out.insert(Outbox::new(ingress, names.clone())),
        };
        let count = plan.channel_rounds * n as u64;
        let window = (4 * n as u64).min(20_000);
        let pace = load::Pace {
            count,
            fanout: 1,
            window,
            batch: 256,
            deadline: Duration::from_secs(30),
        };
        let sat = load::saturate(out, &fleet, &order, pace).await?;
        eprintln!(
            "  channels {n:>6} {:<20} {:<10} {:>10.0} deliveries/s",
            row.server,
            out.label(),
            sat.rate()
        );
        row.publish.push(PublishRow {
            ingress: out.label(),
            throughput: sat.rate(),
            delivery: Delivery::of(&sat),
        });
    }
    rows.push(row);
    Ok(())
}

/// Whether `kind` takes part (the raw broadcaster has no channels or authorization).
pub fn applies(kind: Kind) -> bool {
    !matches!(kind, Kind::Raw | Kind::Adapter)
}
