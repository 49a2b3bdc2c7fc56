//! `$data` as JSON text: given as text (checked, never re-encoded), or a PHP value encoded here
//! ([`json::encode`]) or, for what only PHP can encode (objects, `JsonSerializable`), by PHP's own
//! `json_encode()`.
//!
//! The buffer the JSON is built in is kept per thread for the next call, but it is taken out of
//! its slot while PHP runs: `jsonSerialize()` may end in a bailout (a fatal error unwinds with
//! `longjmp`, skipping Rust destructors), and a borrow held across that would never be released,
//! so every later publish in the worker would fail.

use std::cell::Cell;

use ext_php_rs::types::{ZendCallable, Zval};
use serde_json::value::RawValue;

use crate::errors::ExtError;
use crate::json;

thread_local! {
    /// The buffer kept between calls (PHP runs one request per thread).
    static KEPT: Cell<String> = const { Cell::new(String::new()) };
}

/// Largest encoding buffer kept between calls.
const KEPT_BUFFER: usize = 64 * 1024;

/// Run `f` with `data` as JSON text.
///
/// # Errors
/// `data` is text that is not JSON, or a value PHP cannot encode; or what `f` returns.
pub fn with_json<R>(
    data: &Zval,
    f: impl FnOnce(&str) -> Result<R, ExtError>,
) -> Result<R, ExtError> {
    if let Some(text) = data.str() {
        if let Err(e) = serde_json::from_str::<&RawValue>(text) {
            return Err(ExtError::Publish(format!("data is not valid JSON: {e}")));
        }
        return f(text);
    }
    // Out of its slot while PHP may run; a bailout leaves the slot empty, never borrowed.
    let mut buffer = KEPT.take();
    buffer.clear();
    if json::encode(data, &mut buffer).is_err() {
        buffer.clear();
        php_json_encode(data, &mut buffer)?;
    }
    let result = f(&buffer);
    // Keep a typical event's buffer for the next call, not a rare huge one's.
    if buffer.capacity() <= KEPT_BUFFER {
        KEPT.set(buffer);
    }
    result
}

/// `json_encode($data)` by PHP itself, appended to `out`.
fn php_json_encode(data: &Zval, out: &mut String) -> Result<(), ExtError> {
    let refused =
        |reason: String| ExtError::Publish(format!("data cannot be encoded as JSON: {reason}"));
    let encoder = ZendCallable::try_from_name("json_encode").map_err(|e| refused(e.to_string()))?;
    let encoded = encoder
        .try_call(vec![data])
        .map_err(|e| refused(e.to_string()))?;
    match encoded.str() {
        Some(text) => {
            out.push_str(text);
            Ok(())
        }
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
