//! The ring's error type.

use std::fmt;

/// Everything that can go wrong with a ring.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A non-blocking send found no room (bytes or the item limit).
    Full,
    /// A non-blocking receive found no message.
    Empty,
    /// A deadline passed before the operation could complete.
    Timeout,
    /// The ring was closed: no more sends; receives drain what is left first.
    Closed,
    /// The message is longer than the ring can ever carry.
    TooLarge {
        /// The message length.
        len: u64,
        /// The largest length allowed.
        max: u64,
    },
    /// The requested capacity is not a power of two between 256 bytes and 1 GiB.
    InvalidCapacity(u64),
    /// The segment's contents are inconsistent (a crashed or hostile writer, or a bug).
    Corrupt(&'static str),
    /// The segment does not hold a ring this version understands.
    Attach(multiproc_shm::header::AttachError),
    /// An exclusive end ([`Sender`](crate::Sender)/[`Receiver`](crate::Receiver)) is already
    /// held by a live process.
    Busy,
    /// [`Ring::task_done`](crate::Ring::task_done) was called more times than messages were sent.
    TooManyTaskDone,
    /// The operating system refused something (creating or mapping the segment).
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("ring is full"),
            Self::Empty => f.write_str("ring is empty"),
            Self::Timeout => f.write_str("timed out"),
            Self::Closed => f.write_str("ring is closed"),
            Self::TooLarge { len, max } => {
                write!(f, "message of {len} bytes exceeds the limit of {max} bytes")
            }
            Self::InvalidCapacity(c) => write!(
                f,
                "invalid ring capacity {c}: must be a power of two from 256 bytes to 1 GiB"
            ),
            Self::Corrupt(why) => write!(f, "corrupt ring: {why}"),
            Self::Attach(e) => write!(f, "cannot attach ring: {e}"),
            Self::Busy => f.write_str("that end of the ring is held by another live process"),
            Self::TooManyTaskDone => f.write_str("task_done() called too many times"),
            Self::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Attach(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
