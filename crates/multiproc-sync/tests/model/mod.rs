//! The model environment for the loom tests: ids are small numbers, and "death" is a bit in a
//! shared mask that a model thread sets instead of unlocking (as if SIGKILLed right there).
#![allow(dead_code, unreachable_pub)]

use multiproc_sync::raw::Env;
use multiproc_sys::sync::Arc;
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// One model thread's view: its id, the shared death mask, and whether it checks liveness.
#[derive(Clone)]
pub struct ModelEnv {
    pub id: u32,
    pub dead: Arc<AtomicU32>,
    pub checks: bool,
}

impl ModelEnv {
    pub fn new(id: u32, dead: &Arc<AtomicU32>, checks: bool) -> Self {
        Self {
            id,
            dead: dead.clone(),
            checks,
        }
    }

    /// This party dies (its id reads as not alive from now on).
    pub fn die(&self) {
        self.dead.fetch_or(1 << self.id, Ordering::SeqCst);
    }
}

impl Env for ModelEnv {
    fn process_id(&self) -> u32 {
        self.id
    }
    fn thread_id(&self) -> u32 {
        self.id
    }
    fn is_alive(&self, id: u32) -> bool {
        self.dead.load(Ordering::SeqCst) & (1 << id) == 0
    }
    fn check_period(&self) -> Option<Duration> {
        // Under loom a timed futex wait returns "timed out" at once: the check branch.
        self.checks.then_some(Duration::from_millis(1))
    }
    fn may_spin(&self) -> bool {
        false
    }
}
