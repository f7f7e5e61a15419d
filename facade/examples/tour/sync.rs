//! Tour stop: locks and friends between processes — a shared counter under a `Lock`, a lock
//! holder killed mid-way (where CPython would hang), a `Semaphore` letting two in at a time,
//! an `Event`, a `Condition` and a `Barrier`.

use multiproc::process::Process;
use multiproc::sync::{Condition, OwnerDied, Semaphore};
use multiproc::{Barrier, Event, Lock, RawValue};
use std::time::{Duration, Instant};

fn locked_increments((lock, counter): (Lock, RawValue<i64>)) {
    for _ in 0..10_000 {
        let _guard = lock.acquire().unwrap_or_else(OwnerDied::into_inner);
        counter.store(counter.load() + 1);
    }
}

fn hold_forever((lock, holding): (Lock, Event)) {
    lock.acquire().expect("fresh lock").leak();
    holding.set();
    loop {
        std::thread::park();
    }
}

fn limited((sem, lock, inside, most): (Semaphore, Lock, RawValue<i64>, RawValue<i64>)) {
    let _permit = sem.acquire();
    {
        let _g = lock.acquire().unwrap_or_else(OwnerDied::into_inner);
        inside.store(inside.load() + 1);
        most.store(most.load().max(inside.load()));
    }
    std::thread::sleep(Duration::from_millis(30));
    let _g = lock.acquire().unwrap_or_else(OwnerDied::into_inner);
    inside.store(inside.load() - 1);
}

fn wait_for_go((go, started): (Event, Semaphore)) -> bool {
    started.release().expect("unbounded");
    go.wait_timeout(Duration::from_secs(10))
}

fn meet(barrier: Barrier) -> u32 {
    barrier.wait().expect("nobody breaks this barrier")
}

fn produce((cond, ready): (Condition<Lock>, RawValue<i64>)) {
    std::thread::sleep(Duration::from_millis(20));
    let guard = cond.acquire().unwrap_or_else(OwnerDied::into_inner);
    ready.store(42);
    guard.notify_all();
}

fn start_all(ps: &mut [Process]) -> Result<(), Box<dyn std::error::Error>> {
    for p in ps.iter_mut() {
        p.start()?;
    }
    Ok(())
}

fn join_all(ps: &[Process]) -> Result<(), Box<dyn std::error::Error>> {
    for p in ps {
        p.join()?;
    }
    Ok(())
}

/// Runs this stop of the tour.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The classic: 4 processes × 10,000 increments of one shared counter, under a Lock.
    let lock = Lock::new()?;
    let counter = RawValue::new(0i64)?;
    let mut ps: Vec<Process> = (0..4)
        .map(|_| Process::new(locked_increments, (lock.clone(), counter.clone())))
        .collect();
    start_all(&mut ps)?;
    join_all(&ps)?;
    println!(
        "4 processes x 10,000 locked increments -> {} (every one counted)",
        counter.load()
    );

    // 2. Kill the holder. CPython's Lock would now block every other process forever.
    let lock = Lock::new()?;
    let holding = Event::new()?;
    let mut holder = Process::new(hold_forever, (lock.clone(), holding.clone()));
    holder.start()?;
    holding.wait();
    println!(
        "a child (pid {}) holds the lock; killing it with SIGKILL...",
        lock.owner_pid().unwrap_or(0)
    );
    holder.kill()?;
    let t = Instant::now();
    match lock.acquire() {
        Ok(_) => println!("  got the lock (the holder had released it?)"),
        Err(died) => {
            let _guard = died.into_inner();
            println!(
                "  the next acquire got the lock after {:?} and was told its owner died \
                 (CPython would wait forever)",
                t.elapsed()
            );
        }
    }
    holder.join()?;

    // 3. A Semaphore(2): four workers, never more than two inside at once.
    let sem = Semaphore::new(2)?;
    let guard = Lock::new()?;
    let (inside, most) = (RawValue::new(0i64)?, RawValue::new(0i64)?);
    let mut ps: Vec<Process> = (0..4)
        .map(|_| {
            let args = (sem.clone(), guard.clone(), inside.clone(), most.clone());
            Process::new(limited, args)
        })
        .collect();
    start_all(&mut ps)?;
    join_all(&ps)?;
    println!(
        "Semaphore(2) with 4 workers: at most {} inside at once",
        most.load()
    );

    // 4. An Event: three children wait for the parent's go.
    let go = Event::new()?;
    let started = Semaphore::new(0)?;
    let mut ps: Vec<_> = (0..3)
        .map(|_| Process::with_result(wait_for_go, (go.clone(), started.clone())))
        .collect();
    for p in &mut ps {
        p.start()?;
    }
    for _ in 0..3 {
        started.acquire().forget();
    }
    go.set();
    let mut woke = 0;
    for mut p in ps {
        woke += usize::from(p.join()?);
    }
    println!("Event: {woke} waiting children woke up on set()");

    // 5. A Condition: wait_for a value another process produces.
    let cond = Condition::new(Lock::new()?)?;
    let ready = RawValue::new(0i64)?;
    let mut producer = Process::new(produce, (cond.clone(), ready.clone()));
    producer.start()?;
    {
        let mut g = cond.acquire().unwrap_or_else(OwnerDied::into_inner);
        let ok = g.wait_for(|| ready.load() == 42, Some(Duration::from_secs(10)))?;
        println!("Condition: wait_for(value == 42) -> {ok}");
    }
    producer.join()?;

    // 6. A Barrier for three: two children and us.
    let barrier = Barrier::new(3)?;
    let mut ps: Vec<_> = (0..2)
        .map(|_| Process::with_result(meet, barrier.clone()))
        .collect();
    for p in &mut ps {
        p.start()?;
    }
    let mut indexes = vec![barrier.wait()?];
    for mut p in ps {
        indexes.push(p.join()?);
    }
    indexes.sort_unstable();
    println!("Barrier(3): all met; arrival indexes {indexes:?}");
    Ok(())
}
