//! Seed 002, the first `Process` example: `info(title)` prints the module name and the parent
//! and own pids, in the parent and in a child started with `f("bob")`.
//!
//! Run: `cargo run -p multiproc --example process_info`
#![allow(clippy::print_stdout)]

use multiproc::{Process, current_process};

fn info(title: &str) {
    println!("{title}");
    println!("module name: {}", module_path!());
    println!("parent process: {}", std::os::unix::process::parent_id());
    println!("process id: {}", std::process::id());
}

fn f(name: String) {
    info("function f");
    println!("hello {name} (from {})", current_process().name());
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    info("main line");
    let mut p = Process::new(f, "bob".to_string());
    p.start()?;
    p.join()?;
    Ok(())
}
