//! Seed 002, "进程池Pool": a pool of five workers squares `[1, 2, 3]`.
//!
//! ```python
//! with Pool(5) as p:
//!     print(p.map(f, [1, 2, 3]))
//! ```
//!
//! Run: `cargo run -p multiproc --example pool_map`
#![allow(clippy::print_stdout)]

use multiproc::Pool;

fn f(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Dropping the pool at the end of the block terminates it, like leaving `with Pool(5)`.
    let p = Pool::new(5)?;
    println!("{:?}", p.map(f, [1, 2, 3])?);
    Ok(())
}
