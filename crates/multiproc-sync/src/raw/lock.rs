//! The lock word: who holds the lock, and whether anyone may be asleep waiting for it.
//!
//! # State table
//!
//! | `word` value          | meaning                                                    |
//! |-----------------------|------------------------------------------------------------|
//! | `0`                   | unlocked (the all-zero initial state)                      |
//! | `id`                  | held by `id` (pid for `Lock`, tid for `RLock`), no sleeper |
//! | `id \| WAITERS`       | held by `id`; someone may sleep on the word: unlock wakes 1 |
//!
//! Transitions: `0 → me` (fast acquire, CAS), `v → v|WAITERS` (a waiter about to sleep),
//! `0 → me|WAITERS` (a waiter that slept takes it: others may still sleep), `dead|W? → me|W?`
//! (owner-died recovery, CAS from the exact value seen, so one recoverer wins), `* → 0` (unlock,
//! swap; wake one if `WAITERS` was set).
//!
//! Provenance: the three-state futex mutex of Ulrich Drepper's "Futexes Are Tricky" (2011,
//! "mutex2"), with the "locked" state carrying the owner's id as in the kernel's robust/PI futex
//! word (`FUTEX_WAITERS`, `FUTEX_TID_MASK`), and spin-then-park from parking_lot. Owner death is
//! detected by the waiters themselves: a sleeper wakes every [`CHECK_PERIOD`](super::CHECK_PERIOD)
//! and asks the kernel whether the recorded owner still exists.

use super::{Backoff, Env, Slept, TimedOut, next_check, sleep};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::futex_wake;
use std::time::Instant;

/// Set while a waiter may be asleep on the word.
pub const WAITERS: u32 = 1 << 31;
/// The owner id bits.
pub const ID_MASK: u32 = WAITERS - 1;

/// How an acquire succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// The lock was free or released normally.
    Clean,
    /// The previous holder died while holding it; the caller holds it now.
    OwnerDied,
}

/// The shared lock word (4 bytes, all-zero = unlocked).
#[repr(C)]
#[derive(Debug)]
pub struct LockWord {
    word: AtomicU32,
}

impl Default for LockWord {
    fn default() -> Self {
        Self::new()
    }
}

impl LockWord {
    /// An unlocked word (on the heap; in shared memory the all-zero bytes are the same state).
    pub fn new() -> Self {
        Self {
            word: AtomicU32::new(0),
        }
    }

    /// The raw word, for futex waits of wrappers.
    pub fn word(&self) -> &AtomicU32 {
        &self.word
    }

    /// The current holder's id, or 0.
    #[inline]
    pub fn owner(&self) -> u32 {
        self.word.load(Ordering::Relaxed) & ID_MASK
    }

    /// One attempt to take a free lock for `me`; no liveness check.
    #[inline]
    pub fn try_lock_fast(&self, me: u32) -> bool {
        self.word
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock if it is free, or if its holder is dead (then `OwnerDied`).
    pub fn try_lock<E: Env>(&self, me: u32, env: &E) -> Option<Acquired> {
        if self.try_lock_fast(me) {
            return Some(Acquired::Clean);
        }
        loop {
            let v = self.word.load(Ordering::Relaxed);
            if v == 0 {
                if self.try_lock_fast(me) {
                    return Some(Acquired::Clean);
                }
                continue;
            }
            if env.is_alive(v & ID_MASK) {
                return None;
            }
            if self.recover(v, me) {
                return Some(Acquired::OwnerDied);
            }
        }
    }

    /// Takes over from the dead holder in `seen`; false if the word moved on meanwhile.
    fn recover(&self, seen: u32, me: u32) -> bool {
        self.word
            .compare_exchange(
                seen,
                me | (seen & WAITERS),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Acquires for `me`, waiting until `deadline` (`None` = forever).
    ///
    /// A deadline already in the past still makes one attempt (and a liveness check).
    #[inline]
    pub fn lock<E: Env>(
        &self,
        me: u32,
        env: &E,
        deadline: Option<Instant>,
    ) -> Result<Acquired, TimedOut> {
        if self.try_lock_fast(me) {
            return Ok(Acquired::Clean);
        }
        self.lock_slow(me, env, deadline)
    }

    /// Acquires for `me` without a deadline.
    #[inline]
    pub fn lock_forever<E: Env>(&self, me: u32, env: &E) -> Acquired {
        if self.try_lock_fast(me) {
            return Acquired::Clean;
        }
        loop {
            // Without a deadline the slow path cannot time out; loop for the type's sake.
            if let Ok(how) = self.lock_slow(me, env, None) {
                return how;
            }
        }
    }

    #[cold]
    fn lock_slow<E: Env>(
        &self,
        me: u32,
        env: &E,
        deadline: Option<Instant>,
    ) -> Result<Acquired, TimedOut> {
        // Spin while the lock is held by someone running and nobody sleeps.
        if env.may_spin() {
            let mut backoff = Backoff::default();
            loop {
                let v = self.word.load(Ordering::Relaxed);
                if v == 0 {
                    if self.try_lock_fast(me) {
                        return Ok(Acquired::Clean);
                    }
                    continue;
                }
                if v & WAITERS != 0 || !backoff.snooze() {
                    break;
                }
            }
        }
        let mut check = next_check(env);
        // Whether we slept: a waiter that was woken takes the lock with WAITERS set, since
        // others may still sleep (the unlock that woke it cleared the bit). One that never
        // slept need not: a woken waiter that loses the race to it sets the bit again.
        let mut slept = false;
        loop {
            let v = self.word.load(Ordering::Relaxed);
            if v == 0 {
                let mine = if slept { me | WAITERS } else { me };
                if self
                    .word
                    .compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(Acquired::Clean);
                }
                continue;
            }
            let locked = v | WAITERS;
            if v & WAITERS == 0
                && self
                    .word
                    .compare_exchange(v, locked, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            let outcome = sleep(&self.word, locked, deadline, check);
            slept = true;
            match outcome {
                Slept::Again => {}
                Slept::Check => {
                    if !env.is_alive(locked & ID_MASK) && self.recover(locked, me) {
                        return Ok(Acquired::OwnerDied);
                    }
                    check = next_check(env);
                }
                Slept::Deadline => {
                    if !env.is_alive(locked & ID_MASK) && self.recover(locked, me) {
                        return Ok(Acquired::OwnerDied);
                    }
                    return match self.word.load(Ordering::Relaxed) {
                        0 if self.try_lock_fast(me | WAITERS) => Ok(Acquired::Clean),
                        _ => Err(TimedOut),
                    };
                }
            }
        }
    }

    /// Releases the lock (whoever holds it) and wakes one sleeper if there may be one.
    #[inline]
    pub fn unlock(&self) {
        if self.word.swap(0, Ordering::Release) & WAITERS != 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        futex_wake(&self.word, 1);
    }

    /// Releases the lock if it is held; `false` if it was not locked.
    pub fn unlock_checked(&self) -> bool {
        let mut v = self.word.load(Ordering::Relaxed);
        loop {
            if v == 0 {
                return false;
            }
            match self
                .word
                .compare_exchange_weak(v, 0, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => {
                    if v & WAITERS != 0 {
                        self.wake_one();
                    }
                    return true;
                }
                Err(now) => v = now,
            }
        }
    }
}

/// The shared part of an `RLock`: the lock word (holder = thread id) and the recursion depth,
/// which only the holder touches.
///
/// # State table
///
/// | `lock` (see [`LockWord`]) | `count` | meaning                                   |
/// |---------------------------|---------|-------------------------------------------|
/// | `0`                       | `0`     | unlocked (all-zero initial state)         |
/// | `tid[\|W]`                | `n ≥ 1` | held `n` times by thread `tid`            |
/// | `tid[\|W]`                | `0`     | `tid` is between taking the word and setting the count (or died there) |
#[repr(C)]
#[derive(Debug, Default)]
pub struct RLockState {
    /// The lock word; its owner id is a thread id.
    pub lock: LockWord,
    /// Recursion depth, written only by the holder.
    pub count: AtomicU32,
}

impl RLockState {
    /// Whether the calling thread holds the lock.
    #[inline]
    pub fn is_owned<E: Env>(&self, env: &E) -> bool {
        self.lock.owner() == env.thread_id()
    }

    /// Acquires (recursively if already held by this thread).
    pub fn lock<E: Env>(&self, env: &E, deadline: Option<Instant>) -> Result<Acquired, TimedOut> {
        let me = env.thread_id();
        if self.lock.owner() == me {
            let c = self.count.load(Ordering::Relaxed);
            self.count.store(c.wrapping_add(1), Ordering::Relaxed);
            return Ok(Acquired::Clean);
        }
        let got = self.lock.lock(me, env, deadline)?;
        self.count.store(1, Ordering::Relaxed);
        Ok(got)
    }

    /// Non-blocking acquire (with owner-died recovery).
    pub fn try_lock<E: Env>(&self, env: &E) -> Option<Acquired> {
        let me = env.thread_id();
        if self.lock.owner() == me {
            let c = self.count.load(Ordering::Relaxed);
            self.count.store(c.wrapping_add(1), Ordering::Relaxed);
            return Some(Acquired::Clean);
        }
        let got = self.lock.try_lock(me, env)?;
        self.count.store(1, Ordering::Relaxed);
        Some(got)
    }

    /// Releases one level; `false` if the calling thread is not the holder.
    pub fn unlock<E: Env>(&self, env: &E) -> bool {
        if !self.is_owned(env) {
            return false;
        }
        let c = self.count.load(Ordering::Relaxed);
        if c > 1 {
            self.count.store(c - 1, Ordering::Relaxed);
        } else {
            self.count.store(0, Ordering::Relaxed);
            self.lock.unlock();
        }
        true
    }

    /// Releases every level (for `Condition::wait`); returns the depth, or `None` if not held.
    pub fn unlock_all<E: Env>(&self, env: &E) -> Option<u32> {
        if !self.is_owned(env) {
            return None;
        }
        let c = self.count.swap(0, Ordering::Relaxed).max(1);
        self.lock.unlock();
        Some(c)
    }

    /// Re-acquires with the depth saved by [`unlock_all`](Self::unlock_all).
    pub fn lock_restore<E: Env>(&self, env: &E, depth: u32) -> Acquired {
        let got = self.lock.lock_forever(env.thread_id(), env);
        self.count.store(depth.max(1), Ordering::Relaxed);
        got
    }
}
