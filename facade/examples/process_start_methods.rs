//! Seeds 002 and 003 (`main06_process_context`): the start methods, the current default, and a
//! context bound to `spawn`.
//!
//! Run: `cargo run -p multiproc --example process_start_methods`
#![allow(clippy::print_stdout)]

use multiproc::{
    StartMethod, get_all_start_methods, get_context, get_start_method, parent_process,
};

fn hello(method: String) -> String {
    let parent = parent_process().map_or(0, |p| p.pid());
    format!(
        "hello from pid {} (parent {parent}) via {method}",
        std::process::id()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("available: {:?}", get_all_start_methods());
    // set_start_method(StartMethod::Spawn, false)? would fix the default once, at the top of main.
    println!("current start method: {:?}", get_start_method(false));

    for method in get_all_start_methods() {
        let ctx = get_context(Some(method));
        let mut h = ctx.process_with_result(hello, method.to_string());
        h.start()?;
        println!("{}", h.join()?);
    }
    let ctx = get_context(Some("spawn".parse::<StartMethod>()?));
    println!("using a {} context", ctx.start_method());
    Ok(())
}
