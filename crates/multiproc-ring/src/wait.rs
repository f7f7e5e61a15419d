//! Waiting: the robust side locks and spin-then-park on a futex word.
//!
//! Locks record their holder's pid. A waiter sleeps in slices; at the end of each slice it asks
//! whether the holder is still alive ([`multiproc_sys::owner::pid_alive`]) and takes the lock over
//! from a dead one, so a process killed while holding a lock never leaves the ring stuck. The
//! same slices bound how long a sleeper can miss a wake-up that a dying process never sent.

use crate::bias::{self, Revoke};
use crate::layout::{LockLine, WaitLine};
use multiproc_sys::sync::asymmetric;
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::{FutexWait, futex_wait, futex_wake, spin_loop};
#[cfg(not(multiproc_loom))]
use std::time::Duration;
use std::time::Instant;

/// How long a sleeper sleeps before it re-checks liveness and its condition on its own.
#[cfg(not(multiproc_loom))]
const SLICE: Duration = Duration::from_millis(10);
/// Spin iterations allowed at most before parking.
#[cfg(not(multiproc_loom))]
const SPIN_MAX: u32 = 2048;
/// Spin iterations allowed at least.
#[cfg(not(multiproc_loom))]
const SPIN_MIN: u32 = 8;
/// How long a waiter yields its CPU, after spinning and before it parks.
#[cfg(not(multiproc_loom))]
const YIELD_FOR: Duration = Duration::from_micros(50);
/// Spin iterations a lock tries before parking.
#[cfg(not(multiproc_loom))]
const LOCK_SPIN: u32 = 64;

/// The calling process's id as lock words record it.
#[inline]
pub(crate) fn me() -> u32 {
    #[cfg(not(multiproc_loom))]
    {
        multiproc_sys::owner::current_pid()
    }
    #[cfg(multiproc_loom)]
    {
        1
    }
}

/// Whether the process `pid` still runs (a zombie counts as dead).
pub(crate) fn alive(pid: u32) -> bool {
    #[cfg(not(multiproc_loom))]
    {
        pid == me() || multiproc_sys::owner::pid_alive(pid)
    }
    #[cfg(multiproc_loom)]
    {
        let _ = pid;
        true
    }
}

/// The end of the next sleep: the caller's deadline, cut to one slice in real builds (under
/// loom a timed wait "times out" at once, so slices would only add spinning).
pub(crate) fn slice_end(deadline: Option<Instant>) -> Option<Instant> {
    #[cfg(not(multiproc_loom))]
    {
        let s = Instant::now() + SLICE;
        Some(deadline.map_or(s, |d| d.min(s)))
    }
    #[cfg(multiproc_loom)]
    {
        deadline
    }
}

pub(crate) fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// An adaptive spin budget, kept per process-local handle: it doubles when spinning pays off
/// and halves when we had to park anyway, so with oversubscribed cores it falls quickly.
#[derive(Debug)]
pub(crate) struct Spin(std::sync::atomic::AtomicU32);

impl Spin {
    pub(crate) fn new() -> Self {
        #[cfg(not(multiproc_loom))]
        let start = SPIN_MAX / 8;
        // Under loom a spin is a yield: spinning would only multiply the interleavings.
        #[cfg(multiproc_loom)]
        let start = 0;
        Self(std::sync::atomic::AtomicU32::new(start))
    }

    fn budget(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn won(&self) {
        #[cfg(not(multiproc_loom))]
        {
            let b = self.budget();
            self.0.store(
                b.saturating_mul(2).min(SPIN_MAX),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }

    fn lost(&self) {
        #[cfg(not(multiproc_loom))]
        {
            let b = self.budget();
            self.0
                .store((b / 2).max(SPIN_MIN), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Wakes the sleepers of `line` if any may be asleep. Call after publishing the change they
/// wait for. The barrier here and the one in [`wait_until`] order like two `fence(SeqCst)`, so
/// a sleeper either sees the change or its flag is seen here; they are an asymmetric pair
/// ([`asymmetric`]): a compiler barrier on this path, which runs once per record, and a
/// `membarrier` on the sleeper's, which runs once per sleep. The flag is cleared by the waker,
/// so while a woken sleeper has not run yet, further notifications cost no system call.
#[inline(always)]
pub(crate) fn notify(line: &WaitLine) {
    asymmetric::light_or_fence();
    if line.waiters.load(Ordering::Relaxed) != 0 {
        wake_flagged(line);
    }
}

/// [`notify`] once it saw the flag raised: wakes the sleepers unless another waker took the
/// flag first.
#[cold]
#[inline(never)]
fn wake_flagged(line: &WaitLine) {
    if line.waiters.swap(0, Ordering::Relaxed) != 0 {
        line.seq.fetch_add(1, Ordering::Release);
        futex_wake(&line.seq, u32::MAX);
    }
}

/// Wakes every sleeper of `line` unconditionally (close).
pub(crate) fn notify_all(line: &WaitLine) {
    line.waiters.store(0, Ordering::Relaxed);
    line.seq.fetch_add(1, Ordering::SeqCst);
    futex_wake(&line.seq, u32::MAX);
}

/// Spins, yields its CPU for up to 50 µs, then parks on `line`, until `ready(slice_over)`
/// returns true (or an error) or the deadline passes. `slice_over` is true when a sleep slice
/// ended without a wake-up: the caller may run liveness checks then. Returns `Ok(false)` on
/// timeout.
pub(crate) fn wait_until<E>(
    line: &WaitLine,
    peer_lock: Option<&AtomicU32>,
    deadline: Option<Instant>,
    spin: &Spin,
    mut ready: impl FnMut(bool) -> Result<bool, E>,
) -> Result<bool, E> {
    let budget = spin.budget();
    for _ in 0..budget {
        if ready(false)? {
            spin.won();
            return Ok(true);
        }
        spin_loop();
    }
    spin.lost();
    // Then give up the CPU for a while instead of sleeping: if the other side shares our CPU it
    // runs now, and if it runs on another CPU and is busy (a consumer draining a full ring a
    // record at a time) the next record is a few hundred nanoseconds away, where a futex sleep
    // and wake-up would cost both sides microseconds per record.
    #[cfg(not(multiproc_loom))]
    {
        let until = Instant::now() + YIELD_FOR;
        loop {
            multiproc_sys::sync::yield_now();
            if ready(false)? {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= until || deadline.is_some_and(|d| now >= d) {
                break;
            }
        }
    }
    loop {
        let seen = line.seq.load(Ordering::Acquire);
        // Raise the "someone may sleep" flag; only a waker clears it (a stale flag costs one
        // spare wake-up, never a lost one).
        line.waiters.store(1, Ordering::Relaxed);
        if let Some(w) = peer_lock {
            w.fetch_or(PEER, Ordering::AcqRel);
        }
        // The other half of `notify`'s barrier: a waker that published before it sees our
        // flag, or we see what it published.
        asymmetric::heavy();
        let now_ready = ready(false);
        if !matches!(now_ready, Ok(false)) {
            return now_ready;
        }
        if passed(deadline) {
            return Ok(false);
        }
        let r = futex_wait(&line.seq, seen, slice_end(deadline));
        if ready(r == FutexWait::TimedOut)? {
            return Ok(true);
        }
        if passed(deadline) {
            return Ok(false);
        }
    }
}

/// How a lock was acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// From a free word or a live holder that released it.
    Clean,
    /// Taken over from a holder that died: the caller must repair the state it guards.
    Recovered,
}

/// The "someone may be waiting for this lock" bit of a lock word (pids are below 2^22).
pub(crate) const CONTENDED: u32 = 1 << 31;
/// The "the other side may sleep waiting for this side's progress" bit of a lock word: set by a
/// consumer about to sleep for data on the producers' lock (a producer about to sleep for room
/// on the consumers' lock); the next unlock on that side sees it in the value its swap returns
/// and wakes the sleepers. Both are read-modify-writes of one word, so they are ordered without
/// a fence: either the unlock sees the bit, or the sleeper's RMW reads the unlock's (release)
/// write and then sees everything the unlocker published.
pub(crate) const PEER: u32 = 1 << 30;
/// The "the holder is the thread recorded in the line's `bias` word, between operations too"
/// bit of a lock word (see [`crate::bias`]).
pub(crate) const BIASED: u32 = 1 << 29;
/// The holder's pid.
pub(crate) const PID_MASK: u32 = BIASED - 1;

/// Acquires the robust lock of `line` (0 = free, else the holder's pid, plus [`CONTENDED`] when
/// a waiter may sleep, plus [`PEER`] when the other side may sleep, plus [`BIASED`] when the
/// holder is a biased thread). Returns `None` on timeout.
///
/// Provenance: the three-state futex mutex of Drepper's "Futexes Are Tricky" (mutex2), with the
/// holder's pid in place of state 1 so that a dead holder can be recognised and replaced.
pub(crate) fn lock(line: &LockLine, deadline: Option<Instant>) -> Option<Acquired> {
    let word = &line.word;
    let me = me();
    if word
        .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        return Some(Acquired::Clean);
    }
    #[cfg(not(multiproc_loom))]
    for _ in 0..LOCK_SPIN {
        spin_loop();
        let cur = word.load(Ordering::Relaxed);
        if cur & PID_MASK == 0
            && word
                .compare_exchange(cur, me | (cur & PEER), Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return Some(Acquired::Clean);
        }
        if cur & BIASED != 0 {
            break;
        }
    }
    loop {
        let cur = word.load(Ordering::Relaxed);
        if cur & PID_MASK == 0 {
            // Others may still sleep: keep the bit so our unlock wakes one of them.
            let new = me | CONTENDED | (cur & PEER);
            if word
                .compare_exchange(cur, new, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Some(Acquired::Clean);
            }
            continue;
        }
        if cur & BIASED != 0 {
            // A biased holder keeps the lock between operations, so it is often found dead
            // (its process ended): take over at once rather than after a sleep slice.
            let how = if alive(cur & PID_MASK) {
                bias::revoke(line, cur, deadline)
            } else {
                Revoke::HolderDead
            };
            match how {
                Revoke::Released => continue,
                Revoke::TimedOut => return None,
                Revoke::HolderDead => {
                    if let Some(how) = take_over(line, cur, me) {
                        return Some(how);
                    }
                    continue;
                }
            }
        }
        if passed(deadline) {
            return None;
        }
        if cur & CONTENDED == 0
            && word
                .compare_exchange(cur, cur | CONTENDED, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            continue;
        }
        let seen = cur | CONTENDED;
        let r = futex_wait(word, seen, slice_end(deadline));
        if r == FutexWait::TimedOut && !alive(seen & PID_MASK) {
            if let Some(how) = take_over(line, seen, me) {
                return Some(how);
            }
        }
    }
}

/// Swaps `me` in for the dead holder of the word `seen`; `None` if the word changed meanwhile.
fn take_over(line: &LockLine, seen: u32, me: u32) -> Option<Acquired> {
    line.word
        .compare_exchange(
            seen,
            me | (seen & (CONTENDED | PEER)),
            Ordering::Acquire,
            Ordering::Relaxed,
        )
        .ok()?;
    if seen & BIASED != 0 {
        // The dead process can enter no operation any more.
        bias::clear(line);
    }
    Some(Acquired::Recovered)
}

/// Takes the lock if it is free or its holder is dead, or ends a bias whose thread is not in an
/// operation; never sleeps.
pub(crate) fn try_lock(line: &LockLine) -> Option<Acquired> {
    let word = &line.word;
    let me = me();
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        if cur & PID_MASK == 0 {
            // A failed CAS only means a sleeper flipped the PEER bit or the holder changed:
            // look again rather than report a free lock as busy.
            match word.compare_exchange(
                cur,
                me | (cur & PEER),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(Acquired::Clean),
                Err(now) => cur = now,
            }
            continue;
        }
        if !alive(cur & PID_MASK) {
            if let Some(how) = take_over(line, cur, me) {
                return Some(how);
            }
        } else if cur & BIASED != 0 {
            if bias::revoke(line, cur, Some(Instant::now())) == Revoke::TimedOut {
                return None;
            }
        } else {
            return None;
        }
        cur = word.load(Ordering::Relaxed);
    }
}

/// Releases a lock taken with [`lock`]: one atomic swap, a wake-up of a lock waiter only when
/// the [`CONTENDED`] bit says one may sleep. Returns whether the [`PEER`] bit was set (the
/// caller then wakes the other side's sleepers).
#[inline]
pub(crate) fn unlock(word: &AtomicU32) -> bool {
    let old = word.swap(0, Ordering::AcqRel);
    if old & CONTENDED != 0 {
        futex_wake(word, 1);
    }
    old & PEER != 0
}

/// Wakes every sleeper of `line` after an [`unlock`] reported [`PEER`].
pub(crate) fn wake_line(line: &WaitLine) {
    line.waiters.store(0, Ordering::Relaxed);
    line.seq.fetch_add(1, Ordering::Release);
    futex_wake(&line.seq, u32::MAX);
}
