//! `ProcessPoolExecutor`, its `Future`s and `as_completed`.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::imap::IMapIter;
use crate::pool::{Pool, PoolBuilder};
use crate::result::{Cell, Notify, Slot, deadline};
use crate::task::{Data, Initializer, NoInit, TaskFn};

/// Python's `concurrent.futures.ProcessPoolExecutor`, on top of a [`Pool`].
///
/// Dropping the executor waits for the submitted work (as leaving Python's `with` block,
/// `shutdown(wait=True)`, does).
///
/// # Examples
///
/// ```
/// use multiproc_pool::{ProcessPoolExecutor, as_completed};
///
/// fn square(x: u64) -> u64 { x * x }
///
/// let executor = ProcessPoolExecutor::new(2)?;
/// let results: Vec<u64> = executor.map(square, 0..10).collect::<Result<_, _>>()?;
/// assert_eq!(results[9], 81);
///
/// let futures: Vec<_> = (0..5).map(|i| executor.submit(square, i)).collect();
/// let mut done: Vec<u64> = as_completed(futures).map(|f| f.result()).collect::<Result<_, _>>()?;
/// done.sort();
/// assert_eq!(done, [0, 1, 4, 9, 16]);
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct ProcessPoolExecutor<In: Initializer = NoInit> {
    pool: Pool<In>,
}

impl<In: Initializer> fmt::Debug for ProcessPoolExecutor<In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPoolExecutor")
            .field("pool", &self.pool)
            .finish()
    }
}

impl ProcessPoolExecutor<NoInit> {
    /// An executor with `max_workers` processes and the default start method.
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`].
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolExecutor`].
    pub fn new(max_workers: usize) -> Result<Self> {
        Ok(Self {
            pool: PoolBuilder::new().processes(max_workers).build()?,
        })
    }
}

impl<In: Initializer> ProcessPoolExecutor<In> {
    /// An executor over a pool built with [`PoolBuilder`] (start method, initializer,
    /// `max_tasks_per_child`...).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Pool, ProcessPoolExecutor};
    /// let ex = ProcessPoolExecutor::from_pool(Pool::builder().processes(1).fork().build()?);
    /// assert_eq!(ex.submit(|x: u8| x + 1, 1).result()?, 2);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn from_pool(pool: Pool<In>) -> Self {
        Self { pool }
    }

    /// The pool underneath.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = multiproc_pool::ProcessPoolExecutor::new(2)?;
    /// assert_eq!(ex.pool().processes(), 2);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn pool(&self) -> &Pool<In> {
        &self.pool
    }

    /// Schedules `f(arg)` and returns its [`Future`] (Python's `submit`).
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolExecutor`].
    pub fn submit<F, A, R>(&self, f: F, arg: A) -> Future<R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
    {
        Future {
            cell: self.pool.apply_async(f, arg).cell,
        }
    }

    /// Applies `f` to every item; results come lazily, in order (Python's `Executor.map`).
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolExecutor`].
    pub fn map<'a, F, A, R, I>(&self, f: F, iterable: I) -> IMapIter<'a, R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.pool.imap(f, iterable)
    }

    /// Stops accepting work (later submissions fail with [`Error::Closed`]); with
    /// `wait = true`, waits for the submitted work to finish and the workers to leave
    /// (Python's `shutdown(wait)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, ProcessPoolExecutor};
    /// let ex = ProcessPoolExecutor::new(1)?;
    /// let f = ex.submit(|x: u8| x, 3);
    /// ex.shutdown(true);
    /// assert_eq!(f.result()?, 3);
    /// assert!(matches!(ex.submit(|x: u8| x, 1).result(), Err(Error::Closed)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn shutdown(&self, wait: bool) {
        self.pool.close();
        if wait {
            let _ = self.pool.join();
        }
    }
}

impl<In: Initializer> Drop for ProcessPoolExecutor<In> {
    fn drop(&mut self) {
        self.shutdown(true);
    }
}

/// The pending result of [`ProcessPoolExecutor::submit`]: Python's
/// `concurrent.futures.Future`. It is also a [`std::future::Future`], so `async` code can
/// `.await` it.
///
/// # Examples
///
/// ```
/// use multiproc_pool::ProcessPoolExecutor;
/// use std::time::Duration;
///
/// let ex = ProcessPoolExecutor::new(1)?;
/// let mut f = ex.submit(|x: u32| x * 3, 5);
/// assert_eq!(f.result_timeout(Duration::from_secs(30))?, 15);
/// assert!(f.done());
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct Future<R> {
    cell: Arc<Cell<R>>,
}

impl<R> fmt::Debug for Future<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("done", &self.done())
            .finish_non_exhaustive()
    }
}

impl<R> Future<R> {
    /// Waits for the result (Python's `result()`).
    ///
    /// # Errors
    ///
    /// The task's failure (see [`AsyncResult::get`](crate::AsyncResult::get));
    /// [`Error::Cancelled`] if it was cancelled.
    ///
    /// # Examples
    ///
    /// See [`ProcessPoolExecutor`].
    pub fn result(self) -> Result<R> {
        self.cell.take(None)
    }

    /// Waits at most `timeout` (Python's `result(timeout)`).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] if not done in time (the future stays usable); otherwise as
    /// [`result`](Self::result); [`Error::AlreadyTaken`] after a successful call.
    ///
    /// # Examples
    ///
    /// See [`Future`].
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<R> {
        self.cell.take(deadline(timeout))
    }

    /// Whether the task finished or was cancelled (Python's `done()`).
    ///
    /// # Examples
    ///
    /// See [`Future`].
    pub fn done(&self) -> bool {
        self.cell.is_done()
    }

    /// Whether a worker has picked the task and it has not finished (Python's `running()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = multiproc_pool::ProcessPoolExecutor::new(1)?;
    /// let f = ex.submit(|x: u8| x, 1);
    /// let _maybe = f.running();
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn running(&self) -> bool {
        matches!(self.cell.lock().slot, Slot::Running)
    }

    /// Cancels the task if no worker has picked it yet; returns whether it is cancelled
    /// (Python's `cancel()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, Pool, ProcessPoolExecutor};
    /// use std::time::Duration;
    ///
    /// fn slow(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    ///
    /// let ex = ProcessPoolExecutor::from_pool(Pool::builder().processes(1).fork().build()?);
    /// let first = ex.submit(slow, 300);
    /// let second = ex.submit(slow, 1);
    /// if second.cancel() {
    ///     assert!(second.cancelled());
    ///     assert!(matches!(second.result(), Err(Error::Cancelled)));
    /// }
    /// assert_eq!(first.result()?, 300);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn cancel(&self) -> bool {
        self.cell.cancel() || self.cancelled()
    }

    /// Whether the task was cancelled (Python's `cancelled()`).
    ///
    /// # Examples
    ///
    /// See [`cancel`](Self::cancel).
    pub fn cancelled(&self) -> bool {
        matches!(self.cell.lock().slot, Slot::Done(Err(Error::Cancelled)))
    }
}

impl<R> std::future::Future for Future<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<R>> {
        let mut st = self.cell.lock();
        match std::mem::replace(&mut st.slot, Slot::Taken) {
            Slot::Done(r) => Poll::Ready(r),
            Slot::Taken => Poll::Ready(Err(Error::AlreadyTaken)),
            other => {
                st.slot = other;
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Yields futures as they complete (Python's `concurrent.futures.as_completed`).
///
/// # Examples
///
/// See [`ProcessPoolExecutor`].
pub fn as_completed<R>(futures: impl IntoIterator<Item = Future<R>>) -> AsCompleted<R> {
    let notify = Arc::new(Notify::default());
    let pending: Vec<Future<R>> = futures.into_iter().collect();
    for f in &pending {
        let mut st = f.cell.lock();
        if st.ok.is_none() {
            st.listeners.push(Arc::clone(&notify));
        }
    }
    AsCompleted { pending, notify }
}

/// The iterator [`as_completed`] returns.
///
/// # Examples
///
/// See [`ProcessPoolExecutor`].
pub struct AsCompleted<R> {
    pending: Vec<Future<R>>,
    notify: Arc<Notify>,
}

impl<R> fmt::Debug for AsCompleted<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<R> Iterator for AsCompleted<R> {
    type Item = Future<R>;

    fn next(&mut self) -> Option<Future<R>> {
        loop {
            if self.pending.is_empty() {
                return None;
            }
            let generation = *self
                .notify
                .generation
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(i) = self.pending.iter().position(Future::done) {
                return Some(self.pending.swap_remove(i));
            }
            let mut g = self
                .notify
                .generation
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            while *g == generation {
                g = self
                    .notify
                    .cv
                    .wait(g)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}
