//! Seed 000, "Pipe": the parent and a child exchange one greeting each over a `Pipe`.
//!
//! ```python
//! parent_conn, child_conn = Pipe()
//! p = Process(target=worker, args=(child_conn,))
//! ```
//!
//! Run: `cargo run -p multiproc --example pipe_hello`
#![allow(clippy::print_stdout)]

use multiproc::{Connection, Pipe, Process};

fn worker(conn: Connection) {
    let msg: String = conn.recv().expect("message from parent");
    println!("Child received: {msg}");
    conn.send("Hello from child").expect("reply");
    conn.close();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (parent_conn, child_conn) = Pipe(true)?;
    // The child end travels to the child as an argument (its descriptor is passed along).
    let mut p = Process::new(worker, child_conn);
    p.start()?;
    parent_conn.send("Hello from parent")?;
    println!("Parent received: {}", parent_conn.recv::<String>()?);
    p.join()?;
    Ok(())
}
