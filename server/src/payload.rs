//! Decoding of what clients send: the `subscribe`/`unsubscribe` and `client event` payloads.
//! Pure functions (no sockets, no I/O), so they are unit-tested and fuzzed on their own.

use serde_json::Value;

use crate::channel::{ChannelKind, is_client_event};

/// Why a client payload is ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// No non-empty string `channel`.
    #[error("no channel name")]
    NoChannel,
    /// The channel name is longer than the configured limit.
    #[error("channel name of {0} bytes is too long")]
    ChannelTooLong(usize),
    /// Not an object (nor a JSON string of one).
    #[error("payload is not an object")]
    NotAnObject,
    /// No non-empty string `event`.
    #[error("no event name")]
    NoEvent,
    /// The event name does not contain `client-`.
    #[error("not a client event")]
    NotClientEvent,
    /// Whispers are only relayed on private and presence channels.
    #[error("whispers are not relayed on public channels")]
    PublicChannel,
}

/// The channel of a `subscribe` or `unsubscribe` payload: `{"channel": "...", "auth": {...}}`.
///
/// # Errors
/// No usable channel name, or one longer than `max_len` bytes.
pub fn subscription_channel(data: &Value, max_len: usize) -> Result<&str, PayloadError> {
    let channel = data
        .get("channel")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or(PayloadError::NoChannel)?;
    if channel.len() > max_len {
        return Err(PayloadError::ChannelTooLong(channel.len()));
    }
    Ok(channel)
}

/// A whisper to relay.
#[derive(Debug, Clone, PartialEq)]
pub struct Whisper {
    /// Private or presence channel.
    pub channel: String,
    /// Event name containing `client-`.
    pub event: String,
    /// The data, `null` when absent.
    pub data: Value,
}

/// Decode a `client event` payload: an object, or a JSON string of one, with `channel`, `event`
/// and `data`.
///
/// # Errors
/// Not an object, missing names, not a `client-` event, or a public channel.
pub fn whisper(data: Value) -> Result<Whisper, PayloadError> {
    let data = match data {
        Value::String(s) => serde_json::from_str(&s).map_err(|_| PayloadError::NotAnObject)?,
        other => other,
    };
    let Value::Object(mut map) = data else {
        return Err(PayloadError::NotAnObject);
    };
    let mut take_string = |key: &str| match map.remove(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let channel = take_string("channel").ok_or(PayloadError::NoChannel)?;
    let event = take_string("event").ok_or(PayloadError::NoEvent)?;
    if !is_client_event(&event) {
        return Err(PayloadError::NotClientEvent);
    }
    if !ChannelKind::of(&channel).is_guarded() {
        return Err(PayloadError::PublicChannel);
    }
    Ok(Whisper {
        channel,
        event,
        data: map.remove("data").unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subscription_channels() {
        assert_eq!(subscription_channel(&json!({"channel": "a"}), 10), Ok("a"));
        assert_eq!(
            subscription_channel(&json!({"channel": ""}), 10),
            Err(PayloadError::NoChannel)
        );
        assert_eq!(
            subscription_channel(&json!({"channel": 1}), 10),
            Err(PayloadError::NoChannel)
        );
        assert_eq!(
            subscription_channel(&json!("a"), 10),
            Err(PayloadError::NoChannel)
        );
        assert_eq!(
            subscription_channel(&json!({"channel": "abc"}), 2),
            Err(PayloadError::ChannelTooLong(3))
        );
    }

    #[test]
    fn whispers() {
        let ok = json!({"channel": "private-a", "event": "client-t", "data": {"x": 1}});
        let w = whisper(ok.clone()).unwrap();
        assert_eq!(
            (w.channel.as_str(), w.event.as_str()),
            ("private-a", "client-t")
        );
        assert_eq!(w.data, json!({"x": 1}));
        assert_eq!(whisper(json!(ok.to_string())).unwrap(), w);
        assert_eq!(whisper(json!("{")), Err(PayloadError::NotAnObject));
        assert_eq!(whisper(json!(5)), Err(PayloadError::NotAnObject));
        assert_eq!(
            whisper(json!({"event": "client-t"})),
            Err(PayloadError::NoChannel)
        );
        assert_eq!(
            whisper(json!({"channel": "private-a"})),
            Err(PayloadError::NoEvent)
        );
        assert_eq!(
            whisper(json!({"channel": "private-a", "event": "t"})),
            Err(PayloadError::NotClientEvent)
        );
        assert_eq!(
            whisper(json!({"channel": "a", "event": "client-t"})),
            Err(PayloadError::PublicChannel)
        );
    }
}
