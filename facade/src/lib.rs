//! Python's `multiprocessing`, rebuilt for Rust: processes under the fork, spawn and forkserver
//! start methods, pipes that speak CPython's wire format, a shared-memory queue, shared values
//! and arrays, locks that survive a killed holder, and process pools.
//!
//! This crate re-exports the workspace's crates as modules ([`process`], [`pipe`](mod@pipe), [`queue`],
//! [`sync`], [`shared`], [`shm`], [`pool`], [`ring`]) and their main items under the names a
//! Python programmer knows.
//!
//! # Hello, processes
//!
//! ```
//! use multiproc::{Process, Queue, StartMethod};
//!
//! fn worker(q: Queue<String>) {
//!     let me = multiproc::current_process();
//!     q.put(format!("hello from {} (pid {})", me.name(), me.pid())).unwrap();
//! }
//!
//! let q = Queue::new()?;
//! let mut p = Process::new(worker, q.clone());
//! p.set_start_method(StartMethod::Fork); // fork, spawn or forkserver (the default)
//! p.start()?;
//! println!("{}", q.get()?);
//! p.join()?;
//! assert_eq!(p.exitcode(), Some(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Python → multiproc
//!
//! | Python | multiproc |
//! |---|---|
//! | `Process(target=f, args=(x,))`, `start`, `join`, `exitcode` | [`Process::new(f, x)`](Process::new), [`Process::start`], [`Process::join`], [`Process::exitcode`] |
//! | `get_context("spawn")`, `set_start_method` | [`get_context`], [`set_start_method`], [`StartMethod`] |
//! | `Pipe(duplex=True)`, `conn.send`, `conn.recv` | [`Pipe(true)`](Pipe), [`Connection::send`], [`Connection::recv`] |
//! | `connection.wait`, `Listener`, `Client` | [`wait`], [`Listener`], [`Client`] |
//! | `Queue`, `SimpleQueue`, `JoinableQueue` | [`Queue`], [`SimpleQueue`], [`JoinableQueue`] |
//! | `Value("i", 0)`, `Array("d", n)`, `RawValue`, `RawArray` | [`Value`], [`Array`], [`RawValue`], [`RawArray`] |
//! | `shared_memory.SharedMemory` | [`SharedMemory`] |
//! | `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier` | same names |
//! | `Pool(n).map(f, xs)`, `ProcessPoolExecutor` | [`Pool`], [`ProcessPoolExecutor`] |
//!
//! The crate-level docs of each module hold the full table for its area.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![forbid(unsafe_code)]

#[doc(inline)]
pub use multiproc_pipe as pipe;
#[doc(inline)]
pub use multiproc_pool as pool;
#[doc(inline)]
pub use multiproc_process as process;
#[doc(inline)]
pub use multiproc_queue as queue;
#[doc(inline)]
pub use multiproc_ring as ring;
#[doc(inline)]
pub use multiproc_shared as shared;
#[doc(inline)]
pub use multiproc_shm as shm;
#[doc(inline)]
pub use multiproc_sync as sync;

// ---- flat Python names: pipe (owned by the pipe work) ----
#[doc(inline)]
pub use multiproc_pipe::{
    Address, Client, Connection, Listener, Waitable, pipe, pipe as Pipe, wait,
};
// ---- flat Python names: process ----
#[doc(inline)]
pub use multiproc_process::{
    Context, CurrentProcess, JoinHandle, ParentProcess, Process, Run, StartMethod, active_children,
    cpu_count, current_process, get_all_start_methods, get_context, get_start_method,
    parent_process, set_start_method,
};
// ---- flat Python names: shm / sync / shared ----
#[doc(inline)]
pub use multiproc_shared::{Array, RawArray, RawValue, Value};
#[doc(inline)]
pub use multiproc_shm::SharedMemory;
#[doc(inline)]
pub use multiproc_sync::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Event, Lock, OwnerDied, RLock, Semaphore,
};
// ---- flat Python names: queue ----
#[doc(inline)]
pub use multiproc_queue::{JoinableQueue, Queue, SimpleQueue};
// ---- flat Python names: pool ----
#[doc(inline)]
pub use multiproc_pool::{AsyncResult, Pool, PoolBuilder, ProcessPoolExecutor, as_completed};
