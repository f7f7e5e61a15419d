//! Loom models of the barrier: two parties pass with distinct indexes (no lost wake-up),
//! abort and timeout break it, and a party that dies after arriving breaks it for the others.
#![cfg(multiproc_loom)]

mod model;

use model::ModelEnv;
use multiproc_sync::raw::barrier::{BarrierState, Broken};
use multiproc_sys::sync::atomic::AtomicU32;
use multiproc_sys::sync::{Arc, model as check, thread};
use std::time::{Duration, Instant};

struct Shared {
    state: BarrierState,
    slots: [AtomicU32; 2],
}

fn barrier(parties: u32) -> Arc<Shared> {
    let s = Shared {
        state: BarrierState::default(),
        slots: [AtomicU32::new(0), AtomicU32::new(0)],
    };
    s.state.init(parties);
    Arc::new(s)
}

#[test]
fn two_parties_pass_with_distinct_indexes() {
    check(|| {
        let b = barrier(2);
        let dead = Arc::new(AtomicU32::new(0));
        let b2 = b.clone();
        let env2 = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || b2.state.wait(&env2, &b2.slots, None, || true));
        let me = ModelEnv::new(1, &dead, false);
        let mine = b.state.wait(&me, &b.slots, None, || true).unwrap();
        let theirs = t.join().unwrap().unwrap();
        assert_eq!(mine + theirs, 1);
        assert_eq!(b.state.n_waiting(), 0);
        assert!(!b.state.is_broken());
    });
}

#[test]
fn abort_breaks_a_waiter() {
    check(|| {
        let b = barrier(2);
        let dead = Arc::new(AtomicU32::new(0));
        let b2 = b.clone();
        let env2 = ModelEnv::new(2, &dead, false);
        let t = thread::spawn(move || b2.state.wait(&env2, &b2.slots, None, || true));
        b.state.abort();
        assert_eq!(t.join().unwrap(), Err(Broken));
    });
}

#[test]
fn timeout_breaks_the_barrier() {
    check(|| {
        let b = barrier(2);
        let dead = Arc::new(AtomicU32::new(0));
        let me = ModelEnv::new(1, &dead, false);
        let deadline = Some(Instant::now() + Duration::from_secs(3600));
        assert_eq!(b.state.wait(&me, &b.slots, deadline, || true), Err(Broken));
        assert!(b.state.is_broken());
    });
}

/// A party waiting when the barrier is reset gets `Broken`; the barrier is then empty and whole.
#[test]
fn reset_breaks_waiters() {
    check(|| {
        let b = barrier(2);
        let dead = Arc::new(AtomicU32::new(0));
        let env = ModelEnv::new(2, &dead, false);
        let arrival = b.state.arrive(&env, &b.slots, None).unwrap();
        let b2 = b.clone();
        let t = thread::spawn(move || b2.state.await_release(&env, &b2.slots, arrival, None));
        b.state.reset(&b.slots);
        assert_eq!(t.join().unwrap(), Err(Broken));
        assert!(!b.state.is_broken());
        assert_eq!(b.state.n_waiting(), 0);
    });
}

#[test]
fn dead_party_breaks_the_barrier() {
    check(|| {
        let b = barrier(2);
        let dead = Arc::new(AtomicU32::new(0));
        let doomed = ModelEnv::new(2, &dead, true);
        let b2 = b.clone();
        let t = thread::spawn(move || {
            let _arrival = b2.state.arrive(&doomed, &b2.slots, None);
            doomed.die(); // killed inside wait
        });
        t.join().unwrap();
        // The survivor waits for a second party that will never come: the liveness check
        // breaks the barrier instead of hanging.
        let me = ModelEnv::new(1, &dead, true);
        let r = b.state.wait(&me, &b.slots, None, || true);
        assert!(r.is_err() || r == Ok(1));
    });
}
