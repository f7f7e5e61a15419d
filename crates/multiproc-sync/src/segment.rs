//! The memory of one primitive: the common multiproc header, then the primitive's state.
//!
//! # Layout
//!
//! | offset | size | field  | meaning                                                        |
//! |--------|------|--------|----------------------------------------------------------------|
//! | 0      | 32   | header | [`multiproc_shm::header::Header`]: magic `"MPrc"`, kind (`LOCK`, `RLCK`, `SEMA`, `EVNT`, `COND`, `BARR`), version 1, size = 64 + body length; the magic is published last |
//! | 32     | 32   | —      | zero (the body starts on its own cache line)                   |
//! | 64     | …    | body   | the primitive's `#[repr(C)]` state (see `raw`)                 |
//!
//! Attaching checks the header with [`multiproc_shm::header::attach_check`] (magic, kind,
//! version, declared size within the mapping) and that the body is large enough, so memory of
//! the wrong kind, or hostile bytes, give an error, never a misread.
#![allow(unsafe_code)]

use crate::Error;
use multiproc_shm::header::{self, Header};
use multiproc_shm::{Block, SharedMemory};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

/// The layout version of every primitive's body.
pub(crate) const VERSION: u32 = 1;
/// Where the body starts (one cache line after the header).
pub(crate) const BODY_OFFSET: usize = 64;

/// Which primitive a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Lock,
    RLock,
    Semaphore,
    Event,
    Condition,
    Barrier,
}

impl Kind {
    /// The four-character code in the header.
    fn code(self) -> u32 {
        header::kind(match self {
            Kind::Lock => b"LOCK",
            Kind::RLock => b"RLCK",
            Kind::Semaphore => b"SEMA",
            Kind::Event => b"EVNT",
            Kind::Condition => b"COND",
            Kind::Barrier => b"BARR",
        })
    }
}

const _: () = assert!(size_of::<Header>() <= BODY_OFFSET && align_of::<Header>() <= BODY_OFFSET);

const _: () = {
    use crate::raw::{barrier, condition, event, lock, semaphore};
    assert!(size_of::<lock::LockWord>() == 4 && align_of::<lock::LockWord>() == 4);
    assert!(size_of::<lock::RLockState>() == 8 && align_of::<lock::RLockState>() == 4);
    assert!(size_of::<semaphore::SemaphoreState>() == 24);
    assert!(size_of::<event::EventState>() == 4);
    assert!(size_of::<condition::ConditionState>() == 8);
    assert!(size_of::<barrier::BarrierState>() == 12);
};

/// A type that may live in a segment body.
///
/// # Safety
///
/// `#[repr(C)]`, made only of `AtomicU32`s (directly or nested), alignment ≤ 64, and every bit
/// pattern (in particular all-zero) is a valid value.
pub(crate) unsafe trait Body {}

// SAFETY: all of these are `#[repr(C)]` structs of `AtomicU32` fields only (see `raw`).
unsafe impl Body for crate::raw::lock::LockWord {}
// SAFETY: as above.
unsafe impl Body for crate::raw::lock::RLockState {}
// SAFETY: as above.
unsafe impl Body for crate::raw::semaphore::SemaphoreState {}
// SAFETY: as above.
unsafe impl Body for crate::raw::event::EventState {}
// SAFETY: as above.
unsafe impl Body for crate::raw::condition::ConditionState {}
// SAFETY: as above.
unsafe impl Body for crate::raw::barrier::BarrierState {}

/// Checks the header bytes of memory `available` bytes long and returns the body length (a pure
/// function over bytes, as the fuzz target drives `attach_check`).
///
/// # Errors
///
/// [`Error::Attach`] if the header is not a published `kind` header of our version that fits,
/// [`Error::BadHeader`] if the body is shorter than `min_body`.
pub(crate) fn check_header(
    bytes: &[u8],
    available: usize,
    kind: Kind,
    min_body: usize,
) -> Result<usize, Error> {
    let available = u64::try_from(available).map_err(|_| Error::BadHeader("mapping too large"))?;
    let fields = header::attach_check(bytes, kind.code(), VERSION, available)?;
    let size = usize::try_from(fields.size).map_err(|_| Error::BadHeader("size too large"))?;
    match size.checked_sub(BODY_OFFSET) {
        Some(body) if body >= min_body => Ok(body),
        _ => Err(Error::BadHeader("body shorter than the primitive's state")),
    }
}

/// Where a primitive's memory comes from.
#[derive(Debug)]
enum Store {
    /// A named segment of its own (`create_named` / `open_named`).
    Named(SharedMemory),
    /// A block carved from this process's shared arena (anonymous primitives: 10,000 locks
    /// cost a handful of segments and fds, not 10,000).
    Block(Block),
}

/// The wire form: the store, whose fd travels by handle transfer.
#[derive(Serialize)]
enum WireRef<'a> {
    Named(&'a SharedMemory),
    Block(&'a Block),
}

#[derive(Deserialize)]
enum Wire {
    Named(SharedMemory),
    Block(Block),
}

/// The mapped, checked memory of one primitive: the prefix, then the body at [`BODY_OFFSET`].
#[derive(Debug)]
pub(crate) struct Segment {
    store: Store,
    /// Start of the prefix; 64-aligned, valid for `BODY_OFFSET + body_len` bytes while `store`
    /// lives.
    base: *mut u8,
    body_len: usize,
}

// SAFETY: `base` points into memory owned by `store` (a mapping that is the same in every
// thread and is only reached through atomics); `SharedMemory` and `Block` are Send + Sync.
unsafe impl Send for Segment {}
// SAFETY: as for `Send`: `&Segment` hands out only shared references to atomics.
unsafe impl Sync for Segment {}

impl Segment {
    /// Creates the memory for a primitive (an arena block, or a named segment when `name` is
    /// given) with `body_len` bytes of zeroed body; `init` runs on the body before the magic is
    /// published.
    pub(crate) fn create(
        kind: Kind,
        body_len: usize,
        name: Option<&str>,
        init: impl FnOnce(&Segment),
    ) -> Result<Arc<Segment>, Error> {
        let len = BODY_OFFSET
            .checked_add(body_len)
            .ok_or(Error::InvalidArgument("too large"))?;
        let store = match name {
            None => Store::Block(Block::alloc(len, BODY_OFFSET)?),
            Some(n) => Store::Named(SharedMemory::create(Some(n), len)?),
        };
        let seg = Segment::new(store, body_len);
        init(&seg);
        seg.header().publish(kind.code(), VERSION, len as u64);
        Ok(Arc::new(seg))
    }

    fn new(store: Store, body_len: usize) -> Segment {
        let base = match &store {
            Store::Named(shm) => shm.as_ptr(),
            Store::Block(b) => b.as_ptr(),
        };
        Segment {
            store,
            base,
            body_len,
        }
    }

    fn store_len(store: &Store) -> usize {
        match store {
            Store::Named(shm) => shm.len(),
            Store::Block(b) => b.len(),
        }
    }

    fn store_ptr(store: &Store) -> *mut u8 {
        match store {
            Store::Named(shm) => shm.as_ptr(),
            Store::Block(b) => b.as_ptr(),
        }
    }

    /// Checks and wraps received or opened memory. With `wait_init`, memory whose creator has
    /// not yet published the magic (a named segment being created right now) is waited for, up
    /// to a second.
    fn attach(
        store: Store,
        kind: Kind,
        min_body: usize,
        wait_init: bool,
    ) -> Result<Arc<Segment>, Error> {
        let len = Self::store_len(&store);
        let ptr = Self::store_ptr(&store);
        if len < BODY_OFFSET || ptr.align_offset(BODY_OFFSET) != 0 {
            return Err(Error::BadHeader("memory too short or misaligned"));
        }
        // SAFETY: `ptr` is 64-aligned and valid for at least 64 bytes (checked above) while
        // `store` lives; the header is made of atomics only, valid for any bit pattern.
        let h = unsafe { &*ptr.cast::<Header>() };
        let give_up = Instant::now() + Duration::from_secs(1);
        while wait_init && !h.is_published() && Instant::now() < give_up {
            std::thread::yield_now();
        }
        let body_len = check_header(&h.snapshot(), len, kind, min_body)?;
        Ok(Arc::new(Segment::new(store, body_len)))
    }

    /// Opens a named segment and attaches to it.
    pub(crate) fn open(name: &str, kind: Kind, min_body: usize) -> Result<Arc<Segment>, Error> {
        Self::attach(
            Store::Named(SharedMemory::open(name)?),
            kind,
            min_body,
            true,
        )
    }

    fn header(&self) -> &Header {
        // SAFETY: `base` is 64-aligned and valid for BODY_OFFSET + body_len bytes while `self`
        // lives (checked at create/attach); the header is atomics only.
        unsafe { &*self.base.cast::<Header>() }
    }

    /// The body as a `T` (which the segment's kind was checked to hold).
    #[inline]
    pub(crate) fn body<T: Body>(&self) -> &T {
        assert!(size_of::<T>() <= self.body_len && align_of::<T>() <= BODY_OFFSET);
        let ptr = self.base.wrapping_add(BODY_OFFSET).cast::<T>();
        // SAFETY: `T: Body` (atomics only, any bit pattern valid); `base` is 64-aligned so
        // offset 64 is aligned for T; `body_len ≥ size_of::<T>()` and the memory holds
        // BODY_OFFSET + body_len bytes (checked at create/attach); it lives as long as `self`.
        unsafe { &*ptr }
    }

    /// Whether `n` words starting `offset` bytes into the body fit in it.
    pub(crate) fn has_words(&self, offset: usize, n: usize) -> bool {
        n.checked_mul(4)
            .and_then(|b| b.checked_add(offset))
            .is_some_and(|e| e <= self.body_len)
    }

    /// `n` atomic words starting `offset` bytes into the body (the barrier's slots).
    pub(crate) fn words(&self, offset: usize, n: usize) -> &[AtomicU32] {
        assert!(offset % 4 == 0 && self.has_words(offset, n));
        let ptr = self
            .base
            .wrapping_add(BODY_OFFSET + offset)
            .cast::<AtomicU32>();
        // SAFETY: 4-aligned (64-aligned base, offsets multiples of 4), inside the memory
        // (checked above), AtomicU32 is valid for any bits, and the memory lives as long as self.
        unsafe { std::slice::from_raw_parts(ptr, n) }
    }

    /// The segment's name, for a named primitive.
    pub(crate) fn name(&self) -> Option<&str> {
        match &self.store {
            Store::Named(shm) => shm.name(),
            Store::Block(_) => None,
        }
    }

    /// Serializes the memory (its fd travels by handle transfer).
    pub(crate) fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.store {
            Store::Named(shm) => WireRef::Named(shm),
            Store::Block(b) => WireRef::Block(b),
        }
        .serialize(s)
    }

    /// Deserializes the memory and checks it holds `kind`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
        kind: Kind,
        min_body: usize,
    ) -> Result<Arc<Segment>, D::Error> {
        let store = match Wire::deserialize(d)? {
            Wire::Named(shm) => Store::Named(shm),
            Wire::Block(b) => Store::Block(b),
        };
        Segment::attach(store, kind, min_body, false).map_err(serde::de::Error::custom)
    }
}

/// `Serialize`/`Deserialize` for a primitive that is just `{ seg: Arc<Segment> }`.
macro_rules! serde_via_segment {
    ($ty:ident, $kind:expr, $body:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.seg.serialize(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let seg = $crate::segment::Segment::deserialize(d, $kind, size_of::<$body>())?;
                Ok($ty { seg })
            }
        }
    };
}
pub(crate) use serde_via_segment;

#[cfg(test)]
mod tests {
    use super::*;
    use multiproc_shm::handle::{decode_with_handles, encode_with_handles};

    #[test]
    fn header_checks() {
        let h = Header::default();
        assert!(check_header(&h.snapshot(), 4096, Kind::Lock, 4).is_err());
        h.publish(Kind::Lock.code(), VERSION, 68);
        assert_eq!(check_header(&h.snapshot(), 4096, Kind::Lock, 4).unwrap(), 4);
        assert!(check_header(&h.snapshot(), 4096, Kind::Event, 4).is_err());
        assert!(check_header(&h.snapshot(), 4096, Kind::Lock, 8).is_err());
        assert!(check_header(&h.snapshot(), 67, Kind::Lock, 4).is_err());
        assert!(check_header(&h.snapshot()[..20], 4096, Kind::Lock, 4).is_err());
        h.publish(Kind::Lock.code(), VERSION + 1, 68);
        assert!(check_header(&h.snapshot(), 4096, Kind::Lock, 4).is_err());
        h.publish(Kind::Lock.code(), VERSION, 40);
        assert!(check_header(&h.snapshot(), 4096, Kind::Lock, 0).is_err());
    }

    #[test]
    fn attach_rejects_other_kinds_and_garbage() {
        let seg = Segment::create(Kind::Lock, 4, None, |_| {}).unwrap();
        let (bytes, fds) = encode_with_handles(&WireRefHolder(&seg)).unwrap();
        let store = match decode_with_handles::<Wire>(&bytes, fds).unwrap() {
            Wire::Named(shm) => Store::Named(shm),
            Wire::Block(b) => Store::Block(b),
        };
        assert!(matches!(
            Segment::attach(store, Kind::Semaphore, 4, false),
            Err(Error::Attach(_))
        ));
        let junk = SharedMemory::anonymous(4096).unwrap();
        // SAFETY: the segment is 4096 bytes and private to this test.
        unsafe { junk.as_ptr().write_bytes(0xAB, 4096) };
        assert!(Segment::attach(Store::Named(junk), Kind::Lock, 4, false).is_err());
        let zero = Block::alloc(128, 64).unwrap();
        assert!(Segment::attach(Store::Block(zero), Kind::Lock, 4, false).is_err());
    }

    struct WireRefHolder<'a>(&'a Segment);
    impl Serialize for WireRefHolder<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize(s)
        }
    }

    #[test]
    fn all_zero_bodies_are_initial_states() {
        use crate::raw::{Os, barrier, condition, event, lock, semaphore};
        for (kind, len) in [
            (Kind::Lock, 4),
            (Kind::RLock, 8),
            (Kind::Semaphore, 24),
            (Kind::Event, 4),
            (Kind::Condition, 8),
            (Kind::Barrier, 24),
        ] {
            let seg = Segment::create(kind, len, None, |_| {}).unwrap();
            assert!(
                seg.words(0, len / 4)
                    .iter()
                    .all(|w| w.load(std::sync::atomic::Ordering::Relaxed) == 0)
            );
        }
        let zero = |len| Segment::create(Kind::Lock, len, None, |_| {}).unwrap();
        let s = zero(4);
        assert_eq!(s.body::<lock::LockWord>().owner(), 0);
        assert!(s.body::<lock::LockWord>().try_lock_fast(1));
        let s = zero(8);
        assert!(!s.body::<lock::RLockState>().is_owned(&Os));
        let s = zero(24);
        assert_eq!(s.body::<semaphore::SemaphoreState>().value(), 0);
        assert!(s.body::<semaphore::SemaphoreState>().release().is_ok());
        let s = zero(4);
        assert!(!s.body::<event::EventState>().is_set());
        let s = zero(8);
        assert_eq!(s.body::<condition::ConditionState>().waiters(), 0);
        let s = zero(24);
        let b = s.body::<barrier::BarrierState>();
        assert!(!b.is_broken() && b.n_waiting() == 0);
    }

    #[test]
    fn thousands_of_locks_share_a_few_segments() {
        let before = Block::mapped_segments();
        let locks: Vec<crate::Lock> = (0..10_000).map(|_| crate::Lock::new().unwrap()).collect();
        assert!(Block::mapped_segments() - before < 64);
        drop(locks);
    }
}
