//! CPython semantics checked with threads of one process (the cross-process versions are in
//! `processes.rs`).
#![cfg(not(multiproc_loom))]

use multiproc_sync::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Error, Event, Lock, OwnerDied, RLock,
    Semaphore, TryAcquireError,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[test]
fn rlock_held_by_a_thread_that_ended_passes_on_with_owner_died() {
    multiproc_testkit::watchdog(30);
    let lock = RLock::new().unwrap();
    let l2 = lock.clone();
    std::thread::spawn(move || {
        l2.acquire().unwrap().leak();
        l2.acquire().unwrap().leak();
    })
    .join()
    .unwrap();
    let t = Instant::now();
    let g = lock.acquire();
    assert!(matches!(g, Err(OwnerDied { .. })));
    assert!(t.elapsed() < Duration::from_millis(500));
    assert_eq!(lock.depth(), 1);
}

#[test]
fn rlock_release_by_another_thread_fails() {
    let lock = RLock::new().unwrap();
    let _g = lock.acquire().unwrap();
    let l2 = lock.clone();
    let r = std::thread::spawn(move || l2.release()).join().unwrap();
    assert!(matches!(r, Err(Error::NotOwner)));
    assert!(lock.is_owned());
}

#[test]
fn lock_blocking_timeout_and_nonblocking() {
    let lock = Lock::new().unwrap();
    let g = lock.acquire().unwrap();
    let l2 = lock.clone();
    let waited = std::thread::spawn(move || {
        let t = Instant::now();
        let r = l2.acquire_timeout(Duration::from_millis(30));
        (matches!(r, Err(TryAcquireError::Timeout)), t.elapsed())
    })
    .join()
    .unwrap();
    assert!(waited.0);
    assert!(waited.1 >= Duration::from_millis(25));
    drop(g);
    // A blocked acquirer is woken by the release.
    let g = lock.acquire().unwrap();
    let l3 = lock.clone();
    let t = std::thread::spawn(move || drop(l3.acquire().unwrap()));
    std::thread::sleep(Duration::from_millis(20));
    drop(g);
    t.join().unwrap();
}

#[test]
fn semaphore_timeouts_and_value() {
    let sem = Semaphore::new(1).unwrap();
    let a = sem.try_acquire().unwrap();
    assert!(sem.acquire_timeout(Duration::from_millis(10)).is_none());
    let s2 = sem.clone();
    let t = std::thread::spawn(move || s2.acquire_timeout(Duration::from_secs(10)).is_some());
    std::thread::sleep(Duration::from_millis(10));
    drop(a);
    assert!(t.join().unwrap());
    assert_eq!(sem.value(), 1);
    let b = BoundedSemaphore::new(2).unwrap();
    assert!(matches!(b.release(), Err(Error::TooManyReleases)));
    assert!(matches!(
        Semaphore::new(u32::MAX),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn event_wait_timeout() {
    let ev = Event::new().unwrap();
    let t = Instant::now();
    assert!(!ev.wait_timeout(Duration::from_millis(20)));
    assert!(t.elapsed() >= Duration::from_millis(15));
    let e2 = ev.clone();
    let h = std::thread::spawn(move || e2.wait_timeout(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(10));
    ev.set();
    assert!(h.join().unwrap());
}

#[test]
fn condition_notify_n_then_notify_all() {
    multiproc_testkit::watchdog(30);
    let cond = Condition::new(Lock::new().unwrap()).unwrap();
    let woken = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let cond = cond.clone();
            let woken = woken.clone();
            std::thread::spawn(move || {
                let mut g = cond.acquire().unwrap();
                if g.wait_timeout(Duration::from_secs(5)).unwrap() {
                    woken.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Let all three fall asleep (a waiter not yet asleep would also return on this notify:
    // waits may return early, as documented, so only "at least 2" is guaranteed).
    std::thread::sleep(Duration::from_millis(50));
    cond.acquire().unwrap().notify(2);
    let deadline = Instant::now() + Duration::from_secs(5);
    while woken.load(Ordering::SeqCst) < 2 {
        assert!(Instant::now() < deadline, "notify(2) woke fewer than 2");
        std::thread::yield_now();
    }
    cond.acquire().unwrap().notify_all();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), 3);
}

#[test]
fn barrier_action_runs_once_per_generation_and_panics_break_it() {
    multiproc_testkit::watchdog(30);
    let runs = Arc::new(AtomicU32::new(0));
    let r2 = runs.clone();
    let barrier = Barrier::with_action(2, move || {
        r2.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    for _ in 0..3 {
        let b2 = barrier.clone();
        let t = std::thread::spawn(move || b2.wait());
        let mine = barrier.wait().unwrap();
        let theirs = t.join().unwrap().unwrap();
        assert_eq!(mine + theirs, 1);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    let barrier = Barrier::with_action(1, || panic!("action failed")).unwrap();
    let b2 = barrier.clone();
    assert!(std::thread::spawn(move || b2.wait()).join().is_err());
    assert!(barrier.broken());
    assert_eq!(barrier.wait(), Err(BrokenBarrier));
    barrier.reset();
    assert!(!barrier.broken());
}

#[test]
fn barrier_reset_breaks_current_waiters() {
    multiproc_testkit::watchdog(30);
    let barrier = Barrier::new(2).unwrap();
    let b2 = barrier.clone();
    let t = std::thread::spawn(move || b2.wait());
    while barrier.n_waiting() == 0 {
        std::thread::yield_now();
    }
    barrier.reset();
    assert_eq!(t.join().unwrap(), Err(BrokenBarrier));
    assert!(!barrier.broken());
    assert!(Barrier::new(0).is_err());
}

#[test]
fn primitives_are_send_sync_clone_and_serde() {
    fn check<T>()
    where
        T: Send + Sync + Clone + 'static + serde::Serialize + serde::de::DeserializeOwned,
    {
    }
    check::<Lock>();
    check::<RLock>();
    check::<Semaphore>();
    check::<BoundedSemaphore>();
    check::<Event>();
    check::<Condition<Lock>>();
    check::<Condition<RLock>>();
    check::<Barrier>();
}

#[test]
fn barrier_five_threads_several_passes() {
    multiproc_testkit::watchdog(60);
    let barrier = Barrier::new(5).unwrap();
    let passes = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (b, passes) = (barrier.clone(), passes.clone());
            std::thread::spawn(move || {
                for _ in 0..3 {
                    b.wait().unwrap();
                    passes.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let mut indexes = Vec::new();
    for _ in 0..3 {
        indexes.push(barrier.wait().unwrap());
        passes.fetch_add(1, Ordering::SeqCst);
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(passes.load(Ordering::SeqCst), 15);
    assert!(indexes.iter().all(|&i| i < 5));
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn barrier_abort_then_reset_is_usable_again() {
    multiproc_testkit::watchdog(30);
    let barrier = Barrier::new(2).unwrap();
    let b2 = barrier.clone();
    let t = std::thread::spawn(move || b2.wait());
    while barrier.n_waiting() == 0 {
        std::thread::yield_now();
    }
    barrier.abort();
    assert_eq!(t.join().unwrap(), Err(BrokenBarrier));
    assert_eq!(barrier.wait(), Err(BrokenBarrier));
    barrier.reset();
    let b2 = barrier.clone();
    let t = std::thread::spawn(move || b2.wait());
    assert!(barrier.wait().is_ok());
    assert!(t.join().unwrap().is_ok());
}

#[test]
fn lock_is_free_after_a_timed_out_waiter() {
    let lock = Lock::new().unwrap();
    let g = lock.acquire().unwrap();
    let l2 = lock.clone();
    let timed_out =
        std::thread::spawn(move || l2.acquire_timeout(Duration::from_millis(5)).is_err())
            .join()
            .unwrap();
    assert!(timed_out);
    drop(g);
    // No stale waiter state: the lock is free and the next acquire is immediate.
    assert!(!lock.is_locked());
    assert!(lock.try_acquire().is_ok());
}

#[test]
fn semaphore_many_threads_contend() {
    multiproc_testkit::watchdog(60);
    let sem = Semaphore::new(3).unwrap();
    let inside = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let _permit = sem.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::hint::spin_loop();
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.value(), 3);
}

#[test]
fn condition_wait_for_times_out_with_the_predicate_value() {
    let cond = Condition::with_rlock().unwrap();
    let mut g = cond.acquire().unwrap();
    let t = Instant::now();
    assert!(
        !g.wait_for(|| false, Some(Duration::from_millis(20)))
            .unwrap()
    );
    assert!(t.elapsed() >= Duration::from_millis(15));
    assert!(cond.lock().is_owned());
}
