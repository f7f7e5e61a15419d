//! The frame codec: CPython's `multiprocessing.connection` framing, as pure functions.
//!
//! A frame is a header followed by the payload. The header is a 4-byte signed big-endian
//! length; a payload longer than `i32::MAX` bytes is announced by the 4 bytes `ff ff ff ff`
//! (that is, `-1`) followed by an 8-byte unsigned big-endian length. Decoders accept the long
//! form at any length (CPython only writes it above `i32::MAX`, but reads it always). Any other
//! negative length is an error, and so is a length above the decoder's maximum: a hostile
//! length never turns into an allocation.

use crate::error::{Error, Result};

/// The default largest payload a [`Connection`](crate::Connection) accepts: 1 GiB.
pub const DEFAULT_MAX_FRAME_LEN: u64 = 1 << 30;

/// The longest header: the `-1` escape and an 8-byte length.
pub const MAX_HEADER_LEN: usize = 12;

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Bytes the header itself occupies: 4, or 12 for the long form.
    pub header_len: usize,
    /// Bytes of payload that follow the header.
    pub payload_len: u64,
}

impl Header {
    /// Header and payload together.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = multiproc_pipe::frame::Header { header_len: 4, payload_len: 5 };
    /// assert_eq!(h.frame_len(), 9);
    /// ```
    pub fn frame_len(&self) -> u64 {
        self.payload_len.saturating_add(self.header_len as u64)
    }
}

/// Writes the header for a payload of `len` bytes into `out`, returning how many bytes of
/// `out` it used (4, or 12 above `i32::MAX`), exactly as CPython does.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::frame::{encode_header, MAX_HEADER_LEN};
/// let mut h = [0u8; MAX_HEADER_LEN];
/// let n = encode_header(5, &mut h);
/// assert_eq!(&h[..n], [0, 0, 0, 5]);
/// let n = encode_header(1 << 31, &mut h);
/// assert_eq!(&h[..n], [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 0]);
/// ```
pub fn encode_header(len: u64, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
    match i32::try_from(len) {
        Ok(short) => {
            out[..4].copy_from_slice(&short.to_be_bytes());
            4
        }
        Err(_) => {
            out[..4].copy_from_slice(&(-1i32).to_be_bytes());
            out[4..].copy_from_slice(&len.to_be_bytes());
            MAX_HEADER_LEN
        }
    }
}

/// Decodes the header at the start of `bytes`; `Ok(None)` if more bytes are needed.
///
/// # Errors
///
/// [`Error::InvalidLength`] for a negative length other than `-1`, [`Error::FrameTooLong`]
/// for a payload above `max_len`.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::frame::{decode_header, Header};
/// assert_eq!(decode_header(&[0, 0], 100)?, None);
/// assert_eq!(decode_header(&[0, 0, 0, 7, 1], 100)?, Some(Header { header_len: 4, payload_len: 7 }));
/// // The long form is accepted at any length.
/// let long = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3];
/// assert_eq!(decode_header(&long, 100)?, Some(Header { header_len: 12, payload_len: 3 }));
/// assert!(decode_header(&[0x7f, 0xff, 0xff, 0xff], 100).is_err());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn decode_header(bytes: &[u8], max_len: u64) -> Result<Option<Header>> {
    let Some(short) = bytes.first_chunk::<4>() else {
        return Ok(None);
    };
    let short = i32::from_be_bytes(*short);
    let header = if short >= 0 {
        Header {
            header_len: 4,
            payload_len: short.unsigned_abs().into(),
        }
    } else if short == -1 {
        let Some(long) = bytes.get(4..).and_then(|b| b.first_chunk::<8>()) else {
            return Ok(None);
        };
        Header {
            header_len: MAX_HEADER_LEN,
            payload_len: u64::from_be_bytes(*long),
        }
    } else {
        return Err(Error::InvalidLength(short));
    };
    if header.payload_len > max_len {
        return Err(Error::FrameTooLong {
            len: header.payload_len,
            max: max_len,
        });
    }
    Ok(Some(header))
}

/// Encodes one complete frame (header and payload) into a new vector.
///
/// # Examples
///
/// ```
/// assert_eq!(multiproc_pipe::frame::encode_frame(b"hi"), [0, 0, 0, 2, b'h', b'i']);
/// ```
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let mut h = [0u8; MAX_HEADER_LEN];
    let n = encode_header(payload.len() as u64, &mut h);
    let mut out = Vec::with_capacity(n + payload.len());
    out.extend_from_slice(&h[..n]);
    out.extend_from_slice(payload);
    out
}

/// Decodes every complete frame in `bytes` at once, returning the payloads and the number of
/// bytes they used (a trailing incomplete frame is left unconsumed).
///
/// # Errors
///
/// As [`decode_header`], for the first bad header.
///
/// # Examples
///
/// ```
/// let (frames, used) = multiproc_pipe::frame::decode_frames(&[0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0], 10)?;
/// assert_eq!(frames, [vec![9], vec![]]);
/// assert_eq!(used, 9);
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn decode_frames(bytes: &[u8], max_len: u64) -> Result<(Vec<Vec<u8>>, usize)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while let Some(h) = decode_header(&bytes[at..], max_len)? {
        let rest = &bytes[at + h.header_len..];
        match usize::try_from(h.payload_len) {
            Ok(len) if len <= rest.len() => {
                frames.push(rest[..len].to_vec());
                at += h.header_len + len;
            }
            _ => break,
        }
    }
    Ok((frames, at))
}

/// An incremental decoder: feed it a byte stream cut anywhere, take complete frames out.
///
/// It holds at most the bytes it was given; a frame's payload is only allocated as its bytes
/// arrive. After an error the decoder stays failed (the stream has lost synchronisation).
///
/// # Examples
///
/// ```
/// use multiproc_pipe::frame::FrameDecoder;
/// let mut d = FrameDecoder::new(1024);
/// d.push(&[0, 0]);
/// assert_eq!(d.next_frame()?, None);
/// d.push(&[0, 2, b'o']);
/// assert_eq!(d.next_frame()?, None);
/// d.push(&[b'k', 0, 0, 0, 0]);
/// assert_eq!(d.next_frame()?, Some(b"ok".to_vec()));
/// assert_eq!(d.next_frame()?, Some(Vec::new()));
/// assert_eq!(d.next_frame()?, None);
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    max_len: u64,
    buf: Vec<u8>,
    start: usize,
    failed: bool,
}

impl FrameDecoder {
    /// A decoder refusing payloads longer than `max_len`.
    ///
    /// # Examples
    ///
    /// ```
    /// let d = multiproc_pipe::frame::FrameDecoder::new(multiproc_pipe::frame::DEFAULT_MAX_FRAME_LEN);
    /// ```
    pub fn new(max_len: u64) -> Self {
        FrameDecoder {
            max_len,
            buf: Vec::new(),
            start: 0,
            failed: false,
        }
    }

    /// Appends bytes from the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut d = multiproc_pipe::frame::FrameDecoder::new(16);
    /// d.push(&[0, 0, 0]);
    /// assert_eq!(d.buffered(), 3);
    /// ```
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that do not yet form a complete frame (or were not taken yet).
    ///
    /// # Examples
    ///
    /// ```
    /// let d = multiproc_pipe::frame::FrameDecoder::new(16);
    /// assert_eq!(d.buffered(), 0);
    /// ```
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Takes the next complete frame's payload, `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    ///
    /// As [`decode_header`]; afterwards every call fails with [`Error::Broken`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut d = multiproc_pipe::frame::FrameDecoder::new(4);
    /// d.push(&[0, 0, 0, 5]);
    /// assert!(d.next_frame().is_err());
    /// assert!(matches!(d.next_frame(), Err(multiproc_pipe::Error::Broken)));
    /// ```
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>> {
        if self.failed {
            return Err(Error::Broken);
        }
        let avail = &self.buf[self.start..];
        let header = match decode_header(avail, self.max_len) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        let rest = &avail[header.header_len..];
        match usize::try_from(header.payload_len) {
            Ok(len) if len <= rest.len() => {
                let payload = rest[..len].to_vec();
                self.start += header.header_len + len;
                Ok(Some(payload))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_boundaries() {
        let mut h = [0u8; MAX_HEADER_LEN];
        assert_eq!(encode_header(i32::MAX as u64, &mut h), 4);
        assert_eq!(encode_header(i32::MAX as u64 + 1, &mut h), 12);
        let got = decode_header(&h, u64::MAX).unwrap().unwrap();
        assert_eq!(got.payload_len, i32::MAX as u64 + 1);
        assert!(matches!(
            decode_header(&[0xff, 0xff, 0xff, 0xfe], u64::MAX),
            Err(Error::InvalidLength(-2))
        ));
        assert!(matches!(
            decode_header(&[0xff; 12], u64::MAX - 1),
            Err(Error::FrameTooLong { .. })
        ));
    }

    #[test]
    fn incremental_agrees_with_one_shot_byte_by_byte() {
        let mut stream = Vec::new();
        for n in [0usize, 1, 5, 300] {
            stream.extend(encode_frame(&vec![7u8; n]));
        }
        stream.extend([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2]);
        let (frames, used) = decode_frames(&stream, 1000).unwrap();
        assert_eq!(used, stream.len());
        let mut d = FrameDecoder::new(1000);
        let mut got = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b));
            while let Some(f) = d.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
        assert_eq!(d.buffered(), 0);
    }
}
