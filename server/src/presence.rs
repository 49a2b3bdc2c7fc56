//! Presence membership, in memory on this node, behind one type so the storage can be swapped
//! for a shared one later.
//!
//! One record per (channel, socket). Users are told apart by `user_id` with loose equality, as
//! laravel-echo-server does (`1` and `"1"` are the same user): the first socket of a user makes it
//! join, the last one gone makes it leave. Leaving a channel the socket never joined is a no-op.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::socket::Sid;

/// What the app's auth endpoint said about a presence member (`channel_data`).
#[derive(Debug, Clone)]
pub struct Member {
    /// `user_id`, as the app sent it.
    pub user_id: Box<RawValue>,
    /// `user_info`, as the app sent it (`null` when absent).
    pub user_info: Box<RawValue>,
    /// `user_id` normalized for comparisons.
    key: String,
}

impl PartialEq for Member {
    fn eq(&self, other: &Self) -> bool {
        self.user_id.get() == other.user_id.get() && self.user_info.get() == other.user_info.get()
    }
}

/// Why `channel_data` cannot make a member.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberError {
    /// The auth reply has no `channel_data` (e.g. the presence callback returned `true`).
    #[error("member data for presence channel missing: the auth reply has no channel_data")]
    Missing,
    /// `channel_data` is neither an object nor a JSON string of one.
    #[error("channel_data is not an object")]
    NotAnObject,
    /// `channel_data` has no usable `user_id`.
    #[error("channel_data has no user_id")]
    NoUserId,
}

#[derive(serde::Deserialize)]
struct ChannelData<'a> {
    #[serde(borrow, default)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user_info: Option<&'a RawValue>,
}

impl Member {
    /// Read the member from an auth reply body's `channel_data`, which Laravel sends as an object
    /// and Pusher-style backends as a JSON string.
    ///
    /// # Errors
    /// No `channel_data`, not an object, or no `user_id`.
    pub fn from_auth_body(body: &serde_json::Value) -> Result<Self, MemberError> {
        let cd = match body.get("channel_data") {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {
                return Err(MemberError::Missing);
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ serde_json::Value::Object(_)) => v.to_string(),
            Some(_) => return Err(MemberError::NotAnObject),
        };
        let parsed: ChannelData<'_> =
            serde_json::from_str(&cd).map_err(|_| MemberError::NotAnObject)?;
        let user_id = parsed
            .user_id
            .filter(|id| id.get() != "null" && id.get() != "\"\"")
            .ok_or(MemberError::NoUserId)?;
        let key = match serde_json::from_str::<serde_json::Value>(user_id.get()) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(serde_json::Value::Number(n)) => n.to_string(),
            _ => user_id.get().to_owned(),
        };
        Ok(Member {
            user_id: user_id.to_owned(),
            user_info: parsed
                .user_info
                .map_or_else(crate::message::null, ToOwned::to_owned),
            key,
        })
    }

    /// The member as sent to clients, with the socket id where laravel-echo-server adds it.
    pub fn wire(&self, socket: Option<Sid>) -> MemberWire<'_> {
        MemberWire {
            user_id: &self.user_id,
            user_info: &self.user_info,
            socket_id: socket,
        }
    }
}

/// Serialized form: `{"user_id":..,"user_info":..,"socketId":".."}`.
#[derive(Debug, Serialize)]
pub struct MemberWire<'a> {
    user_id: &'a RawValue,
    user_info: &'a RawValue,
    #[serde(rename = "socketId", skip_serializing_if = "Option::is_none")]
    socket_id: Option<Sid>,
}

/// The result of a join.
#[derive(Debug)]
pub struct Joined {
    /// Members to send in `presence:subscribed`: one per user, the newest record first.
    pub members: Vec<(Sid, Arc<Member>)>,
    /// Whether this socket is the user's first in the channel (others get `presence:joining`).
    pub first_of_user: bool,
}

/// Presence members of every channel on this node.
#[derive(Debug, Default)]
pub struct Presence {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Records per channel, oldest first.
    channels: HashMap<String, Vec<(Sid, Arc<Member>)>>,
    /// Presence channels per socket, so a disconnect costs only that socket's channels.
    sockets: HashMap<Sid, Vec<String>>,
}

impl Presence {
    /// Record `socket` as `member` in `channel`, replacing an earlier record of the same socket.
    pub fn join(&self, channel: &str, socket: Sid, member: Member) -> Joined {
        let mut inner = self.lock();
        let records = inner.channels.entry(channel.to_owned()).or_default();
        records.retain(|(s, _)| *s != socket);
        let first_of_user = !records.iter().any(|(_, m)| m.key == member.key);
        records.push((socket, Arc::new(member)));
        let mut members: Vec<(Sid, Arc<Member>)> = Vec::new();
        for (s, m) in records.iter().rev() {
            if !members.iter().any(|(_, seen)| seen.key == m.key) {
                members.push((*s, m.clone()));
            }
        }
        let chans = inner.sockets.entry(socket).or_default();
        if !chans.iter().any(|c| c == channel) {
            chans.push(channel.to_owned());
        }
        Joined {
            members,
            first_of_user,
        }
    }

    /// Remove `socket` from `channel`. Returns the member when it was the user's last socket
    /// there (so `presence:leaving` is due).
    pub fn leave(&self, channel: &str, socket: Sid) -> Option<Arc<Member>> {
        let mut inner = self.lock();
        if let Some(chans) = inner.sockets.get_mut(&socket) {
            chans.retain(|c| c != channel);
            if chans.is_empty() {
                inner.sockets.remove(&socket);
            }
        }
        Self::remove_record(&mut inner, channel, socket)
    }

    /// Remove `socket` from every presence channel (disconnect). Returns `(channel, member)` for
    /// each channel where it was the user's last socket.
    pub fn leave_all(&self, socket: Sid) -> Vec<(String, Arc<Member>)> {
        let mut inner = self.lock();
        let Some(chans) = inner.sockets.remove(&socket) else {
            return Vec::new();
        };
        chans
            .into_iter()
            .filter_map(|c| Self::remove_record(&mut inner, &c, socket).map(|m| (c, m)))
            .collect()
    }

    /// The users present in `channel`, one record per user, oldest first.
    pub fn users(&self, channel: &str) -> Vec<Arc<Member>> {
        let inner = self.lock();
        let mut users: Vec<Arc<Member>> = Vec::new();
        for (_, m) in inner.channels.get(channel).into_iter().flatten() {
            if !users.iter().any(|u| u.key == m.key) {
                users.push(m.clone());
            }
        }
        users
    }

    /// Number of presence channels with at least one member.
    pub fn channel_count(&self) -> usize {
        self.lock().channels.len()
    }

    fn remove_record(inner: &mut Inner, channel: &str, socket: Sid) -> Option<Arc<Member>> {
        let records = inner.channels.get_mut(channel)?;
        let pos = records.iter().position(|(s, _)| *s == socket)?;
        let (_, member) = records.remove(pos);
        let still_there = records.iter().any(|(_, m)| m.key == member.key);
        if records.is_empty() {
            inner.channels.remove(channel);
        }
        (!still_there).then_some(member)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the maps half-updated in a way that
        // matters more than losing presence entirely, so a poisoned lock is simply taken over.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
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
        assert!(p.leave("presence-x", a).is_none());
        assert!(p.leave("presence-x", b).is_some());
        assert_eq!(p.channel_count(), 0);
    }

    #[test]
    fn leaving_twice_or_unknown_is_a_no_op() {
        let p = Presence::default();
        let a = Sid::new();
        assert!(p.leave("presence-x", a).is_none());
        p.join("presence-x", a, member(json!(2)));
        assert!(p.leave_all(a).len() == 1);
        assert!(p.leave_all(a).is_empty());
        assert!(p.leave("presence-x", a).is_none());
    }

    #[test]
    fn channel_data_forms() {
        let s = Member::from_auth_body(&json!({"channel_data": "{\"user_id\":5}"})).unwrap();
        assert_eq!(s.user_id.get(), "5");
        assert_eq!(s.user_info.get(), "null");
        assert_eq!(
            Member::from_auth_body(&json!(true)),
            Err(MemberError::Missing)
        );
        assert_eq!(
            Member::from_auth_body(&json!({"channel_data": {"user_info": {}}})),
            Err(MemberError::NoUserId)
        );
        assert_eq!(
            Member::from_auth_body(&json!({"channel_data": 3})),
            Err(MemberError::NotAnObject)
        );
        let w = serde_json::to_string(&s.wire(None)).unwrap();
        assert_eq!(w, r#"{"user_id":5,"user_info":null}"#);
    }
}
