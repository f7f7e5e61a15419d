//! Loom models of the lock word (`Lock`) and the RLock state: mutual exclusion with no lost
//! wake-up, timeouts, and owner death.
#![cfg(multiproc_loom)]

mod model;

use model::ModelEnv;
use multiproc_sync::raw::TimedOut;
use multiproc_sync::raw::lock::{Acquired, LockWord, RLockState};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::{Arc, model as check, thread};
use std::time::{Duration, Instant};

fn soon() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(3600))
}

/// Two threads and main contend (three contenders: a sleeper, a woken one and a fresh one); each increment is a non-atomic read-modify-write under the
/// lock. A lost wake-up would leave a thread asleep forever: loom reports a deadlock.
#[test]
fn mutual_exclusion_without_lost_wakeups() {
    check(|| {
        let lock = Arc::new(LockWord::new());
        let data = Arc::new(AtomicU32::new(0));
        let dead = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (1..=2)
            .map(|id| {
                let (lock, data) = (lock.clone(), data.clone());
                let env = ModelEnv::new(id, &dead, false);
                thread::spawn(move || {
                    assert_eq!(lock.lock_forever(id, &env), Acquired::Clean);
                    let v = data.load(Ordering::Relaxed);
                    data.store(v + 1, Ordering::Relaxed);
                    lock.unlock();
                })
            })
            .collect();
        // Main is the third contender.
        let me = ModelEnv::new(3, &dead, false);
        assert_eq!(lock.lock_forever(3, &me), Acquired::Clean);
        let v = data.load(Ordering::Relaxed);
        data.store(v + 1, Ordering::Relaxed);
        lock.unlock();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(data.load(Ordering::Relaxed), 3);
        assert_eq!(lock.owner(), 0);
    });
}

/// A timed acquire against a holder that releases: either it gets the lock or it times out,
/// and the word ends unlocked either way (no stray waiters bit that would matter).
#[test]
fn timeout() {
    check(|| {
        let lock = Arc::new(LockWord::new());
        let dead = Arc::new(AtomicU32::new(0));
        let env = ModelEnv::new(1, &dead, false);
        assert!(lock.try_lock_fast(1));
        let l2 = lock.clone();
        let env2 = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || match l2.lock(2, &env2, soon()) {
            Ok(how) => {
                assert_eq!(how, Acquired::Clean);
                l2.unlock();
                true
            }
            Err(TimedOut) => false,
        });
        lock.unlock();
        let _got = t.join().unwrap();
        assert_eq!(lock.owner(), 0);
        assert_eq!(lock.lock_forever(1, &env), Acquired::Clean);
    });
}

/// The holder dies (sets its dead bit instead of unlocking) while a waiter sleeps; the
/// waiter, checking liveness, takes over with `OwnerDied`.
#[test]
fn owner_death_while_waiting() {
    check(|| {
        let lock = Arc::new(LockWord::new());
        let dead = Arc::new(AtomicU32::new(0));
        let holder = ModelEnv::new(1, &dead, true);
        assert!(lock.try_lock_fast(1));
        let l2 = lock.clone();
        let env2 = ModelEnv::new(2, &dead, true);
        let t = thread::spawn(move || {
            let how = l2.lock_forever(2, &env2);
            l2.unlock();
            how
        });
        holder.die();
        assert_eq!(t.join().unwrap(), Acquired::OwnerDied);
    });
}

/// Two waiters race to recover a dead holder's lock: exactly one gets `OwnerDied`, the other
/// gets the lock cleanly after it (no lost wake-up between them).
#[test]
fn owner_death_is_recovered_once() {
    check(|| {
        let lock = Arc::new(LockWord::new());
        let dead = Arc::new(AtomicU32::new(0));
        assert!(lock.try_lock_fast(1));
        ModelEnv::new(1, &dead, true).die();
        let waiters: Vec<_> = (2..=3)
            .map(|id| {
                let lock = lock.clone();
                let env = ModelEnv::new(id, &dead, true);
                thread::spawn(move || {
                    let how = lock.lock_forever(id, &env);
                    lock.unlock();
                    how
                })
            })
            .collect();
        let outcomes: Vec<Acquired> = waiters.into_iter().map(|h| h.join().unwrap()).collect();
        let died = outcomes
            .iter()
            .filter(|&&o| o == Acquired::OwnerDied)
            .count();
        assert_eq!(
            died, 1,
            "exactly one waiter recovers the dead holder's lock"
        );
    });
}

/// A live holder is never mistaken for a dead one.
#[test]
fn live_owner_is_not_robbed() {
    check(|| {
        let lock = Arc::new(LockWord::new());
        let dead = Arc::new(AtomicU32::new(0));
        assert!(lock.try_lock_fast(1));
        let l2 = lock.clone();
        let env2 = ModelEnv::new(2, &dead, true);
        let t = thread::spawn(move || {
            let how = l2.lock_forever(2, &env2);
            l2.unlock();
            how
        });
        lock.unlock();
        assert_eq!(t.join().unwrap(), Acquired::Clean);
    });
}

/// RLock: recursion by the owner, exclusion of the other thread, refusal of a non-owner
/// release, no lost wake-up.
#[test]
fn rlock_recursion_and_ownership() {
    check(|| {
        let lock = Arc::new(RLockState::default());
        let dead = Arc::new(AtomicU32::new(0));
        let me = ModelEnv::new(1, &dead, false);
        let l2 = lock.clone();
        let env2 = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || {
            let _ = l2.lock(&env2, None);
            assert!(l2.is_owned(&env2));
            assert!(l2.unlock(&env2));
            assert!(!l2.unlock(&env2), "released one level too many");
        });
        assert_eq!(lock.lock(&me, None), Ok(Acquired::Clean));
        assert_eq!(lock.lock(&me, None), Ok(Acquired::Clean));
        assert!(lock.unlock(&me));
        assert!(lock.is_owned(&me));
        assert!(lock.unlock(&me));
        t.join().unwrap();
        assert_eq!(lock.lock.owner(), 0);
    });
}

/// RLock owner death: the recoverer starts at depth 1.
#[test]
fn rlock_owner_death() {
    check(|| {
        let lock = Arc::new(RLockState::default());
        let dead = Arc::new(AtomicU32::new(0));
        let holder = ModelEnv::new(1, &dead, true);
        let _ = lock.lock(&holder, None);
        let _ = lock.lock(&holder, None);
        let l2 = lock.clone();
        let env2 = ModelEnv::new(2, &dead, true);
        let t = thread::spawn(move || {
            let how = l2.lock(&env2, None);
            let depth = l2.count.load(Ordering::Relaxed);
            assert!(l2.unlock(&env2));
            (how, depth)
        });
        holder.die();
        assert_eq!(t.join().unwrap(), (Ok(Acquired::OwnerDied), 1));
    });
}
