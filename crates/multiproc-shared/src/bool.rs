//! [`Bool`]: a plain-old-data boolean (Python's `Value('b', ...)` used as a flag, ctypes `c_bool`).

use bytemuck::{Pod, Zeroable};
use std::fmt;

/// A one-byte boolean that is [`Pod`]: `0` is false, anything else is true.
///
/// Rust's `bool` is not `Pod` (only the bit patterns 0 and 1 are valid, and another process can
/// write any byte), so shared flags use this.
///
/// # Examples
///
/// ```
/// use multiproc_shared::{Bool, RawValue};
///
/// let done = RawValue::new(Bool::FALSE)?;
/// done.store(true.into());
/// assert!(done.load().get());
/// # Ok::<(), multiproc_shared::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
#[repr(transparent)]
pub struct Bool(u8);

impl Bool {
    /// False (`0`).
    pub const FALSE: Bool = Bool(0);
    /// True (`1`).
    pub const TRUE: Bool = Bool(1);

    /// Wraps a Rust `bool`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shared::Bool::new(true), multiproc_shared::Bool::TRUE);
    /// ```
    pub const fn new(value: bool) -> Bool {
        Bool(value as u8)
    }

    /// Whether the byte is non-zero.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!multiproc_shared::Bool::FALSE.get());
    /// ```
    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool {
    fn from(value: bool) -> Bool {
        Bool::new(value)
    }
}

impl From<Bool> for bool {
    fn from(value: Bool) -> bool {
        value.get()
    }
}

impl fmt::Debug for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}
