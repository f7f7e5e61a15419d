//! The versioned header every multiproc structure in shared memory starts with.
//!
//! A process that maps a segment someone else made cannot trust its bytes: the other process may
//! run another version of the library, may have died half-way through initialising, or may be
//! hostile. So every structure begins with a 32-byte [`Header`] and is *attached* only after
//! [`attach_check`] accepted it: right magic, right kind of structure, a layout version we
//! understand, and a declared size that fits in the mapping.
//!
//! # Layout (`#[repr(C)]`, 32 bytes, native byte order)
//!
//! | offset | field        | type  | meaning                                                    |
//! |-------:|--------------|-------|------------------------------------------------------------|
//! | 0      | `magic`      | `u32` | [`MAGIC`] once initialised; written last (release)         |
//! | 4      | `kind`       | `u32` | four-character code of the structure ([`kind`])            |
//! | 8      | `version`    | `u32` | layout version of that structure                           |
//! | 12     | `header_len` | `u32` | [`HEADER_LEN`]                                             |
//! | 16     | `size`       | `u64` | bytes of the whole structure, header included             |
//! | 24     | `reserved`   | `u64` | zero                                                       |
//!
//! # State table of `magic`
//!
//! | value     | meaning                                                                      |
//! |-----------|------------------------------------------------------------------------------|
//! | `0`       | fresh, zero-filled memory: the creator has not published the header yet      |
//! | [`MAGIC`] | published: the other fields are final (read them after an acquire load)      |
//! | other     | not a multiproc structure: attaching fails with [`AttachError::BadMagic`]    |
//!
//! The creator writes the fields, then `magic` with release ordering ([`Header::publish`]);
//! an attacher loads `magic` with acquire ordering first ([`Header::snapshot`]), so a
//! half-written header reads as [`AttachError::Uninitialized`], never as garbage accepted.
//!
//! # Examples
//!
//! ```
//! use multiproc_shm::header::{self, AttachError, Header, HEADER_LEN};
//!
//! const QUEUE: u32 = header::kind(b"QUEU");
//! let h = Header::default();
//! // Zero-filled memory is "not initialised yet".
//! assert_eq!(h.check(QUEUE, 1, 4096), Err(AttachError::Uninitialized));
//! h.publish(QUEUE, 1, 4096);
//! let fields = h.check(QUEUE, 1, 4096)?;
//! assert_eq!(fields.size, 4096);
//! // The pure check works on plain bytes too (what the fuzz target drives).
//! let bytes = h.snapshot();
//! assert!(header::attach_check(&bytes, QUEUE, 2, 4096).is_err());
//! assert_eq!(bytes.len(), HEADER_LEN);
//! # Ok::<(), AttachError>(())
//! ```

use multiproc_sys::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::fmt;

/// The magic number at offset 0 of every published header: `"MPrc"` in native byte order.
pub const MAGIC: u32 = u32::from_ne_bytes(*b"MPrc");

/// The size of a [`Header`] in bytes.
pub const HEADER_LEN: usize = HEADER_LEN_U32 as usize;

const HEADER_LEN_U32: u32 = 32;

/// A four-character structure code (`kind(b"LOCK")`), stored in [`Header`]'s `kind` field.
///
/// # Examples
///
/// ```
/// const ARENA: u32 = multiproc_shm::header::kind(b"ARNA");
/// assert_ne!(ARENA, multiproc_shm::header::kind(b"LOCK"));
/// ```
pub const fn kind(code: &[u8; 4]) -> u32 {
    u32::from_ne_bytes(*code)
}

/// The header at the start of a multiproc structure in shared memory.
///
/// Made only of atomics: all-zero is its valid initial state (unpublished). See the
/// [module documentation](self) for the layout and the state table.
///
/// # Examples
///
/// ```
/// use multiproc_shm::header::{Header, kind};
///
/// let h = Header::default();
/// h.publish(kind(b"DEMO"), 3, 64);
/// assert_eq!(h.check(kind(b"DEMO"), 3, 64)?.version, 3);
/// # Ok::<(), multiproc_shm::header::AttachError>(())
/// ```
#[repr(C)]
#[derive(Debug, Default)]
pub struct Header {
    magic: AtomicU32,
    kind: AtomicU32,
    version: AtomicU32,
    header_len: AtomicU32,
    size: AtomicU64,
    reserved: AtomicU64,
}

#[cfg(not(multiproc_loom))]
const _: () = {
    assert!(core::mem::size_of::<Header>() == HEADER_LEN);
    assert!(core::mem::align_of::<Header>() == 8);
};

/// The fields of a header that passed [`decode`].
///
/// # Examples
///
/// ```
/// use multiproc_shm::header::{Fields, decode, encode, kind};
///
/// let f = Fields { kind: kind(b"DEMO"), version: 1, size: 128 };
/// assert_eq!(decode(&encode(f))?, f);
/// # Ok::<(), multiproc_shm::header::AttachError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// The structure's four-character code.
    pub kind: u32,
    /// The structure's layout version.
    pub version: u32,
    /// The structure's size in bytes, header included.
    pub size: u64,
}

/// Why a header was refused.
///
/// # Examples
///
/// ```
/// let err = multiproc_shm::header::decode(&[0; 8]).unwrap_err();
/// assert_eq!(err.to_string(), "shared memory header needs 32 bytes, only 8 available");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachError {
    /// Fewer than [`HEADER_LEN`] bytes.
    TooShort(usize),
    /// The magic is zero: the creator has not published the header (yet).
    Uninitialized,
    /// The magic is neither zero nor [`MAGIC`]: not a multiproc structure.
    BadMagic(u32),
    /// The header length field is not [`HEADER_LEN`].
    BadHeaderLen(u32),
    /// The reserved field is not zero.
    ReservedNotZero,
    /// A structure of another kind.
    WrongKind {
        /// The kind in the header.
        found: u32,
        /// The kind the attacher wanted.
        expected: u32,
    },
    /// A layout version this build does not understand.
    UnsupportedVersion {
        /// The version in the header.
        found: u32,
        /// The version this build speaks.
        expected: u32,
    },
    /// The declared size is smaller than the header itself.
    SizeTooSmall(u64),
    /// The declared size does not fit in the mapped memory.
    Truncated {
        /// The size the header declares.
        size: u64,
        /// The bytes actually mapped.
        available: u64,
    },
}

/// Renders a four-character code for messages (non-printable bytes as `?`).
fn code(kind: u32) -> String {
    kind.to_ne_bytes()
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AttachError::TooShort(n) => write!(
                f,
                "shared memory header needs {HEADER_LEN} bytes, only {n} available"
            ),
            AttachError::Uninitialized => {
                f.write_str("shared memory structure is not initialised (zero magic)")
            }
            AttachError::BadMagic(m) => {
                write!(
                    f,
                    "not a multiproc shared memory structure (magic {m:#010x})"
                )
            }
            AttachError::BadHeaderLen(n) => write!(
                f,
                "shared memory header declares length {n}, expected {HEADER_LEN}"
            ),
            AttachError::ReservedNotZero => {
                f.write_str("shared memory header has a non-zero reserved field")
            }
            AttachError::WrongKind { found, expected } => write!(
                f,
                "shared memory holds a {:?} structure, expected {:?}",
                code(found),
                code(expected)
            ),
            AttachError::UnsupportedVersion { found, expected } => write!(
                f,
                "shared memory structure has layout version {found}, this build speaks {expected}"
            ),
            AttachError::SizeTooSmall(s) => write!(
                f,
                "shared memory structure declares {s} bytes, less than its header"
            ),
            AttachError::Truncated { size, available } => write!(
                f,
                "shared memory structure declares {size} bytes but only {available} are mapped"
            ),
        }
    }
}

impl std::error::Error for AttachError {}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(b)
}

/// Encodes `fields` as the 32 bytes of a published header.
///
/// # Examples
///
/// ```
/// use multiproc_shm::header::{Fields, MAGIC, encode, kind};
///
/// let bytes = encode(Fields { kind: kind(b"DEMO"), version: 1, size: 64 });
/// assert_eq!(bytes[..4], MAGIC.to_ne_bytes());
/// ```
pub fn encode(fields: Fields) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0..4].copy_from_slice(&MAGIC.to_ne_bytes());
    out[4..8].copy_from_slice(&fields.kind.to_ne_bytes());
    out[8..12].copy_from_slice(&fields.version.to_ne_bytes());
    out[12..16].copy_from_slice(&HEADER_LEN_U32.to_ne_bytes());
    out[16..24].copy_from_slice(&fields.size.to_ne_bytes());
    out
}

/// Decodes the first [`HEADER_LEN`] bytes of `bytes` as a header, checking what can be checked
/// without knowing the expected structure: length, magic, header length, reserved field, and a
/// size of at least the header.
///
/// # Errors
///
/// [`AttachError::TooShort`], [`Uninitialized`](AttachError::Uninitialized),
/// [`BadMagic`](AttachError::BadMagic), [`BadHeaderLen`](AttachError::BadHeaderLen),
/// [`ReservedNotZero`](AttachError::ReservedNotZero), [`SizeTooSmall`](AttachError::SizeTooSmall).
///
/// # Examples
///
/// ```
/// use multiproc_shm::header::{AttachError, decode};
///
/// assert_eq!(decode(&[0; 32]), Err(AttachError::Uninitialized));
/// assert!(matches!(decode(&[0xff; 32]), Err(AttachError::BadMagic(_))));
/// ```
pub fn decode(bytes: &[u8]) -> Result<Fields, AttachError> {
    if bytes.len() < HEADER_LEN {
        return Err(AttachError::TooShort(bytes.len()));
    }
    match u32_at(bytes, 0) {
        0 => return Err(AttachError::Uninitialized),
        MAGIC => {}
        other => return Err(AttachError::BadMagic(other)),
    }
    let header_len = u32_at(bytes, 12);
    if header_len != HEADER_LEN_U32 {
        return Err(AttachError::BadHeaderLen(header_len));
    }
    if u64_at(bytes, 24) != 0 {
        return Err(AttachError::ReservedNotZero);
    }
    let size = u64_at(bytes, 16);
    if size < HEADER_LEN as u64 {
        return Err(AttachError::SizeTooSmall(size));
    }
    Ok(Fields {
        kind: u32_at(bytes, 4),
        version: u32_at(bytes, 8),
        size,
    })
}

/// Decides whether a structure whose header bytes are `bytes` may be attached as a `kind`
/// structure of layout `version` in a mapping of `available` bytes.
///
/// A pure function over bytes: hostile input yields an error, never a panic.
///
/// # Errors
///
/// Everything [`decode`] refuses, plus [`AttachError::WrongKind`],
/// [`UnsupportedVersion`](AttachError::UnsupportedVersion) and
/// [`Truncated`](AttachError::Truncated).
///
/// # Examples
///
/// ```
/// use multiproc_shm::header::{AttachError, Fields, attach_check, encode, kind};
///
/// let bytes = encode(Fields { kind: kind(b"DEMO"), version: 1, size: 8192 });
/// assert!(attach_check(&bytes, kind(b"DEMO"), 1, 8192).is_ok());
/// assert_eq!(
///     attach_check(&bytes, kind(b"DEMO"), 1, 4096),
///     Err(AttachError::Truncated { size: 8192, available: 4096 })
/// );
/// ```
pub fn attach_check(
    bytes: &[u8],
    kind: u32,
    version: u32,
    available: u64,
) -> Result<Fields, AttachError> {
    let fields = decode(bytes)?;
    if fields.kind != kind {
        return Err(AttachError::WrongKind {
            found: fields.kind,
            expected: kind,
        });
    }
    if fields.version != version {
        return Err(AttachError::UnsupportedVersion {
            found: fields.version,
            expected: version,
        });
    }
    if fields.size > available {
        return Err(AttachError::Truncated {
            size: fields.size,
            available,
        });
    }
    Ok(fields)
}

impl Header {
    /// Returns a reference to the header at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` is 8-byte aligned and valid for reads and writes of [`HEADER_LEN`] bytes for `'a`,
    /// and those bytes are only ever accessed atomically (through `Header`s) meanwhile, in
    /// every process that maps them.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shm::header::Header;
    ///
    /// let shm = multiproc_shm::SharedMemory::anonymous(4096)?;
    /// // SAFETY: the mapping is page-aligned, outlives `h`, and its first 32 bytes are only
    /// // used as a header.
    /// let h = unsafe { Header::from_ptr(shm.as_ptr()) };
    /// assert!(h.snapshot().iter().all(|&b| b == 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[allow(unsafe_code)]
    pub unsafe fn from_ptr<'a>(ptr: *mut u8) -> &'a Header {
        debug_assert!(ptr.cast::<Header>().is_aligned());
        // SAFETY: aligned, valid and atomic-only for 'a (caller's contract); `Header` is made of
        // atomics only, so a shared reference to it permits concurrent mutation.
        unsafe { &*ptr.cast::<Header>() }
    }

    /// Publishes the header: writes kind, version and size, then the magic with release
    /// ordering. Called once by the creator, before anyone can attach.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = multiproc_shm::header::Header::default();
    /// h.publish(multiproc_shm::header::kind(b"DEMO"), 1, 32);
    /// assert!(h.is_published());
    /// ```
    pub fn publish(&self, kind: u32, version: u32, size: u64) {
        self.kind.store(kind, Ordering::Relaxed);
        self.version.store(version, Ordering::Relaxed);
        self.header_len.store(HEADER_LEN_U32, Ordering::Relaxed);
        self.size.store(size, Ordering::Relaxed);
        self.reserved.store(0, Ordering::Relaxed);
        self.magic.store(MAGIC, Ordering::Release);
    }

    /// Whether the magic is published (acquire load).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!multiproc_shm::header::Header::default().is_published());
    /// ```
    pub fn is_published(&self) -> bool {
        self.magic.load(Ordering::Acquire) == MAGIC
    }

    /// Copies the header out as bytes: the magic first (acquire), then the other fields.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_shm::header::Header::default().snapshot(), [0; 32]);
    /// ```
    pub fn snapshot(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.magic.load(Ordering::Acquire).to_ne_bytes());
        out[4..8].copy_from_slice(&self.kind.load(Ordering::Relaxed).to_ne_bytes());
        out[8..12].copy_from_slice(&self.version.load(Ordering::Relaxed).to_ne_bytes());
        out[12..16].copy_from_slice(&self.header_len.load(Ordering::Relaxed).to_ne_bytes());
        out[16..24].copy_from_slice(&self.size.load(Ordering::Relaxed).to_ne_bytes());
        out[24..32].copy_from_slice(&self.reserved.load(Ordering::Relaxed).to_ne_bytes());
        out
    }

    /// [`attach_check`] over a [`snapshot`](Self::snapshot) of this header.
    ///
    /// # Errors
    ///
    /// As [`attach_check`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_shm::header::{AttachError, Header, kind};
    ///
    /// let h = Header::default();
    /// h.publish(kind(b"DEMO"), 1, 64);
    /// assert!(matches!(h.check(kind(b"LOCK"), 1, 64), Err(AttachError::WrongKind { .. })));
    /// ```
    pub fn check(&self, kind: u32, version: u32, available: u64) -> Result<Fields, AttachError> {
        attach_check(&self.snapshot(), kind, version, available)
    }
}

#[cfg(all(test, not(multiproc_loom)))]
mod tests {
    use super::*;

    #[test]
    fn all_zero_is_unpublished() {
        let h = Header::default();
        assert!(!h.is_published());
        assert_eq!(decode(&h.snapshot()), Err(AttachError::Uninitialized));
    }

    #[test]
    fn every_refusal() {
        let k = kind(b"TEST");
        let good = encode(Fields {
            kind: k,
            version: 2,
            size: 100,
        });
        assert!(attach_check(&good, k, 2, 100).is_ok());
        assert_eq!(
            attach_check(&good[..31], k, 2, 100),
            Err(AttachError::TooShort(31))
        );
        let mut b = good;
        b[0] ^= 1;
        assert!(matches!(decode(&b), Err(AttachError::BadMagic(_))));
        let mut b = good;
        b[12] = 33;
        assert_eq!(decode(&b), Err(AttachError::BadHeaderLen(33)));
        let mut b = good;
        b[31] = 1;
        assert_eq!(decode(&b), Err(AttachError::ReservedNotZero));
        let mut b = good;
        b[16..24].copy_from_slice(&5u64.to_ne_bytes());
        assert_eq!(decode(&b), Err(AttachError::SizeTooSmall(5)));
        assert!(matches!(
            attach_check(&good, kind(b"ELSE"), 2, 100),
            Err(AttachError::WrongKind { .. })
        ));
        assert_eq!(
            attach_check(&good, k, 3, 100),
            Err(AttachError::UnsupportedVersion {
                found: 2,
                expected: 3
            })
        );
        assert_eq!(
            attach_check(&good, k, 2, 99),
            Err(AttachError::Truncated {
                size: 100,
                available: 99
            })
        );
        // Messages are lowercase, without a trailing period.
        for e in [
            AttachError::Uninitialized,
            AttachError::WrongKind {
                found: 0xffff_ffff,
                expected: k,
            },
        ] {
            let s = e.to_string();
            assert!(
                s.starts_with(|c: char| c.is_lowercase()) && !s.ends_with('.'),
                "{s}"
            );
        }
    }

    #[test]
    fn publish_then_snapshot_round_trips() {
        let h = Header::default();
        h.publish(kind(b"ABCD"), 7, 4096);
        let f = decode(&h.snapshot()).unwrap();
        assert_eq!(
            f,
            Fields {
                kind: kind(b"ABCD"),
                version: 7,
                size: 4096
            }
        );
    }
}
