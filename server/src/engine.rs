//! The state every part of a running server shares, and the one delivery function every ingress
//! hands its messages to.

use std::sync::Arc;

use futures_util::FutureExt;
use socketioxide::SocketIo;
use socketioxide::socket::Sid;

use crate::auth::Authorizer;
use crate::cluster::Node;
use crate::config::Config;
use crate::listener::watchdog::Watchdog;
use crate::message::Message;
use crate::presence::Presence;
use crate::pusher::Pusher;
use crate::runs::Runs;
use crate::stats::{Ingress, Stats};

/// Shared by the socket handlers, the ingresses and the HTTP API.
#[derive(Debug)]
pub(crate) struct Engine {
    /// The Socket.IO server: rooms are channels.
    pub io: SocketIo,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Presence members per channel.
    pub presence: Presence,
    /// Client for the app's auth endpoint.
    pub auth: Authorizer,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Write progress of every connection, to disconnect those that stopped reading.
    pub watchdog: Arc<Watchdog>,
    /// The Pusher-protocol apps and their sockets (the first app shares the Socket.IO channels).
    pub pusher: Pusher,
    /// This node of a cluster (`cluster.enabled`): the relay to the other nodes.
    pub cluster: Option<Arc<Node>>,
}

/// Log at INFO in dev mode (as laravel-echo-server's `devMode` prints), else at DEBUG.
macro_rules! dev_log {
    ($engine:expr, $($arg:tt)*) => {
        if $engine.config.dev_mode {
            tracing::info!($($arg)*)
        } else {
            tracing::debug!($($arg)*)
        }
    };
}
pub(crate) use dev_log;

impl Engine {
    /// Deliver `msg` to every socket in each of its channels, Socket.IO and Pusher alike, except
    /// the socket it names (`toOthers`, either protocol's id). The packet is encoded once per
    /// channel and protocol, and the same bytes are queued on every socket.
    /// In a cluster, a message that entered here (not from Laravel's Redis, not from another
    /// node) is then handed to the relay, which publishes it to the other nodes.
    pub fn deliver(&self, msg: &Message, ingress: Ingress) {
        self.deliver_to(0, msg, ingress);
    }

    /// [`Engine::deliver`] each message of `batch`, in order. Consecutive messages to the same
    /// Socket.IO room reach each of its sockets as one run (`runs.rs`).
    pub fn deliver_all(&self, batch: &[(Message, Ingress)]) {
        let mut runs = Runs::new(self);
        for (msg, ingress) in batch {
            self.deliver_in(0, msg, *ingress, &mut runs);
        }
    }

    /// As [`Engine::deliver`], into the channel space of Pusher app number `app`; the default
    /// app, 0, is the Socket.IO space too.
    pub fn deliver_to(&self, app: usize, msg: &Message, ingress: Ingress) {
        self.deliver_in(app, msg, ingress, &mut Runs::new(self));
    }

    /// One message's delivery: counted, emitted here (Socket.IO sockets through `runs`), then
    /// relayed to the other nodes.
    fn deliver_in<'a>(&self, app: usize, msg: &'a Message, ingress: Ingress, runs: &mut Runs<'a>) {
        self.stats.received(ingress);
        self.emit_local(app, msg, runs);
        self.relay(app, msg, ingress);
    }

    fn relay(&self, app: usize, msg: &Message, ingress: Ingress) {
        if ingress.relayed()
            && let Some(node) = &self.cluster
        {
            node.relay(self.pusher.id_of(app), msg);
        }
    }

    /// Emit `msg` to this node's sockets of its channels in app `app`'s space, except the socket
    /// it names: to Pusher sockets at once, to Socket.IO sockets through `runs`.
    pub(crate) fn emit_local<'a>(&self, app: usize, msg: &'a Message, runs: &mut Runs<'a>) {
        let socketio = app == 0;
        let sender = msg
            .socket
            .as_deref()
            .filter(|_| socketio)
            .and_then(|s| s.parse::<Sid>().ok())
            .and_then(|sid| self.io.get_socket(sid));
        let mut pusher = self.pusher.delivery(app, msg);
        for channel in &msg.channels {
            dev_log!(self, channel = %channel, event = %msg.event, "broadcast");
            pusher.channel(channel);
            if socketio {
                runs.push(channel, sender.as_ref(), &msg.event, &msg.data);
            }
            self.stats.delivered(1);
        }
    }
}

/// Run an emit future. With the in-memory adapter it completes on its first poll, so no runtime
/// is needed and the bus thread can deliver without a round trip through the scheduler.
fn now<E: std::fmt::Display>(fut: impl Future<Output = Result<(), E>>) -> Result<(), String> {
    match fut.now_or_never() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("emit did not complete synchronously".to_owned()),
    }
}

/// Run an emit whose failure only concerns sockets that are closing (protocol replies).
pub(crate) fn drive<E: std::fmt::Display>(fut: impl Future<Output = Result<(), E>>) {
    if let Err(e) = now(fut) {
        tracing::debug!(error = %e, "emit not queued for every socket");
    }
}
