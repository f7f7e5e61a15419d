//! Seed 004, "Queue - 队列": the producer ends the stream with a sentinel (`None` in Python,
//! `None` of an `Option` here) and the consumer stops when it sees it.
//!
//! Run: `cargo run -p multiproc --example queue_sentinel`
#![allow(clippy::print_stdout)]

use multiproc::{Process, Queue};

fn producer(q: Queue<Option<i32>>) {
    for i in 0..5 {
        q.put(Some(i)).expect("queue open");
        println!("Produced: {i}");
    }
    q.put(None).expect("queue open"); // end-of-stream signal
}

fn consumer(q: Queue<Option<i32>>) {
    while let Some(item) = q.get().expect("queue open") {
        println!("Consumed: {item}");
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
