//! [`Lock`]: a mutual-exclusion lock shared between processes.

use crate::raw::lock::{Acquired, LockWord};
use crate::raw::{Env, Os};
use crate::segment::{Kind, Segment, serde_via_segment};
use crate::{Error, LockResult, OwnerDied, TryAcquireError};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A lock shared between processes: CPython's `multiprocessing.Lock`, robust against a holder
/// that dies.
///
/// The lock is one futex word in shared memory (a block of the shared arena). `Clone` gives another handle to
/// the *same* lock; passing it to a child process (as a `Process` argument, or through a `Pipe`)
/// hands over the memory, so both sides lock the same word. Unrelated processes meet through
/// [`create_named`](Self::create_named) / [`open_named`](Self::open_named).
///
/// Like CPython's, the lock is not re-entrant (use [`RLock`](crate::RLock) for that) and any
/// process may [`release`](Self::release) it. Unlike CPython's, a holder that is SIGKILLed does
/// not deadlock everyone else: a waiter notices within about 20 ms and takes the lock, and the
/// acquire returns [`OwnerDied`] so that the caller knows the guarded data may be half-updated.
///
/// Uncontended acquire + release is one compare-exchange and one swap; contended acquirers spin
/// briefly, then sleep on the futex, and a release makes a `futex_wake` call only when someone
/// sleeps.
///
/// # Examples
///
/// ```
/// use multiproc_sync::Lock;
///
/// let lock = Lock::new()?;
/// {
///     let _guard = lock.acquire().unwrap(); // `with lock:`
///     assert!(lock.try_acquire().is_err());
/// } // released here
/// assert!(lock.try_acquire().is_ok());
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Lock {
    pub(crate) seg: Arc<Segment>,
}

serde_via_segment!(Lock, Kind::Lock, LockWord);

/// Holds a [`Lock`]; releases it when dropped.
///
/// # Examples
///
/// ```
/// let lock = multiproc_sync::Lock::new()?;
/// let guard = lock.acquire().unwrap();
/// assert!(lock.is_locked());
/// drop(guard);
/// assert!(!lock.is_locked());
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Lock {
    /// Creates an unlocked lock in anonymous shared memory (a block of the shared arena).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// assert!(!lock.is_locked());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::create(None)
    }

    /// Creates an unlocked lock in a named segment that unrelated processes can
    /// [`open_named`](Self::open_named). This handle (the creator) removes the name when the
    /// last clone of it is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sync::Lock;
    ///
    /// let name = format!("doc_lock_{}", std::process::id());
    /// let lock = Lock::create_named(&name)?;
    /// let same = Lock::open_named(&name)?;
    /// let _g = lock.acquire().unwrap();
    /// assert!(same.is_locked());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str) -> Result<Self, Error> {
        Self::create(Some(name))
    }

    fn create(name: Option<&str>) -> Result<Self, Error> {
        let seg = Segment::create(Kind::Lock, size_of::<LockWord>(), name, |_| {})?;
        Ok(Self { seg })
    }

    /// Opens a lock that another process created with [`create_named`](Self::create_named).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it holds something
    /// else than a lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_sync::Lock::open_named("no_such_lock_here").is_err());
    /// ```
    pub fn open_named(name: &str) -> Result<Self, Error> {
        let seg = Segment::open(name, Kind::Lock, size_of::<LockWord>())?;
        Ok(Self { seg })
    }

    /// The name of the segment, for a named lock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sync::Lock::new()?.name(), None);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.seg.name()
    }

    #[inline]
    pub(crate) fn word(&self) -> &LockWord {
        self.seg.body::<LockWord>()
    }

    fn guard(&self, how: Acquired) -> LockResult<LockGuard<'_>> {
        let guard = LockGuard { lock: self };
        match how {
            Acquired::Clean => Ok(guard),
            Acquired::OwnerDied => Err(OwnerDied::new(guard)),
        }
    }

    /// Blocks until the lock is acquired (CPython: `acquire()` / `with lock:`).
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] (holding the guard) if the previous holder died holding the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// let guard = lock.acquire().unwrap();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[inline]
    #[doc(alias = "__enter__")]
    pub fn acquire(&self) -> LockResult<LockGuard<'_>> {
        self.guard(self.word().lock_forever(Os.process_id(), &Os))
    }

    /// Acquires the lock if it is free now (CPython: `acquire(block=False)`).
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::WouldBlock`] if a live process holds it;
    /// [`TryAcquireError::OwnerDied`] (holding the guard) if its holder had died.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// let first = lock.try_acquire();
    /// assert!(first.is_ok());
    /// assert!(lock.try_acquire().is_err());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "acquire(block=False)")]
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        match self.word().try_lock(Os.process_id(), &Os) {
            Some(how) => self.guard(how).map_err(TryAcquireError::OwnerDied),
            None => Err(TryAcquireError::WouldBlock),
        }
    }

    /// Waits at most `timeout` for the lock (CPython: `acquire(timeout=...)`).
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Timeout`] if it stayed held; [`TryAcquireError::OwnerDied`] (holding
    /// the guard) if its holder had died.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = multiproc_sync::Lock::new()?;
    /// let held = lock.acquire().unwrap();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).is_err());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<LockGuard<'_>, TryAcquireError<LockGuard<'_>>> {
        let deadline = Instant::now().checked_add(timeout);
        match self.word().lock(Os.process_id(), &Os, deadline) {
            Ok(how) => self.guard(how).map_err(TryAcquireError::OwnerDied),
            Err(_) => Err(TryAcquireError::Timeout),
        }
    }

    /// Releases the lock without a guard (after [`LockGuard::leak`]); any process may release
    /// it, as in CPython.
    ///
    /// # Errors
    ///
    /// [`Error::NotLocked`] if the lock is not held.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// lock.acquire().unwrap().leak(); // like `lock.acquire()` in Python
    /// lock.release()?;                 // like `lock.release()`
    /// assert!(lock.release().is_err());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn release(&self) -> Result<(), Error> {
        if self.word().unlock_checked() {
            Ok(())
        } else {
            Err(Error::NotLocked)
        }
    }

    /// Whether some process holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// assert!(!lock.is_locked());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    #[doc(alias = "locked")]
    pub fn is_locked(&self) -> bool {
        self.word().owner() != 0
    }

    /// The process id of the holder, if the lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// let _g = lock.acquire().unwrap();
    /// assert_eq!(lock.owner_pid(), Some(std::process::id()));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn owner_pid(&self) -> Option<u32> {
        match self.word().owner() {
            0 => None,
            pid => Some(pid),
        }
    }
}

impl LockGuard<'_> {
    /// Keeps the lock held after the guard is gone; release it later with [`Lock::release`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// lock.acquire().unwrap().leak();
    /// assert!(lock.is_locked());
    /// lock.release()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn leak(self) {
        std::mem::forget(self);
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.lock.word().unlock();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("owner_pid", &self.owner_pid())
            .field("name", &self.name())
            .finish()
    }
}
