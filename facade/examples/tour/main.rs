//! A guided tour of multiproc: every concept of Python's `multiprocessing`, in Rust, running.
//!
//! ```sh
//! cargo run --release --example tour            # every stop
//! cargo run --release --example tour -- pipe    # only the stops whose names are given
//! ```
//!
//! Each stop lives in its own file next to this one and prints a short narrated demo. Child
//! processes started with the spawn and forkserver methods re-execute this very binary; they are
//! intercepted before `main` runs, so nothing below runs twice.
#![allow(unreachable_pub)] // each stop's `run` is `pub` so standalone examples can include it
#![allow(clippy::print_stdout)]

mod pipe;
mod pool;
mod process;
mod queue;
mod shared;
mod sync;

type Stop = (
    &'static str,
    &'static str,
    fn() -> Result<(), Box<dyn std::error::Error>>,
);

const STOPS: &[Stop] = &[
    ("process", "Processes and start methods", process::run),
    (
        "pipe",
        "Pipes, connections, wait, Listener/Client",
        pipe::run,
    ),
    (
        "queue",
        "Queues: Queue, SimpleQueue, JoinableQueue",
        queue::run,
    ),
    (
        "sync",
        "Locks, semaphores, events, conditions, barriers",
        sync::run,
    ),
    ("shared", "Shared memory, Value and Array", shared::run),
    (
        "pool",
        "Pools of workers, ProcessPoolExecutor and futures",
        pool::run,
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|w| !STOPS.iter().any(|(name, _, _)| name == w))
    {
        let names: Vec<&str> = STOPS.iter().map(|(name, _, _)| *name).collect();
        return Err(format!("unknown stop {unknown:?}; stops are {}", names.join(", ")).into());
    }
    println!("multiproc tour — Python's multiprocessing, rebuilt for Rust");
    println!("(parent pid {})", std::process::id());
    let started = std::time::Instant::now();
    for (i, (name, title, run)) in STOPS.iter().enumerate() {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        println!();
        println!("━━━ {}. {title} ━━━", i + 1);
        run().map_err(|e| format!("tour stop {name:?} failed: {e}"))?;
    }
    println!();
    println!("tour finished in {:.2?}", started.elapsed());
    Ok(())
}
