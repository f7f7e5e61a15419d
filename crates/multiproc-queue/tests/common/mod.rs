//! A small fork helper for the multi-process tests (until the process crate is used here):
//! `fork` + `_exit`, waits with deadlines, a watchdog, and atomics over a shared segment.
#![allow(dead_code, unsafe_code)]

use std::panic::AssertUnwindSafe;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

/// Forks; the child runs `f` (its return value is the exit code, a panic exits 101) under an
/// `alarm` of `child_secs` seconds, so a hung child dies on its own.
pub(crate) fn fork(child_secs: u32, f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: fork has no preconditions; the child only runs `f` and `_exit`s (no destructors,
    // no atexit handlers). The test process has no other busy threads while it forks.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: alarm only arms a timer.
        unsafe { libc::alarm(child_secs) };
        let code = std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: ends the child immediately, which is what we want after fork.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for `pid` until `timeout`; returns the exit code, or `128 + signal`. Kills and reaps
/// the child and panics if it is still running at the deadline.
pub(crate) fn wait(pid: libc::pid_t, timeout: Duration) -> i32 {
    let deadline = Instant::now() + timeout;
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
        }
        assert!(r == 0, "waitpid failed");
        if Instant::now() >= deadline {
            kill(pid);
            panic!("child {pid} did not finish in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Returns `Some(exit code)` if `pid` has finished (and reaps it), `None` if it runs.
pub(crate) fn try_wait(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    // SAFETY: as in `wait`.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then(|| {
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        }
    })
}

/// SIGKILLs `pid` and reaps it.
pub(crate) fn kill(pid: libc::pid_t) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let mut status = 0;
    // SAFETY: as in `wait`.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

/// Aborts the whole test process if it is still running after `secs` seconds.
pub(crate) fn watchdog(secs: u64) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        eprintln!("watchdog: test still running after {secs} s, aborting");
        std::process::abort();
    });
}

/// `n` atomic words over a fresh anonymous shared segment (zeroed), visible to forked children.
pub(crate) struct Words {
    shm: multiproc_shm::SharedMemory,
    n: usize,
}

impl Words {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            shm: multiproc_shm::SharedMemory::anonymous(n * 4).unwrap(),
            n,
        }
    }

    pub(crate) fn get(&self) -> &[AtomicU32] {
        let p = self.shm.as_ptr().cast::<AtomicU32>();
        // SAFETY: the mapping is page-aligned, `n * 4` bytes long, zero-filled (a valid
        // AtomicU32 pattern), lives as long as `self`, and is only accessed atomically.
        unsafe { std::slice::from_raw_parts(p, self.n) }
    }
}

/// Open file descriptors of this process (to check for leaks).
pub(crate) fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}
