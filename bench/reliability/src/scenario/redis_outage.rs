//! redis-server SIGKILLed for a few seconds under a steady publisher (one PUBLISH every 2 ms),
//! then started again on the same port. Every publish is classified by what Redis answered:
//! failed, reached no subscriber (0), or reached ≥ 1 subscriber. The last kind must all be
//! delivered, in order. Figures: ms from Redis accepting publishes again to the first publish
//! that reaches the server, and the publishes made in that gap.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use echo_bench::client::Sub;
use echo_bench::fleet::{Eio, Fleet};
use echo_bench::procs::Proc;
use serde_json::json;

use crate::figures::Figures;
use crate::harness::{self, Env, Server};
use crate::publishers::wait_delivered;

const CLIENTS: usize = 10;
const CHANNEL: &str = "rel-outage";

/// What a publisher saw over one outage.
#[derive(Debug, Default)]
struct Tally {
    failed: u64,
    unheard_before: u64,
    unheard_after: u64,
    heard: u64,
    resume_ms: Option<u128>,
}

pub async fn run(env: &Env, figs: &mut Figures, outages: &[u64]) -> Result<(), String> {
    let port = echo_bench::sys::free_port().map_err(|e| e.to_string())?;
    let mut redis = redis_server(env, port, 0)?;
    let server = Server::start(env, "redis-outage", |c| {
        c["databaseConfig"]["redis"] = json!({ "host": "127.0.0.1", "port": port })
    })
    .await?;
    let fleet = Fleet::connect(server.addr, CLIENTS, Eio::V3).await?;
    fleet.shared.no_latencies.store(true, Relaxed);
    let sub = |_| {
        vec![Sub {
            channel: CHANNEL.to_owned(),
            id: 1,
            user: None,
            start: Some(0),
        }]
    };
    fleet.subscribe(sub, Duration::from_secs(10)).await?;
    server
        .wait_subscribers(CHANNEL, CLIENTS as u64, Duration::from_secs(10))
        .await?;
    let mut seq = 0u64;
    for (i, secs) in outages.iter().enumerate() {
        let base = fleet.shared.delivered.load(Relaxed);
        let t = outage(
            port,
            &mut redis,
            env,
            i + 1,
            Duration::from_secs(*secs),
            &mut seq,
        )
        .await?;
        let waited = wait_delivered(
            &fleet.shared,
            base + t.heard * CLIENTS as u64,
            Duration::from_secs(5),
        )
        .await;
        let got = fleet.tally().await;
        let name = format!("redis_outage.{secs}s");
        figs.put(&format!("{name}.published_failed"), t.failed);
        figs.put(
            &format!("{name}.published_unheard_while_down"),
            t.unheard_before,
        );
        figs.put(
            &format!("{name}.published_unheard_after_return"),
            t.unheard_after,
        );
        match t.resume_ms {
            Some(ms) => figs.put(&format!("{name}.resume_ms"), ms),
            None => figs.fail(format!("{name}: delivery never resumed")),
        }
        let lost = (t.heard * CLIENTS as u64).saturating_sub(got.received);
        figs.check(
            &format!("{name}.lost_outside_downtime"),
            lost,
            lost == 0 && waited.is_ok(),
            "0",
        );
        figs.check(
            &format!("{name}.duplicated_or_reordered"),
            got.behind,
            got.behind == 0,
            "0",
        );
    }
    drop(redis);
    Ok(())
}

fn redis_server(env: &Env, port: u16, n: usize) -> Result<Proc, String> {
    let p = port.to_string();
    let args = [
        "--port",
        &p,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ];
    let mut proc = Proc::spawn(
        &format!("redis-outage-{n}"),
        "redis-server",
        &args,
        &env.out,
        &env.out,
        None,
        &[],
    )?;
    proc.wait_for_log("Ready to accept connections", Duration::from_secs(10))?;
    Ok(proc)
}

/// Publish steadily; after 1 s kill Redis for `down`, start it again, and publish until 2 s after
/// the first publish that reaches a subscriber again.
async fn outage(
    port: u16,
    redis: &mut Proc,
    env: &Env,
    n: usize,
    down: Duration,
    seq: &mut u64,
) -> Result<Tally, String> {
    let mut t = Tally::default();
    let mut conn = crate::scenario::ingress::redis_connection(port).await.ok();
    let mut pace = tokio::time::interval(Duration::from_millis(2));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let (mut killed_at, mut back_at, mut first_heard): (
        Option<Instant>,
        Option<Instant>,
        Option<Instant>,
    ) = (None, None, None);
    loop {
        pace.tick().await;
        if killed_at.is_none() && started.elapsed() > Duration::from_secs(1) {
            harness::kill9(redis.pid());
            killed_at = Some(Instant::now());
            conn = None;
        }
        if let Some(k) = killed_at
            && back_at.is_none()
            && k.elapsed() >= down
            && !redis.running()
        {
            *redis = redis_server(env, port, n)?;
            back_at = Some(Instant::now());
        }
        if first_heard.is_some_and(|h| h.elapsed() > Duration::from_secs(2)) {
            return Ok(t);
        }
        if started.elapsed() > down + Duration::from_secs(30) {
            return Ok(t);
        }
        if conn.is_none() && (killed_at.is_none() || back_at.is_some()) {
            conn = crate::scenario::ingress::redis_connection(port).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            t.failed += 1;
            continue;
        };
        let data = format!(
            r#"{{"event":"App\\Events\\Bench","data":{{"c":1,"s":{},"t":0,"w":0}},"socket":null}}"#,
            *seq
        );
        *seq += 1;
        match redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(data)
            .query_async::<i64>(c)
            .await
        {
            Err(_) => {
                t.failed += 1;
                conn = None;
            }
            Ok(0) if back_at.is_some() => t.unheard_after += 1,
            Ok(0) => t.unheard_before += 1,
            Ok(_) => {
                t.heard += 1;
                if let Some(b) = back_at
                    && first_heard.is_none()
                {
                    first_heard = Some(Instant::now());
                    t.resume_ms = Some(b.elapsed().as_millis());
                }
            }
        }
    }
}
