//! Shared test helpers: a watchdog and leak checks.
#![allow(dead_code)]

use std::time::Duration;

/// Aborts the whole test process if it is still running after `secs` seconds, so that a hang
/// fails fast instead of eating CI time.
pub(crate) fn watchdog(secs: u64) {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            std::thread::sleep(Duration::from_secs(secs));
            eprintln!("watchdog: test still running after {secs}s, aborting");
            std::process::abort();
        })
        .unwrap();
}

/// The fds open in this process, by number.
pub(crate) fn open_fds() -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// Pids of our children that are zombies.
pub(crate) fn zombie_children() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.trim().to_string()) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 1 && fields[1] == me && fields[0] == "Z" {
            out.push(pid);
        }
    }
    out
}

/// Whether a process with this pid exists (and is not a zombie).
pub(crate) fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim().starts_with('Z')),
        Err(_) => false,
    }
}

pub(crate) const METHODS: [multiproc_process::StartMethod; 3] = [
    multiproc_process::StartMethod::Fork,
    multiproc_process::StartMethod::Spawn,
    multiproc_process::StartMethod::Forkserver,
];
