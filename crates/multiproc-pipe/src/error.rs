//! The crate's error type.

use std::fmt;
use std::io;

/// Everything that can go wrong with a [`Connection`](crate::Connection), the frame codec,
/// the authkey handshake or a [`Listener`](crate::Listener).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error.
    Io(io::Error),
    /// The peer closed the connection before a new message began (Python's `EOFError`).
    #[doc(alias = "EOFError")]
    Eof,
    /// The peer closed the connection in the middle of a message.
    TruncatedFrame {
        /// Bytes the frame announced (header and payload).
        expected: u64,
        /// Bytes that arrived before the end of the stream.
        received: u64,
    },
    /// A frame announced a payload longer than the connection's maximum (or the `maxlength`
    /// of [`recv_bytes_limited`](crate::Connection::recv_bytes_limited)).
    FrameTooLong {
        /// The announced length.
        len: u64,
        /// The limit in force.
        max: u64,
    },
    /// A frame header held a negative length other than the `-1` escape.
    InvalidLength(i32),
    /// The connection lost frame synchronisation after an earlier framing error and can no
    /// longer be read.
    Broken,
    /// The message did not fit the buffer given to
    /// [`recv_bytes_into`](crate::Connection::recv_bytes_into); the whole message is here.
    BufferTooShort(Vec<u8>),
    /// An `offset`/`size` pair outside the buffer (Python's `ValueError`).
    OutOfRange,
    /// Reading from the write-only end of a simplex pipe.
    NotReadable,
    /// Writing to the read-only end of a simplex pipe.
    NotWritable,
    /// A typed message could not be encoded (including a value holding handles being sent
    /// over a connection that cannot carry them).
    Encode(multiproc_shm::handle::Error),
    /// A typed message could not be decoded, or its handles did not validate.
    Decode(multiproc_shm::handle::Error),
    /// A typed message's envelope is malformed: empty, or its handle count does not match the
    /// descriptors that came with it.
    Envelope(String),
    /// The value holds OS handles but the connection is not a Unix socket (TCP cannot carry
    /// descriptors).
    HandlesNeedUnixSocket,
    /// The authkey handshake failed (Python's `AuthenticationError`).
    #[doc(alias = "AuthenticationError")]
    Authentication(String),
    /// An address string that does not parse, or a family that cannot be used here.
    BadAddress(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Eof => f.write_str("connection closed by peer (end of stream)"),
            Error::TruncatedFrame { expected, received } => write!(
                f,
                "connection closed inside a message: got {received} of {expected} bytes"
            ),
            Error::FrameTooLong { len, max } => {
                write!(f, "message of {len} bytes exceeds the limit of {max} bytes")
            }
            Error::InvalidLength(n) => write!(f, "invalid frame length {n}"),
            Error::Broken => f.write_str("connection unusable after an earlier framing error"),
            Error::BufferTooShort(m) => {
                write!(f, "buffer too short for a message of {} bytes", m.len())
            }
            Error::OutOfRange => f.write_str("offset or size out of range"),
            Error::NotReadable => f.write_str("connection is write-only"),
            Error::NotWritable => f.write_str("connection is read-only"),
            Error::Encode(e) => write!(f, "cannot encode message: {e}"),
            Error::Decode(e) => write!(f, "cannot decode message: {e}"),
            Error::Envelope(m) => write!(f, "malformed message envelope: {m}"),
            Error::HandlesNeedUnixSocket => f.write_str(
                "message holds OS handles, which only a Unix-socket connection can carry",
            ),
            Error::Authentication(m) => write!(f, "authentication failed: {m}"),
            Error::BadAddress(m) => write!(f, "bad address: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Encode(e) | Error::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
