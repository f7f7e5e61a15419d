//! `ProcessPoolExecutor`, its futures and `as_completed`, with real worker processes.

mod common;

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use common::zombie_children;
use multiproc_pool::{Error, Pool, ProcessPoolExecutor, as_completed};
use multiproc_process::StartMethod;
use multiproc_testkit::watchdog;

fn square(x: u64) -> u64 {
    x * x
}

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn executor(n: usize, m: StartMethod) -> ProcessPoolExecutor {
    ProcessPoolExecutor::from_pool(
        Pool::builder()
            .processes(n)
            .start_method(m)
            .build()
            .unwrap(),
    )
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal `block_on` for one future.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

#[test]
fn submit_map_and_as_completed_under_fork_and_spawn() {
    watchdog(60);
    for m in [StartMethod::Fork, StartMethod::Spawn] {
        let ex = executor(2, m);
        let got: Vec<u64> = ex.map(square, 0..20).map(Result::unwrap).collect();
        assert_eq!(got, (0..20u64).map(|x| x * x).collect::<Vec<_>>());
        let futures: Vec<_> = [300, 1, 150]
            .into_iter()
            .map(|ms| ex.submit(sleep_ms, ms))
            .collect();
        let order: Vec<u64> = as_completed(futures).map(|f| f.result().unwrap()).collect();
        assert_eq!(order.len(), 3);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 150, 300], "{m:?}");
    }
}

#[test]
fn future_state_timeout_and_await() {
    watchdog(30);
    let ex = executor(1, StartMethod::Fork);
    let mut f = ex.submit(sleep_ms, 200);
    assert!(matches!(
        f.result_timeout(Duration::from_millis(1)),
        Err(Error::Timeout)
    ));
    assert!(!f.done());
    assert_eq!(f.result_timeout(Duration::from_secs(10)).unwrap(), 200);
    assert!(f.done());
    assert!(!f.cancelled());

    let f = ex.submit(square, 12);
    assert_eq!(block_on(f).unwrap(), 144);
}

#[test]
fn cancel_only_before_start() {
    watchdog(30);
    let ex = executor(1, StartMethod::Fork);
    let running = ex.submit(sleep_ms, 400);
    let queued = ex.submit(sleep_ms, 1);
    assert!(common::eventually(10, || running.running()));
    assert!(!running.cancel());
    assert!(queued.cancel());
    assert!(queued.cancelled());
    assert!(queued.done());
    assert!(matches!(queued.result(), Err(Error::Cancelled)));
    assert_eq!(running.result().unwrap(), 400);
}

#[test]
fn shutdown_waits_and_refuses_new_work() {
    watchdog(30);
    let ex = executor(2, StartMethod::Forkserver);
    let fs: Vec<_> = (0..6u64).map(|i| ex.submit(square, i)).collect();
    ex.shutdown(true);
    let got: Vec<u64> = fs.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(got, [0, 1, 4, 9, 16, 25]);
    assert!(matches!(ex.submit(square, 1).result(), Err(Error::Closed)));
    drop(ex);
    assert!(zombie_children().is_empty());
}
