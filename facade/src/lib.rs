//! Python's `multiprocessing`, rebuilt for Rust.
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
