//! `RustEcho\publish()`: hand an event to the fastest running server — this process's own
//! (in-process queue), else one on this host (shared-memory ring) — or report that none is
//! reachable so the caller can fall back to Redis.

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use rust_echo_server::PublishError;
use rust_echo_server::shm::{Record, RingError};

use crate::channels::{INLINE_CHANNELS, channel_names};
use crate::encode::with_json;
use crate::errors::ExtError;
use crate::process::{State, with_state};
use crate::ring::publish_shm;

/// Publish to the fastest running server: returns 'memory', 'shm', or false when none is reachable.
/// `$data` is JSON text, or a PHP value encoded here as `json_encode()` would.
#[php_function]
#[php(name = "RustEcho\\publish")]
pub fn publish(
    channels: &ZendHashTable,
    event: &str,
    data: &Zval,
    socket: Option<&str>,
) -> PhpResult<Zval> {
    let mut inline = [""; INLINE_CHANNELS];
    let mut spilled = Vec::new();
    let names = channel_names(channels, &mut inline, &mut spilled)?;
    if event.is_empty() {
        return Err(ExtError::Publish("the event name must not be empty".to_owned()).into());
    }
    let socket = socket.filter(|s| !s.is_empty());
    let via = with_json(data, |json| {
        with_state(|s| deliver(s, names, event, json, socket))
    })?;
    let mut z = Zval::new();
    match via {
        Some(transport) => {
            let _ = z.set_string(transport, false);
        }
        None => z.set_bool(false),
    }
    Ok(z)
}

/// Add `RustEcho\publish` and `RustEcho\ring_name` to the module (the macros' function entries
/// are private to their files).
pub fn register(module: ModuleBuilder<'_>) -> ModuleBuilder<'_> {
    module
        .function(wrap_function!(publish))
        .function(crate::ring::register_ring_name())
}

fn deliver(
    state: &mut State,
    channels: &[&str],
    event: &str,
    data: &str,
    socket: Option<&str>,
) -> Result<Option<&'static str>, ExtError> {
    let record = Record {
        channels,
        event,
        data,
        socket,
    };
    if let Some(hosted) = state.hosted.as_ref().filter(|h| h.alive()) {
        return match hosted.publisher.publish_record(&record) {
            Ok(()) => Ok(Some("memory")),
            Err(PublishError::TooLarge) => {
                Err(ExtError::Publish("the event is too large".to_owned()))
            }
            Err(_) => Ok(None),
        };
    }
    match publish_shm(state, &record) {
        Ok(()) => Ok(Some("shm")),
        Err(RingError::TooLarge { size, limit }) => Err(ExtError::Publish(format!(
            "the event is {size} bytes, more than the shared-memory ring takes ({limit} bytes)"
        ))),
        Err(RingError::InvalidName(name)) => Err(ExtError::Config(format!(
            "invalid value for `rust_echo.ring`: {name:?} (use letters, digits, '.', '_' and '-')"
        ))),
        // A file at the ring's path that this process must not write to: say so, loudly,
        // rather than fall back quietly while someone squats the name.
        Err(e @ RingError::Untrusted { .. }) => Err(ExtError::Publish(e.to_string())),
        Err(e) => {
            tracing::debug!(error = %e, "shared-memory ring not reachable");
            Ok(None)
        }
    }
}
