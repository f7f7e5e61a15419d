//! W1: round trip parent ↔ forked child over our `Pipe`, beside raw `pipe(2)` and raw
//! `socketpair(2)` round trips measured in the same run.
//!
//! Group `W1_roundtrip`; functions `ours_bytes` (`send_bytes`/`recv_bytes`), `ours_typed`
//! (typed `send`/`recv` of a 64-byte `Vec<u8>`), `floor_pipe`, `floor_socketpair`; parameters
//! `64B`, `4KiB`, `1MiB`. Run: `cargo bench -p multiproc-benches --bench pipe`.
#![allow(missing_docs)]
#![allow(unsafe_code)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use multiproc::pipe::{Connection, pipe};
use multiproc_sys::fd;
use std::hint::black_box;
use std::os::fd::OwnedFd;
use std::time::Duration;

const SIZES: [(usize, &str); 3] = [(64, "64B"), (4096, "4KiB"), (1 << 20, "1MiB")];

/// A forked child; killed and reaped on drop.
struct Child(libc::pid_t);

fn fork(f: impl FnOnce()) -> Child {
    // SAFETY: the child runs `f` (our own echo loop) and `_exit`s without returning into
    // criterion.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: alarm(2) only arms a timer: a forgotten child dies within a minute.
        unsafe { libc::alarm(60) };
        f();
        // SAFETY: _exit(2) ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(0) };
    }
    Child(pid)
}

impl Drop for Child {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid we forked.
        unsafe { libc::kill(self.0, libc::SIGKILL) };
        let mut status = 0;
        // SAFETY: waitpid(2) writes into our local.
        unsafe { libc::waitpid(self.0, &mut status, 0) };
    }
}

fn read_exact(f: &OwnedFd, buf: &mut [u8]) -> bool {
    let mut at = 0;
    while at < buf.len() {
        match fd::read(f, &mut buf[at..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => at += n,
        }
    }
    true
}

fn write_all(f: &OwnedFd, buf: &[u8]) -> bool {
    let mut at = 0;
    while at < buf.len() {
        match fd::write(f, &buf[at..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => at += n,
        }
    }
    true
}

/// Raw floor: the child reads `size` bytes from `rx` and writes them back on `tx`.
fn raw_echo(rx: &OwnedFd, tx: &OwnedFd, size: usize) {
    let mut buf = vec![0u8; size];
    while read_exact(rx, &mut buf) && write_all(tx, &buf) {}
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("W1_roundtrip");
    g.warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40);

    for (size, label) in SIZES {
        let msg = vec![0x5au8; size];

        g.bench_with_input(BenchmarkId::new("floor_pipe", label), &size, |b, &size| {
            let (p_rx, c_tx) = fd::pipe().unwrap();
            let (c_rx, p_tx) = fd::pipe().unwrap();
            let child = fork(|| raw_echo(&c_rx, &c_tx, size));
            drop((c_rx, c_tx));
            let mut back = vec![0u8; size];
            b.iter(|| {
                assert!(write_all(&p_tx, black_box(&msg)));
                assert!(read_exact(&p_rx, &mut back));
            });
            drop(child);
        });

        g.bench_with_input(
            BenchmarkId::new("floor_socketpair", label),
            &size,
            |b, &size| {
                let (p, c) = fd::socketpair().unwrap();
                let child = fork(|| raw_echo(&c, &c, size));
                drop(c);
                let mut back = vec![0u8; size];
                b.iter(|| {
                    assert!(write_all(&p, black_box(&msg)));
                    assert!(read_exact(&p, &mut back));
                });
                drop(child);
            },
        );

        g.bench_with_input(BenchmarkId::new("ours_bytes", label), &size, |b, _| {
            let (p, c) = pipe(true).unwrap();
            let child = fork(|| {
                while let Ok(m) = c.recv_bytes() {
                    if c.send_bytes(&m).is_err() {
                        break;
                    }
                }
            });
            drop(c);
            b.iter(|| {
                p.send_bytes(black_box(&msg)).unwrap();
                black_box(p.recv_bytes().unwrap());
            });
            drop(child);
        });

        if size == 64 {
            g.bench_with_input(BenchmarkId::new("ours_typed", label), &size, |b, _| {
                let (p, c): (Connection, Connection) = pipe(true).unwrap();
                let child = fork(|| {
                    while let Ok(m) = c.recv::<Vec<u8>>() {
                        if c.send(&m).is_err() {
                            break;
                        }
                    }
                });
                drop(c);
                b.iter(|| {
                    p.send(black_box(&msg)).unwrap();
                    black_box(p.recv::<Vec<u8>>().unwrap());
                });
                drop(child);
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
