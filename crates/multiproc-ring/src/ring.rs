//! The public ring handle and its exclusive ends.

use crate::core::{Core, Held, Side};
use crate::{Error, Receiver, Sender, Writer};
use multiproc_sys::sync::Arc;
use std::fmt;
use std::time::{Duration, Instant};

/// How long an operation may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// Not at all for room or data (the side lock is still awaited: it is held only briefly).
    Try,
    /// Until the deadline, or forever with `None`.
    Until(Option<Instant>),
}

impl Wait {
    /// The deadline for waiting on the side lock (held only briefly: `Try` waits for it too).
    pub(crate) fn deadline(self) -> Option<Instant> {
        match self {
            Self::Try => None,
            Self::Until(d) => d,
        }
    }

    /// The deadline for waiting for room while streaming a long message.
    pub(crate) fn room_deadline(self) -> Option<Instant> {
        match self {
            Self::Try => Some(Instant::now()),
            Self::Until(d) => d,
        }
    }

    /// Maps a timeout of a `Try` operation to `Full`.
    pub(crate) fn full(self, e: Error) -> Error {
        match (self, e) {
            (Self::Try, Error::Timeout) => Error::Full,
            (_, e) => e,
        }
    }
}

fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// A bytes-in/bytes-out ring of variable-length messages in one shared-memory segment, for many
/// producers and many consumers in any processes that map it.
///
/// Cloning gives another handle to the same ring; a handle passes to a child process as a
/// `Process` argument (it serializes as its segment). Messages of any length up to 4 GiB are
/// accepted: one that does not fit in half the ring streams through it in pieces.
///
/// A producer or consumer killed at any instruction leaves no torn message visible, no stuck
/// lock (the next process to need the lock takes it over from the dead holder) and loses no
/// committed message. See the crate documentation for the layout and the guarantees.
///
/// # Examples
///
/// ```
/// use multiproc_ring::Ring;
///
/// let ring = Ring::new(4096)?;
/// ring.send(b"hello")?;
/// ring.send(b"world")?;
/// assert_eq!(ring.len(), 2);
/// assert_eq!(ring.recv()?, b"hello");
/// // Zero-copy: look at the bytes where they lie.
/// let n = ring.recv_with(None, |bytes| bytes.len())?;
/// assert_eq!(n, 5);
/// assert!(ring.is_empty());
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
#[derive(Clone)]
pub struct Ring {
    pub(crate) core: Arc<Core>,
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.core.cap)
            .field("max_items", &self.core.max_items)
            .field("len", &self.core.len())
            .field("closed", &self.core.is_closed())
            .finish()
    }
}

impl Ring {
    /// Creates a ring with a data area of `capacity` bytes (a power of two, 256 B to 1 GiB) in a
    /// new anonymous shared-memory segment, with no limit on the number of messages.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCapacity`] for a bad capacity, [`Error::Io`] when the segment cannot be
    /// created.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(1 << 20)?;
    /// assert_eq!(ring.capacity(), 1 << 20);
    /// assert!(multiproc_ring::Ring::new(1000).is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn new(capacity: usize) -> Result<Self, Error> {
        Self::with_limits(capacity, 0)
    }

    /// Like [`new`](Self::new), holding at most `max_items` messages at once (0 = no limit).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_ring::{Error, Ring};
    ///
    /// let ring = Ring::with_limits(4096, 1)?;
    /// ring.try_send(b"a")?;
    /// assert!(matches!(ring.try_send(b"b"), Err(Error::Full)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_limits(capacity: usize, max_items: u64) -> Result<Self, Error> {
        let cap = capacity as u64;
        crate::layout::check_capacity(cap)?;
        #[cfg(not(multiproc_loom))]
        let mem = {
            let shm =
                multiproc_shm::SharedMemory::anonymous(crate::layout::DATA_OFFSET + capacity)?;
            crate::mem::Mem::new(std::sync::Arc::new(shm))?
        };
        #[cfg(multiproc_loom)]
        let mem = crate::mem::Mem::heap(cap);
        Ok(Self {
            core: Arc::new(Core::create(mem, cap, max_items)?),
        })
    }

    /// Attaches to the ring that lives in `shm` (made by [`new`](Self::new) in this or another
    /// process), checking its header.
    ///
    /// # Errors
    ///
    /// [`Error::Attach`] or [`Error::Corrupt`] when the segment does not hold a valid ring.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_ring::Ring;
    ///
    /// let ring = Ring::new(4096)?;
    /// let again = Ring::from_shared_memory(ring.shared_memory().clone())?;
    /// ring.send(b"x")?;
    /// assert_eq!(again.recv()?, b"x");
    /// let blank = multiproc_shm::SharedMemory::anonymous(8192)?;
    /// assert!(Ring::from_shared_memory(std::sync::Arc::new(blank)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(not(multiproc_loom))]
    pub fn from_shared_memory(
        shm: std::sync::Arc<multiproc_shm::SharedMemory>,
    ) -> Result<Self, Error> {
        let mem = crate::mem::Mem::new(shm)?;
        Ok(Self {
            core: Arc::new(Core::attach(mem)?),
        })
    }

    /// The segment the ring lives in.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// assert!(ring.shared_memory().len() > 4096);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[cfg(not(multiproc_loom))]
    pub fn shared_memory(&self) -> &std::sync::Arc<multiproc_shm::SharedMemory> {
        self.core.mem.shm()
    }

    /// Size of the data area in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_ring::Ring::new(256)?.capacity(), 256);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        crate::mem::us(self.core.cap)
    }

    /// The message limit (0 = none).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_ring::Ring::with_limits(256, 3)?.max_items(), 3);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn max_items(&self) -> u64 {
        self.core.max_items
    }

    /// The longest message sent as one piece (longer ones stream through the ring).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_ring::Ring::new(1024)?.max_whole_len(), 504);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn max_whole_len(&self) -> usize {
        crate::mem::us(self.core.max_whole)
    }

    /// The exact number of messages committed and not yet taken (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send(b"")?;
    /// assert_eq!(ring.len(), 1);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        crate::mem::us(self.core.len())
    }

    /// Bytes of the data area in use: committed records not yet taken, including pieces of a
    /// message still being streamed.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send(b"abc")?; // an 8-byte header and 3 bytes, padded to 16
    /// assert_eq!(ring.used_bytes(), 16);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn used_bytes(&self) -> usize {
        crate::mem::us(self.core.used_bytes())
    }

    /// How many times a process took a side lock over from a holder that had died (a
    /// diagnostic: each one is a crash the ring recovered from).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_ring::Ring::new(256)?.lock_recoveries(), 0);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn lock_recoveries(&self) -> u32 {
        self.core.recoveries()
    }

    /// Whether no message is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_ring::Ring::new(256)?.is_empty());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.core.len() == 0
    }

    /// Closes the ring: sends fail with [`Error::Closed`] from now on, receivers drain what is
    /// left and then get [`Error::Closed`]. Every sleeper is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_ring::{Error, Ring};
    ///
    /// let ring = Ring::new(256)?;
    /// ring.send(b"last")?;
    /// ring.close();
    /// assert!(matches!(ring.send(b"more"), Err(Error::Closed)));
    /// assert_eq!(ring.recv()?, b"last");
    /// assert!(matches!(ring.recv(), Err(Error::Closed)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn close(&self) {
        self.core.close();
    }

    /// Whether [`close`](Self::close) was called (by any process).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.close();
    /// assert!(ring.is_closed());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Takes `side` for one operation; `claimed`: this handle is a `Sender`/`Receiver`, which
    /// holds its side for good.
    #[inline(always)]
    fn hold(&self, side: Side, claimed: bool, wait: Wait) -> Result<Held, Error> {
        if claimed {
            return Ok(Held::Claimed);
        }
        self.core
            .acquire(side, wait.deadline())
            .ok_or(Error::Timeout)
    }

    pub(crate) fn writer_inner(
        &self,
        len: u64,
        wait: Wait,
        claimed: bool,
    ) -> Result<Writer<'_>, Error> {
        let core = &*self.core;
        loop {
            let held = self.hold(Side::Prod, claimed, wait)?;
            match core.begin(len) {
                Ok(Ok(st)) => {
                    return Ok(Writer::new(core, st, len, wait.room_deadline(), held));
                }
                Ok(Err(head)) => {
                    core.release(Side::Prod, held);
                    match wait {
                        Wait::Try => return Err(Error::Full),
                        Wait::Until(d) => {
                            if !core.wait_space(head, d)? {
                                return Err(Error::Timeout);
                            }
                        }
                    }
                }
                Err(e) => {
                    core.release(Side::Prod, held);
                    return Err(e);
                }
            }
        }
    }

    /// Starts a message of exactly `len` bytes, to be filled with [`Writer::write`] and made
    /// visible by [`Writer::commit`]; waits for room until `deadline` (`None`: forever).
    /// Producers are locked out until the writer is committed or dropped (dropping it abandons
    /// the message).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::TooLarge`] (over 4 GiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// let mut w = ring.writer(6, None)?;
    /// w.write(b"foo")?;
    /// w.write(b"bar")?;
    /// w.commit()?;
    /// assert_eq!(ring.recv()?, b"foobar");
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn writer(&self, len: usize, deadline: Option<Instant>) -> Result<Writer<'_>, Error> {
        self.writer_inner(len as u64, Wait::Until(deadline), false)
    }

    /// Like [`writer`](Self::writer) without waiting for room.
    ///
    /// # Errors
    ///
    /// [`Error::Full`] when there is no room now; as [`writer`](Self::writer) otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// let mut w = ring.try_writer(1)?;
    /// w.write(b"z")?;
    /// w.commit()?;
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn try_writer(&self, len: usize) -> Result<Writer<'_>, Error> {
        self.writer_inner(len as u64, Wait::Try, false)
    }

    /// Sends `msg`; `claimed`: this handle is a `Sender`. The first try of a WHOLE record is
    /// inlined into the caller; waiting for room and streaming are not.
    #[inline(always)]
    pub(crate) fn send_inner(&self, msg: &[u8], wait: Wait, claimed: bool) -> Result<(), Error> {
        let core = &*self.core;
        if msg.len() as u64 > core.max_whole {
            return self.send_streamed(msg, wait, claimed);
        }
        let held = self.hold(Side::Prod, claimed, wait)?;
        let r = core.send_whole(msg, held.loud());
        core.release(Side::Prod, held);
        match r {
            Ok(Ok(())) => Ok(()),
            r => self.send_whole_again(msg, wait, claimed, r),
        }
    }

    /// [`send_inner`](Self::send_inner) for a WHOLE record after a try `r` that did not send
    /// it: reports an error, or waits for room and tries again.
    #[inline(never)]
    fn send_whole_again(
        &self,
        msg: &[u8],
        wait: Wait,
        claimed: bool,
        mut r: Result<Result<(), u64>, Error>,
    ) -> Result<(), Error> {
        let core = &*self.core;
        loop {
            match r? {
                Ok(()) => return Ok(()),
                Err(head) => match wait {
                    Wait::Try => return Err(Error::Full),
                    Wait::Until(d) => {
                        if !core.wait_space(head, d)? {
                            return Err(Error::Timeout);
                        }
                    }
                },
            }
            let held = self.hold(Side::Prod, claimed, wait)?;
            r = core.send_whole(msg, held.loud());
            core.release(Side::Prod, held);
        }
    }

    /// [`send_inner`](Self::send_inner) for a message longer than a WHOLE record.
    #[inline(never)]
    fn send_streamed(&self, msg: &[u8], wait: Wait, claimed: bool) -> Result<(), Error> {
        let mut w = self.writer_inner(msg.len() as u64, wait, claimed)?;
        w.write(msg).map_err(|e| wait.full(e))?;
        w.commit()
    }

    /// Sends `msg`, waiting as long as it takes for room.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.send(&[1, 2, 3])?;
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[inline]
    pub fn send(&self, msg: &[u8]) -> Result<(), Error> {
        self.send_inner(msg, Wait::Until(None), false)
    }

    /// Sends `msg`, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let ring = multiproc_ring::Ring::with_limits(256, 1)?;
    /// ring.send(b"a")?;
    /// let err = ring.send_timeout(b"b", Duration::from_millis(10)).unwrap_err();
    /// assert!(matches!(err, multiproc_ring::Error::Timeout));
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn send_timeout(&self, msg: &[u8], timeout: Duration) -> Result<(), Error> {
        self.send_inner(msg, Wait::Until(deadline_after(timeout)), false)
    }

    /// Sends `msg`, waiting for room until `deadline` (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send_deadline(b"x", Some(std::time::Instant::now()))?; // room now: no wait
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[inline]
    pub fn send_deadline(&self, msg: &[u8], deadline: Option<Instant>) -> Result<(), Error> {
        self.send_inner(msg, Wait::Until(deadline), false)
    }

    /// Sends `msg` if there is room now.
    ///
    /// # Errors
    ///
    /// [`Error::Full`], [`Error::Closed`], [`Error::TooLarge`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.try_send(&[0; 100])?;
    /// assert!(ring.try_send(&[0; 200]).is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[inline]
    pub fn try_send(&self, msg: &[u8]) -> Result<(), Error> {
        self.send_inner(msg, Wait::Try, false)
    }

    /// Takes the next message into `f`; `claimed`: this handle is a `Receiver`. The first try
    /// is inlined into the caller; waiting is not.
    #[inline(always)]
    pub(crate) fn recv_inner<R>(
        &self,
        wait: Wait,
        f: impl FnOnce(&[u8]) -> R,
        claimed: bool,
    ) -> Result<R, Error> {
        let mut f = Some(f);
        match self.take_once(&mut f, wait, claimed)? {
            Some(r) => Ok(r),
            None => self.recv_again(&mut f, wait, claimed),
        }
    }

    /// One look for a message under the consumer side: `Ok(None)` when the ring is empty.
    /// (`Try` waits for the side all the same: only an empty ring is reported at once.)
    #[inline(always)]
    fn take_once<R>(
        &self,
        f: &mut Option<impl FnOnce(&[u8]) -> R>,
        wait: Wait,
        claimed: bool,
    ) -> Result<Option<R>, Error> {
        let core = &*self.core;
        let held = self.hold(Side::Cons, claimed, wait)?;
        let guard = ConsGuard(core, held);
        let taken = core.take(f, held.loud());
        drop(guard);
        taken
    }

    /// [`recv_inner`](Self::recv_inner) after a look that found the ring empty: reports a
    /// closed or empty ring, or waits for a message and looks again.
    #[inline(never)]
    fn recv_again<R>(
        &self,
        f: &mut Option<impl FnOnce(&[u8]) -> R>,
        wait: Wait,
        claimed: bool,
    ) -> Result<R, Error> {
        let core = &*self.core;
        loop {
            if core.is_closed() && !core.has_data_hint() {
                return Err(Error::Closed);
            }
            match wait {
                Wait::Try => return Err(Error::Empty),
                Wait::Until(d) => {
                    if !core.wait_data(d)? {
                        return Err(Error::Timeout);
                    }
                }
            }
            if let Some(r) = self.take_once(f, wait, claimed)? {
                return Ok(r);
            }
        }
    }

    /// Takes the next message and calls `f` on its bytes where they lie in shared memory (no
    /// copy for a message sent in one piece), waiting until `deadline` (`None`: forever).
    ///
    /// Other consumers wait while `f` runs, so keep it short. If `f` panics the message counts
    /// as taken.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`] (closed and drained), [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// ring.send(&[1, 2, 3])?;
    /// let sum: u32 = ring.recv_with(None, |b| b.iter().map(|&x| u32::from(x)).sum())?;
    /// assert_eq!(sum, 6);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[inline]
    pub fn recv_with<R>(
        &self,
        deadline: Option<Instant>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        self.recv_inner(Wait::Until(deadline), f, false)
    }

    /// Like [`recv_with`](Self::recv_with) without waiting for a message.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// assert!(ring.try_recv_with(|b| b.len()).is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    #[inline]
    pub fn try_recv_with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
        self.recv_inner(Wait::Try, f, false)
    }

    /// Takes the next message, waiting as long as it takes.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] (closed and drained), [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send(b"x")?;
    /// assert_eq!(ring.recv()?, b"x");
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn recv(&self) -> Result<Vec<u8>, Error> {
        self.recv_inner(Wait::Until(None), <[u8]>::to_vec, false)
    }

    /// Takes the next message, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// assert!(ring.recv_timeout(Duration::from_millis(5)).is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Vec<u8>, Error> {
        self.recv_inner(Wait::Until(deadline_after(timeout)), <[u8]>::to_vec, false)
    }

    /// Takes the next message if there is one.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::Closed`], [`Error::Corrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// assert!(matches!(ring.try_recv(), Err(multiproc_ring::Error::Empty)));
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn try_recv(&self) -> Result<Vec<u8>, Error> {
        self.recv_inner(Wait::Try, <[u8]>::to_vec, false)
    }

    /// Marks one message as processed (the joinable-queue counter).
    ///
    /// # Errors
    ///
    /// [`Error::TooManyTaskDone`] when every message sent is already marked.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send(b"job")?;
    /// ring.recv()?;
    /// ring.task_done()?;
    /// assert!(ring.task_done().is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn task_done(&self) -> Result<(), Error> {
        self.core.task_done()
    }

    /// Messages sent and not yet marked with [`task_done`](Self::task_done).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.send(b"job")?;
    /// assert_eq!(ring.unfinished_tasks(), 1);
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn unfinished_tasks(&self) -> u64 {
        self.core.unfinished()
    }

    /// Waits until every message sent has been marked done, or `deadline` passes.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(256)?;
    /// ring.join(None)?; // nothing sent: returns at once
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn join(&self, deadline: Option<Instant>) -> Result<(), Error> {
        if self.core.join(deadline) {
            Ok(())
        } else {
            Err(Error::Timeout)
        }
    }

    /// Claims the producer side for this handle alone (the single-producer mode the pipe's
    /// shared-memory path uses): sends through the returned [`Sender`] take no lock.
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] if a live process holds the producer side (another `Sender`, or a send
    /// in progress).
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// let mut tx = ring.sender()?;
    /// assert!(ring.sender().is_err());
    /// tx.send(b"spsc")?;
    /// let mut rx = ring.receiver()?;
    /// assert_eq!(rx.recv()?, b"spsc");
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn sender(&self) -> Result<Sender, Error> {
        self.core.try_lock(Side::Prod).ok_or(Error::Busy)?;
        Ok(Sender::new(self.clone()))
    }

    /// Claims the consumer side for this handle alone: receives through the returned
    /// [`Receiver`] take no lock.
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] if a live process holds the consumer side.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = multiproc_ring::Ring::new(4096)?;
    /// let _rx = ring.receiver()?;
    /// assert!(ring.receiver().is_err());
    /// # Ok::<(), multiproc_ring::Error>(())
    /// ```
    pub fn receiver(&self) -> Result<Receiver, Error> {
        self.core.try_lock(Side::Cons).ok_or(Error::Busy)?;
        Ok(Receiver::new(self.clone()))
    }
}

/// Ends a consumer operation, also when the caller's callback unwinds.
struct ConsGuard<'a>(&'a Core, Held);

impl Drop for ConsGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.release(Side::Cons, self.1);
    }
}

#[cfg(not(multiproc_loom))]
impl serde::Serialize for Ring {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.core.mem.shm().serialize(s)
    }
}

#[cfg(not(multiproc_loom))]
impl<'de> serde::Deserialize<'de> for Ring {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let shm = multiproc_shm::SharedMemory::deserialize(d)?;
        Ring::from_shared_memory(std::sync::Arc::new(shm)).map_err(serde::de::Error::custom)
    }
}
