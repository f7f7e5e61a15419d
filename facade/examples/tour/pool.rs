//! Tour stop: a pool of worker processes — `map`, lazy `imap` over an endless input,
//! `starmap`, `apply_async` with callbacks, a panicking task, a busy and an idle worker killed
//! with `SIGKILL` (the busy one's task fails alone, where CPython's pool hangs forever; the idle
//! one's death costs nothing), and a `ProcessPoolExecutor` with futures.

use std::sync::mpsc;
use std::time::Duration;

use multiproc::pool::Error;
use multiproc::{Connection, Pipe, Pool, ProcessPoolExecutor, as_completed};

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

/// Sleeps `ms` milliseconds and answers the worker's pid. With a connection, it first says
/// "started" on it, so that the tour knows the task is running before killing its worker.
fn nap((ms, started): (u64, Option<Connection>)) -> u32 {
    if let Some(c) = started {
        let _ = c.send_bytes(b"started");
    }
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

    // Workers die: the busy one costs its task, the idle one nothing. First make both workers
    // run `nap` (each worker is specialised to one function), then give one of them a long
    // task, wait until it has started, and kill both workers.
    println!(
        "  workers now: {:?}",
        pool.map(nap, [(10, None), (10, None)])?
    );
    let (tell, started) = Pipe(true)?;
    let victim = pool.apply_async(nap, (30_000, Some(tell)));
    if !started.poll(Some(Duration::from_secs(20)))? {
        return Err("the long task did not start within 20 s".into());
    }
    started.recv_bytes()?;
    let pids = pool.pids();
    for pid in &pids {
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
    }
    println!("  killed both workers {pids:?} with SIGKILL, one busy with a 30 s task, one idle:");
    let busy = match victim.get() {
        Err(e @ Error::WorkerLost { pid, .. }) => {
            println!("    the busy worker's task fails alone: Err({e})");
            pid
        }
        Err(e) => {
            println!("    the busy worker's task: Err({e})");
            None
        }
        Ok(v) => {
            println!("    the busy worker's task finished anyway: {v}");
            None
        }
    };
    let idle: Vec<i32> = pids.iter().copied().filter(|&p| Some(p) != busy).collect();
    let fresh = pool.map(nap, [(0, None), (0, None)])?;
    println!(
        "    the idle worker {idle:?} had started nothing, so its death cost nothing: the next"
    );
    println!("    map (even a chunk handed to it as it died) runs on fresh workers: {fresh:?}");
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
