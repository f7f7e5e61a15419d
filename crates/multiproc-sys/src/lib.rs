//! The operating-system layer of multiproc: the one crate that calls `libc` and `rustix`.
//!
//! Everything above this crate is written against small, documented wrappers: futex wait and
//! wake on words that live in shared memory ([`sync`]), shared mappings and memfds ([`mem`]),
//! sockets that carry file descriptors ([`fd`]), and process control ([`process`]).
//!
//! # Examples
//!
//! ```
//! use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
//! use multiproc_sys::sync::{futex_wait, futex_wake, FutexWait};
//! use std::time::{Duration, Instant};
//!
//! let word = AtomicU32::new(0);
//! // The value differs from the expected one: the call returns at once.
//! assert_eq!(futex_wait(&word, 1, None), FutexWait::ValueChanged);
//! // Nobody wakes us: the deadline ends the wait.
//! let deadline = Instant::now() + Duration::from_millis(5);
//! assert_eq!(futex_wait(&word, 0, Some(deadline)), FutexWait::TimedOut);
//! word.store(1, Ordering::Release);
//! assert_eq!(futex_wake(&word, u32::MAX), 0);
//! ```
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]

pub mod fd;
pub mod mem;
pub mod owner;
pub mod process;
pub mod sync;
