//! Seed 001, "信号量(Semaphore)": a semaphore of 2 lets at most two workers in at a time.
//!
//! Run: `cargo run -p multiproc --example sync_semaphore`
#![allow(clippy::print_stdout)]

use multiproc::{Process, Semaphore};

fn worker(semaphore: Semaphore) {
    let permit = semaphore.acquire(); // semaphore.acquire()
    println!("Worker is doing some work...");
    drop(permit); // semaphore.release()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let semaphore = Semaphore::new(2)?; // two processes may be inside at once
    let mut p1 = Process::new(worker, semaphore.clone());
    let mut p2 = Process::new(worker, semaphore.clone());
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;
    Ok(())
}
