//! The server side: create the ring, drain records in order, keep the heartbeat fresh, and get
//! past records whose producer died mid-write.
//!
//! Any process that may publish can also write any byte of the mapping, so the consumer reads
//! nothing from it that it has not bounded first. It keeps its own `head` (the shared word is
//! only written, for producers to see), accepts a `tail` only within one capacity of it and
//! 8-aligned, and a record length only within what was reserved and what producers may write.
//! Anything else is corruption: the ring is reset past it, counted, and logged (throttled).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::time::{Duration, Instant};

use memmap2::MmapMut;
use serde::Serialize;

use super::clock::Clock;
use super::layout::{self, HEADER_SIZE, Mapped, RECORD_OVERHEAD, STATE_CLOSED, STATE_OPEN};
use super::throttle::Throttle;
use super::{RingError, codec, file, futex, path_of};
use crate::message::{DecodeError, Message};

/// How long a reserved record may stay uncommitted before its producer is presumed dead.
const STALL: Duration = Duration::from_secs(1);
/// How often the heartbeat word is refreshed.
const BEAT: Duration = Duration::from_millis(250);
/// Smallest data area.
pub const MIN_CAPACITY: u64 = 64 * 1024;
/// Largest data area.
pub const MAX_CAPACITY: u64 = 1 << 32;

/// The ring as `stats()` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RingInfo {
    /// Ring name.
    pub name: String,
    /// Data-area bytes.
    pub capacity: u64,
    /// Bytes written and not yet consumed.
    pub used: u64,
    /// Records producers appended.
    pub written: u64,
    /// Publishes refused because the ring was full.
    pub full: u64,
    /// Records dropped: torn, corrupt, or left behind by a dead producer.
    pub dropped: u64,
    /// Times a corrupt tail or record header made the consumer drop what was queued.
    pub resets: u64,
}

/// What made the consumer reset the ring.
#[derive(Debug, Clone, Copy)]
enum Corruption {
    /// The shared `head` word differs from the consumer's own head.
    Head,
    /// `tail` behind the head, more than one capacity ahead, or not 8-aligned.
    Tail,
    /// A record header whose length exceeds its reservation or any record's limit.
    Length,
    /// Space reserved with no readable header for longer than a producer needs.
    Unreadable,
}

/// Owns a ring file while the server runs; removes it when dropped.
pub struct Consumer {
    name: String,
    /// The file, for removal on drop (`None` for an in-memory image).
    file: Option<(PathBuf, u64)>,
    pub(super) map: Mapped,
    /// Next position to read: private, so a writer cannot move it.
    head: u64,
    clock: Clock,
    stall: Duration,
    scratch: Vec<u8>,
    pending_since: Option<(u64, Instant)>,
    last_beat: Instant,
    dropped: u64,
    resets: u64,
    log: Throttle,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.name)
            .finish()
    }
}

impl Consumer {
    /// Create the ring `name` with `capacity` data bytes (rounded up to a power of two) and file
    /// mode `mode`, replacing any ring of that name this user owns.
    ///
    /// # Errors
    /// Invalid name, a mode that gives every user access, the name held by another user's file,
    /// or the file cannot be created or mapped.
    pub fn create(name: &str, capacity: u64, mode: u32) -> Result<Self, RingError> {
        let path = path_of(name)?;
        let capacity = capacity
            .clamp(MIN_CAPACITY, MAX_CAPACITY)
            .next_power_of_two();
        let clock = Clock::default();
        let mut mapped = None;
        let (_file, ino) = file::create(name, &path, HEADER_SIZE as u64 + capacity, mode, |f| {
            // SAFETY: a new file only this process knows about yet; see `Producer::attach` for
            // the concurrent access that follows the rename.
            let map = unsafe { MmapMut::map_mut(f) }?;
            let mut map = Mapped::new(map, capacity).ok_or(std::io::ErrorKind::InvalidData)?;
            let pid = std::process::id();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let now = clock.wall_ms();
            map.init(now ^ (u64::from(nanos) << 20) ^ (u64::from(pid) << 44), pid);
            map.heartbeat().store(now, Release);
            map.state().store(STATE_OPEN, Release);
            mapped = Some(map);
            Ok(())
        })?;
        let map = mapped.ok_or_else(|| RingError::Corrupt(name.to_owned()))?;
        Ok(Self::over(name, map, Some((path, ino)), clock))
    }

    /// A consumer over an in-memory copy of a ring image (header and records), starting at the
    /// image's head: what `fuzz/fuzz_targets/ring_image.rs` drives. Stalls are immediate.
    #[doc(hidden)]
    pub fn over_image(image: &[u8], capacity: u64) -> Option<Self> {
        let len = HEADER_SIZE.checked_add(usize::try_from(capacity).ok()?)?;
        let mut map = MmapMut::map_anon(len).ok()?;
        let n = image.len().min(len);
        map[..n].copy_from_slice(&image[..n]);
        let map = Mapped::new(map, capacity)?;
        let mut c = Self::over("image", map, None, Clock::stopped());
        c.head = c.map.head().load(Relaxed) & !7;
        c.stall = Duration::ZERO;
        Some(c)
    }

    fn over(name: &str, map: Mapped, file: Option<(PathBuf, u64)>, clock: Clock) -> Self {
        let now = clock.now();
        Consumer {
            name: name.to_owned(),
            file,
            map,
            head: 0,
            stall: STALL,
            scratch: Vec::new(),
            pending_since: None,
            last_beat: now,
            dropped: 0,
            resets: 0,
            log: Throttle::new(Duration::from_secs(1)),
            clock,
        }
    }

    /// Use `clock` for stalls and the heartbeat (tests stop it and move it by hand); the
    /// heartbeat word follows it at once.
    #[cfg(test)]
    pub(super) fn set_clock(&mut self, clock: Clock) {
        self.last_beat = clock.now();
        self.map.heartbeat().store(clock.wall_ms(), Release);
        self.clock = clock;
    }

    /// The ring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether another process truncated the ring file under this mapping: the ring is lost and
    /// must be replaced by a fresh one.
    pub fn truncated(&self) -> bool {
        self.map.truncated()
    }

    /// Deliver every committed record in order; returns how many were consumed.
    pub fn poll(&mut self, mut deliver: impl FnMut(Result<Message, DecodeError>)) -> usize {
        let mut n = 0;
        self.beat();
        if self.map.head().load(Relaxed) != self.head {
            // Producers judge free space by this word; put back what someone overwrote.
            self.count_reset(Corruption::Head, 0, 0);
            self.map.head().store(self.head, Release);
        }
        loop {
            let head = self.head;
            let tail = self.map.tail().load(Acquire);
            let used = tail.wrapping_sub(head);
            if used == 0 {
                self.pending_since = None;
                return n;
            }
            if used > self.map.capacity || !tail.is_multiple_of(8) {
                self.reset_tail(tail, used);
                return n;
            }
            let word = self.map.record_header(head).load(SeqCst);
            match self.map.parse_header(head, word) {
                Some((_, len)) if !self.fits(len, used) => {
                    self.corrupt(Corruption::Length, used, u64::from(len));
                }
                Some((true, len)) => {
                    let size = layout::record_size(len as usize) as u64;
                    let result = self.read(head, len as usize);
                    self.release(size);
                    if result.is_err() {
                        self.dropped += 1;
                    }
                    deliver(result);
                    n += 1;
                    // A long drain under load must not let producers think the server is gone.
                    self.beat();
                }
                Some((false, len)) => {
                    if !self.stalled(head) {
                        return n;
                    }
                    tracing::warn!(ring = %self.name, "skipping a record whose producer died mid-write");
                    self.dropped += 1;
                    self.release(layout::record_size(len as usize) as u64);
                }
                None => {
                    // No usable header yet: a producer between its reservation and its first
                    // store, or a corrupt header. Give it time, then drop what is reserved.
                    if !self.stalled(head) {
                        return n;
                    }
                    self.corrupt(Corruption::Unreadable, used, 0);
                }
            }
        }
    }

    /// Whether a record of `len` payload bytes is one a producer could have reserved: within
    /// the `used` bytes before the tail and within the per-record limit.
    fn fits(&self, len: u32, used: u64) -> bool {
        let size = layout::record_size(len as usize) as u64;
        size <= used && size <= self.map.capacity / 4
    }

    /// Sleep until a producer commits a record or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let waiting = self.map.waiting();
        waiting.store(1, SeqCst);
        let ready = self.head != self.map.tail().load(SeqCst)
            && self
                .map
                .parse_header(self.head, self.map.record_header(self.head).load(SeqCst))
                .is_some_and(|(committed, _)| committed);
        if !ready {
            futex::wait(waiting, 1, timeout);
        }
        waiting.store(0, SeqCst);
    }

    /// Wake a thread blocked in [`Consumer::wait`] (used to stop it).
    pub fn wake(&self) {
        futex::wake(self.map.waiting());
    }

    /// Current figures.
    pub fn info(&self) -> RingInfo {
        let used = self.map.tail().load(Relaxed).wrapping_sub(self.head);
        RingInfo {
            name: self.name.clone(),
            capacity: self.map.capacity,
            used: used.min(self.map.capacity),
            written: self.map.written().load(Relaxed),
            full: self.map.full_rejections().load(Relaxed),
            dropped: self.dropped,
            resets: self.resets,
        }
    }

    fn beat(&mut self) {
        let now = self.clock.now();
        if now.saturating_duration_since(self.last_beat) >= BEAT {
            self.map.heartbeat().store(self.clock.wall_ms(), Release);
            self.last_beat = now;
        }
    }

    fn stalled(&mut self, head: u64) -> bool {
        let now = self.clock.now();
        match self.pending_since {
            Some((pos, since)) if pos == head => now.saturating_duration_since(since) >= self.stall,
            _ => {
                self.pending_since = Some((head, now));
                false
            }
        }
    }

    fn read(&mut self, head: u64, len: usize) -> Result<Message, DecodeError> {
        self.scratch.clear();
        self.map.read_at(head.wrapping_add(8), 4, &mut self.scratch);
        let crc = u32::from_le_bytes(self.scratch[..4].try_into().unwrap_or_default());
        self.scratch.clear();
        self.map.read_at(
            head.wrapping_add(RECORD_OVERHEAD as u64),
            len,
            &mut self.scratch,
        );
        if crc32fast::hash(&self.scratch) != crc {
            return Err(DecodeError::NotJson(
                "ring record failed its checksum".to_owned(),
            ));
        }
        codec::decode(&self.scratch)
    }

    /// A record or reservation that cannot be trusted: drop the `used` bytes up to the tail.
    fn corrupt(&mut self, what: Corruption, used: u64, len: u64) {
        self.count_reset(what, used, len);
        self.release(used);
    }

    /// A tail no producer could have written: move it back to the head (unless a producer
    /// moved it meanwhile, which the next poll looks at again).
    fn reset_tail(&mut self, tail: u64, used: u64) {
        self.count_reset(Corruption::Tail, used, 0);
        let _ = self
            .map
            .tail()
            .compare_exchange(tail, self.head, SeqCst, Relaxed);
        self.map.head().store(self.head, Release);
        self.pending_since = None;
    }

    fn count_reset(&mut self, what: Corruption, used: u64, len: u64) {
        self.resets += 1;
        self.dropped += 1;
        if let Some(suppressed) = self.log.admit(&self.clock) {
            tracing::warn!(
                ring = %self.name,
                problem = ?what,
                bytes = used,
                record_len = len,
                similar_not_logged = suppressed,
                "resetting the ring past a corrupt tail or record; another process wrote garbage into it"
            );
        }
    }

    /// Hand `size` bytes at the head back to producers: zeroed, then the head moves.
    fn release(&mut self, size: u64) {
        let size = size.min(self.map.capacity);
        self.map
            .zero_at(self.head, usize::try_from(size).unwrap_or(0));
        self.head = self.head.wrapping_add(size);
        self.map.head().store(self.head, Release);
        self.pending_since = None;
    }
}

impl Drop for Consumer {
    /// Mark the ring closed (producers see it at once) and remove the file if it is still ours.
    fn drop(&mut self) {
        self.map.state().store(STATE_CLOSED, Release);
        if let Some((path, ino)) = &self.file
            && std::fs::symlink_metadata(path).is_ok_and(|m| m.ino() == *ino)
        {
            let _ = std::fs::remove_file(path);
        }
    }
}
