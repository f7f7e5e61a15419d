//! Real processes under each start method: arguments, results, exit codes, timeouts,
//! sentinels, names, contexts and handles as arguments.
//!
//! Run under `cargo nextest` (one process per test, as CI does). Several tests look at
//! process-wide state (the forkserver, `active_children`, open fds), so plain `cargo test`
//! needs `-- --test-threads=1`.
mod common;

use std::time::Duration;

use multiproc_pipe::{Connection, pipe, wait};
use multiproc_process::{
    Context, Error, Process, Run, StartMethod, active_children, current_process,
    get_all_start_methods, get_start_method, set_start_method,
};
use serde::{Deserialize, Serialize};

use common::METHODS;
use multiproc_testkit::{watchdog, zombie_children};

fn square(x: u64) -> u64 {
    x * x
}

fn boom(_: ()) -> u8 {
    panic!("kaboom")
}

fn park(_: ()) {
    loop {
        std::thread::park();
    }
}

fn exit_with(code: i32) {
    multiproc_process::exit(code)
}

/// A value that refuses to serialize: the child cannot send it back.
#[derive(Debug, Deserialize)]
struct Unsendable;

impl Serialize for Unsendable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("not sendable"))
    }
}

fn unsendable(_: ()) -> Unsendable {
    Unsendable
}

fn parent_alive_with_sentinel(_: ()) -> (bool, bool) {
    let parent = multiproc_process::parent_process().expect("a child has a parent");
    (parent.is_alive(), parent.sentinel().is_some())
}

fn describe(_: ()) -> (String, i32, i32) {
    let me = current_process();
    let parent = multiproc_process::parent_process().expect("a child has a parent");
    (me.name().to_owned(), me.pid(), parent.pid())
}

/// A plain `Process` under fork sends no report (nobody can read it); its exit codes must be
/// those of a `JoinHandle`, which does.
#[test]
fn unreported_children_exit_like_reported_ones() {
    watchdog(60);
    for m in METHODS {
        let ctx = Context::new(m);
        let before = multiproc_testkit::open_fds();
        {
            let mut p = ctx.process(boom, ());
            p.start().unwrap();
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(1), "{m}: panic");
        }
        {
            let mut p = ctx.process(unsendable, ());
            p.start().unwrap();
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(1), "{m}: unsendable result");
            let mut h = ctx.process_with_result(unsendable, ());
            h.start().unwrap();
            assert!(matches!(h.join(), Err(Error::Protocol(_))), "{m}");
            assert_eq!(h.exitcode(), Some(1), "{m}: unsendable result");
        }
        {
            let mut p = ctx.process(square, 3);
            p.start().unwrap();
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(0), "{m}");
        }
        if m != StartMethod::Forkserver {
            // (The forkserver keeps its control socket and pidfd open.)
            assert_eq!(multiproc_testkit::open_fds(), before, "{m}: leaked fds");
        }

        // A fork child opens its parent's pidfd on first use; every method gives one.
        let mut h = ctx.process_with_result(parent_alive_with_sentinel, ());
        h.start().unwrap();
        assert_eq!(h.join().unwrap(), (true, true), "{m}");
    }
    assert!(zombie_children().is_empty());
}

#[test]
fn args_in_results_out() {
    watchdog(60);
    for m in METHODS {
        let ctx = Context::new(m);
        let mut h = ctx.process_with_result(square, 12);
        h.start().unwrap();
        assert_eq!(h.join().unwrap(), 144, "{m}");
        let mut h = ctx.process_with_result(
            |(a, b): (String, Vec<u32>)| format!("{a}{}", b.len()),
            ("n=".to_string(), vec![1, 2, 3]),
        );
        h.start().unwrap();
        assert_eq!(h.join().unwrap(), "n=3", "{m}");
        let mut h = ctx.process_with_result(describe, ());
        h.start().unwrap();
        let pid = h.pid().unwrap();
        let (name, child_pid, parent_pid) = h.join().unwrap();
        assert_eq!(name, h.name(), "{m}");
        assert_eq!(child_pid, pid, "{m}");
        assert_eq!(parent_pid, std::process::id() as i32, "{m}");
    }
    assert!(zombie_children().is_empty());
}

#[test]
fn exit_codes() {
    watchdog(60);
    for m in METHODS {
        let ctx = Context::new(m);
        let mut p = ctx.process(square, 2);
        p.start().unwrap();
        p.join().unwrap();
        assert_eq!(p.exitcode(), Some(0), "{m}");

        let mut p = ctx.process(exit_with, 7);
        p.start().unwrap();
        p.join().unwrap();
        assert_eq!(p.exitcode(), Some(7), "{m}");

        let mut h = ctx.process_with_result(boom, ());
        h.start().unwrap();
        match h.join() {
            Err(Error::Panicked(p)) => {
                assert_eq!(p.message, "kaboom");
                assert!(p.location.unwrap().contains("process.rs"), "{m}");
            }
            other => panic!("{m}: {other:?}"),
        }
        assert_eq!(h.exitcode(), Some(1), "{m}");

        for (sig, code) in [("term", -15), ("kill", -9), ("int", -2)] {
            let mut p = ctx.process(park, ());
            p.start().unwrap();
            assert!(p.is_alive());
            assert_eq!(p.exitcode(), None);
            match sig {
                "term" => p.terminate().unwrap(),
                "kill" => p.kill().unwrap(),
                _ => p.interrupt().unwrap(),
            }
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(code), "{m} {sig}");
            assert!(!p.is_alive());
            // Signalling a finished process is harmless.
            p.kill().unwrap();
        }

        let mut h = ctx.process_with_result(exit_with, 3);
        h.start().unwrap();
        assert!(
            matches!(h.join(), Err(Error::NoResult { exitcode: Some(3) })),
            "{m}"
        );
    }
    assert!(zombie_children().is_empty());
}

#[test]
fn join_timeout_and_sentinel() {
    watchdog(60);
    for m in METHODS {
        let mut p = Context::new(m).process(park, ());
        assert!(matches!(p.join(), Err(Error::NotStarted)));
        p.start().unwrap();
        assert!(matches!(p.start(), Err(Error::AlreadyStarted)));
        let t0 = std::time::Instant::now();
        assert!(!p.join_timeout(Duration::from_millis(100)).unwrap(), "{m}");
        assert!(t0.elapsed() >= Duration::from_millis(90));
        assert!(matches!(p.close(), Err(Error::StillRunning)));
        let sentinel = p.sentinel().unwrap();
        assert!(
            wait(&[&sentinel], Some(Duration::ZERO)).unwrap().is_empty(),
            "{m}"
        );
        p.kill().unwrap();
        assert_eq!(
            wait(&[&sentinel], Some(Duration::from_secs(20)))
                .unwrap()
                .len(),
            1,
            "{m}"
        );
        assert!(p.join_timeout(Duration::from_secs(20)).unwrap());
        assert_eq!(p.exitcode(), Some(-9));
        p.close().unwrap();
        assert!(matches!(p.join(), Err(Error::Closed)));
        assert!(matches!(p.sentinel(), Err(Error::Closed)));
    }
}

#[test]
fn hundred_children_under_fork() {
    watchdog(120);
    let ctx = Context::new(StartMethod::Fork);
    let mut hs: Vec<_> = (0..100u64)
        .map(|i| {
            let mut h = ctx.process_with_result(square, i);
            h.start().unwrap();
            h
        })
        .collect();
    for (i, h) in hs.iter_mut().enumerate() {
        assert_eq!(h.join().unwrap(), (i * i) as u64);
    }
    assert!(active_children().is_empty());
    assert!(zombie_children().is_empty());
}

#[test]
fn twenty_children_under_spawn_and_forkserver() {
    watchdog(120);
    for m in [StartMethod::Spawn, StartMethod::Forkserver] {
        let ctx = Context::new(m);
        let mut hs: Vec<_> = (0..20u64)
            .map(|i| {
                let mut h = ctx.process_with_result(square, i);
                h.start().unwrap();
                h
            })
            .collect();
        for (i, h) in hs.iter_mut().enumerate() {
            assert_eq!(h.join().unwrap(), (i * i) as u64, "{m}");
        }
    }
    assert!(zombie_children().is_empty());
}

fn family(method: StartMethod) -> Vec<String> {
    let me = current_process().name().to_owned();
    let mut names = vec![me];
    let ctx = Context::new(method);
    let mut kids: Vec<_> = (0..2)
        .map(|_| {
            let mut h = ctx.process_with_result(|()| current_process().name().to_owned(), ());
            h.start().unwrap();
            h
        })
        .collect();
    for k in &mut kids {
        names.push(k.join().unwrap());
    }
    names
}

#[test]
fn recursive_children_names_and_order() {
    watchdog(60);
    for m in METHODS {
        let mut h = Context::new(m).process_with_result(family, m);
        h.start().unwrap();
        let base = h.name().to_owned();
        assert_eq!(
            h.join().unwrap(),
            vec![base.clone(), format!("{base}:1"), format!("{base}:2")],
            "{m}"
        );
    }
}

#[test]
fn custom_names_reach_the_child() {
    watchdog(30);
    for m in METHODS {
        let mut h =
            Context::new(m).process_with_result(|()| current_process().name().to_owned(), ());
        h.set_name("worker-a");
        h.start().unwrap();
        assert_eq!(h.join().unwrap(), "worker-a");
    }
}

fn talk(conn: Connection) -> u32 {
    let x: u32 = conn.recv().unwrap();
    conn.send(&(x + 1)).unwrap();
    x
}

#[test]
fn connection_as_argument() {
    watchdog(60);
    for m in METHODS {
        let (a, b) = pipe(true).unwrap();
        let mut h = Context::new(m).process_with_result(talk, b);
        h.start().unwrap();
        a.send(&41u32).unwrap();
        assert_eq!(a.recv::<u32>().unwrap(), 42, "{m}");
        assert_eq!(h.join().unwrap(), 41, "{m}");
    }
}

#[derive(Serialize, Deserialize)]
struct Greeter {
    who: String,
}

impl Run for Greeter {
    type Output = String;
    fn run(self) -> String {
        format!("hello {} from {}", self.who, current_process().name())
    }
}

#[test]
fn class_style_target() {
    watchdog(30);
    for m in METHODS {
        let mut p = Process::from_run(Greeter { who: "bob".into() });
        p.set_start_method(m);
        p.start().unwrap();
        p.join().unwrap();
        assert_eq!(p.exitcode(), Some(0));
    }
}

#[test]
fn fn_pointer_targets() {
    watchdog(30);
    fn add1(x: u8) -> u8 {
        x + 1
    }
    fn add2(x: u8) -> u8 {
        x + 2
    }
    let table: [fn(u8) -> u8; 2] = [add1, add2];
    for m in METHODS {
        for (i, f) in table.iter().enumerate() {
            let mut p = Process::from_fn(*f, 10);
            p.set_start_method(m);
            p.start().unwrap();
            p.join().unwrap();
            assert_eq!(p.exitcode(), Some(0), "{m} {i}");
        }
    }
}

#[test]
fn capturing_closures_need_fork() {
    watchdog(30);
    let captured = vec![1u8, 2, 3];
    let c2 = captured.clone();
    let mut h = Context::new(StartMethod::Fork).process_with_result(move |()| c2.len(), ());
    h.start().unwrap();
    assert_eq!(h.join().unwrap(), 3);
    for m in [StartMethod::Spawn, StartMethod::Forkserver] {
        let c = captured.clone();
        let mut p = Context::new(m).process(move |()| c.len(), ());
        assert!(matches!(p.start(), Err(Error::NotPortable)), "{m}");
    }
}

#[test]
fn start_method_settings() {
    assert_eq!(get_start_method(true), None);
    assert_eq!(get_all_start_methods().len(), 3);
    set_start_method(StartMethod::Spawn, false).unwrap();
    assert!(matches!(
        set_start_method(StartMethod::Fork, false),
        Err(Error::StartMethodAlreadySet)
    ));
    set_start_method(StartMethod::Fork, true).unwrap();
    assert_eq!(get_start_method(false), Some(StartMethod::Fork));
    let err = "thread".parse::<StartMethod>().unwrap_err();
    assert!(err.to_string().contains("unknown start method"));
    for m in METHODS {
        assert_eq!(m.name().parse::<StartMethod>().unwrap(), m);
    }
}

#[test]
fn active_children_reaps_finished_ones() {
    watchdog(60);
    for m in METHODS {
        let ctx = Context::new(m);
        let mut long = ctx.process(park, ());
        long.start().unwrap();
        for i in 0..3 {
            let mut p = ctx.process(square, i);
            p.start().unwrap();
            drop(p); // not joined: active_children must reap it
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let active = active_children();
            if active.len() == 1 {
                assert_eq!(active[0].pid(), long.pid());
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{m}: {active:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        long.kill().unwrap();
        long.join().unwrap();
        assert!(active_children().is_empty());
        assert!(zombie_children().is_empty(), "{m}");
    }
}

fn echo_len(v: Vec<u8>) -> Vec<u8> {
    let mut out = v;
    out.reverse();
    out
}

#[test]
fn large_arguments_and_results() {
    watchdog(60);
    let big: Vec<u8> = (0..(4 << 20)).map(|i: u32| (i % 251) as u8).collect();
    for m in METHODS {
        let mut h = Context::new(m).process_with_result(echo_len, big.clone());
        h.start().unwrap();
        let back = h.join().unwrap();
        assert_eq!(back.len(), big.len(), "{m}");
        assert!(back.iter().rev().eq(big.iter()), "{m}");
    }
}

fn make_connection(_: ()) -> Connection {
    let (a, b) = pipe(true).unwrap();
    a.send(&"from the child").unwrap();
    b
}

#[test]
fn handles_in_results() {
    watchdog(60);
    for m in METHODS {
        let mut h = Context::new(m).process_with_result(make_connection, ());
        h.start().unwrap();
        let conn = h.join().unwrap();
        assert_eq!(conn.recv::<String>().unwrap(), "from the child", "{m}");
    }
}
