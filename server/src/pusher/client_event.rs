//! Client events (`client-*`) from a Pusher socket, with Reverb's `accept_client_events_from`:
//! `members` relays only from sockets subscribed to the channel and adds the sender's `user_id`
//! on presence channels; `all` relays from any socket of the app; `none` answers 4301. The event
//! goes where a Socket.IO whisper goes (see [`crate::whisper`]). `clientEventsPerSecond` limits
//! them as it limits Socket.IO whispers (4301 once per burst of refusals).

use serde_json::value::RawValue;

use super::connection::Conn;
use super::error::PusherError;
use super::frames::{self, Incoming};
use crate::config::ClientEvents;
use crate::message::null;
use crate::protocol::{Bucket, Verdict};
use crate::stats::DropReason;
use crate::whisper::{ClientEvent, Sender};

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
        .and_then(|text| RawValue::from_string(text).ok())
        .unwrap_or_else(null);
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
    let event = ClientEvent {
        app: space.index,
        channel,
        event: &msg.event,
        data: &data,
        user_id: user_id.as_deref(),
    };
    event.deliver(&conn.engine, Sender::Pusher(&conn.id));
    Ok(())
}
