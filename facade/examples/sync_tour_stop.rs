//! The tour's sync stop on its own: locks, a killed holder, semaphore, event, condition and
//! barrier between processes.
//!
//! Run: `cargo run -p multiproc --example sync_tour_stop`
#![allow(unreachable_pub)] // `run` is `pub` for the tour's main

#[path = "tour/sync.rs"]
mod sync;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    sync::run()
}
