//! Seed 002, `run__pool`: a task taking several values packed in one tuple, on three workers,
//! with the time it took.
//!
//! Run: `cargo run -p multiproc --example pool_map_tuples`
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use multiproc::Pool;

/// Several parameters in one argument: a tuple (a struct works too).
fn func2(args: (i32, i32)) -> i32 {
    let (x, y) = args;
    // Pretend it is a time-consuming operation (the seed sleeps 2 s; 0.5 s is enough here).
    std::thread::sleep(Duration::from_millis(500));
    x - y
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cpu_worker_num = 3;
    let process_args = vec![(1, 1), (9, 9), (4, 4), (3, 3)];

    println!("-> inputs:  {process_args:?}");
    let start_time = Instant::now();
    let outputs = {
        let p = Pool::new(cpu_worker_num)?;
        p.map(func2, process_args)?
    };
    println!(
        "-> outputs: {outputs:?}    TimeUsed: {:.1}\n",
        start_time.elapsed().as_secs_f64()
    );
    Ok(())
}
