//! The shared-memory ring: how PHP processes on this host (FPM children, `php -S` workers,
//! queue workers, artisan) hand broadcasts to a running server without a network hop.
//!
//! One file in `/dev/shm` per server, named after it (`rust-echo-<port>` by default), holding a
//! versioned header and a byte ring. Any number of producers in unrelated processes append
//! records; the server is the one consumer. The rules:
//!
//! - a write never blocks and never takes a lock: space is reserved with one compare-and-swap on
//!   the tail, the record is copied, then published by one release store of its header;
//! - a full ring or a server that stopped heart-beating (2 s) is reported to the producer, never
//!   waited on;
//! - a producer killed mid-write cannot wedge the ring: the consumer skips a record that stays
//!   reserved too long, and every record carries a CRC, so a late or torn write is dropped, not
//!   delivered garbled;
//! - the server creates the file under a temporary name and renames it into place, so producers
//!   only ever see a fully initialised ring; a restarted server replaces it and producers
//!   re-attach by name on their own;
//! - every byte of the mapping is untrusted on both sides: the consumer bounds every position
//!   and length it reads and resets the ring past corruption; a producer attaches only to a
//!   ring file whose owner and mode it trusts (`trust`), never through a link;
//! - a ring file truncated under its mappings costs the server a fresh ring and a publisher one
//!   failed publish, never a `SIGBUS` crash (`truncation`).
//!
//! See `docs/adr/0002-shared-memory-ring.md` for why this is purpose-built and
//! `docs/adr/0004-ring-trust.md` for who may create, read and write a ring.
#![allow(unsafe_code)]

mod clock;
mod codec;
mod consumer;
mod file;
mod futex;
mod layout;
mod producer;
#[cfg(test)]
mod tests;
mod throttle;
mod truncation;
mod trust;

use std::path::PathBuf;

pub use clock::Clock;
pub use codec::{Record, decode, encode};
pub use consumer::{Consumer, MAX_CAPACITY, MIN_CAPACITY, RingInfo};
pub use producer::{HEARTBEAT_TIMEOUT_MS, Producer};
pub(crate) use throttle::Throttle;

/// Where ring files live.
const DIR: &str = "/dev/shm";

/// Why a ring operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RingError {
    /// No ring file by that name: no server on this host exposes one.
    #[error("no ring named {0}")]
    NotFound(String),
    /// The ring belongs to a server that stopped or stopped heart-beating.
    #[error("the server behind ring {0} is not running")]
    ServerGone(String),
    /// The ring was made by an incompatible build.
    #[error("ring {name} has layout version {found}, this build speaks {expected}")]
    Version {
        /// Ring name.
        name: String,
        /// Version in the file.
        found: u32,
        /// Version of this build.
        expected: u32,
    },
    /// The file is not a ring (bad magic or size).
    #[error("{0} is not a rust-echo ring")]
    Corrupt(String),
    /// Another process truncated the ring file under this producer; the server replaces it.
    #[error("ring {0} was truncated by another process; the event was not delivered")]
    Truncated(String),
    /// No room for the record right now.
    #[error("the ring is full")]
    Full,
    /// The record can never fit.
    #[error("a record of {size} bytes exceeds the ring's limit of {limit} bytes")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Largest record the ring takes.
        limit: usize,
    },
    /// The file at the ring's path is not one this process trusts (see `trust`).
    #[error("refusing the shared-memory ring /dev/shm/{name}: {reason}")]
    Untrusted {
        /// Ring name.
        name: String,
        /// Why, in words for the operator.
        reason: String,
    },
    /// The server's ring mode gives every local user access.
    #[error(
        "shm.mode {0:04o} would let every local user read or inject events; \
         use \"0600\", or \"0660\" with a group shared with the web workers"
    )]
    InsecureMode(u32),
    /// Another user's file holds the ring's name (the directory is sticky: it cannot be replaced).
    #[error(
        "/dev/shm/{name} belongs to uid {uid}, not to this server's user; remove it as that \
         user or root, or choose another shm.name"
    )]
    Taken {
        /// Ring name.
        name: String,
        /// The file's owner.
        uid: u32,
    },
    /// The name has characters other than letters, digits, `.`, `_` and `-`.
    #[error("invalid ring name {0:?}: use letters, digits, '.', '_' and '-'")]
    InvalidName(String),
    /// The file could not be created, opened or mapped.
    #[error("ring {name}: {source}")]
    Io {
        /// Ring name.
        name: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The ring name a server on `port` uses unless configured otherwise. The one place that
/// spells it: the server's config, the extension's default and PHP (`RustEcho\ring_name()`)
/// all come here.
pub fn default_name(port: u16) -> String {
    format!("rust-echo-{port}")
}

fn path_of(name: &str) -> Result<PathBuf, RingError> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(RingError::InvalidName(name.to_owned()));
    }
    Ok(PathBuf::from(DIR).join(name))
}
