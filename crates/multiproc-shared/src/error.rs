//! The crate's error type.

use std::fmt;
use std::io;

/// What can go wrong creating, locking or updating a shared value or array.
///
/// # Examples
///
/// ```
/// use multiproc_shared::{Error, RawArray};
///
/// let name = RawArray::<u8>::from_slice(b"hi")?;
/// let err = name.set_value(b"too long").unwrap_err();
/// assert!(matches!(err, Error::TooLong { len: 8, capacity: 2 }));
/// assert_eq!(err.to_string(), "byte string too long: 8 bytes for an array of 2");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Creating the shared memory (or mapping it) failed.
    Io(io::Error),
    /// Creating the lock failed.
    Lock(multiproc_sync::Error),
    /// A byte string longer than the array (Python's `ValueError: byte string too long`).
    TooLong {
        /// The length of the byte string.
        len: usize,
        /// The array's length.
        capacity: usize,
    },
    /// A slice whose length differs from the array's.
    LengthMismatch {
        /// The slice's length.
        len: usize,
        /// The array's length.
        expected: usize,
    },
    /// An index past the end (Python's `IndexError`).
    OutOfBounds(multiproc_shm::OutOfBounds),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "shared memory error: {e}"),
            Error::Lock(e) => write!(f, "lock error: {e}"),
            Error::TooLong { len, capacity } => write!(
                f,
                "byte string too long: {len} bytes for an array of {capacity}"
            ),
            Error::LengthMismatch { len, expected } => write!(
                f,
                "slice of {len} elements does not match an array of {expected}"
            ),
            Error::OutOfBounds(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::OutOfBounds(e) => Some(e),
            Error::Lock(e) => Some(e),
            Error::TooLong { .. } | Error::LengthMismatch { .. } => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<multiproc_shm::OutOfBounds> for Error {
    fn from(e: multiproc_shm::OutOfBounds) -> Self {
        Error::OutOfBounds(e)
    }
}

impl From<multiproc_sync::Error> for Error {
    fn from(e: multiproc_sync::Error) -> Self {
        Error::Lock(e)
    }
}
