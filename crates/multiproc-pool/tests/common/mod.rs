//! Test helpers of the pool tests: polling with a deadline, `SIGKILL` by pid. The watchdog, the
//! fd count and the zombie / liveness checks come from `multiproc-testkit` (re-exported here so
//! that every test file finds them under `common::`).
#![allow(dead_code, unused_imports)]

use std::time::{Duration, Instant};

pub(crate) use multiproc_testkit::{pid_alive, zombie_children};

/// Polls `cond` until it holds or `secs` pass.
pub(crate) fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

/// Sends `SIGKILL` to `pid`.
pub(crate) fn sigkill(pid: i32) {
    let pid = rustix::process::Pid::from_raw(pid).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
}

/// Sends `SIGKILL` to `pid` if it still exists (it may have been reaped since it was listed).
pub(crate) fn try_sigkill(pid: i32) -> bool {
    rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::kill_process(p, rustix::process::Signal::KILL).is_ok())
}
