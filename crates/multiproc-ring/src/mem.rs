//! Where a ring's bytes live: a shared-memory segment in real builds, the heap under loom.
//!
//! This is the only module of the crate with `unsafe` code: it turns the segment's raw pointer
//! into a `&RingHeader` (a struct of atomics) and copies bytes in and out of the data area.
#![allow(unsafe_code)]

use crate::layout::RingHeader;

#[cfg(multiproc_loom)]
pub(crate) use model::Mem;
#[cfg(not(multiproc_loom))]
pub(crate) use real::Mem;

/// Converts an offset inside the data area (always below the capacity, at most 1 GiB) to usize.
#[inline]
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn us(x: u64) -> usize {
    x as usize
}

#[cfg(not(multiproc_loom))]
mod real {
    use super::{RingHeader, us};
    use crate::layout::DATA_OFFSET;
    use multiproc_shm::SharedMemory;
    use std::sync::Arc;

    /// A mapped segment: the header at offset 0, the data area at [`DATA_OFFSET`].
    #[derive(Debug)]
    pub(crate) struct Mem {
        shm: Arc<SharedMemory>,
        /// The segment's first byte (the header), cached: the hot paths use it on every call.
        base: *const RingHeader,
        data: *mut u8,
        data_len: u64,
    }

    // SAFETY: `Mem` only holds the segment (Send + Sync) and pointers into its mapping, which
    // lives as long as `shm`; every access through them is an atomic or a copy of bytes whose
    // ownership the ring protocol hands to one process at a time.
    unsafe impl Send for Mem {}
    // SAFETY: as for `Send`: shared access goes through atomics or protocol-owned byte ranges.
    unsafe impl Sync for Mem {}

    impl Mem {
        /// Wraps a segment, which must hold at least the header page.
        pub(crate) fn new(shm: Arc<SharedMemory>) -> Result<Self, crate::Error> {
            let len = shm.len();
            if len <= DATA_OFFSET {
                return Err(crate::Error::Corrupt("segment too small for a ring"));
            }
            let data = shm.as_ptr().wrapping_add(DATA_OFFSET);
            Ok(Self {
                base: shm.as_ptr().cast::<RingHeader>().cast_const(),
                data,
                data_len: (len - DATA_OFFSET) as u64,
                shm,
            })
        }

        pub(crate) fn shm(&self) -> &Arc<SharedMemory> {
            &self.shm
        }

        pub(crate) fn data_len(&self) -> u64 {
            self.data_len
        }

        #[inline]
        pub(crate) fn hdr(&self) -> &RingHeader {
            let p = self.base;
            // SAFETY: `base` is the start of the mapping, which is page-aligned (RingHeader needs
            // 128), at least DATA_OFFSET >= size_of::<RingHeader>() bytes long and lives as long
            // as `self.shm`; the header is made only of atomics (plus the shm header, also
            // atomics), for which any bit pattern is a valid value and concurrent access is sound.
            unsafe { &*p }
        }

        /// Copies `src` into the data area at `off`.
        ///
        /// # Safety
        ///
        /// `off + src.len() <= data_len`, and the range belongs to the calling producer (it
        /// lies between the committed tail and the consumers' head).
        #[inline]
        pub(crate) unsafe fn write(&self, off: u64, src: &[u8]) {
            debug_assert!(off + src.len() as u64 <= self.data_len);
            let dst = self.data.wrapping_add(us(off));
            // SAFETY: in bounds (caller), no other process reads or writes the range until the
            // producer commits it (caller), and `src` is local memory, so they don't overlap.
            unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        }

        /// Copies bytes at `off` out of the data area into `dst`.
        ///
        /// # Safety
        ///
        /// `off + dst.len() <= data_len`, and the range is committed and not yet released by
        /// the calling consumer (or owned by the calling producer).
        #[inline]
        pub(crate) unsafe fn read(&self, off: u64, dst: &mut [u8]) {
            debug_assert!(off + dst.len() as u64 <= self.data_len);
            let src = self.data.wrapping_add(us(off));
            // SAFETY: in bounds and not written by anyone while we hold it (caller); `dst` is
            // local memory.
            unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        }

        /// Runs `f` over `len` bytes at `off`, in place.
        ///
        /// # Safety
        ///
        /// As [`read`](Self::read): the bytes are committed and stay untouched until `f` returns.
        #[inline]
        pub(crate) unsafe fn with_bytes<R>(
            &self,
            off: u64,
            len: u64,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            debug_assert!(off + len <= self.data_len);
            let p = self.data.wrapping_add(us(off));
            // SAFETY: in bounds, initialised (shared memory is zero-filled at creation and the
            // producer wrote the range), and no process writes it until the consumer releases
            // it after `f` returns (caller). A hostile process could still write it; the bytes
            // are then garbage but the slice stays valid memory.
            let bytes = unsafe { core::slice::from_raw_parts(p, us(len)) };
            f(bytes)
        }
    }
}

#[cfg(multiproc_loom)]
mod model {
    use super::{RingHeader, us};
    use multiproc_sys::sync::UnsafeCell;

    /// The model's memory: a boxed header and one loom cell per data byte, so that loom checks
    /// every byte access for causality (a missing release/acquire shows up as a data race).
    #[derive(Debug)]
    pub(crate) struct Mem {
        hdr: Box<RingHeader>,
        data: Box<[UnsafeCell<u8>]>,
    }

    impl Mem {
        pub(crate) fn heap(capacity: u64) -> Self {
            Self {
                hdr: Box::new(RingHeader::zeroed()),
                data: (0..capacity).map(|_| UnsafeCell::new(0)).collect(),
            }
        }

        pub(crate) fn data_len(&self) -> u64 {
            self.data.len() as u64
        }

        pub(crate) fn hdr(&self) -> &RingHeader {
            &self.hdr
        }

        /// # Safety
        ///
        /// As in real builds (the model checks it).
        pub(crate) unsafe fn write(&self, off: u64, src: &[u8]) {
            for (i, b) in src.iter().enumerate() {
                // SAFETY: loom checks the access; the pointer is to a live cell.
                self.data[us(off) + i].with_mut(|p| unsafe { *p = *b });
            }
        }

        /// # Safety
        ///
        /// As in real builds (the model checks it).
        pub(crate) unsafe fn read(&self, off: u64, dst: &mut [u8]) {
            for (i, b) in dst.iter_mut().enumerate() {
                // SAFETY: loom checks the access; the pointer is to a live cell.
                *b = self.data[us(off) + i].with(|p| unsafe { *p });
            }
        }

        /// # Safety
        ///
        /// As in real builds (the model checks it).
        pub(crate) unsafe fn with_bytes<R>(
            &self,
            off: u64,
            len: u64,
            f: impl FnOnce(&[u8]) -> R,
        ) -> R {
            let mut v = vec![0u8; us(len)];
            // SAFETY: forwarded from the caller.
            unsafe { self.read(off, &mut v) };
            f(&v)
        }
    }
}
