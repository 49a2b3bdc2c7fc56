//! This node of a cluster: its random id, the names it uses, and the hooks the engine and the
//! socket handlers call (relay a message, a whisper, a presence change).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use socketioxide::socket::Sid;

use super::announce::{Joiner, News};
use super::backplane::Target;
use super::envelope::{Kind, Tag};
use super::keys::Keys;
use super::presence::{self, Op};
use super::{api, envelope, relay};
use crate::config::ClusterConfig;
use crate::message::Message;
use crate::presence::Member;
use crate::stats::Stats;
use crate::whisper::ClientEvent;

/// This node of a cluster.
#[derive(Debug)]
pub struct Node {
    pub(super) id: String,
    pub(super) channel: String,
    pub(super) redis: Target,
    relay: relay::Relay,
    pub(super) queue: std::sync::Mutex<Option<relay::Queue>>,
    subscribed: AtomicBool,
    keys: Keys,
    pub(super) ops: presence::Ops,
    pub(super) op_queue: std::sync::Mutex<Option<presence::OpQueue>>,
    pub(super) api: api::ApiLink,
    /// A presence write did not reach Redis: the next successful beat asks for a resync.
    presence_dirty: AtomicBool,
}

impl Node {
    /// A node with a fresh random id; its tasks start with [`super::start`].
    pub(crate) fn new(config: &ClusterConfig, stats: Arc<Stats>) -> Self {
        let (relay, queue) = relay::channel(stats);
        let (ops, op_queue) = tokio::sync::mpsc::unbounded_channel();
        let keys = Keys::new(&config.namespace);
        let channel = keys.relay();
        Node {
            // Socket ids are 16 random URL-safe characters: as good a node id.
            id: Sid::new().to_string(),
            redis: Target::new(config.redis.clone(), channel.clone()),
            channel,
            relay,
            queue: std::sync::Mutex::new(Some(queue)),
            subscribed: AtomicBool::new(false),
            keys,
            ops,
            op_queue: std::sync::Mutex::new(Some(op_queue)),
            api: api::ApiLink::default(),
            presence_dirty: AtomicBool::new(false),
        }
    }

    /// A presence write did not reach Redis.
    pub(super) fn mark_dirty(&self) {
        self.presence_dirty.store(true, Ordering::Relaxed);
    }

    /// Whether a presence write was lost since the last call.
    pub(super) fn take_dirty(&self) -> bool {
        self.presence_dirty.swap(false, Ordering::Relaxed)
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.keys
    }

    pub(crate) fn presence(&self, op: Op) {
        // The task ends only after the engine is gone.
        let _ = self.ops.send(op);
    }

    /// `joiner` joined the presence channel (its cluster name, see [`super::scoped`]) as
    /// `member` (`first`: the user's first socket on this node). The presence task answers with
    /// the member list and, when the user is new to the cluster, announces it everywhere.
    /// `local` is this node's member list.
    pub(crate) fn presence_joined(
        &self,
        channel: &str,
        joiner: Joiner,
        member: Arc<Member>,
        first: bool,
        local: Vec<Arc<Member>>,
    ) {
        self.presence(Op::Join {
            channel: channel.to_owned(),
            joiner,
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

    pub(crate) fn redis(&self) -> &Target {
        &self.redis
    }

    /// Whether the relay subscriber holds a subscribed connection.
    pub fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    pub(super) fn set_subscribed(&self, up: bool) {
        self.subscribed.store(up, Ordering::Relaxed);
    }

    /// Relay a message that entered this node in the channels of app `app` (`None`: the shared
    /// space) to the other nodes (encoded once, queued without waiting).
    pub(crate) fn relay(&self, app: Option<&str>, msg: &Message) {
        self.send(app, Tag::default(), msg);
    }

    /// Queue `msg` with what `tag` says of it, encoded once as this node's envelope.
    fn send(&self, app: Option<&str>, tag: Tag<'_>, msg: &Message) {
        self.relay.send(envelope::encode(&self.id, app, tag, msg));
    }

    /// Relay presence news; `msg` names the channel and carries the member, `at` when a joining
    /// member joined the cluster.
    pub(crate) fn relay_presence(
        &self,
        app: Option<&str>,
        news: News,
        msg: &Message,
        at: Option<u64>,
    ) {
        let kind = match news {
            News::Joining => Kind::Joining,
            News::Leaving => Kind::Leaving,
        };
        let tag = Tag {
            kind,
            at,
            user_id: None,
        };
        self.send(app, tag, msg);
    }

    /// Relay a client event that entered here, in the channels of app `app`, to the other
    /// nodes' sockets of its channel.
    pub(crate) fn relay_whisper(&self, app: Option<&str>, event: &ClientEvent<'_>) {
        let msg = Message {
            channels: vec![event.channel.to_owned()],
            event: event.event.to_owned(),
            data: event.data.to_owned(),
            socket: None,
        };
        let tag = Tag {
            kind: Kind::ClientEvent,
            at: None,
            user_id: event.user_id,
        };
        self.send(app, tag, &msg);
    }

    /// Have the other nodes close the connections of `user` in app `app`'s channels.
    pub(crate) fn relay_terminate(&self, app: Option<&str>, user: &str) {
        let Ok(data) = serde_json::value::to_raw_value(user) else {
            return;
        };
        let msg = Message {
            channels: Vec::new(),
            event: "terminate".to_owned(),
            data,
            socket: None,
        };
        let tag = Tag {
            kind: Kind::Terminate,
            ..Tag::default()
        };
        self.send(app, tag, &msg);
    }

    /// Whether Laravel's subscriber should skip `channel`: with an empty `keyPrefix` its pattern
    /// `*` also matches the relay channel, whose envelopes are not Laravel's events.
    pub(crate) fn owns_channel(&self, channel: &str) -> bool {
        channel == self.channel
    }
}
