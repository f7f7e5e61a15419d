//! `Queue<T>`: Python's `multiprocessing.Queue` on a shared-memory ring.

use crate::error::{Error, GetError, PutError};
use multiproc_ring::{Error as RingError, Ring, Writer};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// The ring size [`Queue::new`] uses: 1 MiB (messages over 512 KiB stream through it).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// Values up to this many bytes are serialized on the stack first; larger ones are measured,
/// then serialized straight into the ring.
const SMALL: usize = 64;

/// How long a call may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    Try,
    Until(Option<Instant>),
}

pub(crate) fn after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// A multi-producer, multi-consumer FIFO queue of `T` between processes (Python's
/// `multiprocessing.Queue`).
///
/// Items are serialized with postcard inside [`put`](Self::put) itself (no feeder thread: an
/// error reaches the caller, and nothing needs flushing before exit) and live in a ring in one
/// shared-memory segment, so `get` needs no system call when an item is waiting. The queue is
/// `Clone` (same queue), `Send + Sync`, and `Serialize + Deserialize` through its segment, so it
/// passes to a child as a `Process` argument under every start method. Items from one producer
/// come out in the order they were put.
///
/// A process killed in the middle of `put` or `get` leaves no torn item behind, loses no item
/// that was put, and blocks nobody.
///
/// # Examples
///
/// ```
/// use multiproc_queue::Queue;
///
/// let q = Queue::new()?;
/// q.put(String::from("item 0"))?;
/// q.put(String::from("item 1"))?;
/// assert_eq!(q.qsize(), 2);
/// assert_eq!(q.get()?, "item 0");
/// assert_eq!(q.get()?, "item 1");
/// assert!(q.empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Queue<T> {
    ring: Ring,
    maxsize: usize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Self {
            ring: self.ring.clone(),
            maxsize: self.maxsize,
            _items: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &self.ring.len())
            .field("capacity", &self.ring.capacity())
            .field("closed", &self.ring.is_closed())
            .finish()
    }
}

/// A postcard output that writes straight into a ring message.
struct RingFlavor<'w, 'r> {
    writer: &'w mut Writer<'r>,
    err: Option<RingError>,
}

impl postcard::ser_flavors::Flavor for RingFlavor<'_, '_> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.writer.write(data).map_err(|e| {
            self.err = Some(e);
            postcard::Error::SerializeBufferFull
        })
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// A postcard output into a stack buffer for small values. postcard's own `Slice` flavor calls
/// `memcpy` for every field (a varint is one call of a few bytes), which was a fifth of a
/// `put` of a `u64`; short pieces are copied with fixed-size moves here instead.
struct Small {
    buf: [u8; SMALL],
    len: usize,
}

impl postcard::ser_flavors::Flavor for &mut Small {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let end = self.len + data.len();
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        copy_short(dst, data);
        self.len = end;
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        let slot = self
            .buf
            .get_mut(self.len)
            .ok_or(postcard::Error::SerializeBufferFull)?;
        *slot = data;
        self.len += 1;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// `dst.copy_from_slice(src)` for the few bytes of a varint or a short field, without a
/// `memcpy` call: byte moves (postcard writes a varint byte by byte, so a wider load from it
/// would stall on store forwarding), in a loop of fixed length that the compiler unrolls instead
/// of turning it back into a call.
#[inline]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    const SHORT: usize = 16;
    if src.len() > SHORT || dst.len() != src.len() {
        dst.copy_from_slice(src);
        return;
    }
    for i in 0..SHORT {
        if i < src.len() {
            dst[i] = src[i];
        }
    }
}

/// Serializes with postcard into a ring message (`Err` carries the precise reason).
#[inline]
fn encode_into_ring<T: Serialize>(ring: &Ring, value: &T, wait: Wait) -> Result<(), RingOrEncode> {
    let mut small = Small {
        buf: [0; SMALL],
        len: 0,
    };
    // Plain numbers and small structs of them first, then postcard's general path.
    if let Some(len) = crate::fixed::encode(value, &mut small.buf) {
        small.len = len;
    } else {
        match postcard::serialize_with_flavor(value, &mut small) {
            Ok(()) => {}
            Err(postcard::Error::SerializeBufferFull) => return encode_large(ring, value, wait),
            Err(_) => return Err(RingOrEncode::Encode(precise(value))),
        }
    }
    let bytes = &small.buf[..small.len];
    let r = match wait {
        Wait::Try => ring.try_send(bytes),
        Wait::Until(d) => ring.send_deadline(bytes, d),
    };
    r.map_err(RingOrEncode::Ring)
}

/// [`encode_into_ring`] for values over [`SMALL`] bytes: measured, then serialized straight
/// into the ring. Kept out of line so the small path stays lean.
#[inline(never)]
fn encode_large<T: Serialize>(ring: &Ring, value: &T, wait: Wait) -> Result<(), RingOrEncode> {
    let len = postcard::experimental::serialized_size(value)
        .map_err(|_| RingOrEncode::Encode(precise(value)))?;
    let mut w = match wait {
        Wait::Try => ring.try_writer(len)?,
        Wait::Until(d) => ring.writer(len, d)?,
    };
    let mut flavor = RingFlavor {
        writer: &mut w,
        err: None,
    };
    let out = postcard::serialize_with_flavor(value, &mut flavor);
    if let Some(e) = flavor.err.take() {
        return Err(RingOrEncode::Ring(match (wait, e) {
            (Wait::Try, RingError::Timeout) => RingError::Full,
            (_, e) => e,
        }));
    }
    if out.is_err() {
        return Err(RingOrEncode::Encode(precise(value)));
    }
    w.commit()?;
    Ok(())
}

/// Re-runs serialization through `multiproc_shm::handle::encode` to learn why it failed
/// (postcard drops custom messages; the handle module keeps them, e.g. "holds an OS handle").
#[cold]
fn precise<T: Serialize>(value: &T) -> multiproc_shm::handle::Error {
    match multiproc_shm::handle::encode(value) {
        Err(e) => e,
        Ok(_) => multiproc_shm::handle::Error::Encode(postcard::Error::SerializeBufferFull),
    }
}

impl<'w, 'r> postcard::ser_flavors::Flavor for &mut RingFlavor<'w, 'r> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        (**self).try_extend(data)
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        (**self).try_push(data)
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

enum RingOrEncode {
    Ring(RingError),
    Encode(multiproc_shm::handle::Error),
}

impl From<RingError> for RingOrEncode {
    fn from(e: RingError) -> Self {
        Self::Ring(e)
    }
}

impl<T> Queue<T> {
    /// Creates an unbounded queue (no item limit) over a 1 MiB ring (Python's `Queue()`).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] when the shared memory cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u64> = multiproc_queue::Queue::new()?;
    /// assert_eq!(q.maxsize(), 0);
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        Self::with_capacity(0, DEFAULT_CAPACITY)
    }

    /// Creates a queue holding at most `maxsize` items (0 = no limit) over a 1 MiB ring
    /// (Python's `Queue(maxsize)`).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::with_maxsize(4)?;
    /// q.put(true)?;
    /// assert!(!q.full());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_maxsize(maxsize: usize) -> Result<Self, Error> {
        Self::with_capacity(maxsize, DEFAULT_CAPACITY)
    }

    /// Creates a queue holding at most `maxsize` items (0 = no limit) in a ring of `bytes`
    /// bytes (a power of two from 256 B to 1 GiB). Items larger than half the ring still pass:
    /// they stream through it.
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] for a bad capacity or when the shared memory cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::with_capacity(0, 4096)?;
    /// let consumer = q.clone();
    /// let t = std::thread::spawn(move || consumer.get());
    /// q.put(vec![7u32; 10_000])?; // about 10 kB through a 4 kB ring, in pieces
    /// assert_eq!(t.join().unwrap()?.len(), 10_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_capacity(maxsize: usize, bytes: usize) -> Result<Self, Error> {
        Ok(Self {
            ring: Ring::with_limits(bytes, maxsize as u64)?,
            maxsize,
            _items: PhantomData,
        })
    }

    /// The queue over an existing ring (for example one received from another process).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::from_ring(ring);
    /// assert_eq!(q.capacity(), 4096);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn from_ring(ring: Ring) -> Self {
        let maxsize = usize::try_from(ring.max_items()).unwrap_or(usize::MAX);
        Self {
            ring,
            maxsize,
            _items: PhantomData,
        }
    }

    /// The ring underneath (its bytes API: `send`, `recv_with`...).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert!(q.ring().is_empty());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The item limit given at creation (0 = none).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::with_maxsize(3)?;
    /// assert_eq!(q.maxsize(), 3);
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// The ring's size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert_eq!(q.capacity(), 1 << 20);
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// The exact number of items in the queue (a snapshot; unlike CPython's it is never
    /// approximate and works everywhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put(1)?;
    /// assert_eq!(q.qsize(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn qsize(&self) -> usize {
        self.ring.len()
    }

    /// Whether the queue holds no item.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert!(q.empty());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether the queue holds `maxsize` items (always false without an item limit).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::with_maxsize(1)?;
    /// q.put(0u8)?;
    /// assert!(q.full());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn full(&self) -> bool {
        self.maxsize != 0 && self.ring.len() >= self.maxsize
    }

    /// Closes the queue for every process: `put` fails from now on; `get` returns what is left,
    /// then [`GetError::Closed`] (where CPython would block forever). Blocked callers wake up.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_queue::{GetError, Queue};
    ///
    /// let q = Queue::new()?;
    /// q.put(String::from("last"))?;
    /// q.close();
    /// assert!(q.put(String::from("more")).is_err());
    /// assert_eq!(q.get()?, "last");
    /// assert!(matches!(q.get(), Err(GetError::Closed)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) {
        self.ring.close();
    }

    /// Whether the queue was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert!(!q.is_closed());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// Does nothing: there is no feeder thread to wait for, because `put` writes the item into
    /// shared memory before it returns. Kept for CPython's `Queue.join_thread()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// q.join_thread();
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn join_thread(&self) {}

    /// Does nothing: a process may exit right after `put` without losing the item or blocking
    /// (no feeder thread, no buffered data). Kept for CPython's `Queue.cancel_join_thread()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// q.cancel_join_thread();
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn cancel_join_thread(&self) {}

    /// Puts raw bytes as one item (the bytes API; pair with [`get_bytes`](Self::get_bytes) or
    /// [`get_with`](Self::get_with)). Waits for room until `deadline` (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] (`Timeout`, `Closed`, `TooLarge`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<()> = multiproc_queue::Queue::new()?;
    /// q.put_bytes(b"raw", None)?;
    /// assert_eq!(q.get_bytes(None)?, b"raw");
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn put_bytes(&self, bytes: &[u8], deadline: Option<Instant>) -> Result<(), Error> {
        Ok(self.ring.send_deadline(bytes, deadline)?)
    }

    /// Takes the next item as raw bytes, waiting until `deadline` (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] (`Timeout`, `Closed`, `Corrupt`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put(300u16)?;
    /// assert_eq!(q.get_bytes(None)?, [0xac, 0x02]); // postcard's varint
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_bytes(&self, deadline: Option<Instant>) -> Result<Vec<u8>, Error> {
        Ok(self.ring.recv_with(deadline, <[u8]>::to_vec)?)
    }

    /// Takes the next item and runs `f` over its serialized bytes where they lie in shared
    /// memory (zero-copy), waiting until `deadline` (`None`: forever). Other consumers wait
    /// while `f` runs.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] on timeout, [`GetError::Closed`], [`GetError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put(String::from("héllo"))?;
    /// let n = q.get_with(None, |bytes| bytes.len())?;
    /// assert_eq!(n, 7); // a length byte and six UTF-8 bytes
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get_with<R>(
        &self,
        deadline: Option<Instant>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, GetError> {
        self.ring.recv_with(deadline, f).map_err(get_error)
    }
}

/// The decode error `get` recorded (there is always one when no value came out).
#[cold]
fn failed_or_unknown(failed: Option<multiproc_shm::handle::Error>) -> multiproc_shm::handle::Error {
    failed.unwrap_or(multiproc_shm::handle::Error::Decode(
        postcard::Error::DeserializeUnexpectedEnd,
    ))
}

/// Decodes again through the handle module, whose error says precisely what went wrong.
#[cold]
#[inline(never)]
fn decode_failed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, multiproc_shm::handle::Error> {
    multiproc_shm::handle::decode::<T>(bytes)
}

pub(crate) fn get_error(e: RingError) -> GetError {
    match e {
        RingError::Empty | RingError::Timeout => GetError::Empty,
        RingError::Closed => GetError::Closed,
        e => GetError::Failed(Error::from(e)),
    }
}

impl<T: Serialize> Queue<T> {
    pub(crate) fn put_inner(&self, value: T, wait: Wait) -> Result<(), PutError<T>> {
        match encode_into_ring(&self.ring, &value, wait) {
            Ok(()) => Ok(()),
            Err(RingOrEncode::Ring(RingError::Full | RingError::Timeout)) => {
                Err(PutError::Full(value))
            }
            Err(RingOrEncode::Ring(RingError::Closed)) => Err(PutError::Closed(value)),
            Err(RingOrEncode::Ring(e)) => Err(PutError::Failed(value, Error::from(e))),
            Err(RingOrEncode::Encode(e)) => Err(PutError::Failed(value, Error::Encode(e))),
        }
    }

    /// Puts `value` at the back of the queue, waiting as long as it takes for room.
    ///
    /// The value is serialized here, so a serialization error is returned to the caller
    /// (CPython reports it from a feeder thread). A value holding an OS handle is refused with
    /// [`Error::Encode`]: send such values through a `Pipe`.
    ///
    /// # Errors
    ///
    /// [`PutError::Closed`], [`PutError::Failed`]; the value comes back in both.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put((1, "two", [3.0f32]))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, value: T) -> Result<(), PutError<T>> {
        self.put_inner(value, Wait::Until(None))
    }

    /// Puts `value`, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] on timeout (Python's `Full`), [`PutError::Closed`],
    /// [`PutError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = multiproc_queue::Queue::with_maxsize(1)?;
    /// q.put(1)?;
    /// assert!(q.put_timeout(2, Duration::from_millis(10)).unwrap_err().is_full());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_timeout(&self, value: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_inner(value, Wait::Until(after(timeout)))
    }

    /// Puts `value` if there is room now.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`], [`PutError::Closed`], [`PutError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::with_maxsize(1)?;
    /// q.try_put('a')?;
    /// assert_eq!(q.try_put('b').unwrap_err().into_inner(), 'b');
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, value: T) -> Result<(), PutError<T>> {
        self.put_inner(value, Wait::Try)
    }

    /// Python's spelling of [`try_put`](Self::try_put).
    ///
    /// # Errors
    ///
    /// As [`try_put`](Self::try_put).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put_nowait(5)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_nowait(&self, value: T) -> Result<(), PutError<T>> {
        self.try_put(value)
    }
}

impl<T: Serialize> Queue<T> {
    /// Puts a borrowed value (no move, no clone: handy for large values), waiting for room
    /// until `deadline` (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`Error::Ring`] (`Timeout`, `Closed`...), [`Error::Encode`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// let big = vec![0u8; 100];
    /// q.put_ref(&big, None)?;
    /// assert_eq!(q.get()?.len(), 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_ref(&self, value: &T, deadline: Option<Instant>) -> Result<(), Error> {
        match encode_into_ring(&self.ring, value, Wait::Until(deadline)) {
            Ok(()) => Ok(()),
            Err(RingOrEncode::Ring(e)) => Err(Error::from(e)),
            Err(RingOrEncode::Encode(e)) => Err(Error::Encode(e)),
        }
    }
}

impl<T: DeserializeOwned> Queue<T> {
    #[inline]
    pub(crate) fn get_inner(&self, wait: Wait) -> Result<T, GetError> {
        // The fixed-shape path, then plain postcard; on failure, decode again through the
        // handle module, whose error says precisely what went wrong. The value leaves through
        // `out`, not through the ring's return path: a `Result<T, handle::Error>` (an enum with
        // drop glue) carried up through its layers cost a quarter of a `get` of a `u64`.
        let mut out: Option<T> = None;
        let mut failed: Option<multiproc_shm::handle::Error> = None;
        let decode = |bytes: &[u8]| {
            if let Some(v) = crate::fixed::decode::<T>(bytes) {
                out = Some(v);
                return;
            }
            match postcard::take_from_bytes::<T>(bytes) {
                Ok((v, [])) => out = Some(v),
                _ => match decode_failed::<T>(bytes) {
                    Ok(v) => out = Some(v),
                    Err(e) => failed = Some(e),
                },
            }
        };
        let r = match wait {
            Wait::Try => self.ring.try_recv_with(decode),
            Wait::Until(d) => self.ring.recv_with(d, decode),
        };
        r.map_err(get_error)?;
        out.ok_or_else(|| GetError::Failed(Error::Decode(failed_or_unknown(failed))))
    }

    /// Removes and returns the item at the front, waiting as long as it takes. The item is
    /// decoded straight from shared memory.
    ///
    /// # Errors
    ///
    /// [`GetError::Closed`] once the queue is closed and drained, [`GetError::Failed`] when the
    /// bytes do not decode as `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put(vec![1, 2])?;
    /// assert_eq!(q.get()?, vec![1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.get_inner(Wait::Until(None))
    }

    /// Removes and returns the front item, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] on timeout (Python's `Empty`), [`GetError::Closed`],
    /// [`GetError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert!(q.get_timeout(Duration::from_millis(10)).unwrap_err().is_empty());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_inner(Wait::Until(after(timeout)))
    }

    /// Removes and returns the front item if there is one.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], [`GetError::Closed`], [`GetError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let q = multiproc_queue::Queue::new()?;
    /// q.put(1u8)?;
    /// assert_eq!(q.try_get()?, 1);
    /// assert!(q.try_get().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_inner(Wait::Try)
    }

    /// Python's spelling of [`try_get`](Self::try_get).
    ///
    /// # Errors
    ///
    /// As [`try_get`](Self::try_get).
    ///
    /// # Examples
    ///
    /// ```
    /// let q: multiproc_queue::Queue<u8> = multiproc_queue::Queue::new()?;
    /// assert!(q.get_nowait().is_err());
    /// # Ok::<(), multiproc_queue::Error>(())
    /// ```
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.try_get()
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.ring.serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_ring(Ring::deserialize(d)?))
    }
}
