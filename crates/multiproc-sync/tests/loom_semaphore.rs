//! Loom models of the semaphore: no lost wake-up between a release and a sleeping acquirer,
//! timeouts that never lose or invent a permit, and the bounded ceiling.
#![cfg(multiproc_loom)]

mod model;

use model::ModelEnv;
use multiproc_sync::raw::semaphore::{ReleaseError, SemaphoreState};
use multiproc_sys::sync::atomic::AtomicU32;
use multiproc_sys::sync::{Arc, model as check, thread};
use std::time::{Duration, Instant};

/// Two acquirers sleep on an empty semaphore; two releases must wake both.
#[test]
fn no_lost_wakeup() {
    check(|| {
        let sem = Arc::new(SemaphoreState::new(0, 0));
        let dead = Arc::new(AtomicU32::new(0));
        let handles: Vec<_> = (1..=2)
            .map(|id| {
                let sem = sem.clone();
                let env = ModelEnv::new(id, &dead, false);
                thread::spawn(move || sem.acquire(&env, None).unwrap())
            })
            .collect();
        sem.release().unwrap();
        sem.release().unwrap();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
    });
}

/// A timed acquire racing a release: the permit ends up either taken or still there.
#[test]
fn timeout_conserves_permits() {
    check(|| {
        let sem = Arc::new(SemaphoreState::new(0, 0));
        let dead = Arc::new(AtomicU32::new(0));
        let s2 = sem.clone();
        let env = ModelEnv::new(1, &dead, false);
        let t = thread::spawn(move || {
            let deadline = Some(Instant::now() + Duration::from_secs(3600));
            s2.acquire(&env, deadline).is_ok()
        });
        sem.release().unwrap();
        let took = t.join().unwrap();
        assert_eq!(sem.value() + u32::from(took), 1);
    });
}

/// A bounded semaphore refuses to go above its ceiling, even with concurrent releases.
#[test]
fn bounded_ceiling() {
    check(|| {
        let sem = Arc::new(SemaphoreState::new(1, 2));
        let s2 = sem.clone();
        let t = thread::spawn(move || s2.release());
        let mine = sem.release();
        let theirs = t.join().unwrap();
        let refused = [mine, theirs]
            .iter()
            .filter(|r| **r == Err(ReleaseError::OverBound))
            .count();
        assert_eq!(refused, 1);
        assert_eq!(sem.value(), 2);
    });
}
