//! Seeds 001 ("消息队列(Queue)") and 002 ("队列Queue"): one process puts a greeting, another
//! gets it; then a bounded queue (`maxsize=4`) with `qsize()` and first-in-first-out `get`s in
//! the parent.
//!
//! Python's seed 002 puts `[0, None, object]` — an arbitrary picklable object. Items here are
//! serde values, so the mixed list becomes a tuple of serializable parts.
//!
//! Run: `cargo run -p multiproc --example queue_sender_receiver`
#![allow(clippy::print_stdout)]

use multiproc::{Process, Queue};

fn sender(queue: Queue<String>) {
    queue
        .put("Hello from sender".to_string())
        .expect("queue open");
}

fn receiver(queue: Queue<String>) {
    let message = queue.get().expect("queue open");
    println!("Received: {message}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let q = Queue::new()?;
    let mut p1 = Process::new(sender, q.clone());
    let mut p2 = Process::new(receiver, q.clone());
    p1.start()?;
    p2.start()?;
    p1.join()?;
    p2.join()?;

    // Seed 002's run__queue: a bounded queue used from the parent.
    let queue: Queue<(bool, Vec<Option<u8>>)> = Queue::with_maxsize(4)?;
    queue.put((true, Vec::new()))?;
    queue.put((false, vec![Some(0), None]))?; // every item is a deep copy
    println!("the length of Queue is: {}", queue.qsize());
    println!("{:?}", queue.get()?); // first in, first out
    println!("{:?}", queue.get()?);
    println!("the length of Queue is: {}", queue.qsize());
    Ok(())
}
