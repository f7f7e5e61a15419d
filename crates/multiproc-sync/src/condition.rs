//! [`Condition`]: a condition variable over a [`Lock`] or an [`RLock`].

use crate::raw::condition::ConditionState;
use crate::raw::lock::Acquired;
use crate::raw::{Env, Os, TimedOut};
use crate::segment::{Kind, Segment};
use crate::{Error, Lock, LockResult, OwnerDied, RLock, TryAcquireError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Lock {}
    impl Sealed for crate::RLock {}
}

/// A lock a [`Condition`] can be built on: [`Lock`] or [`RLock`] (sealed).
///
/// The methods are the raw operations `Condition` needs (CPython's `_release_save`,
/// `_acquire_restore`, `_is_owned`), in the style of `lock_api`'s raw-lock traits.
///
/// # Examples
///
/// ```
/// use multiproc_sync::{Condition, Lock, RawLock};
///
/// fn build<L: RawLock>(lock: L) -> Result<Condition<L>, multiproc_sync::Error> {
///     Condition::new(lock)
/// }
/// let cond = build(Lock::new()?)?;
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
pub trait RawLock: sealed::Sealed + Clone + Send + Sync + fmt::Debug {
    /// Acquires, waiting until `deadline` (`None` = forever); `Err` on timeout.
    #[doc(hidden)]
    fn raw_acquire(&self, deadline: Option<Instant>) -> Result<Acquired, TimedOut>;
    /// Acquires if possible now.
    #[doc(hidden)]
    fn raw_try_acquire(&self) -> Option<Acquired>;
    /// Releases one level.
    #[doc(hidden)]
    fn raw_release(&self);
    /// Releases completely, returning what [`raw_acquire_restore`](Self::raw_acquire_restore)
    /// needs.
    #[doc(hidden)]
    fn raw_release_save(&self) -> u32;
    /// Re-acquires after [`raw_release_save`](Self::raw_release_save).
    #[doc(hidden)]
    fn raw_acquire_restore(&self, saved: u32) -> Acquired;
}

impl RawLock for Lock {
    fn raw_acquire(&self, deadline: Option<Instant>) -> Result<Acquired, TimedOut> {
        self.word().lock(Os.process_id(), &Os, deadline)
    }
    fn raw_try_acquire(&self) -> Option<Acquired> {
        self.word().try_lock(Os.process_id(), &Os)
    }
    fn raw_release(&self) {
        self.word().unlock();
    }
    fn raw_release_save(&self) -> u32 {
        self.word().unlock();
        1
    }
    fn raw_acquire_restore(&self, _saved: u32) -> Acquired {
        self.word().lock_forever(Os.process_id(), &Os)
    }
}

impl RawLock for RLock {
    fn raw_acquire(&self, deadline: Option<Instant>) -> Result<Acquired, TimedOut> {
        self.state().lock(&Os, deadline)
    }
    fn raw_try_acquire(&self) -> Option<Acquired> {
        self.state().try_lock(&Os)
    }
    fn raw_release(&self) {
        let _ = self.state().unlock(&Os);
    }
    fn raw_release_save(&self) -> u32 {
        self.state().unlock_all(&Os).unwrap_or(1)
    }
    fn raw_acquire_restore(&self, saved: u32) -> Acquired {
        self.state().lock_restore(&Os, saved)
    }
}

/// A condition variable shared between processes: CPython's `multiprocessing.Condition`.
///
/// Built over a [`Lock`] or (CPython's default) an [`RLock`]: [`acquire`](Self::acquire) takes
/// the lock and returns a [`ConditionGuard`], on which you [`wait`](ConditionGuard::wait),
/// [`wait_for`](ConditionGuard::wait_for) a predicate, or [`notify`](ConditionGuard::notify).
/// Notifying needs the guard, so "notify without holding the lock" cannot happen.
///
/// `wait` may return without a matching notify (a waiter that was about to sleep when a notify
/// came returns too), as with `std::sync::Condvar`: check your condition in a loop, or use
/// `wait_for`. A waiter killed while it sleeps swallows no notification (the kernel's futex queue
/// drops it); one killed while re-acquiring the lock leaves it to the next acquirer with
/// [`OwnerDied`].
///
/// # Examples
///
/// ```
/// use multiproc_sync::Condition;
/// use std::time::Duration;
///
/// let cond = Condition::with_rlock()?;
/// let mut guard = cond.acquire().unwrap();
/// // Nobody notifies: the wait times out.
/// assert!(!guard.wait_timeout(Duration::from_millis(5))?);
/// guard.notify_all();
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[derive(Clone)]
pub struct Condition<L: RawLock = RLock> {
    lock: L,
    seg: Arc<Segment>,
}

/// Holds a [`Condition`]'s lock; released when dropped. Not `Send`.
///
/// # Examples
///
/// ```
/// let cond = multiproc_sync::Condition::new(multiproc_sync::Lock::new()?)?;
/// let guard = cond.acquire().unwrap();
/// guard.notify(1);
/// # Ok::<(), multiproc_sync::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, L: RawLock = RLock> {
    cond: &'a Condition<L>,
    _not_send: PhantomData<*const ()>,
}

impl Condition<RLock> {
    /// A condition over a new [`RLock`] (CPython's `Condition()` with no lock).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if a segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn with_rlock() -> Result<Self, Error> {
        Self::new(RLock::new()?)
    }
}

impl<L: RawLock> Condition<L> {
    /// A condition over `lock` (CPython's `Condition(lock)`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the segment cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::new(multiproc_sync::Lock::new()?)?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn new(lock: L) -> Result<Self, Error> {
        let seg = Segment::create(Kind::Condition, size_of::<ConditionState>(), None, |_| {})?;
        Ok(Self { lock, seg })
    }

    /// A condition over `lock` whose own state is in a named segment, so that unrelated
    /// processes can [`open_named`](Self::open_named) it (give them a named `lock` too, e.g.
    /// [`Lock::create_named`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the name exists already or is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sync::{Condition, Lock};
    ///
    /// let tag = std::process::id();
    /// let lock = Lock::create_named(&format!("doc_cond_lock_{tag}"))?;
    /// let cond = Condition::create_named(&format!("doc_cond_{tag}"), lock)?;
    /// // In another process:
    /// let lock2 = Lock::open_named(&format!("doc_cond_lock_{tag}"))?;
    /// let cond2 = Condition::open_named(&format!("doc_cond_{tag}"), lock2)?;
    /// cond2.acquire().unwrap().notify_all();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn create_named(name: &str, lock: L) -> Result<Self, Error> {
        let seg = Segment::create(
            Kind::Condition,
            size_of::<ConditionState>(),
            Some(name),
            |_| {},
        )?;
        Ok(Self { lock, seg })
    }

    /// Opens a condition created by [`create_named`](Self::create_named), over `lock` (which
    /// must be the same lock the creator used).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if there is no such segment; [`Error::Attach`] if it is not a condition.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// assert!(multiproc_sync::Condition::open_named("no_such_condition", lock).is_err());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn open_named(name: &str, lock: L) -> Result<Self, Error> {
        let seg = Segment::open(name, Kind::Condition, size_of::<ConditionState>())?;
        Ok(Self { lock, seg })
    }

    fn state(&self) -> &ConditionState {
        self.seg.body::<ConditionState>()
    }

    /// The underlying lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// assert!(!cond.lock().is_locked());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }

    fn guard(&self, how: Acquired) -> LockResult<ConditionGuard<'_, L>> {
        let guard = ConditionGuard {
            cond: self,
            _not_send: PhantomData,
        };
        match how {
            Acquired::Clean => Ok(guard),
            Acquired::OwnerDied => Err(OwnerDied::new(guard)),
        }
    }

    /// Takes the lock (CPython: `with cond:`).
    ///
    /// # Errors
    ///
    /// [`OwnerDied`] (holding the guard) if the lock's previous holder died holding it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// let guard = cond.acquire().unwrap();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn acquire(&self) -> LockResult<ConditionGuard<'_, L>> {
        let how = loop {
            if let Ok(how) = self.lock.raw_acquire(None) {
                break how;
            }
        };
        self.guard(how)
    }

    /// Takes the lock if it is free now.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::WouldBlock`] if held by another; [`TryAcquireError::OwnerDied`]
    /// (holding the guard) if its holder had died.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::new(multiproc_sync::Lock::new()?)?;
    /// let g = cond.try_acquire();
    /// assert!(g.is_ok());
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn try_acquire(
        &self,
    ) -> Result<ConditionGuard<'_, L>, TryAcquireError<ConditionGuard<'_, L>>> {
        match self.lock.raw_try_acquire() {
            Some(how) => self.guard(how).map_err(TryAcquireError::OwnerDied),
            None => Err(TryAcquireError::WouldBlock),
        }
    }
}

impl<L: RawLock> ConditionGuard<'_, L> {
    fn wait_until(&mut self, deadline: Option<Instant>) -> Result<bool, Error> {
        let state = self.cond.state();
        let ticket = state.prepare();
        let saved = self.cond.lock.raw_release_save();
        let notified = state.sleep(ticket, deadline).is_ok();
        match self.cond.lock.raw_acquire_restore(saved) {
            Acquired::Clean => Ok(notified),
            Acquired::OwnerDied => Err(Error::OwnerDied),
        }
    }

    /// Releases the lock, sleeps until notified, re-acquires the lock.
    ///
    /// # Errors
    ///
    /// [`Error::OwnerDied`] if, while re-acquiring, the lock's previous holder had died holding
    /// it. The guard holds the lock again in every case.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sync::Condition;
    ///
    /// let cond = Condition::with_rlock()?;
    /// let other = cond.clone();
    /// let t = std::thread::spawn(move || {
    ///     let g = other.acquire().unwrap();
    ///     g.notify_all();
    /// });
    /// let mut g = cond.acquire().unwrap();
    /// // The notifier may run before we sleep: a real program waits for a predicate.
    /// let _ = g.wait_timeout(std::time::Duration::from_millis(50))?;
    /// drop(g);
    /// t.join().unwrap();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait(&mut self) -> Result<(), Error> {
        self.wait_until(None).map(|_| ())
    }

    /// Like [`wait`](Self::wait) for at most `timeout`; returns `false` if it timed out.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// let mut g = cond.acquire().unwrap();
    /// assert!(!g.wait_timeout(std::time::Duration::from_millis(2))?);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<bool, Error> {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Waits until `predicate` is true (checked under the lock), or `timeout` passes; returns
    /// the predicate's last value (CPython: `wait_for`).
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// let mut g = cond.acquire().unwrap();
    /// assert!(g.wait_for(|| true, None)?);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn wait_for(
        &mut self,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, Error> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if predicate() {
                return Ok(true);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            self.wait_until(deadline)?;
        }
    }

    /// Wakes up to `n` waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// cond.acquire().unwrap().notify(2);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn notify(&self, n: u32) {
        self.cond.state().notify(n);
    }

    /// Wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = multiproc_sync::Condition::with_rlock()?;
    /// cond.acquire().unwrap().notify_all();
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    pub fn notify_all(&self) {
        self.cond.state().notify(u32::MAX);
    }
}

impl<L: RawLock> Drop for ConditionGuard<'_, L> {
    fn drop(&mut self) {
        self.cond.lock.raw_release();
    }
}

impl<L: RawLock> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").finish_non_exhaustive()
    }
}

impl<L: RawLock> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &self.state().waiters())
            .finish()
    }
}

impl<L: RawLock + Serialize> Serialize for Condition<L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.lock, SegRef(&self.seg)).serialize(s)
    }
}

impl<'de, L: RawLock + Deserialize<'de>> Deserialize<'de> for Condition<L> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (lock, SegOwned(seg)) = <(L, SegOwned)>::deserialize(d)?;
        Ok(Self { lock, seg })
    }
}

struct SegRef<'a>(&'a Segment);

impl Serialize for SegRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

struct SegOwned(Arc<Segment>);

impl<'de> Deserialize<'de> for SegOwned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Segment::deserialize(d, Kind::Condition, size_of::<ConditionState>()).map(SegOwned)
    }
}
