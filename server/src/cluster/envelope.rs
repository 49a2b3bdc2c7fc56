//! What crosses the cluster channel: a message with the node it entered and the socket to leave
//! out, encoded once as compact JSON (`{"o":node,"c":[channels],"e":event,"d":data,"s":socket}`;
//! the data is the publisher's JSON text, never re-encoded). A `presence:joining` also carries
//! `"t"`, when the member joined the cluster (Redis's clock, microseconds). Whatever arrives on the channel is
//! untrusted: an envelope that does not decode is counted and skipped.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::message::Message;

#[derive(Serialize)]
struct Out<'a> {
    o: &'a str,
    c: &'a [String],
    e: &'a str,
    d: &'a RawValue,
    s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<u64>,
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
    t: Option<u64>,
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
}

/// Encode `msg` as relayed by `node`; `at`: when the member of a `presence:joining` joined.
pub(crate) fn encode(node: &str, msg: &Message, at: Option<u64>) -> Vec<u8> {
    let out = Out {
        o: node,
        c: &msg.channels,
        e: &msg.event,
        d: &msg.data,
        s: msg.socket.as_deref(),
        t: at,
    };
    // Strings, a list of strings and raw JSON always serialize.
    serde_json::to_vec(&out).unwrap_or_default()
}

/// Decode an envelope: the message and its `t`, or `None` when it came from `own` (a node hears
/// its own publishes and has delivered them already).
pub(crate) fn decode(
    own: &str,
    bytes: &[u8],
) -> Result<Option<(Message, Option<u64>)>, EnvelopeError> {
    let e: In<'_> = serde_json::from_slice(bytes)?;
    if e.o == own {
        return Ok(None);
    }
    if e.c.is_empty() || e.c.iter().any(String::is_empty) || e.e.is_empty() {
        return Err(EnvelopeError::Empty);
    }
    let msg = Message {
        channels: e.c,
        event: e.e,
        data: e.d,
        socket: e.s.filter(|s| !s.is_empty()),
    };
    Ok(Some((msg, e.t)))
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
        let bytes = encode("n1", &m, None);
        assert!(!String::from_utf8_lossy(&bytes).contains(r#""t""#));
        assert_eq!(decode("n2", &bytes).unwrap(), Some((m.clone(), None)));
        assert_eq!(
            decode("n2", &encode("n1", &m, Some(7))).unwrap(),
            Some((m, Some(7)))
        );
        assert_eq!(
            decode("n1", &bytes).unwrap(),
            None,
            "own envelopes are skipped"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &b"x"[..],
            b"{}",
            br#"{"o":"n","c":[],"e":"E","d":1}"#,
            br#"{"o":"n","c":["a"],"e":"","d":1}"#,
        ] {
            assert!(
                decode("me", bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
