//! `publish()`'s `$channels` argument as `&str`s, without allocating for the usual handful.

use ext_php_rs::types::{ZendHashTable, Zval};

use crate::errors::ExtError;

/// Channels held on the stack; more spill into a vector.
pub const INLINE_CHANNELS: usize = 8;

/// The channel names, each a non-empty string; at most `u16::MAX` of them (the ring's limit).
///
/// # Errors
/// An empty array, too many names, or a name that is not a non-empty string.
pub fn channel_names<'a>(
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
