//! File descriptors and sockets: socketpairs, `SCM_RIGHTS` fd passing, `poll`, close-on-exec.
//!
//! Thin safe wrappers over [`rustix`]: every function names the C call it makes, links its man
//! page, and retries `EINTR` where a retry is the only sensible answer.
//!
//! # Examples
//!
//! ```
//! use multiproc_sys::fd::{recv_with_fds, send_with_fds, socketpair};
//! use std::io::IoSlice;
//! use std::os::fd::AsFd;
//!
//! let (a, b) = socketpair()?;
//! let (spare, _other) = socketpair()?;
//! send_with_fds(&a, &[IoSlice::new(b"hi")], &[spare.as_fd()])?;
//! let mut buf = [0u8; 8];
//! let mut fds = Vec::new();
//! let got = recv_with_fds(&b, &mut buf, &mut fds)?;
//! assert_eq!(&buf[..got.bytes], b"hi");
//! assert_eq!(fds.len(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```

use rustix::event::{PollFd, PollFlags};
use rustix::io::{Errno, FdFlags};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags,
    SendAncillaryBuffer, SendAncillaryMessage, SendFlags, Shutdown, SocketFlags, SocketType,
};
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

/// The most file descriptors accepted with one message.
///
/// [`recv_with_fds`] reserves room for this many; the kernel discards (closes) any further
/// descriptors of the same message and reports the truncation in [`Received::truncated`].
/// This is the kernel's own `SCM_MAX_FD`; senders are refused above it.
pub const MAX_FDS_PER_MESSAGE: usize = 253;

const CMSG_SPACE: usize = rustix::cmsg_space!(ScmRights(MAX_FDS_PER_MESSAGE));

/// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)`—creates a connected pair of Unix
/// stream sockets.
///
/// Both ends are close-on-exec and blocking.
///
/// # Errors
///
/// Any error of `socketpair(2)`, such as `EMFILE` when the process is out of descriptors.
///
/// # Examples
///
/// ```
/// let (a, b) = multiproc_sys::fd::socketpair()?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/socketpair.2.html)
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)`—creates a connected pair of Unix
/// sockets that keep message boundaries.
///
/// Used as a side channel for descriptors next to a byte stream that cannot carry them.
///
/// # Errors
///
/// Any error of `socketpair(2)`.
///
/// # Examples
///
/// ```
/// let (a, b) = multiproc_sys::fd::seqpacket_pair()?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [socketpair(2)](https://man7.org/linux/man-pages/man2/socketpair.2.html)
///  - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "SOCK_SEQPACKET")]
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// `pipe2(O_CLOEXEC)`—creates a unidirectional pipe, returning `(read_end, write_end)`.
///
/// # Errors
///
/// Any error of `pipe2(2)`.
///
/// # Examples
///
/// ```
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pipe.2.html)
#[doc(alias = "pipe2")]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// `fcntl(fd, F_SETPIPE_SZ, size)`—asks for a pipe buffer of at least `size` bytes, returning
/// the size granted.
///
/// Unprivileged processes are limited by `/proc/sys/fs/pipe-max-size` (1 MiB by default) and by
/// the per-user `pipe-user-pages-soft` budget.
///
/// # Errors
///
/// Any error of `fcntl(2)` (`EPERM` above the limits, `EBUSY` if the pipe holds more data).
///
/// # Examples
///
/// ```
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// assert!(multiproc_sys::fd::set_pipe_size(&w, 128 * 1024)? >= 128 * 1024);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
///  - [pipe(7)](https://man7.org/linux/man-pages/man7/pipe.7.html)
#[doc(alias = "F_SETPIPE_SZ")]
pub fn set_pipe_size<Fd: AsFd>(fd: Fd, size: usize) -> io::Result<usize> {
    Ok(rustix::pipe::fcntl_setpipe_size(fd, size)?)
}

/// `sendmsg(fd, iov, SCM_RIGHTS, MSG_NOSIGNAL)`—sends the bytes of `bufs` and, with them, the
/// descriptors `fds`.
///
/// The descriptors ride on the first byte sent; on a stream socket the call may send fewer
/// bytes than asked (the count is returned), and the caller sends the rest with plain
/// [`send_with_fds`] calls and an empty `fds`. `EINTR` is retried. A closed peer gives `EPIPE`
/// (never `SIGPIPE`).
///
/// # Errors
///
/// `InvalidInput` if `fds` holds more than [`MAX_FDS_PER_MESSAGE`] descriptors; otherwise any
/// error of `sendmsg(2)` (`EPIPE`, `ENOTSOCK`, `EOPNOTSUPP` for descriptors over TCP, ...).
///
/// # Examples
///
/// ```
/// use std::io::IoSlice;
/// let (a, b) = multiproc_sys::fd::socketpair()?;
/// let n = multiproc_sys::fd::send_with_fds(&a, &[IoSlice::new(b"ab"), IoSlice::new(b"c")], &[])?;
/// assert_eq!(n, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [sendmsg(2)](https://man7.org/linux/man-pages/man2/sendmsg.2.html)
///  - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "sendmsg")]
#[doc(alias = "SCM_RIGHTS")]
pub fn send_with_fds<Fd: AsFd>(
    sock: Fd,
    bufs: &[IoSlice<'_>],
    fds: &[BorrowedFd<'_>],
) -> io::Result<usize> {
    if fds.len() > MAX_FDS_PER_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many file descriptors for one message",
        ));
    }
    let mut space = [MaybeUninit::<u8>::uninit(); CMSG_SPACE];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "control buffer too small for the file descriptors",
        ));
    }
    loop {
        match rustix::net::sendmsg(sock.as_fd(), bufs, &mut control, SendFlags::NOSIGNAL) {
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// What one [`recv_with_fds`] call received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// Bytes written to the buffer; `0` means end of stream (when the buffer was not empty).
    pub bytes: usize,
    /// Number of descriptors appended to the caller's vector.
    pub fds: usize,
    /// The peer sent more descriptors than fit ([`MAX_FDS_PER_MESSAGE`]); the kernel closed
    /// the rest.
    pub truncated: bool,
}

/// `recvmsg(fd, buf, SCM_RIGHTS, MSG_CMSG_CLOEXEC)`—receives bytes and any descriptors that
/// came with them.
///
/// Received descriptors are close-on-exec and appended to `fds`; at most
/// [`MAX_FDS_PER_MESSAGE`] are accepted per call and any excess is closed by the kernel.
/// Control messages other than `SCM_RIGHTS` are dropped. `EINTR` is retried.
///
/// # Errors
///
/// Any error of `recvmsg(2)` (`ECONNRESET`, `EAGAIN` on a non-blocking socket, ...).
///
/// # Examples
///
/// ```
/// use std::io::IoSlice;
/// use multiproc_sys::fd::{recv_with_fds, send_with_fds, socketpair};
/// let (a, b) = socketpair()?;
/// send_with_fds(&a, &[IoSlice::new(b"xyz")], &[])?;
/// let mut buf = [0u8; 16];
/// let mut fds = Vec::new();
/// let got = recv_with_fds(&b, &mut buf, &mut fds)?;
/// assert_eq!((got.bytes, got.fds, got.truncated), (3, 0, false));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [recvmsg(2)](https://man7.org/linux/man-pages/man2/recvmsg.2.html)
///  - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
#[doc(alias = "recvmsg")]
#[doc(alias = "MSG_CMSG_CLOEXEC")]
pub fn recv_with_fds<Fd: AsFd>(
    sock: Fd,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
) -> io::Result<Received> {
    recv_with_fds_flags(sock.as_fd(), buf, fds, RecvFlags::CMSG_CLOEXEC)
}

/// `recvmsg(fd, buf, SCM_RIGHTS, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)`—like [`recv_with_fds`]
/// but never blocks.
///
/// # Errors
///
/// `WouldBlock` if nothing is queued; otherwise as [`recv_with_fds`].
///
/// # Examples
///
/// ```
/// use multiproc_sys::fd::{seqpacket_pair, try_recv_with_fds};
/// let (a, b) = seqpacket_pair()?;
/// let err = try_recv_with_fds(&b, &mut [0u8; 4], &mut Vec::new()).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [recvmsg(2)](https://man7.org/linux/man-pages/man2/recvmsg.2.html)
#[doc(alias = "MSG_DONTWAIT")]
pub fn try_recv_with_fds<Fd: AsFd>(
    sock: Fd,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
) -> io::Result<Received> {
    recv_with_fds_flags(
        sock.as_fd(),
        buf,
        fds,
        RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
    )
}

fn recv_with_fds_flags(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    flags: RecvFlags,
) -> io::Result<Received> {
    let mut space = [MaybeUninit::<u8>::uninit(); CMSG_SPACE];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match rustix::net::recvmsg(sock, &mut iov, &mut control, flags) {
            Ok(m) => break m,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let before = fds.len();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            for fd in received {
                if fds.len() - before < MAX_FDS_PER_MESSAGE {
                    fds.push(fd);
                }
                // else: dropped here, which closes it.
            }
        }
    }
    Ok(Received {
        bytes: msg.bytes,
        fds: fds.len() - before,
        truncated: msg.flags.contains(ReturnFlags::CTRUNC),
    })
}

/// `write(fd, buf)`—writes bytes to a pipe, file or socket, retrying `EINTR`.
///
/// # Errors
///
/// Any error of `write(2)`.
///
/// # Examples
///
/// ```
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// assert_eq!(multiproc_sys::fd::write(&w, b"abc")?, 3);
/// let mut buf = [0u8; 3];
/// assert_eq!(multiproc_sys::fd::read(&r, &mut buf)?, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/write.2.html)
pub fn write<Fd: AsFd>(fd: Fd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::io::retry_on_intr(|| {
        rustix::io::write(fd.as_fd(), buf)
    })?)
}

/// `writev(fd, bufs)`—writes several buffers with one call, retrying `EINTR`.
///
/// # Errors
///
/// Any error of `writev(2)` (`EPIPE` for a pipe without readers; note that a process that
/// does not ignore `SIGPIPE` is killed by it first, as with `write`).
///
/// # Examples
///
/// ```
/// use std::io::IoSlice;
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// assert_eq!(multiproc_sys::fd::writev(&w, &[IoSlice::new(b"ab"), IoSlice::new(b"c")])?, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/writev.2.html)
pub fn writev<Fd: AsFd>(fd: Fd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    Ok(rustix::io::retry_on_intr(|| {
        rustix::io::writev(fd.as_fd(), bufs)
    })?)
}

/// `read(fd, buf)`—reads bytes from a pipe, file or socket, retrying `EINTR`.
///
/// # Errors
///
/// Any error of `read(2)`.
///
/// # Examples
///
/// ```
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// drop(w);
/// let mut buf = [0u8; 3];
/// assert_eq!(multiproc_sys::fd::read(&r, &mut buf)?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read<Fd: AsFd>(fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::retry_on_intr(|| {
        rustix::io::read(fd.as_fd(), &mut *buf)
    })?)
}

/// `read(fd, buf)` into the spare capacity of `vec` (at most `max` bytes), without zero-filling
/// it first; the bytes read are appended to `vec`. Returns how many (0 at end of stream, or if
/// `vec` has no spare capacity or `max` is 0). `EINTR` is retried.
///
/// # Errors
///
/// Any error of `read(2)`.
///
/// # Examples
///
/// ```
/// let (r, w) = multiproc_sys::fd::pipe()?;
/// multiproc_sys::fd::write(&w, b"abcdef")?;
/// let mut v = Vec::with_capacity(16);
/// v.push(b'>');
/// assert_eq!(multiproc_sys::fd::read_to_spare(&r, &mut v, 4)?, 4);
/// assert_eq!(v, b">abcd");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/read.2.html)
#[allow(unsafe_code)]
pub fn read_to_spare<Fd: AsFd>(fd: Fd, vec: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let spare = vec.spare_capacity_mut();
    let limit = max.min(spare.len());
    let n = loop {
        match rustix::io::read(fd.as_fd(), &mut spare[..limit]) {
            Ok((filled, _)) => break filled.len(),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let new_len = vec.len() + n;
    // SAFETY: `read` initialized the first `n` bytes of the spare capacity (rustix hands back
    // exactly the initialized prefix), and `n <= limit <= capacity - len`.
    unsafe { vec.set_len(new_len) };
    Ok(n)
}

/// What a descriptor should be polled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// `POLLIN`: data (or end of stream) can be read.
    Read,
    /// `POLLOUT`: data can be written.
    Write,
}

/// `poll(fds, timeout)`—waits until at least one descriptor is ready or `deadline` passes.
///
/// `ready[i]` is set to whether `fds[i]` is ready: readable (`POLLIN`), writable (`POLLOUT`),
/// or in a state where the next operation will not block: hang-up and error conditions count as
/// ready, so that the following `read` reports end of stream or the error. `None` waits forever.
/// `EINTR` restarts the wait with the time left. Returns the number of ready descriptors
/// (0 on timeout).
///
/// # Errors
///
/// `InvalidInput` if `ready` is shorter than `fds`; otherwise any error of `poll(2)`.
///
/// # Examples
///
/// ```
/// use multiproc_sys::fd::{poll, socketpair, write, Interest};
/// use std::os::fd::AsFd;
/// use std::time::{Duration, Instant};
///
/// let (a, b) = socketpair()?;
/// let mut ready = [false; 2];
/// let soon = Some(Instant::now() + Duration::from_millis(1));
/// assert_eq!(poll(&[(b.as_fd(), Interest::Read), (a.as_fd(), Interest::Read)], &mut ready, soon)?, 0);
/// write(&a, b"!")?;
/// assert_eq!(poll(&[(b.as_fd(), Interest::Read), (a.as_fd(), Interest::Read)], &mut ready, None)?, 1);
/// assert_eq!(ready, [true, false]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/poll.2.html)
#[doc(alias = "ppoll")]
pub fn poll(
    fds: &[(BorrowedFd<'_>, Interest)],
    ready: &mut [bool],
    deadline: Option<Instant>,
) -> io::Result<usize> {
    if ready.len() < fds.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ready slice shorter than fds",
        ));
    }
    let mut pollfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|(fd, interest)| {
            let events = match interest {
                Interest::Read => PollFlags::IN,
                Interest::Write => PollFlags::OUT,
            };
            PollFd::from_borrowed_fd(*fd, events)
        })
        .collect();
    loop {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                Some(rustix::time::Timespec::try_from(left).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "timeout out of range")
                })?)
            }
        };
        match rustix::event::poll(&mut pollfds, timeout.as_ref()) {
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let mut count = 0;
    for (slot, pfd) in ready.iter_mut().zip(&pollfds) {
        *slot = !pfd.revents().is_empty();
        count += usize::from(*slot);
    }
    Ok(count)
}

/// `ioctl(fd, FIONBIO, value)`—switches a descriptor between blocking and non-blocking mode.
///
/// # Errors
///
/// Any error of `ioctl(2)`.
///
/// # Examples
///
/// ```
/// let (a, _b) = multiproc_sys::fd::socketpair()?;
/// multiproc_sys::fd::set_nonblocking(&a, true)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl.2.html)
#[doc(alias = "FIONBIO")]
#[doc(alias = "O_NONBLOCK")]
pub fn set_nonblocking<Fd: AsFd>(fd: Fd, value: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, value)?)
}

/// `fcntl(fd, F_SETFD, FD_CLOEXEC)`—sets or clears the close-on-exec flag.
///
/// # Errors
///
/// Any error of `fcntl(2)`.
///
/// # Examples
///
/// ```
/// let (a, _b) = multiproc_sys::fd::socketpair()?;
/// multiproc_sys::fd::set_cloexec(&a, false)?;
/// multiproc_sys::fd::set_cloexec(&a, true)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fcntl.2.html)
#[doc(alias = "FD_CLOEXEC")]
pub fn set_cloexec<Fd: AsFd>(fd: Fd, value: bool) -> io::Result<()> {
    let flags = rustix::io::fcntl_getfd(fd.as_fd())?;
    let flags = if value {
        flags | FdFlags::CLOEXEC
    } else {
        flags - FdFlags::CLOEXEC
    };
    Ok(rustix::io::fcntl_setfd(fd, flags)?)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`—duplicates a descriptor; the copy is close-on-exec.
///
/// # Errors
///
/// Any error of `fcntl(2)`, such as `EMFILE`.
///
/// # Examples
///
/// ```
/// let (a, _b) = multiproc_sys::fd::socketpair()?;
/// let copy = multiproc_sys::fd::dup(&a)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fcntl.2.html)
#[doc(alias = "F_DUPFD_CLOEXEC")]
pub fn dup<Fd: AsFd>(fd: Fd) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 0)?)
}

/// Which direction [`shutdown`] closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `SHUT_RD`
    Read,
    /// `SHUT_WR`: the peer sees end of stream.
    Write,
    /// `SHUT_RDWR`
    Both,
}

/// `shutdown(fd, how)`—closes one or both directions of a socket for every process sharing it.
///
/// # Errors
///
/// Any error of `shutdown(2)` (`ENOTCONN`, `ENOTSOCK`).
///
/// # Examples
///
/// ```
/// use multiproc_sys::fd::{read, shutdown, socketpair, Direction};
/// let (a, b) = socketpair()?;
/// shutdown(&a, Direction::Write)?;
/// assert_eq!(read(&b, &mut [0u8; 1])?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/shutdown.2.html)
pub fn shutdown<Fd: AsFd>(fd: Fd, how: Direction) -> io::Result<()> {
    let how = match how {
        Direction::Read => Shutdown::Read,
        Direction::Write => Shutdown::Write,
        Direction::Both => Shutdown::Both,
    };
    Ok(rustix::net::shutdown(fd, how)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excess_fds_are_refused_on_send() {
        let (a, _b) = socketpair().unwrap();
        let fds: Vec<BorrowedFd<'_>> = (0..=MAX_FDS_PER_MESSAGE).map(|_| a.as_fd()).collect();
        let err = send_with_fds(&a, &[IoSlice::new(b"x")], &fds).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn fds_arrive_cloexec_and_usable() {
        let (a, b) = socketpair().unwrap();
        let (p, q) = socketpair().unwrap();
        send_with_fds(&a, &[IoSlice::new(b"m")], &[p.as_fd()]).unwrap();
        drop(p);
        let mut buf = [0u8; 4];
        let mut fds = Vec::new();
        let got = recv_with_fds(&b, &mut buf, &mut fds).unwrap();
        assert_eq!((got.bytes, got.fds), (1, 1));
        let flags = rustix::io::fcntl_getfd(&fds[0]).unwrap();
        assert!(flags.contains(FdFlags::CLOEXEC));
        write(&fds[0], b"via").unwrap();
        let mut out = [0u8; 3];
        assert_eq!(read(&q, &mut out).unwrap(), 3);
        assert_eq!(&out, b"via");
    }

    #[test]
    fn poll_reports_hangup_as_ready() {
        let (a, b) = socketpair().unwrap();
        drop(a);
        let mut ready = [false];
        assert_eq!(
            poll(&[(b.as_fd(), Interest::Read)], &mut ready, None).unwrap(),
            1
        );
    }
}
