//! Several servers on one Redis (`cluster.enabled`). Laravel's own Redis PUBLISHes already reach
//! every node; what enters one node any other way (the ring, the in-process bus, the HTTP API,
//! whispers) is delivered there as before and also relayed through a Redis Pub/Sub channel to
//! the others, which deliver it to their sockets and never relay it again.
//!
//! - [`Node`]: this node's id and names, and the hooks the engine calls;
//! - `envelope`: the relayed message's wire form;
//! - `relay`: the bounded queue and the task that PUBLISHes it in pipelines;
//! - `subscriber`: the task that receives the other nodes' events;
//! - `presence`: presence for the whole cluster in Redis, applied by one task in order;
//! - `scripts`: the Lua scripts that change it atomically; `keys`: the names they use;
//! - `liveness`: each node's beat, and the sweep of nodes that stopped beating;
//! - `api`: the HTTP API's figures for the whole cluster;
//! - `backplane`: connections to the backplane's Redis and the retry pace.

pub(crate) mod api;
mod backplane;
mod envelope;
mod keys;
mod liveness;
mod presence;
mod relay;
mod scripts;
mod subscriber;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use socketioxide::socket::Sid;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ClusterConfig, RedisConfig};
use crate::engine::Engine;
use crate::message::Message;
use crate::presence::Member;
use crate::stats::Stats;
use keys::Keys;
use presence::Op;

/// This node of a cluster.
#[derive(Debug)]
pub struct Node {
    id: String,
    channel: String,
    redis: RedisConfig,
    relay: relay::Relay,
    queue: std::sync::Mutex<Option<relay::Queue>>,
    subscribed: AtomicBool,
    keys: Keys,
    ops: presence::Ops,
    op_queue: std::sync::Mutex<Option<presence::OpQueue>>,
    api: api::ApiLink,
}

impl Node {
    /// A node with a fresh random id; its tasks start with [`start`].
    pub(crate) fn new(config: &ClusterConfig, stats: Arc<Stats>) -> Self {
        let (relay, queue) = relay::channel(stats);
        let (ops, op_queue) = tokio::sync::mpsc::unbounded_channel();
        Node {
            // Socket ids are 16 random URL-safe characters: as good a node id.
            id: Sid::new().to_string(),
            channel: format!("{}:relay", config.namespace),
            redis: config.redis.clone(),
            relay,
            queue: std::sync::Mutex::new(Some(queue)),
            subscribed: AtomicBool::new(false),
            keys: Keys::new(&config.namespace),
            ops,
            op_queue: std::sync::Mutex::new(Some(op_queue)),
            api: api::ApiLink::default(),
        }
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.keys
    }

    pub(crate) fn presence(&self, op: Op) {
        // The task ends only after the engine is gone.
        let _ = self.ops.send(op);
    }

    /// `socket` joined the presence channel as `member` (`first`: the user's first socket on
    /// this node). The presence task answers with `presence:subscribed` and, when the user is
    /// new to the cluster, announces it everywhere. `local` is this node's member list.
    pub(crate) fn presence_joined(
        &self,
        channel: &str,
        socket: Sid,
        member: Arc<Member>,
        first: bool,
        local: Vec<Arc<Member>>,
    ) {
        self.presence(Op::Join {
            channel: channel.to_owned(),
            socket,
            member,
            first,
            local,
        });
    }

    /// The user's last socket on this node left the presence channel.
    pub(crate) fn presence_left(&self, channel: &str, member: Arc<Member>) {
        self.presence(Op::Leave {
            channel: channel.to_owned(),
            member,
        });
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
