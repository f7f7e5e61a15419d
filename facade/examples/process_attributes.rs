//! Seed 003, `main01_process_basics`: two workers A and B, then the attributes of a named
//! process that was never started (`name`, `pid` = None, `is_alive`, `daemon`).
//!
//! Run: `cargo run -p multiproc --example process_attributes`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use multiproc::Process;

fn worker(name: String) {
    println!("  child {name} starts, PID={}", std::process::id());
    std::thread::sleep(Duration::from_millis(100));
    println!("  child {name} ends");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("main process PID: {}", std::process::id());
    println!("\ncreating processes:");
    let mut p1 = Process::new(worker, "A".to_string());
    let mut p2 = Process::new(worker, "B".to_string());
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;
    println!("all processes done");

    println!("\n--- process attributes ---");
    let mut p = Process::new(|()| (), ());
    p.set_name("MyProcess");
    println!("name: {}", p.name());
    println!("PID: {:?}", p.pid()); // None before start
    println!("alive: {}", p.is_alive());
    println!("daemon: {}", p.daemon());
    Ok(())
}
