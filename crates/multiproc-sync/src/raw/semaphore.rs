//! The semaphore: a counter word, a count of sleepers, and an adaptive spin budget.
//!
//! # State table
//!
//! | word          | values      | meaning                                                        |
//! |---------------|-------------|----------------------------------------------------------------|
//! | `value`       | `0..=MAX`   | permits available; acquirers sleep on this word while it is 0  |
//! | `sleepers`    | `0..`       | acquirers registered to sleep; a release wakes one if non-zero  |
//! | `bound`       | `0`, `1..`  | `0` = unbounded `Semaphore`; `n` = `BoundedSemaphore` ceiling   |
//! | `spin_budget` | `0..=20_000`| ns an acquirer spins before sleeping: 4× the last successful spin (at least 2 µs) after a success, halved after a failure; below 500 spinning is off |
//! | `spin_mode`   | `0`, `1`    | `0` = adaptive spin (default), `1` = never spin                 |
//! | `spin_probe`  | counter     | while spinning is off, every 64th sleeping acquire spins the full 20 µs to see whether it pays again |
//!
//! All-zero is a valid semaphore with value 0; creation stores the initial value and bound.
//!
//! Lost wake-ups are excluded without relying on sequential consistency: a sleeper increments
//! `sleepers`, then re-reads `value` with a read-modify-write (`fetch_add(0)`); a releaser
//! increments `value` with a read-modify-write, then reads `sleepers`. Both RMWs are on `value`,
//! so one comes first in its modification order: if the sleeper's read 0, the release reads
//! from it (acquire/release), sees the sleeper registered, and wakes it; otherwise the sleeper
//! saw the permit and does not sleep.
//!
//! Provenance: the futex semaphore of "Futexes Are Tricky" (Drepper) with the waiter count of
//! glibc's `new_sem`; the adaptive spin follows glibc's `PTHREAD_MUTEX_ADAPTIVE_NP` idea.

use super::{Env, TimedOut};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::{FutexWait, futex_wait, futex_wake, spin_loop};
use std::time::Instant;

/// The largest value (CPython's `SEM_VALUE_MAX` on Linux).
pub const VALUE_MAX: u32 = i32::MAX as u32;
/// The longest an acquirer spins before sleeping, in nanoseconds: longer than a futex wake-up,
/// so that two processes handing a permit back and forth can get out of "both asleep" into
/// "both spinning".
pub const SPIN_MAX_NS: u32 = 20_000;
/// Below this budget spinning is off (it has not been paying off).
const SPIN_MIN_NS: u32 = 500;
/// While spinning is off, every this many sleeping acquires one probes with a full budget.
const PROBE_EVERY: u32 = 64;

/// The shared semaphore header (24 bytes, all-zero = value 0, unbounded, adaptive spin).
#[repr(C)]
#[derive(Debug, Default)]
pub struct SemaphoreState {
    /// Permits available.
    pub value: AtomicU32,
    /// Acquirers that may be asleep.
    pub sleepers: AtomicU32,
    /// Ceiling for releases (0 = none).
    pub bound: AtomicU32,
    /// Adaptive spin budget, in spin iterations.
    pub spin_budget: AtomicU32,
    /// 0 = adaptive spin, 1 = never spin.
    pub spin_mode: AtomicU32,
    /// Counts sleeping acquires while spinning is off (for the periodic probe).
    pub spin_probe: AtomicU32,
}

/// A release was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseError {
    /// A bounded semaphore would go above its initial value.
    OverBound,
    /// The value would exceed [`VALUE_MAX`].
    Overflow,
}

impl SemaphoreState {
    /// A semaphore holding `value` permits, bounded by `bound` (0 = unbounded).
    pub fn new(value: u32, bound: u32) -> Self {
        let s = Self::default();
        s.init(value, bound);
        s
    }

    /// Sets the initial value and bound (creation only, before sharing).
    pub fn init(&self, value: u32, bound: u32) {
        self.value.store(value, Ordering::Relaxed);
        self.bound.store(bound, Ordering::Relaxed);
    }

    /// Takes one permit if there is one.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut v = self.value.load(Ordering::Relaxed);
        while v > 0 {
            match self
                .value
                .compare_exchange_weak(v, v - 1, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    /// Takes one permit, waiting until `deadline` (`None` = forever).
    #[inline]
    pub fn acquire<E: Env>(&self, env: &E, deadline: Option<Instant>) -> Result<(), TimedOut> {
        if self.try_acquire() {
            return Ok(());
        }
        self.acquire_slow(env, deadline)
    }

    #[cold]
    fn acquire_slow<E: Env>(&self, env: &E, deadline: Option<Instant>) -> Result<(), TimedOut> {
        if env.may_spin() && self.spin_mode.load(Ordering::Relaxed) == 0 && self.spin() {
            return Ok(());
        }
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let result = loop {
            if self.try_acquire() {
                break Ok(());
            }
            // Re-read `value` with a read-modify-write: if it reads 0, it comes before the
            // next release's increment in `value`'s modification order, so that release
            // synchronizes with it and sees our `sleepers` increment (and wakes us).
            if self.value.fetch_add(0, Ordering::AcqRel) != 0 {
                continue;
            }
            match futex_wait(&self.value, 0, deadline) {
                FutexWait::TimedOut => {
                    break if self.try_acquire() {
                        Ok(())
                    } else {
                        Err(TimedOut)
                    };
                }
                FutexWait::Woken | FutexWait::ValueChanged => {}
            }
        };
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Spins up to the current budget; adapts the budget to the outcome.
    ///
    /// When the peer runs on another core a permit shows up within a few hundred nanoseconds
    /// and spinning pays; when cores are oversubscribed (the releaser cannot run while we spin)
    /// every spin fails and the budget halves each time, so after a few failures acquirers go
    /// straight to sleep, probing with one full-length spin every [`PROBE_EVERY`] sleeps (long
    /// enough to outlast a futex wake-up, so that two processes that both went to sleep can get
    /// back to spinning).
    fn spin(&self) -> bool {
        let mut budget = self.spin_budget.load(Ordering::Relaxed).min(SPIN_MAX_NS);
        let probing = budget < SPIN_MIN_NS;
        if probing {
            if self.spin_probe.fetch_add(1, Ordering::Relaxed) % PROBE_EVERY != 0 {
                return false;
            }
            budget = SPIN_MAX_NS;
        }
        let start = Instant::now();
        let limit = std::time::Duration::from_nanos(u64::from(budget));
        loop {
            for _ in 0..8 {
                if self.value.load(Ordering::Relaxed) > 0 && self.try_acquire() {
                    // Next time, spin a few times as long as this took (at least 2 µs): enough
                    // for the usual hand-off, without burning long spins once the peer stalls.
                    let took = u32::try_from(start.elapsed().as_nanos()).unwrap_or(u32::MAX);
                    let next = took.saturating_mul(4).clamp(4 * SPIN_MIN_NS, SPIN_MAX_NS);
                    self.spin_budget.store(next, Ordering::Relaxed);
                    return true;
                }
                spin_loop();
            }
            if start.elapsed() >= limit {
                break;
            }
        }
        // A failed probe turns spinning straight off again; a failed spin halves the budget.
        let shrunk = if probing { 0 } else { budget / 2 };
        self.spin_budget.store(shrunk, Ordering::Relaxed);
        false
    }

    /// Adds one permit and wakes a sleeper if there may be one.
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        let bound = self.bound.load(Ordering::Relaxed);
        let limit = if bound == 0 { VALUE_MAX } else { bound };
        let mut v = self.value.load(Ordering::Relaxed);
        loop {
            if v >= limit {
                return Err(if bound == 0 {
                    ReleaseError::Overflow
                } else {
                    ReleaseError::OverBound
                });
            }
            match self
                .value
                .compare_exchange_weak(v, v + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            futex_wake(&self.value, 1);
        }
        Ok(())
    }

    /// The number of permits available now.
    pub fn value(&self) -> u32 {
        self.value.load(Ordering::Relaxed)
    }
}
