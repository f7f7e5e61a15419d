//! Loom models of the ring: SPSC, two producers + one consumer, one producer + two consumers on
//! a 2-message ring, the lost wake-up, close, the timeout path, and a side's bias revoked while
//! its owner is inside or between operations.
//!
//! The first thread to take a side biases it (see the crate's `bias` module), so every model
//! with two threads on one side also revokes a bias.
//!
//! Run with
//! `RUSTFLAGS="--cfg multiproc_loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2 cargo test --profile loom -p multiproc-ring --test 'loom_*'`.
#![cfg(multiproc_loom)]

use multiproc_ring::{Error, Ring};
use multiproc_sys::sync::{model, thread};
use std::time::Instant;

#[test]
fn spsc_two_messages_in_order() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let tx = ring.clone();
        let h = thread::spawn(move || {
            tx.send(b"one").unwrap();
            tx.send(b"two").unwrap();
        });
        assert_eq!(ring.recv().unwrap(), b"one");
        assert_eq!(ring.recv().unwrap(), b"two");
        h.join().unwrap();
    });
}

#[test]
fn two_producers_one_consumer() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let hs: Vec<_> = [b'a', b'b']
            .into_iter()
            .map(|m| {
                let tx = ring.clone();
                thread::spawn(move || tx.send(&[m]).unwrap())
            })
            .collect();
        let mut got = vec![ring.recv().unwrap(), ring.recv().unwrap()];
        got.sort();
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec()]);
        for h in hs {
            h.join().unwrap();
        }
        assert!(ring.is_empty());
    });
}

#[test]
fn one_producer_two_consumers_two_slots() {
    model(|| {
        // At most two messages at once: the third send waits for a consumer.
        let ring = Ring::with_limits(256, 2).unwrap();
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let rx = ring.clone();
                thread::spawn(move || rx.recv().unwrap())
            })
            .collect();
        for m in [b"1", b"2", b"3"] {
            ring.send(m).unwrap();
        }
        let mut got: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        got.push(ring.try_recv().unwrap());
        got.sort();
        assert_eq!(got, vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
    });
}

#[test]
fn no_lost_wakeup() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let rx = ring.clone();
        // The receiver may park before or after the send: either way it must wake up (a lost
        // wake-up is a deadlock, which loom reports).
        let h = thread::spawn(move || rx.recv().unwrap());
        ring.send(b"x").unwrap();
        assert_eq!(h.join().unwrap(), b"x");
    });
}

#[test]
fn no_lost_wakeup_exclusive_ends() {
    model(|| {
        // The single-producer/single-consumer ends publish with a fence-checked flag instead of
        // the unlock's PEER bit: the same race, the other protocol.
        let ring = Ring::new(256).unwrap();
        let rx = ring.clone();
        let h = thread::spawn(move || rx.receiver().unwrap().recv().unwrap());
        ring.sender().unwrap().send(b"y").unwrap();
        assert_eq!(h.join().unwrap(), b"y");
    });
}

#[test]
fn producer_woken_when_room_appears() {
    model(|| {
        // One message at most: the second send sleeps until the consumer takes the first.
        let ring = Ring::with_limits(256, 1).unwrap();
        let tx = ring.clone();
        let h = thread::spawn(move || {
            tx.send(b"1").unwrap();
            tx.send(b"2").unwrap();
        });
        assert_eq!(ring.recv().unwrap(), b"1");
        assert_eq!(ring.recv().unwrap(), b"2");
        h.join().unwrap();
    });
}

#[test]
fn close_wakes_a_parked_receiver() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let rx = ring.clone();
        let h = thread::spawn(move || rx.recv());
        ring.close();
        assert!(matches!(h.join().unwrap(), Err(Error::Closed)));
        assert!(matches!(ring.send(b"late"), Err(Error::Closed)));
    });
}

#[test]
fn timeout_returns() {
    model(|| {
        let ring = Ring::new(256).unwrap();
        let tx = ring.clone();
        let h = thread::spawn(move || tx.send(b"maybe").unwrap());
        match ring.recv_with(Some(Instant::now()), <[u8]>::to_vec) {
            Ok(v) => assert_eq!(v, b"maybe"),
            Err(Error::Timeout) => assert_eq!(ring.recv().unwrap(), b"maybe"),
            Err(e) => panic!("{e}"),
        }
        h.join().unwrap();
    });
}

#[test]
fn bias_revoked_while_the_owner_sends() {
    model(|| {
        // The main thread biases the producer side with its first send; the other producer
        // revokes the bias at any point of the owner's second send. Nothing may be lost,
        // doubled or torn, and the owner's messages stay in order.
        let ring = Ring::new(256).unwrap();
        ring.send(b"a1").unwrap();
        let tx = ring.clone();
        let h = thread::spawn(move || tx.send(b"b").unwrap());
        ring.send(b"a2").unwrap();
        h.join().unwrap();
        let got: Vec<Vec<u8>> = (0..3).map(|_| ring.try_recv().unwrap()).collect();
        let a: Vec<&Vec<u8>> = got.iter().filter(|m| m.starts_with(b"a")).collect();
        assert_eq!(a, [&b"a1".to_vec(), &b"a2".to_vec()]);
        assert!(got.contains(&b"b".to_vec()));
        assert!(ring.is_empty());
    });
}
