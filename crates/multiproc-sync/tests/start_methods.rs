//! Every primitive passed as a `Process` argument under each start method (fork, spawn,
//! forkserver): the child uses the same lock, semaphore, event, condition and barrier.
#![cfg(not(multiproc_loom))]

use multiproc_process::{Context, StartMethod};
use multiproc_sync::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, OwnerDied, RLock, Semaphore,
};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];

type Args = (
    Lock,
    RLock,
    Semaphore,
    BoundedSemaphore,
    Event,
    Condition<Lock>,
    Barrier,
);

fn child((lock, rlock, sem, bounded, ev, cond, barrier): Args) -> Vec<bool> {
    let mut ok = Vec::new();
    // The parent holds `lock`: we cannot take it, but may release it (CPython semantics).
    ok.push(lock.try_acquire().is_err());
    ok.push(lock.release().is_ok());
    // The parent holds `rlock`: releasing it from here is refused.
    ok.push(rlock.release().is_err());
    sem.release().expect("unbounded");
    ok.push(bounded.release().is_ok());
    ev.set();
    {
        let g = cond.acquire().unwrap_or_else(OwnerDied::into_inner);
        g.notify_all();
    }
    ok.push(barrier.wait().is_ok());
    ok
}

#[test]
fn primitives_as_process_arguments() {
    multiproc_testkit::watchdog(120);
    for m in METHODS {
        let args: Args = (
            Lock::new().unwrap(),
            RLock::new().unwrap(),
            Semaphore::new(0).unwrap(),
            BoundedSemaphore::new(1).unwrap(),
            Event::new().unwrap(),
            Condition::new(Lock::new().unwrap()).unwrap(),
            Barrier::new(2).unwrap(),
        );
        let (lock, rlock, sem, bounded, ev, _cond, barrier) = args.clone();
        lock.acquire().unwrap().leak();
        let _r = rlock.acquire().unwrap();
        bounded.acquire().forget();
        let mut h = Context::new(m).process_with_result(child, args);
        h.start().unwrap();
        assert!(barrier.wait().is_ok(), "{m}");
        let ok = h.join().unwrap();
        assert!(ok.iter().all(|&b| b), "{m}: {ok:?}");
        assert!(!lock.is_locked(), "{m}");
        assert_eq!(sem.value(), 1, "{m}");
        assert_eq!(bounded.value(), 1, "{m}");
        assert!(ev.is_set(), "{m}");
    }
}
