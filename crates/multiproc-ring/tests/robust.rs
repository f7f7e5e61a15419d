//! A process killed while it holds a side of the ring: the lock is taken over, a half-streamed
//! message is dropped, and the ring goes on working. Every test forks with an `alarm` in the
//! child and waits with a deadline in the parent.
#![cfg(not(multiproc_loom))]
#![allow(unsafe_code)]

use multiproc_ring::{Error, Ring};
use std::time::{Duration, Instant};

fn fork(f: impl FnOnce()) -> libc::pid_t {
    // SAFETY: the child only runs `f`, then `_exit`s; a 20 s alarm ends it if it hangs.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: arms a timer.
        unsafe { libc::alarm(20) };
        f();
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    pid
}

fn kill_and_reap(pid: libc::pid_t) {
    // SAFETY: our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: our own child; valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
}

/// Waits (bounded) until `cond` holds.
fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn producer_killed_holding_the_lock() {
    let ring = Ring::new(4096).unwrap();
    let flag = Ring::new(256).unwrap();
    let (r, f) = (ring.clone(), flag.clone());
    let child = fork(move || {
        let _w = r.writer(100, None).unwrap(); // holds the producer lock
        f.send(b"holding").unwrap();
        loop {
            std::thread::park();
        }
    });
    assert_eq!(
        flag.recv_timeout(Duration::from_secs(10)).unwrap(),
        b"holding"
    );
    kill_and_reap(child);
    let t = Instant::now();
    ring.send_timeout(b"after", Duration::from_secs(10))
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(ring.recv().unwrap(), b"after");
    assert!(ring.is_empty());
}

#[test]
fn consumer_killed_holding_the_lock_loses_nothing() {
    let ring = Ring::new(4096).unwrap();
    ring.send(b"kept").unwrap();
    let r = ring.clone();
    let child = fork(move || {
        let _rx = r.receiver().unwrap(); // holds the consumer lock, takes nothing
        r.send(b"ready").unwrap();
        loop {
            std::thread::park();
        }
    });
    until("the child to claim the consumer side", || ring.len() == 2);
    kill_and_reap(child);
    assert_eq!(ring.recv_timeout(Duration::from_secs(10)).unwrap(), b"kept");
    assert_eq!(
        ring.recv_timeout(Duration::from_secs(10)).unwrap(),
        b"ready"
    );
}

#[test]
fn exclusive_end_of_a_dead_process_can_be_claimed() {
    let ring = Ring::new(4096).unwrap();
    let r = ring.clone();
    let child = fork(move || {
        let _tx = r.sender().unwrap();
        r.close(); // tells the parent the sender is claimed
        loop {
            std::thread::park();
        }
    });
    until("the child to claim the sender", || ring.is_closed());
    assert!(matches!(ring.sender(), Err(Error::Busy)));
    kill_and_reap(child);
    assert!(ring.sender().is_ok());
}

#[test]
fn stream_of_a_killed_producer_is_dropped() {
    let ring = Ring::new(1024).unwrap();
    let r = ring.clone();
    let child = fork(move || {
        let mut w = r.writer(100_000, None).unwrap();
        // Fill the ring with pieces, then block for room forever (nobody reads yet).
        let _ = w.write(&[1; 100_000]);
    });
    until("the child to fill the ring", || {
        ring.is_empty() && ring.used_bytes() > 512
    });
    kill_and_reap(child);
    // The consumer takes the pieces, finds the stream abandoned, drops it; then the next
    // producer (after taking the dead one's lock) is heard normally.
    let r2 = ring.clone();
    let sender = std::thread::spawn(move || r2.send_timeout(b"next", Duration::from_secs(10)));
    assert_eq!(ring.recv_timeout(Duration::from_secs(10)).unwrap(), b"next");
    sender.join().unwrap().unwrap();
}
