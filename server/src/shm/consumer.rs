//! The server side: create the ring, drain records in order, keep the heartbeat fresh, and get
//! past records whose producer died mid-write.

use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::time::{Duration, Instant};

use memmap2::MmapMut;
use serde::Serialize;

use super::codec;
use super::layout::{self, HEADER_SIZE, Mapped, RECORD_OVERHEAD, STATE_CLOSED, STATE_OPEN};
use super::{DIR, RingError, futex, now_ms, path_of};
use crate::message::{DecodeError, Message};

/// How long a reserved record may stay uncommitted before its producer is presumed dead.
const STALL: Duration = Duration::from_secs(1);
/// Smallest data area.
pub const MIN_CAPACITY: u64 = 64 * 1024;

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
}

/// Owns a ring file while the server runs; removes it when dropped.
pub struct Consumer {
    name: String,
    path: PathBuf,
    pub(super) map: Mapped,
    ino: u64,
    scratch: Vec<u8>,
    pending_since: Option<(u64, Instant)>,
    last_beat: Instant,
    dropped: u64,
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
    /// mode `mode`, replacing any ring of that name.
    ///
    /// # Errors
    /// Invalid name, or the file cannot be created or mapped.
    pub fn create(name: &str, capacity: u64, mode: u32) -> Result<Self, RingError> {
        let path = path_of(name)?;
        let capacity = capacity.max(MIN_CAPACITY).next_power_of_two();
        let io = |source| RingError::Io {
            name: name.to_owned(),
            source,
        };
        let tmp = PathBuf::from(DIR).join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(io)?;
        let created = (|| {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            file.set_len(HEADER_SIZE as u64 + capacity)?;
            // SAFETY: a new file only this process knows about yet; see `Producer::attach` for
            // the concurrent access that follows the rename.
            let map = unsafe { MmapMut::map_mut(&file) }?;
            Ok::<_, std::io::Error>(map)
        })();
        let map = match created {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(io(e));
            }
        };
        let mut map = Mapped::new(map, capacity);
        let pid = std::process::id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        map.init(
            now_ms() ^ (u64::from(nanos) << 20) ^ (u64::from(pid) << 44),
            pid,
        );
        map.heartbeat().store(now_ms(), Release);
        map.state().store(STATE_OPEN, Release);
        let ino = file.metadata().map_err(io)?.ino();
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(Consumer {
            name: name.to_owned(),
            path,
            map,
            ino,
            scratch: Vec::new(),
            pending_since: None,
            last_beat: Instant::now(),
            dropped: 0,
        })
    }

    /// The ring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Deliver every committed record in order; returns how many were consumed.
    pub fn poll(&mut self, mut deliver: impl FnMut(Result<Message, DecodeError>)) -> usize {
        let mut n = 0;
        self.beat();
        loop {
            let head = self.map.head().load(Relaxed);
            let tail = self.map.tail().load(Acquire);
            if head == tail {
                self.pending_since = None;
                return n;
            }
            let word = self.map.record_header(head).load(SeqCst);
            let parsed = self.map.parse_header(head, word);
            let size = parsed.map(|(_, len)| layout::record_size(len as usize) as u64);
            match (parsed, size) {
                (Some((true, len)), Some(size)) if size <= tail - head => {
                    let result = self.read(head, len as usize);
                    self.release(head, size);
                    if result.is_err() {
                        self.dropped += 1;
                    }
                    deliver(result);
                    n += 1;
                    // A long drain under load must not let producers think the server is gone.
                    self.beat();
                }
                (Some((false, _)), Some(size)) if size <= tail - head => {
                    if !self.stalled(head) {
                        return n;
                    }
                    tracing::warn!(ring = %self.name, "skipping a record whose producer died mid-write");
                    self.dropped += 1;
                    self.release(head, size);
                }
                _ => {
                    // No usable header yet: a producer between its reservation and its first
                    // store, or a corrupt header. Give it time, then drop what is reserved.
                    if !self.stalled(head) {
                        return n;
                    }
                    tracing::warn!(ring = %self.name, bytes = tail - head, "resetting the ring past an unreadable record");
                    self.dropped += 1;
                    self.release(head, tail - head);
                }
            }
        }
    }

    /// Sleep until a producer commits a record or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let waiting = self.map.waiting();
        waiting.store(1, SeqCst);
        let head = self.map.head().load(Relaxed);
        let ready = head != self.map.tail().load(SeqCst)
            && self
                .map
                .parse_header(head, self.map.record_header(head).load(SeqCst))
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
        RingInfo {
            name: self.name.clone(),
            capacity: self.map.capacity,
            used: self.map.tail().load(Relaxed) - self.map.head().load(Relaxed),
            written: self.map.written().load(Relaxed),
            full: self.map.full_rejections().load(Relaxed),
            dropped: self.dropped,
        }
    }

    fn beat(&mut self) {
        if self.last_beat.elapsed() >= Duration::from_millis(250) {
            self.map.heartbeat().store(now_ms(), Release);
            self.last_beat = Instant::now();
        }
    }

    fn stalled(&mut self, head: u64) -> bool {
        match self.pending_since {
            Some((pos, since)) if pos == head => since.elapsed() >= STALL,
            _ => {
                self.pending_since = Some((head, Instant::now()));
                false
            }
        }
    }

    fn read(&mut self, head: u64, len: usize) -> Result<Message, DecodeError> {
        self.scratch.clear();
        self.map.read_at(head + 8, 4, &mut self.scratch);
        let crc = u32::from_le_bytes(self.scratch[..4].try_into().unwrap_or_default());
        self.scratch.clear();
        self.map
            .read_at(head + RECORD_OVERHEAD as u64, len, &mut self.scratch);
        if crc32fast::hash(&self.scratch) != crc {
            return Err(DecodeError::NotJson(
                "ring record failed its checksum".to_owned(),
            ));
        }
        codec::decode(&self.scratch)
    }

    /// Hand `size` bytes at `head` back to producers: zeroed, then the head moves.
    fn release(&mut self, head: u64, size: u64) {
        self.map.zero_at(head, usize::try_from(size).unwrap_or(0));
        self.map.head().store(head + size, Release);
        self.pending_since = None;
    }
}

impl Drop for Consumer {
    /// Mark the ring closed (producers see it at once) and remove the file if it is still ours.
    fn drop(&mut self) {
        self.map.state().store(STATE_CLOSED, Release);
        if std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
