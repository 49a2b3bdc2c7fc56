//! The channels of one connection as its events arrived: the channels it has joined, the
//! subscribes waiting for the app's answer (one ticket per channel, the newest wins), the whispers
//! it sent to a channel whose subscribe is still waiting, and whether it has closed.
//!
//! socketioxide calls the `subscribe`, `unsubscribe` and `client event` handlers of one socket in
//! the order the packets arrived; each handler changes this state synchronously under one lock,
//! so the events take effect in that order and only the wait for Laravel's answer is
//! asynchronous. A ticket taken by a subscribe is cancelled by a later unsubscribe and
//! superseded by a later subscribe of the same channel, so a late answer joins nothing. Joins
//! after the close are refused under the same lock, which keeps the subscription gauges exact
//! when a join races a disconnect. This module holds the state only; what a change means on the
//! wire is the handlers' business.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::Value;

/// Whispers one connection may have held behind its waiting subscribes, all channels together,
/// so a client cannot park unbounded data here (with `clientEventsPerSecond: 0` nothing else
/// would bound it). A page whispers once or twice right after subscribing.
const MAX_HELD: usize = 16;

/// A whisper held until the subscribe in front of it is answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Held {
    /// The `client-*` event name.
    pub event: String,
    /// Its payload.
    pub data: Value,
}

/// One connection's channels, behind the connection's lock.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    inner: Mutex<Channels>,
}

impl Subscriptions {
    /// Run `f` with the connection's channels locked. Handlers apply their side effects (room
    /// membership, gauges, presence, replies) inside `f`, so they happen in the order the
    /// events arrived. Never call it again from inside `f`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Channels) -> R) -> R {
        // Nothing in `f` leaves the state half-changed on a panic in a way that matters more
        // than losing the connection's bookkeeping, so a poisoned lock is taken over.
        let mut guard: MutexGuard<'_, Channels> =
            self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }
}

/// Where a whisper goes.
#[derive(Debug, PartialEq)]
pub(crate) enum Whisper {
    /// The sender is in the channel: relay it now.
    Relay,
    /// The sender's subscribe to the channel waits for the app: held until it is answered.
    Held,
    /// Waiting, and the connection already holds [`MAX_HELD`]: dropped.
    Full,
    /// The sender is neither in the channel nor waiting for it: dropped.
    NotSubscribed,
    /// Over the client-event rate limit: dropped.
    Limited,
}

/// The state itself.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    closed: bool,
    joined: HashSet<String>,
    pending: HashMap<String, Pending>,
    next_ticket: u64,
    /// Whispers held across every waiting subscribe.
    held: usize,
}

#[derive(Debug)]
struct Pending {
    ticket: u64,
    held: Vec<Held>,
}

impl Channels {
    /// Whether the connection has closed; nothing joins after that.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether `channel` is joined.
    pub(crate) fn is_joined(&self, channel: &str) -> bool {
        self.joined.contains(channel)
    }

    /// Whether one more channel fits under `limit`: channels joined or waiting count once each,
    /// and a channel already joined or waiting always fits.
    pub(crate) fn has_room_for(&self, channel: &str, limit: usize) -> bool {
        if self.joined.contains(channel) || self.pending.contains_key(channel) {
            return true;
        }
        let waiting_only = self
            .pending
            .keys()
            .filter(|c| !self.joined.contains(*c))
            .count();
        self.joined.len() + waiting_only < limit
    }

    /// Record `channel` as joined; whether it was not joined before. Refused (false) once the
    /// connection has closed: callers check [`Channels::is_closed`] first.
    pub(crate) fn join(&mut self, channel: &str) -> bool {
        !self.closed && self.joined.insert(channel.to_owned())
    }

    /// Forget `channel` as joined; whether it was joined.
    pub(crate) fn leave(&mut self, channel: &str) -> bool {
        self.joined.remove(channel)
    }

    /// A subscribe of `channel` that waits for the app: its ticket, replacing (and so
    /// superseding) any earlier one. Whispers held behind the earlier one stay held.
    pub(crate) fn begin(&mut self, channel: &str) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.pending
            .entry(channel.to_owned())
            .and_modify(|p| p.ticket = ticket)
            .or_insert(Pending {
                ticket,
                held: Vec::new(),
            });
        ticket
    }

    /// The app answered the subscribe holding `ticket`: the whispers held behind it when the
    /// ticket is still the newest for `channel` and the connection is open (the answer counts),
    /// `None` when an unsubscribe, a newer subscribe or the close came first (it is dropped).
    pub(crate) fn finish(&mut self, channel: &str, ticket: u64) -> Option<Vec<Held>> {
        if self.closed || self.pending.get(channel).map(|p| p.ticket) != Some(ticket) {
            return None;
        }
        self.take(channel)
    }

    /// Forget a waiting subscribe of `channel` and what it held (the client unsubscribed).
    pub(crate) fn cancel(&mut self, channel: &str) {
        self.take(channel);
    }

    fn take(&mut self, channel: &str) -> Option<Vec<Held>> {
        let p = self.pending.remove(channel)?;
        self.held = self.held.saturating_sub(p.held.len());
        Some(p.held)
    }

    /// Route a whisper to `channel`; `allow` (the rate limit) is asked only for a whisper that
    /// would be relayed or held. A waiting subscribe holds it even when the channel is already
    /// joined (a re-subscribe): it takes effect after what the client sent before it.
    pub(crate) fn whisper(
        &mut self,
        channel: &str,
        event: &str,
        data: &Value,
        allow: impl FnOnce() -> bool,
    ) -> Whisper {
        let joined = self.joined.contains(channel);
        let Some(pending) = self.pending.get_mut(channel) else {
            return match (joined, joined && allow()) {
                (false, _) => Whisper::NotSubscribed,
                (true, true) => Whisper::Relay,
                (true, false) => Whisper::Limited,
            };
        };
        if !allow() {
            return Whisper::Limited;
        }
        if self.held >= MAX_HELD {
            return Whisper::Full;
        }
        pending.held.push(Held {
            event: event.to_owned(),
            data: data.clone(),
        });
        self.held += 1;
        Whisper::Held
    }

    /// The connection closed: every joined channel, to undo; waiting subscribes are dropped
    /// and nothing joins from now on.
    pub(crate) fn close(&mut self) -> Vec<String> {
        self.closed = true;
        self.pending.clear();
        self.held = 0;
        self.joined.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unsubscribe_cancels_the_waiting_subscribe() {
        let mut c = Channels::default();
        let t = c.begin("private-a");
        c.cancel("private-a");
        assert_eq!(c.finish("private-a", t), None);
    }

    #[test]
    fn a_newer_subscribe_supersedes_the_older_answer() {
        let mut c = Channels::default();
        let old = c.begin("private-a");
        c.cancel("private-a");
        let new = c.begin("private-a");
        assert_eq!(c.finish("private-a", old), None);
        assert_eq!(c.finish("private-a", new), Some(Vec::new()));
    }

    #[test]
    fn nothing_joins_or_finishes_after_close() {
        let mut c = Channels::default();
        assert!(c.join("news"));
        let t = c.begin("private-a");
        assert_eq!(c.close(), vec!["news".to_owned()]);
        assert!(c.is_closed());
        assert_eq!(c.finish("private-a", t), None);
        assert!(!c.join("news"));
        assert!(c.close().is_empty());
    }

    #[test]
    fn whispers_wait_behind_their_subscribe() {
        let mut c = Channels::default();
        let yes = || true;
        assert_eq!(
            c.whisper("private-a", "client-x", &json!(1), yes),
            Whisper::NotSubscribed
        );
        let t = c.begin("private-a");
        assert_eq!(
            c.whisper("private-a", "client-x", &json!(1), || false),
            Whisper::Limited
        );
        assert_eq!(
            c.whisper("private-a", "client-x", &json!(1), yes),
            Whisper::Held
        );
        for _ in 1..MAX_HELD {
            c.whisper("private-a", "client-x", &json!(2), yes);
        }
        assert_eq!(
            c.whisper("private-a", "client-x", &json!(3), yes),
            Whisper::Full
        );
        let other = c.begin("private-b");
        assert_eq!(
            c.whisper("private-b", "client-x", &json!(4), yes),
            Whisper::Full,
            "the bound is per connection"
        );
        c.cancel("private-b");
        assert_eq!(c.finish("private-b", other), None);
        let held = c.finish("private-a", t).unwrap();
        assert_eq!(held.len(), MAX_HELD);
        assert_eq!(held[0].data, json!(1));
        c.begin("private-b");
        assert_eq!(
            c.whisper("private-b", "client-x", &json!(5), yes),
            Whisper::Held,
            "released with the subscribe that held them"
        );
        assert!(c.join("private-a"));
        assert_eq!(
            c.whisper("private-a", "client-x", &json!(1), yes),
            Whisper::Relay
        );
    }

    #[test]
    fn the_channel_limit_counts_joined_and_waiting_once() {
        let mut c = Channels::default();
        c.join("a");
        c.begin("a");
        c.begin("private-b");
        assert!(!c.has_room_for("c", 2));
        assert!(c.has_room_for("a", 2));
        assert!(c.has_room_for("private-b", 2));
        assert!(c.has_room_for("c", 3));
    }
}
