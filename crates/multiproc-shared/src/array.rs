//! [`Array`]: a fixed-length array of plain-old-data in shared memory, with a lock.

use crate::SharedLock;
use crate::{Error, RawArray};
use bytemuck::Pod;
use multiproc_shm::{OutOfBounds, View};
use multiproc_sync::Lock;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Deref;

/// A fixed-length array of `T` in shared memory with a [`Lock`]: CPython's
/// `multiprocessing.Array(typecode, size_or_initializer)`.
///
/// [`lock`](Self::lock) (`with arr.get_lock():`) returns an [`ArrayGuard`] that derefs to a
/// [`View`] of the elements: `get`/`set`/`load`/`store`/`copy_to_vec`/`copy_from_slice`/`fill`/
/// `iter` with the lock held for the whole critical section. The per-element methods on `Array`
/// itself (`load`, `store`, `to_vec`, ...) each take the lock once, like CPython's `arr[i]`.
///
/// `Array<u8>` has CPython's `c_char` array API: [`value`](Self::value) (bytes up to the first
/// NUL), [`set_value`](Self::set_value) (writes a NUL after a shorter string), [`raw`](Self::raw).
///
/// The lock is not reentrant: don't call `Array` methods while this thread holds its guard;
/// use the guard. Memory model as for [`Value`](crate::Value): elements are copied in and out
/// atomically, never referenced, so a broken exclusion can lose updates but never cause UB.
///
/// # Examples
///
/// ```
/// use multiproc_shared::Array;
///
/// let arr = Array::<i32>::new(10)?; // Array('i', 10)
/// {
///     let a = arr.lock();
///     for i in 0..a.len() {
///         a.store(i, 100 + i as i32);
///     }
/// }
/// assert_eq!(arr.to_vec()[..3], [100, 101, 102]);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "L: Serialize", deserialize = "T: Pod, L: SharedLock"))]
pub struct Array<T, L = Lock> {
    raw: RawArray<T>,
    lock: L,
}

impl<T, L: SharedLock> fmt::Debug for Array<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("raw", &self.raw)
            .field("locked", &self.lock.held())
            .finish()
    }
}

impl<T: Pod> Array<T> {
    /// A zero-filled array of `len` elements with a new lock (`Array('d', 10)`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had, [`Error::Lock`] if the lock cannot be made.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::<f64>::new(2)?.to_vec(), [0.0, 0.0]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(len: usize) -> Result<Self, Error> {
        Ok(Array {
            raw: RawArray::new(len)?,
            lock: Lock::new()?,
        })
    }

    /// An array initialised from `values` with a new lock (`Array('i', [1, 2, 3])`).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[1u8, 2, 3])?;
    /// assert_eq!(a.len(), 3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<Self, Error> {
        Ok(Array {
            raw: RawArray::from_slice(values)?,
            lock: Lock::new()?,
        })
    }
}

impl<T: Pod, L: SharedLock> Array<T, L> {
    /// An array initialised from `values`, guarded by `lock` (`Array('i', xs, lock=my_lock)`):
    /// a shared [`Lock`] or an [`RLock`](multiproc_sync::RLock).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = multiproc_sync::Lock::new()?;
    /// let a = multiproc_shared::Array::with_lock(&[0u32; 4], lock)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_lock(values: &[T], lock: L) -> Result<Self, Error> {
        Ok(Array {
            raw: RawArray::from_slice(values)?,
            lock,
        })
    }

    /// Takes the lock; the guard derefs to a [`View`] of the elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let arr = multiproc_shared::Array::from_slice(&[1i64, 2, 3])?;
    /// let a = arr.lock();
    /// let total: i64 = a.iter().sum();
    /// a.store(0, total);
    /// drop(a);
    /// assert_eq!(arr.load(0), 6);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn lock(&self) -> ArrayGuard<'_, T, L> {
        let (guard, owner_died) = self.lock.hold();
        ArrayGuard {
            view: self.raw.view(),
            owner_died,
            _lock: guard,
        }
    }

    /// The lock guarding the array (`arr.get_lock()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::new(1)?;
    /// assert!(!a.get_lock().is_locked());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get_lock(&self) -> &L {
        &self.lock
    }

    /// The array without its lock (`arr.get_obj()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[4u8])?;
    /// assert_eq!(a.get_obj().load(0), 4);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get_obj(&self) -> &RawArray<T> {
        &self.raw
    }

    /// The number of elements (`len(arr)`; no lock needed).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::<u8>::new(5)?.len(), 5);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the array has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_shared::Array::<u8>::new(0)?.is_empty());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Element `index` under the lock, or `None` past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(&[7u16])?;
    /// assert_eq!((a.get(0), a.get(1)), (Some(7), None));
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        self.lock().get(index)
    }

    /// Writes element `index` under the lock.
    ///
    /// # Errors
    ///
    /// [`OutOfBounds`] past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u16>::new(1)?;
    /// a.set(0, 3)?;
    /// assert!(a.set(1, 3).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), OutOfBounds> {
        self.lock().set(index, value)
    }

    /// Element `index` under the lock (`arr[i]`).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::from_slice(&[1u8, 2])?.load(1), 2);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[track_caller]
    pub fn load(&self, index: usize) -> T {
        self.lock().load(index)
    }

    /// Writes element `index` under the lock (`arr[i] = x`).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::new(2)?;
    /// a.store(1, 5);
    /// assert_eq!(a.to_vec(), [0, 5]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[track_caller]
    pub fn store(&self, index: usize, value: T) {
        self.lock().store(index, value);
    }

    /// All elements under the lock (`arr[:]`, `list(arr)`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::from_slice(&[1i8, -1])?.to_vec(), [1, -1]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.lock().copy_to_vec()
    }

    /// Overwrites every element under the lock (`arr[:] = values`).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `values.len() != len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::new(2)?;
    /// a.copy_from_slice(&[3, 4])?;
    /// assert!(a.copy_from_slice(&[1]).is_err());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn copy_from_slice(&self, values: &[T]) -> Result<(), Error> {
        let guard = self.lock();
        if values.len() != guard.len() {
            return Err(Error::LengthMismatch {
                len: values.len(),
                expected: guard.len(),
            });
        }
        guard.copy_from_slice(values);
        Ok(())
    }
}

impl<L: SharedLock> Array<u8, L> {
    /// The bytes up to the first NUL, under the lock (CPython's `c_char` array `.value`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(b"hello\0world")?;
    /// assert_eq!(a.value(), b"hello");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn value(&self) -> Vec<u8> {
        self.lock().value()
    }

    /// Writes `bytes` plus a NUL if shorter, under the lock (`.value = b"..."`).
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] if `bytes` is longer than the array.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(b"hello")?;
    /// a.set_value(b"HI")?;
    /// assert_eq!(a.raw(), b"HI\0lo");
    /// assert!(a.set_value(b"too long!").is_err());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn set_value(&self, bytes: &[u8]) -> Result<(), Error> {
        self.lock().set_value(bytes)
    }

    /// All the bytes, NULs included, under the lock (`.raw`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Array::from_slice(b"a\0b")?.raw(), b"a\0b");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn raw(&self) -> Vec<u8> {
        self.to_vec()
    }
}

/// The lock of an [`Array`], held; derefs to a [`View`] of the elements.
///
/// # Examples
///
/// ```
/// let arr = multiproc_shared::Array::<u32>::new(3)?;
/// let a = arr.lock();
/// a.fill(1);
/// assert_eq!(a.copy_to_vec(), [1, 1, 1]);
/// assert!(!a.owner_died());
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ArrayGuard<'a, T, L: SharedLock = Lock> {
    view: View<'a, T>,
    owner_died: bool,
    _lock: L::Guard<'a>,
}

impl<T, L: SharedLock> ArrayGuard<'_, T, L> {
    /// Whether the lock's previous holder died holding it (the array may be half-updated).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::new(1)?;
    /// assert!(!a.lock().owner_died());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn owner_died(&self) -> bool {
        self.owner_died
    }
}

impl<L: SharedLock> ArrayGuard<'_, u8, L> {
    /// The bytes up to the first NUL (`.value` inside `with arr.get_lock():`).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::from_slice(b"ok\0")?;
    /// assert_eq!(a.lock().value(), b"ok");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn value(&self) -> Vec<u8> {
        crate::chars::value(self.view)
    }

    /// Writes `bytes` plus a NUL if shorter (`.value = b"..."`).
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] if `bytes` is longer than the array.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::Array::<u8>::new(4)?;
    /// let g = a.lock();
    /// g.set_value(b"abc")?;
    /// assert_eq!(g.value(), b"abc");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn set_value(&self, bytes: &[u8]) -> Result<(), Error> {
        crate::chars::set_value(self.view, bytes)
    }
}

impl<'a, T, L: SharedLock> Deref for ArrayGuard<'a, T, L> {
    type Target = View<'a, T>;
    fn deref(&self) -> &View<'a, T> {
        &self.view
    }
}

impl<T, L: SharedLock> fmt::Debug for ArrayGuard<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrayGuard")
            .field("view", &self.view)
            .field("owner_died", &self.owner_died)
            .finish()
    }
}
