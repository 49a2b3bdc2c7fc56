//! The payload of a ring record: a message's channels, event, data and socket, length-prefixed.
//!
//! ```text
//! u8 format (1) | u16 channel count | (u32 len, bytes) per channel
//! | u32 len, event | u32 len, data (JSON text) | u32 len or u32::MAX, socket
//! ```
//! Producers write the pieces straight into the ring (no intermediate buffer); the consumer
//! decodes and validates them, since any local process can write to the ring.

use crate::message::{DecodeError, Message};

const FORMAT: u8 = 1;
const NO_SOCKET: u32 = u32::MAX;

/// A message as a producer hands it to the ring.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Channel names.
    pub channels: &'a [&'a str],
    /// Event name.
    pub event: &'a str,
    /// Data as JSON text.
    pub data: &'a str,
    /// Socket to exclude.
    pub socket: Option<&'a str>,
}

impl Record<'_> {
    /// Encoded payload length, or `None` when a piece is too long for its length prefix.
    pub(crate) fn encoded_len(&self) -> Option<usize> {
        if self.channels.len() > usize::from(u16::MAX) {
            return None;
        }
        let mut len = 1 + 2;
        for c in self.channels {
            u32::try_from(c.len()).ok()?;
            len += 4 + c.len();
        }
        for piece in [self.event, self.data, self.socket.unwrap_or("")] {
            if u32::try_from(piece.len()).ok()? == NO_SOCKET {
                return None;
            }
            len += 4 + piece.len();
        }
        Some(len)
    }

    /// Hand every piece, in order, to `put`.
    pub(crate) fn write(&self, mut put: impl FnMut(&[u8])) {
        put(&[FORMAT]);
        let count = u16::try_from(self.channels.len()).unwrap_or(u16::MAX);
        put(&count.to_le_bytes());
        let mut piece = |bytes: &[u8]| {
            let len = u32::try_from(bytes.len()).unwrap_or(NO_SOCKET);
            put(&len.to_le_bytes());
            put(bytes);
        };
        for c in self.channels {
            piece(c.as_bytes());
        }
        piece(self.event.as_bytes());
        piece(self.data.as_bytes());
        match self.socket {
            Some(s) => piece(s.as_bytes()),
            None => piece_none(&mut put),
        }
    }
}

/// Encode `record` into one exactly-sized buffer (the in-process queue's format).
///
/// # Errors
/// A piece is too long for its length prefix.
pub fn encode(record: &Record<'_>) -> Option<Box<[u8]>> {
    let mut out = Vec::with_capacity(record.encoded_len()?);
    record.write(|b| out.extend_from_slice(b));
    Some(out.into_boxed_slice())
}

fn piece_none(put: &mut impl FnMut(&[u8])) {
    put(&NO_SOCKET.to_le_bytes());
}

/// Decode a payload into a message, validating every piece.
///
/// # Errors
/// Truncated or malformed payload, invalid UTF-8, data that is not JSON, empty names.
pub fn decode(payload: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader { buf: payload };
    if r.take(1)? != [FORMAT] {
        return Err(bad("unknown record format"));
    }
    let count = u16::from_le_bytes(r.take(2)?.try_into().map_err(|_| bad("truncated"))?);
    let mut channels = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        channels.push(r.string()?.ok_or_else(|| bad("missing channel"))?);
    }
    let event = r.string()?.ok_or(DecodeError::MissingEvent)?;
    let data = r.string()?.ok_or_else(|| bad("missing data"))?;
    let socket = r.string()?;
    if !r.buf.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Message::new(channels, event, &data, socket)
}

fn bad(what: &str) -> DecodeError {
    DecodeError::NotJson(format!("ring record: {what}"))
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// A length-prefixed UTF-8 string; `None` for the "absent" length.
    fn string(&mut self) -> Result<Option<String>, DecodeError> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad("truncated"))?);
        if len == NO_SOCKET {
            return Ok(None);
        }
        let bytes = self.take(usize::try_from(len).map_err(|_| bad("length"))?)?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| bad("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(r: &Record<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        r.write(|b| out.extend_from_slice(b));
        assert_eq!(out.len(), r.encoded_len().unwrap());
        out
    }

    #[test]
    fn round_trip() {
        let r = Record {
            channels: &["a", "private-b"],
            event: "E",
            data: r#"{"x":1.50}"#,
            socket: Some("sid"),
        };
        let m = decode(&encode(&r)).unwrap();
        assert_eq!(m.channels, ["a", "private-b"]);
        assert_eq!(
            (m.event.as_str(), m.data.get(), m.socket.as_deref()),
            ("E", r#"{"x":1.50}"#, Some("sid"))
        );
        let r = Record { socket: None, ..r };
        assert_eq!(decode(&encode(&r)).unwrap().socket, None);
    }

    #[test]
    fn garbage_is_refused() {
        let good = encode(&Record {
            channels: &["a"],
            event: "E",
            data: "1",
            socket: None,
        });
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let bad_json = encode(&Record {
            channels: &["a"],
            event: "E",
            data: "{",
            socket: None,
        });
        assert!(decode(&bad_json).is_err());
        assert!(decode(&[9, 0, 0]).is_err());
    }
}
