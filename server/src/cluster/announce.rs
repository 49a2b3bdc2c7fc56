//! Presence news for the whole cluster, said the way each protocol says it: a user arrived in
//! or left a presence channel somewhere in the cluster. Socket.IO sockets hear
//! `presence:joining` / `presence:leaving`; Pusher sockets `pusher_internal:member_added` /
//! `member_removed`. The announcement travels between nodes as what it is (an envelope of kind
//! joining or leaving), never as an event named `presence:joining`, which Pusher sockets would
//! receive as an ordinary event.
//!
//! Redis names a presence channel of the shared space (the Socket.IO channels and the default
//! Pusher app) by the channel itself, and one of another Pusher app by [`scoped`], so that two
//! apps' channels of the same name keep separate member lists.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::value::RawValue;
use socketioxide::socket::Sid;

use crate::engine::{Engine, drive};
use crate::message::Message;
use crate::protocol::{PRESENCE_JOINING, PRESENCE_LEAVING};
use crate::pusher::frames;
use crate::pusher::outbox::Outbox;

/// Marks a channel name scoped to a Pusher app; no client can send it in a channel name.
const SCOPE: char = '\u{1}';

/// What an announcement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum News {
    Joining,
    Leaving,
}

/// The socket a join came from: it is answered with the member list, and left out of the
/// announcement (the list has the member already).
#[derive(Debug, Clone)]
pub(crate) enum Joiner {
    SocketIo(Sid),
    Pusher { id: Arc<str>, outbox: Outbox },
}

/// The cluster's name of `channel` in app `app`'s space.
pub(crate) fn scoped<'a>(engine: &Engine, app: usize, channel: &'a str) -> Cow<'a, str> {
    match engine.pusher.apps.get(app) {
        Some(space) if app > 0 => Cow::Owned(format!("{SCOPE}{}{SCOPE}{channel}", space.app.id)),
        _ => Cow::Borrowed(channel),
    }
}

/// The app index and channel a [`scoped`] name stands for; `None` for an app this node does
/// not have.
pub(crate) fn unscoped<'a>(engine: &Engine, name: &'a str) -> Option<(usize, &'a str)> {
    let Some(rest) = name.strip_prefix(SCOPE) else {
        return Some((0, name));
    };
    let (id, channel) = rest.split_once(SCOPE)?;
    Some((engine.pusher.index_of(Some(id))?, channel))
}

/// Tell this node's sockets of `channel` in app `app` (but `except`) that `member` (its JSON,
/// `{"user_id":..,"user_info":..}`) joined or left. `at`, when a joining member joined the
/// cluster, spares the Socket.IO sockets whose `presence:subscribed` list was read at or after
/// it and so names the member already (news relayed from another node can cross Redis more
/// slowly than a join here goes through it).
pub(crate) fn render(
    engine: &Engine,
    (app, channel): (usize, &str),
    news: News,
    member: &RawValue,
    except: Option<&Joiner>,
    at: Option<u64>,
) {
    if app == 0 {
        let sender = match except {
            Some(Joiner::SocketIo(sid)) => Some(*sid),
            _ => None,
        };
        match (news, at) {
            (News::Joining, Some(at)) => {
                for socket in engine.io.to(channel.to_owned()).sockets() {
                    if Some(socket.id) != sender
                        && !engine.presence.listed_since(channel, socket.id, at)
                    {
                        // Gone: nothing to tell.
                        socket.emit(PRESENCE_JOINING, &(channel, member)).ok();
                    }
                }
            }
            _ => {
                let sender = sender.and_then(|sid| engine.io.get_socket(sid));
                let to = match &sender {
                    Some(s) => s.to(channel.to_owned()),
                    None => engine.io.to(channel.to_owned()),
                };
                let event = match news {
                    News::Joining => PRESENCE_JOINING,
                    News::Leaving => PRESENCE_LEAVING,
                };
                drive(to.emit(event, &(channel, member)));
            }
        }
    }
    let except = match except {
        Some(Joiner::Pusher { id, .. }) => Some(&**id),
        _ => None,
    };
    render_pusher(engine, app, channel, news, member, except);
}

/// The Pusher part of [`render`]: `except` is a Pusher socket id.
pub(crate) fn render_pusher(
    engine: &Engine,
    app: usize,
    channel: &str,
    news: News,
    member: &RawValue,
    except: Option<&str>,
) {
    let Some(space) = engine.pusher.apps.get(app) else {
        return;
    };
    space
        .channels
        .broadcast(channel, except, false, || match news {
            News::Joining => {
                frames::with_data("pusher_internal:member_added", member.get(), Some(channel))
            }
            News::Leaving => {
                let data = format!("{{\"user_id\":{}}}", user_id(member));
                frames::with_data("pusher_internal:member_removed", &data, Some(channel))
            }
        });
}

/// Tell this node's sockets of the cluster channel `name` (but `except`) and, through the
/// relay, every other node's; `at`: when a joining member joined the cluster.
pub(crate) fn announce(
    engine: &Engine,
    name: &str,
    news: News,
    member: Box<RawValue>,
    except: Option<&Joiner>,
    at: Option<u64>,
) {
    let Some((app, channel)) = unscoped(engine, name) else {
        return;
    };
    render(engine, (app, channel), news, &member, except, at);
    if let Some(node) = &engine.cluster {
        let msg = Message {
            channels: vec![channel.to_owned()],
            event: match news {
                News::Joining => PRESENCE_JOINING,
                News::Leaving => PRESENCE_LEAVING,
            }
            .to_owned(),
            data: member,
            socket: None,
        };
        node.relay_presence(engine.pusher.id_of(app), news, &msg, at);
    }
}

/// The `user_id` of member JSON from Redis or another node (untrusted: `null` when absent).
fn user_id(member: &RawValue) -> &str {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        user_id: &'a RawValue,
    }
    serde_json::from_str::<Id<'_>>(member.get()).map_or("null", |m| m.user_id.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_of_member_json() {
        let m = RawValue::from_string(r#"{"user_id":"7","user_info":{"n":1}}"#.into()).unwrap();
        assert_eq!(user_id(&m), r#""7""#);
        let bad = RawValue::from_string(r#"{"id":1}"#.into()).unwrap();
        assert_eq!(user_id(&bad), "null");
    }
}
