//! `AsyncResult`: the handle `apply_async`/`map_async` return, and the cell behind it.

use std::fmt;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A callback job for the result thread.
pub(crate) type CallbackJob = Box<dyn FnOnce() + Send>;

pub(crate) enum Slot<T> {
    /// Queued, not started (cancellable).
    Queued,
    /// Picked by a worker slot.
    Running,
    /// Finished; the value is here until taken.
    Done(Result<T>),
    /// Finished and taken.
    Taken,
}

pub(crate) struct CellState<T> {
    pub(crate) slot: Slot<T>,
    /// Whether the outcome was a success (kept after the value is taken).
    pub(crate) ok: Option<bool>,
    pub(crate) waker: Option<Waker>,
    pub(crate) listeners: Vec<Arc<Notify>>,
}

/// A one-shot result cell shared between a task and its handle.
pub(crate) struct Cell<T> {
    state: Mutex<CellState<T>>,
    cv: Condvar,
}

/// Wakes `as_completed` when any of several cells completes.
#[derive(Default)]
pub(crate) struct Notify {
    pub(crate) generation: Mutex<u64>,
    pub(crate) cv: Condvar,
}

impl Notify {
    pub(crate) fn notify(&self) {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.cv.notify_all();
    }
}

impl<T> Cell<T> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(CellState {
                slot: Slot::Queued,
                ok: None,
                waker: None,
                listeners: Vec::new(),
            }),
            cv: Condvar::new(),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, CellState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the outcome (once; later sets are ignored).
    pub(crate) fn set(&self, r: Result<T>) {
        let (waker, listeners) = {
            let mut st = self.lock();
            if matches!(st.slot, Slot::Done(_) | Slot::Taken) {
                return;
            }
            st.ok = Some(r.is_ok());
            st.slot = Slot::Done(r);
            (st.waker.take(), std::mem::take(&mut st.listeners))
        };
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
        for l in listeners {
            l.notify();
        }
    }

    /// Queued → Running; false if it was cancelled (or already finished).
    pub(crate) fn begin(&self) -> bool {
        let mut st = self.lock();
        match st.slot {
            Slot::Queued => {
                st.slot = Slot::Running;
                true
            }
            Slot::Running => true,
            _ => false,
        }
    }

    /// Cancels a task that has not started.
    pub(crate) fn cancel(&self) -> bool {
        let queued = matches!(self.lock().slot, Slot::Queued);
        if queued {
            self.set(Err(Error::Cancelled));
        }
        queued
    }

    pub(crate) fn is_done(&self) -> bool {
        self.lock().ok.is_some()
    }

    pub(crate) fn successful(&self) -> Option<bool> {
        self.lock().ok
    }

    /// Waits until done or the deadline passes; true if done.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut st = self.lock();
        loop {
            if st.ok.is_some() {
                return true;
            }
            match deadline {
                None => st = self.cv.wait(st).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    st = self
                        .cv
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// Waits and takes the value.
    pub(crate) fn take(&self, deadline: Option<Instant>) -> Result<T> {
        if !self.wait_until(deadline) {
            return Err(Error::Timeout);
        }
        let mut st = self.lock();
        match std::mem::replace(&mut st.slot, Slot::Taken) {
            Slot::Done(r) => r,
            _ => Err(Error::AlreadyTaken),
        }
    }
}

/// A deadline `timeout` from now (saturating far in the future).
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now()
        .checked_add(timeout)
        .or_else(|| Instant::now().checked_add(Duration::from_secs(86_400 * 365)))
}

type OkCallback<T> = Box<dyn FnOnce(&T) + Send>;
type ErrCallback = Box<dyn FnOnce(&Error) + Send>;

/// How a finished task reaches its handle: straight into the cell, or through the result
/// thread that runs the callbacks first (CPython's order: callback, then the result becomes
/// ready).
pub(crate) struct Completion<T> {
    pub(crate) cell: Arc<Cell<T>>,
    pub(crate) callback: Option<OkCallback<T>>,
    pub(crate) error_callback: Option<ErrCallback>,
    pub(crate) results: Option<Sender<CallbackJob>>,
}

impl<T: Send + 'static> Completion<T> {
    pub(crate) fn complete(self, r: Result<T>) {
        let Completion {
            cell,
            callback,
            error_callback,
            results,
        } = self;
        if callback.is_none() && error_callback.is_none() {
            cell.set(r);
            return;
        }
        let job: CallbackJob = Box::new(move || {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &r {
                Ok(v) => {
                    if let Some(cb) = callback {
                        cb(v)
                    }
                }
                Err(e) => {
                    if let Some(cb) = error_callback {
                        cb(e)
                    }
                }
            }));
            drop(run);
            cell.set(r);
        });
        match results {
            Some(tx) => {
                if let Err(back) = tx.send(job) {
                    (back.0)();
                }
            }
            None => job(),
        }
    }
}

/// The result of [`Pool::apply_async`](crate::Pool::apply_async) or
/// [`Pool::map_async`](crate::Pool::map_async): Python's `multiprocessing.pool.AsyncResult`.
///
/// # Examples
///
/// ```
/// use multiproc_pool::Pool;
///
/// fn double(x: u32) -> u32 { x * 2 }
///
/// let pool = Pool::builder().processes(1).fork().build()?;
/// let r = pool.apply_async(double, 10);
/// r.wait();
/// assert!(r.ready());
/// assert_eq!(r.successful(), Some(true));
/// assert_eq!(r.get()?, 20);
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct AsyncResult<T> {
    pub(crate) cell: Arc<Cell<T>>,
}

impl<T> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.ready())
            .finish_non_exhaustive()
    }
}

impl<T> AsyncResult<T> {
    /// Waits for the result and returns it (Python's `get()`).
    ///
    /// # Errors
    ///
    /// The task's failure: [`Error::Panicked`], [`Error::WorkerLost`], [`Error::TaskTimedOut`],
    /// [`Error::Terminated`], [`Error::Transfer`], [`Error::Start`]...; [`Error::AlreadyTaken`]
    /// after a successful [`get_timeout`](Self::get_timeout).
    ///
    /// # Examples
    ///
    /// See [`AsyncResult`].
    pub fn get(self) -> Result<T> {
        self.cell.take(None)
    }

    /// Waits at most `timeout` for the result (Python's `get(timeout)`).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] if the result is not ready in time (the handle stays usable);
    /// otherwise as [`get`](Self::get). A successful call takes the value: later calls give
    /// [`Error::AlreadyTaken`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, Pool};
    /// use std::time::Duration;
    ///
    /// fn slow(ms: u64) -> u64 {
    ///     std::thread::sleep(Duration::from_millis(ms));
    ///     ms
    /// }
    ///
    /// let pool = Pool::builder().processes(1).fork().build()?;
    /// let mut r = pool.apply_async(slow, 300);
    /// assert!(matches!(r.get_timeout(Duration::from_millis(1)), Err(Error::Timeout)));
    /// assert_eq!(r.get_timeout(Duration::from_secs(30))?, 300);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn get_timeout(&mut self, timeout: Duration) -> Result<T> {
        self.cell.take(deadline(timeout))
    }

    /// Waits until the result is ready (Python's `wait()`).
    ///
    /// # Examples
    ///
    /// See [`AsyncResult`].
    pub fn wait(&self) {
        self.cell.wait_until(None);
    }

    /// Waits at most `timeout`; returns whether the result is ready (Python's `wait(timeout)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::Pool;
    /// use std::time::Duration;
    ///
    /// let pool = Pool::builder().processes(1).fork().build()?;
    /// let r = pool.apply_async(|x: u8| x, 1);
    /// assert!(r.wait_timeout(Duration::from_secs(30)));
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.cell.wait_until(deadline(timeout))
    }

    /// Whether the task has finished (Python's `ready()`).
    ///
    /// # Examples
    ///
    /// See [`AsyncResult`].
    pub fn ready(&self) -> bool {
        self.cell.is_done()
    }

    /// Whether the task succeeded: `None` while it runs (where Python raises `ValueError`).
    ///
    /// # Examples
    ///
    /// See [`AsyncResult`].
    pub fn successful(&self) -> Option<bool> {
        self.cell.successful()
    }
}
