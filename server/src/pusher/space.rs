//! The apps and their channel spaces. The first app is the default app: its channels are the
//! Socket.IO channels, its presence members are the engine's, and every ingress delivers to it.
//! Other apps have channels and presence of their own.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::channels::Channels;
use super::frames;
use crate::config::PusherApp;
use crate::engine::Engine;
use crate::message::Message;
use crate::presence::{Member, Presence};

/// Every app's space; empty when no app is configured.
#[derive(Debug)]
pub(crate) struct Pusher {
    pub apps: Vec<AppSpace>,
    /// Turns true when the server shuts down: every connection closes.
    closing: watch::Sender<bool>,
    /// Every connection task holds a receiver; all dropped means all connections are closed.
    alive: watch::Sender<()>,
}

/// What a connection task holds while it runs: the shutdown signal, and its share of `alive`.
#[derive(Debug)]
pub(crate) struct Running {
    pub closing: watch::Receiver<bool>,
    _alive: watch::Receiver<()>,
}

/// One app: its settings, channels, presence and sockets.
#[derive(Debug)]
pub(crate) struct AppSpace {
    pub app: PusherApp,
    /// Position in [`Pusher::apps`]; 0 is the default app.
    pub index: usize,
    pub channels: Channels,
    /// Presence of an app other than the default one.
    own_presence: Option<Presence>,
    /// Socket ids in use.
    sockets: Mutex<HashSet<Arc<str>>>,
    connections: AtomicUsize,
}

impl Pusher {
    pub(crate) fn new(apps: &[PusherApp]) -> Self {
        let apps = apps
            .iter()
            .enumerate()
            .map(|(index, app)| AppSpace {
                app: app.clone(),
                index,
                channels: Channels::default(),
                own_presence: (index > 0).then(Presence::default),
                sockets: Mutex::default(),
                connections: AtomicUsize::new(0),
            })
            .collect();
        Pusher {
            apps,
            closing: watch::Sender::new(false),
            alive: watch::Sender::new(()),
        }
    }

    /// Held by a connection task for as long as it runs.
    pub(crate) fn running(&self) -> Running {
        Running {
            closing: self.closing.subscribe(),
            _alive: self.alive.subscribe(),
        }
    }

    /// Close every connection (each writes what is queued first) and wait until all are closed.
    pub(crate) async fn close(&self) {
        self.closing.send_replace(true);
        self.alive.closed().await;
    }

    /// The app clients connect to with `key`.
    pub(crate) fn by_key(&self, key: &str) -> Option<&AppSpace> {
        self.apps.iter().find(|a| a.app.key == key)
    }

    /// The app the HTTP API names by `id`.
    pub(crate) fn by_id(&self, id: &str) -> Option<&AppSpace> {
        self.apps.iter().find(|a| a.app.id == id)
    }

    /// The index of the app with `id`; `None` names the shared space (index 0), which exists
    /// with or without Pusher apps.
    pub(crate) fn index_of(&self, id: Option<&str>) -> Option<usize> {
        match id {
            None => Some(0),
            Some(id) => self.apps.iter().position(|a| a.app.id == id),
        }
    }

    /// What [`Pusher::index_of`] reads back for app `index`.
    pub(crate) fn id_of(&self, index: usize) -> Option<&str> {
        self.apps
            .get(index)
            .filter(|_| index > 0)
            .map(|a| a.app.id.as_str())
    }

    /// The default app, whose channels are the Socket.IO channels.
    pub(crate) fn default_space(&self) -> Option<&AppSpace> {
        self.apps.first()
    }

    /// Pusher sockets of the default app in `channel` (they share the Socket.IO channels).
    pub(crate) fn default_count(&self, channel: &str) -> usize {
        self.default_space()
            .map_or(0, |s| s.channels.count(channel))
    }

    /// The default app's channels with their Pusher socket counts.
    pub(crate) fn default_channels(&self) -> Vec<(String, usize)> {
        self.default_space()
            .map(|s| s.channels.all())
            .unwrap_or_default()
    }

    /// A Socket.IO member joined a presence channel (the user's first socket there).
    pub(crate) fn socketio_member_joined(&self, engine: &Engine, channel: &str, member: &Member) {
        if let Some(space) = self.default_space() {
            super::members::added(engine, space, channel, member, super::members::By::SocketIo);
        }
    }

    /// A Socket.IO member left a presence channel (the user's last socket there).
    pub(crate) fn socketio_member_left(&self, engine: &Engine, channel: &str, member: &Member) {
        if let Some(space) = self.default_space() {
            super::members::removed(engine, space, channel, member, super::members::By::SocketIo);
        }
    }

    /// A delivery of `msg` to the Pusher sockets of app `index`.
    pub(crate) fn delivery<'a>(&'a self, index: usize, msg: &'a Message) -> Delivery<'a> {
        Delivery {
            space: self.apps.get(index),
            msg,
            data: None,
        }
    }
}

/// Close this node's connections of app `app` that joined a presence channel as `user`:
/// Pusher sockets, and for the default app Socket.IO sockets.
pub(crate) fn terminate_user(engine: &Engine, app: usize, user: &str) {
    let Some(space) = engine.pusher.apps.get(app) else {
        return;
    };
    space.channels.hangup_user(user);
    if space.is_default() {
        for sid in engine.presence.sockets_of_user(user) {
            if let Some(socket) = engine.io.get_socket(sid) {
                let _ = socket.disconnect(); // already gone: nothing to do
            }
        }
    }
}

/// One message on its way to the Pusher sockets of its channels: the data is turned into a
/// Pusher string once, and each channel's frame is built once for all its sockets.
pub(crate) struct Delivery<'a> {
    space: Option<&'a AppSpace>,
    msg: &'a Message,
    data: Option<String>,
}

impl Delivery<'_> {
    /// Queue the message on the sockets of `channel` (except the one it names); how many.
    pub(crate) fn channel(&mut self, channel: &str) -> usize {
        let Some(space) = self.space else {
            return 0;
        };
        let (msg, data) = (self.msg, &mut self.data);
        space
            .channels
            .broadcast(channel, msg.socket.as_deref(), true, || {
                let data = data.get_or_insert_with(|| frames::data_string(msg.data.get()));
                frames::broadcast(&msg.event, data, channel)
            })
    }
}

impl AppSpace {
    /// The presence members of this app's channels.
    pub(crate) fn presence<'a>(&'a self, engine: &'a Engine) -> &'a Presence {
        self.own_presence.as_ref().unwrap_or(&engine.presence)
    }

    /// This node's connections of the app subscribed to at least one channel (what Reverb's
    /// `/connections` counts): its Pusher sockets, and for the default app its Socket.IO sockets.
    pub(crate) async fn subscribed_connections(&self, engine: &Engine) -> usize {
        let mut pusher = HashSet::new();
        self.channels.subscribed_sockets(&mut pusher);
        let mut socketio = HashSet::new();
        if self.is_default() {
            for room in engine.io.rooms().await.unwrap_or_default() {
                socketio.extend(engine.io.to(room).sockets().iter().map(|s| s.id));
            }
        }
        pusher.len() + socketio.len()
    }

    /// Whether this app's channels are the Socket.IO channels.
    pub(crate) fn is_default(&self) -> bool {
        self.index == 0
    }

    /// Admit a connection: a fresh socket id, or `None` when the app is at its capacity.
    pub(crate) fn open(&self) -> Option<Arc<str>> {
        let now = self.connections.fetch_add(1, Ordering::AcqRel);
        if self.app.capacity.is_some_and(|cap| now >= cap) {
            self.connections.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let mut sockets = self.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // Pusher's form, `N.N`, as Reverb makes it.
            let id: Arc<str> = Arc::from(format!(
                "{}.{}",
                fastrand::u32(1..=1_000_000_000),
                fastrand::u32(1..=1_000_000_000)
            ));
            if sockets.insert(id.clone()) {
                return Some(id);
            }
        }
    }

    /// A connection admitted by [`AppSpace::open`] closed.
    pub(crate) fn close(&self, id: &str) {
        let mut sockets = self.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        if sockets.remove(id) {
            self.connections.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
