//! The tour's pipe stop on its own: two processes over a `Pipe`, a connection end sent inside a
//! message, `poll`/`wait`, `BufferTooShort`, and a `Listener`/`Client` pair with an authkey.
//!
//! Run: `cargo run -p multiproc --example pipe_tour_stop`
#![allow(unreachable_pub)] // `run` is `pub` for the tour's main

#[path = "tour/pipe.rs"]
mod pipe;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pipe::run()
}
