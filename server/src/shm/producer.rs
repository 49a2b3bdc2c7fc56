//! The publishing side: attach to a ring by name on first use, append records without blocking,
//! notice a dead or replaced server and re-attach by name.
//!
//! The producer runs inside PHP, where nothing may panic, and the mapping can be written by
//! other processes: positions read from it are checked (alignment, overflow, a tail behind the
//! head) and an inconsistent ring is refused, never trusted.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

use memmap2::MmapMut;

use super::clock::Clock;
use super::codec::Record;
use super::consumer::{MAX_CAPACITY, MIN_CAPACITY};
use super::layout::{self, COMMITTED, HEADER_SIZE, Mapped, RECORD_OVERHEAD, RESERVED, STATE_OPEN};
use super::{RingError, file, futex, path_of};

/// A server whose heartbeat is older than this is treated as gone.
pub const HEARTBEAT_TIMEOUT_MS: u64 = 2_000;

/// Appends to one named ring. Not shared between threads; cheap to keep per process.
pub struct Producer {
    name: String,
    path: PathBuf,
    ring: Option<Attached>,
    clock: Clock,
}

struct Attached {
    map: Mapped,
    ino: u64,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("name", &self.name)
            .field("attached", &self.ring.is_some())
            .finish()
    }
}

impl Producer {
    /// A producer for the ring called `name`; it attaches on the first publish.
    ///
    /// # Errors
    /// The name is not a valid ring name.
    pub fn new(name: &str) -> Result<Self, RingError> {
        Ok(Producer {
            name: name.to_owned(),
            path: path_of(name)?,
            ring: None,
            clock: Clock::default(),
        })
    }

    /// Judge the server's heartbeat by `clock` (tests move a stopped clock past the timeout).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// The ring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a live server is behind the ring right now (attaching if needed).
    pub fn reachable(&mut self) -> bool {
        self.live_ring().is_ok()
    }

    /// Append one record. Never blocks: a full ring, a gone server or a missing ring is an error
    /// the caller can act on.
    ///
    /// # Errors
    /// See [`RingError`]; nothing is written on error.
    pub fn publish(&mut self, record: &Record<'_>) -> Result<(), RingError> {
        let len = record.encoded_len().ok_or(RingError::TooLarge {
            size: usize::MAX,
            limit: 0,
        })?;
        let ring = self.live_ring()?;
        let map = &ring.map;
        let size = layout::record_size(len);
        let limit = usize::try_from(map.capacity / 4).unwrap_or(usize::MAX);
        if size > limit {
            return Err(RingError::TooLarge { size, limit });
        }
        let size64 = size as u64;
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);

        // Reserve: one CAS on the tail, retried only when another producer won the race.
        let tail = map.tail();
        let mut pos = tail.load(Relaxed);
        loop {
            let head = map.head().load(Acquire);
            let used = pos.wrapping_sub(head);
            if !pos.is_multiple_of(8) || used > map.capacity {
                // No producer or consumer leaves the ring like this: someone wrote garbage. The
                // consumer resets it; until then, refuse rather than write at a bogus position.
                return Err(RingError::Corrupt(self.name.clone()));
            }
            if used + size64 > map.capacity {
                map.full_rejections().fetch_add(1, Relaxed);
                return Err(RingError::Full);
            }
            match tail.compare_exchange_weak(pos, pos.wrapping_add(size64), SeqCst, Relaxed) {
                Ok(_) => break,
                Err(current) => pos = current,
            }
        }
        // Announce the length at once, so a consumer can skip this record if we die now.
        let header = map.record_header(pos);
        header.store(map.header_word(pos, RESERVED, len32), Release);

        let mut crc = crc32fast::Hasher::new();
        let mut at = pos.wrapping_add(RECORD_OVERHEAD as u64);
        record.write(|bytes| {
            crc.update(bytes);
            map.write_at(at, bytes);
            at = at.wrapping_add(bytes.len() as u64);
        });
        let mut crc_word = [0u8; 8];
        crc_word[..4].copy_from_slice(&crc.finalize().to_le_bytes());
        map.write_at(pos.wrapping_add(8), &crc_word);

        header.store(map.header_word(pos, COMMITTED | RESERVED, len32), SeqCst);
        map.written().fetch_add(1, Relaxed);
        // Clear the word before waking: a consumer that found nothing and is about to sleep
        // on it then returns from its `FUTEX_WAIT` at once, where a wake sent before that
        // sleep began would be lost. The load first keeps the busy path from writing the line.
        if map.waiting().load(SeqCst) != 0 && map.waiting().swap(0, SeqCst) != 0 {
            futex::wake(map.waiting());
        }
        if map.truncated() {
            // Some of it went to pages that are no longer the file's.
            return Err(RingError::Truncated(self.name.clone()));
        }
        Ok(())
    }

    /// The attached ring if its server is alive; otherwise re-attach by name once.
    fn live_ring(&mut self) -> Result<&Attached, RingError> {
        let now = self.clock.wall_ms();
        let alive = |a: &Attached| {
            !a.map.truncated()
                && a.map.state().load(Acquire) == STATE_OPEN
                && now.saturating_sub(a.map.heartbeat().load(Acquire)) <= HEARTBEAT_TIMEOUT_MS
        };
        if self.ring.as_ref().is_some_and(alive) {
            return self
                .ring
                .as_ref()
                .ok_or_else(|| RingError::NotFound(self.name.clone()));
        }
        let fresh = match self.attach() {
            // The file this producer had mapped was cut short and not replaced yet.
            Err(RingError::Corrupt(_)) if self.ring.as_ref().is_some_and(|a| a.map.truncated()) => {
                return Err(RingError::Truncated(self.name.clone()));
            }
            attached => attached?,
        };
        let replaced = self.ring.as_ref().is_none_or(|old| old.ino != fresh.ino);
        if replaced {
            self.ring = Some(fresh);
        }
        match &self.ring {
            Some(r) if alive(r) => Ok(r),
            _ => Err(RingError::ServerGone(self.name.clone())),
        }
    }

    fn attach(&self) -> Result<Attached, RingError> {
        let io = |source| RingError::Io {
            name: self.name.clone(),
            source,
        };
        let (file, meta) = file::open_trusted(&self.name, &self.path)?;
        let corrupt = || RingError::Corrupt(self.name.clone());
        let capacity = meta
            .len()
            .checked_sub(HEADER_SIZE as u64)
            .filter(|c| c.is_power_of_two() && (MIN_CAPACITY..=MAX_CAPACITY).contains(c))
            .ok_or_else(corrupt)?;
        // SAFETY: the file is a ring in /dev/shm that other processes modify concurrently;
        // every shared word is accessed atomically and record bytes only under the ring's
        // reservation protocol, so concurrent modification is expected, not undefined.
        let map = unsafe { MmapMut::map_mut(&file) }.map_err(io)?;
        let mapped = Mapped::new(map, capacity).ok_or_else(corrupt)?;
        if !mapped.has_magic() {
            return Err(corrupt());
        }
        if mapped.version() != layout::VERSION {
            return Err(RingError::Version {
                name: self.name.clone(),
                found: mapped.version(),
                expected: layout::VERSION,
            });
        }
        if mapped.header_size() as usize != HEADER_SIZE {
            return Err(corrupt());
        }
        Ok(Attached {
            map: mapped,
            ino: meta.ino(),
        })
    }
}
