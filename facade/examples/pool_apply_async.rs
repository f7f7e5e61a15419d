//! Seed 004, "apply_async - 异步提交": submit a task, do other things, collect the result,
//! with and without a timeout.
//!
//! Run: `cargo run -p multiproc --example pool_apply_async`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use multiproc::Pool;

fn task(x: i32) -> i32 {
    x * 2
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(4)?;
    // Asynchronous submit.
    let mut result = pool.apply_async(task, 10);
    // ... do other things ...
    // With a timeout: `Err(Error::Timeout)` if the result is not there in 5 s.
    println!("{}", result.get_timeout(Duration::from_secs(5))?);
    // Without one (a second task: a result is taken once).
    println!("{}", pool.apply_async(task, 10).get()?);
    Ok(())
}
