//! The barrier: one state word (arrivals, generation, broken) plus one owner slot per party.
//!
//! # State table
//!
//! `state` packs three fields; everyone sleeps on it.
//!
//! | bits    | field    | meaning                                                                 |
//! |---------|----------|-------------------------------------------------------------------------|
//! | 0..=15  | `count`  | parties arrived in this generation; `== parties` while the last one runs the action and releases |
//! | 16..=30 | `gen`    | generation, bumped by every release and every reset (wraps)           |
//! | 31      | `broken` | set by `abort`, a timeout, a failing action, or a dead party          |
//!
//! | word           | meaning                                                                |
//! |----------------|------------------------------------------------------------------------|
//! | `parties`      | fixed at creation (`1..=MAX_PARTIES`)                                  |
//! | `released_gen` | the last generation released normally (waiters tell release from reset) |
//! | `slots[i]`     | process id of the party that arrived `i`-th in this generation (0 = free or not yet written) |
//!
//! All-zero state = generation 0, nobody arrived, not broken (the slots all free).
//!
//! A waiter that wakes to a new generation returns its arrival index if `released_gen` names its
//! generation, and `BrokenBarrier` otherwise (a reset). Sleepers look at the slots every
//! [`CHECK_PERIOD`](super::CHECK_PERIOD): a party that died inside `wait` breaks the barrier, so
//! the others get `BrokenBarrier` instead of waiting forever.
//!
//! Provenance: CPython's `threading.Barrier` state machine (filling, draining, resetting, broken),
//! folded into one futex word.

use super::{Env, Slept, next_check, sleep};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::futex_wake;
use std::time::Instant;

/// The most parties a barrier can have.
pub const MAX_PARTIES: u32 = 0xFFFF - 1;
const COUNT_MASK: u32 = 0xFFFF;
const GEN_SHIFT: u32 = 16;
const GEN_MASK: u32 = 0x7FFF;
const BROKEN: u32 = 1 << 31;
/// `released_gen` holds `gen | RELEASED`, so that its all-zero initial value names no generation.
const RELEASED: u32 = 1 << 31;

/// The fixed part of the shared barrier header (12 bytes; the slots follow it).
#[repr(C)]
#[derive(Debug, Default)]
pub struct BarrierState {
    state: AtomicU32,
    parties: AtomicU32,
    released_gen: AtomicU32,
}

/// A registered arrival: this party's index and generation.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    index: u32,
    gen_: u32,
}

/// The barrier is broken (aborted, reset while waiting, timed out, or a party died).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broken;

fn count(s: u32) -> u32 {
    s & COUNT_MASK
}
fn generation(s: u32) -> u32 {
    (s >> GEN_SHIFT) & GEN_MASK
}
fn pack(gen_: u32, count: u32) -> u32 {
    ((gen_ & GEN_MASK) << GEN_SHIFT) | (count & COUNT_MASK)
}

impl BarrierState {
    /// Sets the party count (creation only, before sharing).
    pub fn init(&self, parties: u32) {
        self.parties.store(parties, Ordering::Relaxed);
    }

    /// The number of parties.
    pub fn parties(&self) -> u32 {
        self.parties.load(Ordering::Relaxed)
    }

    /// Parties currently waiting (0 when broken).
    pub fn n_waiting(&self) -> u32 {
        let s = self.state.load(Ordering::Relaxed);
        if s & BROKEN != 0 {
            0
        } else {
            count(s).min(self.parties().saturating_sub(1))
        }
    }

    /// Whether the barrier is broken.
    pub fn is_broken(&self) -> bool {
        self.state.load(Ordering::Relaxed) & BROKEN != 0
    }

    /// Breaks the barrier: current and future waiters get [`Broken`] until [`reset`](Self::reset).
    pub fn abort(&self) {
        self.state.fetch_or(BROKEN, Ordering::AcqRel);
        futex_wake(&self.state, u32::MAX);
    }

    /// Back to the empty state; current waiters get [`Broken`].
    pub fn reset(&self, slots: &[AtomicU32]) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let next = pack(generation(s).wrapping_add(1), 0);
            match self
                .state
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        for slot in slots {
            slot.store(0, Ordering::Relaxed);
        }
        futex_wake(&self.state, u32::MAX);
    }

    /// Waits for all parties; returns this party's arrival index (`0..parties`).
    ///
    /// The last party to arrive runs `action` before releasing the others; if it returns
    /// `false` (the action failed) the barrier breaks.
    pub fn wait<E: Env>(
        &self,
        env: &E,
        slots: &[AtomicU32],
        deadline: Option<Instant>,
        action: impl FnOnce() -> bool,
    ) -> Result<u32, Broken> {
        let arrival = self.arrive(env, slots, deadline)?;
        if arrival.index + 1 == self.parties() {
            return self.release(slots, arrival.gen_, arrival.index, action);
        }
        self.await_release(env, slots, arrival, deadline)
    }

    /// Registers this party's arrival (step 1 of [`wait`](Self::wait)).
    pub fn arrive<E: Env>(
        &self,
        env: &E,
        slots: &[AtomicU32],
        deadline: Option<Instant>,
    ) -> Result<Arrival, Broken> {
        let parties = self.parties();
        let me = env.process_id();
        loop {
            let s = self.state.load(Ordering::Acquire);
            if s & BROKEN != 0 {
                return Err(Broken);
            }
            let c = count(s);
            if c >= parties {
                // The previous generation is being released (its last party runs the action):
                // wait for it to finish, watching that party's liveness.
                match sleep(&self.state, s, deadline, next_check(env)) {
                    Slept::Again => {}
                    Slept::Deadline => return Err(Broken),
                    Slept::Check => {
                        if self.any_dead(env, slots, parties as usize) {
                            self.break_gen(generation(s));
                            return Err(Broken);
                        }
                    }
                }
                continue;
            }
            if self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                if let Some(slot) = slots.get(c as usize) {
                    slot.store(me, Ordering::Relaxed);
                }
                return Ok(Arrival {
                    index: c,
                    gen_: generation(s),
                });
            }
        }
    }

    /// Sleeps until the generation of `arrival` is released (step 2 of [`wait`](Self::wait),
    /// for every party but the last).
    pub fn await_release<E: Env>(
        &self,
        env: &E,
        slots: &[AtomicU32],
        arrival: Arrival,
        deadline: Option<Instant>,
    ) -> Result<u32, Broken> {
        let Arrival { index, gen_ } = arrival;
        let parties = self.parties();
        let mut check = next_check(env);
        loop {
            let s = self.state.load(Ordering::Acquire);
            if generation(s) != gen_ {
                return if self.released_gen.load(Ordering::Acquire) == gen_ | RELEASED {
                    Ok(index)
                } else {
                    Err(Broken)
                };
            }
            if s & BROKEN != 0 {
                return Err(Broken);
            }
            match sleep(&self.state, s, deadline, check) {
                Slept::Again => {}
                Slept::Deadline => {
                    // CPython: a timeout breaks the barrier for everyone.
                    if self.break_gen(gen_) {
                        return Err(Broken);
                    }
                }
                Slept::Check => {
                    let arrived = count(s).min(parties) as usize;
                    if self.any_dead(env, slots, arrived) && self.break_gen(gen_) {
                        return Err(Broken);
                    }
                    check = next_check(env);
                }
            }
        }
    }

    /// Whether one of the first `arrived` parties of this generation is dead.
    fn any_dead<E: Env>(&self, env: &E, slots: &[AtomicU32], arrived: usize) -> bool {
        slots
            .iter()
            .take(arrived)
            .map(|slot| slot.load(Ordering::Relaxed))
            .any(|id| id != 0 && !env.is_alive(id))
    }

    /// Sets `broken` if the barrier is still in generation `gen_`; false if it moved on.
    fn break_gen(&self, gen_: u32) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if generation(s) != gen_ {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | BROKEN,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    futex_wake(&self.state, u32::MAX);
                    return true;
                }
                Err(now) => s = now,
            }
        }
    }

    fn release(
        &self,
        slots: &[AtomicU32],
        gen_: u32,
        index: u32,
        action: impl FnOnce() -> bool,
    ) -> Result<u32, Broken> {
        if !action() {
            self.break_gen(gen_);
            return Err(Broken);
        }
        for slot in slots {
            slot.store(0, Ordering::Relaxed);
        }
        self.released_gen.store(gen_ | RELEASED, Ordering::Release);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & BROKEN != 0 || generation(s) != gen_ {
                // Aborted or reset while the action ran: this generation was not released.
                self.released_gen.store(0, Ordering::Release);
                return Err(Broken);
            }
            match self.state.compare_exchange_weak(
                s,
                pack(gen_.wrapping_add(1), 0),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        futex_wake(&self.state, u32::MAX);
        Ok(index)
    }
}
