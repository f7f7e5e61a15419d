//! Threaded tests of the ring: FIFO, wrap-around, streaming, many producers and consumers,
//! limits, close, attach, and hostile segment contents.
#![cfg(not(multiproc_loom))]

use multiproc_ring::{Error, Ring};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn msg(producer: u32, seq: u32) -> Vec<u8> {
    // Variable length (0..=40 bytes of filler) so records wrap at every offset.
    let mut v = producer.to_le_bytes().to_vec();
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend(std::iter::repeat_n((seq % 251) as u8, (seq % 41) as usize));
    v
}

fn parse(b: &[u8]) -> (u32, u32) {
    let p = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let s = u32::from_le_bytes(b[4..8].try_into().unwrap());
    assert_eq!(b, msg(p, s).as_slice(), "torn or garbled message");
    (p, s)
}

#[test]
fn fifo_and_wrap_single_thread() {
    let ring = Ring::new(256).unwrap();
    for round in 0..200u32 {
        ring.send(&msg(0, round)).unwrap();
        ring.send(&msg(0, round + 1000)).unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(parse(&ring.recv().unwrap()), (0, round));
        assert_eq!(parse(&ring.recv().unwrap()), (0, round + 1000));
    }
    assert!(matches!(ring.try_recv(), Err(Error::Empty)));
}

#[test]
fn spsc_threads() {
    let ring = Ring::new(1024).unwrap();
    let tx = ring.clone();
    let n = 20_000;
    let h = thread::spawn(move || {
        let mut s = tx.sender().unwrap();
        for i in 0..n {
            s.send(&msg(1, i)).unwrap();
        }
    });
    let mut rx = ring.receiver().unwrap();
    for i in 0..n {
        assert_eq!(parse(&rx.recv().unwrap()), (1, i));
    }
    h.join().unwrap();
}

#[test]
fn mpmc_threads_exactly_once_fifo_per_producer() {
    let ring = Ring::new(512).unwrap();
    let n = 5_000u32;
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let r = ring.clone();
            thread::spawn(move || {
                for i in 0..n {
                    r.send(&msg(p, i)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let r = ring.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut last = [None::<u32>; 2];
                loop {
                    match r.recv_timeout(Duration::from_secs(20)) {
                        Ok(b) => {
                            let (p, s) = parse(&b);
                            if let Some(l) = last[p as usize] {
                                assert!(s > l, "FIFO per producer violated");
                            }
                            last[p as usize] = Some(s);
                            got.push((p, s));
                        }
                        Err(Error::Closed) => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    ring.close();
    let mut all: Vec<_> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    let want: Vec<_> = (0..2).flat_map(|p| (0..n).map(move |s| (p, s))).collect();
    assert_eq!(all, want);
}

#[test]
fn streams_a_message_larger_than_the_ring() {
    let ring = Ring::new(1 << 16).unwrap();
    let big: Arc<Vec<u8>> = Arc::new((0..(3 << 20)).map(|i: u32| (i % 253) as u8).collect());
    let tx = ring.clone();
    let b2 = big.clone();
    let h = thread::spawn(move || {
        tx.send(b"small").unwrap();
        tx.send(&b2).unwrap();
        tx.send(b"after").unwrap();
    });
    assert_eq!(ring.recv().unwrap(), b"small");
    let got = ring.recv().unwrap();
    assert!(got == *big, "streamed message differs");
    assert_eq!(ring.recv().unwrap(), b"after");
    h.join().unwrap();
}

#[test]
fn abandoned_stream_is_dropped_and_ring_goes_on() {
    let ring = Ring::new(256).unwrap();
    let mut w = ring.writer(1000, Some(Instant::now())).unwrap();
    // The first piece fits; the rest times out (nobody reads) and the writer is dropped.
    assert!(w.write(&[7; 1000]).is_err());
    drop(w);
    // The consumer skips the pieces of the abandoned message.
    assert!(matches!(ring.try_recv(), Err(Error::Empty)));
    ring.send(b"next").unwrap();
    assert_eq!(ring.recv().unwrap(), b"next");
    assert!(ring.is_empty());
}

#[test]
fn item_limit_and_timeouts() {
    let ring = Ring::with_limits(4096, 2).unwrap();
    ring.try_send(b"1").unwrap();
    ring.try_send(b"2").unwrap();
    assert!(matches!(ring.try_send(b"3"), Err(Error::Full)));
    let t = Instant::now();
    assert!(matches!(
        ring.send_timeout(b"3", Duration::from_millis(30)),
        Err(Error::Timeout)
    ));
    assert!(t.elapsed() >= Duration::from_millis(25));
    ring.recv().unwrap();
    ring.try_send(b"3").unwrap();
    assert_eq!(ring.len(), 2);
}

#[test]
fn blocked_receiver_is_woken() {
    let ring = Ring::new(4096).unwrap();
    let r = ring.clone();
    let h = thread::spawn(move || r.recv().unwrap());
    thread::sleep(Duration::from_millis(50));
    ring.send(b"wake").unwrap();
    assert_eq!(h.join().unwrap(), b"wake");
}

#[test]
fn close_wakes_and_drains() {
    let ring = Ring::new(4096).unwrap();
    let r = ring.clone();
    let h = thread::spawn(move || r.recv());
    thread::sleep(Duration::from_millis(30));
    ring.close();
    assert!(matches!(h.join().unwrap(), Err(Error::Closed)));
}

#[test]
fn joinable_counter() {
    let ring = Ring::new(4096).unwrap();
    ring.send(b"a").unwrap();
    ring.send(b"b").unwrap();
    let r = ring.clone();
    let h = thread::spawn(move || {
        for _ in 0..2 {
            r.recv().unwrap();
            thread::sleep(Duration::from_millis(10));
            r.task_done().unwrap();
        }
    });
    ring.join(Some(Instant::now() + Duration::from_secs(20)))
        .unwrap();
    assert_eq!(ring.unfinished_tasks(), 0);
    h.join().unwrap();
    assert!(matches!(ring.task_done(), Err(Error::TooManyTaskDone)));
}

#[test]
fn attach_through_handle_transfer() {
    let ring = Ring::new(4096).unwrap();
    let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&ring).unwrap();
    let other: Ring = multiproc_shm::handle::decode_with_handles(&bytes, fds).unwrap();
    ring.send(b"across").unwrap();
    assert_eq!(other.recv().unwrap(), b"across");
}

#[test]
fn hostile_bytes_are_corrupt_not_panic() {
    let ring = Ring::new(4096).unwrap();
    ring.send(b"hello").unwrap();
    let base = ring.shared_memory().as_ptr();
    // SAFETY: the data area starts 4096 bytes into a mapping of 8192 bytes; nobody else uses it.
    unsafe { base.wrapping_add(4096).write_bytes(0xee, 8) };
    assert!(matches!(ring.try_recv(), Err(Error::Corrupt(_))));
}

#[test]
fn a_send_nested_in_an_open_writer_waits_and_corrupts_nothing() {
    // The side is biased to this thread; the writer's operation is still open, so a second send
    // from the same thread must wait for it (here: time out), not reserve the same bytes.
    let ring = Ring::new(4096).unwrap();
    ring.send(b"first").unwrap();
    let mut w = ring.writer(3, None).unwrap();
    w.write(b"abc").unwrap();
    assert!(matches!(
        ring.send_timeout(b"nested", Duration::from_millis(20)),
        Err(Error::Timeout)
    ));
    w.commit().unwrap();
    ring.send(b"after").unwrap();
    assert_eq!(ring.recv().unwrap(), b"first");
    assert_eq!(ring.recv().unwrap(), b"abc");
    assert_eq!(ring.recv().unwrap(), b"after");
    assert!(ring.is_empty());
}

#[test]
fn a_receive_nested_in_a_callback_does_not_take_the_same_message() {
    let ring = Ring::new(4096).unwrap();
    ring.send(b"one").unwrap();
    ring.recv().unwrap(); // biases the consumer side to this thread
    ring.send(b"two").unwrap();
    ring.send(b"three").unwrap();
    let inner = ring
        .recv_with(None, |outer| {
            let nested = ring.recv_with(
                Some(Instant::now() + Duration::from_millis(20)),
                <[u8]>::to_vec,
            );
            (outer.to_vec(), nested.is_err())
        })
        .unwrap();
    assert_eq!(inner, (b"two".to_vec(), true));
    assert_eq!(ring.recv().unwrap(), b"three");
    assert!(ring.is_empty());
}
