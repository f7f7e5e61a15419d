//! Loom models of what the queues add on top of the ring's send/receive: the joinable counter
//! (`task_done`/`join`, including the lost wake-up of a parked `join`) and `close` racing a
//! blocked `get`. The typed queues are thin wrappers over these ring operations, so the models
//! drive the ring directly.
//!
//! Run with
//! `RUSTFLAGS="--cfg multiproc_loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 cargo test --profile loom -p multiproc-queue --test 'loom_*'`.
#![cfg(multiproc_loom)]

use multiproc_queue::Ring;
use multiproc_ring::Error;
use multiproc_sys::sync::{model, thread};

#[test]
fn join_waits_for_task_done() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        ring.send(b"job").unwrap();
        let worker = ring.clone();
        let h = thread::spawn(move || {
            worker.recv().unwrap();
            worker.task_done().unwrap();
        });
        // Parks until the worker's task_done (a lost wake-up would deadlock the model).
        ring.join(None).unwrap();
        assert_eq!(ring.unfinished_tasks(), 0);
        assert!(matches!(ring.task_done(), Err(Error::TooManyTaskDone)));
        h.join().unwrap();
    });
}

#[test]
fn task_done_never_overshoots() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        ring.send(b"one").unwrap();
        let a = ring.clone();
        let b = ring.clone();
        let ha = thread::spawn(move || a.task_done().is_ok());
        let hb = thread::spawn(move || b.task_done().is_ok());
        let oks = [ha.join().unwrap(), hb.join().unwrap()];
        assert_eq!(oks.iter().filter(|&&ok| ok).count(), 1);
        assert_eq!(ring.unfinished_tasks(), 0);
    });
}

#[test]
fn close_releases_blocked_getter_after_draining() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let rx = ring.clone();
        let h = thread::spawn(move || {
            let first = rx.recv();
            let second = rx.recv();
            (first, second)
        });
        ring.send(b"x").unwrap();
        ring.close();
        let (first, second) = h.join().unwrap();
        assert_eq!(first.unwrap(), b"x");
        assert!(matches!(second, Err(Error::Closed)));
    });
}
