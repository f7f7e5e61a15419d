//! Shared-memory segments for multiproc, and handle transfer: how fd-backed values cross a
//! process boundary.
//!
//! - [`SharedMemory`]: anonymous (memfd) or named (`/dev/shm`) segments mapped `MAP_SHARED`.
//! - [`handle`]: serde with a side table of file descriptors, so that a value holding a segment,
//!   a pipe end or a lock can be sent to another process and arrive working.
//! - [`View`]: typed, copy-in/copy-out element access for plain-old-data types
//!   ([`SharedMemory::as_slice_of`]), never a reference into memory another process can write.
//! - [`Block`]: small allocations carved out of shared arena segments, so that thousands of
//!   shared values cost a handful of file descriptors.
//! - [`header`]: the versioned `#[repr(C)]` header every shared structure starts with, checked
//!   on attach by a pure function over bytes.
//!
//! | Python | multiproc |
//! |---|---|
//! | `shared_memory.SharedMemory(create=True, size=n)` | [`SharedMemory::create(None, n)`](SharedMemory::create) |
//! | `shared_memory.SharedMemory(name)` | [`SharedMemory::open(name)`](SharedMemory::open) |
//! | `np.ndarray(shape, dtype, buffer=shm.buf)` | [`SharedMemory::as_slice_of::<T>()`](SharedMemory::as_slice_of), [`SharedMemory::view_at`] |
//! | `shm.buf` (raw) | [`SharedMemory::as_ptr`] |
//! | `shm.size`, `shm.name` | [`SharedMemory::len`], [`SharedMemory::name`] |
//! | `shm.close()` / `shm.unlink()` | [`SharedMemory::close`] (= drop) / [`SharedMemory::unlink`] |
//! | `multiprocessing.heap` (the arena behind `Value`) | [`Block::alloc`] |
//! | `reduction.send_handle` / `DupFd` | [`handle::Handle`] inside any message |
//!
//! # Examples
//!
//! ```
//! use multiproc_shm::{SharedMemory, handle};
//!
//! let shm = SharedMemory::anonymous(4096)?;
//! // What a Pipe or a Process argument does under the hood:
//! let (bytes, fds) = handle::encode_with_handles(&shm)?;
//! let same: SharedMemory = handle::decode_with_handles(&bytes, fds)?;
//! // SAFETY: both map the same 4096 bytes; nothing else touches them.
//! unsafe { same.as_ptr().write(1) };
//! // SAFETY: as above.
//! assert_eq!(unsafe { shm.as_ptr().read() }, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]

mod arena;
pub mod handle;
pub mod header;
mod segment;
mod view;

pub use arena::{Block, arena_block_check};
pub use segment::SharedMemory;
pub use view::{OutOfBounds, View};

/// Internals exposed for the loom models in `tests/`; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::arena::bump;
}
