//! What crosses the cluster channel: a message with the node it entered and the socket to leave
//! out, encoded once as compact JSON (`{"o":node,"c":[channels],"e":event,"d":data,"s":socket}`;
//! the data is the publisher's JSON text, never re-encoded), plus `"a"`, the Pusher app id, for
//! a message in another app's channels than the shared space, and `"k"` for what is not an
//! event: presence news (`"j"` joining, `"l"` leaving; the data is the member), or `"w"`, a
//! client event, which carries its sender's `user_id` as the JSON text in `"u"` when it has one,
//! or `"x"`, closing a user's connections (no channels; the data is the user id, a string).
//! A joining also carries `"t"`, when the member joined the cluster (Redis's clock,
//! microseconds). Whatever arrives on the channel is untrusted: an envelope that does not decode
//! (a `"u"` that is not JSON text included) is counted and skipped.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::message::Message;

/// What an envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) enum Kind {
    /// An event for the channels' sockets.
    #[default]
    #[serde(rename = "e")]
    Event,
    /// A user arrived in the channel somewhere in the cluster.
    #[serde(rename = "j")]
    Joining,
    /// A user left the channel everywhere.
    #[serde(rename = "l")]
    Leaving,
    /// A client event (a whisper) for the channel's other sockets.
    #[serde(rename = "w")]
    ClientEvent,
    /// Close the connections of the user the data names, in the app's channels.
    #[serde(rename = "x")]
    Terminate,
}

impl Kind {
    fn is_event(&self) -> bool {
        *self == Kind::Event
    }
}

/// What an envelope says besides its message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    pub kind: Kind,
    /// For a joining: when the member joined the cluster.
    pub at: Option<u64>,
    /// For a client event: its sender's `user_id`, as JSON text.
    pub user_id: Option<&'a str>,
}

#[derive(Serialize)]
struct Out<'a> {
    o: &'a str,
    c: &'a [String],
    e: &'a str,
    d: &'a RawValue,
    s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<&'a str>,
    #[serde(skip_serializing_if = "Kind::is_event")]
    k: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<&'a str>,
}

#[derive(Deserialize)]
struct In<'a> {
    #[serde(borrow)]
    o: &'a str,
    c: Vec<String>,
    e: String,
    d: Box<RawValue>,
    #[serde(default)]
    s: Option<String>,
    #[serde(default)]
    a: Option<String>,
    #[serde(default)]
    k: Kind,
    #[serde(default)]
    t: Option<u64>,
    #[serde(default)]
    u: Option<String>,
}

/// A message another node relayed.
#[derive(Debug, PartialEq)]
pub(crate) struct Relayed {
    /// The Pusher app whose channels it is for; `None`: the shared space.
    pub app: Option<String>,
    pub kind: Kind,
    pub msg: Message,
    /// For a joining: when the member joined the cluster.
    pub at: Option<u64>,
    /// For a client event: its sender's `user_id`, as JSON text.
    pub user_id: Option<String>,
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvelopeError {
    /// Not JSON of the envelope's shape.
    #[error("not a cluster envelope: {0}")]
    Shape(#[from] serde_json::Error),
    /// No channel or no event name.
    #[error("cluster envelope without channel or event")]
    Empty,
    /// A `user_id` that is not JSON text, or a terminate without a user id.
    #[error("cluster envelope with a user id that is not JSON or not a string")]
    UserId,
}

/// Encode `msg` as relayed by `node`, in the channels of `app`, with what `tag` says of it.
pub(crate) fn encode(node: &str, app: Option<&str>, tag: Tag<'_>, msg: &Message) -> Vec<u8> {
    let out = Out {
        o: node,
        c: &msg.channels,
        e: &msg.event,
        d: &msg.data,
        s: msg.socket.as_deref(),
        a: app,
        k: tag.kind,
        t: tag.at,
        u: tag.user_id,
    };
    // Strings, a list of strings and raw JSON always serialize.
    serde_json::to_vec(&out).unwrap_or_default()
}

/// Decode an envelope: the origin node and the message, or `None` for the message when it
/// came from `own` (a node hears its own publishes and has delivered them already).
pub(crate) fn decode(own: &str, bytes: &[u8]) -> Result<Option<Relayed>, EnvelopeError> {
    let e: In<'_> = serde_json::from_slice(bytes)?;
    if e.o == own {
        return Ok(None);
    }
    if e.k == Kind::Terminate {
        if user_of(&e.d).is_none() {
            return Err(EnvelopeError::UserId);
        }
    } else if e.c.is_empty() || e.c.iter().any(String::is_empty) || e.e.is_empty() {
        return Err(EnvelopeError::Empty);
    }
    // Written into the frames of the receivers verbatim: it has to be JSON.
    if let Some(u) = &e.u
        && serde_json::from_str::<&RawValue>(u).is_err()
    {
        return Err(EnvelopeError::UserId);
    }
    Ok(Some(Relayed {
        app: e.a,
        kind: e.k,
        msg: Message {
            channels: e.c,
            event: e.e,
            data: e.d,
            socket: e.s.filter(|s| !s.is_empty()),
        },
        at: e.t,
        user_id: e.u,
    }))
}

/// The user a terminate's data names: a JSON string, escapes and all.
pub(crate) fn user_of(data: &RawValue) -> Option<String> {
    serde_json::from_str(data.get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_data_bytes() {
        let m = Message::new(
            vec!["a".into(), "b".into()],
            "E".into(),
            r#"{"x":1.50}"#,
            Some("sid".into()),
        )
        .unwrap();
        let bytes = encode("n1", None, Tag::default(), &m);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            r#"{"o":"n1","c":["a","b"],"e":"E","d":{"x":1.50},"s":"sid"}"#,
            "the shared space's events keep the first version's shape"
        );
        let got = decode("n2", &bytes).unwrap().unwrap();
        assert_eq!(
            (got.app, got.kind, got.msg, got.at),
            (None, Kind::Event, m.clone(), None)
        );
        let joining = Tag {
            kind: Kind::Joining,
            at: Some(7),
            user_id: None,
        };
        let bytes = encode("n1", Some("app-2"), joining, &m);
        let got = decode("n2", &bytes).unwrap().unwrap();
        assert_eq!(
            (got.app.as_deref(), got.kind, &got.msg, got.at),
            (Some("app-2"), Kind::Joining, &m, Some(7))
        );
        let whisper = Tag {
            kind: Kind::ClientEvent,
            at: None,
            user_id: Some(r#""u-1""#),
        };
        let bytes = encode("n1", None, whisper, &m);
        assert!(String::from_utf8_lossy(&bytes).ends_with(r#","k":"w","u":"\"u-1\""}"#));
        let got = decode("n2", &bytes).unwrap().unwrap();
        assert_eq!(
            (got.kind, got.user_id.as_deref()),
            (Kind::ClientEvent, Some(r#""u-1""#))
        );
        assert_eq!(
            decode("n1", &bytes).unwrap(),
            None,
            "own envelopes are skipped"
        );
    }

    #[test]
    fn a_terminate_names_a_user_and_no_channel() {
        let m = Message {
            channels: Vec::new(),
            event: "terminate".into(),
            data: RawValue::from_string(r#""u-1""#.into()).unwrap(),
            socket: None,
        };
        let escaped = Message {
            data: serde_json::value::to_raw_value(r#"u"1\"#).unwrap(),
            ..m.clone()
        };
        let tag = Tag {
            kind: Kind::Terminate,
            ..Tag::default()
        };
        let got = decode("n2", &encode("n1", None, tag, &escaped))
            .unwrap()
            .unwrap();
        assert_eq!(user_of(&got.msg.data).as_deref(), Some(r#"u"1\"#));
        let tag = Tag {
            kind: Kind::Terminate,
            ..Tag::default()
        };
        let got = decode("n2", &encode("n1", Some("app-2"), tag, &m))
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.app.as_deref(), got.kind, got.msg.data.get()),
            (Some("app-2"), Kind::Terminate, r#""u-1""#)
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &b"x"[..],
            b"{}",
            br#"{"o":"n","c":[],"e":"E","d":1}"#,
            br#"{"o":"n","c":["a"],"e":"","d":1}"#,
            br#"{"o":"n","c":["a"],"e":"E","d":1,"k":"z"}"#,
            br#"{"o":"n","c":[],"e":"","d":1,"k":"x"}"#,
            br#"{"o":"n","c":["a"],"e":"E","d":1,"k":"w","u":"7,\"x\":1"}"#,
            br#"{"o":"n","c":["a"],"e":"E","d":1,"k":"w","u":7}"#,
        ] {
            assert!(
                decode("me", bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
