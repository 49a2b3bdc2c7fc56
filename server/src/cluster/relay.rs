//! The relay's publishing side: [`Relay::send`] queues an encoded envelope without waiting
//! (from any thread, under any lock); one task drains the queue and PUBLISHes what it finds in
//! one pipeline per batch, so a burst costs one round trip per [`BATCH`] events.
//!
//! The queue is bounded: when Redis is slower than the events coming in, or gone, what does not
//! fit is dropped and counted (`rust_echo_cluster_relay_dropped_total`) instead of holding the
//! ingresses back — the local delivery has already happened. A batch whose PUBLISH failed is
//! dropped too, not retried: a retry after a reply was lost would deliver twice.

use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use tokio::sync::{mpsc, watch};

use super::backplane::{self, Retry, Target};
use crate::stats::Stats;

/// Events waiting to be published.
const QUEUE: usize = 65_536;
/// Events published in one pipeline.
const BATCH: usize = 256;

/// The senders' end of the queue; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    tx: mpsc::Sender<Vec<u8>>,
    stats: Arc<Stats>,
}

/// The task's end, handed to [`run`] once the runtime is up.
#[derive(Debug)]
pub(crate) struct Queue(mpsc::Receiver<Vec<u8>>);

/// A relay and the queue its task drains.
pub(crate) fn channel(stats: Arc<Stats>) -> (Relay, Queue) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Relay { tx, stats }, Queue(rx))
}

impl Relay {
    /// Queue one envelope; dropped and counted when the queue is full or closed.
    pub(crate) fn send(&self, envelope: Vec<u8>) {
        if self.tx.try_send(envelope).is_err() {
            self.stats.cluster.dropped(1);
        }
    }
}

/// Publish queued envelopes on `channel` until every [`Relay`] is gone and the queue is empty,
/// or until `stop` turns true and what was queued before it is published.
pub(crate) async fn run(
    Queue(mut rx): Queue,
    target: Target,
    channel: String,
    stats: Arc<Stats>,
    mut stop: watch::Receiver<bool>,
) {
    let mut retry = Retry::default();
    let mut conn: Option<MultiplexedConnection> = None;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let n = tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, BATCH) => n,
            _ = stop.wait_for(|s| *s) => {
                rx.close();
                continue;
            }
        };
        if n == 0 {
            break;
        }
        // A connection Redis closed (a restart) fails before anything is sent: one more try
        // on a new connection loses nothing and duplicates nothing.
        for attempt in 0..2 {
            match publish(&mut conn, &batch, &channel, &target, &stats, &mut retry).await {
                Ok(()) => {
                    stats.cluster.published(batch.len() as u64);
                    break;
                }
                Err(e)
                    if attempt == 0
                        && e.as_ref()
                            .is_some_and(redis::RedisError::is_connection_dropped) => {}
                Err(e) => {
                    if let Some(e) = e {
                        tracing::warn!(error = %e, lost = batch.len(), "cluster relay: publish failed; reconnecting");
                    }
                    stats.cluster.dropped(batch.len() as u64);
                    break;
                }
            }
        }
        batch.clear();
    }
}

/// PUBLISH `batch` in one pipeline; `Err(None)` when there is no connection. A failed
/// connection is dropped, to be made again.
async fn publish(
    conn: &mut Option<MultiplexedConnection>,
    batch: &[Vec<u8>],
    channel: &str,
    target: &Target,
    stats: &Stats,
    retry: &mut Retry,
) -> Result<(), Option<redis::RedisError>> {
    let con = match conn.as_mut() {
        Some(c) => c,
        None => conn.insert(connect(target, stats, retry).await.ok_or(None)?),
    };
    let mut pipe = redis::pipe();
    let command = target.publish_command();
    for envelope in batch {
        pipe.cmd(command)
            .arg(channel)
            .arg(envelope.as_slice())
            .ignore();
    }
    pipe.query_async::<()>(con).await.map_err(|e| {
        *conn = None;
        Some(e)
    })
}

/// One connection attempt after a pause; `None` when it failed. Events that arrive meanwhile
/// stay queued up to the queue's bound.
async fn connect(
    target: &Target,
    stats: &Stats,
    retry: &mut Retry,
) -> Option<MultiplexedConnection> {
    match backplane::connection(target).await {
        Ok(c) => {
            if retry.connected() {
                stats.cluster.reconnected();
            }
            Some(c)
        }
        Err(e) => {
            let (wait, log) = retry.failed();
            if log {
                tracing::warn!(error = %e, addr = %target.describe(), "cluster relay: Redis unreachable");
            }
            tokio::time::sleep(wait).await;
            None
        }
    }
}
