//! PATCH (rust-echo, docs/adr/0012): cache prefetch hints for a broadcast's loop over sockets.
//!
//! A broadcast to thousands of sockets follows, for each, a chain of pointers to memory that
//! nothing else touched since the last broadcast: the socket, its Engine.IO socket, its packet
//! queue. Each link is a cache miss, and the lock taken on the queue keeps the processor from
//! overlapping those misses with the next socket's. Asking for the lines a few sockets ahead lets
//! the misses of several sockets overlap. A hint only: it changes no state, and a wrong address
//! costs nothing but the load.

/// Asks the processor to load the cache line holding `value`.
#[inline(always)]
pub fn line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of every x86-64 processor, and a prefetch of any address is defined
    // (it never faults).
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
