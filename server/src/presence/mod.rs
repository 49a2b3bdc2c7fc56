//! Presence membership, in memory on this node, behind one type so the storage can be swapped
//! for a shared one later.
//!
//! One record per (channel, socket). Users are told apart by `user_id` with loose equality, as
//! laravel-echo-server does (`1` and `"1"` are the same user): the first socket of a user makes it
//! join, the last one gone makes it leave. Leaving a channel the socket never joined is a no-op.
//! Which channels a socket is in is the connection's bookkeeping, not this module's: a closing
//! connection leaves each of its presence channels.
//!
//! Channels live in shards with a lock each; within a channel, records are indexed by socket and
//! by user, so a join or a leave costs O(log n) in the channel's size and a member list O(users).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use socketioxide::socket::Sid;

pub use member::{Member, MemberError, MemberWire};

mod member;

/// The result of a join.
#[derive(Debug)]
pub struct Joined {
    /// Members to send in `presence:subscribed`: one per user, the newest record first.
    pub members: Vec<(Sid, Arc<Member>)>,
    /// Whether this socket is the user's first in the channel (others get `presence:joining`).
    pub first_of_user: bool,
}

/// Channels are spread over this many independently locked shards, so joins and leaves of
/// different channels rarely wait on each other.
const SHARDS: usize = 32;

/// Presence members of every channel on this node.
#[derive(Debug)]
pub struct Presence {
    shards: Box<[Mutex<HashMap<String, Roster>>]>,
    hasher: RandomState,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }
}

/// A user's records in one channel, by record number.
type UserRecords = BTreeMap<u64, (Sid, Arc<Member>)>;

/// One channel's members, indexed so a join or a leave costs O(log n) and a member list
/// O(users): records by socket, sockets by user, and users ordered by their oldest and by
/// their newest record.
#[derive(Debug, Default)]
struct Roster {
    /// Orders records: a larger number is a newer record.
    next: u64,
    /// Socket → its record's number and user.
    records: HashMap<Sid, (u64, Arc<str>)>,
    /// User key → that user's records, by number.
    users: HashMap<Arc<str>, UserRecords>,
    /// Oldest record number of each user → user key (`users()` order).
    by_oldest: BTreeMap<u64, Arc<str>>,
    /// Newest record number of each user → user key (`presence:subscribed` order, reversed).
    by_newest: BTreeMap<u64, Arc<str>>,
    /// Socket → when (the cluster's clock) the member list of its `presence:subscribed` was
    /// read; a relayed `presence:joining` from before then is in that list already.
    snapshots: HashMap<Sid, u64>,
}

impl Roster {
    /// Add a record; whether it is the user's first.
    fn insert(&mut self, socket: Sid, member: Arc<Member>) -> bool {
        let seq = self.next;
        self.next += 1;
        let key: Arc<str> = match self.users.get_key_value(member.user_key()) {
            Some((k, _)) => k.clone(),
            None => Arc::from(member.user_key()),
        };
        self.records.insert(socket, (seq, key.clone()));
        let sockets = self.users.entry(key.clone()).or_default();
        let first = match sockets.last_key_value() {
            Some((newest, _)) => {
                self.by_newest.remove(newest);
                false
            }
            None => {
                self.by_oldest.insert(seq, key.clone());
                true
            }
        };
        sockets.insert(seq, (socket, member));
        self.by_newest.insert(seq, key);
        first
    }

    /// Remove the record of `socket`; its member when it was the user's last record.
    fn remove(&mut self, socket: Sid) -> Option<Arc<Member>> {
        self.snapshots.remove(&socket);
        let (seq, key) = self.records.remove(&socket)?;
        let sockets = self.users.get_mut(&key)?;
        let oldest = *sockets.first_key_value()?.0;
        let newest = *sockets.last_key_value()?.0;
        let (_, member) = sockets.remove(&seq)?;
        if seq == oldest {
            self.by_oldest.remove(&oldest);
            if let Some((&next, _)) = sockets.first_key_value() {
                self.by_oldest.insert(next, key.clone());
            }
        }
        if seq == newest {
            self.by_newest.remove(&newest);
            if let Some((&prev, _)) = sockets.last_key_value() {
                self.by_newest.insert(prev, key.clone());
            }
        }
        if !sockets.is_empty() {
            return None;
        }
        self.users.remove(&key);
        Some(member)
    }

    /// One record per user: each user's newest, the most recent first.
    fn newest_first(&self) -> Vec<(Sid, Arc<Member>)> {
        self.by_newest
            .values()
            .rev()
            .filter_map(|k| self.users.get(k)?.last_key_value())
            .map(|(_, (sid, m))| (*sid, m.clone()))
            .collect()
    }

    /// One record per user: each user's oldest, the longest present first.
    fn oldest_first(&self) -> Vec<Arc<Member>> {
        self.by_oldest
            .values()
            .filter_map(|k| self.users.get(k)?.first_key_value())
            .map(|(_, (_, m))| m.clone())
            .collect()
    }
}

impl Presence {
    /// Record `socket` as `member` in `channel`, replacing an earlier record of the same socket.
    pub fn join(&self, channel: &str, socket: Sid, member: Member) -> Joined {
        let mut shard = self.shard(channel);
        let roster = shard.entry(channel.to_owned()).or_default();
        roster.remove(socket);
        let first_of_user = roster.insert(socket, Arc::new(member));
        Joined {
            members: roster.newest_first(),
            first_of_user,
        }
    }

    /// Remove `socket` from `channel`. Returns the member when it was the user's last socket
    /// there (so `presence:leaving` is due). Leaving a channel the socket is not in is a no-op.
    pub fn leave(&self, channel: &str, socket: Sid) -> Option<Arc<Member>> {
        let mut shard = self.shard(channel);
        let roster = shard.get_mut(channel)?;
        let gone = roster.remove(socket);
        if roster.records.is_empty() {
            shard.remove(channel);
        }
        gone
    }

    /// The users present in `channel`, one record per user, oldest first.
    pub fn users(&self, channel: &str) -> Vec<Arc<Member>> {
        self.shard(channel)
            .get(channel)
            .map(Roster::oldest_first)
            .unwrap_or_default()
    }

    /// Every channel's users, one record per user (its oldest): what this node contributes to
    /// a shared member list.
    pub fn all_users(&self) -> Vec<(String, Arc<Member>)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            for (channel, roster) in lock(shard).iter() {
                out.extend(
                    roster
                        .oldest_first()
                        .into_iter()
                        .map(|m| (channel.clone(), m)),
                );
            }
        }
        out
    }

    /// The member `socket` joined `channel` as.
    pub fn member_of(&self, channel: &str, socket: Sid) -> Option<Arc<Member>> {
        let shard = self.shard(channel);
        let roster = shard.get(channel)?;
        let (seq, key) = roster.records.get(&socket)?;
        roster.users.get(key)?.get(seq).map(|(_, m)| m.clone())
    }

    /// The sockets of user `key` in `channel`.
    pub fn sockets_of(&self, channel: &str, key: &str) -> Vec<Sid> {
        self.shard(channel)
            .get(channel)
            .and_then(|r| r.users.get(key))
            .map(|records| records.values().map(|(sid, _)| *sid).collect())
            .unwrap_or_default()
    }

    /// Every socket recorded as `user` (its `user_id` as a string), in any channel.
    pub fn sockets_of_user(&self, user: &str) -> Vec<Sid> {
        let mut out = Vec::new();
        for shard in &self.shards {
            for roster in lock(shard).values() {
                if let Some(records) = roster.users.get(user) {
                    out.extend(records.values().map(|(sid, _)| *sid));
                }
            }
        }
        out
    }

    /// `socket`'s member list of `channel` was read at `at` (cluster presence); kept while the
    /// socket's record is.
    pub(crate) fn set_snapshot(&self, channel: &str, socket: Sid, at: u64) {
        if let Some(roster) = self.shard(channel).get_mut(channel)
            && roster.records.contains_key(&socket)
        {
            roster.snapshots.insert(socket, at);
        }
    }

    /// Whether `socket`'s member list of `channel` was read at or after `at`, and so holds a
    /// member who joined the cluster at `at`.
    pub(crate) fn listed_since(&self, channel: &str, socket: Sid, at: u64) -> bool {
        self.shard(channel)
            .get(channel)
            .and_then(|r| r.snapshots.get(&socket))
            .is_some_and(|&read| read >= at)
    }

    /// Number of presence channels with at least one member.
    pub fn channel_count(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    fn shard(&self, channel: &str) -> MutexGuard<'_, HashMap<String, Roster>> {
        // Truncating the hash only picks a shard.
        let i = self.hasher.hash_one(channel) as usize % self.shards.len();
        lock(&self.shards[i])
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding this lock cannot leave a roster half-updated in a way that matters
    // more than losing presence entirely, so a poisoned lock is simply taken over.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(id: serde_json::Value) -> Member {
        Member::from_auth_body(&json!({"channel_data": {"user_id": id, "user_info": {"n": 1}}}))
            .unwrap()
    }

    #[test]
    fn first_socket_joins_last_socket_leaves() {
        let p = Presence::default();
        let (a, b) = (Sid::new(), Sid::new());
        assert!(p.join("presence-x", a, member(json!(1))).first_of_user);
        let j = p.join("presence-x", b, member(json!("1")));
        assert!(!j.first_of_user);
        assert_eq!(j.members.len(), 1);
        assert_eq!(j.members[0].0, b, "newest record first");
        let of = |s| {
            p.member_of("presence-x", s)
                .map(|m| m.user_id.get().to_owned())
        };
        assert_eq!((of(a), of(b)), (Some("1".into()), Some(r#""1""#.into())));
        assert!(p.leave("presence-x", a).is_none());
        assert_eq!(of(a), None);
        assert!(p.leave("presence-x", b).is_some());
        assert_eq!(p.channel_count(), 0);
    }

    #[test]
    fn member_lists_keep_their_order_as_records_come_and_go() {
        let p = Presence::default();
        let s: Vec<Sid> = (0..5).map(|_| Sid::new()).collect();
        p.join("presence-x", s[0], member(json!(1)));
        p.join("presence-x", s[1], member(json!(2)));
        p.join("presence-x", s[2], member(json!(1)));
        let j = p.join("presence-x", s[3], member(json!(3)));
        let ids = |m: &[(Sid, Arc<Member>)]| m.iter().map(|(s, _)| *s).collect::<Vec<_>>();
        assert_eq!(
            ids(&j.members),
            vec![s[3], s[2], s[1]],
            "newest record per user"
        );
        let users = |p: &Presence| {
            p.users("presence-x")
                .iter()
                .map(|m| m.user_id.get().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(users(&p), ["1", "2", "3"], "oldest record per user");
        // User 1's oldest record goes: user 1 now counts from its newer record, after user 2.
        assert!(p.leave("presence-x", s[0]).is_none());
        assert_eq!(users(&p), ["2", "1", "3"]);
        // A re-join replaces the socket's record and makes it the newest.
        let j = p.join("presence-x", s[1], member(json!(2)));
        assert!(j.first_of_user);
        assert_eq!(ids(&j.members), vec![s[1], s[3], s[2]]);
        assert!(p.leave("presence-x", s[2]).is_some());
        assert_eq!(users(&p), ["3", "2"]);
    }

    #[test]
    fn large_channels_stay_consistent() {
        let p = Presence::default();
        let sockets: Vec<Sid> = (0..2_000).map(|_| Sid::new()).collect();
        for (i, s) in sockets.iter().enumerate() {
            p.join("presence-big", *s, member(json!(i % 500)));
        }
        assert_eq!(p.users("presence-big").len(), 500);
        let leaving = sockets
            .iter()
            .filter_map(|s| p.leave("presence-big", *s))
            .count();
        assert_eq!(leaving, 500, "each user leaves once, with its last socket");
        assert_eq!(p.channel_count(), 0);
    }

    #[test]
    fn leaving_twice_or_unknown_is_a_no_op() {
        let p = Presence::default();
        let a = Sid::new();
        assert!(p.leave("presence-x", a).is_none());
        p.join("presence-x", a, member(json!(2)));
        assert!(p.leave("presence-x", a).is_some());
        assert!(p.leave("presence-x", a).is_none());
        assert_eq!(p.channel_count(), 0);
    }
}
