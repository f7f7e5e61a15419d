//! Shared-memory segments for multiproc, and handle transfer: how fd-backed values cross a
//! process boundary.
//!
//! - [`SharedMemory`]: anonymous (memfd) or named (`/dev/shm`) segments mapped `MAP_SHARED`.
//! - [`handle`]: serde with a side table of file descriptors, so that a value holding a segment,
//!   a pipe end or a lock can be sent to another process and arrive working.
//!
//! | Python | multiproc |
//! |---|---|
//! | `shared_memory.SharedMemory(create=True, size=n)` | [`SharedMemory::create(None, n)`](SharedMemory::create) |
//! | `shared_memory.SharedMemory(name)` | [`SharedMemory::open(name)`](SharedMemory::open) |
//! | `shm.buf` | [`SharedMemory::as_ptr`] + typed views |
//! | `shm.close()` / `shm.unlink()` | `drop(shm)` / [`SharedMemory::unlink`] |
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
#![doc(test(no_crate_inject, attr(deny(warnings), allow(dead_code, unused_variables))))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]

pub mod handle;
mod segment;

pub use segment::SharedMemory;
