//! The Pusher sockets of each channel of one app, sharded by channel name with a lock per
//! shard. Frames are queued while the shard is locked (queueing never waits), so a socket gets a
//! channel's frames in the order they were sent, and its `subscription_succeeded` before any
//! broadcast of the channel. A `cache-` channel keeps its last broadcast while it has
//! subscribers, as Reverb does.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::outbox::Outbox;
use crate::presence::Member;

const SHARDS: usize = 32;

/// One subscribed socket.
#[derive(Debug, Clone)]
struct Subscriber {
    outbox: Outbox,
    /// The presence member this socket joined as.
    member: Option<Arc<Member>>,
}

#[derive(Debug, Default)]
struct Channel {
    sockets: HashMap<Arc<str>, Subscriber>,
    cached: Option<Utf8Bytes>,
}

/// The channels of one app.
#[derive(Debug)]
pub(crate) struct Channels {
    shards: Box<[Mutex<HashMap<String, Channel>>]>,
    hasher: RandomState,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }
}

/// Whether `channel` replays its last event to new subscribers.
pub(crate) fn is_cache(channel: &str) -> bool {
    ["cache-", "private-cache-", "presence-cache-"]
        .iter()
        .any(|p| channel.starts_with(p))
}

impl Channels {
    /// Add `socket` to `channel` and queue `first` on it, if any (then the cached event or
    /// `pusher:cache_miss` of a cache channel). Whether the socket was not in it before.
    pub(crate) fn subscribe(
        &self,
        channel: &str,
        socket: &Arc<str>,
        outbox: &Outbox,
        member: Option<Arc<Member>>,
        first: Option<&Utf8Bytes>,
    ) -> bool {
        let mut shard = self.shard(channel);
        let ch = shard.entry(channel.to_owned()).or_default();
        let subscriber = Subscriber {
            outbox: outbox.clone(),
            member,
        };
        let new = ch.sockets.insert(socket.clone(), subscriber).is_none();
        if let Some(first) = first {
            outbox.send(first);
        }
        if is_cache(channel) {
            match &ch.cached {
                Some(frame) => outbox.send(frame),
                None => outbox.send(&super::frames::bare("pusher:cache_miss", Some(channel))),
            };
        }
        new
    }

    /// Remove `socket` from `channel`; the member it had joined as, `None` if it was not in it.
    pub(crate) fn unsubscribe(&self, channel: &str, socket: &str) -> Option<Option<Arc<Member>>> {
        let mut shard = self.shard(channel);
        let ch = shard.get_mut(channel)?;
        let gone = ch.sockets.remove(socket)?;
        if ch.sockets.is_empty() {
            shard.remove(channel);
        }
        Some(gone.member)
    }

    /// Queue a frame on every socket of `channel` but `except`; the frame is built only when
    /// the channel has sockets. `cache` keeps it for later subscribers of a cache channel.
    /// Returns how many sockets it was queued on.
    pub(crate) fn broadcast(
        &self,
        channel: &str,
        except: Option<&str>,
        cache: bool,
        frame: impl FnOnce() -> Utf8Bytes,
    ) -> usize {
        let mut shard = self.shard(channel);
        let Some(ch) = shard.get_mut(channel) else {
            return 0;
        };
        let frame = frame();
        let mut sent = 0;
        for (id, s) in &ch.sockets {
            if Some(id.as_ref()) != except && s.outbox.send(&frame) {
                sent += 1;
            }
        }
        if cache && is_cache(channel) {
            ch.cached = Some(frame);
        }
        sent
    }

    /// Sockets in `channel`.
    pub(crate) fn count(&self, channel: &str) -> usize {
        self.shard(channel)
            .get(channel)
            .map_or(0, |c| c.sockets.len())
    }

    /// Whether `socket` is in `channel`, and the member it joined as.
    pub(crate) fn find(&self, channel: &str, socket: &str) -> Option<Option<Arc<Member>>> {
        let shard = self.shard(channel);
        let s = shard.get(channel)?.sockets.get(socket)?;
        Some(s.member.clone())
    }

    /// Add the id of every socket subscribed to a channel to `ids`.
    pub(crate) fn subscribed_sockets(&self, ids: &mut HashSet<Arc<str>>) {
        for shard in &self.shards {
            for ch in lock(shard).values() {
                ids.extend(ch.sockets.keys().cloned());
            }
        }
    }

    /// Every channel with its socket count.
    pub(crate) fn all(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let shard = lock(shard);
            out.extend(
                shard
                    .iter()
                    .map(|(name, c)| (name.clone(), c.sockets.len())),
            );
        }
        out
    }

    /// The last event of a cache channel, if it has one.
    pub(crate) fn cached(&self, channel: &str) -> Option<Utf8Bytes> {
        self.shard(channel).get(channel)?.cached.clone()
    }

    /// Hang up every socket that joined a presence channel as `user` (its normalized id).
    pub(crate) fn hangup_user(&self, user: &str) -> usize {
        let mut n = 0;
        for shard in &self.shards {
            for ch in lock(shard).values() {
                for s in ch.sockets.values() {
                    if s.member.as_ref().is_some_and(|m| m.user_key() == user) {
                        s.outbox.hangup();
                        n += 1;
                    }
                }
            }
        }
        n
    }

    fn shard(&self, channel: &str) -> MutexGuard<'_, HashMap<String, Channel>> {
        // Truncating the hash only picks a shard.
        let i = self.hasher.hash_one(channel) as usize % self.shards.len();
        lock(&self.shards[i])
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; if something did, the map is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
