//! The JSON frames of the Pusher protocol: what clients send (serde types, borrowed from the
//! frame) and what the server sends, written field by field in Reverb's order so each broadcast
//! is encoded once and shared by every socket as [`Utf8Bytes`].

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// A client frame: `{"event":..,"data":..,"channel":..}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Incoming<'a> {
    #[serde(borrow)]
    pub event: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub channel: Option<std::borrow::Cow<'a, str>>,
}

/// The data of `pusher:subscribe` / `pusher:unsubscribe` (an object, or a JSON string of one).
#[derive(Debug, Deserialize)]
pub(crate) struct Subscription {
    pub channel: String,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub channel_data: Option<String>,
}

impl Subscription {
    /// Read the data of a subscribe or unsubscribe.
    pub(crate) fn parse(data: Option<&RawValue>) -> Option<Self> {
        let data = unwrapped(data?)?;
        serde_json::from_str(&data).ok()
    }
}

/// The JSON text of `data`: the text inside it when it is a JSON string holding an object or
/// array (Pusher clients may send either form), else `data` itself.
pub(crate) fn unwrapped(data: &RawValue) -> Option<String> {
    match serde_json::from_str::<String>(data.get()) {
        Ok(inner) if serde_json::from_str::<&RawValue>(&inner).is_ok() => Some(inner),
        Ok(_) => None,
        Err(_) => Some(data.get().to_owned()),
    }
}

/// `data` as the Pusher protocol carries it: a JSON string. A publisher's JSON string is kept
/// as it is; other JSON text becomes the string of that text.
pub(crate) fn data_string(raw: &str) -> String {
    if raw.starts_with('"') {
        raw.to_owned()
    } else {
        json_string(raw)
    }
}

/// `{"event":E,"data":D,"channel":C}` where `data` is already JSON (a string literal for
/// events, raw JSON for client events).
pub(crate) fn with_data(event: &str, data_json: &str, channel: Option<&str>) -> Utf8Bytes {
    let mut out = String::with_capacity(32 + event.len() + data_json.len());
    out.push_str("{\"event\":");
    out.push_str(&json_string(event));
    out.push_str(",\"data\":");
    if data_json.starts_with('"') {
        out.push_str(data_json);
    } else {
        out.push_str(&json_string(data_json));
    }
    if let Some(channel) = channel {
        out.push_str(",\"channel\":");
        out.push_str(&json_string(channel));
    }
    out.push('}');
    Utf8Bytes::from(out)
}

/// A broadcast: `{"event":E,"data":"..","channel":C}`, `data` already a JSON string literal.
pub(crate) fn broadcast(event: &str, data_literal: &str, channel: &str) -> Utf8Bytes {
    with_data(event, data_literal, Some(channel))
}

/// A client event relayed as Reverb relays it: `data` stays JSON (not a string), plus the
/// sender's `user_id` on a presence channel when only members may send.
pub(crate) fn client_event(
    event: &str,
    channel: &str,
    data: &str,
    user_id: Option<&str>,
) -> Utf8Bytes {
    let mut out = String::with_capacity(48 + event.len() + channel.len() + data.len());
    out.push_str("{\"event\":");
    out.push_str(&json_string(event));
    out.push_str(",\"channel\":");
    out.push_str(&json_string(channel));
    out.push_str(",\"data\":");
    out.push_str(data);
    if let Some(user_id) = user_id {
        out.push_str(",\"user_id\":");
        out.push_str(user_id);
    }
    out.push('}');
    Utf8Bytes::from(out)
}

/// An event without data: `{"event":E}` or `{"event":E,"channel":C}`.
pub(crate) fn bare(event: &str, channel: Option<&str>) -> Utf8Bytes {
    let mut out = format!("{{\"event\":{}", json_string(event));
    if let Some(channel) = channel {
        out.push_str(",\"channel\":");
        out.push_str(&json_string(channel));
    }
    out.push('}');
    Utf8Bytes::from(out)
}

/// `pusher:connection_established`.
pub(crate) fn established(socket_id: &str, activity_timeout: u64) -> Utf8Bytes {
    let data = format!(
        "{{\"socket_id\":{},\"activity_timeout\":{activity_timeout}}}",
        json_string(socket_id)
    );
    with_data("pusher:connection_established", &data, None)
}

/// A string as JSON.
pub(crate) fn json_string(s: &str) -> String {
    // Serializing a `str` cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_in_reverbs_field_order() {
        assert_eq!(
            established("1.2", 30).as_str(),
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":30}"}"#
        );
        assert_eq!(
            broadcast("e", &data_string(r#"{"a":"/"}"#), "news").as_str(),
            r#"{"event":"e","data":"{\"a\":\"/\"}","channel":"news"}"#
        );
        assert_eq!(
            broadcast("e", &data_string(r#""as is""#), "news").as_str(),
            r#"{"event":"e","data":"as is","channel":"news"}"#
        );
        assert_eq!(
            bare("pusher:pong", None).as_str(),
            r#"{"event":"pusher:pong"}"#
        );
        assert_eq!(
            client_event("client-t", "private-c", r#"{"x":1}"#, Some("7")).as_str(),
            r#"{"event":"client-t","channel":"private-c","data":{"x":1},"user_id":7}"#
        );
    }

    #[test]
    fn subscription_data_in_both_forms() {
        let raw: Box<RawValue> =
            serde_json::from_str(r#"{"channel":"private-a","auth":"k:s"}"#).unwrap();
        let s = Subscription::parse(Some(&raw)).unwrap();
        assert_eq!(
            (s.channel.as_str(), s.auth.as_deref()),
            ("private-a", Some("k:s"))
        );
        let raw: Box<RawValue> = serde_json::from_str(r#""{\"channel\":\"news\"}""#).unwrap();
        assert_eq!(Subscription::parse(Some(&raw)).unwrap().channel, "news");
        assert!(Subscription::parse(None).is_none());
    }
}
