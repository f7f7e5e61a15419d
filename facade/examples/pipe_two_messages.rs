//! Seed 004, "Pipe - 管道": a sender sends a string and a list, then closes; a receiver prints
//! both. Python's `recv()` returns whatever was pickled; in Rust the receiver names the types.
//!
//! Run: `cargo run -p multiproc --example pipe_two_messages`
#![allow(clippy::print_stdout)]

use multiproc::{Connection, Pipe, Process};

fn sender(conn: Connection) {
    conn.send("Hello from sender").expect("send text");
    // Send a Vec (the receiver asks for a Vec): sender and receiver must agree on the type.
    conn.send(&Vec::from([1, 2, 3])).expect("send list");
    conn.close();
}

fn receiver(conn: Connection) {
    println!("{}", conn.recv::<String>().expect("text")); // "Hello from sender"
    println!("{:?}", conn.recv::<Vec<i32>>().expect("list")); // [1, 2, 3]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (parent_conn, child_conn) = Pipe(true)?;
    let mut p1 = Process::new(sender, child_conn);
    let mut p2 = Process::new(receiver, parent_conn);
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;
    Ok(())
}
