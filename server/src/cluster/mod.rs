//! Several servers on one Redis (`cluster.enabled`). Laravel's own Redis PUBLISHes already reach
//! every node; what enters one node any other way (the ring, the in-process bus, the HTTP API,
//! whispers) is delivered there as before and also relayed through a Redis Pub/Sub channel to
//! the others, which deliver it to their sockets and never relay it again.
//!
//! - [`Node`]: this node's id and names, and the hooks the engine calls;
//! - `envelope`: the relayed message's wire form;
//! - `relay`: the bounded queue and the task that PUBLISHes it in pipelines;
//! - `subscriber`: the task that receives the other nodes' events;
//! - `backplane`: connections to the backplane's Redis and the retry pace.

mod backplane;
mod envelope;
mod relay;
mod subscriber;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use socketioxide::socket::Sid;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ClusterConfig, RedisConfig};
use crate::engine::Engine;
use crate::message::Message;
use crate::stats::Stats;

/// This node of a cluster.
#[derive(Debug)]
pub struct Node {
    id: String,
    channel: String,
    redis: RedisConfig,
    relay: relay::Relay,
    queue: std::sync::Mutex<Option<relay::Queue>>,
    subscribed: AtomicBool,
}

impl Node {
    /// A node with a fresh random id; its tasks start with [`start`].
    pub(crate) fn new(config: &ClusterConfig, stats: Arc<Stats>) -> Self {
        let (relay, queue) = relay::channel(stats);
        Node {
            // Socket ids are 16 random URL-safe characters: as good a node id.
            id: Sid::new().to_string(),
            channel: format!("{}:relay", config.namespace),
            redis: config.redis.clone(),
            relay,
            queue: std::sync::Mutex::new(Some(queue)),
            subscribed: AtomicBool::new(false),
        }
    }

    /// This node's id, random per start.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The Pub/Sub channel the nodes relay through.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    pub(crate) fn redis(&self) -> &RedisConfig {
        &self.redis
    }

    /// Whether the relay subscriber holds a subscribed connection.
    pub fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    fn set_subscribed(&self, up: bool) {
        self.subscribed.store(up, Ordering::Relaxed);
    }

    /// Relay a message that entered this node to the other nodes (encoded once, queued
    /// without waiting).
    pub(crate) fn relay(&self, msg: &Message) {
        self.relay.send(envelope::encode(&self.id, msg));
    }

    /// Relay a whisper `socket` sent on `channel` to the other nodes' sockets of the channel.
    pub(crate) fn relay_whisper(
        &self,
        channel: &str,
        event: &str,
        data: &serde_json::Value,
        socket: Sid,
    ) {
        let Ok(data) = serde_json::value::to_raw_value(data) else {
            return;
        };
        self.relay(&Message {
            channels: vec![channel.to_owned()],
            event: event.to_owned(),
            data,
            socket: Some(socket.to_string()),
        });
    }

    /// Whether Laravel's subscriber should skip `channel`: with an empty `keyPrefix` its pattern
    /// `*` also matches the relay channel, whose envelopes are not Laravel's events.
    pub(crate) fn owns_channel(&self, channel: &str) -> bool {
        channel == self.channel
    }
}

/// The cluster's running tasks.
#[derive(Debug)]
pub(crate) struct Tasks {
    stop: watch::Sender<bool>,
    relay: Option<JoinHandle<()>>,
    subscriber: JoinHandle<()>,
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
    Some(Tasks {
        stop,
        relay,
        subscriber,
    })
}

impl Tasks {
    /// Publish what is queued, then stop; gives up after `grace`.
    pub(crate) async fn stop(mut self, grace: std::time::Duration) {
        let _ = self.stop.send(true);
        if let Some(relay) = self.relay.as_mut()
            && tokio::time::timeout(grace, &mut *relay).await.is_err()
        {
            relay.abort();
        }
        self.subscriber.abort();
    }
}
