//! Seed 001, "管道(Pipe)": one process sends through one end, another receives from the other.
//!
//! Run: `cargo run -p multiproc --example pipe_sender_receiver`
#![allow(clippy::print_stdout)]

use multiproc::{Connection, Pipe, Process};

/// 发送消息方: the sending side.
fn sender(conn: Connection) {
    println!("进程间发送消息 (sending between processes)");
    conn.send("发送消息").expect("send");
}

/// 接受消息方: the receiving side.
fn receiver(conn: Connection) {
    println!("进程间接收送消息 (receiving between processes)");
    let msg: String = conn.recv().expect("recv");
    println!("接收到的消息为:{msg}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (parent_conn, child_conn) = Pipe(true)?;
    let mut p1 = Process::new(sender, parent_conn);
    let mut p2 = Process::new(receiver, child_conn);
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;
    Ok(())
}
