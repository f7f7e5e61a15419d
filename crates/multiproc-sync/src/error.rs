//! The crate's error types.

use std::fmt;
use std::io;

/// What went wrong in a synchronization primitive.
///
/// # Examples
///
/// ```
/// use multiproc_sync::{Error, Lock};
///
/// let lock = Lock::new()?;
/// // Releasing a lock nobody holds is an error, as in CPython.
/// assert!(matches!(lock.release(), Err(Error::NotLocked)));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Creating, opening or mapping the shared-memory segment failed.
    Io(io::Error),
    /// Received or opened memory does not hold the expected primitive: its header (magic, kind,
    /// version, size) was refused.
    Attach(multiproc_shm::header::AttachError),
    /// Received or opened memory is too small or inconsistent for the primitive.
    BadHeader(&'static str),
    /// `release` of a lock that is not held (CPython: `ValueError`).
    NotLocked,
    /// The calling thread does not hold the `RLock` (CPython: `RuntimeError`).
    NotOwner,
    /// A `BoundedSemaphore` released more times than acquired (CPython: `ValueError`).
    TooManyReleases,
    /// A semaphore value would exceed its maximum.
    Overflow,
    /// An argument is out of range (e.g. a barrier with 0 parties).
    InvalidArgument(&'static str),
    /// The lock was re-acquired after a wait, but its previous holder had died holding it: the
    /// data it guards may be inconsistent. The lock *is* held now.
    OwnerDied,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "shared memory: {e}"),
            Error::Attach(e) => write!(f, "not the expected synchronization primitive: {e}"),
            Error::BadHeader(why) => write!(f, "not a valid synchronization primitive: {why}"),
            Error::NotLocked => f.write_str("release of an unlocked lock"),
            Error::NotOwner => f.write_str("cannot release un-acquired lock"),
            Error::TooManyReleases => f.write_str("semaphore or lock released too many times"),
            Error::Overflow => f.write_str("semaphore value would exceed its maximum"),
            Error::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            Error::OwnerDied => f.write_str("the previous holder of the lock died holding it"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Attach(e) => Some(e),
            _ => None,
        }
    }
}

impl From<multiproc_shm::header::AttachError> for Error {
    fn from(e: multiproc_shm::header::AttachError) -> Self {
        Error::Attach(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// An acquire succeeded, but the previous holder died holding the lock (it was SIGKILLed, or
/// its thread ended, without releasing). The guard inside holds the lock.
///
/// CPython deadlocks in this situation; here the next acquirer gets the lock within about
/// 20 ms of the death and is told. Repair the guarded data if needed, then use the guard:
/// [`into_inner`](Self::into_inner).
///
/// # Examples
///
/// ```
/// use multiproc_sync::{Lock, OwnerDied};
///
/// let lock = Lock::new()?;
/// // The usual way to say "I don't care whether the previous holder died":
/// let guard = lock.acquire().unwrap_or_else(OwnerDied::into_inner);
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
pub struct OwnerDied<G> {
    guard: G,
}

impl<G> OwnerDied<G> {
    pub(crate) fn new(guard: G) -> Self {
        Self { guard }
    }

    /// The guard: the lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// # let lock = multiproc_sync::Lock::new()?;
    /// let guard = lock.acquire().unwrap_or_else(multiproc_sync::OwnerDied::into_inner);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// The guard, borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let lock = multiproc_sync::Lock::new()?;
    /// if let Err(died) = lock.acquire() {
    ///     let _guard = died.get_ref();
    /// }
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn get_ref(&self) -> &G {
        &self.guard
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerDied(..)")
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the previous holder of the lock died holding it")
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

/// The result of a blocking acquire: the guard, or the guard wrapped in [`OwnerDied`].
pub type LockResult<G> = Result<G, OwnerDied<G>>;

/// Why a non-blocking or timed acquire did not return a clean guard.
///
/// # Examples
///
/// ```
/// use multiproc_sync::{Lock, TryAcquireError};
///
/// let lock = Lock::new()?;
/// let held = lock.acquire().unwrap();
/// assert!(matches!(lock.try_acquire(), Err(TryAcquireError::WouldBlock)));
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
pub enum TryAcquireError<G> {
    /// The lock is held by a live holder (a non-blocking acquire).
    WouldBlock,
    /// The timeout passed before the lock became free.
    Timeout,
    /// Acquired, but the previous holder died holding the lock.
    OwnerDied(OwnerDied<G>),
}

impl<G> TryAcquireError<G> {
    /// The guard if the lock was acquired (after an owner death), else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sync::TryAcquireError;
    /// let e: TryAcquireError<()> = TryAcquireError::WouldBlock;
    /// assert!(e.into_guard().is_none());
    /// ```
    pub fn into_guard(self) -> Option<G> {
        match self {
            TryAcquireError::OwnerDied(d) => Some(d.into_inner()),
            _ => None,
        }
    }
}

impl<G> fmt::Debug for TryAcquireError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::WouldBlock => f.write_str("WouldBlock"),
            TryAcquireError::Timeout => f.write_str("Timeout"),
            TryAcquireError::OwnerDied(_) => f.write_str("OwnerDied(..)"),
        }
    }
}

impl<G> fmt::Display for TryAcquireError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::WouldBlock => f.write_str("the lock is held"),
            TryAcquireError::Timeout => f.write_str("timed out waiting for the lock"),
            TryAcquireError::OwnerDied(d) => fmt::Display::fmt(d, f),
        }
    }
}

impl<G> std::error::Error for TryAcquireError<G> {}

impl<G> From<OwnerDied<G>> for TryAcquireError<G> {
    fn from(d: OwnerDied<G>) -> Self {
        TryAcquireError::OwnerDied(d)
    }
}

/// A `Barrier` is broken: aborted, reset while this party waited, timed out, its action failed,
/// or a party died inside `wait` (CPython: `threading.BrokenBarrierError`).
///
/// # Examples
///
/// ```
/// use multiproc_sync::{Barrier, BrokenBarrier};
///
/// let barrier = Barrier::new(2)?;
/// barrier.abort();
/// assert_eq!(barrier.wait(), Err(BrokenBarrier));
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(alias = "BrokenBarrierError")]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken")
    }
}

impl std::error::Error for BrokenBarrier {}
