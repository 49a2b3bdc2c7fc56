//! Fan-out: every client in one public channel. Per server and ingress: delivered messages per
//! second at saturation, then latency p50/p99 at a fixed offered rate that laravel-echo-server
//! handles too (a quarter of its own saturation rate, in deliveries per second).

use std::time::Duration;

use serde::Serialize;

use super::{Delivery, Plan, cpu_share};
use crate::client::Sub;
use crate::fleet::{Eio, Fleet};
use crate::load;
use crate::publish::Outbox;
use crate::servers::{self, Env, Kind};
use crate::sys;

/// Offered load of the latency phase when laravel-echo-server was not measured first.
const DEFAULT_OFFERED_DELIVERIES: f64 = 20_000.0;

/// Messages in flight per subscriber at saturation: enough to keep every socket's writer busy,
/// well under the per-socket buffer.
const WINDOW: u64 = 256;

/// Deliveries in flight at most, whatever the client count. laravel-echo-server takes every
/// message Redis has sent it in one turn of its event loop: 256 messages to 10,000 clients kept
/// it from reading its sockets for about a minute, past socket.io's 30 s heartbeat window, and
/// it dropped every client. 500,000 is about 10 s of its work.
const MAX_IN_FLIGHT: u64 = 500_000;

/// The saturation window for `fanout` subscribers per message.
fn window(fanout: u64) -> u64 {
    (WINDOW * fanout).min(MAX_IN_FLIGHT)
}

#[derive(Debug, Clone, Serialize)]
pub struct FanoutRow {
    pub clients: usize,
    pub server: &'static str,
    pub ingress: &'static str,
    pub eio: &'static str,
    pub connect_s: f64,
    /// Deliveries per second at saturation.
    pub throughput: f64,
    pub saturation: Delivery,
    /// CPU of the server process during saturation, % of one core.
    pub server_cpu: Option<f64>,
    /// CPU of the load generator during saturation, % of one core.
    pub loadgen_cpu: Option<f64>,
    /// Messages per second offered in the latency phase.
    pub offered: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub latency: Option<Delivery>,
}

/// What names a row of the table.
pub struct RowName {
    pub clients: usize,
    pub server: &'static str,
    pub ingress: &'static str,
    pub eio: &'static str,
}

/// One saturation phase as a row (no latency phase yet), with the CPU the server processes
/// `pids` and this load generator spent during it.
pub async fn saturation(
    out: &mut Outbox,
    fleet: &Fleet,
    pids: &[Option<u32>],
    pace: load::Pace,
    name: RowName,
) -> Result<FanoutRow, String> {
    let servers = || -> Option<f64> { pids.iter().map(|p| p.and_then(sys::cpu_seconds)).sum() };
    let me = std::process::id();
    let (s0, l0) = (servers(), sys::cpu_seconds(me));
    let sat = load::saturate(out, fleet, &[0], pace).await?;
    let (s1, l1) = (servers(), sys::cpu_seconds(me));
    Ok(FanoutRow {
        clients: name.clients,
        server: name.server,
        ingress: name.ingress,
        eio: name.eio,
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
    })
}

/// What the latency phases of one client count offer, fixed by laravel-echo-server's run.
#[derive(Debug, Default)]
pub struct Offered {
    pub deliveries_per_s: Option<f64>,
}

/// One run of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub kind: Kind,
    pub clients: usize,
    pub eio: Eio,
    /// Whether to follow saturation with the fixed-rate latency phase.
    pub latency: bool,
}

/// Run `case`; rows are appended per ingress.
pub async fn run(
    plan: &Plan,
    env: &Env,
    case: Case,
    offered: &mut Offered,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let name = format!("fanout-{}-{}-{:?}", slug(case.kind), case.clients, case.eio);
    let server = servers::start(case.kind, env, &name).await?;
    let result = measure(plan, env, &server, case, offered, rows).await;
    let stopped = server.stop().await;
    result.and(stopped)
}

async fn measure(
    plan: &Plan,
    env: &Env,
    server: &servers::Running,
    case: Case,
    offered: &mut Offered,
    rows: &mut Vec<FanoutRow>,
) -> Result<(), String> {
    let Case {
        clients,
        eio,
        latency: with_latency,
        ..
    } = case;
    let fleet = Fleet::connect(server.addr, clients, eio).await?;
    let subs = |_| {
        vec![Sub {
            channel: "bench".to_owned(),
            id: 0,
            user: None,
            start: None,
        }]
    };
    fleet.subscribe(subs, Duration::from_secs(60)).await?;
    let mut ingresses = server.ingresses(env).await?.into_iter();
    let first = ingresses.next().ok_or("the server has no ingress")?;
    let mut out = Outbox::new(first, vec!["bench".to_owned()]);
    load::warm_up(&mut out, &fleet, clients as u64, Duration::from_secs(60)).await?;
    let fanout = clients as u64;
    loop {
        let pace = load::Pace {
            count: (plan.saturation_deliveries / fanout).max(50),
            fanout,
            window: window(fanout),
            batch: 32,
            deadline: plan.saturation_time,
        };
        let name = RowName {
            clients,
            server: server.kind.label(),
            ingress: out.label(),
            eio: if eio == Eio::V3 { "3" } else { "3+4" },
        };
        let mut row = saturation(&mut out, &fleet, &[server.pid()], pace, name).await?;
        // A quarter of laravel-echo-server's saturation rate, when it delivered anything.
        if server.kind == Kind::Les && offered.deliveries_per_s.is_none() && row.throughput > 0.0 {
            offered.deliveries_per_s = Some(row.throughput / 4.0);
        }
        if with_latency {
            let per_s = offered
                .deliveries_per_s
                .unwrap_or(DEFAULT_OFFERED_DELIVERIES)
                / fanout as f64;
            let lat = load::offered(&mut out, &fleet, per_s, plan.latency_time, fanout).await?;
            row.offered = Some(per_s);
            row.p50_ms = Some(lat.tally.latency_ms(0.50));
            row.p99_ms = Some(lat.tally.latency_ms(0.99));
            row.max_ms = Some(lat.tally.latency_ms(1.0));
            row.latency = Some(Delivery::of(&lat));
        }
        eprintln!(
            "  fan-out {clients:>6} {:<20} {:<10} {:>12.0} deliveries/s  p99 {}",
            row.server,
            row.ingress,
            row.throughput,
            row.p99_ms.map_or("-".to_owned(), |v| format!("{v:.2} ms"))
        );
        rows.push(row);
        match ingresses.next() {
            Some(next) => out.set_ingress(next),
            None => break,
        }
    }
    Ok(())
}

pub fn slug(kind: Kind) -> &'static str {
    match kind {
        Kind::Les => "les",
        Kind::RustEcho => "rust-echo",
        Kind::InProcess => "in-process",
        Kind::Raw => "raw",
        Kind::Adapter => "adapter",
    }
}
