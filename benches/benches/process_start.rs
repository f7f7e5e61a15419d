//! W4: start + join of a process running an empty function, for each start method, beside the
//! raw floors (fork + waitpid, posix_spawn of this very binary + waitpid) in the same run.
//!
//! Run: `cargo bench -p multiproc-benches --bench process_start`
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group};
use multiproc::process::{Process, StartMethod};
use multiproc_sys::process::{self as sys, Fork, SpawnCommand};

/// Set in the environment of the `floor_posix_spawn_self` children: exit at once.
const FLOOR_EXIT: &str = "MULTIPROC_W4_FLOOR_EXIT";

fn empty(_: ()) {}

fn ours(method: StartMethod) {
    let mut p = Process::new(empty, ());
    p.set_start_method(method);
    p.start().expect("start");
    p.join().expect("join");
    assert_eq!(p.exitcode(), Some(0));
}

fn floor_fork() {
    // SAFETY: the child only calls `_exit`.
    match unsafe { sys::fork() }.expect("fork") {
        Fork::Child => sys::exit_immediately(0),
        Fork::Parent(pid) => {
            let status = sys::waitpid(pid, true).expect("waitpid");
            black_box(status);
        }
    }
}

fn spawn_self_command() -> SpawnCommand {
    let mut env: Vec<Vec<u8>> = std::env::vars()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect();
    env.push(format!("{FLOOR_EXIT}=1").into_bytes());
    let argv0 = std::env::args().next().unwrap_or_default();
    SpawnCommand::new("/proc/self/exe", &[argv0.as_str()], &env).expect("command")
}

fn w4(c: &mut Criterion) {
    let mut g = c.benchmark_group("W4_start_join");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function(BenchmarkId::new("floor_fork_waitpid", "empty"), |b| {
        b.iter(floor_fork)
    });
    let cmd = spawn_self_command();
    g.bench_function(BenchmarkId::new("floor_posix_spawn_self", "empty"), |b| {
        b.iter(|| {
            let pid = cmd.spawn(None).expect("posix_spawn");
            black_box(sys::waitpid(pid, true).expect("waitpid"));
        })
    });
    g.bench_function(BenchmarkId::new("ours_fork", "empty"), |b| {
        b.iter(|| ours(StartMethod::Fork))
    });
    g.bench_function(BenchmarkId::new("ours_forkserver", "empty"), |b| {
        b.iter(|| ours(StartMethod::Forkserver))
    });
    g.bench_function(BenchmarkId::new("ours_spawn", "empty"), |b| {
        b.iter(|| ours(StartMethod::Spawn))
    });
    g.finish();
}

criterion_group!(benches, w4);

fn main() {
    if std::env::var_os(FLOOR_EXIT).is_some() {
        sys::exit_immediately(0);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
