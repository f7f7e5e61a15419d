//! Scenarios from CPython's process tests (`Lib/test/_test_multiprocessing.py`, class
//! `_TestProcess`: recursion order, terminating many processes, parent attributes), rewritten in
//! Rust for each start method. The scenarios are CPython's; the code is ours.
//!
//! Run under `cargo nextest` (one process per test), as CI does.
mod common;

use std::time::Duration;

use multiproc_pipe::{Connection, pipe};
use multiproc_process::{Context, StartMethod, current_process, parent_process};

use common::METHODS;
use multiproc_testkit::{watchdog, zombie_children};

/// A second handle on the same connection end (through handle transfer's fd duplication).
fn dup(conn: &Connection) -> Connection {
    let (bytes, fds) = multiproc_shm::handle::encode_with_handles(conn).unwrap();
    multiproc_shm::handle::decode_with_handles(&bytes, fds).unwrap()
}

/// Reports `id`, then (above depth 2) starts two children one after the other.
fn recurse((method, conn, id): (StartMethod, Connection, Vec<u8>)) {
    conn.send(&id).unwrap();
    if id.len() < 2 {
        for i in 0..2 {
            let mut child_id = id.clone();
            child_id.push(i);
            let mut p = Context::new(method).process(recurse, (method, dup(&conn), child_id));
            p.start().unwrap();
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(0));
        }
    }
}

#[test]
fn recursion_reports_in_depth_first_order() {
    watchdog(60);
    for m in METHODS {
        let (rx, tx) = pipe(false).unwrap();
        recurse((m, tx, Vec::new()));
        // Every writer has exited, so the stream ends after the last id (a copy of the writing
        // end leaked into some process would hang here, and the watchdog would fail the test).
        let mut got: Vec<Vec<u8>> = Vec::new();
        while let Ok(id) = rx.recv() {
            got.push(id);
        }
        let want: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![0, 1],
            vec![1],
            vec![1, 0],
            vec![1, 1],
        ];
        assert_eq!(got, want, "{m}");
    }
    assert!(zombie_children().is_empty());
}

fn park(_: ()) {
    loop {
        std::thread::park();
    }
}

#[test]
fn terminating_many_processes() {
    watchdog(90);
    for (m, n) in [
        (StartMethod::Fork, 50),
        (StartMethod::Forkserver, 20),
        (StartMethod::Spawn, 10),
    ] {
        let ctx = Context::new(m);
        let procs: Vec<_> = (0..n)
            .map(|_| {
                let mut p = ctx.process(park, ());
                p.start().unwrap();
                p
            })
            .collect();
        for p in &procs {
            assert!(p.is_alive());
            p.terminate().unwrap();
        }
        for p in &procs {
            assert!(p.join_timeout(Duration::from_secs(30)).unwrap(), "{m}");
            assert_eq!(p.exitcode(), Some(-15), "{m}");
        }
    }
    assert!(zombie_children().is_empty());
}

fn parent_attributes(_: ()) -> (String, i32, bool, String) {
    let parent = parent_process().unwrap();
    (
        parent.name().to_owned(),
        parent.pid(),
        parent.is_alive(),
        current_process().name().to_owned(),
    )
}

#[test]
fn parent_process_attributes() {
    watchdog(30);
    for m in METHODS {
        let mut h = Context::new(m).process_with_result(parent_attributes, ());
        h.start().unwrap();
        let (name, pid, alive, me) = h.join().unwrap();
        assert_eq!(name, "MainProcess", "{m}");
        assert_eq!(pid, std::process::id() as i32, "{m}");
        assert!(alive, "{m}");
        assert_eq!(me, h.name(), "{m}");
    }
}
