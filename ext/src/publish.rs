//! `RustEcho\publish()`: hand an event to the fastest running server — this process's own
//! (in-process queue), else one on this host (shared-memory ring) — or report that none is
//! reachable so the caller can fall back to Redis.

use std::ffi::{CStr, c_char, c_int};
use std::sync::OnceLock;

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use rust_echo_server::PublishError;
use rust_echo_server::shm::{Producer, Record, RingError};
use serde_json::value::RawValue;

use crate::errors::ExtError;
use crate::json;
use crate::process::{State, with_state};

/// Ring used when neither the INI setting nor the environment names one.
const DEFAULT_RING: &str = "rust-echo-6001";

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
    let via = if let Some(text) = data.str() {
        if let Err(e) = serde_json::from_str::<&RawValue>(text) {
            return Err(ExtError::Publish(format!("data is not valid JSON: {e}")).into());
        }
        with_state(|s| deliver(s, names, event, text, socket))?
    } else {
        ENCODED.with_borrow_mut(|buffer| {
            buffer.clear();
            if json::encode(data, buffer).is_err() {
                *buffer = php_json_encode(data)?;
            }
            let via = with_state(|s| deliver(s, names, event, buffer, socket));
            // Keep a typical event's buffer for the next call, not a rare huge one's.
            if buffer.capacity() > KEPT_BUFFER {
                *buffer = String::new();
            }
            via
        })?
    };
    let mut z = Zval::new();
    match via {
        Some(transport) => {
            let _ = z.set_string(transport, false);
        }
        None => z.set_bool(false),
    }
    Ok(z)
}

thread_local! {
    /// JSON of the `$data` being published (PHP runs one request per thread).
    static ENCODED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Largest encoding buffer kept between calls.
const KEPT_BUFFER: usize = 64 * 1024;

/// `json_encode($data)` by PHP itself, for what [`json::encode`] leaves to it.
fn php_json_encode(data: &Zval) -> Result<String, ExtError> {
    let refused =
        |reason: String| ExtError::Publish(format!("data cannot be encoded as JSON: {reason}"));
    let encoder = ZendCallable::try_from_name("json_encode").map_err(|e| refused(e.to_string()))?;
    let encoded = encoder
        .try_call(vec![data])
        .map_err(|e| refused(e.to_string()))?;
    match encoded.str() {
        Some(text) => Ok(text.to_owned()),
        None => {
            let message = ZendCallable::try_from_name("json_last_error_msg")
                .and_then(|f| f.try_call(vec![]))
                .ok()
                .and_then(|m| m.str().map(str::to_owned))
                .unwrap_or_else(|| "json_encode() failed".to_owned());
            Err(refused(message))
        }
    }
}

/// Add `RustEcho\publish` to the module (the macro's function entry is private to this file).
pub fn register(module: ModuleBuilder<'_>) -> ModuleBuilder<'_> {
    module.function(wrap_function!(publish))
}

/// Channels held on the stack; more spill into a vector.
const INLINE_CHANNELS: usize = 8;

/// The channel names as `&str`, without allocating for the usual handful of channels.
fn channel_names<'a>(
    channels: &'a ZendHashTable,
    inline: &'a mut [&'a str; INLINE_CHANNELS],
    spilled: &'a mut Vec<&'a str>,
) -> Result<&'a [&'a str], ExtError> {
    let invalid =
        || ExtError::Publish("channels must be a non-empty array of non-empty strings".to_owned());
    let count = channels.len();
    if count == 0 || count > usize::from(u16::MAX) {
        return Err(invalid());
    }
    let name = |v: &'a Zval| v.str().filter(|s| !s.is_empty()).ok_or_else(invalid);
    if count <= INLINE_CHANNELS {
        for (slot, v) in inline.iter_mut().zip(channels.values()) {
            *slot = name(v)?;
        }
        return Ok(&inline[..count]);
    }
    for v in channels.values() {
        spilled.push(name(v)?);
    }
    Ok(spilled)
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
        Err(e) => {
            tracing::debug!(error = %e, "shared-memory ring not reachable");
            Ok(None)
        }
    }
}

/// Publish over the ring named by the current settings, attaching (again) when the name changed.
fn publish_shm(state: &mut State, record: &Record<'_>) -> Result<(), RingError> {
    with_ring_name(|wanted| {
        let producer = match &mut state.producer {
            Some(p) if p.name() == wanted => p,
            slot => slot.insert(Producer::new(wanted)?),
        };
        producer.publish(record)
    })
}

unsafe extern "C" {
    /// `ZEND_API char *zend_ini_string_ex(const char *name, size_t name_length, int orig, bool *exists)`.
    fn zend_ini_string_ex(
        name: *const c_char,
        name_length: usize,
        orig: c_int,
        exists: *mut bool,
    ) -> *mut c_char;
}

const INI_RING: &CStr = c"rust_echo.ring";

/// Run `f` with the ring name: INI `rust_echo.ring` (as changed by `ini_set()`), else
/// `RUST_ECHO_RING`, else the default server's ring. One hash lookup, no allocation.
fn with_ring_name<R>(f: impl FnOnce(&str) -> R) -> R {
    let mut exists = false;
    // SAFETY: called on the PHP thread with a NUL-terminated name of the given length.
    let value = unsafe {
        zend_ini_string_ex(
            INI_RING.as_ptr(),
            INI_RING.count_bytes(),
            0,
            &raw mut exists,
        )
    };
    if !value.is_null() {
        // SAFETY: INI values are NUL-terminated strings owned by the engine; nothing changes the
        // INI entry while `f` runs on this thread, so the borrow stays valid.
        let value = unsafe { CStr::from_ptr(value) };
        if let Ok(name) = value.to_str()
            && !name.is_empty()
        {
            return f(name);
        }
    }
    f(env_ring_name())
}

fn env_ring_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("RUST_ECHO_RING")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_RING.to_owned())
    })
}
