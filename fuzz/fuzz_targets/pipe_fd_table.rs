//! The typed-message envelope and handle-table decoder with arbitrary bytes and fd counts.
//!
//! Input: the first byte is how many descriptors "arrived" (each a fresh `/dev/null`), the
//! rest is the frame payload. Decoding as a few types holding handles must never panic, leak
//! or double-close a descriptor: every fd is either handed to the value or closed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use multiproc_pipe::decode_envelope;
use multiproc_shm::handle::Handle;
use std::os::fd::OwnedFd;

fn fds(n: u8) -> Vec<OwnedFd> {
    (0..n % 8)
        .map(|_| OwnedFd::from(std::fs::File::open("/dev/null").expect("open /dev/null")))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, payload)) = data.split_first() else {
        return;
    };
    let _ = decode_envelope::<(u8, Handle)>(payload, fds(n));
    let _ = decode_envelope::<Vec<Handle>>(payload, fds(n));
    let _ = decode_envelope::<(String, Option<Handle>, Vec<u32>)>(payload, fds(n));
    let _ = decode_envelope::<multiproc_pipe::Connection>(payload, fds(n));
});
