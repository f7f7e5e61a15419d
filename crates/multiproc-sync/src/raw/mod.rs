//! The algorithms: each primitive is a `#[repr(C)]` header of [`multiproc_sys::sync::atomic`]
//! words plus the functions that operate on `&Header`.
//!
//! Nothing here knows about mappings: the public types put the headers into a shared-memory
//! segment, and the loom models (`tests/loom_*.rs`) put them in an `Arc` on the heap. Who the
//! caller is and whether another party is still alive comes from an [`Env`], so that the models
//! can kill a lock holder by flipping a flag.
//!
//! - [`lock`]: the lock word (owner id + waiters bit), used by `Lock` and `RLock`.
//! - [`semaphore`]: a counter word with a waiter count and an adaptive spin budget.
//! - [`event`]: a flag word with a waiters bit.
//! - [`condition`]: a sequence word bumped by every notify.
//! - [`barrier`]: a state word (count, generation, broken) and per-arrival owner slots.

pub mod barrier;
pub mod condition;
pub mod event;
pub mod lock;
pub mod semaphore;

use multiproc_sys::sync::{FutexWait, atomic::AtomicU32, futex_wait, spin_loop};
use std::time::{Duration, Instant};

/// Identity and liveness, as the algorithms see them.
pub trait Env {
    /// The id a `Lock` records for its holder (the process id; never 0, below `1 << 30`).
    fn process_id(&self) -> u32;
    /// The id an `RLock` records for its holder (the thread id; never 0, below `1 << 30`).
    fn thread_id(&self) -> u32;
    /// Whether the process or thread `id` still runs.
    fn is_alive(&self, id: u32) -> bool;
    /// How long a waiter sleeps before it checks the liveness of whoever it waits for, or
    /// `None` to never check (the loom models of wake-ups use untimed waits).
    fn check_period(&self) -> Option<Duration>;
    /// Whether to spin (busy-wait a little) before going to sleep.
    fn may_spin(&self) -> bool;
}

/// The real environment: kernel process and thread ids, `kill(id, 0)` and `/proc` for liveness.
#[derive(Debug, Clone, Copy, Default)]
pub struct Os;

/// How often a waiter looks at the liveness of a holder: well under the 100 ms within which a
/// dead holder's lock must pass on.
pub const CHECK_PERIOD: Duration = Duration::from_millis(20);

#[cfg(not(multiproc_loom))]
impl Env for Os {
    #[inline]
    fn process_id(&self) -> u32 {
        multiproc_sys::owner::current_pid()
    }
    #[inline]
    fn thread_id(&self) -> u32 {
        multiproc_sys::owner::current_tid()
    }
    fn is_alive(&self, id: u32) -> bool {
        multiproc_sys::owner::pid_alive(id)
    }
    fn check_period(&self) -> Option<Duration> {
        Some(CHECK_PERIOD)
    }
    fn may_spin(&self) -> bool {
        multi_core()
    }
}

/// Whether more than one CPU is available to us (spinning on a single CPU only delays the
/// holder we wait for).
#[cfg(not(multiproc_loom))]
pub fn multi_core() -> bool {
    use std::sync::OnceLock;
    static MULTI: OnceLock<bool> = OnceLock::new();
    *MULTI.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Bounded exponential spinning, then "give up and sleep" (parking_lot's `SpinWait` shape,
/// without its `sched_yield` rounds: on a machine with more runnable processes than cores a
/// yield is a syscall that mostly hands the CPU to an unrelated process, and the futex sleep
/// that follows does the same job better).
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    /// Rounds of spinning (1 + 2 + 4 + 8 pause instructions: 15 pauses, 0.2–1 µs depending on
    /// the CPU's pause latency) before sleeping.
    const ROUNDS: u32 = 4;

    /// Waits a little; returns `false` when the caller should stop spinning and sleep.
    #[inline]
    pub(crate) fn snooze(&mut self) -> bool {
        if self.step >= Self::ROUNDS {
            return false;
        }
        for _ in 0..(1u32 << self.step) {
            spin_loop();
        }
        self.step += 1;
        true
    }
}

/// Why a [`sleep`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slept {
    /// Woken, value changed, or spurious: re-check the condition.
    Again,
    /// The caller's deadline passed.
    Deadline,
    /// The liveness check is due.
    Check,
}

/// Sleeps on `word` while it holds `expected`, until the earlier of `deadline` (the caller's)
/// and `check` (the next liveness check).
#[inline]
pub(crate) fn sleep(
    word: &AtomicU32,
    expected: u32,
    deadline: Option<Instant>,
    check: Option<Instant>,
) -> Slept {
    let (until, is_deadline) = match (deadline, check) {
        (Some(d), Some(c)) if c < d => (Some(c), false),
        (Some(d), _) => (Some(d), true),
        (None, Some(c)) => (Some(c), false),
        (None, None) => (None, false),
    };
    match futex_wait(word, expected, until) {
        FutexWait::TimedOut if is_deadline => Slept::Deadline,
        FutexWait::TimedOut => Slept::Check,
        FutexWait::Woken | FutexWait::ValueChanged => Slept::Again,
    }
}

/// The next liveness check from now, if the environment does checks.
#[inline]
pub(crate) fn next_check<E: Env>(env: &E) -> Option<Instant> {
    env.check_period().map(|p| Instant::now() + p)
}

/// The caller's deadline passed (or it asked not to wait at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;
