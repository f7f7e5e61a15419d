//! The authkey handshake against arbitrary peer bytes, in both roles.
//!
//! Input: the first byte is the key length, then the key, then the peer's messages (split at
//! a second length byte). Answering, verifying and reading a verdict must never panic, and a
//! response we produce ourselves must verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use multiproc_pipe::handshake::{challenge_message, check_verdict, respond, verify};

fuzz_target!(|data: &[u8]| {
    let Some((&klen, rest)) = data.split_first() else {
        return;
    };
    let klen = usize::from(klen).min(rest.len());
    let (key, rest) = rest.split_at(klen);
    let (first, second) = match rest.split_first() {
        Some((&n, tail)) => tail.split_at(usize::from(n).min(tail.len())),
        None => (rest, &[][..]),
    };
    // Answerer: the peer's bytes as a challenge.
    if let Ok(reply) = respond(key, first) {
        // Whatever we answer to a challenge we accepted, the same key verifies it.
        verify(key, first, &reply).expect("own response must verify");
    }
    // Deliverer: our challenge, the peer's bytes as the response.
    let mut nonce = [0u8; 40];
    for (n, b) in nonce.iter_mut().zip(second) {
        *n = *b;
    }
    let challenge = challenge_message(&nonce);
    let _ = verify(key, &challenge, first);
    let _ = verify(key, &challenge, second);
    let _ = check_verdict(second);
});
