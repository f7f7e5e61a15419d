//! Locks, semaphores, events, conditions and barriers shared between processes: CPython's
//! `multiprocessing` synchronization primitives, as futex words in shared memory, robust where
//! CPython is not.
//!
//! ```
//! use multiproc_sync::Lock;
//!
//! let lock = Lock::new()?;
//! let guard = lock.acquire().unwrap();
//! println!("holding the lock");
//! drop(guard);
//! # Ok::<(), multiproc_sync::Error>(())
//! ```
//!
//! Every primitive lives in shared memory: a small block of the process's shared arena
//! (`multiproc_shm::Block`, so 10,000 locks cost a handful of segments and file descriptors), or
//! a named segment of its own when made with `create_named` so that unrelated processes can
//! `open_named` it. Each is `Clone` (another handle to the same primitive), `Send + Sync`, and
//! `Serialize + Deserialize` through its memory's file descriptor (handle transfer), so it passes
//! to a child process as an argument under every start method, or through a `Pipe`. The memory
//! starts with a checked header (magic, version, kind, size): bytes that are not the expected
//! primitive are refused with [`Error::Attach`].
//!
//! | Python (`multiprocessing`)        | here                                                   |
//! |-----------------------------------|--------------------------------------------------------|
//! | `Lock()`                          | [`Lock::new`]                                          |
//! | `with lock:` / `lock.acquire()`   | [`Lock::acquire`] → guard (released on drop)           |
//! | `lock.acquire(block=False)`       | [`Lock::try_acquire`]                                  |
//! | `lock.acquire(timeout=t)`         | [`Lock::acquire_timeout`]                              |
//! | `lock.release()`                  | drop the guard, or [`Lock::release`]                   |
//! | `RLock()`                         | [`RLock::new`]                                         |
//! | `Semaphore(n)` / `BoundedSemaphore(n)` | [`Semaphore::new`] / [`BoundedSemaphore::new`]    |
//! | `sem.get_value()`                 | [`Semaphore::value`]                                   |
//! | `Event()`, `set`, `clear`, `is_set`, `wait` | [`Event`]                                    |
//! | `Condition(lock)`, `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition`], [`ConditionGuard`] |
//! | `Barrier(parties, action, timeout)`, `wait`, `abort`, `reset` | [`Barrier`]                |
//! | `threading.BrokenBarrierError`    | [`BrokenBarrier`]                                      |
//! | (deadlock when a holder is killed) | [`OwnerDied`]: the next acquirer gets the lock, and is told |
//!
//! # Robustness
//!
//! - A process killed while holding a [`Lock`] or [`RLock`]: waiters check the recorded holder
//!   every 20 ms; the next acquirer takes the lock and gets [`OwnerDied`].
//! - A process killed inside [`Condition`] wait: it sleeps without the lock, and the kernel's
//!   futex queue forgets it, so it swallows no notification; if it dies while re-acquiring, the
//!   lock passes on as above.
//! - A process killed inside [`Barrier::wait`]: the others look at the arrivals' process ids
//!   every 20 ms and break the barrier: they get [`BrokenBarrier`] instead of waiting forever.
//! - Semaphores and events have no owner: a process killed holding a semaphore permit takes the
//!   permit with it (as in CPython).
//!
//! Owners are recorded as kernel process ids (thread ids for `RLock`), so every process using a
//! primitive must live in the same PID namespace (the normal case; not, say, two containers
//! sharing `/dev/shm`). A dead owner whose id the kernel has already given to a new process
//! reads as alive: the lock then waits as it would for a live holder.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]
#![deny(unsafe_code)]

mod error;
#[doc(hidden)]
pub mod raw;

#[cfg(not(multiproc_loom))]
mod barrier;
#[cfg(not(multiproc_loom))]
mod condition;
#[cfg(not(multiproc_loom))]
mod event;
#[cfg(not(multiproc_loom))]
mod lock;
#[cfg(not(multiproc_loom))]
mod rlock;
#[cfg(not(multiproc_loom))]
mod segment;
#[cfg(not(multiproc_loom))]
mod semaphore;

pub use error::{BrokenBarrier, Error, LockResult, OwnerDied, TryAcquireError};
#[cfg(not(multiproc_loom))]
pub use {
    barrier::Barrier,
    condition::{Condition, ConditionGuard, RawLock},
    event::Event,
    lock::{Lock, LockGuard},
    rlock::{RLock, RLockGuard},
    semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard, Spin},
};
