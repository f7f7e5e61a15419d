//! The bootstrap wire format: length-prefixed postcard frames over a Unix stream socket, with
//! the fds of a message attached (`SCM_RIGHTS`) to its first bytes.
//!
//! A frame is a 4-byte little-endian length followed by that many bytes. Lengths above
//! [`MAX_FRAME`] are refused before anything is allocated, and the receive buffer only grows as
//! bytes actually arrive, so a hostile length cannot trigger a huge allocation.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use multiproc_sys::fd::{self, Interest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bootstrap::ChildRequest;
use crate::error::{Error, Result};
use crate::target::Report;

/// The largest frame accepted (1 GiB).
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// Serializes `value`, moving every fd inside into the returned table (handle transfer).
pub(crate) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
    multiproc_shm::handle::encode_with_handles(value).map_err(|e| Error::Codec(e.to_string()))
}

/// Deserializes `bytes`, handing out fds from `fds` by index.
pub(crate) fn decode_value<T: DeserializeOwned>(bytes: &[u8], fds: Vec<OwnedFd>) -> Result<T> {
    multiproc_shm::handle::decode_with_handles(bytes, fds).map_err(|e| Error::Codec(e.to_string()))
}

/// Serializes a plain (fd-free) protocol message.
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::Codec(e.to_string()))
}

/// Deserializes a plain protocol message, requiring every byte to be used.
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        Ok(_) => Err(Error::Protocol("trailing bytes".into())),
        Err(e) => Err(Error::Protocol(e.to_string())),
    }
}

/// Writes one frame (blocking socket), with `fds` attached to its first byte.
pub(crate) fn write_frame(sock: BorrowedFd<'_>, body: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
    if body.len() > MAX_FRAME {
        return Err(Error::Codec("message too large".into()));
    }
    if fds.len() > fd::MAX_FDS_PER_MESSAGE {
        return Err(Error::Codec("too many handles in one message".into()));
    }
    let len = u32::try_from(body.len()).map_err(|_| Error::Codec("message too large".into()))?;
    let mut msg = Vec::with_capacity(4 + body.len());
    msg.extend_from_slice(&len.to_le_bytes());
    msg.extend_from_slice(body);
    let mut sent = 0;
    let mut first = true;
    while sent < msg.len() {
        let attach: &[BorrowedFd<'_>] = if first { fds } else { &[] };
        match fd::send_with_fds(sock, &[IoSlice::new(&msg[sent..])], attach) {
            Ok(n) => {
                sent += n;
                first = false;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                fd::poll(&[(sock, Interest::Write)], &mut [false], None)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Accumulates one frame from a socket, blocking or not.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    fds: Vec<OwnedFd>,
    eof: bool,
}

/// What [`FrameReader::poll`] found.
#[derive(Debug)]
pub(crate) enum Progress {
    /// A whole frame: its body and its fds.
    Frame(Vec<u8>, Vec<OwnedFd>),
    /// More bytes are needed (non-blocking socket had nothing more).
    Pending,
    /// The peer closed the stream before a whole frame arrived.
    Eof,
}

/// Parses the 4-byte little-endian length at the start of `buf`: `Ok(None)` while the header
/// is incomplete, otherwise the announced body length.
///
/// A pure function over untrusted bytes: a length above [`MAX_FRAME`] is an error, and nothing
/// is allocated.
pub(crate) fn announced_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(header) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = usize::try_from(u32::from_le_bytes(*header)).unwrap_or(usize::MAX);
    if len > MAX_FRAME {
        return Err(Error::Protocol("frame length over the limit".into()));
    }
    Ok(Some(len))
}

/// Splits the first whole frame off `buf`: `Ok(Some((body, rest)))`, or `Ok(None)` when more
/// bytes are needed.
pub(crate) fn split_frame(buf: &[u8]) -> Result<Option<(&[u8], &[u8])>> {
    Ok(match announced_len(buf)? {
        Some(len) => buf.get(4..).and_then(|b| b.split_at_checked(len)),
        None => None,
    })
}

/// Reads the 4-byte little-endian `i32` (a pid or an exit code) at the start of a status
/// stream; `None` while fewer than 4 bytes have arrived.
pub(crate) fn decode_code(buf: &[u8]) -> Option<i32> {
    buf.first_chunk::<4>().map(|b| i32::from_le_bytes(*b))
}

impl FrameReader {
    fn take(&mut self, len: usize) -> Progress {
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Progress::Frame(body, std::mem::take(&mut self.fds))
    }

    /// Reads what is available (on a blocking socket: until one whole frame or end of stream).
    ///
    /// Reads go straight into the frame buffer, sized by what the header announced (at most
    /// 1 MiB more at a time), so no large scratch buffer is zeroed per call.
    pub(crate) fn poll(&mut self, sock: impl AsFd) -> Result<Progress> {
        loop {
            let want = match announced_len(&self.buf)? {
                None => 64,
                Some(len) if self.buf.len() - 4 >= len => return Ok(self.take(len)),
                Some(len) => (4 + len - self.buf.len()).min(1 << 20),
            };
            if self.eof {
                return Ok(Progress::Eof);
            }
            let start = self.buf.len();
            self.buf.resize(start + want, 0);
            let got = fd::recv_with_fds(&sock, &mut self.buf[start..], &mut self.fds);
            self.buf
                .truncate(start + got.as_ref().map_or(0, |r| r.bytes));
            match got {
                Ok(r) if r.truncated || self.fds.len() > fd::MAX_FDS_PER_MESSAGE => {
                    // The kernel (or the check above) dropped descriptors: the frame's handle
                    // table can no longer be trusted.
                    self.fds.clear();
                    return Err(Error::Protocol("too many handles in one message".into()));
                }
                Ok(r) if r.bytes == 0 => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Progress::Pending),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.eof = true,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// `poll(POLLIN)` on `fds` for at most `timeout` (`None`: forever); one readiness flag per fd
/// (hang-up and errors count as ready).
pub(crate) fn poll_readable(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let interests: Vec<(BorrowedFd<'_>, Interest)> =
        fds.iter().map(|&f| (f, Interest::Read)).collect();
    let mut ready = vec![false; fds.len()];
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    fd::poll(&interests, &mut ready, deadline)?;
    Ok(ready)
}

/// `poll(POLLIN)` on up to two fds for at most `timeout` (`None`: forever), without the
/// allocations of [`poll_readable`]: for the waits of `join`, which run while a fork child
/// still shares the parent's pages (every page written then is copied).
pub(crate) fn poll_any(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<()> {
    let interests = match *fds {
        [a] => [(a, Interest::Read), (a, Interest::Read)],
        [a, b] => [(a, Interest::Read), (b, Interest::Read)],
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "poll_any takes one or two fds",
            ));
        }
    };
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    fd::poll(&interests[..fds.len()], &mut [false; 2], deadline)?;
    Ok(())
}

/// Reads exactly one frame from a blocking socket.
pub(crate) fn read_frame(sock: impl AsFd) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
    match FrameReader::default().poll(sock)? {
        Progress::Frame(b, f) => Ok((b, f)),
        Progress::Pending | Progress::Eof => Err(Error::Protocol("peer closed the stream".into())),
    }
}

/// Runs every decoder that reads bytes from another process over `data`: frame splitting, the
/// status stream's code, the child's request, the child's report and a returned value. Used by
/// the `process_codec` fuzz target; it must never panic, hang or allocate without bound.
///
/// # Examples
///
/// ```
/// multiproc_process::__fuzz::decode(&[4, 0, 0, 0, 2, 1, b'x', 0xff]);
/// multiproc_process::__fuzz::decode(&u32::MAX.to_le_bytes());
/// ```
pub fn fuzz_decode(data: &[u8]) {
    let _ = decode_code(data);
    let mut rest = data;
    loop {
        match split_frame(rest) {
            Ok(Some((body, tail))) => {
                assert_eq!(
                    4 + body.len() + tail.len(),
                    rest.len(),
                    "frame split lost bytes"
                );
                decode_body(body);
                rest = tail;
            }
            Ok(None) => break,
            Err(_) => {
                assert!(announced_len(rest).is_err());
                break;
            }
        }
    }
    decode_body(data);
}

fn decode_body(body: &[u8]) {
    if let Ok(report) = from_bytes::<Report>(body) {
        let _ = crate::bootstrap::decode_report::<(String, Vec<u8>, Option<u64>)>(
            Some((report, Vec::new())),
            None,
        );
    }
    let _ = from_bytes::<ChildRequest>(body);
    let _ = decode_value::<(String, Vec<u32>)>(body, Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn frames_round_trip_with_fds() {
        let (a, b) = fd::socketpair().unwrap();
        let (x, _y) = fd::socketpair().unwrap();
        write_frame(a.as_fd(), b"hello", &[x.as_fd()]).unwrap();
        write_frame(a.as_fd(), b"", &[]).unwrap();
        let (body, fds) = read_frame(&b).unwrap();
        assert_eq!((body.as_slice(), fds.len()), (&b"hello"[..], 1));
        let (body, fds) = read_frame(&b).unwrap();
        assert!(body.is_empty() && fds.is_empty());
    }

    #[test]
    fn hostile_length_is_an_error_not_an_allocation() {
        let (a, b) = fd::socketpair().unwrap();
        fd::send_with_fds(&a, &[IoSlice::new(&u32::MAX.to_le_bytes())], &[]).unwrap();
        assert!(matches!(read_frame(&b), Err(Error::Protocol(_))));
    }

    #[test]
    fn too_many_handles_for_one_frame_is_an_error() {
        let (a, b) = fd::socketpair().unwrap();
        fd::set_nonblocking(&b, true).unwrap();
        let (x, _y) = fd::socketpair().unwrap();
        let many = vec![x.as_fd(); 130];
        // One frame of 8 bytes whose pieces carry 260 fds in all (over the per-message cap).
        fd::send_with_fds(&a, &[IoSlice::new(&[8, 0, 0, 0, 1])], &many).unwrap();
        let mut reader = FrameReader::default();
        assert!(matches!(reader.poll(&b), Ok(Progress::Pending)));
        assert_eq!(reader.fds.len(), 130);
        fd::send_with_fds(&a, &[IoSlice::new(&[2])], &many).unwrap();
        assert!(matches!(reader.poll(&b), Err(Error::Protocol(_))));
        assert!(reader.fds.is_empty());
    }

    #[test]
    fn truncated_frame_is_end_of_stream() {
        let (a, b) = fd::socketpair().unwrap();
        fd::send_with_fds(&a, &[IoSlice::new(&[10, 0, 0, 0, 1, 2])], &[]).unwrap();
        drop(a);
        assert!(read_frame(&b).is_err());
    }

    #[test]
    fn split_frame_handles_partial_and_hostile_input() {
        assert!(split_frame(&[1, 0]).unwrap().is_none());
        assert!(split_frame(&[3, 0, 0, 0, 1, 2]).unwrap().is_none());
        let (body, rest) = split_frame(&[2, 0, 0, 0, 7, 8, 9]).unwrap().unwrap();
        assert_eq!((body, rest), (&[7u8, 8][..], &[9u8][..]));
        assert!(split_frame(&u32::MAX.to_le_bytes()).is_err());
        assert_eq!(decode_code(&(-9i32).to_le_bytes()), Some(-9));
        assert_eq!(decode_code(&[1, 2, 3]), None);
        fuzz_decode(&[5, 0, 0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn protocol_messages_reject_trailing_bytes() {
        let mut bytes = to_bytes(&7u32).unwrap();
        assert_eq!(from_bytes::<u32>(&bytes).unwrap(), 7);
        bytes.push(0);
        assert!(from_bytes::<u32>(&bytes).is_err());
    }
}
