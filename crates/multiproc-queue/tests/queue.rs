//! `Queue`, `SimpleQueue` and `JoinableQueue` semantics, in one process and across processes.
#![cfg(not(multiproc_loom))]
#![allow(clippy::cast_possible_truncation)]

mod common;

use multiproc_queue::{Error, GetError, JoinableQueue, PutError, Queue, SimpleQueue};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A byte buffer that serializes as one postcard byte string (not byte by byte).
#[derive(Debug, PartialEq)]
struct Blob(Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Blob;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[test]
fn empty_full_and_values_handed_back() {
    let q = Queue::with_maxsize(2).unwrap();
    assert!(matches!(q.try_get(), Err(GetError::Empty)));
    assert!(
        q.get_timeout(Duration::from_millis(5))
            .unwrap_err()
            .is_empty()
    );
    q.put(1u32).unwrap();
    q.put_nowait(2u32).unwrap();
    assert!(q.full());
    assert_eq!(q.qsize(), 2);
    match q.try_put(3) {
        Err(PutError::Full(v)) => assert_eq!(v, 3),
        other => panic!("{other:?}"),
    }
    assert!(
        q.put_timeout(4, Duration::from_millis(5))
            .unwrap_err()
            .is_full()
    );
    assert_eq!(q.get().unwrap(), 1);
    assert_eq!(q.get_nowait().unwrap(), 2);
    assert!(q.empty());
}

#[test]
fn close_then_put_fails_and_get_drains() {
    let q = Queue::new().unwrap();
    q.put(String::from("a")).unwrap();
    q.close();
    assert!(matches!(q.put(String::from("b")), Err(PutError::Closed(_))));
    assert_eq!(q.get().unwrap(), "a");
    assert!(matches!(q.get(), Err(GetError::Closed)));
    q.join_thread();
    q.cancel_join_thread();
}

#[test]
fn os_handles_are_refused_with_a_pointer_to_pipe() {
    let q = Queue::new().unwrap();
    let fd: std::os::fd::OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    let err = q.put(multiproc_shm::handle::Handle::new(fd)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("Pipe"), "{msg}");
    assert!(matches!(err, PutError::Failed(_, Error::Encode(_))));
    // A queue is itself fd-backed: it cannot be put on a queue either.
    let inner: Queue<u8> = Queue::new().unwrap();
    assert!(Queue::new().unwrap().put(inner).is_err());
}

#[test]
fn wrong_type_is_a_decode_error() {
    let q: Queue<u64> = Queue::new().unwrap();
    q.put_bytes(&[0xff; 11], None).unwrap();
    assert!(matches!(q.get(), Err(GetError::Failed(Error::Decode(_)))));
    q.put(7).unwrap();
    assert_eq!(q.get().unwrap(), 7);
}

#[test]
fn a_64_mib_value_through_a_1_mib_ring() {
    let q: Queue<Blob> = Queue::with_capacity(0, 1 << 20).unwrap();
    let big = Blob((0..64u32 << 20).map(|i| (i % 251) as u8).collect());
    let rx = q.clone();
    let t = std::thread::spawn(move || rx.get().unwrap());
    q.put(big).unwrap_or_else(|e| panic!("{e}"));
    let got = t.join().unwrap();
    assert_eq!(got.0.len(), 64 << 20);
    assert!(got.0.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
}

#[test]
fn zero_copy_get_with() {
    let q = Queue::new().unwrap();
    q.put(Blob(vec![1, 2, 3])).unwrap();
    let sum: u32 = q
        .get_with(None, |bytes| bytes.iter().map(|&b| u32::from(b)).sum())
        .unwrap();
    assert_eq!(sum, 3 + 6); // length prefix 3, then 1 + 2 + 3
}

#[test]
fn simple_queue() {
    let q = SimpleQueue::new().unwrap();
    assert!(q.empty());
    q.put((1u8, String::from("x"))).unwrap();
    assert_eq!(q.get().unwrap(), (1, String::from("x")));
    q.close();
    assert!(q.get().is_err());
}

#[test]
fn joinable_counts_and_refuses_extra_task_done() {
    let q = JoinableQueue::new().unwrap();
    q.put(1u8).unwrap();
    q.put(2u8).unwrap();
    assert_eq!(q.unfinished_tasks(), 2);
    assert!(!q.join_timeout(Duration::from_millis(5)));
    q.get().unwrap();
    q.task_done().unwrap();
    q.get().unwrap();
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::from_secs(5)));
    assert!(matches!(q.task_done(), Err(Error::TooManyTaskDone)));
}

#[test]
fn fifo_per_producer_many_threads() {
    let q: Queue<(u8, u32)> = Queue::with_capacity(0, 4096).unwrap();
    let n = 3000u32;
    let producers: Vec<_> = (0..3u8)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..n {
                    q.put((p, i)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut last = [None::<u32>; 3];
                let mut count = 0;
                while let Ok((p, i)) = q.get() {
                    assert!(last[p as usize].is_none_or(|l| l < i));
                    last[p as usize] = Some(i);
                    count += 1;
                }
                count
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let total: u32 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(total, 3 * n);
}

#[test]
fn producer_and_consumer_processes_with_sentinel() {
    common::watchdog(60);
    let fds = common::open_fds();
    let q: Queue<Option<u32>> = Queue::with_maxsize(3).unwrap();
    let qp = q.clone();
    let producer = common::fork(30, move || {
        for i in 0..1000 {
            qp.put(Some(i)).unwrap();
        }
        qp.put(None).unwrap();
        0
    });
    let qc = q.clone();
    let out: Queue<u64> = Queue::new().unwrap();
    let oc = out.clone();
    let consumer = common::fork(30, move || {
        let mut sum = 0u64;
        while let Some(i) = qc.get().unwrap() {
            sum += u64::from(i);
        }
        oc.put(sum).unwrap();
        0
    });
    assert_eq!(common::wait(producer, Duration::from_secs(30)), 0);
    assert_eq!(common::wait(consumer, Duration::from_secs(30)), 0);
    assert_eq!(
        out.get_timeout(Duration::from_secs(5)).unwrap(),
        999 * 1000 / 2
    );
    drop((q, out));
    assert_eq!(common::open_fds(), fds, "fd leak");
}

#[test]
fn queue_crosses_a_process_boundary_as_an_fd() {
    // What spawn/forkserver do with a Process argument: encode with handles, decode elsewhere.
    let q: Queue<String> = Queue::new().unwrap();
    let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&q).unwrap();
    let other: Queue<String> = multiproc_shm::handle::decode_with_handles(&bytes, fds).unwrap();
    other.put(String::from("through the fd")).unwrap();
    assert_eq!(q.get().unwrap(), "through the fd");
    let j: JoinableQueue<u8> = JoinableQueue::new().unwrap();
    let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&j).unwrap();
    let j2: JoinableQueue<u8> = multiproc_shm::handle::decode_with_handles(&bytes, fds).unwrap();
    j2.put(1).unwrap();
    assert_eq!(j.unfinished_tasks(), 1);
}
