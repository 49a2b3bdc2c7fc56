//! `RustEcho\publish()`: hand an event to the fastest running server — this process's own
//! (in-process queue), else one on this host (shared-memory ring) — or report that none is
//! reachable so the caller can fall back to Redis.

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use rust_echo_server::Message;
use rust_echo_server::shm::{Producer, Record, RingError};
use serde_json::value::RawValue;

use crate::errors::ExtError;
use crate::process::{State, with_state};

/// Ring used when neither the INI setting nor the environment names one.
const DEFAULT_RING: &str = "rust-echo-6001";

/// Publish to the fastest running server: returns 'memory', 'shm', or false when none is reachable.
#[php_function]
#[php(name = "RustEcho\\publish")]
pub fn publish(
    channels: &ZendHashTable,
    event: &str,
    data: &str,
    socket: Option<&str>,
) -> PhpResult<Zval> {
    let names = channel_names(channels)?;
    if event.is_empty() {
        return Err(ExtError::Publish("the event name must not be empty".to_owned()).into());
    }
    if let Err(e) = serde_json::from_str::<&RawValue>(data) {
        return Err(ExtError::Publish(format!("data is not valid JSON: {e}")).into());
    }
    let socket = socket.filter(|s| !s.is_empty());
    let via = with_state(|s| deliver(s, &names, event, data, socket))?;
    let mut z = Zval::new();
    match via {
        Some(transport) => {
            let _ = z.set_string(transport, false);
        }
        None => z.set_bool(false),
    }
    Ok(z)
}

/// Add `RustEcho\publish` to the module (the macro's function entry is private to this file).
pub fn register(module: ModuleBuilder<'_>) -> ModuleBuilder<'_> {
    module.function(wrap_function!(publish))
}

fn channel_names(channels: &ZendHashTable) -> Result<Vec<&str>, ExtError> {
    let invalid =
        || ExtError::Publish("channels must be a non-empty array of non-empty strings".to_owned());
    if channels.is_empty() || channels.len() > usize::from(u16::MAX) {
        return Err(invalid());
    }
    channels
        .values()
        .map(|v| v.str().filter(|s| !s.is_empty()).ok_or_else(invalid))
        .collect()
}

fn deliver(
    state: &mut State,
    channels: &[&str],
    event: &str,
    data: &str,
    socket: Option<&str>,
) -> Result<Option<&'static str>, ExtError> {
    if let Some(hosted) = state.hosted.as_ref().filter(|h| h.alive()) {
        let message = Message::new(
            channels.iter().map(|c| (*c).to_owned()).collect(),
            event.to_owned(),
            data,
            socket.map(str::to_owned),
        )
        .map_err(|e| ExtError::Publish(e.to_string()))?;
        return Ok(hosted
            .publisher
            .publish(message)
            .is_ok()
            .then_some("memory"));
    }
    let producer = match &mut state.producer {
        Some(p) => p,
        slot @ None => {
            let name = state.ring_name.get_or_insert_with(ring_name).clone();
            let producer = Producer::new(&name).map_err(|e| {
                ExtError::Config(format!("invalid value for `rust_echo.ring`: {e}"))
            })?;
            slot.insert(producer)
        }
    };
    let record = Record {
        channels,
        event,
        data,
        socket,
    };
    match producer.publish(&record) {
        Ok(()) => Ok(Some("shm")),
        Err(RingError::TooLarge { size, limit }) => Err(ExtError::Publish(format!(
            "the event is {size} bytes, more than the shared-memory ring takes ({limit} bytes)"
        ))),
        Err(e) => {
            tracing::debug!(error = %e, "shared-memory ring not reachable");
            Ok(None)
        }
    }
}

/// INI `rust_echo.ring`, else `RUST_ECHO_RING`, else the default server's ring.
fn ring_name() -> String {
    let ini = ext_php_rs::zend::ExecutorGlobals::get()
        .ini_values()
        .get("rust_echo.ring")
        .cloned()
        .flatten()
        .filter(|v| !v.is_empty());
    ini.or_else(|| {
        std::env::var("RUST_ECHO_RING")
            .ok()
            .filter(|v| !v.is_empty())
    })
    .unwrap_or_else(|| DEFAULT_RING.to_owned())
}
