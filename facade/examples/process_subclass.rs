//! Seed 004, "class inheritance": Python subclasses `Process` and overrides `run`; in Rust the
//! process's data is a struct implementing [`multiproc::Run`].
//!
//! Run: `cargo run -p multiproc --example process_subclass`
#![allow(clippy::print_stdout)]

use multiproc::{Process, Run};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct MyProcess {
    name: String,
}

impl Run for MyProcess {
    type Output = ();

    fn run(self) {
        println!("Process {} running", self.name);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut p = Process::from_run(MyProcess {
        name: "Worker".into(),
    });
    p.start()?;
    p.join()?;
    Ok(())
}
