//! [`Value`]: one plain-old-data value in shared memory, with a lock.

use crate::SharedLock;
use crate::{Error, RawValue};
use bytemuck::Pod;
use multiproc_sync::Lock;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// One `T` in shared memory with a [`Lock`]: CPython's `multiprocessing.Value(typecode, value)`.
///
/// [`lock`](Self::lock) is `with v.get_lock():` — it returns a [`ValueGuard`] that derefs
/// (mutably) to the value, so `*counter.lock() += 1` is the atomic increment CPython spells
/// `with counter.get_lock(): counter.value += 1`. [`load`](Self::load) and
/// [`store`](Self::store) are `v.value` and `v.value = x` (each takes the lock once).
///
/// The lock is a [`multiproc_sync::Lock`]: a private one ([`new`](Self::new)), or one you pass
/// ([`with_lock`](Self::with_lock)) to guard several values together; or an
/// [`RLock`](multiproc_sync::RLock) (`Value<T, RLock>`, CPython's default). A `Lock` is not
/// reentrant: calling `load`/`store`/`lock` while this thread holds the guard deadlocks; use the
/// guard inside the critical section. With an `RLock`, `load`/`store` nest inside
/// `get_lock().acquire()` as in CPython (a guard from [`lock`](Self::lock) writes its copy back
/// only if *it* changed it, so nested stores are kept). If a process dies holding the lock, the next [`lock`](Self::lock) takes it over
/// and [`ValueGuard::owner_died`] says so, instead of deadlocking.
///
/// `Clone` gives another handle to the same value and lock. A `Value` is `Send + Sync` and
/// `Serialize + Deserialize` (by handle transfer): pass it to a child process as an argument.
///
/// # Memory model
///
/// The guard never points into shared memory: it copies the value in when the lock is taken,
/// derefs to that private copy, and copies it back (if changed) before releasing the lock. So
/// no `&mut T` ever aliases memory another process can write, even if some process broke the
/// lock's exclusion (`Lock::release` by a non-holder is allowed, as in CPython): the worst case
/// is a lost update, never undefined behaviour. Copies are relaxed atomic accesses, ordered by
/// the lock's acquire/release.
///
/// # Examples
///
/// ```
/// use multiproc_shared::Value;
///
/// let counter = Value::new(0i32)?; // Value('i', 0)
/// for _ in 0..10 {
///     *counter.lock() += 1; // with counter.get_lock(): counter.value += 1
/// }
/// assert_eq!(counter.load(), 10);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "L: Serialize", deserialize = "T: Pod, L: SharedLock"))]
pub struct Value<T, L = Lock> {
    raw: RawValue<T>,
    lock: L,
}

impl<T, L: SharedLock> fmt::Debug for Value<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("raw", &self.raw)
            .field("locked", &self.lock.held())
            .finish()
    }
}

impl<T: Pod> Value<T> {
    /// Puts `value` into shared memory with a new lock.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had, [`Error::Lock`] if the lock cannot be made.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(2.5f64)?;
    /// assert_eq!(v.load(), 2.5);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self, Error> {
        Ok(Value {
            raw: RawValue::new(value)?,
            lock: Lock::new()?,
        })
    }
}

impl<T: Pod, L: SharedLock> Value<T, L> {
    /// Puts `value` into shared memory guarded by `lock` (`Value('i', 0, lock=my_lock)`): a
    /// [`Lock`] shared by several values, or an [`RLock`](multiproc_sync::RLock).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shared::Value;
    ///
    /// let lock = multiproc_sync::Lock::new()?;
    /// let a = Value::with_lock(1u64, lock.clone())?;
    /// let b = Value::with_lock(2u64, lock)?;
    /// let r = Value::with_lock(3u8, multiproc_sync::RLock::new()?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_lock(value: T, lock: L) -> Result<Self, Error> {
        Ok(Value {
            raw: RawValue::new(value)?,
            lock,
        })
    }

    /// Takes the lock and returns a guard that derefs to (a private copy of) the value and
    /// writes it back when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new([0u8; 4])?;
    /// {
    ///     let mut g = v.lock();
    ///     g[0] = 1;
    ///     g[3] = g[0] + 1;
    /// } // written back, then unlocked
    /// assert_eq!(v.load(), [1, 0, 0, 2]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn lock(&self) -> ValueGuard<'_, T, L> {
        let (guard, owner_died) = self.lock.hold();
        let copy = self.raw.load();
        ValueGuard {
            raw: &self.raw,
            original: copy,
            copy,
            owner_died,
            _lock: guard,
        }
    }

    /// The lock guarding the value (`v.get_lock()`), e.g. to build a `Condition` on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(0u8)?;
    /// assert!(!v.get_lock().is_locked());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }

    /// The value without its lock (`v.get_obj()`): copies through it are atomic per element
    /// but not synchronised with the lock holders.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(5u32)?;
    /// assert_eq!(v.get_obj().load(), 5);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get_obj(&self) -> &RawValue<T> {
        &self.raw
    }

    /// Copies the value out under the lock (`v.value`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Value::new(-3i16)?.load(), -3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[doc(alias = "value")]
    pub fn load(&self) -> T {
        *self.lock()
    }

    /// Replaces the value under the lock (`v.value = x`).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(0u8)?;
    /// v.store(9);
    /// assert_eq!(v.load(), 9);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn store(&self, value: T) {
        *self.lock() = value;
    }

    /// Runs `f` on the value under the lock and returns its result.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(10i32)?;
    /// let before = v.update(|x| std::mem::replace(x, *x * 2));
    /// assert_eq!((before, v.load()), (10, 20));
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock())
    }
}

/// The lock of a [`Value`], held, with a private copy of the value.
///
/// Derefs to the copy; on drop, writes it back (when it changed) and then releases the lock.
///
/// # Examples
///
/// ```
/// let v = multiproc_shared::Value::new(1u64)?;
/// let mut g = v.lock();
/// *g *= 10;
/// assert!(!g.owner_died());
/// drop(g);
/// assert_eq!(v.load(), 10);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Pod, L: SharedLock = Lock> {
    raw: &'a RawValue<T>,
    original: T,
    copy: T,
    owner_died: bool,
    // Dropped after `Drop::drop` wrote the copy back: the write happens under the lock.
    _lock: L::Guard<'a>,
}

impl<T: Pod, L: SharedLock> ValueGuard<'_, T, L> {
    /// Whether the lock's previous holder died holding it (the value may be half-updated).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::Value::new(1u8)?;
    /// assert!(!v.lock().owner_died());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn owner_died(&self) -> bool {
        self.owner_died
    }
}

impl<T: Pod, L: SharedLock> Deref for ValueGuard<'_, T, L> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.copy
    }
}

impl<T: Pod, L: SharedLock> DerefMut for ValueGuard<'_, T, L> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.copy
    }
}

impl<T: Pod, L: SharedLock> Drop for ValueGuard<'_, T, L> {
    fn drop(&mut self) {
        if bytemuck::bytes_of(&self.copy) != bytemuck::bytes_of(&self.original) {
            self.raw.store(self.copy);
        }
    }
}

impl<T: Pod + fmt::Debug, L: SharedLock> fmt::Debug for ValueGuard<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&self.copy).finish()
    }
}
