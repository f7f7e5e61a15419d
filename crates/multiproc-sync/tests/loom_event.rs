//! Loom models of the event word: a set never misses a sleeping waiter, clear/set/wait races,
//! and timeouts.
#![cfg(multiproc_loom)]

use multiproc_sync::raw::event::EventState;
use multiproc_sys::sync::{Arc, model as check, thread};
use std::time::{Duration, Instant};

/// Two waiters (one may already sleep) and one set: both wake.
#[test]
fn set_wakes_every_waiter() {
    check(|| {
        let ev = Arc::new(EventState::default());
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                thread::spawn(move || ev.wait(None).unwrap())
            })
            .collect();
        ev.set();
        for h in handles {
            h.join().unwrap();
        }
        assert!(ev.is_set());
    });
}

/// A waiter racing set-then-clear either saw the set or times out; it never hangs.
#[test]
fn timeout_and_clear() {
    check(|| {
        let ev = Arc::new(EventState::default());
        let e2 = ev.clone();
        let t = thread::spawn(move || {
            e2.wait(Some(Instant::now() + Duration::from_secs(3600)))
                .is_ok()
        });
        ev.set();
        ev.clear();
        let _seen = t.join().unwrap();
        assert!(!ev.is_set());
    });
}

/// After a clear, a later set still wakes a sleeper (the waiters bit is rebuilt).
#[test]
fn set_after_clear_wakes() {
    check(|| {
        let ev = Arc::new(EventState::default());
        ev.set();
        ev.clear();
        let e2 = ev.clone();
        let t = thread::spawn(move || e2.wait(None).unwrap());
        ev.set();
        t.join().unwrap();
    });
}
