//! [`RawValue`]: one plain-old-data value in shared memory, without a lock.

use crate::Error;
use bytemuck::Pod;
use multiproc_shm::{Block, View};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// One `T` in shared memory, without a lock: CPython's `RawValue(typecode, value)` (or
/// `Value(..., lock=False)`).
///
/// `T` is any [`Pod`] type: integers, floats, [`Bool`](crate::Bool), arrays of those, or
/// `#[repr(C)]` structs deriving `Pod`. The value is copied in and out
/// ([`load`](Self::load)/[`store`](Self::store)) with relaxed atomic operations, so concurrent
/// use is defined behaviour, but a read-modify-write such as `v.store(v.load() + 1)` from two
/// processes loses updates, and a `T` wider than 8 bytes may be read torn. Use a
/// [`Value`](crate::Value) (which has a lock) when that matters.
///
/// Small values are carved out of shared arena segments ([`Block`]), so thousands of them cost
/// a handful of file descriptors. `Clone` gives another handle to the same memory; pass it to
/// another process as a `Process` argument or through a `Pipe`.
///
/// # Examples
///
/// ```
/// use multiproc_shared::RawValue;
///
/// let v = RawValue::new(1.5f64)?;
/// let same = v.clone();
/// same.store(2.5);
/// assert_eq!(v.load(), 2.5);
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
pub struct RawValue<T> {
    block: Block,
    _type: PhantomData<T>,
}

impl<T> Clone for RawValue<T> {
    fn clone(&self) -> Self {
        RawValue {
            block: self.block.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RawValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawValue")
            .field("type", &std::any::type_name::<T>())
            .field("block", &self.block)
            .finish()
    }
}

/// The alignment a shared value of `T` gets: at least 8 bytes.
pub(crate) const fn value_align<T>() -> usize {
    let a = std::mem::align_of::<T>();
    if a > 8 { a } else { 8 }
}

/// Checks that `block` can hold exactly one `T` (for blocks received from another process).
pub(crate) fn check_value_block<T: Pod>(block: &Block) -> Result<(), String> {
    match block.view::<T>() {
        Some(v) if v.len() == 1 && block.len() == std::mem::size_of::<T>() => Ok(()),
        _ => Err(format!(
            "shared block of {} bytes cannot hold one {}",
            block.len(),
            std::any::type_name::<T>()
        )),
    }
}

impl<T: Pod> RawValue<T> {
    /// Puts `value` into shared memory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if no shared memory can be had.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::RawValue::new(7i32)?;
    /// assert_eq!(v.load(), 7);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn new(value: T) -> Result<Self, Error> {
        const {
            assert!(
                std::mem::size_of::<T>() > 0,
                "zero-sized types cannot be shared"
            )
        };
        let block = Block::alloc(std::mem::size_of::<T>(), value_align::<T>())?;
        let v = RawValue {
            block,
            _type: PhantomData,
        };
        v.view().store(0, value);
        Ok(v)
    }

    /// The one-element view of the value.
    fn view(&self) -> View<'_, T> {
        match self.block.view::<T>() {
            Some(v) => v,
            // Unreachable: `new` and `deserialize` checked size and alignment.
            None => panic!("shared value block lost its layout"),
        }
    }

    /// Copies the value out (`v.value` in Python).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::RawValue::new(3u8)?.load(), 3);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    #[doc(alias = "value")]
    pub fn load(&self) -> T {
        self.view().load(0)
    }

    /// Replaces the value (`v.value = x` in Python).
    ///
    /// # Examples
    ///
    /// ```
    /// let v = multiproc_shared::RawValue::new(3u8)?;
    /// v.store(4);
    /// assert_eq!(v.load(), 4);
    /// # Ok::<(), multiproc_shared::Error>(())
    /// ```
    pub fn store(&self, value: T) {
        self.view().store(0, value);
    }
}

impl<T> Serialize for RawValue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.block.serialize(s)
    }
}

impl<'de, T: Pod> Deserialize<'de> for RawValue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let block = Block::deserialize(d)?;
        check_value_block::<T>(&block).map_err(multiproc_shm::handle::custom_de_error::<D>)?;
        Ok(RawValue {
            block,
            _type: PhantomData,
        })
    }
}
