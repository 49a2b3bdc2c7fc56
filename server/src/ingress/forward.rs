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

/// Messages in flight between the threads and the task; the threads wait when it is full, which
/// is the backpressure their own queues already expect.
const CAPACITY: usize = 1024;

/// Messages delivered per wake of the task.
const BATCH: usize = 64;

/// The threads' end of the hand-off; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Forwarder {
    tx: mpsc::Sender<(Message, Ingress)>,
    engine: Arc<Engine>,
}

impl Forwarder {
    /// Start the delivering task; it ends once every `Forwarder` is dropped and the queue is empty.
    pub(crate) fn spawn(
        engine: Arc<Engine>,
        runtime: &tokio::runtime::Handle,
    ) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<(Message, Ingress)>(CAPACITY);
        let e = engine.clone();
        let task = runtime.spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                for (msg, ingress) in batch.drain(..) {
                    e.deliver(&msg, ingress);
                }
            }
        });
        (Forwarder { tx, engine }, task)
    }

    /// Deliver `msg` on the runtime, waiting for room in the queue. Called from plain threads only.
    pub(crate) fn deliver(&self, msg: Message, ingress: Ingress) {
        if let Err(mpsc::error::SendError((msg, ingress))) = self.tx.blocking_send((msg, ingress)) {
            // The runtime is shutting down: deliver from here rather than lose the message.
            self.engine.deliver(&msg, ingress);
        }
    }
}
