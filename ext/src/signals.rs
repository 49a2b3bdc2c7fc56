//! Signal masks of the PHP thread: which signals the server's threads leave to their host, and
//! which `serve()` takes for itself.

use std::time::Duration;

/// Signals blocked on the calling thread while this lives; the previous mask comes back on drop.
/// Threads started meanwhile inherit the mask.
pub struct Blocked {
    set: libc::sigset_t,
    previous: libc::sigset_t,
}

impl Blocked {
    /// SIGINT, SIGTERM and SIGHUP: what `serve()` waits for.
    pub fn shutdown_and_reload() -> Self {
        Self::block(|set| {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: `set` is an initialised sigset.
                unsafe { libc::sigaddset(set, signal) };
            }
        })
    }

    /// Every signal but the faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS),
    /// which belong to the thread that raises them. Threads started meanwhile never take the
    /// host's process-directed signals (SIGTERM, SIGCHLD, SIGUSR1 …): one that does not block a
    /// signal its host reads from a `signalfd` (a Swoole master blocks them on its own thread
    /// only) would receive it, and its default action would end the process.
    pub fn all_but_faults() -> Self {
        Self::block(|set| {
            // SAFETY: `set` is a valid sigset to fill and edit.
            unsafe {
                libc::sigfillset(set);
                for fault in [
                    libc::SIGSEGV,
                    libc::SIGBUS,
                    libc::SIGFPE,
                    libc::SIGILL,
                    libc::SIGTRAP,
                    libc::SIGABRT,
                    libc::SIGSYS,
                ] {
                    libc::sigdelset(set, fault);
                }
            }
        })
    }

    fn block(fill: impl FnOnce(*mut libc::sigset_t)) -> Self {
        // SAFETY: sigset manipulation on stack values; pthread_sigmask changes only the calling
        // thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            fill(&raw mut set);
            libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, &raw mut previous);
            Blocked { set, previous }
        }
    }

    /// The blocked signal that arrived within `timeout`, if any.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::c_long::from(i32::try_from(timeout.subsec_nanos()).unwrap_or(0)),
        };
        // SAFETY: `set` is initialised; a null siginfo pointer is allowed.
        let signal =
            unsafe { libc::sigtimedwait(&raw const self.set, std::ptr::null_mut(), &raw const ts) };
        (signal > 0).then_some(signal)
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `block` on the same thread.
        unsafe {
            libc::pthread_sigmask(
                libc::SIG_SETMASK,
                &raw const self.previous,
                std::ptr::null_mut(),
            );
        }
    }
}
