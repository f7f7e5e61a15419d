//! Handle transfer: how a value that owns OS handles (file descriptors) crosses a process
//! boundary.
//!
//! A value is serialized with [postcard]; every file descriptor inside it is *not* written into
//! the bytes. Instead the fd is duplicated into a side table that travels next to the bytes (as
//! `SCM_RIGHTS` ancillary data on a Unix socket), and the bytes carry the fd's index in that
//! table (one fd referenced several times travels once). On the receiving side the table is
//! handed back to deserialization, which validates every index: an index out of range is an
//! error, and every reference gets a descriptor of its own, so nothing is ever closed twice.
//! Descriptors the message did not use are closed.
//!
//! fd-backed types (a [`SharedMemory`](crate::SharedMemory) segment, a pipe `Connection`, a
//! lock, a queue) implement `Serialize`/`Deserialize` through [`fd::serialize`] and
//! [`fd::deserialize`], or hold a [`Handle`]. Serializing such a value anywhere else than inside
//! [`encode_with_handles`] fails with [`Error::NotTransferable`], whose message says where
//! handles can go: so a value holding an fd put into the shared-memory `Queue` is refused at
//! `put`, not silently lost.
//!
//! # Examples
//!
//! ```
//! use multiproc_shm::handle::{Handle, decode_with_handles, encode_with_handles};
//! use std::os::fd::OwnedFd;
//!
//! let file: OwnedFd = std::fs::File::open("/dev/null")?.into();
//! let (bytes, fds) = encode_with_handles(&("greeting", Handle::new(file)))?;
//! assert_eq!(fds.len(), 1);
//! // ... bytes and fds cross the boundary (the pipe crate does that with SCM_RIGHTS) ...
//! let (text, handle): (String, Handle) = decode_with_handles(&bytes, fds)?;
//! assert_eq!(text, "greeting");
//! let _fd: OwnedFd = handle.into_inner();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The most descriptors one message may carry (the kernel's own `SCM_MAX_FD` is 253).
pub const MAX_HANDLES: usize = 253;

/// What went wrong while encoding or decoding a value with handles.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The value holds an OS handle but is being serialized where handles cannot travel.
    NotTransferable,
    /// A message referred to a handle index that its table does not have.
    BadIndex {
        /// The index found in the message.
        index: u32,
        /// How many handles came with the message.
        available: usize,
    },
    /// More than [`MAX_HANDLES`] handles in one message.
    TooManyHandles(usize),
    /// Duplicating a descriptor failed.
    Dup(std::io::Error),
    /// postcard could not encode the value.
    Encode(postcard::Error),
    /// The bytes do not decode as the expected type.
    Decode(postcard::Error),
    /// The value decoded but bytes were left over: the message is not of the expected type.
    TrailingBytes(usize),
    /// A type's own validation refused the value (see [`custom_de_error`]).
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotTransferable => f.write_str(
                "value holds an OS handle (file descriptor), which cannot travel this way; \
                 send it through a Pipe/Connection or pass it as a Process argument",
            ),
            Error::BadIndex { index, available } => write!(
                f,
                "message refers to handle #{index} but carried only {available} handle(s)"
            ),
            Error::TooManyHandles(n) => write!(
                f,
                "message carries {n} handles, more than the limit of {MAX_HANDLES}"
            ),
            Error::Dup(e) => write!(f, "cannot duplicate a file descriptor: {e}"),
            Error::Encode(e) => write!(f, "cannot serialize value: {e}"),
            Error::Decode(e) => write!(f, "cannot deserialize value: {e}"),
            Error::Invalid(msg) => write!(f, "invalid value: {msg}"),
            Error::TrailingBytes(n) => {
                write!(f, "{n} unexpected trailing byte(s) after the decoded value")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Dup(e) => Some(e),
            Error::Encode(e) | Error::Decode(e) => Some(e),
            _ => None,
        }
    }
}

enum Context {
    /// The table being built, and the raw fd each entry was duplicated from (so that one fd
    /// referenced many times travels once).
    Encode(Vec<OwnedFd>, Vec<i32>),
    /// The received table. Every reference gets its own duplicate of the entry, so one fd may be
    /// referenced many times; the table itself is closed when decoding ends.
    Decode(Vec<OwnedFd>),
}

thread_local! {
    /// The side table of the encode or decode running on this thread, if any.
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
    /// The precise error behind the last serde "custom" error raised by this module.
    static DETAIL: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Installs `ctx` for the duration of `f`, restoring whatever was installed before (even if `f`
/// panics), and returns `f`'s result with the context's final state.
fn with_context<R>(ctx: Context, f: impl FnOnce() -> R) -> (R, Context) {
    struct Restore(Option<Option<Context>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(prev) = self.0.take() {
                CONTEXT.with(|c| *c.borrow_mut() = prev);
            }
        }
    }
    let prev = CONTEXT.with(|c| c.borrow_mut().replace(ctx));
    let restore = Restore(Some(prev));
    DETAIL.with(|d| d.borrow_mut().take());
    let out = f();
    let ctx = CONTEXT.with(|c| c.borrow_mut().take());
    drop(restore);
    (out, ctx.unwrap_or(Context::Encode(Vec::new(), Vec::new())))
}

/// Runs `f` with no side table installed (restoring any outer one afterwards, even on panic),
/// so that a handle met by `f` is refused with [`Error::NotTransferable`].
fn without_handles<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Context>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            CONTEXT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let _restore = Restore(CONTEXT.with(|c| c.borrow_mut().take()));
    DETAIL.with(|d| d.borrow_mut().take());
    f()
}

fn fail(err: Error) -> String {
    let msg = err.to_string();
    DETAIL.with(|d| *d.borrow_mut() = Some(err));
    msg
}

/// Maps a postcard error to ours, preferring the detail recorded by [`fd`] helpers.
fn refine(e: postcard::Error, decode: bool) -> Error {
    match e {
        postcard::Error::SerdeSerCustom | postcard::Error::SerdeDeCustom => {
            if let Some(detail) = DETAIL.with(|d| d.borrow_mut().take()) {
                return detail;
            }
            if decode {
                Error::Decode(e)
            } else {
                Error::Encode(e)
            }
        }
        e if decode => Error::Decode(e),
        e => Error::Encode(e),
    }
}

/// Serializes `value` with postcard, moving duplicates of every fd it holds into a side table.
///
/// # Errors
///
/// [`Error::Encode`] if the value cannot be serialized, [`Error::Dup`] if a descriptor cannot be
/// duplicated, [`Error::TooManyHandles`] past [`MAX_HANDLES`].
///
/// # Examples
///
/// ```
/// let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&vec![1u8, 2, 3])?;
/// assert!(fds.is_empty());
/// assert_eq!(bytes, [3, 1, 2, 3]);
/// # Ok::<(), multiproc_shm::handle::Error>(())
/// ```
pub fn encode_with_handles<T: Serialize + ?Sized>(
    value: &T,
) -> Result<(Vec<u8>, Vec<OwnedFd>), Error> {
    let (out, ctx) = with_context(Context::Encode(Vec::new(), Vec::new()), || {
        postcard::to_stdvec(value)
    });
    let bytes = out.map_err(|e| refine(e, false))?;
    match ctx {
        Context::Encode(fds, _) if fds.len() > MAX_HANDLES => Err(Error::TooManyHandles(fds.len())),
        Context::Encode(fds, _) => Ok((bytes, fds)),
        Context::Decode(..) => Ok((bytes, Vec::new())),
    }
}

/// Deserializes a `T` from postcard `bytes`, handing it the descriptors in `fds` by index.
///
/// Every byte must be consumed and every index is checked against the table. An index used more
/// than once (one fd shared by several values) yields a duplicate each time after the first.
/// Descriptors the value did not claim are closed.
///
/// # Errors
///
/// [`Error::Decode`] for bytes that are not a `T`, [`Error::TrailingBytes`],
/// [`Error::BadIndex`], [`Error::Dup`], [`Error::TooManyHandles`].
///
/// # Examples
///
/// ```
/// let v: Vec<u8> = multiproc_shm::handle::decode_with_handles(&[3, 1, 2, 3], Vec::new())?;
/// assert_eq!(v, [1, 2, 3]);
/// // A hostile length is an error, not an allocation.
/// assert!(multiproc_shm::handle::decode_with_handles::<Vec<u8>>(&[0xff, 0xff, 0xff, 0x7f], Vec::new()).is_err());
/// # Ok::<(), multiproc_shm::handle::Error>(())
/// ```
pub fn decode_with_handles<T: DeserializeOwned>(
    bytes: &[u8],
    fds: Vec<OwnedFd>,
) -> Result<T, Error> {
    if fds.len() > MAX_HANDLES {
        return Err(Error::TooManyHandles(fds.len()));
    }
    let (out, _table) = with_context(Context::Decode(fds), || {
        postcard::take_from_bytes::<T>(bytes)
    });
    let (value, rest) = out.map_err(|e| refine(e, true))?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes(rest.len()));
    }
    Ok(value)
}

/// Serializes `value` with postcard where no handles may travel (shared-memory queues, manager
/// values).
///
/// # Errors
///
/// [`Error::NotTransferable`] if the value holds a handle; [`Error::Encode`] otherwise.
///
/// # Examples
///
/// ```
/// use multiproc_shm::handle::{Error, Handle, encode};
///
/// assert_eq!(encode(&7u32)?, [7]);
/// let fd: std::os::fd::OwnedFd = std::fs::File::open("/dev/null")?.into();
/// assert!(matches!(encode(&Handle::new(fd)), Err(Error::NotTransferable)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    without_handles(|| postcard::to_stdvec(value)).map_err(|e| refine(e, false))
}

/// Like [`encode`] but appends to `buf` (reusing its allocation).
///
/// # Errors
///
/// As [`encode`].
///
/// # Examples
///
/// ```
/// let mut buf = Vec::new();
/// multiproc_shm::handle::encode_into(&(1u8, 2u8), &mut buf)?;
/// assert_eq!(buf, [1, 2]);
/// # Ok::<(), multiproc_shm::handle::Error>(())
/// ```
pub fn encode_into<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) -> Result<(), Error> {
    let taken = std::mem::take(buf);
    *buf = without_handles(|| postcard::to_extend(value, taken)).map_err(|e| refine(e, false))?;
    Ok(())
}

/// Deserializes a handle-free `T` from postcard `bytes`, requiring every byte to be consumed.
///
/// # Errors
///
/// [`Error::Decode`], [`Error::TrailingBytes`], or [`Error::NotTransferable`] if `T` expects a
/// handle.
///
/// # Examples
///
/// ```
/// let v: (u8, u8) = multiproc_shm::handle::decode(&[1, 2])?;
/// assert_eq!(v, (1, 2));
/// assert!(multiproc_shm::handle::decode::<(u8, u8)>(&[1, 2, 3]).is_err());
/// # Ok::<(), multiproc_shm::handle::Error>(())
/// ```
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let (value, rest) =
        without_handles(|| postcard::take_from_bytes::<T>(bytes)).map_err(|e| refine(e, true))?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes(rest.len()));
    }
    Ok(value)
}

/// A serde error for a `Deserialize` impl that keeps its message through postcard (whose own
/// error type drops custom messages): decoding then fails with [`Error::Invalid`].
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Deserializer};
///
/// #[derive(Debug)]
/// struct Even(u8);
/// impl<'de> Deserialize<'de> for Even {
///     fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
///         let v = u8::deserialize(d)?;
///         if v % 2 == 1 {
///             return Err(multiproc_shm::handle::custom_de_error::<D>(format!("{v} is odd")));
///         }
///         Ok(Even(v))
///     }
/// }
/// let err = multiproc_shm::handle::decode::<Even>(&[3]).unwrap_err();
/// assert_eq!(err.to_string(), "invalid value: 3 is odd");
/// ```
pub fn custom_de_error<'de, D: Deserializer<'de>>(msg: impl fmt::Display) -> D::Error {
    serde::de::Error::custom(fail(Error::Invalid(msg.to_string())))
}

/// The serializing counterpart of [`custom_de_error`].
///
/// # Examples
///
/// ```
/// use serde::{Serialize, Serializer};
///
/// struct Never;
/// impl Serialize for Never {
///     fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
///         Err(multiproc_shm::handle::custom_ser_error::<S>("never serializable"))
///     }
/// }
/// let err = multiproc_shm::handle::encode(&Never).unwrap_err();
/// assert_eq!(err.to_string(), "invalid value: never serializable");
/// ```
pub fn custom_ser_error<S: Serializer>(msg: impl fmt::Display) -> S::Error {
    serde::ser::Error::custom(fail(Error::Invalid(msg.to_string())))
}

/// Serde helpers for an `OwnedFd` field: `#[serde(with = "multiproc_shm::handle::fd")]`.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use std::os::fd::OwnedFd;
///
/// #[derive(Serialize, Deserialize)]
/// struct Device {
///     #[serde(with = "multiproc_shm::handle::fd")]
///     fd: OwnedFd,
///     label: String,
/// }
///
/// let dev = Device { fd: std::fs::File::open("/dev/null")?.into(), label: "null".into() };
/// let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&dev)?;
/// let back: Device = multiproc_shm::handle::decode_with_handles(&bytes, fds)?;
/// assert_eq!(back.label, "null");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod fd {
    use super::*;

    /// Serializes a borrowed descriptor as an index into the current side table.
    ///
    /// # Errors
    ///
    /// Outside [`encode_with_handles`], fails with
    /// [`Error::NotTransferable`].
    ///
    /// # Examples
    ///
    /// See the [module](self) documentation.
    pub fn serialize_borrowed<S: Serializer>(fd: BorrowedFd<'_>, s: S) -> Result<S::Ok, S::Error> {
        use std::os::fd::AsRawFd;
        let index = CONTEXT.with(|c| match c.borrow_mut().as_mut() {
            Some(Context::Encode(table, sources)) => {
                let raw = fd.as_raw_fd();
                if let Some(i) = sources.iter().position(|&r| r == raw) {
                    // The table holds at most MAX_HANDLES (253) entries, so the index fits.
                    return u32::try_from(i).map_err(|_| fail(Error::TooManyHandles(i)));
                }
                if table.len() >= MAX_HANDLES {
                    return Err(fail(Error::TooManyHandles(table.len() + 1)));
                }
                let dup = fd.try_clone_to_owned().map_err(|e| fail(Error::Dup(e)))?;
                table.push(dup);
                sources.push(raw);
                u32::try_from(table.len() - 1).map_err(|_| fail(Error::TooManyHandles(table.len())))
            }
            _ => Err(fail(Error::NotTransferable)),
        });
        match index {
            Ok(i) => s.serialize_u32(i),
            Err(msg) => Err(serde::ser::Error::custom(msg)),
        }
    }

    /// Serializes an owned descriptor (a duplicate travels; `fd` stays open here).
    ///
    /// # Errors
    ///
    /// As [`serialize_borrowed`].
    ///
    /// # Examples
    ///
    /// See the [module](self) documentation.
    pub fn serialize<S: Serializer>(fd: &OwnedFd, s: S) -> Result<S::Ok, S::Error> {
        serialize_borrowed(fd.as_fd(), s)
    }

    /// Deserializes a descriptor: reads its index and takes it out of the current side table.
    ///
    /// # Errors
    ///
    /// An index out of range, or no side table (the value was not sent with handles).
    ///
    /// # Examples
    ///
    /// See the [module](self) documentation.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedFd, D::Error> {
        let index = u32::deserialize(d)?;
        let taken = CONTEXT.with(|c| match c.borrow_mut().as_ref() {
            Some(Context::Decode(table)) => match table.get(index as usize) {
                None => Err(fail(Error::BadIndex {
                    index,
                    available: table.len(),
                })),
                Some(fd) => fd.try_clone().map_err(|e| fail(Error::Dup(e))),
            },
            _ => Err(fail(Error::NotTransferable)),
        });
        taken.map_err(serde::de::Error::custom)
    }
}

/// An owned file descriptor that can be sent inside a message, the Rust face of CPython's
/// `multiprocessing.reduction.send_handle`/`recv_handle` and `DupFd`.
///
/// # Examples
///
/// ```
/// use multiproc_shm::handle::Handle;
///
/// let h = Handle::new(std::fs::File::open("/dev/null")?.into());
/// let file = std::fs::File::from(h.into_inner());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Handle(OwnedFd);

impl Handle {
    /// Wraps a descriptor.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = multiproc_shm::handle::Handle::new(std::fs::File::open("/dev/null")?.into());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(fd: OwnedFd) -> Self {
        Handle(fd)
    }

    /// Unwraps the descriptor.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = multiproc_shm::handle::Handle::new(std::fs::File::open("/dev/null")?.into());
    /// let fd: std::os::fd::OwnedFd = h.into_inner();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> OwnedFd {
        self.0
    }
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl From<OwnedFd> for Handle {
    fn from(fd: OwnedFd) -> Self {
        Handle(fd)
    }
}

impl Serialize for Handle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fd::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fd::deserialize(d).map(Handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn devnull() -> OwnedFd {
        std::fs::File::open("/dev/null").unwrap().into()
    }

    #[test]
    fn round_trip_two_handles() {
        let v = (Handle::new(devnull()), 5u8, Handle::new(devnull()));
        let (bytes, fds) = encode_with_handles(&v).unwrap();
        assert_eq!(fds.len(), 2);
        let back: (Handle, u8, Handle) = decode_with_handles(&bytes, fds).unwrap();
        assert_eq!(back.1, 5);
    }

    #[test]
    fn bad_indices_are_errors_and_shared_ones_are_duplicated() {
        // Index 1 with a table of one.
        let err = decode_with_handles::<Handle>(&[1], vec![devnull()]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::BadIndex {
                    index: 1,
                    available: 1
                }
            ),
            "{err}"
        );
        // Index 0 twice: two distinct descriptors for the same file.
        let (a, b) = decode_with_handles::<(Handle, Handle)>(&[0, 0], vec![devnull()]).unwrap();
        assert_ne!(a.as_fd().as_raw_fd(), b.as_fd().as_raw_fd());
        // No table at all.
        let err = decode::<Handle>(&[0]).unwrap_err();
        assert!(matches!(err, Error::NotTransferable), "{err}");
    }

    #[test]
    fn refused_where_handles_cannot_travel() {
        let err = encode(&vec![Handle::new(devnull())]).unwrap_err();
        assert!(err.to_string().contains("Pipe"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        assert!(matches!(
            decode_with_handles::<u8>(&[1, 2], Vec::new()),
            Err(Error::TrailingBytes(1))
        ));
    }

    #[test]
    fn one_fd_referenced_twice_travels_once() {
        let h = Handle::new(devnull());
        let (bytes, fds) = encode_with_handles(&(&h, &h)).unwrap();
        assert_eq!(fds.len(), 1);
        assert_eq!(bytes, [0, 0]);
    }

    #[test]
    fn nested_encode_restores_context() {
        struct Outer;
        impl Serialize for Outer {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // A nested plain encode inside a handle-carrying one must not see the table.
                let inner = encode(&1u8).map_err(serde::ser::Error::custom)?;
                let h = Handle::new(std::fs::File::open("/dev/null").unwrap().into());
                (inner, h).serialize(s)
            }
        }
        let (_, fds) = encode_with_handles(&Outer).unwrap();
        assert_eq!(fds.len(), 1);
    }
}
