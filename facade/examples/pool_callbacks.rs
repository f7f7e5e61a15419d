//! Seed 004, "回调函数": `apply_async` with `callback` and `error_callback`, then `close` and
//! `join`. The callbacks run on the pool's result thread.
//!
//! Run: `cargo run -p multiproc --example pool_callbacks`
#![allow(clippy::print_stdout)]

use multiproc::Pool;
use multiproc::pool::Error;

fn task(x: i32) -> i32 {
    x * 2
}

fn callback(result: &i32) {
    println!("Got result: {result}");
}

fn error_callback(error: &Error) {
    println!("Got error: {error}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(4)?;
    pool.apply_async_with(task, 10, callback, error_callback);
    // A task that fails, for the error callback.
    pool.apply_async_with(
        |x: i32| -> i32 { panic!("cannot handle {x}") },
        -1,
        callback,
        error_callback,
    );
    pool.close();
    pool.join()?;
    Ok(())
}
