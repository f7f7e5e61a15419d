//! A `JoinableQueue` work queue: worker processes take jobs and call `task_done()`; the parent
//! `join()`s the queue to wait until every job is processed, then stops the workers with one
//! sentinel each. Results come back on a second queue.
//!
//! Run: `cargo run -p multiproc --example queue_joinable`
#![allow(clippy::print_stdout)]

use multiproc::{JoinableQueue, Process, Queue};

fn worker((jobs, results): (JoinableQueue<Option<u64>>, Queue<(u64, u64)>)) {
    while let Some(n) = jobs.get().expect("queue open") {
        results.put((n, n * n)).expect("queue open");
        jobs.task_done().expect("one task_done per get");
    }
    jobs.task_done().expect("the sentinel is a task too");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let jobs = JoinableQueue::new()?;
    let results = Queue::new()?;
    let mut workers: Vec<Process> = (0..2)
        .map(|_| Process::new(worker, (jobs.clone(), results.clone())))
        .collect();
    for w in &mut workers {
        w.start()?;
    }
    for n in 1..=10 {
        jobs.put(Some(n))?;
    }
    jobs.join(); // every job has been marked done
    println!("all {} jobs done; {} results waiting", 10, results.qsize());
    let mut squares: Vec<(u64, u64)> = (0..10).map(|_| results.get()).collect::<Result<_, _>>()?;
    squares.sort_unstable();
    println!("{squares:?}");
    for _ in &workers {
        jobs.put(None)?; // one stop signal per worker
    }
    for w in &workers {
        w.join()?;
    }
    Ok(())
}
