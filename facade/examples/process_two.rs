//! Seed 002, `run__process()`: two processes running `function1(id)`, started together and
//! joined in turn.
//!
//! Run: `cargo run -p multiproc --example process_two`
#![allow(clippy::print_stdout)]

use multiproc::Process;

fn function1(id: u32) {
    println!("id:  {id}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut process = [Process::new(function1, 1), Process::new(function1, 2)];
    for p in &mut process {
        p.start()?;
    }
    for p in &process {
        p.join()?;
    }
    Ok(())
}
