//! Seed 004, "进程同步" (process synchronisation): five processes print through one shared
//! `Lock`, so their lines never interleave.
//!
//! Python passes the lock as a global inherited by `fork`; here it is an argument, which works
//! under every start method.
//!
//! Run: `cargo run -p multiproc --example sync_lock`
#![allow(clippy::print_stdout)]

use multiproc::{Lock, Process};

fn safe_print((lock, msg): (Lock, String)) {
    // `with lock:` — the guard releases the lock at the end of the scope.
    let _guard = lock
        .acquire()
        .expect("a previous holder died holding the lock");
    println!("{msg}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lock = Lock::new()?;
    let mut processes: Vec<Process> = (0..5)
        .map(|i| Process::new(safe_print, (lock.clone(), format!("Message {i}"))))
        .collect();
    for p in &mut processes {
        p.start()?;
    }
    for p in &processes {
        p.join()?;
    }
    Ok(())
}
