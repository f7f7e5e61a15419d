#![allow(missing_docs)]
#![allow(clippy::print_stdout)]
#![allow(clippy::cast_possible_truncation)] // sizes and counts of a benchmark on a 64-bit host
//! W5a (`Pool(2).map(x*x)` over 1 M ints) and W5b (`Pool(2).map` over 2,000 tasks of 1 ms of
//! CPU each), each beside its raw floor measured in the same run.
//!
//! Run: `cargo bench -p multiproc-benches --bench pool`. CPython's numbers for the same
//! scenarios: `python3 benches/python/mp_pool.py`.
//!
//! - `W5a_map_squares/ours_pool_map/1M`: `Pool::map(square, 0..1_000_000)` on a two-worker
//!   pool (fork) whose workers are already running.
//! - `W5a_map_squares/floor_preforked_halves/1M`: two pre-forked children; each gets half of
//!   the numbers as raw little-endian bytes over a Unix socket, squares them and writes the
//!   results back the same way (no serialization, no framing, no supervision).
//! - `W5b_cpu_tasks/ours_pool_map/2000x1ms`: `Pool::map(burn, [iters; 2000])` where `burn`
//!   spins for about 1 ms, and `floor_preforked_halves/2000x1ms`, where two pre-forked children
//!   run 1,000 each. Efficiency = serial time / (2 × parallel time): after the criterion group
//!   the bench runs the tasks serially in this process and prints the efficiency of ours and of
//!   the floor (best of two interleaved rounds, as the machine is shared).

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group};
use multiproc::pool::Pool;
use multiproc::process::{Process, StartMethod};

const W5A_N: u64 = 1_000_000;
const W5B_TASKS: usize = 2_000;
/// Interleaved serial / ours / floor rounds for the printed W5b efficiency (best of).
const EFFICIENCY_ROUNDS: usize = 2;

fn square(x: u64) -> u64 {
    x * x
}

/// Spins for `iters` rounds of a cheap arithmetic loop (calibrated to about 1 ms).
fn burn(iters: u64) -> u64 {
    let mut acc: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..iters {
        acc = black_box(acc.rotate_left(7) ^ i).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    acc
}

/// Rounds of `burn` that take about `target`.
fn calibrate(target: Duration) -> u64 {
    let mut iters = 10_000u64;
    loop {
        let t = Instant::now();
        black_box(burn(iters));
        let el = t.elapsed();
        if el >= Duration::from_millis(20) {
            let per = el.as_secs_f64() / iters as f64;
            return (target.as_secs_f64() / per).max(1.0) as u64;
        }
        iters *= 2;
    }
}

fn read_u64s(s: &mut UnixStream, n: usize) -> Vec<u64> {
    let mut bytes = vec![0u8; n * 8];
    s.read_exact(&mut bytes).expect("read");
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

fn write_u64s(s: &mut UnixStream, v: &[u64]) {
    let mut bytes = Vec::with_capacity(8 + v.len() * 8);
    bytes.extend_from_slice(&(v.len() as u64).to_le_bytes());
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    s.write_all(&bytes).expect("write");
}

/// The floor's child: reads `count, numbers...`, applies `op` and writes the results back;
/// a count of zero ends it.
fn floor_child(mut s: UnixStream, op: fn(u64) -> u64) {
    loop {
        let mut len = [0u8; 8];
        if s.read_exact(&mut len).is_err() {
            return;
        }
        let n = u64::from_le_bytes(len) as usize;
        if n == 0 {
            return;
        }
        let v = read_u64s(&mut s, n);
        let out: Vec<u64> = v.into_iter().map(op).collect();
        let mut bytes = Vec::with_capacity(out.len() * 8);
        for x in out {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        s.write_all(&bytes).expect("write back");
    }
}

/// Two pre-forked children for a floor.
struct Halves {
    conns: Vec<UnixStream>,
    procs: Vec<Process>,
}

impl Halves {
    fn start(op: fn(u64) -> u64) -> Self {
        let mut conns = Vec::new();
        let mut procs = Vec::new();
        for _ in 0..2 {
            let (ours, theirs) = UnixStream::pair().expect("socketpair");
            let mut theirs = Some(theirs);
            let mut p = Process::new(
                move |()| {
                    if let Some(s) = theirs.take() {
                        floor_child(s, op)
                    }
                },
                (),
            );
            p.set_start_method(StartMethod::Fork);
            p.start().expect("fork floor child");
            conns.push(ours);
            procs.push(p);
        }
        Self { conns, procs }
    }

    /// Sends each child half of `input` and gathers the results in order.
    fn run(&mut self, input: &[u64]) -> Vec<u64> {
        let mid = input.len() / 2;
        let halves = [&input[..mid], &input[mid..]];
        let mut outs: Vec<Vec<u64>> = Vec::new();
        std::thread::scope(|sc| {
            let hs: Vec<_> = self
                .conns
                .iter_mut()
                .zip(halves)
                .map(|(c, h)| {
                    sc.spawn(move || {
                        write_u64s(c, h);
                        read_u64s(c, h.len())
                    })
                })
                .collect();
            outs = hs.into_iter().map(|h| h.join().expect("thread")).collect();
        });
        outs.concat()
    }
}

impl Drop for Halves {
    fn drop(&mut self) {
        for c in &mut self.conns {
            let _ = c.write_all(&0u64.to_le_bytes());
        }
        for p in &self.procs {
            let _ = p.join();
        }
    }
}

fn w5a(c: &mut Criterion) {
    let mut g = c.benchmark_group("W5a_map_squares");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));

    let pool = Pool::builder()
        .processes(2)
        .start_method(StartMethod::Fork)
        .build()
        .expect("pool");
    // Start the workers before measuring.
    assert_eq!(pool.map(square, 0..10u64).expect("warm-up")[3], 9);
    g.bench_function(BenchmarkId::new("ours_pool_map", "1M"), |b| {
        b.iter(|| {
            let out = pool.map(square, 0..W5A_N).expect("map");
            assert_eq!(out.len(), W5A_N as usize);
            black_box(out)
        })
    });
    drop(pool);

    let mut floor = Halves::start(square);
    g.bench_function(BenchmarkId::new("floor_preforked_halves", "1M"), |b| {
        b.iter(|| {
            let input: Vec<u64> = (0..W5A_N).collect();
            let out = floor.run(&input);
            assert_eq!(out.len(), W5A_N as usize);
            black_box(out)
        })
    });
    drop(floor);
    g.finish();
}

fn best(v: Vec<f64>) -> f64 {
    v.into_iter().fold(f64::INFINITY, f64::min)
}

fn w5b(c: &mut Criterion) {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| f.contains("W5b")) {
        return;
    }
    let iters = calibrate(Duration::from_millis(1));
    let tasks = vec![iters; W5B_TASKS];
    let mut g = c.benchmark_group("W5b_cpu_tasks");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_millis(500));

    let pool = Pool::builder()
        .processes(2)
        .start_method(StartMethod::Fork)
        .build()
        .expect("pool");
    assert_eq!(pool.map(burn, [1u64]).expect("warm-up").len(), 1);
    let run_ours = || {
        let out = pool.map(burn, tasks.iter().copied()).expect("map");
        black_box(out)
    };
    let run_serial = || black_box(tasks.iter().map(|&t| burn(t)).collect::<Vec<u64>>());

    g.bench_function(BenchmarkId::new("ours_pool_map", "2000x1ms"), |b| {
        b.iter(run_ours)
    });
    let mut floor = Halves::start(burn);
    g.bench_function(
        BenchmarkId::new("floor_preforked_halves", "2000x1ms"),
        |b| b.iter(|| black_box(floor.run(&tasks))),
    );
    g.finish();

    // Efficiency, from the best of a few interleaved rounds.
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    let (mut serial, mut ours, mut fl) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..EFFICIENCY_ROUNDS {
        serial.push(time(&mut || {
            run_serial();
        }));
        ours.push(time(&mut || {
            run_ours();
        }));
        fl.push(time(&mut || {
            black_box(floor.run(&tasks));
        }));
    }
    let (s, o, f) = (best(serial), best(ours), best(fl));
    println!(
        "W5b_cpu_tasks efficiency (serial / (2 x parallel)): ours_pool_map {:.1}%, floor_preforked_halves {:.1}% (serial {:.3}s, ours {:.3}s, floor {:.3}s)",
        100.0 * s / (2.0 * o),
        100.0 * s / (2.0 * f),
        s,
        o,
        f
    );
}

criterion_group!(benches, w5a, w5b);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
