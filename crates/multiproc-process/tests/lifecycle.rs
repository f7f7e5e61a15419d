//! Process lifecycles: daemons, parents that die, exit-time joins, descriptor hygiene, zombies,
//! and a forkserver that dies.
//!
//! Run under `cargo nextest` (one process per test, as CI does). Several tests look at
//! process-wide state (the forkserver, `active_children`, open fds), so plain `cargo test`
//! needs `-- --test-threads=1`.
mod common;

use std::time::{Duration, Instant};

use multiproc_pipe::{Connection, pipe};
use multiproc_process::{Context, Error, StartMethod, forkserver_pid, parent_process};

use common::METHODS;
use multiproc_testkit::{open_fd_numbers, pid_alive, watchdog, zombie_children};

fn park(_: ()) {
    loop {
        std::thread::park();
    }
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts a daemonic (or not) grandchild that parks, reports its pid, then parks itself.
fn middle((method, daemon, conn): (StartMethod, bool, Connection)) {
    let mut p = Context::new(method).process(park, ());
    p.set_daemon(daemon).unwrap();
    p.start().unwrap();
    conn.send(&p.pid().unwrap()).unwrap();
    park(());
}

#[test]
fn daemons_die_with_a_killed_parent() {
    watchdog(60);
    for m in METHODS {
        let (a, b) = pipe(true).unwrap();
        let mut mid = Context::new(m).process(middle, (m, true, b));
        mid.start().unwrap();
        let grandchild: i32 = a.recv().unwrap();
        assert!(pid_alive(grandchild), "{m}");
        mid.kill().unwrap();
        mid.join().unwrap();
        assert_eq!(mid.exitcode(), Some(-9));
        wait_until("the daemonic grandchild to die", 20, || {
            !pid_alive(grandchild)
        });
    }
    assert!(zombie_children().is_empty());
}

/// Like `middle`, but the daemonic grandchild is started from a thread that then ends.
fn middle_threaded((method, conn): (StartMethod, Connection)) {
    let pid = std::thread::spawn(move || {
        let mut p = Context::new(method).process(park, ());
        p.set_daemon(true).unwrap();
        p.start().unwrap();
        p.pid().unwrap()
    })
    .join()
    .unwrap();
    conn.send(&pid).unwrap();
    park(());
}

#[test]
fn daemons_outlive_the_thread_that_started_them() {
    watchdog(60);
    for m in METHODS {
        let (a, b) = pipe(true).unwrap();
        let mut mid = Context::new(m).process(middle_threaded, (m, b));
        mid.start().unwrap();
        let grandchild: i32 = a.recv().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            pid_alive(grandchild),
            "{m}: killed with its starting thread"
        );
        mid.kill().unwrap();
        mid.join().unwrap();
        wait_until("the daemonic grandchild to die", 20, || {
            !pid_alive(grandchild)
        });
    }
}

fn try_spawn_from_daemon(method: StartMethod) -> String {
    let mut p = Context::new(method).process(|()| (), ());
    match p.start() {
        Err(e @ Error::DaemonicParent) => e.to_string(),
        other => format!("unexpected: {other:?}"),
    }
}

#[test]
fn daemons_cannot_have_children() {
    watchdog(30);
    for m in METHODS {
        let mut h = Context::new(m).process_with_result(try_spawn_from_daemon, m);
        h.set_daemon(true).unwrap();
        h.start().unwrap();
        assert_eq!(
            h.join().unwrap(),
            "daemonic processes are not allowed to have children"
        );
    }
}

/// Reports when its parent has died.
fn orphan(conn: Connection) {
    let parent = parent_process().unwrap();
    conn.send(&parent.is_alive()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while parent.is_alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    conn.send(&parent.is_alive()).unwrap();
}

fn orphan_maker((method, conn): (StartMethod, Connection)) {
    let mut p = Context::new(method).process(orphan, conn);
    p.start().unwrap();
    park(());
}

#[test]
fn parent_process_notices_death() {
    watchdog(60);
    for m in METHODS {
        let (a, b) = pipe(true).unwrap();
        let mut mid = Context::new(m).process(orphan_maker, (m, b));
        mid.start().unwrap();
        assert!(a.recv::<bool>().unwrap(), "{m}: parent alive at first");
        mid.kill().unwrap();
        mid.join().unwrap();
        assert!(a.poll(Some(Duration::from_secs(20))).unwrap(), "{m}");
        assert!(!a.recv::<bool>().unwrap(), "{m}: parent dead later");
    }
}

fn slow_writer(conn: Connection) {
    std::thread::sleep(Duration::from_millis(200));
    conn.send(&"late").unwrap();
}

fn leave_child_running((method, conn): (StartMethod, Connection)) {
    let mut p = Context::new(method).process(slow_writer, conn);
    p.start().unwrap();
    // Returning without join: the child's exit path joins its non-daemonic children.
}

#[test]
fn non_daemonic_children_are_joined_at_exit() {
    watchdog(60);
    for m in METHODS {
        let (a, b) = pipe(true).unwrap();
        let mut mid = Context::new(m).process(leave_child_running, (m, b));
        mid.start().unwrap();
        mid.join().unwrap();
        assert_eq!(mid.exitcode(), Some(0));
        assert!(
            a.poll(Some(Duration::ZERO)).unwrap(),
            "{m}: grandchild finished first"
        );
        assert_eq!(a.recv::<String>().unwrap(), "late");
    }
}

fn open_fds(_: ()) -> Vec<i32> {
    let mut v: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

fn open_fds_with(conn: Connection) -> Vec<i32> {
    drop(conn.poll(Some(Duration::ZERO)));
    open_fds(())
}

#[test]
fn no_descriptor_leaks_into_children() {
    watchdog(60);
    // Descriptors without close-on-exec that a careless parent might leak.
    let (x, y) = pipe(true).unwrap();
    let files: Vec<std::fs::File> = (0..5)
        .map(|_| std::fs::File::open("/dev/null").unwrap())
        .collect();
    for m in [StartMethod::Spawn, StartMethod::Forkserver] {
        let mut h = Context::new(m).process_with_result(open_fds, ());
        h.start().unwrap();
        let fds = h.join().unwrap();
        // stdio, the result channel, the parent's pidfd and the directory being read.
        assert_eq!(fds.iter().filter(|&&fd| fd > 2).count(), 3, "{m}: {fds:?}");
        let (_a, b) = pipe(true).unwrap();
        // However many descriptors a connection end is made of, exactly those arrive.
        let carried = multiproc_shm::handle::encode_with_handles(&b)
            .unwrap()
            .1
            .len();
        let mut h = Context::new(m).process_with_result(open_fds_with, b);
        h.start().unwrap();
        let fds = h.join().unwrap();
        assert_eq!(
            fds.iter().filter(|&&fd| fd > 2).count(),
            3 + carried,
            "{m}: {fds:?}"
        );
    }
    drop((x, y, files));
    // And the parent does not accumulate descriptors per child.
    let before = open_fd_numbers().len();
    for m in METHODS {
        for _ in 0..5 {
            let mut p = Context::new(m).process(|()| (), ());
            p.start().unwrap();
            p.join().unwrap();
        }
    }
    // The forkserver's control socket and pidfd are the only additions.
    assert!(
        open_fd_numbers().len() <= before + 2,
        "{:?}",
        open_fd_numbers()
    );
    assert!(zombie_children().is_empty());
}

#[test]
fn dead_forkserver_is_replaced_and_reported() {
    watchdog(60);
    let ctx = Context::new(StartMethod::Forkserver);
    let mut running = ctx.process(park, ());
    running.start().unwrap();
    let server = forkserver_pid().unwrap();
    multiproc_sys::process::kill(server, multiproc_sys::process::Signal::Kill).unwrap();
    // The running child is not daemonic: it survives; its status is reported as lost, no hang.
    assert!(!running.join_timeout(Duration::from_millis(200)).unwrap());
    running.kill().unwrap();
    assert!(running.join_timeout(Duration::from_secs(20)).unwrap());
    assert!(running.exit_status_lost() || running.exitcode() == Some(-9));
    // The next start brings a new server.
    let mut h = ctx.process_with_result(|x: u32| x + 1, 1);
    h.start().unwrap();
    assert_eq!(h.join().unwrap(), 2);
    let new_server = forkserver_pid().unwrap();
    assert_ne!(new_server, server);
    assert!(zombie_children().is_empty());
}

fn write_later(path: String) {
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(path, "done").unwrap();
}

/// Not a test on its own: `main_process_exit_joins_children` runs it in a fresh copy of this
/// test binary, which then exits normally with a child still running.
#[test]
#[ignore = "helper run by main_process_exit_joins_children"]
fn helper_exit_with_running_child() {
    let (Ok(path), Ok(method)) = (
        std::env::var("MULTIPROC_TEST_OUT"),
        std::env::var("MULTIPROC_TEST_METHOD"),
    ) else {
        return;
    };
    let method: StartMethod = method.parse().unwrap();
    let mut p = Context::new(method).process(write_later, path);
    p.start().unwrap();
    let mut d = Context::new(method).process(park, ());
    d.set_daemon(true).unwrap();
    d.start().unwrap();
    // Returning without joining either: the exit hook terminates the daemon and joins the other.
}

#[test]
fn main_process_exit_joins_children() {
    watchdog(60);
    for m in METHODS {
        let path = std::env::temp_dir().join(format!("multiproc-exit-{}-{m}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "helper_exit_with_running_child",
                "--ignored",
                "--nocapture",
            ])
            .env("MULTIPROC_TEST_OUT", &path)
            .env("MULTIPROC_TEST_METHOD", m.name())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{m}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let written = std::fs::read_to_string(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(written.unwrap(), "done", "{m}");
    }
}

#[test]
fn threads_start_processes_concurrently() {
    watchdog(120);
    for m in METHODS {
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..8u64 {
                        let mut h =
                            Context::new(m).process_with_result(|x: u64| x * 2, t * 100 + i);
                        h.start().unwrap();
                        assert_eq!(h.join().unwrap(), (t * 100 + i) * 2);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
    assert!(zombie_children().is_empty());
}
