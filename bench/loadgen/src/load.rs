//! The three ways a phase offers load: warm-up (find where every subscription stands), saturation
//! (as fast as the server delivers, with a bounded window of messages in flight) and a fixed
//! offered rate (for latency).

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::client::now_ns;
use crate::fleet::{Fleet, Tally};
use crate::publish::Outbox;

/// A phase is over when deliveries make no progress for this long.
const STALL: Duration = Duration::from_secs(5);

/// What a measured phase produced.
#[derive(Debug)]
pub struct Outcome {
    /// Messages published.
    pub published: u64,
    /// Deliveries owed: one per subscriber of each published message.
    pub expected: u64,
    /// From the first publish to the last delivery (or to the stall).
    pub elapsed: Duration,
    /// What the clients saw.
    pub tally: Tally,
}

impl Outcome {
    /// Deliveries per second at the clients.
    pub fn rate(&self) -> f64 {
        self.tally.received as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Deliveries owed but not received.
    pub fn missing(&self) -> u64 {
        self.expected.saturating_sub(self.tally.received)
    }

    /// Whether every delivery arrived exactly once and in order.
    pub fn exact(&self) -> bool {
        self.missing() == 0
            && self.tally.received == self.expected
            && self.tally.gaps == 0
            && self.tally.behind == 0
            && self.tally.foreign == 0
            && self.tally.silent == 0
    }
}

/// Publish warm-up messages on every channel until each of `subscriptions` has seen one, so
/// that the measured messages that follow are owed to every subscriber; then wait until the
/// warm-up messages still queued in the server have been delivered.
///
/// Another round goes out only after a second in which no subscription saw its first one. A
/// round every 100 ms outran laravel-echo-server at 10,000 clients (a round costs it about a
/// fifth of a second): the rounds piled up in it, and the measured messages queued behind them
/// looked lost.
pub async fn warm_up(
    out: &mut Outbox,
    fleet: &Fleet,
    subscriptions: u64,
    timeout: Duration,
) -> Result<(), String> {
    const QUIET: Duration = Duration::from_secs(1);
    let all: Vec<usize> = (0..out.channel_count()).collect();
    let shared = &fleet.shared;
    let deadline = Instant::now() + timeout;
    let (mut synced, mut moved, mut round) = (0, Instant::now(), None::<Instant>);
    loop {
        let now = shared.synced.load(Relaxed);
        if now >= subscriptions {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {now} of {subscriptions} subscriptions received a warm-up message within \
                 {timeout:?} (connection failures: {}; first: {})",
                shared.failed.load(Relaxed),
                fleet.first_error()
            ));
        }
        if now != synced {
            (synced, moved) = (now, Instant::now());
        }
        if round.is_none_or(|at| at.elapsed() >= QUIET && moved.elapsed() >= QUIET) {
            for chunk in all.chunks(1_000) {
                out.publish(chunk, true).await?;
            }
            round = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Warm-up messages still travelling are not counted as measured ones (they carry the flag),
    // but they keep the server busy: wait until none has arrived for a while.
    let drain = Duration::from_millis(300);
    let mut seen = shared.warm_ups.load(Relaxed);
    loop {
        tokio::time::sleep(drain).await;
        let now = shared.warm_ups.load(Relaxed);
        if now == seen {
            break;
        }
        if Instant::now() > deadline + timeout {
            return Err(format!(
                "warm-up messages still arriving after {:?}",
                timeout * 2
            ));
        }
        seen = now;
    }
    let _ = fleet.tally().await;
    Ok(())
}

/// How a saturation phase publishes.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Messages to publish.
    pub count: u64,
    /// Subscribers of each channel.
    pub fanout: u64,
    /// Deliveries in flight at most.
    pub window: u64,
    /// Messages per publish call (one Redis pipeline).
    pub batch: usize,
    /// Stop publishing after this long.
    pub deadline: Duration,
}

/// Publish `pace.count` messages cycling over the channels in `order`, keeping at most
/// `pace.window` deliveries in flight.
pub async fn saturate(
    out: &mut Outbox,
    fleet: &Fleet,
    order: &[usize],
    pace: Pace,
) -> Result<Outcome, String> {
    let Pace {
        count,
        fanout,
        window,
        batch,
        deadline,
    } = pace;
    let base = fleet.shared.delivered.load(Relaxed);
    let published_before = out.published;
    let started = now_ns();
    let mut next = 0;
    let mut sent = 0u64;
    let mut batch_buf = Vec::with_capacity(batch);
    let stop = started + u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX);
    while sent < count && now_ns() < stop {
        let n = (batch as u64).min(count - sent);
        let owed = (sent + n) * fanout;
        if owed > window {
            let _ = fleet
                .shared
                .wait_delivered(base + owed - window, STALL)
                .await;
        }
        batch_buf.clear();
        for _ in 0..n {
            batch_buf.push(order[next]);
            next = (next + 1) % order.len();
        }
        out.publish(&batch_buf, false).await?;
        sent += n;
    }
    let expected = (out.published - published_before) * fanout;
    let _ = fleet.shared.wait_delivered(base + expected, STALL).await;
    finish(fleet, out.published - published_before, expected, started).await
}

/// Publish on channel 0 at `rate` messages per second for `duration`.
pub async fn offered(
    out: &mut Outbox,
    fleet: &Fleet,
    rate: f64,
    duration: Duration,
    fanout: u64,
) -> Result<Outcome, String> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(format!("no rate to offer messages at ({rate} per second)"));
    }
    let base = fleet.shared.delivered.load(Relaxed);
    let count = (rate * duration.as_secs_f64()).ceil().max(1.0) as u64;
    let period = Duration::from_secs_f64(1.0 / rate);
    let started = tokio::time::Instant::now();
    let started_ns = now_ns();
    for i in 0..count {
        let at = started + period.mul_f64(i as f64);
        tokio::time::sleep_until(at).await;
        out.publish(&[0], false).await?;
    }
    let expected = count * fanout;
    let _ = fleet.shared.wait_delivered(base + expected, STALL).await;
    finish(fleet, count, expected, started_ns).await
}

async fn finish(
    fleet: &Fleet,
    published: u64,
    expected: u64,
    started_ns: u64,
) -> Result<Outcome, String> {
    // From the first publish to the last delivery, not to when the wait noticed it.
    let last = fleet.shared.last_delivery_ns.load(Relaxed);
    let elapsed = Duration::from_nanos(last.saturating_sub(started_ns));
    // A delivery that lost the race with the stall timer would otherwise be counted in the
    // next phase.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tally = fleet.tally().await;
    Ok(Outcome {
        published,
        expected,
        elapsed,
        tally,
    })
}
