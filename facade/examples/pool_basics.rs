//! Seed 003, `main04_process_pool`: `Pool.map`, `apply` and `map_async`, then a
//! `ProcessPoolExecutor` with `map`, `submit` and `as_completed`.
//!
//! Run: `cargo run -p multiproc --example pool_basics`
#![allow(clippy::print_stdout)]

use multiproc::{Pool, ProcessPoolExecutor, as_completed};

fn square(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("--- multiprocessing.Pool ---");
    {
        let pool = Pool::builder().processes(4).build()?;
        // map: runs in parallel, results in order.
        let results = pool.map(square, 0..10)?;
        println!("map result: {results:?}");
        // apply: one task.
        let result = pool.apply(square, 5)?;
        println!("apply result: {result}");
        // map_async: returns at once; get() waits.
        let async_result = pool.map_async(square, 0..5);
        println!("map_async result: {:?}", async_result.get()?);
    }

    println!("\n--- ProcessPoolExecutor ---");
    let executor = ProcessPoolExecutor::new(4)?;
    let results: Vec<u64> = executor.map(square, 0..10).collect::<Result<_, _>>()?;
    println!("map result: {results:?}");
    // submit + as_completed: results in the order they finish.
    let futures: Vec<_> = (0..5).map(|i| executor.submit(square, i)).collect();
    for future in as_completed(futures) {
        println!("  done: {}", future.result()?);
    }
    Ok(())
}
