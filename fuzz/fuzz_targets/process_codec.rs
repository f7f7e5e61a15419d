//! The process crate's wire decoders fed arbitrary bytes from a hostile peer.
//!
//! Input: the raw bytes a parent, child or forkserver reads from another process (a stream of
//! length-prefixed frames or a status stream). Splitting frames, reading status codes and
//! decoding requests, reports and returned values must never panic, hang, or allocate far
//! beyond the input's size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    multiproc_process::__fuzz::decode(data);
});
