//! [`RLock`]: a re-entrant lock shared between processes.

use crate::raw::Os;
use crate::raw::lock::{Acquired, RLockState};
use crate::segment::{Kind, Segment, serde_via_segment};
use crate::{Error, LockResult, OwnerDied, TryAcquireError};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A re-entrant lock shared between processes: CPython's `multiprocessing.RLock`.
///
/// The holder is a *thread* (of any process): it may acquire again without blocking, and must
/// release as many times; another thread or process cannot release it ([`Error::NotOwner`]).
/// If the holding thread dies (its process is SIGKILLed, or the thread ends) while holding it,
/// the next acquirer gets it with [`OwnerDied`], as for [`Lock`](crate::Lock).
///
/// # Examples
///
/// ```
/// use multiproc_sync::RLock;
///
/// let lock = RLock::new()?;
/// let outer = lock.acquire().unwrap();
/// let inner = lock.acquire().unwrap(); // same thread: no deadlock
/// assert_eq!(lock.depth(), 2);
/// drop(inner);
/// drop(outer);
/// assert!(!lock.is_locked());
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct RLock {
    pub(crate) seg: Arc<Segment>,
}

serde_via_segment!(RLock, Kind::RLock, RLockState);

/// Holds one level of an [`RLock`]; releases that level when dropped. Not `Send`: the lock
/// belongs to the thread that took it.
///
/// # Examples
///
/// ```
/// let lock = multiproc_sync::RLock::new()?;
/// let guard = lock.acquire().unwrap();
/// assert!(lock.is_owned());
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
    _not_send: PhantomData<*const ()>,
}

impl RLock {
    /// Creates an unlocked re-entrant lock in anonymous shared memory (a block of the shared arena).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::create(None)
    }

    /// Creates one in a named segment (see [`Lock::create_named`](crate::Lock::create_named)).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// let name = format!("doc_rlock_{}", std::process::id());
    /// let lock = multiproc_sync::RLock::create_named(&name)?;
    /// let same = multiproc_sync::RLock::open_named(&name)?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Self, Error> {
        Self::create(Some(name))
    }

    fn create(name: Option<&str>) -> Result<Self, Error> {
        let seg = Segment::create(Kind::RLock, size_of::<RLockState>(), name, |_| {})?;
        Ok(Self { seg })
    }

    /// Opens a named re-entrant lock created by another process.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not an RLock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::RLock::open_named("no_such_rlock_here").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        let seg = Segment::open(name, Kind::RLock, size_of::<RLockState>())?;
        Ok(Self { seg })
    }

    pub(crate) fn state(&self) -> &RLockState {
        self.seg.body::<RLockState>()
    }

    fn guard(&self, how: Acquired) -> LockResult<RLockGuard<'_>> {
        let guard = RLockGuard {
            lock: self,
            _not_send: PhantomData,
        };
        match how {
            Acquired::Clean => Ok(guard),
            Acquired::OwnerDied => Err(OwnerDied::new(guard)),
        }
    }

    /// Blocks until this thread holds the lock (one more level if it already does).
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] (holding the guard) if the previous holder died holding the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// let _g = lock.acquire().unwrap();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn acquire(&self) -> LockResult<RLockGuard<'_>> {
        let how = loop {
            if let Ok(how) = self.state().lock(&Os, None) {
                break how;
            }
        };
        self.guard(how)
    }

    /// Acquires if free now (or already held by this thread).
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::WouldBlock`] if another live thread holds it;
    /// [`TryAcquireError::OwnerDied`] (holding the guard) if its holder had died.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert!(lock.try_acquire().is_ok());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn try_acquire(&self) -> Result<RLockGuard<'_>, TryAcquireError<RLockGuard<'_>>> {
        match self.state().try_lock(&Os) {
            Some(how) => self.guard(how).map_err(TryAcquireError::OwnerDied),
            None => Err(TryAcquireError::WouldBlock),
        }
    }

    /// Waits at most `timeout` for the lock.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Timeout`] if another thread kept it; [`TryAcquireError::OwnerDied`]
    /// (holding the guard) if its holder had died.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert!(lock.acquire_timeout(Duration::from_millis(5)).is_ok());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<RLockGuard<'_>, TryAcquireError<RLockGuard<'_>>> {
        let deadline = Instant::now().checked_add(timeout);
        match self.state().lock(&Os, deadline) {
            Ok(how) => self.guard(how).map_err(TryAcquireError::OwnerDied),
            Err(_) => Err(TryAcquireError::Timeout),
        }
    }

    /// Releases one level without a guard (after [`RLockGuard::leak`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotOwner`] if the calling thread does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert!(lock.release().is_err()); // not held
    /// lock.acquire().unwrap().leak();
    /// lock.release()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        if self.state().unlock(&Os) {
            Ok(())
        } else {
            Err(Error::NotOwner)
        }
    }

    /// Whether the calling thread holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert!(!lock.is_owned());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "_is_owned")]
    pub fn is_owned(&self) -> bool {
        self.state().is_owned(&Os)
    }

    /// Whether any thread holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert!(!lock.is_locked());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "locked")]
    pub fn is_locked(&self) -> bool {
        self.state().lock.owner() != 0
    }

    /// How many times the holder has acquired it (0 when unlocked; meaningful to the holder).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// assert_eq!(lock.depth(), 0);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn depth(&self) -> u32 {
        if self.is_locked() {
            self.state()
                .count
                .load(multiproc_sys::sync::atomic::Ordering::Relaxed)
        } else {
            0
        }
    }
}

impl RLockGuard<'_> {
    /// Keeps this level held after the guard is gone; release it with [`RLock::release`] from
    /// the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::RLock::new()?;
    /// lock.acquire().unwrap().leak();
    /// lock.release()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn leak(self) {
        std::mem::forget(self);
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        // The guard is !Send, so this thread is the holder.
        let _ = self.lock.state().unlock(&Os);
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("owner_tid", &self.state().lock.owner())
            .field("name", &self.seg.name())
            .finish()
    }
}
