//! `$data` given as a PHP value instead of JSON text: encoded here, straight from the engine's
//! arrays, into a buffer reused across calls. It saves `json_encode()` in PHP and the check of
//! its output here — on the in-process path, the largest cost left besides the call itself.
//!
//! Arrays whose keys are 0, 1, 2, … become JSON arrays and others objects, strings must be UTF-8,
//! as with `json_encode()`. Anything else (objects, `JsonSerializable`, references, non-finite
//! floats, deep nesting) is reported as [`NeedsPhp`], and the caller lets PHP's own
//! `json_encode()` decide, so the result and the errors stay PHP's.

use std::fmt::Write as _;

use ext_php_rs::types::{ZendHashTable, Zval};

/// PHP's `json_encode()` depth limit.
const MAX_DEPTH: u32 = 512;

/// The value holds something only PHP's encoder handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsPhp;

/// Append `value` as JSON to `out`. On `Err`, `out` holds partial output.
pub fn encode(value: &Zval, out: &mut String) -> Result<(), NeedsPhp> {
    encode_at(value, out, 0)
}

fn encode_at(value: &Zval, out: &mut String, depth: u32) -> Result<(), NeedsPhp> {
    if value.is_null() {
        out.push_str("null");
    } else if let Some(b) = value.bool() {
        out.push_str(if b { "true" } else { "false" });
    } else if let Some(n) = value.long() {
        let _ = write!(out, "{n}");
    } else if let Some(f) = value.double() {
        if !f.is_finite() {
            return Err(NeedsPhp);
        }
        // Shortest round-trip form, `1.0` for whole numbers, as PHP's serialize_precision -1.
        let _ = write!(out, "{f:?}");
    } else if let Some(s) = value.zend_str() {
        let s = s.as_str().map_err(|_| NeedsPhp)?;
        string(s, out);
    } else if let Some(array) = value.array() {
        if depth >= MAX_DEPTH {
            return Err(NeedsPhp);
        }
        self::array(array, out, depth + 1)?;
    } else {
        return Err(NeedsPhp);
    }
    Ok(())
}

fn array(array: &ZendHashTable, out: &mut String, depth: u32) -> Result<(), NeedsPhp> {
    if array.is_empty() {
        out.push_str("[]");
        return Ok(());
    }
    // A list in the common case; on the first key out of sequence, start over as an object.
    let start = out.len();
    out.push('[');
    let mut iter = array.iter();
    let mut index = 0i64;
    let mut list = true;
    while let Some((key, value)) = iter.next_zval() {
        if key.long() != Some(index) {
            list = false;
            break;
        }
        if index > 0 {
            out.push(',');
        }
        encode_at(value, out, depth)?;
        index += 1;
    }
    if list {
        out.push(']');
        return Ok(());
    }
    out.truncate(start);
    out.push('{');
    let mut iter = array.iter();
    let mut first = true;
    while let Some((key, value)) = iter.next_zval() {
        if !first {
            out.push(',');
        }
        first = false;
        if let Some(n) = key.long() {
            let _ = write!(out, "\"{n}\"");
        } else {
            let name = key.zend_str().ok_or(NeedsPhp)?;
            string(name.as_str().map_err(|_| NeedsPhp)?, out);
        }
        out.push(':');
        encode_at(value, out, depth)?;
    }
    out.push('}');
    Ok(())
}

/// A JSON string: quotes, backslashes and control characters escaped; other characters as they
/// are (valid UTF-8 is valid JSON).
fn string(s: &str, out: &mut String) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}
