//! The pipe frame decoder fed an arbitrary byte stream cut at arbitrary points.
//!
//! Input: the first byte picks the maximum frame length, the next picks a cut stride seed,
//! the rest is the stream. The incremental `FrameDecoder` must never panic and must agree
//! with the one-shot `decode_frames`: same frames, same error, same unconsumed tail.
#![no_main]

use libfuzzer_sys::fuzz_target;
use multiproc_pipe::frame::{FrameDecoder, decode_frames};

fuzz_target!(|data: &[u8]| {
    let [max_sel, stride_seed, stream @ ..] = data else {
        return;
    };
    let max_len = match max_sel % 4 {
        0 => 0,
        1 => 16,
        2 => 1 << 20,
        _ => u64::MAX,
    };
    let one_shot = decode_frames(stream, max_len);
    let mut decoder = FrameDecoder::new(max_len);
    let mut frames = Vec::new();
    let mut error = None;
    let mut at = 0;
    let mut step = usize::from(*stride_seed % 7) + 1;
    'feed: while at < stream.len() {
        let end = (at + step).min(stream.len());
        decoder.push(&stream[at..end]);
        at = end;
        step = step * 3 % 11 + 1;
        loop {
            match decoder.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break 'feed;
                }
            }
        }
    }
    match one_shot {
        Ok((expected, used)) => {
            assert!(error.is_none(), "incremental failed where one-shot did not");
            assert_eq!(frames, expected);
            assert_eq!(decoder.buffered(), stream.len() - used);
        }
        Err(e) => {
            // The one-shot decoder stops at the first bad header; the incremental one must
            // reach the same error (everything before it decoded identically).
            let got = error.expect("one-shot failed but incremental did not");
            assert_eq!(got.to_string(), e.to_string());
        }
    }
});
