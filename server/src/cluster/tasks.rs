//! Starting the cluster's tasks (relay publisher and subscriber, presence, liveness) once the
//! runtime is up, and stopping them in the order a graceful stop needs.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Node;
use super::presence::{self, Op};
use super::{liveness, relay, subscriber};
use crate::engine::Engine;

/// The cluster's running tasks.
#[derive(Debug)]
pub(crate) struct Tasks {
    node: Arc<Node>,
    stop: watch::Sender<bool>,
    relay: Option<JoinHandle<()>>,
    subscriber: JoinHandle<()>,
    liveness: JoinHandle<()>,
    presence: Option<JoinHandle<()>>,
}

/// Start the relay's tasks for `engine`'s node (none when the cluster is off).
pub(crate) fn start(engine: &Arc<Engine>) -> Option<Tasks> {
    let node = engine.cluster.clone()?;
    let (stop, stop_rx) = watch::channel(false);
    let queue = node
        .queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let relay = queue.map(|q| {
        tokio::spawn(relay::run(
            q,
            node.redis.clone(),
            node.channel.clone(),
            engine.stats.clone(),
            stop_rx.clone(),
        ))
    });
    let subscriber = tokio::spawn(subscriber::run(engine.clone(), stop_rx));
    let ops = node
        .op_queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    let presence = ops.map(|ops| tokio::spawn(presence::run(engine.clone(), ops)));
    let liveness = tokio::spawn(liveness::run(engine.clone()));
    Some(Tasks {
        node,
        stop,
        relay,
        subscriber,
        liveness,
        presence,
    })
}

impl Tasks {
    /// Leave the cluster: take this node's members away at once (their `presence:leaving` goes
    /// to the other nodes), publish what is queued, then stop; gives up after `grace`.
    pub(crate) async fn stop(mut self, grace: std::time::Duration) {
        self.liveness.abort();
        let (done, swept) = tokio::sync::oneshot::channel();
        self.node.presence(Op::Sweep {
            id: self.node.id.clone(),
            done: Some(done),
        });
        if tokio::time::timeout(grace, swept).await.is_err() {
            tracing::warn!(
                "cluster: this node's members could not be removed in time; the other nodes will sweep them"
            );
        }
        if let Some(p) = self.presence.take() {
            p.abort();
        }
        let _ = self.stop.send(true);
        if let Some(relay) = self.relay.as_mut()
            && tokio::time::timeout(grace, &mut *relay).await.is_err()
        {
            relay.abort();
        }
        self.subscriber.abort();
    }
}
