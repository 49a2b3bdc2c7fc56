//! The shared-memory ring this process publishes to: its name (INI `rust_echo.ring`, else env
//! `RUST_ECHO_RING`, else the default server's ring, as the engine names it), the producer
//! attached to it, and `RustEcho\ring_name()` so PHP never spells the default itself.

use std::ffi::{CStr, c_char, c_int};
use std::sync::OnceLock;

use ext_php_rs::prelude::*;
use rust_echo_server::Config;
use rust_echo_server::shm::{Producer, Record, RingError, default_name};

use crate::process::State;

/// Publish over the ring named by the current settings, attaching (again) when the name changed.
pub fn publish_shm(state: &mut State, record: &Record<'_>) -> Result<(), RingError> {
    with_ring_name(|wanted| {
        let producer = match &mut state.producer {
            Some(p) if p.name() == wanted => p,
            slot => slot.insert(Producer::new(wanted)?),
        };
        producer.publish(record)
    })
}

/// The ring `publish()` uses (INI `rust_echo.ring`, env `RUST_ECHO_RING`, or the default), or
/// with `$port` the default ring of a server on that port.
#[php_function]
#[php(name = "RustEcho\\ring_name")]
pub fn ring_name(port: Option<i64>) -> PhpResult<String> {
    match port {
        Some(p) => u16::try_from(p).map(default_name).map_err(|_| {
            PhpException::from_class::<crate::errors::ConfigException>(format!(
                "invalid port {p} (expected 0 to 65535)"
            ))
        }),
        None => Ok(with_ring_name(str::to_owned)),
    }
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
            .unwrap_or_else(|| default_name(Config::default().port))
    })
}

/// The function entry of `RustEcho\ring_name` (the macro's is private to this file).
pub fn register_ring_name() -> ext_php_rs::builders::FunctionBuilder<'static> {
    wrap_function!(ring_name)
}
