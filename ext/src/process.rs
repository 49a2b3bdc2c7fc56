//! Per-process state, and what happens to it across `fork()`.
//!
//! PHP forks after loading extensions (php-fpm, `php -S` workers, `pcntl_fork`). A child inherits
//! this state but not the threads behind it, so inherited state is never trusted: a
//! `pthread_atfork` child handler raises a flag, and the first entry point called in the child
//! discards the parent's server handle (without touching its threads) and re-attaches to the
//! ring by name. Checking the flag is one atomic load, so publishing stays free of system calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

use rust_echo_server::shm::Producer;

use crate::hosted::Hosted;

/// Set in the child by the atfork handler.
static FORKED: AtomicBool = AtomicBool::new(false);
static ATFORK: Once = Once::new();
static STATE: Mutex<Option<State>> = Mutex::new(None);

/// This process's state.
#[derive(Default)]
pub struct State {
    /// The server this process hosts, if any.
    pub hosted: Option<Hosted>,
    /// The ring producer, attached on first use; the name comes from INI `rust_echo.ring` or
    /// env `RUST_ECHO_RING` and is looked up again when the ring cannot be reached.
    pub producer: Option<Producer>,
}

extern "C" fn in_child() {
    FORKED.store(true, Ordering::Relaxed);
}

/// Run `f` with this process's state.
pub fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    ATFORK.call_once(|| {
        // SAFETY: `in_child` only stores to an atomic, which is async-signal-safe as the child
        // handler of fork() requires.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        if rc != 0 {
            tracing::warn!(
                rc,
                "pthread_atfork failed; forked children may reuse parent state"
            );
        }
    });
    let mut guard = STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = guard.get_or_insert_with(State::default);
    if FORKED.swap(false, Ordering::Relaxed) {
        // The parent's server threads do not exist here: forget the handle instead of
        // running its destructor, which would wait for them.
        if let Some(parent) = state.hosted.take() {
            std::mem::forget(parent);
        }
        state.producer = None;
    }
    f(state)
}
