//! `$data` given as a PHP value instead of JSON text: encoded here, straight from the engine's
//! arrays, into a buffer reused across calls. It saves `json_encode()` in PHP and the check of
//! its output here — on the in-process path, the largest cost left besides the call itself.
//!
//! Arrays whose keys are 0, 1, 2, … become JSON arrays and others objects, strings must be UTF-8,
//! as with `json_encode()`. Anything else (objects, `JsonSerializable`, references, non-finite
//! floats, deep nesting) is reported as [`NeedsPhp`], and the caller lets PHP's own
//! `json_encode()` decide, so the result and the errors stay PHP's.

use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};

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
        out.push_str(itoa::Buffer::new().format(n));
    } else if let Some(f) = value.double() {
        if !f.is_finite() {
            return Err(NeedsPhp);
        }
        // Shortest round-trip form, `1.0` for whole numbers, as PHP's serialize_precision -1.
        out.push_str(ryu::Buffer::new().format_finite(f));
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
    if array.nNumOfElements == 0 {
        out.push_str("[]");
        return Ok(());
    }
    // A list in the common case; on the first key out of sequence, start over as an object.
    let start = out.len();
    out.push('[');
    let mut index = 0u64;
    let listed = entries(array, |key, value| {
        if key != Key::Index(index) {
            return Err(NeedsPhp);
        }
        if index > 0 {
            out.push(',');
        }
        index += 1;
        encode_at(value, out, depth)
    });
    if listed.is_ok() {
        out.push(']');
        return Ok(());
    }
    out.truncate(start);
    out.push('{');
    let mut first = true;
    entries(array, |key, value| {
        if !first {
            out.push(',');
        }
        first = false;
        match key {
            Key::Index(n) => {
                out.push('"');
                out.push_str(itoa::Buffer::new().format(n.cast_signed()));
                out.push('"');
            }
            Key::Name(name) => string(name.as_str().map_err(|_| NeedsPhp)?, out),
        }
        out.push(':');
        encode_at(value, out, depth)
    })?;
    out.push('}');
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Key<'a> {
    Index(u64),
    Name(&'a ZendStr),
}

/// PHP's `HASH_FLAG_PACKED` (Zend/zend_hash.h): the table is a plain vector of values.
const HASH_FLAG_PACKED: u32 = 1 << 2;

/// Visit the entries of `array` in order, stopping at the first error. Reads the engine's own
/// layout (PHP ≥ 8.2: packed vectors of zvals, else buckets) instead of its iterator API, which
/// costs several calls into the engine per element.
#[allow(unsafe_code)]
fn entries<'a>(
    array: &'a ZendHashTable,
    mut visit: impl FnMut(Key<'a>, &'a Zval) -> Result<(), NeedsPhp>,
) -> Result<(), NeedsPhp> {
    let used = usize::try_from(array.nNumUsed).map_err(|_| NeedsPhp)?;
    // SAFETY: `u.flags` is the union's plain integer view of the flag bytes.
    let packed = unsafe { array.u.flags } & HASH_FLAG_PACKED != 0;
    for i in 0..used {
        // SAFETY: the engine keeps `nNumUsed` slots initialised in the vector the flag selects;
        // deleted slots are IS_UNDEF and skipped. PHP runs this thread only, so nothing changes
        // the array while it is read, and the borrows end before `publish()` returns.
        let (key, value) = unsafe {
            if packed {
                let value: &Zval = &*array.__bindgen_anon_1.arPacked.add(i);
                (Key::Index(i as u64), value)
            } else {
                let bucket = &*array.__bindgen_anon_1.arData.add(i);
                let key = match bucket.key.as_ref() {
                    Some(name) => Key::Name(name),
                    None => Key::Index(bucket.h),
                };
                (key, &bucket.val)
            }
        };
        if value.get_type() == DataType::Undef {
            continue;
        }
        visit(key, value)?;
    }
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
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}
