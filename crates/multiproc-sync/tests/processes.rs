//! Every primitive across real processes (forked children), with watchdogs.
#![cfg(not(multiproc_loom))]

mod common;

use common::{Counter, shm_entries};
use multiproc_sync::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Error, Event, Lock, OwnerDied, RLock,
    RLockGuard, Semaphore, TryAcquireError,
};
use multiproc_testkit::{Child, DEADLINE, Exit, fork_code as fork, watchdog};
use std::time::{Duration, Instant};

#[test]
fn four_processes_times_ten_thousand_increments() {
    watchdog(60);
    let lock = Lock::new().unwrap();
    let counter = Counter::new();
    let children: Vec<Child> = (0..4)
        .map(|_| {
            fork(|| {
                for _ in 0..10_000 {
                    let _g = lock.acquire().unwrap();
                    counter.set(0, counter.get(0) + 1);
                }
                0
            })
        })
        .collect();
    for c in children {
        assert_eq!(c.wait(DEADLINE), Exit::Code(0));
    }
    assert_eq!(counter.get(0), 40_000);
    assert!(!lock.is_locked());
}

#[test]
fn sigkilled_lock_holder_passes_the_lock_on_within_100ms() {
    watchdog(30);
    let lock = Lock::new().unwrap();
    let held = Event::new().unwrap();
    // Populate this process's cached pid first: the forked child must not record it.
    drop(lock.acquire().unwrap());
    let child = fork(|| {
        let g = lock.acquire().unwrap();
        held.set();
        std::thread::sleep(Duration::from_secs(60));
        drop(g);
        0
    });
    held.wait();
    assert_eq!(lock.owner_pid(), Some(child.pid() as u32));
    // Another process is already waiting when the holder dies.
    let waiter_lock = lock.clone();
    let waiter = std::thread::spawn(move || {
        let t = Instant::now();
        let r = waiter_lock.acquire();
        let died = matches!(r, Err(OwnerDied { .. }));
        drop(r);
        (died, t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(30));
    let killed_at = Instant::now();
    child.signal(libc::SIGKILL); // a zombie now: not reaped until the end
    let (died, _) = waiter.join().unwrap();
    let took = killed_at.elapsed();
    assert!(died, "the waiter must be told that the owner died");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    // The lock works normally afterwards.
    assert!(lock.try_acquire().is_ok());
    assert_eq!(child.wait(DEADLINE), Exit::Signal(libc::SIGKILL));
}

#[test]
fn try_acquire_and_timeout_see_a_dead_owner() {
    watchdog(30);
    let lock = Lock::new().unwrap();
    let child = fork(|| {
        lock.acquire().unwrap().leak();
        0 // exits holding the lock
    });
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
    match lock.try_acquire() {
        Err(TryAcquireError::OwnerDied(d)) => drop(d.into_inner()),
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    let child = fork(|| {
        lock.acquire().unwrap().leak();
        0
    });
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
    let r = lock.acquire_timeout(Duration::from_secs(5));
    assert!(matches!(r, Err(TryAcquireError::OwnerDied(_))));
}

#[test]
fn lock_timeout_and_release_from_another_process() {
    watchdog(30);
    let lock = Lock::new().unwrap();
    lock.acquire().unwrap().leak();
    let child = fork(|| {
        let ok = lock.acquire_timeout(Duration::from_millis(20)).is_err();
        // CPython lets any process release a Lock.
        let released = lock.release().is_ok();
        i32::from(!(ok && released))
    });
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
    assert!(!lock.is_locked());
    assert!(matches!(lock.release(), Err(Error::NotLocked)));
}

#[test]
fn rlock_ownership_and_owner_death_across_processes() {
    watchdog(30);
    let lock = RLock::new().unwrap();
    let held = Event::new().unwrap();
    let child = fork(|| {
        let a = lock.acquire().unwrap();
        let b = lock.acquire().unwrap();
        held.set();
        std::thread::sleep(Duration::from_secs(60));
        drop((a, b));
        0
    });
    held.wait();
    assert!(matches!(lock.release(), Err(Error::NotOwner)));
    assert!(lock.try_acquire().is_err());
    child.signal(libc::SIGKILL);
    let t = Instant::now();
    let g = lock.acquire();
    assert!(g.is_err(), "owner death must be reported");
    assert!(t.elapsed() < Duration::from_millis(100));
    let g = g.unwrap_or_else(OwnerDied::into_inner);
    assert_eq!(lock.depth(), 1);
    drop(g);
    assert!(!lock.is_locked());
    assert_eq!(child.wait(DEADLINE), Exit::Signal(libc::SIGKILL));
}

#[test]
fn semaphore_limits_concurrency_across_processes() {
    watchdog(60);
    let sem = Semaphore::new(2).unwrap();
    let guard = Lock::new().unwrap();
    let stats = Counter::new(); // slot 0: inside now, slot 1: max seen
    let children: Vec<Child> = (0..4)
        .map(|_| {
            fork(|| {
                for _ in 0..200 {
                    let _permit = sem.acquire();
                    {
                        let _g = guard.acquire().unwrap();
                        let now = stats.get(0) + 1;
                        stats.set(0, now);
                        stats.set(1, stats.get(1).max(now));
                    }
                    std::hint::spin_loop();
                    let _g = guard.acquire().unwrap();
                    stats.set(0, stats.get(0) - 1);
                }
                0
            })
        })
        .collect();
    for c in children {
        assert_eq!(c.wait(DEADLINE), Exit::Code(0));
    }
    assert!(stats.get(1) <= 2 && stats.get(1) >= 1);
    assert_eq!(sem.value(), 2);
}

#[test]
fn semaphore_hand_off_between_processes() {
    watchdog(30);
    let ping = Semaphore::new(0).unwrap();
    let pong = Semaphore::new(0).unwrap();
    let child = fork(|| {
        for _ in 0..1000 {
            ping.acquire().forget();
            pong.release().unwrap();
        }
        0
    });
    for _ in 0..1000 {
        ping.release().unwrap();
        pong.acquire().forget();
    }
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
    assert_eq!(ping.value() + pong.value(), 0);
}

#[test]
fn bounded_semaphore_refuses_over_release_in_another_process() {
    watchdog(30);
    let sem = BoundedSemaphore::new(1).unwrap();
    sem.acquire().forget();
    let child = fork(|| {
        let first = sem.release().is_ok();
        let second = matches!(sem.release(), Err(Error::TooManyReleases));
        i32::from(!(first && second))
    });
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
    assert_eq!(sem.value(), 1);
}

#[test]
fn event_wakes_waiters_in_other_processes() {
    watchdog(30);
    let ev = Event::new().unwrap();
    let children: Vec<Child> = (0..3)
        .map(|_| {
            fork(|| {
                let timed_out = !ev.wait_timeout(Duration::from_secs(20));
                i32::from(timed_out)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    ev.set();
    for c in children {
        assert_eq!(c.wait(DEADLINE), Exit::Code(0));
    }
    ev.clear();
    assert!(!ev.wait_timeout(Duration::from_millis(5)));
}

#[test]
fn condition_over_lock_across_processes() {
    watchdog(30);
    let value = Counter::new();
    let cond = Condition::new(Lock::new().unwrap()).unwrap();
    let child = fork(|| {
        let mut g = cond.acquire().unwrap();
        let ok = g.wait_for(|| value.get(0) == 7, Some(Duration::from_secs(20)));
        i32::from(!matches!(ok, Ok(true)))
    });
    std::thread::sleep(Duration::from_millis(10));
    {
        let g = cond.acquire().unwrap();
        value.set(0, 7);
        g.notify(1);
    }
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
}

#[test]
fn condition_over_rlock_restores_depth_across_processes() {
    watchdog(30);
    let value = Counter::new();
    let cond = Condition::with_rlock().unwrap();
    let child = fork(|| {
        let mut g = cond.acquire().unwrap();
        let _inner = cond.lock().acquire().unwrap(); // depth 2, restored after the wait
        let ok = g.wait_for(|| value.get(0) == 7, Some(Duration::from_secs(20)));
        let depth_ok = cond.lock().depth() == 2;
        i32::from(!(matches!(ok, Ok(true)) && depth_ok))
    });
    std::thread::sleep(Duration::from_millis(10));
    {
        let g = cond.acquire().unwrap();
        value.set(0, 7);
        g.notify_all();
    }
    assert_eq!(child.wait(DEADLINE), Exit::Code(0));
}

#[test]
fn condition_waiter_killed_while_waiting_swallows_no_notify() {
    watchdog(30);
    let cond = Condition::new(Lock::new().unwrap()).unwrap();
    let flag = Counter::new();
    let doomed = fork(|| {
        let mut g = cond.acquire().unwrap();
        let _ = g.wait();
        0
    });
    let survivor = fork(|| {
        let mut g = cond.acquire().unwrap();
        let ok = g.wait_for(|| flag.get(0) == 1, Some(Duration::from_secs(20)));
        i32::from(!matches!(ok, Ok(true)))
    });
    std::thread::sleep(Duration::from_millis(50));
    doomed.signal(libc::SIGKILL);
    assert_eq!(doomed.wait(DEADLINE), Exit::Signal(libc::SIGKILL));
    {
        let g = cond.acquire().unwrap();
        flag.set(0, 1);
        g.notify(1); // must reach the survivor, not the dead waiter
    }
    assert_eq!(survivor.wait(DEADLINE), Exit::Code(0));
}

#[test]
fn barrier_across_processes_gives_distinct_indexes() {
    watchdog(30);
    let barrier = Barrier::new(3).unwrap();
    let seen = Counter::new();
    let children: Vec<Child> = (0..2)
        .map(|_| {
            fork(|| match barrier.wait() {
                Ok(i) => {
                    // Each index sets its own bit (slot i).
                    seen.set(1 + i as usize, 1);
                    0
                }
                Err(BrokenBarrier) => 1,
            })
        })
        .collect();
    let mine = barrier.wait().unwrap();
    seen.set(1 + mine as usize, 1);
    for c in children {
        assert_eq!(c.wait(DEADLINE), Exit::Code(0));
    }
    assert_eq!(seen.get(1) + seen.get(2) + seen.get(3), 3);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[test]
fn barrier_party_killed_inside_wait_breaks_it() {
    watchdog(30);
    let barrier = Barrier::new(3).unwrap();
    let doomed = fork(|| {
        let _ = barrier.wait();
        0
    });
    let other = fork(|| i32::from(barrier.wait() != Err(BrokenBarrier)));
    let deadline = Instant::now() + Duration::from_secs(10);
    while barrier.n_waiting() < 2 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    doomed.signal(libc::SIGKILL);
    assert_eq!(doomed.wait(DEADLINE), Exit::Signal(libc::SIGKILL));
    let t = Instant::now();
    assert_eq!(other.wait(DEADLINE), Exit::Code(0));
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(barrier.broken());
    barrier.reset();
    assert!(!barrier.broken());
}

#[test]
fn named_primitives_meet_and_leave_no_shm_entries() {
    watchdog(30);
    let tag = format!("mpsync_test_{}", std::process::id());
    {
        let lock = Lock::create_named(&format!("{tag}_lock")).unwrap();
        let sem = Semaphore::create_named(&format!("{tag}_sem"), 0).unwrap();
        let ev = Event::create_named(&format!("{tag}_ev")).unwrap();
        assert_eq!(shm_entries(&tag), 3);
        let names = (
            format!("{tag}_lock"),
            format!("{tag}_sem"),
            format!("{tag}_ev"),
        );
        let child = fork(|| {
            // Opened by name, as an unrelated process would.
            let lock = Lock::open_named(&names.0).unwrap();
            let sem = Semaphore::open_named(&names.1).unwrap();
            let ev = Event::open_named(&names.2).unwrap();
            assert!(Lock::open_named(&names.1).is_err(), "kind is checked");
            lock.acquire().unwrap().leak();
            sem.release().unwrap();
            ev.set();
            0
        });
        assert_eq!(child.wait(DEADLINE), Exit::Code(0));
        assert!(ev.is_set());
        assert_eq!(sem.value(), 1);
        assert!(matches!(
            lock.try_acquire(),
            Err(TryAcquireError::OwnerDied(_))
        ));
    }
    assert_eq!(shm_entries(&tag), 0, "the creator unlinks on drop");
}

#[test]
fn named_barrier_condition_and_rlock_between_processes() {
    watchdog(30);
    let tag = format!("mpsync_named2_{}", std::process::id());
    {
        let barrier = Barrier::create_named(&format!("{tag}_bar"), 2).unwrap();
        let lock = Lock::create_named(&format!("{tag}_clock")).unwrap();
        let cond = Condition::create_named(&format!("{tag}_cond"), lock).unwrap();
        let rlock = RLock::create_named(&format!("{tag}_rl")).unwrap();
        let flag = Counter::new();
        let child = fork(|| {
            let barrier = Barrier::open_named(&format!("{tag}_bar")).unwrap();
            let lock = Lock::open_named(&format!("{tag}_clock")).unwrap();
            let cond = Condition::open_named(&format!("{tag}_cond"), lock).unwrap();
            let rlock = RLock::open_named(&format!("{tag}_rl")).unwrap();
            let ok_rlock = rlock.try_acquire().map(RLockGuard::leak).is_ok();
            let ok_barrier = barrier.wait().is_ok();
            let g = cond.acquire().unwrap();
            flag.set(0, 1);
            g.notify_all();
            i32::from(!(ok_rlock && ok_barrier))
        });
        {
            let mut g = cond.acquire().unwrap();
            assert!(barrier.wait().is_ok());
            let ok = g.wait_for(|| flag.get(0) == 1, Some(Duration::from_secs(20)));
            assert!(matches!(ok, Ok(true)));
        }
        assert_eq!(child.wait(DEADLINE), Exit::Code(0));
        // The child took the RLock and exited holding it.
        assert!(rlock.acquire().is_err(), "owner died is reported");
    }
    assert_eq!(shm_entries(&tag), 0);
}

#[test]
fn primitives_travel_through_handle_transfer() {
    use multiproc_shm::handle::{decode_with_handles, encode_with_handles};
    let lock = Lock::new().unwrap();
    let rlock = RLock::new().unwrap();
    let sem = BoundedSemaphore::new(3).unwrap();
    let ev = Event::new().unwrap();
    let cond = Condition::with_rlock().unwrap();
    let barrier = Barrier::new(1).unwrap();
    let value = (&lock, &rlock, &sem, &ev, &cond, &barrier);
    let (bytes, fds) = encode_with_handles(&value).unwrap();
    type All = (
        Lock,
        RLock,
        BoundedSemaphore,
        Event,
        Condition<RLock>,
        Barrier,
    );
    let (lock2, rlock2, sem2, ev2, cond2, barrier2): All =
        decode_with_handles(&bytes, fds).unwrap();
    let _g = lock.acquire().unwrap();
    assert!(lock2.is_locked());
    let _r = rlock2.acquire().unwrap();
    assert!(rlock.is_owned());
    sem2.acquire().forget();
    assert_eq!(sem.value(), 2);
    ev2.set();
    assert!(ev.is_set());
    drop(cond2.acquire().unwrap());
    assert_eq!(barrier2.parties(), 1);
    // A lock's bytes do not decode as a semaphore.
    let (bytes, fds) = encode_with_handles(&lock).unwrap();
    assert!(decode_with_handles::<Semaphore>(&bytes, fds).is_err());
}
