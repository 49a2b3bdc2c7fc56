//! The one message type every ingress produces: an event for one or more channels, its data as
//! the publisher's JSON text (forwarded byte for byte, never re-encoded) and the socket to leave
//! out (`toOthers`).

use serde::Deserialize;
use serde_json::value::RawValue;

/// A broadcast waiting for delivery.
#[derive(Debug, Clone)]
pub struct Message {
    /// Channels, as clients subscribed to them (any Redis prefix already stripped).
    pub channels: Vec<String>,
    /// Event name, e.g. `App\Events\OrderShipped` or a `broadcastAs()` name.
    pub event: String,
    /// The event's data as JSON text.
    pub data: Box<RawValue>,
    /// Socket id to exclude, from Laravel's `toOthers()` (`X-Socket-ID`).
    pub socket: Option<String>,
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.channels == other.channels
            && self.event == other.event
            && self.data.get() == other.data.get()
            && self.socket == other.socket
    }
}

/// Why a published payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, or not an object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// The `event` field is missing, empty or not a string.
    #[error("missing or empty `event`")]
    MissingEvent,
    /// No channel was named.
    #[error("no channel")]
    NoChannel,
}

/// Laravel's `RedisBroadcaster` payload: `{"event": ..., "data": ..., "socket": ...}`.
#[derive(Deserialize)]
struct RedisPayload<'a> {
    #[serde(borrow, default)]
    event: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    socket: Option<&'a RawValue>,
}

impl Message {
    /// Decode a Redis Pub/Sub payload published on `channel` (prefix already stripped).
    ///
    /// # Errors
    /// The payload is not a JSON object or has no usable `event`.
    pub fn from_redis(channel: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        if !looks_like_object(payload) {
            return Err(DecodeError::NotJson("expected a JSON object".to_owned()));
        }
        let p: RedisPayload<'_> =
            serde_json::from_slice(payload).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let event = p
            .event
            .and_then(|e| serde_json::from_str::<String>(e.get()).ok())
            .filter(|e| !e.is_empty())
            .ok_or(DecodeError::MissingEvent)?;
        Ok(Message {
            channels: vec![channel.to_owned()],
            event,
            data: p.data.map_or_else(null, ToOwned::to_owned),
            socket: p.socket.and_then(socket_id),
        })
    }

    /// Build a message from parts, validating that `data` is JSON text.
    ///
    /// # Errors
    /// `data` is not valid JSON, the event is empty, or there is no channel.
    pub fn new(
        channels: Vec<String>,
        event: String,
        data: &str,
        socket: Option<String>,
    ) -> Result<Self, DecodeError> {
        if event.is_empty() {
            return Err(DecodeError::MissingEvent);
        }
        if channels.is_empty() || channels.iter().any(String::is_empty) {
            return Err(DecodeError::NoChannel);
        }
        let data = RawValue::from_string(data.to_owned())
            .map_err(|e| DecodeError::NotJson(e.to_string()))?;
        Ok(Message {
            channels,
            event,
            data,
            socket: socket.filter(|s| !s.is_empty()),
        })
    }
}

/// serde reads JSON arrays into structs too (`[event, data, socket]`); only objects are payloads.
pub(crate) fn looks_like_object(json: &[u8]) -> bool {
    json.trim_ascii_start().first() == Some(&b'{')
}

/// `null` as owned raw JSON: what a missing `data` becomes (socket.io serializes `undefined` so).
pub(crate) fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_owned()).expect("invariant: `null` is valid JSON")
}

/// A socket id is a non-empty JSON string; `null`, numbers and the like mean "no socket".
fn socket_id(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get())
        .ok()
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_payload_keeps_data_bytes() {
        let m = Message::from_redis(
            "news",
            br#"{"event":"App\\Events\\Ping","data":{"x":1.50,"big":12345678901234567890},"socket":null}"#,
        )
        .unwrap();
        assert_eq!(m.event, "App\\Events\\Ping");
        assert_eq!(m.data.get(), r#"{"x":1.50,"big":12345678901234567890}"#);
        assert_eq!(m.socket, None);
    }

    #[test]
    fn bad_redis_payloads_are_refused() {
        assert!(matches!(
            Message::from_redis("c", b"nope"),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(
            Message::from_redis("c", b"[1]"),
            Err(DecodeError::NotJson(_))
        ));
        assert_eq!(
            Message::from_redis("c", br#"{"data":1}"#),
            Err(DecodeError::MissingEvent)
        );
        assert_eq!(
            Message::from_redis("c", br#"{"event":5}"#),
            Err(DecodeError::MissingEvent)
        );
    }

    #[test]
    fn missing_data_is_null_and_socket_is_kept() {
        let m = Message::from_redis("c", br#"{"event":"e","socket":"abc"}"#).unwrap();
        assert_eq!(m.data.get(), "null");
        assert_eq!(m.socket.as_deref(), Some("abc"));
    }
}
