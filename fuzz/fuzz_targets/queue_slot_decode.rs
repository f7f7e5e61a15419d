//! Hostile ring contents: a segment image (head and tail words, then the data area) written by
//! a crashed or malicious process is walked as a consumer would walk it, and single record
//! headers are decoded at arbitrary offsets. Every input must give `Ok` or `Err`, never a
//! panic, an out-of-bounds access or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = multiproc_ring::scan_image(data);
    if data.len() >= 24 {
        let mut hdr = [0u8; 8];
        hdr.copy_from_slice(&data[..8]);
        let num = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().unwrap_or([0; 8]));
        let (offset, capacity) = (num(8), num(16));
        let available = capacity.wrapping_sub(offset);
        if let Ok(h) = multiproc_ring::decode_header(hdr, offset, capacity, available) {
            // What the decoder promises: the record lies inside the committed bytes and the ring.
            assert!(h.size() <= available);
            assert!(
                offset
                    .checked_add(h.size())
                    .is_some_and(|end| end <= capacity)
            );
        }
    }
});
