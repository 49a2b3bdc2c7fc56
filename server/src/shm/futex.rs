//! Waiting for and waking the consumer across processes with a futex on a word in the shared
//! mapping: producers make the `FUTEX_WAKE` system call only when the consumer sleeps.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleep while `word` holds `expected`, at most `timeout`.
pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(i32::try_from(timeout.subsec_nanos()).unwrap_or(0)),
    };
    // SAFETY: `word` is a valid, aligned u32 in a shared mapping that outlives the call; a
    // non-private futex is required because other processes wake it. EINTR, EAGAIN and
    // ETIMEDOUT are all fine: the caller re-checks the ring.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &raw const ts,
        );
    }
}

/// Wake the consumer sleeping on `word`.
pub(super) fn wake(word: &AtomicU32) {
    // SAFETY: as in `wait`; waking with no sleeper is harmless.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1);
    }
}
