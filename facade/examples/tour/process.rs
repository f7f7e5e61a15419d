//! Tour stop: processes under each start method, the class style, and a CPU-bound job run
//! serially and in parallel.

use std::time::Instant;

use multiproc::{
    Context, Process, Run, StartMethod, cpu_count, current_process, get_start_method,
    parent_process,
};
use serde::{Deserialize, Serialize};

/// Who am I? Runs in the child and reports back.
fn whoami(_: ()) -> (String, i32, i32, i32) {
    let me = current_process();
    let parent = parent_process().map_or(0, |p| p.pid());
    let os_parent = i32::try_from(std::os::unix::process::parent_id()).unwrap_or(0);
    (me.name().to_owned(), me.pid(), parent, os_parent)
}

/// The subclass style: the process's data, and its `run`.
#[derive(Serialize, Deserialize)]
struct Countdown {
    from: u32,
}

impl Run for Countdown {
    type Output = Vec<u32>;
    fn run(self) -> Vec<u32> {
        (0..=self.from).rev().collect()
    }
}

fn crunch(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..n {
        total = total.wrapping_add(std::hint::black_box(i).wrapping_mul(i));
    }
    total
}

/// Prints the process part of the tour.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "I am {} (pid {}); default start method: {}",
        current_process().name(),
        std::process::id(),
        get_start_method(false).unwrap_or_default()
    );
    for method in [
        StartMethod::Fork,
        StartMethod::Spawn,
        StartMethod::Forkserver,
    ] {
        let mut h = Context::new(method).process_with_result(whoami, ());
        h.start()?;
        let (name, pid, parent, os_parent) = h.join()?;
        println!(
            "  {method:>10}: {name} has pid {pid}, parent_process() {parent}, getppid() {os_parent}"
        );
    }
    println!("  (under forkserver the OS parent is the server; parent_process() is still us)");

    let mut h =
        Context::new(StartMethod::Spawn).process_with_result(Countdown::run, Countdown { from: 3 });
    h.start()?;
    println!(
        "  a Run impl (Python's Process subclass) counted {:?}",
        h.join()?
    );

    let n = 30_000_000;
    let workers = cpu_count().clamp(1, 4);
    let t = Instant::now();
    let serial: Vec<u64> = (0..workers).map(|_| crunch(n)).collect();
    let serial_time = t.elapsed();
    let t = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let mut h = Process::with_result(crunch, n);
        h.start()?;
        handles.push(h);
    }
    let mut parallel = Vec::new();
    for h in &mut handles {
        parallel.push(h.join()?);
    }
    let parallel_time = t.elapsed();
    assert_eq!(serial, parallel);
    // The speed-up approaches the number of idle cores.
    println!(
        "  {workers} CPU-bound jobs: serial {:.0} ms, {workers} processes {:.0} ms, speed-up {:.2}x",
        serial_time.as_secs_f64() * 1e3,
        parallel_time.as_secs_f64() * 1e3,
        serial_time.as_secs_f64() / parallel_time.as_secs_f64()
    );
    Ok(())
}
