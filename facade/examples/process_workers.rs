//! Seed 004, "creating processes": four workers `P0`..`P3`, each printing its pid.
//!
//! Run: `cargo run -p multiproc --example process_workers`
#![allow(clippy::print_stdout)]

use multiproc::Process;

fn worker(name: String) {
    println!("Worker {name}, PID: {}", std::process::id());
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut processes = Vec::new();
    for i in 0..4 {
        let mut p = Process::new(worker, format!("P{i}"));
        p.start()?;
        processes.push(p);
    }
    for p in &processes {
        p.join()?;
    }
    Ok(())
}
