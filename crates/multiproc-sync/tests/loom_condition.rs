//! Loom models of the condition variable over the lock word: a notify under the lock never
//! misses a waiter that checked its predicate under the lock, and timed waits.
#![cfg(multiproc_loom)]

mod model;

use model::ModelEnv;
use multiproc_sync::raw::condition::ConditionState;
use multiproc_sync::raw::lock::LockWord;
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::{Arc, model as check, thread};
use std::time::{Duration, Instant};

struct Shared {
    lock: LockWord,
    cond: ConditionState,
    flag: AtomicU32,
}

fn wait_for_flag(s: &Shared, env: &ModelEnv, deadline: Option<Instant>) -> bool {
    s.lock.lock_forever(env.id, env);
    let mut ok = true;
    while s.flag.load(Ordering::Relaxed) == 0 {
        let ticket = s.cond.prepare();
        s.lock.unlock();
        let r = s.cond.sleep(ticket, deadline);
        s.lock.lock_forever(env.id, env);
        if r.is_err() {
            ok = s.flag.load(Ordering::Relaxed) != 0;
            break;
        }
    }
    s.lock.unlock();
    ok
}

/// One waiter, one notify(1): the waiter always finishes (loom reports a lost wake-up as a
/// deadlock).
#[test]
fn notify_is_not_lost() {
    check(|| {
        let s = Arc::new(Shared {
            lock: LockWord::new(),
            cond: ConditionState::default(),
            flag: AtomicU32::new(0),
        });
        let dead = Arc::new(AtomicU32::new(0));
        let s2 = s.clone();
        let env = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || assert!(wait_for_flag(&s2, &env, None)));
        let me = ModelEnv::new(1, &dead, false);
        s.lock.lock_forever(1, &me);
        s.flag.store(1, Ordering::Relaxed);
        s.cond.notify(1);
        s.lock.unlock();
        t.join().unwrap();
    });
}

/// Two waiters and notify_all.
#[test]
fn notify_all_wakes_both() {
    check(|| {
        let s = Arc::new(Shared {
            lock: LockWord::new(),
            cond: ConditionState::default(),
            flag: AtomicU32::new(0),
        });
        let dead = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (2..=3)
            .map(|id| {
                let s = s.clone();
                let env = ModelEnv::new(id, &dead, false);
                thread::spawn(move || assert!(wait_for_flag(&s, &env, None)))
            })
            .collect();
        let me = ModelEnv::new(1, &dead, false);
        s.lock.lock_forever(1, &me);
        s.flag.store(1, Ordering::Relaxed);
        s.cond.notify(u32::MAX);
        s.lock.unlock();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(s.lock.owner(), 0);
    });
}

/// A timed wait racing the notify: finishes either way, lock released, waiter count back to 0.
#[test]
fn timed_wait() {
    check(|| {
        let s = Arc::new(Shared {
            lock: LockWord::new(),
            cond: ConditionState::default(),
            flag: AtomicU32::new(0),
        });
        let dead = Arc::new(AtomicU32::new(0));
        let s2 = s.clone();
        let env = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || {
            wait_for_flag(&s2, &env, Some(Instant::now() + Duration::from_secs(3600)))
        });
        let me = ModelEnv::new(1, &dead, false);
        s.lock.lock_forever(1, &me);
        s.flag.store(1, Ordering::Relaxed);
        s.cond.notify(1);
        s.lock.unlock();
        let _ = t.join().unwrap();
        assert_eq!(s.cond.waiters(), 0);
        assert_eq!(s.lock.owner(), 0);
    });
}

/// Over an RLock held twice: the wait releases every level (so the notifier can get in) and
/// restores the depth afterwards.
#[test]
fn rlock_depth_is_released_and_restored() {
    use multiproc_sync::raw::lock::RLockState;
    check(|| {
        let lock = Arc::new(RLockState::default());
        let cond = Arc::new(ConditionState::default());
        let flag = Arc::new(AtomicU32::new(0));
        let dead = Arc::new(AtomicU32::new(0));
        let (l2, c2, f2) = (lock.clone(), cond.clone(), flag.clone());
        let env2 = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || {
            let _ = l2.lock(&env2, None);
            let _ = l2.lock(&env2, None);
            while f2.load(Ordering::Relaxed) == 0 {
                let ticket = c2.prepare();
                let depth = l2.unlock_all(&env2).unwrap();
                let _ = c2.sleep(ticket, None);
                l2.lock_restore(&env2, depth);
            }
            assert_eq!(l2.count.load(Ordering::Relaxed), 2);
            assert!(l2.unlock(&env2) && l2.unlock(&env2));
        });
        let me = ModelEnv::new(1, &dead, false);
        let _ = lock.lock(&me, None);
        flag.store(1, Ordering::Relaxed);
        cond.notify(1);
        assert!(lock.unlock(&me));
        t.join().unwrap();
        assert_eq!(lock.lock.owner(), 0);
    });
}
