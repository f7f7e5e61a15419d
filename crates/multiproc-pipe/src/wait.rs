//! [`wait`] over many connections and descriptors.

use crate::connection::Connection;
use crate::error::Result;
use multiproc_sys::fd::{self as sysfd, Interest};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// Something [`wait`] can wait on: a descriptor that becomes readable when the object is
/// ready (a [`Connection`] with a message or end of stream, a pidfd whose process exited...).
///
/// # Examples
///
/// ```
/// use multiproc_pipe::Waitable;
/// use std::os::fd::{AsFd, BorrowedFd};
///
/// struct Sentinel(std::os::fd::OwnedFd);
/// impl Waitable for Sentinel {
///     fn wait_fd(&self) -> BorrowedFd<'_> {
///         self.0.as_fd()
///     }
/// }
/// ```
pub trait Waitable {
    /// The descriptor that polls readable when the object is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pipe::Waitable;
    /// let (a, _b) = multiproc_pipe::pipe(true)?;
    /// let fd = a.wait_fd();
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    fn wait_fd(&self) -> BorrowedFd<'_>;

    /// Whether the object is ready already, whatever its descriptor says (a connection with
    /// buffered bytes). The default says no.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pipe::Waitable;
    /// let (a, _b) = multiproc_pipe::pipe(true)?;
    /// assert!(!a.ready_now());
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    fn ready_now(&self) -> bool {
        false
    }
}

impl Waitable for Connection {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }

    fn ready_now(&self) -> bool {
        self.has_buffered()
    }
}

impl Waitable for OwnedFd {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

impl Waitable for BorrowedFd<'_> {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        *self
    }
}

impl Waitable for std::fs::File {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

impl Waitable for std::os::unix::net::UnixStream {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

impl Waitable for std::net::TcpStream {
    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }
}

/// Waits until at least one of `objects` is ready or `timeout` passes, and returns the ready
/// ones in their original order (empty on timeout): Python's
/// `multiprocessing.connection.wait(object_list, timeout)`.
///
/// `None` waits forever. Nothing is consumed. A connection whose peer has closed counts as
/// ready (its `recv` reports end of stream). Mix kinds with `&dyn Waitable`.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) from `poll(2)`.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::{pipe, wait};
/// use std::time::Duration;
///
/// let (a1, b1) = pipe(true)?;
/// let (a2, b2) = pipe(true)?;
/// a2.send_bytes(b"second")?;
/// let ready = wait(&[&b1, &b2], Some(Duration::from_secs(5)))?;
/// assert_eq!(ready.len(), 1);
/// assert!(std::ptr::eq(ready[0], &b2));
/// assert!(wait(&[&b1], Some(Duration::ZERO))?.is_empty());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn wait<'a, W: Waitable + ?Sized>(
    objects: &[&'a W],
    timeout: Option<Duration>,
) -> Result<Vec<&'a W>> {
    let early: Vec<&'a W> = objects.iter().copied().filter(|o| o.ready_now()).collect();
    if !early.is_empty() {
        return Ok(early);
    }
    let fds: Vec<(BorrowedFd<'_>, Interest)> = objects
        .iter()
        .map(|o| (o.wait_fd(), Interest::Read))
        .collect();
    let mut ready = vec![false; fds.len()];
    let deadline = timeout.map(|t| Instant::now() + t);
    sysfd::poll(&fds, &mut ready, deadline)?;
    Ok(objects
        .iter()
        .zip(ready)
        .filter_map(|(o, r)| r.then_some(*o))
        .collect())
}
