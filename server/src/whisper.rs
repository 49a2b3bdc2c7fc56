//! A client event on its way to the other sockets of its channel: one fan-out for a Socket.IO
//! whisper and a Pusher `client-*` event alike, whichever node it entered.
//!
//! - Pusher sockets of the app get it as Reverb relays a client event: `data` as JSON, not a
//!   string, plus the sender's `user_id` when the sender is a presence member and only members
//!   may send.
//! - Socket.IO sockets get it, on a private or presence channel of the default app, as
//!   laravel-echo-server relays a whisper: `[event, channel, data]`.
//! - The sender never gets it back. One that entered here is relayed to the other nodes, whose
//!   sockets get the same frames, `user_id` included.

use serde_json::value::RawValue;
use socketioxide::extract::SocketRef;

use crate::channel::ChannelKind;
use crate::engine::{Engine, drive};
use crate::pusher::frames;
use crate::stats::Ingress;

/// A client event for the sockets of `channel` in app `app`'s space.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientEvent<'a> {
    /// The Pusher app; 0 is the default app, whose channels are the Socket.IO channels.
    pub app: usize,
    pub channel: &'a str,
    pub event: &'a str,
    pub data: &'a RawValue,
    /// The sender's `user_id` (its JSON text), added to the Pusher frame.
    pub user_id: Option<&'a str>,
}

/// Where a client event comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sender<'a> {
    /// A Socket.IO socket of this node.
    SocketIo(&'a SocketRef),
    /// A Pusher connection of this node, by its socket id.
    Pusher(&'a str),
    /// Another node of the cluster, which has delivered it to its own sockets.
    Node,
}

impl ClientEvent<'_> {
    /// Deliver to this node's sockets of the channel except the sender; relay what entered here.
    pub(crate) fn deliver(&self, engine: &Engine, from: Sender<'_>) {
        let except = match from {
            Sender::Pusher(id) => Some(id),
            Sender::SocketIo(_) | Sender::Node => None,
        };
        if let Some(space) = engine.pusher.apps.get(self.app) {
            space.channels.broadcast(self.channel, except, true, || {
                frames::client_event(self.event, self.channel, self.data.get(), self.user_id)
            });
        }
        if self.app == 0 && ChannelKind::of(self.channel).is_guarded() {
            let to = match from {
                Sender::SocketIo(socket) => socket.to(self.channel.to_owned()),
                Sender::Pusher(_) | Sender::Node => engine.io.to(self.channel.to_owned()),
            };
            drive(to.emit(self.event, &(self.channel, self.data)));
        }
        if let Sender::Node = from {
            engine.stats.received(Ingress::Cluster);
            return;
        }
        engine.stats.whispered();
        if let Some(node) = &engine.cluster {
            node.relay_whisper(engine.pusher.id_of(self.app), self);
        }
    }
}
