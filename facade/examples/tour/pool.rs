//! Tour stop: a pool of worker processes — `map`, lazy `imap` over an endless input,
//! `starmap`, `apply_async` with callbacks, a panicking task, a worker killed with `SIGKILL` in
//! the middle of a task (where CPython's pool hangs forever), and a `ProcessPoolExecutor` with
//! futures.

use std::sync::mpsc;
use std::time::Duration;

use multiproc::pool::Error;
use multiproc::{Pool, ProcessPoolExecutor, as_completed};

fn square(x: u64) -> u64 {
    x * x
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn checked_sqrt(x: f64) -> f64 {
    assert!(x >= 0.0, "no real square root of {x}");
    x.sqrt()
}

fn sleepy_pid(ms: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

/// Runs the pool stop.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let pool = Pool::new(2)?;
    println!(
        "Pool::new(2): two worker processes ({} start method); they start with the first task.",
        pool.start_method().name()
    );
    println!(
        "  map(square, 0..10)        = {:?}",
        pool.map(square, 0..10)?
    );
    let firsts: Vec<u64> = pool
        .imap(square, 0u64..)
        .take(6)
        .collect::<Result<_, _>>()?;
    println!("  imap(square, 0..) take 6  = {firsts:?}  (an endless input, read lazily)");
    println!(
        "  starmap(add, pairs)       = {:?}",
        pool.starmap(add, [(1, 2), (3, 4), (5, 6)])?
    );

    let (tx, rx) = mpsc::channel();
    let etx = tx.clone();
    let ok = pool.apply_async_with(
        checked_sqrt,
        2.0,
        move |v: &f64| tx.send(format!("callback got {v:.4}")).expect("main waits"),
        move |e: &Error| {
            etx.send(format!("error_callback got: {e}"))
                .expect("main waits")
        },
    );
    ok.wait();
    println!("  apply_async(sqrt, 2.0): {}", rx.recv()?);
    match pool.apply(checked_sqrt, -1.0) {
        Err(Error::Panicked(msg)) => {
            println!("  apply(sqrt, -1.0) panicked in the worker: {msg:?}; the worker lives on")
        }
        other => println!("  apply(sqrt, -1.0) unexpectedly gave {other:?}"),
    }

    // A worker dies mid-task: only its task fails, and the pool replaces it. First make both
    // workers run `sleepy_pid` (each worker is specialised to one function), then give one of
    // them a long task and kill both: the busy one and the idle one.
    println!("  workers now: {:?}", pool.map(sleepy_pid, [10, 10])?);
    let victim = pool.apply_async(sleepy_pid, 30_000);
    std::thread::sleep(Duration::from_millis(200));
    let pids = pool.pids();
    for pid in &pids {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
    }
    println!("  killed the workers {pids:?} with SIGKILL:");
    match victim.get() {
        Err(e) => println!("    its task: Err({e})"),
        Ok(v) => println!("    its task finished anyway: {v}"),
    }
    println!(
        "    and the pool goes on with new workers: {:?}",
        pool.map(sleepy_pid, [0, 0])?
    );
    drop(pool);

    let executor = ProcessPoolExecutor::new(2)?;
    let futures: Vec<_> = (1..=4).map(|i| executor.submit(square, i)).collect();
    let mut done: Vec<u64> = as_completed(futures)
        .map(|f| f.result())
        .collect::<Result<_, _>>()?;
    done.sort_unstable();
    println!("ProcessPoolExecutor: submit ×4 + as_completed → {done:?}");
    executor.shutdown(true);
    Ok(())
}
