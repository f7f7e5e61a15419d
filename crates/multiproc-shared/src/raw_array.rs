//! [`RawArray`]: a fixed-length array of plain-old-data in shared memory, without a lock.

use crate::Error;
use bytemuck::Pod;
use multiproc_shm::{Block, OutOfBounds, View};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// A fixed-length array of `T` in shared memory, without a lock: CPython's
/// `RawArray(typecode, size_or_initializer)`.
///
/// Elements are copied in and out with relaxed atomic operations (see
/// [`multiproc_shm::View`]): concurrent use is defined behaviour, but there is no ordering
/// between elements and no atomic read-modify-write; use an [`Array`](crate::Array) (which has a
/// lock) or another synchronisation primitive to coordinate writers and readers.
///
/// `RawArray<u8>` has CPython's `c_char` array API as well: [`value`](Self::value) (bytes up to
/// the first NUL), [`set_value`](Self::set_value), [`raw`](Self::raw).
///
/// # Examples
///
/// ```
/// use multiproc_shared::RawArray;
///
/// let arr = RawArray::<i32>::new(10)?; // Array('i', 10, lock=False)
/// for i in 0..arr.len() {
///     arr.store(i, 100 + i as i32);
/// }
/// assert_eq!(arr.to_vec()[..3], [100, 101, 102]);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
pub struct RawArray<T> {
    block: Block,
    len: usize,
    _type: PhantomData<T>,
}

impl<T> Clone for RawArray<T> {
    fn clone(&self) -> Self {
        RawArray {
            block: self.block.clone(),
            len: self.len,
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RawArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawArray")
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .field("block", &self.block)
            .finish()
    }
}

/// Allocates a zeroed block for `len` elements of `T`.
pub(crate) fn alloc_array<T: Pod>(len: usize) -> Result<Block, Error> {
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "array too large"))?;
    Ok(Block::alloc(bytes, crate::raw_value::value_align::<T>())?)
}

/// Checks a received block for an array of `T`; returns the element count.
pub(crate) fn check_array_block<T: Pod>(block: &Block) -> Result<usize, String> {
    let size = std::mem::size_of::<T>();
    match block.view::<T>() {
        Some(v) if block.len() % size == 0 => Ok(v.len()),
        _ => Err(format!(
            "shared block of {} bytes is not an array of {}",
            block.len(),
            std::any::type_name::<T>()
        )),
    }
}

/// The view of an array block (checked at construction/receipt).
pub(crate) fn array_view<T: Pod>(block: &Block) -> View<'_, T> {
    match block.view::<T>() {
        Some(v) => v,
        // Unreachable: blocks are checked when created or received.
        None => panic!("shared array block lost its layout"),
    }
}

impl<T: Pod> RawArray<T> {
    /// A zero-filled array of `len` elements (`RawArray('i', 10)`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<f64>::new(3)?;
    /// assert_eq!(a.to_vec(), [0.0; 3]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(len: usize) -> Result<Self, Error> {
        const {
            assert!(
                std::mem::size_of::<T>() > 0,
                "zero-sized types cannot be shared"
            )
        };
        let block = alloc_array::<T>(len)?;
        Ok(RawArray {
            block,
            len,
            _type: PhantomData,
        })
    }

    /// An array initialised from `values` (`RawArray('i', [1, 2, 3])`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[1u16, 2, 3])?;
    /// assert_eq!(a.len(), 3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn from_slice(values: &[T]) -> Result<Self, Error> {
        let a = Self::new(values.len())?;
        a.view().copy_from_slice(values);
        Ok(a)
    }

    /// A typed view of the elements (copy-in/copy-out, never references).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u32>::new(4)?;
    /// a.view().fill(7);
    /// assert_eq!(a.view().slice(1, 3).unwrap().copy_to_vec(), [7, 7]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn view(&self) -> View<'_, T> {
        array_view(&self.block)
    }

    /// The number of elements (`len(arr)`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawArray::<u8>::new(5)?.len(), 5);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_shared::RawArray::<u8>::new(0)?.is_empty());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies element `index` out, or `None` past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(&[5i64])?;
    /// assert_eq!(a.get(0), Some(5));
    /// assert_eq!(a.get(1), None);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        self.view().get(index)
    }

    /// Writes element `index`.
    ///
    /// # Errors
    ///
    /// [`OutOfBounds`] past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<i64>::new(1)?;
    /// a.set(0, 5)?;
    /// assert!(a.set(1, 5).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), OutOfBounds> {
        self.view().set(index, value)
    }

    /// Copies element `index` out (`arr[i]`).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawArray::from_slice(&[1u8, 2])?.load(1), 2);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[track_caller]
    pub fn load(&self, index: usize) -> T {
        self.view().load(index)
    }

    /// Writes element `index` (`arr[i] = x`).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u8>::new(2)?;
    /// a.store(1, 9);
    /// assert_eq!(a.to_vec(), [0, 9]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[track_caller]
    pub fn store(&self, index: usize, value: T) {
        self.view().store(index, value);
    }

    /// Copies the elements out (`list(arr)` / `arr[:]`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawArray::from_slice(&[1.0f32])?.to_vec(), [1.0]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.view().copy_to_vec()
    }

    /// Overwrites every element (`arr[:] = values`).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `values.len() != len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::<u8>::new(2)?;
    /// a.copy_from_slice(&[1, 2])?;
    /// assert!(a.copy_from_slice(&[1, 2, 3]).is_err());
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn copy_from_slice(&self, values: &[T]) -> Result<(), Error> {
        if values.len() != self.len {
            return Err(Error::LengthMismatch {
                len: values.len(),
                expected: self.len,
            });
        }
        self.view().copy_from_slice(values);
        Ok(())
    }
}

impl RawArray<u8> {
    /// The bytes up to (not including) the first NUL: CPython's `c_char` array `.value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(b"hi\0there")?;
    /// assert_eq!(a.value(), b"hi");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn value(&self) -> Vec<u8> {
        crate::chars::value(self.view())
    }

    /// Writes `bytes`, followed by a NUL if shorter than the array (CPython's `.value = b"..."`:
    /// the bytes after that NUL are left as they were).
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] if `bytes` is longer than the array.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = multiproc_shared::RawArray::from_slice(b"hello")?;
    /// a.set_value(b"hi")?;
    /// assert_eq!(a.value(), b"hi");
    /// assert_eq!(a.raw(), b"hi\0lo");
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn set_value(&self, bytes: &[u8]) -> Result<(), Error> {
        crate::chars::set_value(self.view(), bytes)
    }

    /// All the bytes, NULs included: CPython's `.raw`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawArray::<u8>::new(2)?.raw(), [0, 0]);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn raw(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl<T> Serialize for RawArray<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.block.serialize(s)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawArray<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let block = Block::deserialize(d)?;
        let len =
            check_array_block::<T>(&block).map_err(multiproc_shm::handle::custom_de_error::<D>)?;
        Ok(RawArray {
            block,
            len,
            _type: PhantomData,
        })
    }
}
