//! Python's `multiprocessing.Queue`, `SimpleQueue` and `JoinableQueue` for Rust processes, on a
//! shared-memory ring ([`multiproc_ring`]).
//!
//! ```
//! use multiproc_queue::Queue;
//!
//! let q = Queue::new()?;
//! let producer = q.clone(); // pass a clone to another thread or process
//! std::thread::spawn(move || {
//!     for i in 0..5 {
//!         producer.put(Some(format!("item {i}"))).unwrap();
//!     }
//!     producer.put(None).unwrap(); // end of stream
//! });
//! let mut got = Vec::new();
//! while let Some(item) = q.get()? {
//!     got.push(item);
//! }
//! assert_eq!(got.len(), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | Python                                   | here                                              |
//! |------------------------------------------|---------------------------------------------------|
//! | `Queue(maxsize=0)`                       | [`Queue::new`], [`Queue::with_maxsize`], [`Queue::with_capacity`] |
//! | `q.put(obj)`, `put(obj, timeout=t)`      | [`Queue::put`], [`Queue::put_timeout`]            |
//! | `q.put_nowait(obj)`                      | [`Queue::try_put`] (alias `put_nowait`)           |
//! | `q.get()`, `get(timeout=t)`              | [`Queue::get`], [`Queue::get_timeout`]            |
//! | `q.get_nowait()`                         | [`Queue::try_get`] (alias `get_nowait`)           |
//! | `queue.Full`, `queue.Empty`              | [`PutError::Full`], [`GetError::Empty`]           |
//! | `q.qsize()`, `empty()`, `full()`         | [`Queue::qsize`] (exact), [`Queue::empty`], [`Queue::full`] |
//! | `q.close()`                              | [`Queue::close`] (then `get` drains and reports [`GetError::Closed`]) |
//! | `q.join_thread()`, `cancel_join_thread()`| no-ops: there is no feeder thread                 |
//! | `SimpleQueue()`                          | [`SimpleQueue`]                                   |
//! | `JoinableQueue()`, `task_done()`, `join()` | [`JoinableQueue`]                               |
//!
//! Differences from CPython, all on purpose: items are serialized inside `put` (errors reach
//! the caller; no feeder thread, so no "join the queue's thread before exit" deadlock and no
//! item lost when a process exits right after `put`); `qsize()` is exact; a process killed
//! while using the queue corrupts nothing and blocks nobody; and values holding OS handles are
//! refused with an error that points to `Pipe`, which can carry them.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]
#![forbid(unsafe_code)]

mod error;
pub mod fixed;
#[cfg(not(multiproc_loom))]
mod joinable;
#[cfg(not(multiproc_loom))]
mod queue;
#[cfg(not(multiproc_loom))]
mod simple;

pub use error::{Error, GetError, PutError};
#[cfg(not(multiproc_loom))]
pub use joinable::JoinableQueue;
#[doc(no_inline)]
pub use multiproc_ring::Ring;
#[cfg(not(multiproc_loom))]
pub use queue::{DEFAULT_CAPACITY, Queue};
#[cfg(not(multiproc_loom))]
pub use simple::SimpleQueue;
