//! The tour's pool stop on its own: map, lazy imap, starmap, callbacks, a panicking task, a
//! worker killed mid-task, and the executor.
//!
//! Run: `cargo run -p multiproc --example pool_tour_stop`
#![allow(unreachable_pub)] // `run` is `pub` for the tour's main

#[path = "tour/pool.rs"]
mod pool;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pool::run()
}
