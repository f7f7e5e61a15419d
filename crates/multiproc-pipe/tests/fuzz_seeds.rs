//! The pipe fuzz targets' properties, replayed on their seed files (and on any crash files
//! later added to `fuzz/regressions/<target>/`) as ordinary tests.
#![allow(missing_docs)]

mod common;

use multiproc_pipe::frame::{FrameDecoder, decode_frames};
use multiproc_pipe::handshake::{challenge_message, check_verdict, respond, verify};
use multiproc_shm::handle::Handle;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in [
        root.join("seeds").join(target),
        root.join("regressions").join(target),
    ] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries {
                out.push(std::fs::read(e.unwrap().path()).unwrap());
            }
        }
    }
    out
}

#[test]
fn frame_decode_seeds() {
    let seeds = inputs("pipe_frame_decode");
    assert!(!seeds.is_empty(), "seed files missing");
    for data in seeds {
        let [_, _, stream @ ..] = data.as_slice() else {
            continue;
        };
        for max_len in [0, 16, 1 << 20, u64::MAX] {
            let one_shot = decode_frames(stream, max_len);
            for step in 1..=stream.len().max(1) {
                let mut d = FrameDecoder::new(max_len);
                let mut frames = Vec::new();
                let mut error = None;
                'feed: for chunk in stream.chunks(step) {
                    d.push(chunk);
                    loop {
                        match d.next_frame() {
                            Ok(Some(f)) => frames.push(f),
                            Ok(None) => break,
                            Err(e) => {
                                error = Some(e.to_string());
                                break 'feed;
                            }
                        }
                    }
                }
                match &one_shot {
                    Ok((expected, used)) => {
                        assert!(error.is_none());
                        assert_eq!(&frames, expected);
                        assert_eq!(d.buffered(), stream.len() - used);
                    }
                    Err(e) => assert_eq!(error.as_deref(), Some(e.to_string().as_str())),
                }
            }
        }
    }
}

#[test]
fn handshake_seeds() {
    let seeds = inputs("pipe_handshake");
    assert!(!seeds.is_empty(), "seed files missing");
    for data in seeds {
        let Some((&klen, rest)) = data.split_first() else {
            continue;
        };
        let (key, rest) = rest.split_at(usize::from(klen).min(rest.len()));
        let (first, second) = match rest.split_first() {
            Some((&n, tail)) => tail.split_at(usize::from(n).min(tail.len())),
            None => (rest, &[][..]),
        };
        if let Ok(reply) = respond(key, first) {
            verify(key, first, &reply).unwrap();
        }
        let challenge = challenge_message(&[0; 40]);
        let _ = verify(key, &challenge, first);
        let _ = check_verdict(second);
    }
}

#[test]
fn fd_table_seeds_never_leak() {
    let seeds = inputs("pipe_fd_table");
    assert!(!seeds.is_empty(), "seed files missing");
    let fds = |n: u8| -> Vec<OwnedFd> {
        (0..n % 8)
            .map(|_| std::fs::File::open("/dev/null").unwrap().into())
            .collect()
    };
    let before = common::open_fds();
    for data in seeds {
        let Some((&n, payload)) = data.split_first() else {
            continue;
        };
        let _ = multiproc_pipe::decode_envelope::<(u8, Handle)>(payload, fds(n));
        let _ = multiproc_pipe::decode_envelope::<Vec<Handle>>(payload, fds(n));
        let _ = multiproc_pipe::decode_envelope::<multiproc_pipe::Connection>(payload, fds(n));
    }
    assert_eq!(common::open_fds(), before);
}
