//! The ring file's layout: a 512-byte header, then `capacity` bytes of records.
//!
//! ```text
//! 0    magic "RECHORNG"        8   version u32      12  header size u32
//! 16   capacity u64            24  generation u64   32  server pid u32   36  state u32 (atomic)
//! 40   heartbeat ms u64 (atomic)
//! 64   tail u64 (atomic, producers)        -- own cache line
//! 128  head u64 (atomic, consumer)         -- own cache line
//! 192  consumer waiting u32 (futex word)   -- own cache line
//! 256  full rejections u64, records written u64 (atomic counters)
//! 512  records
//! ```
//!
//! A record starts at an 8-aligned position: a header word, a CRC word, then the payload, padded
//! to 8 bytes; it may wrap around the end of the data area. The header word is
//! `COMMITTED | RESERVED | lap << 32 | payload length`, where `lap` is the position divided by
//! the capacity: a header left over from an earlier lap never matches.
//!
//! Every byte of the mapping can be written by another process, so nothing here trusts a value
//! read from it: positions are masked into the data area and aligned down to 8 before an atomic
//! is formed, and copies are clamped to the data area, whatever the caller passes.

use std::sync::atomic::{AtomicU32, AtomicU64};

use memmap2::MmapMut;

pub(super) const MAGIC: [u8; 8] = *b"RECHORNG";
pub(super) const VERSION: u32 = 1;
pub(super) const HEADER_SIZE: usize = 512;

const OFF_VERSION: usize = 8;
const OFF_HEADER_SIZE: usize = 12;
const OFF_CAPACITY: usize = 16;
const OFF_GENERATION: usize = 24;
const OFF_PID: usize = 32;
const OFF_STATE: usize = 36;
const OFF_HEARTBEAT: usize = 40;
const OFF_TAIL: usize = 64;
const OFF_HEAD: usize = 128;
const OFF_WAITING: usize = 192;
const OFF_FULL: usize = 256;
const OFF_WRITTEN: usize = 264;

/// `state` values.
pub(super) const STATE_OPEN: u32 = 1;
pub(super) const STATE_CLOSED: u32 = 2;

/// Record header bits.
pub(super) const COMMITTED: u64 = 1 << 63;
pub(super) const RESERVED: u64 = 1 << 62;
const LAP_MASK: u64 = (1 << 30) - 1;
/// Bytes before the payload: header word and CRC word.
pub(super) const RECORD_OVERHEAD: usize = 16;

/// Typed access to a mapped ring file.
pub(super) struct Mapped {
    /// Declared first: the mapping is unregistered before it is unmapped.
    truncation: super::truncation::Guard,
    map: MmapMut,
    /// Data-area size, a power of two.
    pub capacity: u64,
}

impl Mapped {
    /// Wrap a mapping of `HEADER_SIZE + capacity` bytes; `None` when the sizes do not fit (a
    /// capacity that is not a power of two of at least 64 bytes, or a mapping too short).
    pub fn new(map: MmapMut, capacity: u64) -> Option<Self> {
        let fits = usize::try_from(capacity)
            .ok()
            .and_then(|c| c.checked_add(HEADER_SIZE))
            .is_some_and(|needed| map.len() >= needed);
        (capacity.is_power_of_two() && capacity >= 64 && fits).then(|| Mapped {
            truncation: super::truncation::register(map.as_ptr(), map.len()),
            map,
            capacity,
        })
    }

    /// Whether another process truncated the file under this mapping (see `truncation`): what
    /// it reads is no longer the ring.
    pub fn truncated(&self) -> bool {
        self.truncation.faulted()
    }

    /// Whether the file starts with the ring's magic bytes.
    pub fn has_magic(&self) -> bool {
        self.map[..MAGIC.len()] == MAGIC
    }

    fn base(&self) -> *mut u8 {
        self.map.as_ptr().cast_mut()
    }

    fn atomic_u64(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off.is_multiple_of(8) && off + 8 <= self.map.len());
        // SAFETY: the mapping is page-aligned and at least `off + 8` bytes long, `off` is
        // 8-aligned, and the word lives as long as `self`. Other processes only ever access it
        // atomically.
        unsafe { &*self.base().add(off).cast::<AtomicU64>() }
    }

    fn atomic_u32(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off.is_multiple_of(4) && off + 4 <= self.map.len());
        // SAFETY: as in `atomic_u64`, with 4-byte alignment.
        unsafe { &*self.base().add(off).cast::<AtomicU32>() }
    }

    pub fn version(&self) -> u32 {
        u32::from_le_bytes(
            self.map[OFF_VERSION..OFF_VERSION + 4]
                .try_into()
                .unwrap_or_default(),
        )
    }
    pub fn header_size(&self) -> u32 {
        let b = &self.map[OFF_HEADER_SIZE..OFF_HEADER_SIZE + 4];
        u32::from_le_bytes(b.try_into().unwrap_or_default())
    }

    /// Write the fixed header fields of a new ring (before anyone else can see the file).
    pub fn init(&mut self, generation: u64, pid: u32) {
        self.map[..8].copy_from_slice(&MAGIC);
        self.map[OFF_VERSION..OFF_VERSION + 4].copy_from_slice(&VERSION.to_le_bytes());
        let hs = u32::try_from(HEADER_SIZE).unwrap_or(u32::MAX);
        self.map[OFF_HEADER_SIZE..OFF_HEADER_SIZE + 4].copy_from_slice(&hs.to_le_bytes());
        self.map[OFF_CAPACITY..OFF_CAPACITY + 8].copy_from_slice(&self.capacity.to_le_bytes());
        self.map[OFF_GENERATION..OFF_GENERATION + 8].copy_from_slice(&generation.to_le_bytes());
        self.map[OFF_PID..OFF_PID + 4].copy_from_slice(&pid.to_le_bytes());
    }

    pub fn state(&self) -> &AtomicU32 {
        self.atomic_u32(OFF_STATE)
    }
    pub fn heartbeat(&self) -> &AtomicU64 {
        self.atomic_u64(OFF_HEARTBEAT)
    }
    pub fn tail(&self) -> &AtomicU64 {
        self.atomic_u64(OFF_TAIL)
    }
    pub fn head(&self) -> &AtomicU64 {
        self.atomic_u64(OFF_HEAD)
    }
    pub fn waiting(&self) -> &AtomicU32 {
        self.atomic_u32(OFF_WAITING)
    }
    pub fn full_rejections(&self) -> &AtomicU64 {
        self.atomic_u64(OFF_FULL)
    }
    pub fn written(&self) -> &AtomicU64 {
        self.atomic_u64(OFF_WRITTEN)
    }

    /// The header word of the record at ring position `pos`. Callers pass 8-aligned positions;
    /// any other is aligned down, so a corrupt position can never form a misaligned atomic.
    pub fn record_header(&self, pos: u64) -> &AtomicU64 {
        self.atomic_u64(HEADER_SIZE + (self.offset(pos) & !7))
    }

    /// Offset in the data area of ring position `pos`.
    pub fn offset(&self, pos: u64) -> usize {
        // The capacity fits in the mapping, so the masked value fits in usize.
        usize::try_from(pos & (self.capacity - 1)).unwrap_or(0)
    }

    /// The lap tag of ring position `pos`.
    pub fn lap(&self, pos: u64) -> u64 {
        (pos / self.capacity) & LAP_MASK
    }

    /// Copy `bytes` into the data area at ring position `pos`, wrapping at the end.
    pub fn write_at(&self, pos: u64, bytes: &[u8]) {
        let off = self.offset(pos);
        let cap = self.capacity as usize;
        let bytes = &bytes[..bytes.len().min(cap)];
        let first = bytes.len().min(cap - off);
        // SAFETY: both pieces lie inside the data area (`off + first <= cap`, and the rest
        // starts at 0 and is shorter than `cap`). The range was reserved by this producer with
        // the tail CAS, so no other writer touches it, and the consumer reads it only after the
        // release store of the record header.
        unsafe {
            let data = self.base().add(HEADER_SIZE);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.add(off), first);
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(first), data, bytes.len() - first);
        }
    }

    /// Copy `len` bytes at ring position `pos` into `out`, wrapping at the end.
    pub fn read_at(&self, pos: u64, len: usize, out: &mut Vec<u8>) {
        let off = self.offset(pos);
        let cap = self.capacity as usize;
        let len = len.min(cap);
        let first = len.min(cap - off);
        let data = &self.map[HEADER_SIZE..HEADER_SIZE + cap];
        out.extend_from_slice(&data[off..off + first]);
        out.extend_from_slice(&data[..len - first]);
    }

    /// Zero `len` bytes at ring position `pos` (consumed space is handed back clean).
    pub fn zero_at(&self, pos: u64, len: usize) {
        let off = self.offset(pos);
        let cap = self.capacity as usize;
        let len = len.min(cap);
        let first = len.min(cap - off);
        // SAFETY: inside the data area as in `write_at`; the range is behind the head the
        // consumer is about to publish, so no producer writes it until after that store.
        unsafe {
            let data = self.base().add(HEADER_SIZE);
            std::ptr::write_bytes(data.add(off), 0, first);
            std::ptr::write_bytes(data, 0, len - first);
        }
    }

    /// Encode a record header word.
    pub fn header_word(&self, pos: u64, flags: u64, len: u32) -> u64 {
        flags | (self.lap(pos) << 32) | u64::from(len)
    }

    /// Decode a header word read at `pos`: `(committed, reserved, len)` when its lap matches.
    pub fn parse_header(&self, pos: u64, word: u64) -> Option<(bool, u32)> {
        if word & RESERVED == 0 || (word >> 32) & LAP_MASK != self.lap(pos) {
            return None;
        }
        Some((word & COMMITTED != 0, (word & 0xFFFF_FFFF) as u32))
    }
}

/// Total ring bytes a record with `payload` bytes occupies.
pub(super) fn record_size(payload: usize) -> usize {
    RECORD_OVERHEAD + payload.div_ceil(8) * 8
}
