//! `JoinableQueue<T>`: Python's `multiprocessing.JoinableQueue`.

use crate::error::Error;
use crate::queue::{Queue, after};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;
use std::time::{Duration, Instant};

/// A [`Queue`] that also counts unfinished tasks (Python's `multiprocessing.JoinableQueue`):
/// every item put is a task; a consumer calls [`task_done`](Self::task_done) when it has
/// processed one, and [`join`](Self::join) waits until every task is done.
///
/// The counter lives in the queue's shared memory and is derived from the number of items ever
/// put, so a producer killed in the middle of `put` cannot leave it off by one.
///
/// All of [`Queue`]'s methods are available through `Deref`.
///
/// # Examples
///
/// ```
/// use multiproc_queue::JoinableQueue;
///
/// let q = JoinableQueue::new()?;
/// let worker = q.clone();
/// let t = std::thread::spawn(move || {
///     while let Ok(job) = worker.get() {
///         let _square: u64 = job * job;
///         worker.task_done().unwrap();
///     }
/// });
/// for job in 0..10u64 {
///     q.put(job)?;
/// }
/// q.join(); // every job processed
/// q.close();
/// t.join().unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JoinableQueue<T> {
    inner: Queue<T>,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("queue", &self.inner)
            .field("unfinished_tasks", &self.unfinished_tasks())
            .finish()
    }
}

impl<T> Deref for JoinableQueue<T> {
    type Target = Queue<T>;

    fn deref(&self) -> &Queue<T> {
        &self.inner
    }
}

impl<T> JoinableQueue<T> {
    /// Creates an unbounded joinable queue (1 MiB ring).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] when the shared memory cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::JoinableQueue<u8> = multiproc_queue::JoinableQueue::new()?;
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            inner: Queue::new()?,
        })
    }

    /// Creates a joinable queue holding at most `maxsize` items (0 = no limit).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::JoinableQueue<u8> = multiproc_queue::JoinableQueue::with_maxsize(2)?;
    /// assert_eq!(q.maxsize(), 2);
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Result<Self, Error> {
        Ok(Self {
            inner: Queue::with_maxsize(maxsize)?,
        })
    }

    /// Creates a joinable queue with an item limit and a ring size in bytes (see
    /// [`Queue::with_capacity`]).
    ///
    /// # Errors
    ///
    /// As [`Queue::with_capacity`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::JoinableQueue<u8> =
    ///     multiproc_queue::JoinableQueue::with_capacity(0, 4096)?;
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn with_capacity(maxsize: usize, bytes: usize) -> Result<Self, Error> {
        Ok(Self {
            inner: Queue::with_capacity(maxsize, bytes)?,
        })
    }

    /// Marks one task (an item taken with `get`) as processed.
    ///
    /// # Errors
    ///
    /// [`Error::TooManyTaskDone`] when called more times than items were put (Python's
    /// `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::JoinableQueue::new()?;
    /// q.put(1u8)?;
    /// q.get()?;
    /// q.task_done()?;
    /// assert!(q.task_done().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        Ok(self.inner.ring().task_done()?)
    }

    /// Waits until every item put has been marked with [`task_done`](Self::task_done).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::JoinableQueue<u8> = multiproc_queue::JoinableQueue::new()?;
    /// q.join(); // nothing put: returns at once
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn join(&self) {
        // Without a deadline the ring's join only returns once every task is done.
        let _ = self.inner.ring().join(None);
    }

    /// Like [`join`](Self::join), giving up after `timeout`; returns whether every task is done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = multiproc_queue::JoinableQueue::new()?;
    /// q.put(1u8)?;
    /// assert!(!q.join_timeout(Duration::from_millis(10)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.join_deadline(after(timeout))
    }

    /// Like [`join`](Self::join), giving up at `deadline`; returns whether every task is done.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::JoinableQueue<u8> = multiproc_queue::JoinableQueue::new()?;
    /// assert!(q.join_deadline(Some(std::time::Instant::now())));
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn join_deadline(&self, deadline: Option<Instant>) -> bool {
        self.inner.ring().join(deadline).is_ok()
    }

    /// Items put and not yet marked done.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::JoinableQueue::new()?;
    /// q.put('x')?;
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unfinished_tasks(&self) -> u64 {
        self.inner.ring().unfinished_tasks()
    }
}

impl<T> Serialize for JoinableQueue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for JoinableQueue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            inner: Queue::deserialize(d)?,
        })
    }
}
