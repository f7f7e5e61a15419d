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

fn reap_ok(pid: libc::pid_t) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut status = 0;
        // SAFETY: our own child; valid out-pointer; WNOHANG never blocks.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
            return;
        }
        assert!(Instant::now() < deadline, "child {pid} did not finish");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_second_producer_process_revokes_a_live_bias() {
    // This thread's first send biases the producer side to it; a child's sends revoke the bias
    // (no lock recovery: the owner is alive) and the owner goes on through the lock.
    let ring = Ring::new(4096).unwrap();
    ring.send(b"p1").unwrap();
    let r = ring.clone();
    let child = fork(move || {
        r.send(b"c1").unwrap();
        r.send(b"c2").unwrap();
    });
    reap_ok(child);
    ring.send(b"p2").unwrap();
    let got: Vec<Vec<u8>> = (0..4).map(|_| ring.try_recv().unwrap()).collect();
    assert_eq!(got, [&b"p1"[..], b"c1", b"c2", b"p2"]);
    assert_eq!(ring.lock_recoveries(), 0);
}

#[test]
fn a_revoker_waits_for_the_biased_owner_to_finish_its_operation() {
    let ring = Ring::new(4096).unwrap();
    let flag = Ring::new(256).unwrap();
    // Biased to this thread, and inside an operation while the writer lives.
    let mut w = ring.writer(4, None).unwrap();
    w.write(b"ow").unwrap();
    let (r, f) = (ring.clone(), flag.clone());
    let child = fork(move || {
        // The owner is mid-message: the revocation cannot finish yet.
        assert!(matches!(
            r.send_timeout(b"early", Duration::from_millis(50)),
            Err(Error::Timeout)
        ));
        f.send(b"timed out").unwrap();
        r.send_timeout(b"late", Duration::from_secs(10)).unwrap();
    });
    assert_eq!(
        flag.recv_timeout(Duration::from_secs(10)).unwrap(),
        b"timed out"
    );
    w.write(b"ner").unwrap_err(); // 5 bytes into a 4-byte message: refused, nothing torn
    w.write(b"ne").unwrap();
    w.commit().unwrap();
    reap_ok(child);
    assert_eq!(ring.recv().unwrap(), b"owne");
    assert_eq!(ring.recv().unwrap(), b"late");
    assert!(ring.is_empty());
}

#[test]
fn a_consumer_bias_moves_to_the_next_process_when_its_owner_dies() {
    // Each child's first receive biases the consumer side; the next child finds the dead
    // owner's bias and takes over at once (not after a sleep slice).
    let ring = Ring::new(4096).unwrap();
    for i in 0..5u8 {
        ring.send(&[i]).unwrap();
        let r = ring.clone();
        let child = fork(move || {
            assert_eq!(r.recv_timeout(Duration::from_secs(10)).unwrap(), [i]);
        });
        let t = Instant::now();
        reap_ok(child);
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    assert!(ring.is_empty());
    // The first child took the side cleanly; each later one took it over from a dead owner.
    assert_eq!(ring.lock_recoveries(), 4);
}
