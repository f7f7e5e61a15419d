//! Typed views over shared memory: the Rust face of `numpy.ndarray(shape, dtype, buffer=shm.buf)`.
//!
//! # The access model
//!
//! Memory in a shared segment can be written at any moment by another process (or by another
//! thread holding another view of the same bytes), so a view never hands out `&T`, `&mut T`,
//! `&[T]` or `&mut [T]` over it: the compiler would be entitled to assume nobody else changes
//! those bytes. Instead every element is copied in and out with **relaxed atomic** loads and
//! stores of the widest unit the element's alignment allows (8, 4, 2 or 1 bytes). So:
//!
//! - accesses never race in the sense of the Rust memory model (they are all atomic), so
//!   concurrent use from several threads or processes is *defined behaviour*;
//! - an element wider than its unit (a 16-byte `#[repr(C)]` struct of two `f64`, say) may be
//!   **torn**: a reader can see half of an old value and half of a new one. Every bit pattern of
//!   a [`bytemuck::Pod`] type is a valid value, so a torn read is a wrong value, never UB;
//! - there is no ordering between elements: synchronising readers and writers (a `Lock`, an
//!   `Event`, a `Barrier`, joining the writer process) is the user's job, exactly as with numpy
//!   over `shm.buf` in CPython.
//!
//! Keep one element type per region: atomics of *different* widths racing over the same bytes
//! (a `View<u8>` in one process writing where a `View<f64>` in another reads) are outside the
//! model.
//!
//! # Examples
//!
//! ```
//! use multiproc_shm::View;
//!
//! let mut storage = [0u64; 4];
//! // SAFETY: `storage` outlives the view and is only accessed through it meanwhile.
//! let view = unsafe { View::from_raw_parts(storage.as_mut_ptr(), storage.len()) };
//! view.store(0, 99);
//! view.copy_from_slice(&[1, 2, 3, 4]);
//! assert_eq!(view.copy_to_vec(), [1, 2, 3, 4]);
//! ```
#![allow(unsafe_code)]

use bytemuck::Pod;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::fmt;

/// A typed, copy-in/copy-out view of `len` elements of `T` in shared memory.
///
/// # The access model
///
/// Memory in a shared segment can be written at any moment by another process (or by another
/// thread holding another view of the same bytes), so a view never hands out `&T`, `&mut T`,
/// `&[T]` or `&mut [T]` over it. Every element is copied in and out with **relaxed atomic**
/// loads and stores of the widest unit the element's alignment allows (8, 4, 2 or 1 bytes):
///
/// - accesses never race in the sense of the Rust memory model (they are all atomic), so
///   concurrent use from several threads or processes is defined behaviour;
/// - an element wider than its unit (a `#[repr(C)]` struct of two `f64`, say) may be read
///   **torn** (half old, half new); every bit pattern of a [`Pod`] type is a valid value, so a
///   torn read is a wrong value, never UB;
/// - there is no ordering between elements: synchronising writers and readers (a `Lock`, an
///   `Event`, joining the writer) is the user's job, as with numpy over `shm.buf` in CPython;
/// - keep one element type per region: atomics of different widths racing over the same bytes
///   are outside the model.
///
/// # Examples
///
/// ```
/// use multiproc_shm::SharedMemory;
///
/// let shm = SharedMemory::anonymous(5 * 8)?;
/// let arr = shm.as_slice_of::<i64>();
/// arr.copy_from_slice(&[1, 2, 3, 4, 5]);
/// arr.store(0, 99);
/// assert_eq!(arr.copy_to_vec(), [99, 2, 3, 4, 5]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct View<'a, T> {
    ptr: NonNull<T>,
    len: usize,
    _memory: PhantomData<&'a [T]>,
}

// SAFETY: a view only copies `Pod` values in and out with atomic operations; the memory it points
// to is shared memory meant to be used from several threads and processes, so moving the view to
// another thread is fine as long as values of `T` may move between threads (`T: Send`), like
// crossbeam's `AtomicCell<T>`.
unsafe impl<T: Pod + Send> Send for View<'_, T> {}
// SAFETY: every access through `&View` is an atomic copy of a `T` made on the calling thread, so
// sharing the view moves `T` values between threads: `T: Send` is what is needed.
unsafe impl<T: Pod + Send> Sync for View<'_, T> {}

impl<T> Clone for View<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for View<'_, T> {}

impl<T> fmt::Debug for View<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("View")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("type", &core::any::type_name::<T>())
            .finish()
    }
}

/// An index past the end of a [`View`] (Python's `IndexError`).
///
/// # Examples
///
/// ```
/// let mut x = [0u32; 2];
/// // SAFETY: `x` outlives the view and is only used through it.
/// let v = unsafe { multiproc_shm::View::from_raw_parts(x.as_mut_ptr(), 2) };
/// let err = v.set(5, 1).unwrap_err();
/// assert_eq!(err.to_string(), "index 5 out of range for length 2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    /// The index asked for.
    pub index: usize,
    /// The view's length.
    pub len: usize,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {} out of range for length {}",
            self.index, self.len
        )
    }
}

impl std::error::Error for OutOfBounds {}

/// The width in bytes of the atomic unit used to copy a `T`: the widest of 8, 4, 2, 1 that
/// `T`'s alignment satisfies for the matching atomic type and that divides `T`'s size.
const fn unit_of<T>() -> usize {
    let size = size_of::<T>();
    let align = align_of::<T>();
    if align >= align_of::<AtomicU64>() && size % 8 == 0 {
        8
    } else if align >= align_of::<AtomicU32>() && size % 4 == 0 {
        4
    } else if align >= align_of::<AtomicU16>() && size % 2 == 0 {
        2
    } else {
        1
    }
}

macro_rules! unit_copy {
    ($load:ident, $store:ident, $atomic:ty, $int:ty, $n:literal) => {
        /// Copies `dst.len()` bytes (a multiple of the unit) from shared memory at `src`.
        ///
        /// # Safety
        ///
        /// `src` is aligned for the atomic type, valid for reads and writes of `dst.len()`
        /// bytes, and only accessed atomically meanwhile.
        unsafe fn $load(src: *const u8, dst: &mut [u8]) {
            for (k, chunk) in dst.chunks_exact_mut($n).enumerate() {
                // SAFETY: `k * $n < dst.len()`, within the caller's valid range.
                let p = unsafe { src.add(k * $n) };
                // SAFETY: aligned, valid, only accessed atomically (caller's contract); the
                // pointer is never written through except by atomics.
                let atomic = unsafe { <$atomic>::from_ptr(p.cast::<$int>().cast_mut()) };
                chunk.copy_from_slice(&atomic.load(Ordering::Relaxed).to_ne_bytes());
            }
        }

        /// Copies `src.len()` bytes (a multiple of the unit) into shared memory at `dst`.
        ///
        /// # Safety
        ///
        /// As for the load.
        unsafe fn $store(dst: *mut u8, src: &[u8]) {
            for (k, chunk) in src.chunks_exact($n).enumerate() {
                let mut bytes = [0u8; $n];
                bytes.copy_from_slice(chunk);
                // SAFETY: `k * $n < src.len()`, within the caller's valid range.
                let p = unsafe { dst.add(k * $n) };
                // SAFETY: aligned, valid, only accessed atomically (caller's contract).
                let atomic = unsafe { <$atomic>::from_ptr(p.cast::<$int>()) };
                atomic.store(<$int>::from_ne_bytes(bytes), Ordering::Relaxed);
            }
        }
    };
}

unit_copy!(load8, store8, AtomicU64, u64, 8);
unit_copy!(load4, store4, AtomicU32, u32, 4);
unit_copy!(load2, store2, AtomicU16, u16, 2);
unit_copy!(load1, store1, AtomicU8, u8, 1);

/// Reads one `T` at `src` with relaxed atomic unit copies.
///
/// # Safety
///
/// `src` is aligned for `T`, valid for reads and writes of one `T`, and only accessed atomically.
unsafe fn load_elem<T: Pod>(src: *const T) -> T {
    let mut out = T::zeroed();
    let dst = bytemuck::bytes_of_mut(&mut out);
    let src = src.cast::<u8>();
    match unit_of::<T>() {
        // SAFETY: forwarded from our caller; `unit_of` guarantees alignment for the unit.
        8 => unsafe { load8(src, dst) },
        // SAFETY: as above.
        4 => unsafe { load4(src, dst) },
        // SAFETY: as above.
        2 => unsafe { load2(src, dst) },
        // SAFETY: as above.
        _ => unsafe { load1(src, dst) },
    }
    out
}

/// Writes one `T` at `dst` with relaxed atomic unit copies.
///
/// # Safety
///
/// As [`load_elem`].
unsafe fn store_elem<T: Pod>(dst: *mut T, value: T) {
    let src = bytemuck::bytes_of(&value);
    let dst = dst.cast::<u8>();
    match unit_of::<T>() {
        // SAFETY: forwarded from our caller; `unit_of` guarantees alignment for the unit.
        8 => unsafe { store8(dst, src) },
        // SAFETY: as above.
        4 => unsafe { store4(dst, src) },
        // SAFETY: as above.
        2 => unsafe { store2(dst, src) },
        // SAFETY: as above.
        _ => unsafe { store1(dst, src) },
    }
}

impl<'a, T: Pod> View<'a, T> {
    /// Makes a view of `len` elements starting at `ptr`.
    ///
    /// # Safety
    ///
    /// For the lifetime `'a`: `ptr` is non-null and aligned for `T`; the `len * size_of::<T>()`
    /// bytes from `ptr` stay mapped readable and writable; and nothing accesses them
    /// non-atomically (no `&`/`&mut` references to them, no plain reads or writes) while a view
    /// exists, in this process. Other processes may write them (that is the point) as long as
    /// they follow the same rule.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut x = [1.5f64, 2.5];
    /// // SAFETY: `x` outlives the view and is only used through it meanwhile.
    /// let v = unsafe { multiproc_shm::View::from_raw_parts(x.as_mut_ptr(), x.len()) };
    /// assert_eq!(v.get(1), Some(2.5));
    /// ```
    pub unsafe fn from_raw_parts(ptr: *mut T, len: usize) -> Self {
        debug_assert!(!ptr.is_null() && ptr.is_aligned());
        View {
            // SAFETY: non-null by the caller's contract (a dangling pointer is also fine for
            // an empty view of a zero-sized type; callers never pass null).
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            len,
            _memory: PhantomData,
        }
    }

    /// The number of elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(64)?;
    /// assert_eq!(shm.as_slice_of::<u32>().len(), 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the view has no elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(64)?;
    /// assert!(!shm.as_slice_of::<u32>().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first element's address (for callers who need `unsafe` access of their own).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(64)?;
    /// assert_eq!(shm.as_slice_of::<u8>().as_ptr(), shm.as_ptr());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// A pointer to element `index`, which must be `< len`.
    fn elem(&self, index: usize) -> *mut T {
        debug_assert!(index < self.len);
        // SAFETY: `index < len` (checked by every caller), so the offset stays inside the
        // region the view was made over.
        unsafe { self.ptr.as_ptr().add(index) }
    }

    /// Copies element `index` out, or `None` past the end.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(16)?;
    /// let v = shm.as_slice_of::<u64>();
    /// assert_eq!(v.get(0), Some(0));
    /// assert_eq!(v.get(2), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        if index >= self.len {
            return None;
        }
        // SAFETY: in bounds; the view's contract makes the element valid and atomic-only.
        Some(unsafe { load_elem(self.elem(index)) })
    }

    /// Copies `value` into element `index`.
    ///
    /// # Errors
    ///
    /// [`OutOfBounds`] if `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(16)?;
    /// let v = shm.as_slice_of::<u64>();
    /// v.set(1, 7)?;
    /// assert!(v.set(2, 7).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> Result<(), OutOfBounds> {
        if index >= self.len {
            return Err(OutOfBounds {
                index,
                len: self.len,
            });
        }
        // SAFETY: in bounds; the view's contract makes the element valid and atomic-only.
        unsafe { store_elem(self.elem(index), value) };
        Ok(())
    }

    /// Copies element `index` out (`view[index]` in Python).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(16)?;
    /// assert_eq!(shm.as_slice_of::<u64>().load(1), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn load(&self, index: usize) -> T {
        match self.get(index) {
            Some(v) => v,
            None => panic!("index {index} out of range for length {}", self.len),
        }
    }

    /// Copies `value` into element `index` (`view[index] = value` in Python).
    ///
    /// # Panics
    ///
    /// If `index >= len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(16)?;
    /// let v = shm.as_slice_of::<u64>();
    /// v.store(1, 42);
    /// assert_eq!(v.load(1), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn store(&self, index: usize, value: T) {
        if let Err(e) = self.set(index, value) {
            panic!("{e}");
        }
    }

    /// Copies every element into `src`'s values (`view[:] = src`).
    ///
    /// # Panics
    ///
    /// If `src.len() != self.len()`, like [`slice::copy_from_slice`].
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(24)?;
    /// let v = shm.as_slice_of::<u64>();
    /// v.copy_from_slice(&[1, 2, 3]);
    /// assert_eq!(v.copy_to_vec(), [1, 2, 3]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn copy_from_slice(&self, src: &[T]) {
        assert_eq!(
            src.len(),
            self.len,
            "source slice length ({}) does not match view length ({})",
            src.len(),
            self.len
        );
        for (i, v) in src.iter().enumerate() {
            // SAFETY: `i < src.len() == len`; the view's contract covers the element.
            unsafe { store_elem(self.elem(i), *v) };
        }
    }

    /// Copies every element into `dst`.
    ///
    /// # Panics
    ///
    /// If `dst.len() != self.len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(8)?;
    /// let mut out = [9u16; 4];
    /// shm.as_slice_of::<u16>().copy_to_slice(&mut out);
    /// assert_eq!(out, [0; 4]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn copy_to_slice(&self, dst: &mut [T]) {
        assert_eq!(
            dst.len(),
            self.len,
            "destination slice length ({}) does not match view length ({})",
            dst.len(),
            self.len
        );
        for (i, out) in dst.iter_mut().enumerate() {
            // SAFETY: `i < dst.len() == len`; the view's contract covers the element.
            *out = unsafe { load_elem(self.elem(i)) };
        }
    }

    /// Copies the elements out into a new `Vec` (`list(view)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(8)?;
    /// assert_eq!(shm.as_slice_of::<u32>().copy_to_vec(), [0, 0]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn copy_to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// Sets every element to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(8)?;
    /// let v = shm.as_slice_of::<f32>();
    /// v.fill(0.5);
    /// assert_eq!(v.copy_to_vec(), [0.5, 0.5]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fill(&self, value: T) {
        for i in 0..self.len {
            // SAFETY: `i < len`; the view's contract covers the element.
            unsafe { store_elem(self.elem(i), value) };
        }
    }

    /// An iterator copying the elements out one by one.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(8)?;
    /// assert_eq!(shm.as_slice_of::<u8>().iter().filter(|b| *b == 0).count(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        // SAFETY: `i < len`; the view's contract covers the element.
        (0..self.len).map(move |i| unsafe { load_elem(self.elem(i)) })
    }

    /// The sub-view of elements `start..end`, or `None` if the range is out of bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// let shm = multiproc_shm::SharedMemory::anonymous(32)?;
    /// let v = shm.as_slice_of::<u32>();
    /// let tail = v.slice(6, 8).unwrap();
    /// tail.store(0, 5);
    /// assert_eq!(v.load(6), 5);
    /// assert!(v.slice(6, 9).is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn slice(&self, start: usize, end: usize) -> Option<View<'a, T>> {
        if start > end || end > self.len {
            return None;
        }
        Some(View {
            // SAFETY: `start <= len`, so the pointer stays within (or one past) the region.
            ptr: unsafe { self.ptr.add(start) },
            len: end - start,
            _memory: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Point {
        x: f64,
        y: f64,
    }

    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(C)]
    struct Rgb {
        r: u8,
        g: u8,
        b: u8,
    }

    #[test]
    fn units() {
        assert_eq!(unit_of::<u8>(), 1);
        assert_eq!(unit_of::<u16>(), 2);
        assert_eq!(unit_of::<f32>(), 4);
        assert_eq!(unit_of::<u64>(), 8);
        assert_eq!(unit_of::<Point>(), 8);
        assert_eq!(unit_of::<Rgb>(), 1);
        assert_eq!(unit_of::<[u16; 3]>(), 2);
        assert_eq!(unit_of::<u128>(), 8);
    }

    #[test]
    fn round_trips_every_unit() {
        let mut pts = [Point { x: 0.0, y: 0.0 }; 3];
        // SAFETY: `pts` outlives the view and is only used through it.
        let v = unsafe { View::from_raw_parts(pts.as_mut_ptr(), 3) };
        v.store(2, Point { x: 1.5, y: -2.0 });
        assert_eq!(v.load(2), Point { x: 1.5, y: -2.0 });
        let mut rgb = [Rgb { r: 0, g: 0, b: 0 }; 2];
        // SAFETY: as above.
        let v = unsafe { View::from_raw_parts(rgb.as_mut_ptr(), 2) };
        v.store(1, Rgb { r: 1, g: 2, b: 3 });
        assert_eq!(v.copy_to_vec()[1], Rgb { r: 1, g: 2, b: 3 });
        let mut h = [0u16; 5];
        // SAFETY: as above.
        let v = unsafe { View::from_raw_parts(h.as_mut_ptr(), 5) };
        v.copy_from_slice(&[1, 2, 3, 4, 0xffff]);
        assert_eq!(v.iter().map(u32::from).sum::<u32>(), 10 + 0xffff);
        let s = v.slice(1, 3).unwrap();
        assert_eq!(s.copy_to_vec(), [2, 3]);
        assert!(v.slice(4, 3).is_none());
        assert_eq!(v.get(5), None);
        assert_eq!(v.set(5, 0), Err(OutOfBounds { index: 5, len: 5 }));
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn length_mismatch_panics() {
        let mut h = [0u32; 2];
        // SAFETY: `h` outlives the view and is only used through it.
        let v = unsafe { View::from_raw_parts(h.as_mut_ptr(), 2) };
        v.copy_from_slice(&[1]);
    }
}
