//! Error types: one for the crate, and the value-returning ones of `put` and `get`.

use std::fmt;

/// What can go wrong with a queue besides "full", "empty" and "closed".
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The ring underneath failed (creation, a corrupt segment, a message too large...).
    Ring(multiproc_ring::Error),
    /// The value could not be serialized. A value holding an OS handle (a file descriptor, a
    /// `Connection`, a `SharedMemory`...) is refused here: send it through a `Pipe` instead.
    Encode(multiproc_shm::handle::Error),
    /// The bytes taken from the queue do not decode as the queue's item type.
    Decode(multiproc_shm::handle::Error),
    /// `task_done()` was called more times than items were put.
    TooManyTaskDone,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ring(e) => write!(f, "queue failed: {e}"),
            Self::Encode(e) => write!(f, "cannot put value on the queue: {e}"),
            Self::Decode(e) => write!(f, "cannot decode item taken from the queue: {e}"),
            Self::TooManyTaskDone => f.write_str("task_done() called too many times"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Ring(e) => Some(e),
            Self::Encode(e) | Self::Decode(e) => Some(e),
            Self::TooManyTaskDone => None,
        }
    }
}

impl From<multiproc_ring::Error> for Error {
    fn from(e: multiproc_ring::Error) -> Self {
        match e {
            multiproc_ring::Error::TooManyTaskDone => Self::TooManyTaskDone,
            e => Self::Ring(e),
        }
    }
}

/// Why a `put` failed; the value comes back.
///
/// # Examples
///
/// ```
/// use multiproc_queue::{PutError, Queue};
///
/// let q = Queue::with_maxsize(1)?;
/// q.put(1u8)?;
/// match q.try_put(2u8) {
///     Err(PutError::Full(v)) => assert_eq!(v, 2),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub enum PutError<T> {
    /// No room: `try_put` found the queue full, or `put_timeout` timed out (Python's `Full`).
    Full(T),
    /// The queue was closed.
    Closed(T),
    /// Anything else (the value could not be serialized, the ring failed).
    Failed(T, Error),
}

impl<T> PutError<T> {
    /// The value that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = multiproc_queue::PutError::Full("x");
    /// assert_eq!(e.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) | Self::Failed(v, _) => v,
        }
    }

    /// Whether this is Python's `queue.Full`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_queue::PutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
            Self::Failed(_, e) => write!(f, "Failed(.., {e:?})"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("queue is full"),
            Self::Closed(_) => f.write_str("queue is closed"),
            Self::Failed(_, e) => e.fmt(f),
        }
    }
}

impl<T> std::error::Error for PutError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Failed(_, e) => Some(e),
            _ => None,
        }
    }
}

/// Why a `get` failed.
///
/// # Examples
///
/// ```
/// use multiproc_queue::{GetError, Queue};
///
/// let q: Queue<u8> = Queue::new()?;
/// assert!(matches!(q.try_get(), Err(GetError::Empty)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum GetError {
    /// Nothing to take: `try_get` found the queue empty, or `get_timeout` timed out (Python's
    /// `Empty`).
    Empty,
    /// The queue was closed and everything in it has been taken.
    Closed,
    /// Anything else (the bytes did not decode, the ring failed).
    Failed(Error),
}

impl GetError {
    /// Whether this is Python's `queue.Empty`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_queue::GetError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::Closed => f.write_str("queue is closed"),
            Self::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for GetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<GetError> for Error {
    /// Flattens a `get` failure (`Empty`/`Closed` become the ring's errors).
    fn from(e: GetError) -> Self {
        match e {
            GetError::Empty => Self::Ring(multiproc_ring::Error::Empty),
            GetError::Closed => Self::Ring(multiproc_ring::Error::Closed),
            GetError::Failed(e) => e,
        }
    }
}

impl<T> From<PutError<T>> for Error {
    /// Drops the value and keeps the reason.
    fn from(e: PutError<T>) -> Self {
        match e {
            PutError::Full(_) => Self::Ring(multiproc_ring::Error::Full),
            PutError::Closed(_) => Self::Ring(multiproc_ring::Error::Closed),
            PutError::Failed(_, e) => e,
        }
    }
}
