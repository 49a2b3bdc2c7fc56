//! A ring file truncated under its mappings.
//!
//! Any process that may write the ring (the server's user, or its group in the `0660` set-up)
//! can also `ftruncate` it. Touching a mapped page past the new end of a file raises `SIGBUS`,
//! which would kill the server, or a PHP worker in the middle of a publish. Every ring mapping is
//! registered here; a `SIGBUS` inside one replaces the faulting page with a private zero page
//! (the instruction is then retried and sees zeros, as a ring header that is not open) and
//! marks the mapping, so its owner can let go of it: the server makes a fresh ring, a producer
//! reports the publish as failed and re-attaches. A `SIGBUS` anywhere else goes to the handler
//! that was there before, or kills the process as it would have.
//!
//! The handler does only what is safe in a signal handler: atomic loads and stores over a fixed
//! table, and one `mmap` system call.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Acquire, Ordering::Release};

/// Ring mappings one process can have registered at once (a process maps one or two rings).
const SLOTS: usize = 64;

struct Slot {
    used: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            used: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faulted: AtomicBool::new(false),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// The page size and the `SIGBUS` disposition found at installation.
struct Installed {
    page: usize,
    previous: libc::sigaction,
}

// SAFETY: `libc::sigaction` is plain data (a handler address, a signal mask and flags); it is
// written once, before the handler can run, and only read afterwards.
unsafe impl Sync for Installed {}
unsafe impl Send for Installed {}

static INSTALLED: OnceLock<Option<Installed>> = OnceLock::new();

/// A registered mapping; unregisters it when dropped (before the mapping goes away).
#[derive(Debug)]
pub(super) struct Guard {
    slot: Option<usize>,
}

impl Guard {
    /// Whether a page of the mapping was found truncated.
    pub(super) fn faulted(&self) -> bool {
        self.slot.is_some_and(|i| TABLE[i].faulted.load(Acquire))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let slot = &TABLE[i];
            slot.len.store(0, Release);
            slot.start.store(0, Release);
            slot.faulted.store(false, Release);
            slot.used.store(false, Release);
        }
    }
}

/// Register the mapping of `len` bytes at `start` (installing the handler on first use). With
/// every slot taken, or no handler, the mapping is simply not covered.
pub(super) fn register(start: *const u8, len: usize) -> Guard {
    if install().is_none() {
        return Guard { slot: None };
    }
    let slot = TABLE.iter().position(|s| {
        s.used
            .compare_exchange(false, true, Acquire, std::sync::atomic::Ordering::Relaxed)
            .is_ok()
    });
    if let Some(i) = slot {
        TABLE[i].faulted.store(false, Release);
        TABLE[i].start.store(start as usize, Release);
        TABLE[i].len.store(len, Release);
    } else {
        tracing::warn!(
            "more than {SLOTS} ring mappings: a truncated ring would crash this process"
        );
    }
    Guard { slot }
}

fn install() -> Option<&'static Installed> {
    INSTALLED
        .get_or_init(|| {
            // SAFETY: sysconf has no preconditions.
            let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
            // SAFETY: zeroed is a valid `sigaction` (no handler, empty mask, no flags); the
            // calls get and set this process's SIGBUS disposition.
            unsafe {
                let mut previous: libc::sigaction = std::mem::zeroed();
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&raw mut action.sa_mask);
                if libc::sigaction(libc::SIGBUS, &raw const action, &raw mut previous) != 0 {
                    return None;
                }
                Some(Installed { page, previous })
            }
        })
        .as_ref()
}

extern "C" fn on_sigbus(sig: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let Some(Some(installed)) = INSTALLED.get() else {
        return default_action();
    };
    for slot in &TABLE {
        let len = slot.len.load(Acquire);
        let start = slot.start.load(Acquire);
        if len == 0 || addr < start || addr - start >= len {
            continue;
        }
        let page = addr & !(installed.page - 1);
        // SAFETY: the page lies inside a ring mapping this process owns; replacing it with a
        // private zero page changes what the mapping's users read, never memory of anything else.
        let mapped = unsafe {
            libc::mmap(
                page as *mut c_void,
                installed.page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapped != libc::MAP_FAILED {
            slot.faulted.store(true, Release);
            return;
        }
    }
    let previous = installed.previous.sa_sigaction;
    if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
        return default_action();
    }
    // SAFETY: `previous` is the handler installed before ours, called as it was registered.
    unsafe {
        if installed.previous.sa_flags & libc::SA_SIGINFO != 0 {
            let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                std::mem::transmute(previous);
            handler(sig, info, context);
        } else {
            let handler: extern "C" fn(c_int) = std::mem::transmute(previous);
            handler(sig);
        }
    }
}

/// Restore the default action and return: the faulting instruction runs again and the process
/// ends by SIGBUS, as it would have without this handler.
fn default_action() {
    // SAFETY: zeroed with SIG_DFL (0) is the default disposition.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGBUS, &raw const action, std::ptr::null_mut());
    }
}
