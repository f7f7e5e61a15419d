//! Tour stop: pipes and connections — two processes talking, handles inside messages, `wait`,
//! and a `Listener`/`Client` pair with an authkey.

use multiproc::pipe::Error;
use multiproc::{Address, Client, Connection, Listener, Pipe, Process, wait};
use std::time::Duration;

/// The child's side of the conversation: answer questions until the parent hangs up.
fn echo_upper(conn: Connection) {
    while let Ok(line) = conn.recv::<String>() {
        if conn.send(&line.to_uppercase()).is_err() {
            break;
        }
    }
}

/// Receives a fresh pipe end inside a message and reports through it.
fn use_passed_end(conn: Connection) {
    if let Ok((label, end)) = conn.recv::<(String, Connection)>() {
        let _ = end.send(&format!("{label}: hello through an end I received"));
    }
}

/// Connects to the parent's listener by address, proving it knows the key.
fn client(address: Address) {
    if let Ok(conn) = Client::connect(&address, Some(b"tour secret")) {
        let _ = conn.send_bytes(b"raw bytes, CPython framing");
    }
}

/// Prints the pipe part of the tour.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Pipes ==");
    let (parent, child) = Pipe(true)?;
    let mut p = Process::new(echo_upper, child);
    p.start()?;
    for line in ["hello", "pipes keep message boundaries"] {
        parent.send(line)?;
        println!(
            "  parent sent {line:?}, child answered {:?}",
            parent.recv::<String>()?
        );
    }
    drop(parent); // the child sees end of stream and returns
    p.join()?;

    // A connection end is just another value: send one to a child inside a message.
    let (to_child, from_parent) = Pipe(true)?;
    let mut p = Process::new(use_passed_end, from_parent);
    p.start()?;
    let (mine, theirs) = Pipe(false)?;
    to_child.send(&("second pipe", theirs))?;
    println!("  via a passed end: {}", mine.recv::<String>()?);
    p.join()?;

    // poll() peeks without consuming; wait() watches many connections at once.
    let (a, b) = Pipe(true)?;
    let (c, d) = Pipe(true)?;
    println!("  poll before sending: {}", b.poll(Some(Duration::ZERO))?);
    c.send_bytes(b"over here")?;
    let ready = wait(&[&b, &d], Some(Duration::from_secs(5)))?;
    println!(
        "  wait() says {} of 2 connections is ready: {:?}",
        ready.len(),
        String::from_utf8_lossy(&ready[0].recv_bytes()?)
    );
    let mut small = [0u8; 4];
    a.send_bytes(b"too long for four bytes")?;
    if let Err(Error::BufferTooShort(whole)) = b.recv_bytes_into(&mut small, 0) {
        println!(
            "  BufferTooShort still hands back all {} bytes",
            whole.len()
        );
    }

    // Listener and Client: unrelated processes, an address and an authkey (CPython-compatible).
    let listener = Listener::bind(&"127.0.0.1:0".parse()?, Some(b"tour secret"))?;
    let mut p = Process::new(client, listener.address().clone());
    p.start()?;
    let conn = listener.accept()?;
    println!(
        "  listener on {} authenticated a client, which said {:?}",
        listener.address(),
        String::from_utf8_lossy(&conn.recv_bytes()?)
    );
    p.join()?;
    Ok(())
}
