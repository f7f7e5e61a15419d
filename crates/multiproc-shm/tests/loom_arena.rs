//! Loom model of the arena's bump allocator: concurrent allocators (threads here; processes
//! sharing a segment after `fork` in real life) never get overlapping blocks, and a full
//! segment refuses instead of overflowing.
#![cfg(multiproc_loom)]

use multiproc_shm::__private::bump;
use multiproc_sys::sync::atomic::{AtomicU64, Ordering};
use multiproc_sys::sync::{Arc, model, thread};

#[test]
fn two_allocators_get_disjoint_blocks() {
    model(|| {
        // Room for exactly three 8-byte blocks after the 64-byte header.
        let next = Arc::new(AtomicU64::new(64));
        let size = 64 + 24;
        let n2 = Arc::clone(&next);
        let t = thread::spawn(move || {
            let a = bump(&n2, size, 8, 8);
            let b = bump(&n2, size, 8, 8);
            (a, b)
        });
        let c = bump(&next, size, 8, 8);
        let (a, b) = t.join().unwrap();
        let mut got: Vec<usize> = [a, b, c].into_iter().map(|x| x.unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [64, 72, 80]);
        // The segment is full now.
        assert_eq!(bump(&next, size, 1, 1), None);
        assert_eq!(next.load(Ordering::Relaxed), 88);
    });
}

#[test]
fn contention_on_the_last_slot_has_one_winner() {
    model(|| {
        let next = Arc::new(AtomicU64::new(64));
        let size = 64 + 16;
        let n2 = Arc::clone(&next);
        let t = thread::spawn(move || bump(&n2, size, 16, 16));
        let mine = bump(&next, size, 16, 16);
        let theirs = t.join().unwrap();
        assert!(mine.is_some() != theirs.is_some(), "{mine:?} {theirs:?}");
    });
}
