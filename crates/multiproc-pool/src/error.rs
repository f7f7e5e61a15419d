//! The crate's error type.

use std::fmt;
use std::sync::Arc;

/// Everything that can go wrong with a task, a [`Pool`](crate::Pool) or a
/// [`ProcessPoolExecutor`](crate::ProcessPoolExecutor).
///
/// It is `Clone` (a failed chunk hands the same error to each of its tasks); errors of the
/// crates below travel behind an [`Arc`].
///
/// # Examples
///
/// ```
/// use multiproc_pool::{Error, Pool};
///
/// fn fail(x: u32) -> u32 {
///     if x == 3 { panic!("three is right out") }
///     x
/// }
///
/// let pool = Pool::builder().processes(1).fork().build()?;
/// match pool.apply(fail, 3) {
///     Err(Error::Panicked(msg)) => assert_eq!(msg, "three is right out"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The task panicked in the worker; the panic message is here. The worker survives.
    Panicked(String),
    /// The worker process running this task died (killed by a signal, aborted, exited). Only
    /// the tasks it was running fail; the pool starts a replacement.
    ///
    /// A worker acknowledges a chunk before running any of it. Death after that fails the
    /// chunk with this error (it may have run in part, so it is not run again); death before
    /// it means the chunk never started: the pool sends it to a fresh worker, and reports this
    /// error only when three fresh workers in a row die before taking it (a worker that dies
    /// in its initializer, for instance).
    WorkerLost {
        /// The worker's pid.
        pid: Option<i32>,
        /// Its exit code: the exit status, or the negated signal number (`-9` for `SIGKILL`).
        exitcode: Option<i32>,
    },
    /// The task ran longer than the pool's per-task timeout; its worker was killed and
    /// replaced.
    TaskTimedOut,
    /// [`AsyncResult::get_timeout`](crate::AsyncResult::get_timeout) (or a future's
    /// `result_timeout`) gave up waiting: Python's `multiprocessing.TimeoutError`. The task
    /// goes on.
    #[doc(alias = "TimeoutError")]
    Timeout,
    /// The pool no longer accepts tasks ([`close`](crate::Pool::close),
    /// [`terminate`](crate::Pool::terminate), or the executor was shut down).
    Closed,
    /// The pool was terminated before the task finished.
    Terminated,
    /// The future was cancelled before it started.
    #[doc(alias = "CancelledError")]
    Cancelled,
    /// The value of this result was already taken by an earlier `get`.
    AlreadyTaken,
    /// [`join`](crate::Pool::join) was called on a pool that is still running (close or
    /// terminate it first).
    StillRunning,
    /// A bad argument (for example zero processes).
    InvalidArgument(&'static str),
    /// A worker process could not be started (for example a capturing closure under spawn or
    /// forkserver, which cannot travel to a new program).
    Start(Arc<multiproc_process::Error>),
    /// A task's arguments or result could not be sent or received.
    Transfer(Arc<multiproc_pipe::Error>),
    /// A worker reported a failure outside the task (its result did not serialize, ...).
    Worker(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Panicked(m) => write!(f, "task panicked: {m}"),
            Error::WorkerLost { pid, exitcode } => {
                f.write_str("worker process died while running the task")?;
                if let Some(p) = pid {
                    write!(f, " (pid {p}")?;
                    if let Some(c) = exitcode {
                        write!(f, ", exit code {c}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Error::TaskTimedOut => f.write_str("task exceeded the pool's task timeout"),
            Error::Timeout => f.write_str("timed out waiting for the result"),
            Error::Closed => f.write_str("pool is not accepting tasks"),
            Error::Terminated => f.write_str("pool was terminated before the task finished"),
            Error::Cancelled => f.write_str("task was cancelled"),
            Error::AlreadyTaken => f.write_str("result was already taken"),
            Error::StillRunning => {
                f.write_str("pool is still running: close or terminate it first")
            }
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::Start(e) => write!(f, "cannot start a worker process: {e}"),
            Error::Transfer(e) => write!(f, "cannot transfer a task or its result: {e}"),
            Error::Worker(m) => write!(f, "worker failure: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Start(e) => Some(e.as_ref()),
            Error::Transfer(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<multiproc_process::Error> for Error {
    fn from(e: multiproc_process::Error) -> Self {
        Error::Start(Arc::new(e))
    }
}

impl From<multiproc_pipe::Error> for Error {
    fn from(e: multiproc_pipe::Error) -> Self {
        Error::Transfer(Arc::new(e))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
