//! Seed 000, "Queue": a producer process puts five items (pausing between them), a consumer
//! process takes them until it sees the last one.
//!
//! Python passes the queue as a `Process` argument; so do we (it travels as its shared-memory
//! segment under every start method). The pause is shortened from one second to 100 ms.
//!
//! Run: `cargo run -p multiproc --example queue_producer_consumer`
#![allow(clippy::print_stdout)]

use multiproc::{Process, Queue};
use std::time::Duration;

fn producer(q: Queue<String>) {
    for i in 0..5 {
        q.put(format!("item {i}")).expect("queue open");
        println!("Produced item {i}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn consumer(q: Queue<String>) {
    loop {
        let item = q.get().expect("queue open");
        println!("Consumed {item}");
        if item == "item 4" {
            break;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let q = Queue::new()?;
    let mut p1 = Process::new(producer, q.clone());
    let mut p2 = Process::new(consumer, q.clone());
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;
    Ok(())
}
