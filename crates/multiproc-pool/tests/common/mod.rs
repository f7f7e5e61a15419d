//! Test helpers of the pool tests (the watchdog and fd count come from `multiproc-testkit`):
//! our children and zombies, polling with a deadline, `SIGKILL` by pid.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Our children, with their state letter.
pub(crate) fn children() -> Vec<(i32, String)> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 1 && fields[1] == me {
            out.push((pid, fields[0].to_string()));
        }
    }
    out
}

/// Pids of our zombie children.
pub(crate) fn zombie_children() -> Vec<i32> {
    children()
        .into_iter()
        .filter(|(_, s)| s == "Z")
        .map(|(p, _)| p)
        .collect()
}

/// Whether a process with this pid exists and is not a zombie.
pub(crate) fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim().starts_with('Z')),
        Err(_) => false,
    }
}

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
