//! Who we are and whether someone else still exists: the identities a lock records as its
//! owner, and the liveness test a waiter runs on a lock holder that has been quiet too long.
//!
//! Identities are kernel ids (`getpid()`, `gettid()`), cached so that the uncontended lock path
//! costs no syscall. The process-wide cache is cleared in a forked child by a `pthread_atfork`
//! handler (registered on first use), so a child never records its parent's id.
//!
//! Liveness is decided from outside the other process: `kill(id, 0)` (no signal is sent) tells
//! whether the id still exists, and `/proc/<id>/stat` tells a zombie (killed, not yet reaped)
//! from a running process. A recycled id (the owner died and the kernel gave its id to a new
//! task) reads as alive: the lock then waits for that task, the same as for a live owner.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// The cached `getpid()`; 0 = not yet known (or cleared in a forked child).
static PID: AtomicU32 = AtomicU32::new(0);
static ATFORK: Once = Once::new();

thread_local! {
    /// The cached `gettid()` of this thread; 0 = not yet known.
    static TID: Cell<u32> = const { Cell::new(0) };
}

/// Runs in the child of every `fork()` (`pthread_atfork` child handler): forget the parent's
/// ids. The child has one thread, the one that called `fork`, and this runs on it.
extern "C" fn clear_after_fork() {
    PID.store(0, Ordering::Relaxed);
    // `try_with` cannot fail here (the forking thread is alive), and a failure would only mean
    // there is no cached value to clear.
    let _ = TID.try_with(|t| t.set(0));
}

fn register_atfork() {
    ATFORK.call_once(|| {
        // SAFETY: `clear_after_fork` is async-signal-safe (it stores to an atomic and a
        // thread-local `Cell` of this thread) and lives for the whole program; registering a
        // handler has no other precondition.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(clear_after_fork)) };
        debug_assert_eq!(rc, 0, "pthread_atfork failed");
    });
}

fn as_u32(id: i32) -> u32 {
    // Kernel ids are positive and at most 2^22 (`PID_MAX_LIMIT`).
    u32::try_from(id).unwrap_or(0)
}

/// `getpid()`—this process's id, cached (and re-read after `fork`).
///
/// # Examples
///
/// ```
/// let pid = multiproc_sys::owner::current_pid();
/// assert_eq!(pid, std::process::id());
/// ```
///
/// # References
/// - [`getpid(2)`](https://man7.org/linux/man-pages/man2/getpid.2.html)
#[doc(alias = "getpid")]
#[inline]
pub fn current_pid() -> u32 {
    let pid = PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    slow_pid()
}

#[cold]
fn slow_pid() -> u32 {
    register_atfork();
    let pid = as_u32(rustix::process::getpid().as_raw_nonzero().get());
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// `gettid()`—this thread's kernel id, cached per thread (and re-read after `fork`).
///
/// Thread ids and process ids share one number space: the main thread's id is the process id.
///
/// # Examples
///
/// ```
/// let tid = multiproc_sys::owner::current_tid();
/// assert_ne!(tid, 0);
/// let other = std::thread::spawn(multiproc_sys::owner::current_tid).join().unwrap();
/// assert_ne!(tid, other);
/// ```
///
/// # References
/// - [`gettid(2)`](https://man7.org/linux/man-pages/man2/gettid.2.html)
#[doc(alias = "gettid")]
#[inline]
pub fn current_tid() -> u32 {
    TID.try_with(|t| {
        let tid = t.get();
        if tid != 0 {
            return tid;
        }
        let tid = slow_tid();
        t.set(tid);
        tid
    })
    // During thread teardown the cache may be gone: ask the kernel.
    .unwrap_or_else(|_| slow_tid())
}

#[cold]
fn slow_tid() -> u32 {
    register_atfork();
    as_u32(rustix::thread::gettid().as_raw_nonzero().get())
}

/// Whether the process or thread `id` still runs: `kill(id, 0)`, then the state letter in
/// `/proc/<id>/stat` to tell a zombie (dead, not yet reaped) from a live task.
///
/// Returns `false` for 0 and for ids above the kernel's limit. An id that exists but belongs to
/// another user (`EPERM`) counts as alive. Without `/proc`, a zombie counts as alive.
///
/// # Examples
///
/// ```
/// use multiproc_sys::owner::{current_pid, current_tid, pid_alive};
/// assert!(pid_alive(current_pid()));
/// assert!(pid_alive(current_tid()));
/// assert!(!pid_alive(0));
/// ```
///
/// # References
/// - [`kill(2)`](https://man7.org/linux/man-pages/man2/kill.2.html)
/// - [`proc_pid_stat(5)`](https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html)
pub fn pid_alive(id: u32) -> bool {
    let Ok(raw) = i32::try_from(id) else {
        return false;
    };
    let Some(pid) = rustix::process::Pid::from_raw(raw) else {
        return false;
    };
    if let Err(rustix::io::Errno::SRCH) = rustix::process::test_kill_process(pid) {
        return false;
    }
    // The id exists; a zombie still has one. Read its state letter: the field after the
    // parenthesised command name (which may itself contain ')').
    let path = format!("/proc/{id}/stat");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let Some(close) = bytes.iter().rposition(|&b| b == b')') else {
                return true;
            };
            let state = bytes.get(close + 2).copied().unwrap_or(b'R');
            !matches!(state, b'Z' | b'X' | b'x')
        }
        // It went away between the two checks.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        ),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_cached_and_consistent() {
        assert_eq!(current_pid(), std::process::id());
        assert_eq!(current_pid(), current_pid());
        assert_eq!(current_tid(), current_tid());
    }

    #[test]
    fn dead_child_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Wait for it to become a zombie (not reaped yet).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while pid_alive(pid) {
            assert!(std::time::Instant::now() < deadline, "child never exited");
            std::thread::yield_now();
        }
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }
}
