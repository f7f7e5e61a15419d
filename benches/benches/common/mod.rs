//! Helpers shared by the bench targets: forking a child that runs a closure, reaping it, and
//! pinning the calling process to one CPU for a while.
#![allow(dead_code)] // each bench target uses its own subset

/// Forks a child running `f`, then `_exit(0)`.
pub(crate) fn fork(f: impl FnOnce()) -> libc::pid_t {
    // SAFETY: the child only runs `f` and `_exit`s, never returning into criterion.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        f();
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(0) };
    }
    pid
}

/// Waits for the child `pid` and checks that it exited with status 0.
pub(crate) fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
}

/// The calling process pinned to one CPU (and the children it forks meanwhile, unless they
/// pin themselves elsewhere); the previous affinity comes back on drop.
pub(crate) struct Pinned(libc::cpu_set_t);

/// Pins the calling process to `cpu` until the returned guard is dropped.
pub(crate) fn pin(cpu: usize) -> Pinned {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it (size passed).
    let mut old: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer of the size passed; 0 = the calling thread.
    unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut old) };
    pin_for_good(cpu);
    Pinned(old)
}

/// Pins the calling process to `cpu` with no way back (for a forked child).
pub(crate) fn pin_for_good(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays in bounds for cpu < 1024.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    set_affinity(&one);
}

fn set_affinity(set: &libc::cpu_set_t) {
    // SAFETY: `set` is a valid cpu_set_t of the size passed; 0 = the calling thread.
    unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), set) };
}

impl Drop for Pinned {
    fn drop(&mut self) {
        set_affinity(&self.0);
    }
}
