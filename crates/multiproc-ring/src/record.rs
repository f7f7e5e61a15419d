//! Record headers: the 8 bytes in front of every record, and their decoder.
//!
//! ```text
//! byte 0..4  len    payload length in bytes (little-endian u32)
//! byte 4..6  kind   1 WHOLE, 2 FIRST, 3 MIDDLE, 4 LAST, 5 PAD (little-endian u16)
//! byte 6..8  check  0x5a5a ^ kind ^ low16(len) ^ high16(len)
//! byte 8..   payload, then zero to seven bytes of padding up to the next 8-byte boundary
//! ```
//!
//! A message that fits in half the ring is one WHOLE record. A larger one is streamed as a FIRST
//! record (payload: message id `u64`, total length `u64`, bytes), MIDDLE records (message id,
//! bytes) and a LAST record (message id, bytes). A PAD record fills the space up to the end of
//! the data area when the next record does not fit there.
//!
//! Everything here is a pure function over bytes: the segment may have been written by a hostile
//! or crashed process, so every field is checked and a bad one is an [`Error::Corrupt`].

use crate::Error;

/// Size of a record header.
pub const HEADER_LEN: usize = 8;
/// Size of the FIRST record's prefix (message id, total length).
pub(crate) const FIRST_PREFIX: usize = 16;
/// Size of the MIDDLE/LAST records' prefix (message id).
pub(crate) const FRAG_PREFIX: usize = 8;

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A complete message.
    Whole,
    /// The first piece of a streamed message.
    First,
    /// A middle piece of a streamed message.
    Middle,
    /// The last piece of a streamed message.
    Last,
    /// Filler up to the end of the data area.
    Pad,
}

impl RecordKind {
    fn code(self) -> u16 {
        match self {
            Self::Whole => 1,
            Self::First => 2,
            Self::Middle => 3,
            Self::Last => 4,
            Self::Pad => 5,
        }
    }

    fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1 => Self::Whole,
            2 => Self::First,
            3 => Self::Middle,
            4 => Self::Last,
            5 => Self::Pad,
            _ => return None,
        })
    }

    /// Whether consuming this record completes one message (moves the message count).
    pub(crate) fn ends_message(self) -> bool {
        matches!(self, Self::Whole | Self::Last)
    }
}

/// A decoded, bounds-checked record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// The record kind.
    pub kind: RecordKind,
    /// Payload length in bytes.
    pub len: u32,
}

impl RecordHeader {
    /// Bytes the record occupies in the ring, header and padding included.
    pub fn size(&self) -> u64 {
        record_size(u64::from(self.len))
    }
}

/// Bytes a record with `len` payload bytes occupies (header + payload rounded up to 8).
#[inline]
pub(crate) fn record_size(len: u64) -> u64 {
    (HEADER_LEN as u64 + len + 7) & !7
}

fn check(kind: u16, len: u32) -> u16 {
    // Truncations intended: the check mixes both halves of `len`.
    let lo = (len & 0xffff) as u16;
    let hi = (len >> 16) as u16;
    0x5a5a ^ kind ^ lo ^ hi
}

/// Encodes a record header.
pub(crate) fn encode_header(kind: RecordKind, len: u32) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0..4].copy_from_slice(&len.to_le_bytes());
    out[4..6].copy_from_slice(&kind.code().to_le_bytes());
    out[6..8].copy_from_slice(&check(kind.code(), len).to_le_bytes());
    out
}

/// Decodes the record header `bytes` found at byte `offset` of a data area of `capacity` bytes
/// when `available` bytes (from `offset` on, wrapping) are committed.
///
/// Pure and total: any input gives a header that lies entirely inside the committed bytes and
/// inside the data area (a record never wraps; a PAD ends exactly at the end of the area; a
/// FIRST/MIDDLE/LAST is long enough for its prefix), or an error.
///
/// # Errors
///
/// [`Error::Corrupt`] when the header fails any of those checks.
///
/// # Examples
///
/// ```
/// use multiproc_ring::{decode_header, RecordKind};
///
/// // A WHOLE record of 3 bytes: len 3, kind 1, check 0x5a5a ^ 1 ^ 3 ^ 0.
/// let check: u16 = 0x5a5a ^ 1 ^ 3;
/// let mut bytes = [0u8; 8];
/// bytes[0..4].copy_from_slice(&3u32.to_le_bytes());
/// bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
/// bytes[6..8].copy_from_slice(&check.to_le_bytes());
/// let h = decode_header(bytes, 0, 64, 16)?;
/// assert_eq!((h.kind, h.len, h.size()), (RecordKind::Whole, 3, 16));
/// assert!(decode_header([0xff; 8], 0, 64, 16).is_err());
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
pub fn decode_header(
    bytes: [u8; HEADER_LEN],
    offset: u64,
    capacity: u64,
    available: u64,
) -> Result<RecordHeader, Error> {
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let code = u16::from_le_bytes([bytes[4], bytes[5]]);
    let chk = u16::from_le_bytes([bytes[6], bytes[7]]);
    if chk != check(code, len) {
        return Err(Error::Corrupt("record header check mismatch"));
    }
    let kind = RecordKind::from_code(code).ok_or(Error::Corrupt("unknown record kind"))?;
    if offset % 8 != 0 || offset >= capacity {
        return Err(Error::Corrupt("record offset out of bounds"));
    }
    let size = record_size(u64::from(len));
    if size > available {
        return Err(Error::Corrupt("record longer than the committed bytes"));
    }
    let to_end = capacity - offset;
    match kind {
        RecordKind::Pad if size != to_end => {
            return Err(Error::Corrupt(
                "pad record does not end at the end of the ring",
            ));
        }
        _ if size > to_end => return Err(Error::Corrupt("record crosses the end of the ring")),
        RecordKind::First if (len as usize) < FIRST_PREFIX => {
            return Err(Error::Corrupt("first record shorter than its prefix"));
        }
        RecordKind::Middle | RecordKind::Last if (len as usize) < FRAG_PREFIX => {
            return Err(Error::Corrupt("stream record shorter than its prefix"));
        }
        _ => {}
    }
    Ok(RecordHeader { kind, len })
}

/// Decodes the prefix of a FIRST record: (message id, total length).
pub(crate) fn decode_first_prefix(p: &[u8]) -> Result<(u64, u64), Error> {
    let id = read_u64(p, 0)?;
    let total = read_u64(p, 8)?;
    Ok((id, total))
}

/// Reads a little-endian `u64` at `at`, bounds-checked.
pub(crate) fn read_u64(p: &[u8], at: usize) -> Result<u64, Error> {
    let b = p
        .get(at..at + 8)
        .ok_or(Error::Corrupt("truncated record prefix"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

/// Walks a whole ring image as a consumer would: `image` holds the `head` and `tail` position
/// words (16 bytes, little-endian) followed by the data area (its length rounded down to a
/// power of two). Returns the number of complete messages found.
///
/// This is the pure core of the fuzz target `queue_slot_decode`: every byte may be hostile.
///
/// # Errors
///
/// [`Error::Corrupt`] at the first inconsistency.
///
/// # Examples
///
/// ```
/// let mut image = vec![0u8; 16 + 64];
/// assert_eq!(multiproc_ring::scan_image(&image)?, 0); // head == tail: empty
/// image[8] = 0xff; // tail far ahead of head: corrupt
/// assert!(multiproc_ring::scan_image(&image).is_err());
/// # Ok::<(), multiproc_ring::Error>(())
/// ```
pub fn scan_image(image: &[u8]) -> Result<u64, Error> {
    use crate::layout::{pos_diff, unpack};
    let head = read_u64(image, 0)?;
    let tail = read_u64(image, 8)?;
    let data = &image[16..];
    if data.len() < 8 {
        return Err(Error::Corrupt("ring image too short"));
    }
    let cap_bytes = 1u64 << (63 - (data.len() as u64).leading_zeros());
    let (hpos, _) = unpack(head);
    let (tpos, _) = unpack(tail);
    let used = pos_diff(tpos, hpos)
        .checked_mul(8)
        .ok_or(Error::Corrupt("ring positions out of range"))?;
    if used > cap_bytes {
        return Err(Error::Corrupt("more bytes committed than the ring holds"));
    }
    let mut at = (hpos * 8) % cap_bytes;
    let mut left = used;
    let mut messages = 0u64;
    let mut stream: Option<(u64, u64, u64)> = None; // (id, total, received)
    while left > 0 {
        let off = usize::try_from(at).map_err(|_| Error::Corrupt("offset"))?;
        let hb: [u8; HEADER_LEN] = data
            .get(off..off + HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(Error::Corrupt("record header out of bounds"))?;
        let h = decode_header(hb, at, cap_bytes, left)?;
        let start = off + HEADER_LEN;
        let payload = data
            .get(start..start + h.len as usize)
            .ok_or(Error::Corrupt("record payload out of bounds"))?;
        match h.kind {
            RecordKind::Whole => messages += 1,
            RecordKind::Pad => {}
            RecordKind::First => {
                let (id, total) = decode_first_prefix(payload)?;
                stream = Some((id, total, (payload.len() - FIRST_PREFIX) as u64));
            }
            RecordKind::Middle | RecordKind::Last => {
                let id = read_u64(payload, 0)?;
                let got = (payload.len() - FRAG_PREFIX) as u64;
                match stream {
                    Some((sid, total, recv)) if sid == id => {
                        let recv = recv.saturating_add(got);
                        if recv > total {
                            return Err(Error::Corrupt("stream longer than announced"));
                        }
                        stream = Some((sid, total, recv));
                        if h.kind == RecordKind::Last {
                            if recv != total {
                                return Err(Error::Corrupt("stream shorter than announced"));
                            }
                            messages += 1;
                            stream = None;
                        }
                    }
                    _ => stream = None, // an orphan piece: skipped, as the consumer does
                }
            }
        }
        let size = h.size();
        left -= size;
        at = (at + size) % cap_bytes;
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        for kind in [
            RecordKind::Whole,
            RecordKind::First,
            RecordKind::Middle,
            RecordKind::Last,
        ] {
            let h = decode_header(encode_header(kind, 20), 0, 64, 64).unwrap();
            assert_eq!((h.kind, h.len, h.size()), (kind, 20, 32));
        }
        let pad = decode_header(encode_header(RecordKind::Pad, 8), 48, 64, 64).unwrap();
        assert_eq!(pad.size(), 16);
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert!(decode_header(encode_header(RecordKind::Whole, 100), 0, 64, 64).is_err());
        assert!(decode_header(encode_header(RecordKind::Whole, 20), 48, 64, 64).is_err());
        assert!(decode_header(encode_header(RecordKind::Pad, 0), 0, 64, 64).is_err());
        assert!(decode_header(encode_header(RecordKind::First, 4), 0, 64, 64).is_err());
        assert!(decode_header(encode_header(RecordKind::Whole, 4), 4, 64, 64).is_err());
        assert!(decode_header(encode_header(RecordKind::Whole, u32::MAX), 0, 64, 64).is_err());
        let mut bad = encode_header(RecordKind::Whole, 4);
        bad[4] = 9;
        assert!(decode_header(bad, 0, 64, 64).is_err());
    }

    #[test]
    fn scan_counts_messages() {
        let mut image = vec![0u8; 16 + 64];
        let rec = encode_header(RecordKind::Whole, 3);
        image[16..24].copy_from_slice(&rec);
        image[32..40].copy_from_slice(&rec);
        image[8..16].copy_from_slice(&4u64.to_le_bytes()); // tail = 4 units = 32 bytes
        assert_eq!(scan_image(&image).unwrap(), 2);
    }
}
