//! What a Pusher client sends: `pusher:subscribe` (public channels at once; private, presence and
//! `private-encrypted-` channels with a valid signature), `pusher:unsubscribe`, `pusher:ping`,
//! `pusher:pong` and client events. A frame that cannot be read is answered with error 4200, as
//! Reverb does; the connection stays open.

use std::sync::Arc;

use serde_json::json;

use super::connection::Conn;
use super::error::PusherError;
use super::frames::{self, Incoming, Subscription};
use super::members;
use crate::channel::ChannelKind;
use crate::engine::dev_log;
use crate::presence::Member;

/// Handle one text frame.
pub(crate) fn on_message(conn: &mut Conn, text: &str) {
    if let Err(e) = dispatch(conn, text) {
        dev_log!(conn.engine, socket = %conn.id, error = %e, "pusher message refused");
        conn.send(&e.frame());
    }
}

fn dispatch(conn: &mut Conn, text: &str) -> Result<(), PusherError> {
    let msg: Incoming<'_> = serde_json::from_str(text).map_err(|_| PusherError::InvalidFormat)?;
    match msg.event.strip_prefix("pusher:") {
        Some("subscribe") => {
            let s = Subscription::parse(msg.data).ok_or(PusherError::InvalidFormat)?;
            subscribe(conn, &s)
        }
        Some("unsubscribe") => {
            let s = Subscription::parse(msg.data).ok_or(PusherError::InvalidFormat)?;
            unsubscribe(conn, &s.channel);
            Ok(())
        }
        Some("ping") => {
            conn.send(&frames::bare("pusher:pong", None));
            Ok(())
        }
        Some("pong") => Ok(()),
        Some(_) => Err(PusherError::InvalidFormat),
        None => super::client_event::on_client_event(conn, &msg),
    }
}

fn subscribe(conn: &mut Conn, s: &Subscription) -> Result<(), PusherError> {
    let channel = s.channel.as_str();
    let max = conn.engine.config.limits.max_channel_name_length;
    if channel.is_empty() || channel.len() > max {
        return Err(PusherError::InvalidFormat);
    }
    let kind = ChannelKind::of(channel);
    if kind.is_guarded() {
        let app = &conn.space().app;
        let data = (kind == ChannelKind::Presence)
            .then_some(s.channel_data.as_deref())
            .flatten();
        let auth = s.auth.as_deref().unwrap_or_default();
        if !super::signature::channel_auth(&app.key, &app.secret, &conn.id, channel, data, auth) {
            return Err(PusherError::Unauthorized);
        }
    }
    if conn.channels.len() >= conn.engine.config.limits.max_channels_per_socket
        && !conn.channels.contains(channel)
    {
        return Err(PusherError::InvalidFormat);
    }
    let (member, succeeded) = if kind == ChannelKind::Presence {
        let data = s.channel_data.as_deref().unwrap_or_default();
        let member = Member::from_auth_body(&json!({ "channel_data": data }))
            .map_err(|_| PusherError::InvalidFormat)?;
        let (member, frame) = members::join(conn, channel, member);
        (Some(member), frame)
    } else {
        let frame = frames::with_data(
            "pusher_internal:subscription_succeeded",
            "{}",
            Some(channel),
        );
        (None, Some(frame))
    };
    let space = &conn.engine.pusher.apps[conn.app];
    let new = space
        .channels
        .subscribe(channel, &conn.id, &conn.outbox, member, succeeded.as_ref());
    if new {
        conn.engine.stats.subscribed(kind);
        conn.channels.insert(channel.to_owned());
    }
    dev_log!(conn.engine, socket = %conn.id, channel, "pusher client joined channel");
    Ok(())
}

/// Leave `channel` if the socket is in it.
pub(crate) fn unsubscribe(conn: &mut Conn, channel: &str) {
    if conn.channels.remove(channel) {
        left(conn, channel);
    }
}

/// The connection closed: leave every channel.
pub(crate) fn leave_all(conn: &mut Conn) {
    for channel in std::mem::take(&mut conn.channels) {
        left(conn, &channel);
    }
}

fn left(conn: &Conn, channel: &str) {
    let space = &conn.engine.pusher.apps[conn.app];
    let kind = ChannelKind::of(channel);
    if space.channels.unsubscribe(channel, &conn.id).is_some() {
        conn.engine.stats.unsubscribed(kind);
    }
    if kind == ChannelKind::Presence {
        members::leave(conn, channel);
    }
    dev_log!(conn.engine, socket = %conn.id, channel, "pusher client left channel");
}

/// A member record as an `Arc`, for the channel registry, and the `subscription_succeeded`
/// frame (`None` in a cluster, whose presence task sends it once Redis has answered).
pub(crate) type Joined = (
    Arc<Member>,
    Option<tokio_tungstenite::tungstenite::Utf8Bytes>,
);
