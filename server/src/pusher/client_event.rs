//! Client events (`client-*`) from a Pusher socket, with Reverb's `accept_client_events_from`:
//! `members` relays only from sockets subscribed to the channel and adds the sender's `user_id`
//! on presence channels; `all` relays from any socket of the app; `none` answers 4301. The event
//! reaches the channel's other Pusher sockets and, on a private or presence channel of the
//! default app, its Socket.IO sockets as a whisper. `clientEventsPerSecond` limits them as it
//! limits Socket.IO whispers (4301 once per burst of refusals).

use super::connection::Conn;
use super::error::PusherError;
use super::frames::{self, Incoming};
use crate::channel::ChannelKind;
use crate::config::ClientEvents;
use crate::engine::drive;
use crate::message::Message;
use crate::protocol::{Bucket, Verdict};
use crate::stats::DropReason;

pub(super) fn on_client_event(conn: &Conn, msg: &Incoming<'_>) -> Result<(), PusherError> {
    let Some(channel) = msg.channel.as_deref() else {
        return Err(PusherError::InvalidFormat);
    };
    if !msg.event.starts_with("client-") {
        return Ok(());
    }
    let space = conn.space();
    let user_id = match space.app.client_events {
        ClientEvents::None => return Err(PusherError::ClientEventsDisabled),
        ClientEvents::All => None,
        ClientEvents::Members => {
            let member = space
                .channels
                .find(channel, &conn.id)
                .ok_or(PusherError::NotMember)?;
            member.map(|m| m.user_id.get().to_owned())
        }
    };
    let data = msg
        .data
        .and_then(frames::unwrapped)
        .unwrap_or_else(|| "null".to_owned());
    match conn.client_events.as_ref().map(Bucket::take) {
        None | Some(Verdict::Allowed) => {}
        Some(verdict) => {
            conn.engine.stats.dropped(DropReason::ClientEventRate);
            // The sender is told once per burst of refusals.
            return match verdict {
                Verdict::Refused => Err(PusherError::RateLimited),
                _ => Ok(()),
            };
        }
    }
    space.channels.broadcast(channel, Some(&conn.id), true, || {
        frames::client_event(&msg.event, channel, &data, user_id.as_deref())
    });
    if space.is_default() && ChannelKind::of(channel).is_guarded() {
        let value: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
        drive(
            conn.engine
                .io
                .to(channel.to_owned())
                .emit(msg.event.as_ref(), &(channel, value)),
        );
    }
    relay(conn, channel, &msg.event, data);
    conn.engine.stats.whispered();
    Ok(())
}

/// In a cluster, the other nodes' sockets of the channel get the event too (as a broadcast from
/// this socket, which they do not have).
fn relay(conn: &Conn, channel: &str, event: &str, data: String) {
    let Some(node) = &conn.engine.cluster else {
        return;
    };
    let Ok(data) = serde_json::value::RawValue::from_string(data) else {
        return;
    };
    let msg = Message {
        channels: vec![channel.to_owned()],
        event: event.to_owned(),
        data,
        socket: Some(conn.id.to_string()),
    };
    node.relay(conn.engine.pusher.id_of(conn.app), &msg);
}
