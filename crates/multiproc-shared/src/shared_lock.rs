//! [`SharedLock`]: the locks a [`Value`](crate::Value) or [`Array`](crate::Array) can use.

use multiproc_sync::{Lock, LockGuard, RLock, RLockGuard};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod sealed {
    pub trait Sealed {}
    impl Sealed for multiproc_sync::Lock {}
    impl Sealed for multiproc_sync::RLock {}
}

/// A process-shared lock that can guard a [`Value`](crate::Value) or an
/// [`Array`](crate::Array): [`Lock`] (the default) or [`RLock`] (CPython's default for
/// `Value`/`Array`, reentrant: `load`/`store` work while this thread holds the lock through
/// [`get_lock`](crate::Value::get_lock)).
///
/// Sealed: only multiproc's locks implement it.
///
/// # Examples
///
/// ```
/// use multiproc_shared::Value;
/// use multiproc_sync::RLock;
///
/// // Value('i', 0) in CPython has an RLock, so this nesting works there and here:
/// let v: Value<i32, RLock> = Value::with_lock(0, RLock::new()?)?;
/// {
///     let _held = v.get_lock().acquire().unwrap(); // with v.get_lock():
///     v.store(v.load() + 1); //                        v.value += 1
/// }
/// assert_eq!(v.load(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SharedLock:
    sealed::Sealed + Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The guard that holds the lock.
    type Guard<'a>;

    /// A new, unlocked lock.
    ///
    /// # Errors
    ///
    /// The lock's creation error.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shared::SharedLock;
    /// let lock = <multiproc_sync::Lock as SharedLock>::create()?;
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    fn create() -> Result<Self, multiproc_sync::Error>;

    /// Blocks until the lock is held; the flag says whether its previous holder died with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shared::SharedLock;
    /// let lock = <multiproc_sync::Lock as SharedLock>::create()?;
    /// let (_guard, owner_died) = lock.hold();
    /// assert!(!owner_died);
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    fn hold(&self) -> (Self::Guard<'_>, bool);

    /// Whether some thread or process holds the lock now.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shared::SharedLock;
    /// let lock = <multiproc_sync::RLock as SharedLock>::create()?;
    /// assert!(!SharedLock::held(&lock));
    /// # Ok::<(), multiproc_sync::Error>(())
    /// ```
    fn held(&self) -> bool;
}

impl SharedLock for Lock {
    type Guard<'a> = LockGuard<'a>;

    fn create() -> Result<Self, multiproc_sync::Error> {
        Lock::new()
    }

    fn hold(&self) -> (LockGuard<'_>, bool) {
        match self.acquire() {
            Ok(g) => (g, false),
            Err(died) => (died.into_inner(), true),
        }
    }

    fn held(&self) -> bool {
        self.is_locked()
    }
}

impl SharedLock for RLock {
    type Guard<'a> = RLockGuard<'a>;

    fn create() -> Result<Self, multiproc_sync::Error> {
        RLock::new()
    }

    fn hold(&self) -> (RLockGuard<'_>, bool) {
        match self.acquire() {
            Ok(g) => (g, false),
            Err(died) => (died.into_inner(), true),
        }
    }

    fn held(&self) -> bool {
        self.is_locked()
    }
}
