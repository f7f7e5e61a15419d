//! Tour stop: queues between processes — a producer and a consumer with an end-of-stream
//! sentinel, a `JoinableQueue` work queue, exact `qsize`, `Full`/`Empty` handed back, a value
//! far larger than the queue's ring, and a producer killed in the middle of `put`s.

use multiproc::process::Process;
use multiproc::queue::{GetError, PutError};
use multiproc::{JoinableQueue, Queue};
use std::time::{Duration, Instant};

fn produce(q: Queue<Option<String>>) {
    for i in 0..5 {
        q.put(Some(format!("item {i}"))).expect("queue open");
    }
    q.put(None).expect("queue open");
}

fn consume((q, out): (Queue<Option<String>>, Queue<usize>)) {
    let mut n = 0;
    while let Some(item) = q.get().expect("queue open") {
        n += item.len();
    }
    out.put(n).expect("queue open");
}

fn square_worker((jobs, results): (JoinableQueue<u64>, Queue<u64>)) {
    while let Ok(n) = jobs.get() {
        results.put(n * n).expect("queue open");
        jobs.task_done().expect("one per get");
    }
}

fn flood(q: Queue<u32>) {
    for i in 0.. {
        q.put(i).expect("queue open");
    }
}

/// Runs the queue stop.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "A Queue lives in one shared-memory ring; put() serializes right away (no feeder thread)."
    );
    let q = Queue::new()?;
    let sizes = Queue::new()?;
    let mut producer = Process::new(produce, q.clone());
    let mut consumer = Process::new(consume, (q.clone(), sizes.clone()));
    producer.start()?;
    consumer.start()?;
    producer.join()?;
    consumer.join()?;
    println!(
        "  producer → consumer with a None sentinel: the consumer read {} bytes of items",
        sizes.get()?
    );

    let bounded = Queue::with_maxsize(2)?;
    bounded.put('a')?;
    bounded.put('b')?;
    if let Err(PutError::Full(v)) = bounded.try_put('c') {
        println!(
            "  maxsize=2: put_nowait('{v}') → Full, and the value comes back; qsize() = {} (exact)",
            bounded.qsize()
        );
    }
    bounded.get()?;
    bounded.get()?;
    if let Err(GetError::Empty) = bounded.get_timeout(Duration::from_millis(10)) {
        println!("  get(timeout=10 ms) on an empty queue → Empty");
    }

    let jobs = JoinableQueue::new()?;
    let results = Queue::new()?;
    let mut workers: Vec<Process> = (0..2)
        .map(|_| Process::new(square_worker, (jobs.clone(), results.clone())))
        .collect();
    for w in &mut workers {
        w.start()?;
    }
    for n in 1..=20u64 {
        jobs.put(n)?;
    }
    jobs.join();
    let sum: u64 = (0..20).map(|_| results.get()).sum::<Result<u64, _>>()?;
    println!(
        "  JoinableQueue: 2 workers squared 1..=20, join() returned once all were task_done(); sum = {sum}"
    );
    jobs.close(); // the workers' get() now reports Closed and they return
    for w in &workers {
        w.join()?;
    }

    let small: Queue<Vec<u64>> = Queue::with_capacity(0, 64 * 1024)?;
    let rx = small.clone();
    let reader = std::thread::spawn(move || rx.get().map(|v| v.len()));
    let t = Instant::now();
    small.put(vec![7; 1 << 20])?;
    let n = reader.join().map_err(|_| "reader panicked")??;
    println!(
        "  an 8 MiB value through a 64 KiB ring (streamed in pieces): {n} numbers in {:?}",
        t.elapsed()
    );

    let victim_q: Queue<u32> = Queue::with_capacity(0, 4096)?;
    let mut victim = Process::new(flood, victim_q.clone());
    victim.start()?;
    while victim_q.qsize() < 50 {
        std::thread::sleep(Duration::from_millis(1));
    }
    victim.kill()?;
    victim.join()?;
    let mut last = None;
    while let Ok(v) = victim_q.try_get() {
        last = Some(v);
    }
    victim_q.put(1)?;
    println!(
        "  a producer SIGKILLed mid-put: everything it committed was read (up to {last:?}), nothing torn, and the queue still works: {}",
        victim_q.get()?
    );
    Ok(())
}
