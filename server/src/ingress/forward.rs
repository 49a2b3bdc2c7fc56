//! Hands messages from the ingress threads (the in-process bus, the shared-memory ring) to one
//! task on the runtime, which delivers them in the order they came.
//!
//! Delivering on a runtime worker queues each socket writer's wake on that worker's own run
//! queue. Delivered from a plain thread, every wake of a broadcast went through the runtime's
//! shared injection queue instead, which halved fan-out throughput at a few thousand sockets.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::Engine;
use crate::message::Message;
use crate::stats::Ingress;

/// Batches in flight between the threads and the task; the threads wait when it is full, which
/// is the backpressure their own queues already expect.
const CAPACITY: usize = 64;

/// Messages handed over at once: one wake of the task per batch, not per message.
const BATCH: usize = 64;

type Batch = Vec<(Message, Ingress)>;

/// The threads' end of the hand-off; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Forwarder {
    tx: mpsc::Sender<Batch>,
    engine: Arc<Engine>,
}

impl Forwarder {
    /// Start the delivering task; it ends once every `Forwarder` is dropped and the queue is empty.
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        runtime: &tokio::runtime::Handle,
    ) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Batch>(CAPACITY);
        let e = engine.clone();
        let task = runtime.spawn(async move {
            while let Some(batch) = rx.recv().await {
                e.deliver_all(&batch);
            }
        });
        (Forwarder { tx, engine }, task)
    }

    /// A per-thread collector that hands messages over in batches.
    pub(crate) fn outbox(&self) -> Outbox {
        Outbox {
            forward: self.clone(),
            batch: Vec::with_capacity(BATCH),
        }
    }

    /// Deliver `batch` on the runtime, waiting for room in the queue. Plain threads only.
    fn send(&self, batch: Batch) {
        if let Err(mpsc::error::SendError(batch)) = self.tx.blocking_send(batch) {
            // The runtime is shutting down: deliver from here rather than lose the messages.
            self.engine.deliver_all(&batch);
        }
    }
}

/// Messages a thread has received and not yet handed over. The thread calls [`Outbox::flush`]
/// whenever its own source runs dry, so a message waits only while more are arriving.
#[derive(Debug)]
pub(crate) struct Outbox {
    forward: Forwarder,
    batch: Batch,
}

impl Outbox {
    pub(crate) fn push(&mut self, msg: Message, ingress: Ingress) {
        self.batch.push((msg, ingress));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    pub(crate) fn flush(&mut self) {
        if !self.batch.is_empty() {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            self.forward.send(batch);
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.flush();
    }
}
