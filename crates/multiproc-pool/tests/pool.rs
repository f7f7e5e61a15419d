//! Pool behaviour with real worker processes, under fork, spawn and forkserver.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use common::{eventually, pid_alive, sigkill, try_sigkill, zombie_children};
use multiproc_pool::{Error, Pool};
use multiproc_process::StartMethod;
use multiproc_testkit::{open_fds, watchdog};

fn square(x: u64) -> u64 {
    x * x
}

fn pid_of(_: u32) -> u32 {
    std::process::id()
}

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn fail_on_three(x: u32) -> u32 {
    if x == 3 {
        panic!("three is right out");
    }
    x
}

fn pid_or_panic(x: u32) -> u32 {
    if x == 3 {
        panic!("three is right out");
    }
    std::process::id()
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn pool(n: usize, m: StartMethod) -> Pool {
    Pool::builder()
        .processes(n)
        .start_method(m)
        .build()
        .unwrap()
}

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];

#[test]
fn map_keeps_order_under_every_method() {
    watchdog(60);
    for m in METHODS {
        let p = pool(2, m);
        let want: Vec<u64> = (0..1000u64).map(|x| x * x).collect();
        assert_eq!(p.map(square, 0..1000u64).unwrap(), want, "{m:?}");
        assert_eq!(
            p.map_chunked(square, 0..37u64, 5).unwrap(),
            want[..37],
            "{m:?}"
        );
        assert!(p.map(square, Vec::<u64>::new()).unwrap().is_empty());
        // Workers start lazily, one per slot that takes a chunk: when one slot drains the
        // chunks before the other's (slower, under spawn) worker is up, only one exists.
        let workers = p.pids().len();
        assert!((1..=2).contains(&workers), "{m:?}: {workers} workers");
    }
}

#[test]
fn map_async_and_starmap() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let r = p.map_async(square, [3, 4]);
    assert_eq!(
        p.starmap(add, [(1, 2), (3, 4), (5, 6)]).unwrap(),
        [3, 7, 11]
    );
    assert_eq!(r.get().unwrap(), [9, 16]);
    assert_eq!(
        p.starmap_async(add, (0..100).map(|i| (i, -i)))
            .get()
            .unwrap(),
        vec![0; 100]
    );
}

#[test]
fn imap_is_lazy_on_an_infinite_iterator() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let pulled = std::cell::Cell::new(0u64);
    let input = (0u64..).inspect(|_| pulled.set(pulled.get() + 1));
    let mut it = p.imap(square, input);
    for i in 0..50u64 {
        assert_eq!(it.next().unwrap().unwrap(), i * i);
    }
    // 50 consumed, plus at most a window of 2 × processes chunks of one item.
    assert!(pulled.get() <= 50 + 4, "pulled {}", pulled.get());
    drop(it);

    let pulled = std::cell::Cell::new(0u64);
    let input = (0u64..).inspect(|_| pulled.set(pulled.get() + 1));
    let got: Vec<u64> = p
        .imap_chunked(square, input, 10)
        .take(25)
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (0..25u64).map(|x| x * x).collect::<Vec<_>>());
    assert!(pulled.get() <= 30 + 40, "pulled {}", pulled.get());
}

#[test]
fn imap_unordered_yields_everything() {
    watchdog(30);
    for m in [StartMethod::Fork, StartMethod::Spawn] {
        let p = pool(2, m);
        let mut got: Vec<u64> = p
            .imap_unordered(sleep_ms, (0..20u64).map(|i| i % 3))
            .map(Result::unwrap)
            .collect();
        got.sort_unstable();
        let mut want: Vec<u64> = (0..20u64).map(|i| i % 3).collect();
        want.sort_unstable();
        assert_eq!(got, want);
        let got: Vec<u64> = p
            .imap_unordered_chunked(square, 0..1000u64, 7)
            .map(Result::unwrap)
            .collect();
        assert_eq!(got.len(), 1000);
        assert_eq!(got.iter().sum::<u64>(), (0..1000u64).map(|x| x * x).sum());
    }
}

#[test]
fn apply_async_runs_callbacks_on_the_result_thread() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let (tx, rx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    let tx2 = tx.clone();
    let etx2 = etx.clone();
    let ok = p.apply_async_with(
        fail_on_three,
        10,
        move |v: &u32| {
            tx.send((*v, std::thread::current().name().map(str::to_owned)))
                .unwrap()
        },
        move |e: &Error| etx.send(e.to_string()).unwrap(),
    );
    let bad = p.apply_async_with(
        fail_on_three,
        3,
        move |v: &u32| tx2.send((*v, None)).unwrap(),
        move |e: &Error| etx2.send(e.to_string()).unwrap(),
    );
    assert_eq!(ok.get().unwrap(), 10);
    let (v, thread) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(v, 10);
    assert_eq!(thread.as_deref(), Some("pool-results"));
    assert!(matches!(bad.get(), Err(Error::Panicked(m)) if m == "three is right out"));
    let msg = erx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(msg.contains("three is right out"), "{msg}");
    // Each result got exactly one callback.
    assert!(rx.try_recv().is_err());
    assert!(erx.try_recv().is_err());

    let mut r = p.apply_async(sleep_ms, 200);
    assert!(!r.ready());
    assert_eq!(r.successful(), None);
    assert!(matches!(
        r.get_timeout(Duration::from_millis(1)),
        Err(Error::Timeout)
    ));
    assert!(r.wait_timeout(Duration::from_secs(10)));
    assert_eq!(r.successful(), Some(true));
    assert_eq!(r.get_timeout(Duration::from_secs(1)).unwrap(), 200);
    assert!(matches!(r.get(), Err(Error::AlreadyTaken)));
}

#[test]
fn a_panicking_task_fails_alone_and_the_worker_survives() {
    watchdog(30);
    let p = pool(1, StartMethod::Fork);
    let before = p.apply(pid_or_panic, 0).unwrap();
    match p.map(pid_or_panic, 0..10) {
        Err(Error::Panicked(m)) => assert_eq!(m, "three is right out"),
        other => panic!("{other:?}"),
    }
    let each: Vec<Result<u32, Error>> = p.imap(pid_or_panic, 0..6).collect();
    assert!(matches!(each[3], Err(Error::Panicked(_))));
    assert_eq!(each.iter().filter(|r| r.is_ok()).count(), 5);
    // The same worker process ran everything.
    assert!(each.iter().flatten().all(|&pid| pid == before));
    assert_eq!(p.apply(pid_or_panic, 0).unwrap(), before);
}

#[test]
fn sigkill_of_a_busy_worker_fails_only_its_task_and_the_pool_goes_on() {
    watchdog(60);
    for m in [StartMethod::Fork, StartMethod::Forkserver] {
        let p = pool(2, m);
        let victim = p.apply_async(sleep_ms, 60_000);
        let bystander = p.apply_async(sleep_ms, 300);
        assert!(eventually(20, || p.pids().len() == 2));
        // Which worker runs the long task: the one not done after the short one.
        assert_eq!(bystander.get().unwrap(), 300);
        let pids = p.pids();
        let busy: Vec<i32> = pids.clone();
        // Kill every running worker: only the long task is in flight.
        for pid in busy {
            sigkill(pid);
        }
        match victim.get() {
            Err(Error::WorkerLost { exitcode, .. }) => {
                assert_eq!(exitcode, Some(-9), "{m:?}")
            }
            other => panic!("{m:?}: {other:?}"),
        }
        // The pool replaces its workers and carries on.
        assert_eq!(p.map(square, 0..100u64).unwrap().len(), 100);
        let pids2 = p.pids();
        assert!(
            pids2.iter().all(|p| !pids.contains(p)),
            "{pids:?} {pids2:?}"
        );
        assert!(pids.iter().all(|&p| !pid_alive(p)));
    }
}

fn abort_on(x: u32) -> u32 {
    if x == 5 {
        std::process::abort();
    }
    x
}

#[test]
fn an_aborting_worker_is_reported_and_replaced() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let res: Vec<Result<u32, Error>> = p.imap(abort_on, 0..10).collect();
    for (i, r) in res.iter().enumerate() {
        if i == 5 {
            assert!(
                matches!(
                    r,
                    Err(Error::WorkerLost {
                        exitcode: Some(-6),
                        ..
                    })
                ),
                "{r:?}"
            );
        } else {
            assert_eq!(r.as_ref().unwrap(), &u32::try_from(i).unwrap());
        }
    }
    assert_eq!(p.apply(square, 7).unwrap(), 49);
}

#[test]
fn maxtasksperchild_recycles_workers() {
    watchdog(30);
    let p = Pool::builder()
        .processes(1)
        .fork()
        .maxtasksperchild(2)
        .build()
        .unwrap();
    let pids: Vec<u32> = (0..6).map(|_| p.apply(pid_of, 0).unwrap()).collect();
    assert_eq!(pids[0], pids[1]);
    assert_eq!(pids[2], pids[3]);
    assert_ne!(pids[1], pids[2]);
    assert_ne!(pids[3], pids[4]);
    assert!(eventually(10, || zombie_children().is_empty()));
}

#[test]
fn terminate_fails_pending_work_and_reaps_workers() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let running: Vec<_> = (0..2).map(|_| p.apply_async(sleep_ms, 60_000)).collect();
    let queued = p.apply_async(sleep_ms, 1);
    assert!(eventually(20, || p.pids().len() == 2));
    let pids = p.pids();
    assert!(matches!(p.join(), Err(Error::StillRunning)));
    p.terminate();
    p.join().unwrap();
    for r in running {
        assert!(matches!(r.get(), Err(Error::Terminated)));
    }
    assert!(matches!(queued.get(), Err(Error::Terminated)));
    assert!(matches!(p.apply(square, 1), Err(Error::Closed)));
    assert!(pids.iter().all(|&pid| !pid_alive(pid)));
    assert!(zombie_children().is_empty());
}

#[test]
fn close_lets_queued_work_finish() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let rs: Vec<_> = (0..10u64).map(|i| p.apply_async(square, i)).collect();
    p.close();
    p.join().unwrap();
    for (i, r) in rs.into_iter().enumerate() {
        let i = u64::try_from(i).unwrap();
        assert_eq!(r.get().unwrap(), i * i);
    }
    assert!(zombie_children().is_empty());
}

#[test]
fn no_zombies_or_fd_leaks_after_drop() {
    watchdog(60);
    for m in METHODS {
        // Warm-up: the forkserver (started on first use) keeps its own descriptors.
        drop(pool(1, m).map(square, 0..4u64).unwrap());
        let fds = open_fds();
        {
            let p = pool(2, m);
            assert_eq!(p.map(square, 0..100u64).unwrap().len(), 100);
            assert!(p.apply(pid_of, 0).unwrap() > 0);
            let _ = p.apply_async(sleep_ms, 60_000);
        }
        assert!(
            eventually(10, || open_fds() == fds),
            "{m:?}: {fds:?} vs {:?}",
            open_fds()
        );
        assert!(zombie_children().is_empty(), "{m:?}");
    }
}

#[test]
fn task_timeout_kills_and_replaces_the_worker() {
    watchdog(30);
    let p = Pool::builder()
        .processes(1)
        .fork()
        .task_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(matches!(
        p.apply(sleep_ms, 60_000),
        Err(Error::TaskTimedOut)
    ));
    assert_eq!(p.apply(sleep_ms, 1).unwrap(), 1);
}

static INIT_SEEN: AtomicU32 = AtomicU32::new(0);

fn init(v: u32) {
    INIT_SEEN.store(v, Ordering::SeqCst);
}

fn read_init(_: ()) -> u32 {
    INIT_SEEN.load(Ordering::SeqCst)
}

#[test]
fn initializer_runs_in_every_worker() {
    watchdog(30);
    for m in [StartMethod::Fork, StartMethod::Spawn] {
        let p = Pool::builder()
            .processes(2)
            .start_method(m)
            .initializer(init, 42)
            .build()
            .unwrap();
        assert_eq!(p.map(read_init, vec![(); 8]).unwrap(), vec![42; 8], "{m:?}");
    }
    assert_eq!(INIT_SEEN.load(Ordering::SeqCst), 0);
}

#[test]
fn capturing_closures_work_under_fork_and_are_refused_under_spawn() {
    watchdog(30);
    let k = Arc::new(5u64);
    let p = pool(1, StartMethod::Fork);
    let k1 = Arc::clone(&k);
    assert_eq!(p.map(move |x: u64| x + *k1, [1, 2]).unwrap(), [6, 7]);
    // A second closure value of the same type with another capture gets fresh workers.
    for add in [10u64, 20] {
        assert_eq!(p.map(move |x: u64| x + add, [1]).unwrap(), [1 + add]);
    }
    let s = pool(1, StartMethod::Spawn);
    let k2 = Arc::clone(&k);
    assert!(matches!(
        s.map(move |x: u64| x + *k2, [1]),
        Err(Error::Start(_))
    ));
    // Capture-free closures are fine under spawn.
    assert_eq!(s.map(|x: u64| x + 1, [1]).unwrap(), [2]);
}

#[test]
fn switching_functions_restarts_workers() {
    watchdog(30);
    let p = pool(2, StartMethod::Forkserver);
    assert_eq!(p.map(square, [2u64]).unwrap(), [4]);
    assert_eq!(p.starmap(add, [(2, 3)]).unwrap(), [5]);
    assert_eq!(p.apply(square, 3).unwrap(), 9);
    let mixed: Vec<_> = (0..10u64)
        .map(|i| {
            if i % 2 == 0 {
                p.apply_async(square, i)
            } else {
                p.apply_async(|x: u64| x + 1, i)
            }
        })
        .collect();
    let got: Vec<u64> = mixed.into_iter().map(|r| r.get().unwrap()).collect();
    assert_eq!(got, [0, 2, 4, 4, 16, 6, 36, 8, 64, 10]);
}

#[test]
fn zero_processes_is_an_error() {
    assert!(matches!(
        Pool::builder().processes(0).build(),
        Err(Error::InvalidArgument(_))
    ));
}

/// Serializes anywhere; refuses to deserialize 13 (so the worker cannot decode it).
#[derive(Debug, serde::Serialize)]
struct Picky(u8);

impl<'de> serde::Deserialize<'de> for Picky {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = <u8 as serde::Deserialize>::deserialize(d)?;
        if v == 13 {
            return Err(serde::de::Error::custom("unlucky number"));
        }
        Ok(Picky(v))
    }
}

fn picky_pid(p: Picky) -> (u8, u32) {
    (p.0, std::process::id())
}

/// A result that cannot be serialized when it is 13.
#[derive(Debug, serde::Deserialize)]
struct Unsendable(u8);

impl serde::Serialize for Unsendable {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            return Err(serde::ser::Error::custom("will not travel"));
        }
        s.serialize_u8(self.0)
    }
}

fn unsendable(x: u8) -> Unsendable {
    Unsendable(x)
}

#[test]
fn bad_arguments_and_results_fail_their_task_only() {
    watchdog(30);
    let p = pool(1, StartMethod::Fork);
    let (_, pid) = p.apply(picky_pid, Picky(1)).unwrap();
    match p.apply(picky_pid, Picky(13)) {
        Err(Error::Worker(m)) => assert!(m.contains("cannot decode the tasks"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.apply(picky_pid, Picky(2)).unwrap(), (2, pid));

    match p.apply(unsendable, 13) {
        Err(Error::Worker(m)) => assert!(m.contains("cannot encode the result"), "{m}"),
        other => panic!("{other:?}"),
    }
    let got: Vec<Result<Unsendable, Error>> = p.imap_chunked(unsendable, [1, 13, 2], 3).collect();
    // One chunk: the whole chunk's results fail to encode together.
    assert!(got.iter().all(|r| matches!(r, Err(Error::Worker(_)))));
    assert_eq!(p.apply(unsendable, 5).unwrap().0, 5);
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Error>();
    check::<Pool>();
    check::<multiproc_pool::AsyncResult<Vec<u8>>>();
    check::<multiproc_pool::Future<String>>();
    check::<multiproc_pool::ProcessPoolExecutor>();
}

fn stuck(_: ()) {
    loop {
        std::thread::park();
    }
}

fn byte_len(v: Vec<u8>) -> usize {
    v.len()
}

#[test]
fn terminate_does_not_hang_on_a_worker_that_never_reads() {
    watchdog(30);
    let p = Pool::builder()
        .processes(1)
        .fork()
        .initializer(stuck, ())
        .build()
        .unwrap();
    // Far more than a socket buffer: the slot thread blocks in send.
    let r = p.map_async(byte_len, vec![vec![7u8; 16 << 20]]);
    assert!(eventually(20, || p.pids().len() == 1));
    std::thread::sleep(Duration::from_millis(100));
    let pid = p.pids()[0];
    p.terminate();
    p.join().unwrap();
    assert!(matches!(r.get(), Err(Error::Terminated)));
    assert!(!pid_alive(pid));
    assert!(zombie_children().is_empty());
}

/// An iterator whose size hint is wrong.
struct Liar {
    left: u64,
    claim: usize,
}

impl Iterator for Liar {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.left = self.left.checked_sub(1)?;
        Some(self.left)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claim, Some(self.claim))
    }
}

#[test]
fn map_assembles_out_of_order_chunks_and_ignores_lying_size_hints() {
    watchdog(30);
    let p = pool(2, StartMethod::Fork);
    let input = [150u64, 1, 1, 1, 1, 1, 20, 1];
    assert_eq!(p.map_chunked(sleep_ms, input, 1).unwrap(), input);
    for (left, claim) in [(10, 3), (3, 10), (0, 5), (5, 0)] {
        let want: Vec<u64> = (0..left).rev().map(|x| x * x).collect();
        assert_eq!(p.map(square, Liar { left, claim }).unwrap(), want);
    }
    assert!(p.map(square, 0u64..0).unwrap().is_empty());
}

fn answer_on(c: multiproc_pipe::Connection) -> u32 {
    c.send(&42u32).unwrap();
    7
}

fn answer_on_result(x: u32) -> (u32, multiproc_pipe::Connection) {
    let (a, b) = multiproc_pipe::pipe(true).unwrap();
    a.send(&x).unwrap();
    (x, b)
}

#[test]
fn handles_travel_in_arguments_and_results() {
    watchdog(30);
    for m in [StartMethod::Fork, StartMethod::Spawn] {
        let p = pool(1, m);
        let (mine, theirs) = multiproc_pipe::pipe(true).unwrap();
        assert_eq!(p.apply(answer_on, theirs).unwrap(), 7);
        assert_eq!(mine.recv::<u32>().unwrap(), 42);
        let (x, conn) = p.apply(answer_on_result, 9).unwrap();
        assert_eq!(conn.recv::<u32>().unwrap(), x);
    }
}

fn slow_square(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(1 + x % 3));
    x * x
}

#[test]
fn random_sigkills_lose_only_the_killed_tasks_and_never_hang() {
    watchdog(60);
    for m in [StartMethod::Fork, StartMethod::Forkserver] {
        let p = Arc::new(pool(2, m));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let killer = {
            let (p, stop) = (Arc::clone(&p), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut kills = 0u32;
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n = n
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    std::thread::sleep(Duration::from_millis(5 + (n >> 60)));
                    let pids = p.pids();
                    if let Some(&pid) =
                        pids.get(usize::try_from(n >> 63).unwrap() % pids.len().max(1))
                    {
                        if try_sigkill(pid) {
                            kills += 1;
                        }
                    }
                }
                kills
            })
        };
        let results: Vec<Result<u64, Error>> = p.imap(slow_square, 0..300u64).collect();
        stop.store(true, Ordering::SeqCst);
        let kills = killer.join().unwrap();
        let mut lost = 0;
        for (i, r) in (0u64..).zip(&results) {
            match r {
                Ok(v) => assert_eq!(*v, i * i),
                Err(Error::WorkerLost { .. }) => lost += 1,
                Err(e) => panic!("{m:?}: item {i}: {e}"),
            }
        }
        assert_eq!(results.len(), 300);
        eprintln!("{m:?}: {kills} kills, {lost} tasks lost");
        assert!(kills > 0);
        assert!(lost <= kills, "{m:?}: {lost} lost for {kills} kills");
        // Still serving.
        assert_eq!(p.map(square, 0..10u64).unwrap()[9], 81);
        drop(p);
        assert!(eventually(10, || zombie_children().is_empty()), "{m:?}");
    }
}

#[test]
fn several_threads_share_one_pool() {
    watchdog(60);
    let p = pool(2, StartMethod::Fork);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let p = &p;
            s.spawn(move || {
                for round in 0..5u64 {
                    let base = t * 1000 + round * 100;
                    let got = p.map(square, base..base + 50).unwrap();
                    let want: Vec<u64> = (base..base + 50).map(|x| x * x).collect();
                    assert_eq!(got, want);
                    let t = i64::try_from(t).unwrap();
                    assert_eq!(p.starmap_async(add, [(t, 1)]).get().unwrap(), [t + 1]);
                }
            });
        }
    });
}

#[test]
fn a_chunk_sent_to_an_idle_worker_that_is_dying_is_retried() {
    // Kill the idle worker and submit at once: the slot may still see the worker alive (its
    // sentinel is not readable yet) and hand it the chunk. The worker never acknowledges the
    // chunk, so the chunk goes to a fresh worker instead of failing with `WorkerLost`.
    watchdog(60);
    for m in [StartMethod::Fork, StartMethod::Forkserver] {
        let p = pool(1, m);
        let mut pid = p.apply(pid_of, 0).unwrap();
        for round in 0..30 {
            sigkill(i32::try_from(pid).unwrap());
            match p.apply(pid_of, 0) {
                Ok(n) => {
                    assert_ne!(n, pid, "{m:?} round {round}: the killed worker answered");
                    pid = n;
                }
                Err(e) => panic!("{m:?} round {round}: a chunk no worker started failed: {e:?}"),
            }
        }
    }
    assert!(zombie_children().is_empty());
}

fn abort_in_init(_: ()) {
    std::process::abort();
}

#[test]
fn a_worker_that_always_dies_before_starting_fails_the_chunk_after_bounded_retries() {
    watchdog(30);
    let p = Pool::builder()
        .processes(1)
        .start_method(StartMethod::Fork)
        .initializer(abort_in_init, ())
        .build()
        .unwrap();
    match p.apply(square, 3) {
        Err(Error::WorkerLost { exitcode, .. }) => assert_eq!(exitcode, Some(-6)),
        other => panic!("{other:?}"),
    }
    // The pool stays usable (and keeps failing the same way).
    assert!(matches!(p.apply(square, 4), Err(Error::WorkerLost { .. })));
}
