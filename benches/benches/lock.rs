#![allow(missing_docs)]
//! W6 (shared counter under a lock; uncontended lock + unlock) and W8 (semaphore ping-pong
//! between two processes), each beside its raw floor measured in the same run.
//!
//! Run: `cargo bench -p multiproc-benches --bench lock`. CPython's numbers for the same
//! scenarios: `python3 benches/python/mp_lock.py`.
//!
//! - `W6_counter/*/per_op`: two processes each do `iters / 2` locked increments of a plain
//!   (non-atomic) counter in shared memory; time per increment. Floors: a bare three-state
//!   futex mutex, and a `PTHREAD_PROCESS_SHARED` pthread mutex, in the same segment.
//! - `W6_uncontended/*/per_op`: acquire + release with nobody else around.
//! - `W8_pingpong/*/round_trip`: parent posts "ping", child answers "pong"; time per round
//!   trip. Ours with sleeping only, ours with spin-then-park, a bare futex pair, and a pure
//!   busy-wait pair.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use multiproc::sync::{Lock, Semaphore, Spin};
use multiproc_sys::sync::{futex_wait, futex_wake};
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A page of shared memory for the floors and the counters.
struct Page {
    shm: multiproc::shm::SharedMemory,
}

impl Page {
    fn new() -> Self {
        Self {
            shm: multiproc::shm::SharedMemory::anonymous(4096).expect("segment"),
        }
    }
    fn word(&self, i: usize) -> &AtomicU32 {
        assert!(i < 64);
        // SAFETY: in bounds (64 words of 4 bytes at the start of a 4096-byte page), aligned,
        // any bit pattern is a valid AtomicU32, and the page outlives the borrow.
        let ptr = self.shm.as_ptr().cast::<AtomicU32>().wrapping_add(i);
        // SAFETY: as above.
        unsafe { &*ptr }
    }
    fn counter(&self) -> *mut u64 {
        // Byte offset 1024: away from the words.
        self.shm.as_ptr().wrapping_add(1024).cast::<u64>()
    }
    fn pthread_mutex(&self) -> *mut libc::pthread_mutex_t {
        self.shm
            .as_ptr()
            .wrapping_add(2048)
            .cast::<libc::pthread_mutex_t>()
    }
}

mod common;

use common::{fork, reap};

/// Spins (with yields) until `w` holds `v`.
fn await_value(w: &AtomicU32, v: u32) {
    while w.load(Ordering::Acquire) != v {
        std::thread::yield_now();
    }
}

/// Runs `op` `iters / 2` times in each of two processes, started together; returns the wall
/// time for all of them.
fn two_processes(iters: u64, op: impl Fn()) -> Duration {
    let page = Page::new();
    let half = iters.div_ceil(2);
    let (ready, go, done) = (page.word(60), page.word(61), page.word(62));
    let pid = fork(|| {
        ready.store(1, Ordering::Release);
        await_value(go, 1);
        for _ in 0..half {
            op();
        }
        done.store(1, Ordering::Release);
    });
    await_value(ready, 1);
    let start = Instant::now();
    go.store(1, Ordering::Release);
    for _ in 0..half {
        op();
    }
    await_value(done, 1);
    let took = start.elapsed();
    reap(pid);
    took
}

// ---- floors -------------------------------------------------------------------------------

/// The bare three-state futex mutex (Drepper's "mutex2"): 0 free, 1 locked, 2 contended.
fn futex_lock(w: &AtomicU32) {
    if w.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        return;
    }
    let mut c = w.swap(2, Ordering::Acquire);
    while c != 0 {
        futex_wait(w, 2, None);
        c = w.swap(2, Ordering::Acquire);
    }
}

fn futex_unlock(w: &AtomicU32) {
    if w.swap(0, Ordering::Release) == 2 {
        futex_wake(w, 1);
    }
}

fn pthread_init(m: *mut libc::pthread_mutex_t) {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: initialising an attribute object we own.
    unsafe { libc::pthread_mutexattr_init(attr.as_mut_ptr()) };
    // SAFETY: the attribute object was initialised above.
    unsafe { libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED) };
    // SAFETY: `m` points into a shared page, aligned and large enough for a pthread_mutex_t.
    unsafe { libc::pthread_mutex_init(m, attr.as_ptr()) };
    // SAFETY: the attribute object is no longer needed.
    unsafe { libc::pthread_mutexattr_destroy(attr.as_mut_ptr()) };
}

fn pthread_lock(m: *mut libc::pthread_mutex_t) {
    // SAFETY: `m` was initialised by `pthread_init` and lives in a mapped page.
    unsafe { libc::pthread_mutex_lock(m) };
}

fn pthread_unlock(m: *mut libc::pthread_mutex_t) {
    // SAFETY: as in `pthread_lock`; the caller holds the mutex.
    unsafe { libc::pthread_mutex_unlock(m) };
}

fn bump(counter: *mut u64) {
    // SAFETY: the counter is in a mapped page; the caller holds the lock guarding it.
    let v = unsafe { counter.read_volatile() };
    // SAFETY: as above.
    unsafe { counter.write_volatile(v + 1) };
}

// ---- W6 -----------------------------------------------------------------------------------

fn w6_counter(c: &mut Criterion) {
    let mut g = c.benchmark_group("W6_counter");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);

    let lock = Lock::new().expect("lock");
    let page = Page::new();
    let counter = page.counter();
    g.bench_function(
        BenchmarkId::new("ours_locked_increment_2p", "per_op"),
        |b| {
            b.iter_custom(|iters| {
                two_processes(iters, || {
                    let _g = lock.acquire().expect("holder died");
                    bump(counter);
                })
            });
        },
    );

    let w = page.word(0);
    g.bench_function(BenchmarkId::new("floor_futex_mutex_2p", "per_op"), |b| {
        b.iter_custom(|iters| {
            two_processes(iters, || {
                futex_lock(w);
                bump(counter);
                futex_unlock(w);
            })
        });
    });

    let m = page.pthread_mutex();
    pthread_init(m);
    g.bench_function(
        BenchmarkId::new("floor_pthread_pshared_2p", "per_op"),
        |b| {
            b.iter_custom(|iters| {
                two_processes(iters, || {
                    pthread_lock(m);
                    bump(counter);
                    pthread_unlock(m);
                })
            });
        },
    );
    g.finish();
}

fn w6_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("W6_uncontended");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let lock = Lock::new().expect("lock");
    g.bench_function(BenchmarkId::new("ours_lock_unlock", "per_op"), |b| {
        b.iter(|| drop(black_box(lock.acquire().expect("holder died"))));
    });
    let page = Page::new();
    let w = page.word(0);
    g.bench_function(BenchmarkId::new("floor_futex", "per_op"), |b| {
        b.iter(|| {
            futex_lock(black_box(w));
            futex_unlock(w);
        });
    });
    let m = page.pthread_mutex();
    pthread_init(m);
    g.bench_function(BenchmarkId::new("floor_pthread_pshared", "per_op"), |b| {
        b.iter(|| {
            pthread_lock(black_box(m));
            pthread_unlock(m);
        });
    });
    g.finish();
}

// ---- W8 -----------------------------------------------------------------------------------

/// Parent: `ping` then wait `pong`, `iters` times; child mirrors. Returns the parent's time.
/// With `same_core`, both processes are pinned to one CPU (the oversubscribed case).
fn ping_pong(
    iters: u64,
    same_core: bool,
    ping: impl Fn(),
    wait_ping: impl Fn(),
    pong: impl Fn(),
    wait_pong: impl Fn(),
) -> Duration {
    let page = Page::new();
    let ready = page.word(60);
    // Both processes on CPU 0 (the child inherits the affinity) until this returns.
    let _pinned = same_core.then(|| common::pin(0));
    let pid = fork(|| {
        ready.store(1, Ordering::Release);
        for _ in 0..iters {
            wait_ping();
            pong();
        }
    });
    await_value(ready, 1);
    let start = Instant::now();
    for _ in 0..iters {
        ping();
        wait_pong();
    }
    let took = start.elapsed();
    reap(pid);
    took
}

fn w8_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("W8_pingpong");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);

    for (name, spin) in [
        ("ours_semaphore_parked", Spin::Never),
        ("ours_semaphore_spin", Spin::Adaptive),
    ] {
        let ping = Semaphore::new(0).expect("semaphore");
        let pong = Semaphore::new(0).expect("semaphore");
        ping.set_spin(spin);
        pong.set_spin(spin);
        // "round_trip": the peer may run on the other core; "same_core": both pinned to CPU 0,
        // where spinning can only delay the peer (the spin must give up quickly).
        for (case, same_core) in [("round_trip", false), ("same_core", true)] {
            g.bench_function(BenchmarkId::new(name, case), |b| {
                b.iter_custom(|iters| {
                    ping_pong(
                        iters,
                        same_core,
                        || ping.release().expect("release"),
                        || ping.acquire().forget(),
                        || pong.release().expect("release"),
                        || pong.acquire().forget(),
                    )
                });
            });
        }
    }

    // Floor: two futex words; post = store 1 + wake, wait = sleep while 0, then reset to 0.
    let page = Page::new();
    let (a, z) = (page.word(0), page.word(1));
    let post = |w: &AtomicU32| {
        w.store(1, Ordering::Release);
        futex_wake(w, 1);
    };
    let wait = |w: &AtomicU32| {
        while w.load(Ordering::Acquire) == 0 {
            futex_wait(w, 0, None);
        }
        w.store(0, Ordering::Relaxed);
    };
    g.bench_function(BenchmarkId::new("floor_futex", "round_trip"), |b| {
        b.iter_custom(|iters| {
            ping_pong(iters, false, || post(a), || wait(a), || post(z), || wait(z))
        });
    });

    // Floor: busy-wait on two words (yielding every 64k spins, so that an oversubscribed
    // machine does not turn one sample into seconds; on idle cores it never yields).
    let spin_post = |w: &AtomicU32| w.store(1, Ordering::Release);
    let spin_wait = |w: &AtomicU32| {
        let mut n = 0u32;
        while w.load(Ordering::Acquire) == 0 {
            std::hint::spin_loop();
            n = n.wrapping_add(1);
            if n % 65_536 == 0 {
                std::thread::yield_now();
            }
        }
        w.store(0, Ordering::Relaxed);
    };
    g.bench_function(BenchmarkId::new("floor_busy_wait", "round_trip"), |b| {
        b.iter_custom(|iters| {
            ping_pong(
                iters,
                false,
                || spin_post(a),
                || spin_wait(a),
                || spin_post(z),
                || spin_wait(z),
            )
        });
    });
    g.finish();
}

criterion_group!(benches, w6_uncontended, w6_counter, w8_pingpong);
criterion_main!(benches);
