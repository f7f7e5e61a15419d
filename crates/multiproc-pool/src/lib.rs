//! A pool of worker processes (Python's `multiprocessing.Pool`) and a
//! `ProcessPoolExecutor` with futures, on top of `multiproc-process` and `multiproc-pipe`.
//!
//! ```
//! use multiproc_pool::Pool;
//!
//! fn f(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let pool = Pool::new(2)?;
//! assert_eq!(pool.map(f, [1, 2, 3])?, [1, 4, 9]);
//! # Ok::<(), multiproc_pool::Error>(())
//! ```
//!
//! | Python | multiproc |
//! |---|---|
//! | `Pool(processes, initializer, initargs, maxtasksperchild, context)` | [`Pool::new`], [`Pool::builder`] ([`PoolBuilder`]) |
//! | `pool.map`, `map_async`, `imap`, `imap_unordered`, `starmap`, `starmap_async` | same names ([`Pool`]) |
//! | `pool.apply(f, (x,))`, `apply_async(f, (x,), callback, error_callback)` | [`Pool::apply`], [`Pool::apply_async`], [`Pool::apply_async_with`] |
//! | `AsyncResult.get(timeout)`, `wait`, `ready`, `successful` | [`AsyncResult`] |
//! | `close()`, `terminate()`, `join()`, `with Pool() as p` | same; dropping the pool terminates it |
//! | `multiprocessing.TimeoutError` | [`Error::Timeout`] |
//! | `ProcessPoolExecutor(max_workers)`, `submit`, `map`, `shutdown(wait)` | [`ProcessPoolExecutor`] |
//! | `Future.result(timeout)`, `done`, `cancel`, `cancelled`, `running` | [`Future`] (also a `std::future::Future`) |
//! | `as_completed(futures)` | [`as_completed`] |
//!
//! # Beyond CPython
//!
//! * A worker that dies while running a chunk (`SIGKILL`, `abort`) fails only that chunk's
//!   tasks with [`Error::WorkerLost`] and is replaced; CPython's pool hangs forever here. A
//!   chunk that started is never run again (at most once); a chunk whose worker died before
//!   taking it (say, an idle worker killed just as the chunk was handed to it) did not start,
//!   and goes to a fresh worker instead of failing.
//! * A task that panics fails with [`Error::Panicked`] carrying the message; the worker
//!   survives.
//! * An optional per-task timeout ([`PoolBuilder::task_timeout`]) kills and replaces a worker
//!   stuck in a task.
//!
//! # Task functions
//!
//! Under fork a task may be any `Fn(A) -> R + Clone + Send + Sync` closure. Under spawn and
//! forkserver it must be a `fn` item or a capture-free closure, because it reaches the new
//! program by its type. Arguments and results are serde types; OS handles inside them
//! (connections, shared memory, locks) travel too.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![forbid(unsafe_code)]

mod engine;
mod error;
mod executor;
mod imap;
mod pool;
mod result;
mod sink;
mod task;
mod worker;

pub use error::{Error, Result};
pub use executor::{AsCompleted, Future, ProcessPoolExecutor, as_completed};
pub use imap::IMapIter;
pub use pool::{Pool, PoolBuilder};
pub use result::AsyncResult;
pub use task::{Data, InitFn, Initializer, NoInit, StarFn, TaskFn};
