//! Seed 003, `main05_cpu_bound_comparison`: four CPU-bound tasks, run serially and then in four
//! processes, with the speed-up.
//!
//! Run: `cargo run --release -p multiproc --example process_cpu_bound`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use multiproc::Process;

fn cpu_bound_task(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..n {
        total = total.wrapping_add(std::hint::black_box(i * i));
    }
    total
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 50_000_000;
    let tasks = [n; 4];

    println!("serial:");
    let start = Instant::now();
    let serial: Vec<u64> = tasks.iter().map(|&t| cpu_bound_task(t)).collect();
    let serial_time = start.elapsed().as_secs_f64();
    println!("  took {serial_time:.2}s");

    println!("\nmultiprocess ({} CPUs):", multiproc::cpu_count());
    let start = Instant::now();
    let mut handles = Vec::new();
    for &t in &tasks {
        let mut h = Process::with_result(cpu_bound_task, t);
        h.start()?;
        handles.push(h);
    }
    let parallel: Vec<u64> = handles
        .iter_mut()
        .map(|h| h.join())
        .collect::<Result<_, _>>()?;
    let parallel_time = start.elapsed().as_secs_f64();
    println!("  took {parallel_time:.2}s");
    println!("  speed-up: {:.2}x", serial_time / parallel_time);
    assert_eq!(serial, parallel);
    Ok(())
}
