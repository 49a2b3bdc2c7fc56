//! The shared-memory ingress: one thread owns the ring, drains it in order, keeps its heartbeat
//! fresh and hands each record to the delivery function. Records that fail to decode are
//! counted and logged, never delivered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::forward::{Forwarder, Outbox};
use crate::engine::Engine;
use crate::message::DecodeError;
use crate::shm::{Consumer, RingInfo};
use crate::stats::Ingress;

/// How long the thread sleeps without records; bounds heartbeat gaps and stop latency.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Control of the running ring thread.
#[derive(Debug)]
pub(crate) struct RingThread {
    stop: Arc<AtomicBool>,
    info: Arc<Mutex<RingInfo>>,
    thread: Option<JoinHandle<()>>,
}

impl RingThread {
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        mut consumer: Consumer,
        forward: Forwarder,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let info = Arc::new(Mutex::new(consumer.info()));
        let (s, i) = (stop.clone(), info.clone());
        let thread = std::thread::Builder::new()
            .name("rust-echo-shm".to_owned())
            .spawn(move || {
                let mut outbox = forward.outbox();
                let take = |outbox: &mut Outbox, r: Result<crate::Message, DecodeError>| match r {
                    Ok(m) => outbox.push(m, Ingress::Shm),
                    Err(e) => {
                        engine.stats.dropped(crate::stats::DropReason::InvalidMessage);
                        tracing::warn!(ring = %consumer_name(&i), error = %e, "ring record dropped");
                    }
                };
                let mut idle_since = std::time::Instant::now();
                while !s.load(Ordering::Acquire) {
                    let polled = consumer.poll(|r| take(&mut outbox, r));
                    outbox.flush();
                    if polled > 0 {
                        idle_since = std::time::Instant::now();
                    } else if idle_since.elapsed() < crate::ingress::bus::spin() {
                        // Stay awake briefly under load so producers need not wake us.
                        std::thread::yield_now();
                    } else {
                        consumer.wait(IDLE_WAIT);
                        idle_since = std::time::Instant::now();
                    }
                    if let Ok(mut slot) = i.lock() {
                        *slot = consumer.info();
                    }
                }
                // Deliver what producers committed before the stop.
                consumer.poll(|r| take(&mut outbox, r));
                outbox.flush();
            })?;
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

fn consumer_name(info: &Mutex<RingInfo>) -> String {
    info.lock().map(|i| i.name.clone()).unwrap_or_default()
}
