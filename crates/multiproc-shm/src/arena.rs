//! A shared arena: small blocks of shared memory carved out of a few larger segments, so that
//! 10,000 shared values cost a handful of segments and file descriptors, not 10,000.
//!
//! # Design
//!
//! Each process keeps a *current* arena segment (an anonymous memfd of 64 KiB for the first one,
//! doubling up to 1 MiB) and bump-allocates [`Block`]s from it. Requests larger than a quarter of
//! the largest segment size get a segment of their own. A `Block` holds an `Arc` of its segment,
//! so a segment is unmapped (and its fd closed) when its last block in this process is dropped;
//! the memory itself returns to the system when no process maps it any more. Space inside a
//! segment is never reused: a segment is freed as a whole.
//!
//! The bump pointer lives *in the segment* and advances with a compare-and-swap, so a child
//! created by `fork` (which inherits the parent's current segment) and its parent can both keep
//! allocating from it without handing out the same bytes twice.
//!
//! The process-local bookkeeping (the current segment, and a registry of mapped segments) sits
//! behind two `std` mutexes. As with `malloc`, forking while *another thread* is inside
//! [`Block::alloc`] or a `Block`'s deserialization would leave the child with a mutex locked
//! forever; the fork start method's documentation warns about forking multi-threaded processes.
//!
//! A `Block` crosses a process boundary (inside a message, or as a process argument) as the
//! segment's fd (by [handle transfer](crate::handle)), the segment's random 128-bit id, and the
//! block's offset and length. The receiver maps each segment once: further blocks of a segment
//! it already maps reuse that mapping (and close the extra fd at once). Received segments are
//! checked on attach: their [header](crate::header), their id, and the block's bounds.
//!
//! # Segment layout
//!
//! | offset | field     | type          | meaning                                                |
//! |-------:|-----------|---------------|--------------------------------------------------------|
//! | 0      | `header`  | [`Header`]    | kind `"ARNA"`, version 1, size = segment length        |
//! | 32     | `id`      | `[u64; 2]`    | random id, written before the header is published      |
//! | 48     | `next`    | `u64`         | offset of the first free byte (bump pointer)           |
//! | 56     | reserved  | `u64`         | zero                                                   |
//! | 64     | blocks... |               | each aligned as its allocation asked, zero-filled      |
//!
//! State of `next`: `0` only before the creator published the segment; afterwards it grows
//! monotonically from 64 to at most `size`. A value outside `64..=size` (written by a hostile
//! or corrupted process) makes the segment "full": allocation moves on to a fresh segment.
//!
//! # Examples
//!
//! ```
//! use multiproc_shm::Block;
//!
//! let a = Block::alloc(8, 8)?;
//! let b = Block::alloc(8, 8)?;
//! assert!(a.same_segment(&b));
//! a.view::<u64>().unwrap().store(0, 7);
//! assert_eq!(b.view::<u64>().unwrap().load(0), 0); // different bytes of the same segment
//! # Ok::<(), std::io::Error>(())
//! ```
#![allow(unsafe_code)]

use crate::handle::{self, Handle};
use crate::header::{self, Header};
use crate::{SharedMemory, View};
use bytemuck::Pod;
use multiproc_sys::sync::atomic::{AtomicU64, Ordering};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// The arena segment's structure code.
const KIND: u32 = header::kind(b"ARNA");
/// The arena segment's layout version.
const VERSION: u32 = 1;
/// Where blocks start.
const DATA_START: usize = 64;
/// The first segment's size.
const FIRST_SEGMENT: usize = 64 * 1024;
/// The largest shared segment size; bigger requests get a segment of their own.
const MAX_SEGMENT: usize = 1024 * 1024;
/// The largest block carved from a shared segment.
const LARGE_BLOCK: usize = MAX_SEGMENT / 4;
/// The largest alignment a block may ask for (a page).
const MAX_ALIGN: usize = 4096;

/// The fixed part at the start of an arena segment. All-zero = not yet published.
#[repr(C)]
struct ArenaHeader {
    header: Header,
    id: [AtomicU64; 2],
    next: AtomicU64,
    reserved: AtomicU64,
}

#[cfg(not(multiproc_loom))]
const _: () = assert!(core::mem::size_of::<ArenaHeader>() == DATA_START);

/// The arena header at the start of `shm`, which must be at least `DATA_START` bytes long.
fn header_of(shm: &SharedMemory) -> &ArenaHeader {
    debug_assert!(shm.len() >= DATA_START);
    // SAFETY: the mapping is page-aligned, at least DATA_START bytes long (checked by every
    // caller before this is reached), lives as long as `shm`, and its first 64 bytes are only
    // ever accessed through these atomics, in every process.
    unsafe { &*shm.as_ptr().cast::<ArenaHeader>() }
}

/// One mapped arena segment.
struct Segment {
    shm: SharedMemory,
    id: u128,
}

impl Segment {
    fn header(&self) -> &ArenaHeader {
        header_of(&self.shm)
    }

    /// Creates and publishes a fresh segment of `len` bytes.
    fn create(len: usize) -> io::Result<Segment> {
        let shm = SharedMemory::anonymous(len)?;
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| io::Error::other(e.to_string()))?;
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&raw[..8]);
        hi.copy_from_slice(&raw[8..]);
        let (lo, hi) = (u64::from_ne_bytes(lo), u64::from_ne_bytes(hi));
        let h = header_of(&shm);
        h.id[0].store(lo, Ordering::Relaxed);
        h.id[1].store(hi, Ordering::Relaxed);
        h.next.store(DATA_START as u64, Ordering::Relaxed);
        h.header.publish(KIND, VERSION, len as u64);
        let id = u128::from(lo) | (u128::from(hi) << 64);
        Ok(Segment { shm, id })
    }

    /// Maps a received segment and checks that it is an arena segment with id `claimed`.
    fn attach(shm: SharedMemory, claimed: u128) -> io::Result<Segment> {
        if shm.len() < DATA_START {
            return Err(invalid(format!(
                "arena segment of {} bytes is smaller than its header",
                shm.len()
            )));
        }
        let h = header_of(&shm);
        h.header
            .check(KIND, VERSION, shm.len() as u64)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let lo = u128::from(h.id[0].load(Ordering::Relaxed));
        let hi = u128::from(h.id[1].load(Ordering::Relaxed));
        let id = lo | (hi << 64);
        if id != claimed {
            return Err(invalid(
                "arena segment id does not match the block's".into(),
            ));
        }
        Ok(Segment { shm, id })
    }

    /// Bump-allocates `len` bytes aligned to `align` (a power of two ≤ 4096), or `None` if
    /// the segment is full (or its bump pointer is corrupt).
    fn try_bump(&self, len: usize, align: usize) -> Option<usize> {
        bump(&self.header().next, self.shm.len(), len, align)
    }
}

/// The arena's allocation step: advances the bump pointer `next` of a segment of `size` bytes
/// by `len` bytes aligned to `align` (a power of two) with a compare-and-swap loop, and returns
/// the block's offset; `None` if it does not fit or `next` is outside `DATA_START..=size`.
///
/// Algorithm: a plain CAS bump allocator (as in many lock-free arenas); since `next` only grows
/// and every winner of the CAS owns `[start, end)` exclusively, concurrent allocators (threads,
/// or processes sharing the segment after `fork`) never receive overlapping blocks. Modelled
/// in `tests/loom_arena.rs`.
#[doc(hidden)]
pub fn bump(next: &AtomicU64, size: usize, len: usize, align: usize) -> Option<usize> {
    debug_assert!(align.is_power_of_two());
    let mut cur = next.load(Ordering::Relaxed);
    loop {
        let at = usize::try_from(cur).ok()?;
        if !(DATA_START..=size).contains(&at) {
            return None;
        }
        let start = at.checked_add(align - 1)? & !(align - 1);
        let end = start.checked_add(len)?;
        if end > size {
            return None;
        }
        match next.compare_exchange_weak(cur, end as u64, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(start),
            Err(seen) => cur = seen,
        }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        let mut reg = lock(&REGISTRY);
        if reg.get(&self.id).is_some_and(|w| w.strong_count() == 0) {
            reg.remove(&self.id);
        }
    }
}

/// Every arena segment this process maps, by id (so a received block reuses a mapping).
static REGISTRY: Mutex<BTreeMap<u128, Weak<Segment>>> = Mutex::new(BTreeMap::new());

/// The segment new blocks come from, and the size of the next one to create.
/// Lock order: `CURRENT` before `REGISTRY`; no `Arc<Segment>` is dropped while `REGISTRY` is held.
static CURRENT: Mutex<(Option<Arc<Segment>>, usize)> = Mutex::new((None, FIRST_SEGMENT));

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn register(seg: &Arc<Segment>) {
    let previous = lock(&REGISTRY).insert(seg.id, Arc::downgrade(seg));
    // A dead entry (its segment is being dropped) may be replaced; dropping a `Weak` never
    // runs `Segment::drop`.
    drop(previous);
}

fn lookup(id: u128) -> Option<Arc<Segment>> {
    lock(&REGISTRY).get(&id).and_then(Weak::upgrade)
}

/// A block of zero-filled shared memory carved out of an arena segment.
///
/// `Clone` gives another handle to the *same* memory. A `Block` is `Send + Sync` and
/// `Serialize + Deserialize` (by [handle transfer](crate::handle)): pass it to another process
/// and both see the same bytes. The memory is reached through [`as_ptr`](Self::as_ptr) or a
/// typed [`View`]; never through references, since another process may write it at any time.
///
/// # Examples
///
/// ```
/// use multiproc_shm::{Block, handle};
///
/// let block = Block::alloc(16, 8)?;
/// let counter = block.view::<u64>().unwrap();
/// counter.store(1, 5);
/// // What a Pipe or a Process argument does under the hood:
/// let (bytes, fds) = handle::encode_with_handles(&block)?;
/// let same: Block = handle::decode_with_handles(&bytes, fds)?;
/// assert_eq!(same.view::<u64>().unwrap().load(1), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Block {
    seg: Arc<Segment>,
    offset: usize,
    len: usize,
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Block")
            .field("segment", &format_args!("{:032x}", self.seg.id))
            .field("offset", &self.offset)
            .field("len", &self.len)
            .finish()
    }
}

impl Block {
    /// Allocates `len` zero-filled bytes aligned to `align` from this process's arena.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `align` is not a power of two or exceeds 4096 or `len` is absurdly
    /// large; the kernel's errors if a new segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_shm::Block::alloc(100, 64)?;
    /// assert_eq!(b.len(), 100);
    /// assert_eq!(b.as_ptr() as usize % 64, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn alloc(len: usize, align: usize) -> io::Result<Block> {
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("block alignment {align} is not a power of two up to {MAX_ALIGN}"),
            ));
        }
        if len > isize::MAX as usize / 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "block size too large",
            ));
        }
        // Zero-length blocks still get a distinct byte so that their address is meaningful.
        let bump = len.max(1);
        if bump > LARGE_BLOCK {
            let page = multiproc_sys::mem::page_size().max(MAX_ALIGN);
            // The block starts at the first multiple of `align` at or after the header.
            let size = (DATA_START.max(align) + bump).div_ceil(page) * page;
            let seg = Arc::new(Segment::create(size)?);
            register(&seg);
            let offset = seg.try_bump(bump, align).ok_or_else(|| {
                io::Error::other("a fresh arena segment cannot hold its own block")
            })?;
            return Ok(Block { seg, offset, len });
        }
        let mut current = lock(&CURRENT);
        loop {
            if let Some(seg) = &current.0 {
                if let Some(offset) = seg.try_bump(bump, align) {
                    let seg = Arc::clone(seg);
                    return Ok(Block { seg, offset, len });
                }
            }
            // Grow past what this block needs (at most 4096 + 256 KiB < MAX_SEGMENT).
            let need = DATA_START.max(align) + bump;
            let mut size = current.1;
            while size < need {
                size *= 2;
            }
            let seg = Arc::new(Segment::create(size)?);
            register(&seg);
            current.1 = (size * 2).min(MAX_SEGMENT);
            // The old segment's `Arc` is dropped here, with `CURRENT` held but not `REGISTRY`.
            current.0 = Some(seg);
        }
    }

    /// The block's first byte.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_shm::Block::alloc(8, 8)?;
    /// assert!(!b.as_ptr().is_null());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        // `offset + len <= shm.len()` (checked at allocation and on receipt).
        self.seg.shm.as_ptr().wrapping_add(self.offset)
    }

    /// The block's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shm::Block::alloc(3, 1)?.len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the block has no bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_shm::Block::alloc(0, 1)?.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether two blocks live in the same arena segment.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shm::Block::alloc(8, 8)?;
    /// assert!(a.same_segment(&a.clone()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn same_segment(&self, other: &Block) -> bool {
        Arc::ptr_eq(&self.seg, &other.seg)
    }

    /// Whether two handles refer to the same bytes (in this process's mappings).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shm::Block::alloc(8, 8)?;
    /// let b = multiproc_shm::Block::alloc(8, 8)?;
    /// assert!(a.same_memory(&a.clone()));
    /// assert!(!a.same_memory(&b));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn same_memory(&self, other: &Block) -> bool {
        self.same_segment(other) && self.offset == other.offset && self.len == other.len
    }

    /// A typed view of the block as `len / size_of::<T>()` elements, or `None` if the block is
    /// not aligned for `T` or `T` is zero-sized.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_shm::Block::alloc(16, 8)?;
    /// assert_eq!(b.view::<u32>().unwrap().len(), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn view<T: Pod>(&self) -> Option<View<'_, T>> {
        let size = core::mem::size_of::<T>();
        let ptr = self.as_ptr();
        if size == 0 || !ptr.cast::<T>().is_aligned() {
            return None;
        }
        // SAFETY: aligned (checked); `len / size` elements fit in the block, which stays mapped
        // while `self` lives; the arena's memory is only accessed through views (atomically) or
        // by owners that hold their own synchronisation (documented on `Block`).
        Some(unsafe { View::from_raw_parts(ptr.cast::<T>(), self.len / size) })
    }

    /// How many arena segments this process maps right now (for leak checks and tests).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = multiproc_shm::Block::alloc(8, 8)?;
    /// assert!(multiproc_shm::Block::mapped_segments() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mapped_segments() -> usize {
        lock(&REGISTRY)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

/// Checks a received block's bounds against its segment: `offset` at or past the segment
/// header, `offset + len` inside the segment. A pure function (the fuzz target drives it).
///
/// # Errors
///
/// `InvalidData` describing the violation.
///
/// # Examples
///
/// ```
/// use multiproc_shm::arena_block_check;
///
/// assert!(arena_block_check(64, 8, 4096).is_ok());
/// assert!(arena_block_check(0, 8, 4096).is_err()); // inside the header
/// assert!(arena_block_check(4090, 8, 4096).is_err()); // past the end
/// assert!(arena_block_check(u64::MAX, 2, 4096).is_err()); // overflow
/// ```
pub fn arena_block_check(offset: u64, len: u64, segment_len: u64) -> io::Result<()> {
    let end = offset.checked_add(len);
    match end {
        Some(end) if offset >= DATA_START as u64 && end <= segment_len => Ok(()),
        _ => Err(invalid(format!(
            "block at offset {offset} of {len} bytes does not fit in an arena segment of \
             {segment_len} bytes"
        ))),
    }
}

#[derive(Serialize)]
struct WireRef<'a> {
    id: u128,
    segment_len: u64,
    #[serde(serialize_with = "ser_fd")]
    fd: &'a SharedMemory,
    offset: u64,
    len: u64,
}

fn ser_fd<S: Serializer>(shm: &&SharedMemory, s: S) -> Result<S::Ok, S::Error> {
    handle::fd::serialize_borrowed(shm.as_fd(), s)
}

#[derive(Deserialize)]
struct Wire {
    id: u128,
    segment_len: u64,
    fd: Handle,
    offset: u64,
    len: u64,
}

impl Serialize for Block {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            id: self.seg.id,
            segment_len: self.seg.shm.len() as u64,
            fd: &self.seg.shm,
            offset: self.offset as u64,
            len: self.len as u64,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let seg = match lookup(w.id) {
            // Already mapped here: the received fd is closed when `w.fd` drops.
            Some(seg) => seg,
            None => {
                let len = usize::try_from(w.segment_len).map_err(handle::custom_de_error::<D>)?;
                let shm = SharedMemory::from_fd(w.fd.into_inner(), len, None)
                    .map_err(handle::custom_de_error::<D>)?;
                let seg =
                    Arc::new(Segment::attach(shm, w.id).map_err(handle::custom_de_error::<D>)?);
                register(&seg);
                seg
            }
        };
        arena_block_check(w.offset, w.len, seg.shm.len() as u64)
            .map_err(handle::custom_de_error::<D>)?;
        // Both fit in the segment length, a usize.
        let offset = usize::try_from(w.offset).map_err(handle::custom_de_error::<D>)?;
        let len = usize::try_from(w.len).map_err(handle::custom_de_error::<D>)?;
        Ok(Block { seg, offset, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_blocks_share_segments() {
        let blocks: Vec<Block> = (0..1000).map(|_| Block::alloc(8, 8).unwrap()).collect();
        let mut distinct = 0;
        for (i, b) in blocks.iter().enumerate() {
            if i == 0 || !b.same_segment(&blocks[i - 1]) {
                distinct += 1;
            }
            assert_eq!(b.as_ptr() as usize % 8, 0);
        }
        assert!(distinct <= 2, "{distinct} segments for 1000 blocks");
    }

    #[test]
    fn blocks_do_not_overlap_and_are_zeroed() {
        let a = Block::alloc(24, 8).unwrap();
        let b = Block::alloc(24, 8).unwrap();
        let va = a.view::<u64>().unwrap();
        va.fill(u64::MAX);
        assert!(b.view::<u64>().unwrap().iter().all(|x| x == 0));
        assert!(!a.same_memory(&b));
    }

    #[test]
    fn large_blocks_get_their_own_segment() {
        let big = Block::alloc(LARGE_BLOCK + 1, 64).unwrap();
        let small = Block::alloc(8, 8).unwrap();
        assert!(!big.same_segment(&small));
        let v = big.view::<u8>().unwrap();
        v.store(LARGE_BLOCK, 1);
        assert_eq!(v.len(), LARGE_BLOCK + 1);
    }

    #[test]
    fn round_trip_reuses_the_mapping() {
        let a = Block::alloc(8, 8).unwrap();
        let (bytes, fds) = handle::encode_with_handles(&a).unwrap();
        let b: Block = handle::decode_with_handles(&bytes, fds).unwrap();
        assert!(a.same_memory(&b));
    }

    #[test]
    fn page_aligned_blocks_of_every_size_fit() {
        for len in [
            1,
            4096,
            200_000,
            LARGE_BLOCK,
            LARGE_BLOCK + 1,
            300_000,
            2 << 20,
        ] {
            let b = Block::alloc(len, 4096).unwrap();
            assert_eq!(b.as_ptr() as usize % 4096, 0);
            b.view::<u8>().unwrap().store(len - 1, 1);
        }
    }

    #[test]
    fn bad_alignment_is_refused() {
        assert!(Block::alloc(8, 3).is_err());
        assert!(Block::alloc(8, 8192).is_err());
    }

    #[test]
    fn hostile_blocks_are_refused() {
        let a = Block::alloc(8, 8).unwrap();
        // Forge the wire form with a bad offset.
        let forged = WireRef {
            id: a.seg.id,
            segment_len: a.seg.shm.len() as u64,
            fd: &a.seg.shm,
            offset: a.seg.shm.len() as u64 - 4,
            len: 8,
        };
        let (bytes, fds) = handle::encode_with_handles(&forged).unwrap();
        assert!(handle::decode_with_handles::<Block>(&bytes, fds).is_err());
        // A segment that is not an arena: an anonymous segment with no header.
        let plain = SharedMemory::anonymous(4096).unwrap();
        let forged = WireRef {
            id: 12345,
            segment_len: 4096,
            fd: &plain,
            offset: 64,
            len: 8,
        };
        let (bytes, fds) = handle::encode_with_handles(&forged).unwrap();
        let err = handle::decode_with_handles::<Block>(&bytes, fds).unwrap_err();
        assert!(err.to_string().contains("not initialised"), "{err}");
    }

    #[test]
    fn corrupt_bump_pointer_moves_on() {
        let seg = Segment::create(4096).unwrap();
        seg.header().next.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(seg.try_bump(8, 8), None);
        seg.header().next.store(10, Ordering::Relaxed);
        assert_eq!(seg.try_bump(8, 8), None);
        seg.header().next.store(64, Ordering::Relaxed);
        assert_eq!(seg.try_bump(8, 8), Some(64));
        assert_eq!(seg.try_bump(4096, 8), None);
    }
}
