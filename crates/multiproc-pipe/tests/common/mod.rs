//! Test helpers: a tiny `fork` with a watchdog (the process crate is separate), fd counting.
#![allow(dead_code, unreachable_pub, unsafe_code)]

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

/// Child pids the watchdog kills before aborting the test process.
static CHILDREN: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// Aborts the whole test process (after SIGKILLing registered children) unless dropped within
/// `secs` seconds, so a hang fails fast.
pub struct Watchdog(Option<mpsc::Sender<()>>);

impl Watchdog {
    pub fn new(secs: u64) -> Self {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs))
            {
                eprintln!("watchdog: test exceeded {secs} s; killing children and aborting");
                for &pid in CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                    // SAFETY: kill(2) on a pid we forked; no memory is involved.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                std::process::abort();
            }
        });
        Watchdog(Some(tx))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A forked child process.
#[derive(Debug)]
pub struct Child {
    pub pid: libc::pid_t,
}

/// Forks; the child runs `f` and `_exit`s with its return value (101 if it panics). The child
/// also arms `alarm(secs)` so it cannot outlive a hang.
pub fn fork(secs: u32, f: impl FnOnce() -> i32) -> Child {
    // SAFETY: the child only runs `f` (our own code) and then `_exit`s, never returning into
    // the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: alarm(2) has no memory effects.
        unsafe { libc::alarm(secs) };
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: _exit(2) ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
    Child { pid }
}

impl Child {
    /// Waits for the child; returns its exit code (or 128 + signal).
    pub fn wait(self) -> i32 {
        let mut status = 0;
        loop {
            // SAFETY: waitpid(2) writes the status into our local.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r == self.pid {
                break;
            }
            assert_eq!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::EINTR)
            );
        }
        CHILDREN
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&p| p != self.pid);
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        }
    }
}

/// Number of open descriptors in this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Registers a child started some other way (e.g. `std::process::Command`) with the watchdog.
pub fn register_child(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
    }
}
