//! [`Connection`] and [`pipe`].

use crate::error::{Error, Result};
use crate::frame::{DEFAULT_MAX_FRAME_LEN, MAX_HEADER_LEN, decode_header, encode_header};
use multiproc_shm::handle::{self, Handle};
use multiproc_sys::fd::{self as sysfd, Interest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Size of a connection's read buffer: a header and a small payload come in with one
/// `recvmsg`; a payload that does not fit is read straight into the message's own vector.
const READ_BUF_LEN: usize = 64 * 1024;

/// Frames up to this size (header included) are copied into one buffer and written with a
/// single `write` (below `PIPE_BUF`, so the write is also atomic).
const SMALL_FRAME_LEN: usize = 512;

/// The pipe buffer a pipe end grows to, at most, when it sends frames larger than its buffer:
/// a 1 MiB frame through the default 64 KiB buffer costs 16 hand-offs between the processes.
/// 1 MiB is the kernel's default `/proc/sys/fs/pipe-max-size`.
const MAX_PIPE_BUF: usize = 1 << 20;

/// The kernel's default pipe buffer.
const DEFAULT_PIPE_BUF: usize = 64 * 1024;

/// Largest chunk a long payload grows by before its bytes have arrived, so that a hostile
/// length costs no more memory than the bytes actually sent.
const GROW_STEP: usize = 4 << 20;

/// Descriptors that arrived with one `recvmsg`, covering stream offsets `start..end`.
///
/// The kernel ends a `recvmsg` right after a segment carrying descriptors, and a sender puts
/// them on the first segment of a frame, so they belong to the last frame that begins inside
/// `start..end`.
#[derive(Debug)]
struct FdChunk {
    start: u64,
    end: u64,
    fds: Vec<OwnedFd>,
}

/// Where a reader gets its bytes.
#[derive(Debug, Clone, Copy)]
enum Src<'a> {
    /// A stream socket: `recvmsg`, collecting descriptors.
    Socket(BorrowedFd<'a>),
    /// A pipe: plain `read`.
    Pipe(BorrowedFd<'a>),
}

impl Src<'_> {
    /// Appends at most `max` bytes to `vec`, into its spare capacity.
    fn read_more(self, vec: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        match self {
            Src::Pipe(fd) => sysfd::read_to_spare(fd, vec, max),
            Src::Socket(fd) => {
                let start = vec.len();
                let room = (vec.capacity() - start).min(max);
                vec.resize(start + room, 0);
                let mut stray = Vec::new();
                let got = sysfd::recv_with_fds(fd, &mut vec[start..], &mut stray);
                // Descriptors arriving mid-payload belong to no frame: `stray` is dropped
                // (closed) here.
                drop(stray);
                let got = got.map(|r| r.bytes);
                vec.truncate(start + *got.as_ref().unwrap_or(&0));
                got
            }
        }
    }

    fn read(self, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
        match self {
            Src::Socket(fd) => sysfd::recv_with_fds(fd, buf, fds).map(|r| r.bytes),
            Src::Pipe(fd) => sysfd::read(fd, buf),
        }
    }
}

#[derive(Debug)]
struct Reader {
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    pos: u64,
    chunks: VecDeque<FdChunk>,
    broken: bool,
}

impl Reader {
    fn new() -> Self {
        Reader {
            buf: Vec::new(),
            start: 0,
            end: 0,
            pos: 0,
            chunks: VecDeque::new(),
            broken: false,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more bytes from `fd` into the buffer; returns how many (0 at end of stream).
    fn fill(&mut self, src: Src<'_>) -> Result<usize> {
        if self.buf.is_empty() {
            self.buf = vec![0; READ_BUF_LEN];
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let chunk_start = self.pos + (self.end - self.start) as u64;
        let mut fds = Vec::new();
        let got = src.read(&mut self.buf[self.end..], &mut fds)?;
        self.end += got;
        if !fds.is_empty() {
            self.chunks.push_back(FdChunk {
                start: chunk_start,
                end: chunk_start + got as u64,
                fds,
            });
        }
        Ok(got)
    }

    /// Consumes `n` buffered bytes.
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// Claims the descriptors of the frame occupying stream offsets `start..end`, closing any
    /// that arrived earlier and belong to no frame.
    fn take_fds(&mut self, start: u64, end: u64) -> Vec<OwnedFd> {
        while self.chunks.front().is_some_and(|c| c.end <= start) {
            self.chunks.pop_front();
        }
        match self.chunks.front() {
            Some(c) if c.start <= start && start < c.end && end >= c.end => {
                self.chunks.pop_front().map(|c| c.fds).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// Receives one whole frame: its payload and its descriptors.
    fn recv_frame(&mut self, src: Src<'_>, max_len: u64) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
        if self.broken {
            return Err(Error::Broken);
        }
        let result = self.recv_frame_inner(src, max_len);
        if let Err(e) = &result {
            if !matches!(e, Error::Eof | Error::Io(_)) {
                self.broken = true;
            }
        }
        result
    }

    fn recv_frame_inner(&mut self, src: Src<'_>, max_len: u64) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
        let header = loop {
            if let Some(h) = decode_header(self.buffered(), max_len)? {
                break h;
            }
            if self.fill(src)? == 0 {
                return Err(if self.start == self.end {
                    Error::Eof
                } else {
                    let received = self.end - self.start;
                    Error::TruncatedFrame {
                        expected: if received < 4 {
                            4
                        } else {
                            MAX_HEADER_LEN as u64
                        },
                        received: received as u64,
                    }
                });
            }
        };
        let frame_start = self.pos;
        let frame_end = frame_start.saturating_add(header.frame_len());
        let payload_len = usize::try_from(header.payload_len).map_err(|_| Error::FrameTooLong {
            len: header.payload_len,
            max: usize::MAX as u64,
        })?;
        let total = header.header_len + payload_len;
        if total <= self.buf.len().max(READ_BUF_LEN) {
            // Small frame: collect it in the buffer.
            while self.end - self.start < total {
                if self.start + total > self.buf.len() {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
                if self.fill(src)? == 0 {
                    return Err(Error::TruncatedFrame {
                        expected: total as u64,
                        received: (self.end - self.start) as u64,
                    });
                }
            }
            let payload = self.buf[self.start + header.header_len..self.start + total].to_vec();
            self.consume(total);
            let fds = self.take_fds(frame_start, frame_end);
            return Ok((payload, fds));
        }
        // Large frame: move what is buffered, then read the rest straight into the payload.
        let fds = self.take_fds(frame_start, frame_end);
        self.consume(header.header_len);
        let have = (self.end - self.start).min(payload_len);
        let mut payload = Vec::with_capacity(payload_len.min(GROW_STEP));
        payload.extend_from_slice(&self.buf[self.start..self.start + have]);
        self.consume(have);
        let mut filled = payload.len();
        while filled < payload_len {
            if filled == payload.capacity() {
                // Grow geometrically, but never past what the peer has actually sent plus
                // one step: a hostile length costs at most a step of memory.
                let want = (payload_len - filled)
                    .min(filled.max(READ_BUF_LEN))
                    .min(GROW_STEP);
                payload.reserve(want);
            }
            let got = src.read_more(&mut payload, payload_len - filled)?;
            self.pos += got as u64;
            if got == 0 {
                return Err(Error::TruncatedFrame {
                    expected: header.frame_len(),
                    received: (header.header_len + filled) as u64,
                });
            }
            filled += got;
        }
        Ok((payload, fds))
    }
}

/// One end of a [`pipe`], or a connection made by a [`Listener`](crate::Listener) or
/// [`Client`](crate::Client): Python's `multiprocessing.connection.Connection`.
///
/// Messages keep their boundaries (empty ones included) and use CPython's framing, so
/// [`send_bytes`](Self::send_bytes)/[`recv_bytes`](Self::recv_bytes) interoperate with a
/// Python peer. Typed messages ([`send`](Self::send)/[`recv`](Self::recv)) are postcard
/// bytes in an envelope that also carries OS handles (see `docs/wire-format.md`): a
/// `Connection`, a `SharedMemory` or a lock can travel inside a message and arrives working.
///
/// All methods take `&self`: one thread may send while another receives. A `Connection` is
/// itself `Serialize + Deserialize` (its descriptor travels as a handle), so an end can be
/// sent to another process, which is how a child process receives its end of a pipe. Bytes
/// already read into this end's buffer do not travel with it: hand an end over before
/// reading from it.
///
/// # Examples
///
/// ```
/// let (a, b) = multiproc_pipe::pipe(true)?;
/// a.send(&("hello", 42u32))?;
/// let (text, n): (String, u32) = b.recv()?;
/// assert_eq!((text.as_str(), n), ("hello", 42));
/// b.send_bytes(b"raw bytes")?;
/// assert_eq!(a.recv_bytes()?, b"raw bytes");
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub struct Connection {
    transport: Transport,
    readable: bool,
    writable: bool,
    max_len: AtomicU64,
    reader: Mutex<Reader>,
    /// Held while a frame is written; holds the capacity we know the outgoing pipe has (0 =
    /// the kernel's default), so that large frames can grow it once.
    writer: Mutex<usize>,
}

/// What carries a connection's bytes and descriptors.
#[derive(Debug)]
enum Transport {
    /// One stream socket both ways; descriptors ride on the frames (Unix sockets only).
    Socket { fd: OwnedFd, unix: bool },
    /// `pipe(2)`s for the frames (the fastest wake-up Linux has) and a `SOCK_SEQPACKET`
    /// socket beside them for descriptors: a typed frame announcing `n > 0` handles takes the
    /// next side message, sent just before the frame.
    Pipes {
        rx: Option<OwnedFd>,
        tx: Option<OwnedFd>,
        side: OwnedFd,
    },
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("fd", &self.as_fd().as_raw_fd())
            .field("readable", &self.readable)
            .field("writable", &self.writable)
            .finish_non_exhaustive()
    }
}

/// `Pipe(duplex)`: a connected pair of [`Connection`]s.
///
/// With `duplex = true` both ends can send and receive. With `duplex = false` the first end
/// can only receive and the second only send, as in Python (`(reader, writer)`); using an end
/// the wrong way fails with [`Error::NotReadable`]/[`Error::NotWritable`].
///
/// Frames travel over `pipe(2)`s (a round trip costs what raw pipes cost), with a
/// `SOCK_SEQPACKET` socketpair beside them for OS handles, so either kind of pipe can carry
/// handles. Writing to a pipe whose reader is gone gives [`Error::Io`] (`EPIPE`) in Rust
/// programs, which ignore `SIGPIPE`.
///
/// # Errors
///
/// [`Error::Io`] if the sockets cannot be created.
///
/// # Examples
///
/// ```
/// let (reader, writer) = multiproc_pipe::pipe(false)?;
/// writer.send(&vec![1, 2, 3])?;
/// assert_eq!(reader.recv::<Vec<i32>>()?, [1, 2, 3]);
/// assert!(reader.send(&1).is_err());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
#[doc(alias = "Pipe")]
pub fn pipe(duplex: bool) -> Result<(Connection, Connection)> {
    let (side_a, side_b) = sysfd::seqpacket_pair()?;
    let (a_rx, b_tx) = sysfd::pipe()?;
    if duplex {
        let (b_rx, a_tx) = sysfd::pipe()?;
        Ok((
            Connection::with_transport(Transport::Pipes {
                rx: Some(a_rx),
                tx: Some(a_tx),
                side: side_a,
            }),
            Connection::with_transport(Transport::Pipes {
                rx: Some(b_rx),
                tx: Some(b_tx),
                side: side_b,
            }),
        ))
    } else {
        Ok((
            Connection::with_transport(Transport::Pipes {
                rx: Some(a_rx),
                tx: None,
                side: side_a,
            }),
            Connection::with_transport(Transport::Pipes {
                rx: None,
                tx: Some(b_tx),
                side: side_b,
            }),
        ))
    }
}

impl Connection {
    fn with_transport(transport: Transport) -> Self {
        let (readable, writable) = match &transport {
            Transport::Socket { .. } => (true, true),
            Transport::Pipes { rx, tx, .. } => (rx.is_some(), tx.is_some()),
        };
        Connection {
            transport,
            readable,
            writable,
            max_len: AtomicU64::new(DEFAULT_MAX_FRAME_LEN),
            reader: Mutex::new(Reader::new()),
            writer: Mutex::new(0),
        }
    }

    /// Wraps a connected Unix stream socket (duplex).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    /// use multiproc_pipe::Connection;
    /// let (a, b) = UnixStream::pair()?;
    /// let (a, b) = (Connection::from_unix_stream(a), Connection::from_unix_stream(b));
    /// a.send_bytes(b"x")?;
    /// assert_eq!(b.recv_bytes()?, b"x");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_unix_stream(stream: std::os::unix::net::UnixStream) -> Self {
        Connection::with_transport(Transport::Socket {
            fd: stream.into(),
            unix: true,
        })
    }

    /// Wraps a connected TCP stream (duplex; it cannot carry OS handles).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let s = std::net::TcpStream::connect("127.0.0.1:6000")?;
    /// let c = multiproc_pipe::Connection::from_tcp_stream(s);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_tcp_stream(stream: std::net::TcpStream) -> Self {
        // Frames go out in one write; Nagle would only delay small ones.
        let _ = stream.set_nodelay(true);
        Connection::with_transport(Transport::Socket {
            fd: stream.into(),
            unix: false,
        })
    }

    /// Whether this end can receive (Python's `readable`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (r, w) = multiproc_pipe::pipe(false)?;
    /// assert!(r.readable() && !w.readable());
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn readable(&self) -> bool {
        self.readable
    }

    /// Whether this end can send (Python's `writable`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (r, w) = multiproc_pipe::pipe(false)?;
    /// assert!(w.writable() && !r.writable());
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// The largest payload this end accepts ([`DEFAULT_MAX_FRAME_LEN`] unless changed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = multiproc_pipe::pipe(true)?;
    /// assert_eq!(a.max_frame_len(), multiproc_pipe::frame::DEFAULT_MAX_FRAME_LEN);
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn max_frame_len(&self) -> u64 {
        self.max_len.load(Ordering::Relaxed)
    }

    /// Sets the largest payload this end accepts; a longer incoming frame is an
    /// [`Error::FrameTooLong`] (and the connection becomes unusable, as in CPython).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// b.set_max_frame_len(4);
    /// a.send_bytes(b"too long")?;
    /// assert!(matches!(b.recv_bytes(), Err(multiproc_pipe::Error::FrameTooLong { len: 8, max: 4 })));
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn set_max_frame_len(&self, max: u64) {
        self.max_len.store(max, Ordering::Relaxed);
    }

    fn check_writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::NotWritable)
        }
    }

    fn check_readable(&self) -> Result<()> {
        if self.readable {
            Ok(())
        } else {
            Err(Error::NotReadable)
        }
    }

    /// Where this end reads from.
    fn src(&self) -> Result<Src<'_>> {
        match &self.transport {
            Transport::Socket { fd, .. } => Ok(Src::Socket(fd.as_fd())),
            Transport::Pipes { rx: Some(rx), .. } => Ok(Src::Pipe(rx.as_fd())),
            Transport::Pipes { rx: None, .. } => Err(Error::NotReadable),
        }
    }

    fn can_carry_handles(&self) -> bool {
        match &self.transport {
            Transport::Socket { unix, .. } => *unix,
            Transport::Pipes { .. } => true,
        }
    }

    fn lock_reader(&self) -> MutexGuard<'_, Reader> {
        // A panic while holding the lock cannot leave the reader in a memory-unsafe state;
        // at worst the stream is out of sync, which the next frame header reveals.
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one frame made of `parts` (after the header), with `fds` on its first byte.
    fn write_frame(&self, prefix: &[u8], body: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        self.check_writable()?;
        let len = (prefix.len() + body.len()) as u64;
        let mut header = [0u8; MAX_HEADER_LEN + 1];
        let hlen = {
            let h: &mut [u8; MAX_HEADER_LEN] = (&mut header[..MAX_HEADER_LEN])
                .try_into()
                .map_err(|_| Error::OutOfRange)?;
            encode_header(len, h)
        };
        // Put a short prefix (the envelope's count byte) next to the header.
        let (first, body_prefix): (&[u8], &[u8]) = if prefix.len() == 1 {
            header[hlen] = prefix[0];
            (&header[..=hlen], &[])
        } else {
            (&header[..hlen], prefix)
        };
        let mut slices = [
            IoSlice::new(first),
            IoSlice::new(body_prefix),
            IoSlice::new(body),
        ];
        let mut remaining: &mut [IoSlice<'_>] = &mut slices;
        let mut known_capacity = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        match &self.transport {
            Transport::Socket { fd, .. } => {
                let mut fds = fds;
                while !remaining.is_empty() {
                    let n = sysfd::send_with_fds(fd, remaining, fds)?;
                    fds = &[];
                    IoSlice::advance_slices(&mut remaining, n);
                }
            }
            Transport::Pipes { tx, side, .. } => {
                let tx = tx.as_ref().ok_or(Error::NotWritable)?;
                if !fds.is_empty() {
                    // The handles go first, so they are queued when the frame is read.
                    sysfd::send_with_fds(side, &[IoSlice::new(prefix)], fds)?;
                }
                let total = remaining.iter().map(|s| s.len()).sum::<usize>();
                let capacity = (*known_capacity).max(DEFAULT_PIPE_BUF);
                if total > capacity && capacity < MAX_PIPE_BUF {
                    // Grow the pipe once for large frames; if the kernel refuses (a per-user
                    // limit), stay with what we have and stop asking.
                    let want = total.next_power_of_two().min(MAX_PIPE_BUF);
                    *known_capacity = sysfd::set_pipe_size(tx, want).unwrap_or(MAX_PIPE_BUF);
                }
                if total <= SMALL_FRAME_LEN {
                    // One plain `write` of a small frame: a pipe write of at most PIPE_BUF
                    // bytes is atomic, and `write` takes the kernel's cheapest path.
                    let mut frame = [0u8; SMALL_FRAME_LEN];
                    let mut at = 0;
                    for part in remaining.iter() {
                        frame[at..at + part.len()].copy_from_slice(part);
                        at += part.len();
                    }
                    let mut sent = 0;
                    while sent < at {
                        sent += sysfd::write(tx, &frame[sent..at])?;
                    }
                } else {
                    while !remaining.is_empty() {
                        let n = sysfd::writev(tx, remaining)?;
                        IoSlice::advance_slices(&mut remaining, n);
                    }
                }
            }
        }
        Ok(())
    }

    /// Sends `buf` as one message (Python's `send_bytes(buf)`).
    ///
    /// # Errors
    ///
    /// [`Error::NotWritable`] on the read end of a simplex pipe; [`Error::Io`] (`EPIPE`) if the
    /// peer is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send_bytes(b"")?;
    /// a.send_bytes(b"hello")?;
    /// assert_eq!(b.recv_bytes()?, b"");
    /// assert_eq!(b.recv_bytes()?, b"hello");
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn send_bytes(&self, buf: &[u8]) -> Result<()> {
        self.write_frame(&[], buf, &[])
    }

    /// Sends `buf[offset..offset + size]` (all of the rest if `size` is `None`) as one
    /// message: Python's `send_bytes(buf, offset, size)`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if the range is not inside `buf`; otherwise as
    /// [`send_bytes`](Self::send_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send_bytes_range(b"abcdef", 2, Some(3))?;
    /// assert_eq!(b.recv_bytes()?, b"cde");
    /// assert!(a.send_bytes_range(b"abc", 2, Some(5)).is_err());
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn send_bytes_range(&self, buf: &[u8], offset: usize, size: Option<usize>) -> Result<()> {
        let rest = buf.get(offset..).ok_or(Error::OutOfRange)?;
        let part = match size {
            None => rest,
            Some(n) => rest.get(..n).ok_or(Error::OutOfRange)?,
        };
        self.send_bytes(part)
    }

    /// Receives one message's bytes (Python's `recv_bytes()`).
    ///
    /// Descriptors that came with the message are closed; a typed message is returned as its
    /// envelope (see `docs/wire-format.md`).
    ///
    /// # Errors
    ///
    /// [`Error::Eof`] if the peer closed between messages, [`Error::TruncatedFrame`] if it
    /// closed inside one, [`Error::FrameTooLong`] above the connection's limit,
    /// [`Error::NotReadable`] on the write end of a simplex pipe.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send_bytes(b"one")?;
    /// drop(a);
    /// assert_eq!(b.recv_bytes()?, b"one");
    /// assert!(matches!(b.recv_bytes(), Err(multiproc_pipe::Error::Eof)));
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn recv_bytes(&self) -> Result<Vec<u8>> {
        self.recv_bytes_limited(self.max_frame_len())
    }

    /// Receives one message of at most `maxlength` bytes: Python's `recv_bytes(maxlength)`.
    ///
    /// # Errors
    ///
    /// [`Error::FrameTooLong`] if the message is longer (the connection is unusable
    /// afterwards, as in CPython, which closes it); otherwise as
    /// [`recv_bytes`](Self::recv_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send_bytes(b"12345")?;
    /// assert!(b.recv_bytes_limited(4).is_err());
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn recv_bytes_limited(&self, maxlength: u64) -> Result<Vec<u8>> {
        self.check_readable()?;
        let max = maxlength.min(self.max_frame_len());
        let (payload, _fds) = self.lock_reader().recv_frame(self.src()?, max)?;
        Ok(payload)
    }

    /// Receives one message into `buf` at `offset`, returning its length: Python's
    /// `recv_bytes_into(buf, offset)`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooShort`] holding the whole message if it does not fit (it is consumed
    /// either way); [`Error::OutOfRange`] if `offset > buf.len()`; otherwise as
    /// [`recv_bytes`](Self::recv_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pipe::Error;
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send_bytes(b"abc")?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(b.recv_bytes_into(&mut buf, 2)?, 3);
    /// assert_eq!(&buf[2..5], b"abc");
    /// a.send_bytes(b"much too long")?;
    /// match b.recv_bytes_into(&mut buf, 0) {
    ///     Err(Error::BufferTooShort(msg)) => assert_eq!(msg, b"much too long"),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn recv_bytes_into(&self, buf: &mut [u8], offset: usize) -> Result<usize> {
        let room = buf.get_mut(offset..).ok_or(Error::OutOfRange)?;
        let msg = self.recv_bytes()?;
        match room.get_mut(..msg.len()) {
            Some(dst) => {
                dst.copy_from_slice(&msg);
                Ok(msg.len())
            }
            None => Err(Error::BufferTooShort(msg)),
        }
    }

    /// Sends a typed value (Python's `send(obj)`), with any OS handles it holds.
    ///
    /// The value is serialized with postcard; every descriptor inside (a `Connection`, a
    /// `SharedMemory`, ...) is duplicated and travels as `SCM_RIGHTS` on the same `sendmsg`
    /// as the message's first bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the value cannot be serialized, [`Error::HandlesNeedUnixSocket`]
    /// for handles over TCP; otherwise as [`send_bytes`](Self::send_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// let (x, y) = multiproc_pipe::pipe(true)?;
    /// a.send(&("take this end", y))?;
    /// let (note, y): (String, multiproc_pipe::Connection) = b.recv()?;
    /// y.send(&note)?;
    /// assert_eq!(x.recv::<String>()?, "take this end");
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn send<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.check_writable()?;
        let (bytes, fds) = handle::encode_with_handles(value).map_err(Error::Encode)?;
        if !fds.is_empty() && !self.can_carry_handles() {
            return Err(Error::HandlesNeedUnixSocket);
        }
        let count = u8::try_from(fds.len())
            .map_err(|_| Error::Encode(handle::Error::TooManyHandles(fds.len())))?;
        let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
        self.write_frame(&[count], &bytes, &borrowed)
    }

    /// Receives a typed value sent with [`send`](Self::send) (Python's `recv()`).
    ///
    /// # Errors
    ///
    /// [`Error::Envelope`] if the message is not a typed envelope or its handle count does not
    /// match the descriptors that came with it, [`Error::Decode`] if the bytes are not a `T`
    /// or its handle indices do not validate; otherwise as [`recv_bytes`](Self::recv_bytes).
    /// Descriptors of a rejected message are closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.send(&[1.5f64, 2.5])?;
    /// assert_eq!(b.recv::<[f64; 2]>()?, [1.5, 2.5]);
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn recv<T: DeserializeOwned>(&self) -> Result<T> {
        self.check_readable()?;
        let max = self.max_frame_len();
        let (payload, fds) = {
            let mut reader = self.lock_reader();
            let (payload, mut fds) = reader.recv_frame(self.src()?, max)?;
            if let Transport::Pipes { side, .. } = &self.transport {
                if payload.first().is_some_and(|&n| n > 0) {
                    fds = take_side_fds(side.as_fd())?;
                }
            }
            (payload, fds)
        };
        decode_envelope(&payload, fds)
    }

    /// Whether a message (or end of stream) can be received without blocking, waiting up to
    /// `timeout` for one; never consumes anything (Python's `poll(timeout)`).
    ///
    /// `Some(Duration::ZERO)` checks and returns at once (Python's default); `None` waits
    /// forever.
    ///
    /// # Errors
    ///
    /// [`Error::NotReadable`] on the write end of a simplex pipe; [`Error::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// assert!(!b.poll(Some(Duration::ZERO))?);
    /// a.send_bytes(b"ping")?;
    /// assert!(b.poll(Some(Duration::from_secs(5)))?);
    /// assert!(b.poll(None)?); // still there
    /// assert_eq!(b.recv_bytes()?, b"ping");
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool> {
        self.check_readable()?;
        if self.has_buffered() {
            return Ok(true);
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut ready = [false];
        Ok(sysfd::poll(&[(self.as_fd(), Interest::Read)], &mut ready, deadline)? > 0)
    }

    /// Whether bytes are already buffered on this end (so the fd may look idle while a
    /// message is available).
    pub(crate) fn has_buffered(&self) -> bool {
        match self.reader.try_lock() {
            Ok(r) => r.start < r.end,
            Err(_) => false,
        }
    }

    /// Closes this end (Python's `close()`); dropping it does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = multiproc_pipe::pipe(true)?;
    /// a.close();
    /// assert!(matches!(b.recv_bytes(), Err(multiproc_pipe::Error::Eof)));
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn close(self) {
        drop(self);
    }
}

/// Takes the side message holding a pipe frame's handles (sent just before the frame).
fn take_side_fds(side: BorrowedFd<'_>) -> Result<Vec<OwnedFd>> {
    let mut count = [0u8; 1];
    let mut fds = Vec::new();
    match sysfd::try_recv_with_fds(side, &mut count, &mut fds) {
        Ok(got) if got.bytes == 1 => Ok(fds),
        Ok(_) => Err(Error::Envelope("handle channel closed".into())),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::Envelope(
            "message announces handles but none were sent".into(),
        )),
        Err(e) => Err(Error::Io(e)),
    }
}

/// Decodes a typed message's envelope: a handle count byte, then postcard bytes.
///
/// This is the pure decoder behind [`Connection::recv`]; `fds` are the descriptors that
/// arrived with the frame. Any descriptor not handed to the value is closed.
///
/// # Errors
///
/// [`Error::Envelope`] for an empty payload or a count that does not match `fds.len()`;
/// [`Error::Decode`] for bytes that are not a `T` or bad handle indices.
///
/// # Examples
///
/// ```
/// let v: (u8, bool) = multiproc_pipe::decode_envelope(&[0, 7, 1], Vec::new())?;
/// assert_eq!(v, (7, true));
/// assert!(multiproc_pipe::decode_envelope::<u8>(&[1, 0], Vec::new()).is_err());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn decode_envelope<T: DeserializeOwned>(payload: &[u8], fds: Vec<OwnedFd>) -> Result<T> {
    let Some((&count, body)) = payload.split_first() else {
        return Err(Error::Envelope("empty message".into()));
    };
    if usize::from(count) != fds.len() {
        return Err(Error::Envelope(format!(
            "message declares {count} handle(s) but {} arrived",
            fds.len()
        )));
    }
    handle::decode_with_handles(body, fds).map_err(Error::Decode)
}

/// Encodes a typed value into an envelope and its handle table: the inverse of
/// [`decode_envelope`].
///
/// # Errors
///
/// [`Error::Encode`].
///
/// # Examples
///
/// ```
/// let (payload, fds) = multiproc_pipe::encode_envelope(&(7u8, true))?;
/// assert_eq!(payload, [0, 7, 1]);
/// assert!(fds.is_empty());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn encode_envelope<T: Serialize + ?Sized>(value: &T) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
    let (bytes, fds) = handle::encode_with_handles(value).map_err(Error::Encode)?;
    let count = u8::try_from(fds.len())
        .map_err(|_| Error::Encode(handle::Error::TooManyHandles(fds.len())))?;
    let mut payload = Vec::with_capacity(bytes.len() + 1);
    payload.push(count);
    payload.extend_from_slice(&bytes);
    Ok((payload, fds))
}

impl AsFd for Connection {
    /// The descriptor that polls readable when a message (or end of stream) is waiting; for
    /// the write end of a simplex pipe, its write descriptor.
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.transport {
            Transport::Socket { fd, .. } => fd.as_fd(),
            Transport::Pipes { rx: Some(rx), .. } => rx.as_fd(),
            Transport::Pipes { tx: Some(tx), .. } => tx.as_fd(),
            Transport::Pipes { side, .. } => side.as_fd(),
        }
    }
}

/// A borrowed descriptor serialized as a handle (a duplicate travels).
struct Borrowed<'a>(BorrowedFd<'a>);

impl Serialize for Borrowed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        handle::fd::serialize_borrowed(self.0, s)
    }
}

/// How a `Connection` crosses a process boundary (sending side): descriptors as handles.
#[derive(Serialize)]
enum WireRef<'a> {
    Socket {
        fd: Borrowed<'a>,
        unix: bool,
        max_len: u64,
    },
    Pipes {
        rx: Option<Borrowed<'a>>,
        tx: Option<Borrowed<'a>>,
        side: Borrowed<'a>,
        max_len: u64,
    },
}

/// The receiving side of [`WireRef`]: same layout, owned handles.
#[derive(Deserialize)]
enum Wire {
    Socket {
        fd: Handle,
        unix: bool,
        max_len: u64,
    },
    Pipes {
        rx: Option<Handle>,
        tx: Option<Handle>,
        side: Handle,
        max_len: u64,
    },
}

impl Serialize for Connection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let max_len = self.max_frame_len();
        match &self.transport {
            Transport::Socket { fd, unix } => WireRef::Socket {
                fd: Borrowed(fd.as_fd()),
                unix: *unix,
                max_len,
            },
            Transport::Pipes { rx, tx, side } => WireRef::Pipes {
                rx: rx.as_ref().map(|f| Borrowed(f.as_fd())),
                tx: tx.as_ref().map(|f| Borrowed(f.as_fd())),
                side: Borrowed(side.as_fd()),
                max_len,
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (transport, max_len) = match Wire::deserialize(d)? {
            Wire::Socket { fd, unix, max_len } => (
                Transport::Socket {
                    fd: fd.into_inner(),
                    unix,
                },
                max_len,
            ),
            Wire::Pipes {
                rx,
                tx,
                side,
                max_len,
            } => (
                Transport::Pipes {
                    rx: rx.map(Handle::into_inner),
                    tx: tx.map(Handle::into_inner),
                    side: side.into_inner(),
                },
                max_len,
            ),
        };
        let c = Connection::with_transport(transport);
        c.set_max_frame_len(max_len);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx_of(c: &Connection) -> BorrowedFd<'_> {
        match &c.transport {
            Transport::Pipes { tx: Some(tx), .. } => tx.as_fd(),
            _ => panic!("not a pipe end"),
        }
    }

    #[test]
    fn pipe_frame_announcing_missing_handles_is_an_envelope_error() {
        let (a, b) = pipe(true).unwrap();
        sysfd::write(tx_of(&a), &[0, 0, 0, 2, 1, 0]).unwrap();
        assert!(matches!(b.recv::<Handle>(), Err(Error::Envelope(_))));
        // The stream is still in sync.
        a.send(&5u8).unwrap();
        assert_eq!(b.recv::<u8>().unwrap(), 5);
    }

    #[test]
    fn pipe_handles_with_a_wrong_count_are_closed() {
        let (a, b) = pipe(true).unwrap();
        let (x, _y) = pipe(true).unwrap();
        // Two handles in the side message, but the frame claims one.
        let side = match &a.transport {
            Transport::Pipes { side, .. } => side.as_fd(),
            Transport::Socket { .. } => unreachable!(),
        };
        sysfd::send_with_fds(side, &[IoSlice::new(&[1])], &[x.as_fd(), x.as_fd()]).unwrap();
        sysfd::write(tx_of(&a), &[0, 0, 0, 2, 1, 0]).unwrap();
        assert!(matches!(b.recv::<Handle>(), Err(Error::Envelope(_))));
    }

    #[test]
    fn simplex_pipe_ends_are_typed_by_direction() {
        let (r, w) = pipe(false).unwrap();
        assert!(r.readable() && !r.writable());
        assert!(w.writable() && !w.readable());
        // A write-only end still travels and keeps its direction.
        let (bytes, fds) = encode_envelope(&w).unwrap();
        let w2: Connection = decode_envelope(&bytes, fds).unwrap();
        assert!(w2.writable() && !w2.readable());
        w2.send_bytes(b"via copy").unwrap();
        assert_eq!(r.recv_bytes().unwrap(), b"via copy");
    }
}
