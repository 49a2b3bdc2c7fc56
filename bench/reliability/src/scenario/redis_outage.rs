//! redis-server SIGKILLed for a few seconds under a steady publisher (one PUBLISH every 2 ms),
//! then started again on the same port. Every publish is classified by what Redis answered:
//! failed, reached no subscriber (0), or reached ≥ 1 subscriber. The last kind must all be
//! delivered, in order. Figures: ms from Redis accepting publishes again to the first publish
//! that reaches the server, and the publishes made in that gap.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use echo_bench::fleet::{Eio, Fleet};
use echo_bench::procs::{self, Proc};
use redis::aio::MultiplexedConnection;
use serde_json::json;

use crate::figures::Figures;
use crate::harness::{self, Env, Server};
use crate::publishers::wait_delivered;
use crate::scenario::ingress::redis_connection;

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
    harness::subscribe(&fleet, &[(CHANNEL.to_owned(), 1)], Duration::from_secs(10)).await?;
    server
        .wait_subscribers(CHANNEL, CLIENTS as u64, Duration::from_secs(10))
        .await?;
    let mut seq = 0u64;
    for (i, secs) in outages.iter().enumerate() {
        let base = fleet.shared.delivered.load(Relaxed);
        let down = Duration::from_secs(*secs);
        let t = outage(port, &mut redis, env, i + 1, down, &mut seq).await?;
        report(figs, &fleet, base, &format!("redis_outage.{secs}s"), &t).await;
    }
    drop(redis);
    Ok(())
}

fn redis_server(env: &Env, port: u16, n: usize) -> Result<Proc, String> {
    procs::redis_server(&format!("redis-outage-{n}"), port, &env.out, None)
}

/// Wait for the clients to get what reached them, then put the figures of outage `name`.
async fn report(figs: &mut Figures, fleet: &Fleet, base: u64, name: &str, t: &Tally) {
    let expected = t.heard * CLIENTS as u64;
    let waited = wait_delivered(&fleet.shared, base + expected, Duration::from_secs(5)).await;
    let got = fleet.tally().await;
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
    let lost = expected.saturating_sub(got.received);
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
    let conn = redis_connection(port).await.ok();
    let mut pace = tokio::time::interval(Duration::from_millis(2));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut o = Outage {
        env,
        redis,
        port,
        n,
        down,
        started: Instant::now(),
        killed_at: None,
        back_at: None,
        first_heard: None,
        conn,
        tally: Tally::default(),
    };
    loop {
        pace.tick().await;
        o.kill_or_restart()?;
        if o.over() {
            return Ok(o.tally);
        }
        o.publish(seq).await;
    }
}

/// One outage under way: its Redis, when it was killed and back, and what publishing saw.
struct Outage<'a> {
    env: &'a Env,
    redis: &'a mut Proc,
    port: u16,
    n: usize,
    down: Duration,
    started: Instant,
    killed_at: Option<Instant>,
    back_at: Option<Instant>,
    first_heard: Option<Instant>,
    conn: Option<MultiplexedConnection>,
    tally: Tally,
}

impl Outage<'_> {
    /// SIGKILL Redis 1 s in; start it again once it has been down for `down` and is gone.
    fn kill_or_restart(&mut self) -> Result<(), String> {
        if self.killed_at.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            harness::kill9(self.redis.pid());
            self.killed_at = Some(Instant::now());
            self.conn = None;
        }
        if let Some(k) = self.killed_at
            && self.back_at.is_none()
            && k.elapsed() >= self.down
            && !self.redis.running()
        {
            *self.redis = redis_server(self.env, self.port, self.n)?;
            self.back_at = Some(Instant::now());
        }
        Ok(())
    }

    /// 2 s after the first publish heard again, or 30 s past the downtime without one.
    fn over(&self) -> bool {
        self.first_heard
            .is_some_and(|h| h.elapsed() > Duration::from_secs(2))
            || self.started.elapsed() > self.down + Duration::from_secs(30)
    }

    /// One PUBLISH of event `seq` (reconnecting first while Redis should be up), counted by what
    /// Redis answered.
    async fn publish(&mut self, seq: &mut u64) {
        if self.conn.is_none() && (self.killed_at.is_none() || self.back_at.is_some()) {
            self.conn = redis_connection(self.port).await.ok();
        }
        let Some(c) = self.conn.as_mut() else {
            self.tally.failed += 1;
            return;
        };
        let data = format!(
            r#"{{"event":"App\\Events\\Bench","data":{{"c":1,"s":{},"t":0,"w":0}},"socket":null}}"#,
            *seq
        );
        *seq += 1;
        let answer = redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(data)
            .query_async::<i64>(c)
            .await;
        self.count(answer);
    }

    fn count(&mut self, answer: redis::RedisResult<i64>) {
        let t = &mut self.tally;
        match answer {
            Err(_) => {
                t.failed += 1;
                self.conn = None;
            }
            Ok(0) if self.back_at.is_some() => t.unheard_after += 1,
            Ok(0) => t.unheard_before += 1,
            Ok(_) => {
                t.heard += 1;
                if let Some(b) = self.back_at
                    && self.first_heard.is_none()
                {
                    self.first_heard = Some(Instant::now());
                    t.resume_ms = Some(b.elapsed().as_millis());
                }
            }
        }
    }
}
