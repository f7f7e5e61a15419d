//! Seed 001, `Value('i', 0)` updated in a child, and seed 004's counter: 4 processes × 10,000
//! increments under the value's lock give 40,000.
//!
//! Run: `cargo run -p multiproc --example shared_value`
#![allow(clippy::print_stdout)]

use multiproc::Value;
use multiproc::process::Process;

fn update_shared_value(shared_value: Value<i32>) {
    // `shared_value.value += 1` (the lock makes the read-modify-write atomic).
    *shared_value.lock() += 1;
}

fn increment(counter: Value<i32>) {
    for _ in 0..10_000 {
        *counter.lock() += 1; // with counter.get_lock(): counter.value += 1
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shared_value = Value::new(0i32)?;
    let mut p = Process::from_fn(update_shared_value, shared_value.clone());
    p.start()?;
    p.join()?;
    println!("Shared Value: {}", shared_value.load());

    let counter = Value::new(0i32)?;
    let mut processes: Vec<Process> = (0..4)
        .map(|_| Process::from_fn(increment, counter.clone()))
        .collect();
    for p in &mut processes {
        p.start()?;
    }
    for p in &processes {
        p.join()?;
    }
    println!("Result: {}", counter.load()); // 40000
    assert_eq!(counter.load(), 40_000);
    Ok(())
}
