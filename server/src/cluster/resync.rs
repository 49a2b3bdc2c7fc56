//! Making Redis hold exactly this node's presence members again. Presence writes that could not
//! reach Redis are not retried one by one (the link fails fast while Redis is away); instead,
//! once Redis answers again, this node compares what it has ([`crate::presence::Presence`]) with
//! what Redis says it contributed (`<ns>:node:<id>`) and applies the difference with the same
//! scripts, announcing what the other nodes have not been told:
//!
//! - a user Redis has for this node but the node no longer has: `LEAVE`, and `presence:leaving`
//!   when that was the user's last node;
//! - a user the node has but Redis does not: `JOIN`, and `presence:joining` when the user is new
//!   to the cluster — unless the node's registration was `lost` because Redis lost its data (then
//!   nobody was told the user left). When the other nodes swept this node they were told, and the
//!   sweep left a mark saying so.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use redis::Value as RedisValue;
use serde_json::value::RawValue;
use socketioxide::socket::Sid;

use super::announce::{News, announce, render_pusher, scoped, unscoped};
use super::backplane::Link;
use super::keys::Keys;
use super::presence::{join, leave};
use crate::engine::Engine;
use crate::message::Message;
use crate::presence::Member;
use crate::protocol::PRESENCE_JOINING;

pub(super) async fn run(engine: &Engine, link: &mut Link, keys: &Keys, lost: bool) {
    let Some(node) = engine.cluster.as_ref() else {
        return;
    };
    let announce_joins = !lost || swept(engine, link, keys, node.id()).await;
    let mut cmd = redis::cmd("HKEYS");
    cmd.arg(keys.node(node.id()));
    let Some(fields) = link.query::<Vec<String>>(&engine.stats, &cmd).await else {
        node.mark_dirty();
        return;
    };
    let in_redis: BTreeSet<(String, String)> = fields
        .iter()
        .filter_map(|f| serde_json::from_str::<(String, String)>(f).ok())
        .collect();
    let here = members_here(engine);
    tracing::info!(
        here = here.len(),
        in_redis = in_redis.len(),
        lost,
        "cluster: reconciling this node's presence members with Redis"
    );
    for (channel, user) in in_redis.iter().filter(|k| !here.contains_key(*k)) {
        if let Some(gone) = leave(engine, link, keys, channel, user).await {
            announce(engine, channel, News::Leaving, gone, None, None);
        }
    }
    for ((channel, _), member) in here.iter().filter(|(k, _)| !in_redis.contains(*k)) {
        if let Some(r) = join(engine, link, keys, channel, member, true).await
            && announce_joins
            && r.first_in_cluster
            && let Ok(me) = serde_json::value::to_raw_value(&member.wire())
        {
            joining(engine, channel, member.user_key(), me, r.at);
        }
    }
}

/// This node's members, by cluster channel name and user: the shared space's and every other
/// Pusher app's.
fn members_here(engine: &Engine) -> BTreeMap<(String, String), Arc<Member>> {
    let mut here = BTreeMap::new();
    let spaces = engine.pusher.apps.iter().enumerate().skip(1);
    let others = spaces.map(|(app, space)| (app, space.presence(engine)));
    for (app, presence) in std::iter::once((0, &engine.presence)).chain(others) {
        for (channel, m) in presence.all_users() {
            let name = scoped(engine, app, &channel).into_owned();
            here.insert((name, m.user_key().to_owned()), m);
        }
    }
    here
}

/// `presence:joining` for a user this node has: to every node's sockets of the channel but the
/// user's own Socket.IO sockets here (they have it in their member list already; a Pusher
/// client told of its own user keeps one entry for it). `at`: when the user joined the cluster.
fn joining(engine: &Engine, name: &str, user: &str, member: Box<RawValue>, at: u64) {
    let Some((app, channel)) = unscoped(engine, name) else {
        return;
    };
    if app > 0 {
        announce(engine, name, News::Joining, member, None, Some(at));
        return;
    }
    let own: Vec<Sid> = engine.presence.sockets_of(channel, user);
    for socket in engine.io.to(channel.to_owned()).sockets() {
        if !own.contains(&socket.id) {
            socket.emit(PRESENCE_JOINING, &(channel, &member)).ok(); // gone: nothing to tell
        }
    }
    render_pusher(engine, 0, channel, News::Joining, &member, None);
    if let Some(node) = &engine.cluster {
        let msg = Message {
            channels: vec![channel.to_owned()],
            event: PRESENCE_JOINING.to_owned(),
            data: member,
            socket: None,
        };
        node.relay_presence(None, News::Joining, &msg, Some(at));
    }
}

/// Whether the other nodes swept this one (and so told everyone its members left); clears the
/// mark.
async fn swept(engine: &Engine, link: &mut Link, keys: &Keys, id: &str) -> bool {
    let mut cmd = redis::cmd("GETDEL");
    cmd.arg(keys.swept(id));
    matches!(
        link.query::<RedisValue>(&engine.stats, &cmd).await,
        Some(RedisValue::BulkString(_) | RedisValue::SimpleString(_))
    )
}
