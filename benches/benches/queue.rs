#![allow(missing_docs)]
#![allow(clippy::cast_possible_truncation)] // bench sizes and indices are small
//! W2 (1 producer process → 1 consumer process, u64 messages), W2b (2 producer processes and
//! 2 consumer processes, u64 messages) and W3 (1 MiB messages one way), each beside its raw
//! floor measured in the same run.
//!
//! Run: `cargo bench -p multiproc-benches --bench queue`. CPython's numbers for the same
//! scenarios: `python3 benches/python/mp_queue.py`.
//!
//! One criterion iteration is one message, so `ns/iter` is the time per message and criterion's
//! throughput line gives messages/s (W2, W2b) or bytes/s (W3). Every sample forks fresh
//! consumer (and producer) processes and times until the last message is consumed. In W2 the
//! producer runs on CPU 0 and the consumer on CPU 1 (floors and ours alike); W3 is unpinned, as
//! first measured (pinned to two CPUs, both ours and the floor take longer: every byte then
//! crosses between the two cores' caches).
//!
//! - `W2_spsc_u64/ours_queue`: `Queue<u64>::put` / `get`.
//! - `W2_spsc_u64/ours_ring_bytes`: the ring's single-producer/single-consumer ends, 8 bytes.
//! - `W2_spsc_u64/floor_shm_ring_futex`: a minimal SPSC ring of `u64` slots in shared memory
//!   with futex sleep/wake (written below, no library).
//! - `W2_spsc_u64/floor_pipe`: 8-byte `write`/`read` on a pipe(2).
//! - `W2b_mpmc_2p2c/ours_queue` and `floor_shm_mpmc_spin` (a bounded MPMC ring of sequence-
//!   stamped slots, spinning).
//! - `W3_1MiB/ours_queue` (a 1 MiB byte string per message) and `floor_shm_copy` (copy into a
//!   slot of a shared ring, copy out of it).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use multiproc::queue::Queue;
use multiproc::ring::Ring;
use multiproc_sys::sync::{futex_wait, futex_wake};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::reap;

/// While set, `fork` pins its child to CPU 1 (the W2 group pins the parent to CPU 0).
static PIN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Producer on CPU 0, consumer on CPU 1 for the one-to-one scenario, for floors and ours alike:
/// unpinned, the two processes sometimes share a CPU for part of a sample and a sample's time
/// swings by 2-4x between runs. The original affinity comes back when dropped. Does nothing on
/// a one-CPU machine.
struct Pinned {
    /// Puts the original affinity back when dropped.
    _restore: Option<common::Pinned>,
}

impl Pinned {
    fn new() -> Self {
        if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
            return Self { _restore: None };
        }
        let pinned = common::pin(0);
        PIN.store(true, std::sync::atomic::Ordering::Relaxed);
        Self {
            _restore: Some(pinned),
        }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        PIN.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Forks a child running `f` (on CPU 1 while the W2 group is pinned), then `_exit(0)`.
fn fork(f: impl FnOnce()) -> libc::pid_t {
    common::fork(|| {
        if PIN.load(std::sync::atomic::Ordering::Relaxed) {
            common::pin_for_good(1);
        }
        f();
    })
}

/// Anonymous shared memory for the floors.
struct Shm(multiproc::shm::SharedMemory);

impl Shm {
    fn new(len: usize) -> Self {
        Self(multiproc::shm::SharedMemory::anonymous(len).expect("segment"))
    }
    fn u64_at(&self, i: usize) -> &AtomicU64 {
        assert!((i + 1) * 8 <= self.0.len());
        let p = self.0.as_ptr().cast::<AtomicU64>().wrapping_add(i);
        // SAFETY: in bounds, 8-aligned (page-aligned base), any bits are a valid AtomicU64, and
        // the segment outlives the borrow.
        unsafe { &*p }
    }
    fn u32_at(&self, i: usize) -> &AtomicU32 {
        assert!((i + 1) * 4 <= self.0.len());
        let p = self.0.as_ptr().cast::<AtomicU32>().wrapping_add(i);
        // SAFETY: as in `u64_at`.
        unsafe { &*p }
    }
    fn bytes(&self, off: usize) -> *mut u8 {
        self.0.as_ptr().wrapping_add(off)
    }
}

// ------------------------------------------------------------------------------------------
// Floor: SPSC ring of u64 slots with futex sleep/wake.
//
// Words (u64 index): 0 = tail (producer), 16 = head (consumer); u32 index 64 = data futex +
// 65 = data sleepers, 96 = space futex + 97 = space sleepers; slots from u64 index 64.

const FLOOR_SLOTS: u64 = 1 << 16;

fn floor_spsc_send(s: &Shm, v: u64, cached_head: &mut u64) {
    let tail = s.u64_at(0).load(Ordering::Relaxed);
    while tail - *cached_head >= FLOOR_SLOTS {
        *cached_head = s.u64_at(16).load(Ordering::Acquire);
        if tail - *cached_head >= FLOOR_SLOTS {
            park(s.u32_at(96), s.u32_at(97), || {
                tail - s.u64_at(16).load(Ordering::Acquire) < FLOOR_SLOTS
            });
        }
    }
    s.u64_at(64 + (tail % FLOOR_SLOTS) as usize)
        .store(v, Ordering::Relaxed);
    s.u64_at(0).store(tail + 1, Ordering::Release);
    wake(s.u32_at(64), s.u32_at(65));
}

fn floor_spsc_recv(s: &Shm, cached_tail: &mut u64) -> u64 {
    let head = s.u64_at(16).load(Ordering::Relaxed);
    while head == *cached_tail {
        *cached_tail = s.u64_at(0).load(Ordering::Acquire);
        if head == *cached_tail {
            park(s.u32_at(64), s.u32_at(65), || {
                s.u64_at(0).load(Ordering::Acquire) != head
            });
        }
    }
    let v = s
        .u64_at(64 + (head % FLOOR_SLOTS) as usize)
        .load(Ordering::Relaxed);
    s.u64_at(16).store(head + 1, Ordering::Release);
    wake(s.u32_at(96), s.u32_at(97));
    v
}

fn park(seq: &AtomicU32, sleepers: &AtomicU32, ready: impl Fn() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        std::hint::spin_loop();
    }
    loop {
        let s = seq.load(Ordering::Acquire);
        sleepers.store(1, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::SeqCst);
        if ready() {
            return;
        }
        futex_wait(seq, s, None);
        if ready() {
            return;
        }
    }
}

fn wake(seq: &AtomicU32, sleepers: &AtomicU32) {
    std::sync::atomic::fence(Ordering::SeqCst);
    // The waker clears the flag: no wake-up storm while a woken sleeper waits for a core.
    if sleepers.load(Ordering::Relaxed) != 0 && sleepers.swap(0, Ordering::Relaxed) != 0 {
        seq.fetch_add(1, Ordering::Release);
        futex_wake(seq, u32::MAX);
    }
}

// ------------------------------------------------------------------------------------------
// Floor: bounded MPMC ring of sequence-stamped slots (Vyukov's design), spinning.
// u64 index 0 = enqueue position, 16 = dequeue position, slots (seq, value) from index 64.

const MPMC_SLOTS: u64 = 1 << 14;

fn mpmc_init(s: &Shm) {
    for i in 0..MPMC_SLOTS {
        s.u64_at(64 + 2 * i as usize).store(i, Ordering::Relaxed);
    }
}

fn mpmc_push(s: &Shm, v: u64) {
    let mut pos = s.u64_at(0).load(Ordering::Relaxed);
    loop {
        let slot = 64 + 2 * (pos % MPMC_SLOTS) as usize;
        let seq = s.u64_at(slot).load(Ordering::Acquire);
        if seq == pos {
            match s.u64_at(0).compare_exchange_weak(
                pos,
                pos + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    s.u64_at(slot + 1).store(v, Ordering::Relaxed);
                    s.u64_at(slot).store(pos + 1, Ordering::Release);
                    return;
                }
                Err(p) => pos = p,
            }
        } else if seq < pos {
            std::hint::spin_loop();
            pos = s.u64_at(0).load(Ordering::Relaxed);
        } else {
            pos = s.u64_at(0).load(Ordering::Relaxed);
        }
    }
}

fn mpmc_pop(s: &Shm) -> u64 {
    let mut pos = s.u64_at(16).load(Ordering::Relaxed);
    loop {
        let slot = 64 + 2 * (pos % MPMC_SLOTS) as usize;
        let seq = s.u64_at(slot).load(Ordering::Acquire);
        if seq == pos + 1 {
            match s.u64_at(16).compare_exchange_weak(
                pos,
                pos + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let v = s.u64_at(slot + 1).load(Ordering::Relaxed);
                    s.u64_at(slot).store(pos + MPMC_SLOTS, Ordering::Release);
                    return v;
                }
                Err(p) => pos = p,
            }
        } else if seq < pos + 1 {
            std::thread::yield_now();
            pos = s.u64_at(16).load(Ordering::Relaxed);
        } else {
            pos = s.u64_at(16).load(Ordering::Relaxed);
        }
    }
}

// ------------------------------------------------------------------------------------------
// A byte string that serializes as one postcard byte run.

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

const MIB: usize = 1 << 20;

// ------------------------------------------------------------------------------------------

fn w2(c: &mut Criterion) {
    let _pinned = Pinned::new();
    let mut g = c.benchmark_group("W2_spsc_u64");
    g.throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));

    let q: Queue<u64> = Queue::new().expect("queue");
    g.bench_function(BenchmarkId::new("ours_queue", "u64"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let rx = q.clone();
            let child = fork(move || {
                let mut sum = 0u64;
                for _ in 0..iters {
                    sum = sum.wrapping_add(rx.get().expect("get"));
                }
                black_box(sum);
            });
            for i in 0..iters {
                q.put(i).expect("put");
            }
            reap(child);
            start.elapsed()
        });
    });

    let ring = Ring::new(MIB).expect("ring");
    g.bench_function(BenchmarkId::new("ours_ring_bytes", "u64"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let r = ring.clone();
            let child = fork(move || {
                let mut rx = r.receiver().expect("receiver");
                let mut sum = 0u64;
                for _ in 0..iters {
                    let v = rx
                        .recv_with(None, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                        .expect("recv");
                    sum = sum.wrapping_add(v);
                }
                black_box(sum);
            });
            {
                let mut tx = ring.sender().expect("sender");
                for i in 0..iters {
                    tx.send(&i.to_le_bytes()).expect("send");
                }
            }
            reap(child);
            start.elapsed()
        });
    });

    let shm = Shm::new(4096 + 8 * FLOOR_SLOTS as usize + 512);
    g.bench_function(BenchmarkId::new("floor_shm_ring_futex", "u64"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let s = &shm;
            let child = fork(move || {
                let mut cached = s.u64_at(0).load(Ordering::Acquire);
                let mut sum = 0u64;
                for _ in 0..iters {
                    sum = sum.wrapping_add(floor_spsc_recv(s, &mut cached));
                }
                black_box(sum);
            });
            let mut cached = shm.u64_at(16).load(Ordering::Acquire);
            for i in 0..iters {
                floor_spsc_send(&shm, i, &mut cached);
            }
            reap(child);
            start.elapsed()
        });
    });

    g.bench_function(BenchmarkId::new("floor_pipe", "u64"), |b| {
        b.iter_custom(|iters| {
            let (r, w) = rustix::pipe::pipe().expect("pipe");
            let start = Instant::now();
            let child = fork(|| {
                let mut buf = [0u8; 8];
                for _ in 0..iters {
                    let mut got = 0;
                    while got < 8 {
                        got += rustix::io::read(&r, &mut buf[got..]).expect("read");
                    }
                    black_box(u64::from_le_bytes(buf));
                }
            });
            for i in 0..iters {
                rustix::io::write(&w, &i.to_le_bytes()).expect("write");
            }
            reap(child);
            start.elapsed()
        });
    });
    g.finish();
}

fn w2b(c: &mut Criterion) {
    let mut g = c.benchmark_group("W2b_mpmc_2p2c");
    g.throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));

    let q: Queue<u64> = Queue::new().expect("queue");
    g.bench_function(BenchmarkId::new("ours_queue", "u64"), |b| {
        b.iter_custom(|iters| {
            let half = iters / 2;
            let start = Instant::now();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let rx = q.clone();
                    fork(move || {
                        let mut sum = 0u64;
                        loop {
                            let v = rx.get().expect("get");
                            if v == u64::MAX {
                                break;
                            }
                            sum = sum.wrapping_add(v);
                        }
                        black_box(sum);
                    })
                })
                .collect();
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let tx = q.clone();
                    let n = if p == 0 { half } else { iters - half };
                    fork(move || {
                        for i in 0..n {
                            tx.put(i).expect("put");
                        }
                    })
                })
                .collect();
            for p in producers {
                reap(p);
            }
            q.put(u64::MAX).expect("sentinel");
            q.put(u64::MAX).expect("sentinel");
            for c in consumers {
                reap(c);
            }
            start.elapsed()
        });
    });

    let shm = Shm::new(4096 + 16 * MPMC_SLOTS as usize + 512);
    g.bench_function(BenchmarkId::new("floor_shm_mpmc_spin", "u64"), |b| {
        b.iter_custom(|iters| {
            // Fresh positions and stamps per sample.
            shm.u64_at(0).store(0, Ordering::Relaxed);
            shm.u64_at(16).store(0, Ordering::Relaxed);
            mpmc_init(&shm);
            let half = iters / 2;
            let s = &shm;
            let start = Instant::now();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    fork(move || {
                        let mut sum = 0u64;
                        loop {
                            let v = mpmc_pop(s);
                            if v == u64::MAX {
                                break;
                            }
                            sum = sum.wrapping_add(v);
                        }
                        black_box(sum);
                    })
                })
                .collect();
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let n = if p == 0 { half } else { iters - half };
                    fork(move || {
                        for i in 0..n {
                            mpmc_push(s, i);
                        }
                    })
                })
                .collect();
            for p in producers {
                reap(p);
            }
            mpmc_push(s, u64::MAX);
            mpmc_push(s, u64::MAX);
            for c in consumers {
                reap(c);
            }
            start.elapsed()
        });
    });
    g.finish();
}

fn w3(c: &mut Criterion) {
    let mut g = c.benchmark_group("W3_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));

    let q: Queue<Blob> = Queue::with_capacity(0, 8 * MIB).expect("queue");
    let msg = Blob((0..MIB).map(|i| i as u8).collect());
    g.bench_function(BenchmarkId::new("ours_queue", "1MiB"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let rx = q.clone();
            let child = fork(move || {
                for _ in 0..iters {
                    black_box(rx.get().expect("get").0.len());
                }
            });
            for _ in 0..iters {
                q.put_ref(&msg, None).expect("put");
            }
            reap(child);
            start.elapsed()
        });
    });

    // Floor: 8 slots of 1 MiB; u64 index 0 = tail, 16 = head; futex words as in W2's floor.
    const SLOTS: usize = 8;
    let shm = Shm::new(4096 + SLOTS * MIB);
    g.bench_function(BenchmarkId::new("floor_shm_copy", "1MiB"), |b| {
        b.iter_custom(|iters| {
            let s = &shm;
            let src = &msg.0;
            let start = Instant::now();
            let child = fork(move || {
                let mut out = vec![0u8; MIB];
                for _ in 0..iters {
                    let head = s.u64_at(16).load(Ordering::Relaxed);
                    park(s.u32_at(64), s.u32_at(65), || {
                        s.u64_at(0).load(Ordering::Acquire) != head
                    });
                    let p = s.bytes(4096 + (head as usize % SLOTS) * MIB);
                    // SAFETY: the slot is published (tail > head) and not rewritten until we
                    // move the head; `out` is local.
                    unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), MIB) };
                    black_box(&out);
                    s.u64_at(16).store(head + 1, Ordering::Release);
                    wake(s.u32_at(96), s.u32_at(97));
                }
            });
            for _ in 0..iters {
                let tail = s.u64_at(0).load(Ordering::Relaxed);
                park(s.u32_at(96), s.u32_at(97), || {
                    tail - s.u64_at(16).load(Ordering::Acquire) < SLOTS as u64
                });
                let p = s.bytes(4096 + (tail as usize % SLOTS) * MIB);
                // SAFETY: the slot is free (tail - head < SLOTS) and ours until we publish.
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, MIB) };
                s.u64_at(0).store(tail + 1, Ordering::Release);
                wake(s.u32_at(64), s.u32_at(65));
            }
            reap(child);
            start.elapsed()
        });
    });
    g.finish();
}

criterion_group!(benches, w2, w2b, w3);
criterion_main!(benches);
