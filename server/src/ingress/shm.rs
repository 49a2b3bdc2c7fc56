//! The shared-memory ingress: one thread owns the ring, drains it in order, keeps its heartbeat
//! fresh and hands each record to the delivery function. Records that fail to decode are
//! counted and logged (throttled), never delivered.
//!
//! The thread supervises itself: a panic while draining is caught, counted
//! (`rust_echo_ring_restarts_total`, `/health`), and the drain starts again on a fresh ring —
//! whatever state the panic left is not trusted; producers re-attach to the new file by name.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::forward::{Forwarder, Outbox};
use crate::engine::Engine;
use crate::message::DecodeError;
use crate::shm::{Clock, Consumer, RingError, RingInfo, Throttle};
use crate::stats::{DropReason, Ingress};

/// How long the thread sleeps without records; bounds heartbeat gaps and stop latency.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// Longest pause between restarts when draining keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Makes a fresh ring with the server's settings (after a panic).
pub(crate) type Recreate = Box<dyn Fn() -> Result<Consumer, RingError> + Send>;

/// Control of the running ring thread.
#[derive(Debug)]
pub(crate) struct RingThread {
    stop: Arc<AtomicBool>,
    info: Arc<Mutex<RingInfo>>,
    thread: Option<JoinHandle<()>>,
}

/// What the drain loop works with; kept across restarts.
struct Drain {
    engine: Arc<Engine>,
    outbox: Outbox,
    stop: Arc<AtomicBool>,
    info: Arc<Mutex<RingInfo>>,
    resets_seen: u64,
    log: Throttle,
    clock: Clock,
}

impl RingThread {
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        consumer: Consumer,
        forward: Forwarder,
        recreate: Recreate,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let info = Arc::new(Mutex::new(consumer.info()));
        let mut drain = Drain {
            engine,
            outbox: forward.outbox(),
            stop: stop.clone(),
            info: info.clone(),
            resets_seen: 0,
            log: Throttle::new(Duration::from_secs(1)),
            clock: Clock::default(),
        };
        let thread = std::thread::Builder::new()
            .name("rust-echo-shm".to_owned())
            .spawn(move || drain.supervise(consumer, &recreate))?;
        Ok(RingThread {
            stop,
            info,
            thread: Some(thread),
        })
    }

    pub(crate) fn info_handle(&self) -> Arc<Mutex<RingInfo>> {
        self.info.clone()
    }

    pub(crate) fn info(&self) -> RingInfo {
        self.info
            .lock()
            .map(|i| i.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Stop after draining; the ring file is removed when the consumer drops.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RingThread {
    /// A server dropped without `shutdown()` still closes its ring and removes the file.
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why the drain loop ended.
enum Ended {
    /// The server is stopping.
    Stopped,
    /// Another process truncated the ring file.
    Truncated,
}

impl Drain {
    /// Drain until stopped; after a panic or a truncated ring, count it, make a fresh ring and
    /// drain again.
    fn supervise(&mut self, mut consumer: Consumer, recreate: &Recreate) {
        let health = self.engine.stats.clone();
        let mut backoff = Duration::from_millis(10);
        loop {
            health.ring.set_up(true);
            let run = catch_unwind(AssertUnwindSafe(|| self.run(&mut consumer)));
            health.ring.set_up(false);
            match run {
                Ok(Ended::Stopped) => return,
                Ok(Ended::Truncated) => {
                    tracing::error!(ring = %consumer.name(), "another process truncated the ring file; replacing it with a fresh ring");
                }
                Err(panic) => {
                    let cause = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(ring = %consumer.name(), %cause, "the ring's drain thread panicked; starting it again on a fresh ring");
                }
            }
            health.ring.restarted();
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            match recreate() {
                // The old ring is closed as it drops: its producers re-attach to the new file.
                Ok(fresh) => consumer = fresh,
                Err(e) => {
                    tracing::error!(error = %e, "could not make a fresh ring; draining the old one");
                }
            }
            self.resets_seen = 0;
            consumer.wait(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// The drain loop, then a last drain of what producers committed before the stop.
    fn run(&mut self, consumer: &mut Consumer) -> Ended {
        let mut idle_since = Instant::now();
        while !self.stop.load(Ordering::Acquire) {
            #[cfg(test)]
            tests::maybe_panic(consumer.name());
            let polled = consumer.poll(|r| self.take(r));
            self.outbox.flush();
            if consumer.truncated() {
                return Ended::Truncated;
            }
            if polled > 0 {
                idle_since = Instant::now();
            } else if idle_since.elapsed() < crate::ingress::bus::spin() {
                // Stay awake briefly under load so producers need not wake us.
                std::thread::yield_now();
            } else {
                consumer.wait(IDLE_WAIT);
                idle_since = Instant::now();
            }
            self.publish_info(consumer);
        }
        consumer.poll(|r| self.take(r));
        self.outbox.flush();
        self.publish_info(consumer);
        Ended::Stopped
    }

    fn take(&mut self, record: Result<crate::Message, DecodeError>) {
        match record {
            Ok(m) => self.outbox.push(m, Ingress::Shm),
            Err(e) => {
                self.engine.stats.dropped(DropReason::InvalidMessage);
                if let Some(suppressed) = self.log.admit(&self.clock) {
                    tracing::warn!(error = %e, similar_not_logged = suppressed, "ring record dropped");
                }
            }
        }
    }

    fn publish_info(&mut self, consumer: &Consumer) {
        let info = consumer.info();
        if info.resets > self.resets_seen {
            self.engine.stats.ring.reset(info.resets - self.resets_seen);
            self.resets_seen = info.resets;
        }
        if let Ok(mut slot) = self.info.lock() {
            *slot = info;
        }
    }
}

#[cfg(test)]
mod tests;
