//! Hostile bytes where a shared-memory structure header should be: `header::decode`,
//! `header::attach_check` and `arena_block_check` must return an error or a consistent `Ok`,
//! never panic.
//!
//! Input layout: byte 0 picks the expected kind/version, bytes 1..9 the mapped length claimed
//! by the attacher, 9..25 a block (offset, len) to bounds-check, the rest is the header memory.
#![no_main]

use multiproc_shm::header::{self, AttachError, HEADER_LEN};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 25 {
        let _ = header::decode(data);
        return;
    }
    let (kind, version) = match data[0] % 3 {
        0 => (header::kind(b"ARNA"), 1),
        1 => (header::kind(b"LOCK"), 1),
        _ => (
            u32::from_ne_bytes([data[0], data[1], data[2], data[3]]),
            u32::from(data[4]),
        ),
    };
    let available = u64::from_ne_bytes(data[1..9].try_into().unwrap());
    let offset = u64::from_ne_bytes(data[9..17].try_into().unwrap());
    let len = u64::from_ne_bytes(data[17..25].try_into().unwrap());
    let bytes = &data[25..];

    match header::attach_check(bytes, kind, version, available) {
        Ok(fields) => {
            assert_eq!(fields.kind, kind);
            assert_eq!(fields.version, version);
            assert!(fields.size <= available);
            assert!(fields.size >= HEADER_LEN as u64);
            // Re-encoding an accepted header gives back the same 32 bytes.
            assert_eq!(header::encode(fields)[..], bytes[..HEADER_LEN]);
        }
        Err(e) => {
            // Every refusal renders as a message.
            let msg = e.to_string();
            assert!(!msg.is_empty());
            if bytes.len() < HEADER_LEN {
                assert_eq!(e, AttachError::TooShort(bytes.len()));
            }
        }
    }
    if let Ok(fields) = header::decode(bytes)
        && multiproc_shm::arena_block_check(offset, len, fields.size).is_ok()
    {
        assert!(offset >= 64 && offset + len <= fields.size);
    }
});
