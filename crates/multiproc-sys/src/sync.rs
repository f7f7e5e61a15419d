//! The synchronization shim every shared-memory algorithm in multiproc takes its primitives from.
//!
//! Two implementations export the same names: the real one (std atomics and the Linux futex
//! syscall) and, under `--cfg multiproc_loom`, a model built on [loom] in which the futex is a
//! table of loom condition variables keyed by the word's address, so that a lost wake-up shows up
//! as a deadlock in the model instead of hiding behind a yield-spin.
//!
//! Algorithms take `&Header`-style references to `#[repr(C)]` structs built only from these
//! atomics; real builds point them into a shared mapping, loom builds put them in a `Box`/`Arc`.
//!
//! The futex calls are *shared* (no `FUTEX_PRIVATE_FLAG`): the word may live in memory mapped by
//! several processes.
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(multiproc_loom))]
mod imp {
    pub use std::sync::Arc;
    pub use std::sync::atomic;
    pub use std::thread;

    /// A cell with loom's closure-based access API, backed by `core::cell::UnsafeCell`.
    #[derive(Debug, Default)]
    pub struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared raw pointer to the contents.
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable raw pointer to the contents.
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// A hint to the processor that we are in a spin loop.
    #[inline]
    pub fn spin_loop() {
        core::hint::spin_loop();
    }

    /// Gives up the rest of this thread's time slice.
    #[inline]
    pub fn yield_now() {
        std::thread::yield_now();
    }

    /// Runs `f` once; under loom it runs `f` under the model checker.
    pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
        f();
    }
}

#[cfg(multiproc_loom)]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::sync::Arc;
    pub use loom::sync::atomic;
    pub use loom::thread;

    /// Under loom a spin is a yield, so that the model can switch threads.
    #[inline]
    pub fn spin_loop() {
        loom::thread::yield_now();
    }

    /// Gives other model threads a turn.
    #[inline]
    pub fn yield_now() {
        loom::thread::yield_now();
    }

    /// Runs `f` under the loom model checker with a preemption bound of 2 (unless
    /// `LOOM_MAX_PREEMPTIONS` says otherwise).
    pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(2);
        }
        builder.check(f);
    }
}

pub use imp::*;

use atomic::AtomicU32;
use std::time::Instant;

/// How a [`futex_wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutexWait {
    /// A wake-up arrived (or the kernel woke us spuriously): re-check the condition.
    Woken,
    /// The word did not hold the expected value when the wait began.
    ValueChanged,
    /// The deadline passed.
    TimedOut,
}

#[cfg(not(multiproc_loom))]
mod futex {
    use super::{AtomicU32, FutexWait, Instant};
    use core::num::NonZeroU32;
    use rustix::io::Errno;
    use rustix::thread::futex;
    use rustix::time::{ClockId, Timespec, clock_gettime};

    /// Converts an `Instant` deadline into an absolute `CLOCK_MONOTONIC` timespec, or `None`
    /// when it has already passed.
    fn absolute(deadline: Instant) -> Option<Timespec> {
        let remaining = deadline.checked_duration_since(Instant::now())?;
        if remaining.is_zero() {
            return None;
        }
        let now = clock_gettime(ClockId::Monotonic);
        let mut sec = now
            .tv_sec
            .saturating_add(i64::try_from(remaining.as_secs()).unwrap_or(i64::MAX / 2));
        let mut nsec = now.tv_nsec + i64::from(remaining.subsec_nanos());
        if nsec >= 1_000_000_000 {
            nsec -= 1_000_000_000;
            sec = sec.saturating_add(1);
        }
        Some(Timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        })
    }

    pub(super) fn wait(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> FutexWait {
        let ts = match deadline {
            Some(d) => match absolute(d) {
                Some(ts) => Some(ts),
                None => return FutexWait::TimedOut,
            },
            None => None,
        };
        let any = NonZeroU32::MAX;
        match futex::wait_bitset(word, futex::Flags::empty(), expected, ts.as_ref(), any) {
            Ok(()) | Err(Errno::INTR) => FutexWait::Woken,
            Err(Errno::AGAIN) => FutexWait::ValueChanged,
            Err(Errno::TIMEDOUT) => FutexWait::TimedOut,
            // EFAULT/EINVAL cannot happen for a valid, aligned &AtomicU32; treat anything else as a
            // spurious wake-up so callers re-check their condition rather than spin forever here.
            Err(_) => FutexWait::Woken,
        }
    }

    pub(super) fn wake(word: &AtomicU32, n: u32) -> usize {
        let n = n.min(i32::MAX as u32);
        futex::wake(word, futex::Flags::empty(), n).unwrap_or(0)
    }
}

#[cfg(multiproc_loom)]
mod futex {
    //! The futex model: one loom mutex guards the "kernel", and waiters park on a condition
    //! variable chosen by the word's address. The value check and the sleep happen under the
    //! mutex, as in the kernel, so a wake that races with a wait is never lost by the model
    //! itself. A wake of `n` wakes at most `n` sleepers (one `notify_one` each), so protocols that
    //! wake too few are caught as deadlocks, not hidden by a broadcast.
    use super::{AtomicU32, FutexWait, Instant};
    use loom::sync::{Condvar, Mutex};
    use std::collections::HashMap;
    use std::sync::atomic::Ordering;

    /// The sleepers of one futex word: their condition variable and how many sleep on it.
    struct Queue {
        cv: std::sync::Arc<Condvar>,
        sleepers: usize,
    }

    struct Table {
        lock: Mutex<HashMap<usize, Queue>>,
    }

    loom::lazy_static! {
        static ref TABLE: Table = Table { lock: Mutex::new(HashMap::new()) };
    }

    pub(super) fn wait(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> FutexWait {
        let key = word as *const AtomicU32 as usize;
        let mut map = TABLE.lock.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected {
            return FutexWait::ValueChanged;
        }
        if deadline.is_some() {
            // A timed wait in the model is the "timeout fires" branch: it returns without
            // sleeping. Lost wake-ups are modelled with untimed waits.
            drop(map);
            loom::thread::yield_now();
            return FutexWait::TimedOut;
        }
        let queue = map.entry(key).or_insert_with(|| Queue {
            cv: std::sync::Arc::new(Condvar::new()),
            sleepers: 0,
        });
        queue.sleepers += 1;
        let cv = queue.cv.clone();
        // The waker takes us off the count when it wakes us.
        map = cv.wait(map).unwrap();
        drop(map);
        FutexWait::Woken
    }

    pub(super) fn wake(word: &AtomicU32, n: u32) -> usize {
        let key = word as *const AtomicU32 as usize;
        let mut map = TABLE.lock.lock().unwrap();
        match map.get_mut(&key) {
            Some(queue) => {
                let woken = queue.sleepers.min(n as usize);
                for _ in 0..woken {
                    queue.cv.notify_one();
                }
                queue.sleepers -= woken;
                woken
            }
            None => 0,
        }
    }
}

/// `futex(word, FUTEX_WAIT_BITSET, expected, deadline)`—sleeps while `*word == expected`.
///
/// Returns at once with [`FutexWait::ValueChanged`] when the word holds another value, with
/// [`FutexWait::TimedOut`] once `deadline` (if any) has passed, and otherwise with
/// [`FutexWait::Woken`] after a [`futex_wake`] on the same word from any process mapping it
/// (or spuriously, or on a signal): callers always re-check their condition in a loop.
///
/// The wait is shared (no `FUTEX_PRIVATE_FLAG`), on `CLOCK_MONOTONIC`.
///
/// # Examples
///
/// ```
/// use multiproc_sys::sync::atomic::AtomicU32;
/// use multiproc_sys::sync::{futex_wait, FutexWait};
///
/// let word = AtomicU32::new(7);
/// assert_eq!(futex_wait(&word, 8, None), FutexWait::ValueChanged);
/// ```
///
/// # References
/// - [`futex(2)`](https://man7.org/linux/man-pages/man2/futex.2.html)
#[doc(alias = "FUTEX_WAIT")]
pub fn futex_wait(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> FutexWait {
    futex::wait(word, expected, deadline)
}

/// `futex(word, FUTEX_WAKE, n)`—wakes up to `n` waiters sleeping on `word` in any process.
///
/// Returns how many were woken.
///
/// # Examples
///
/// ```
/// use multiproc_sys::sync::atomic::AtomicU32;
/// use multiproc_sys::sync::futex_wake;
///
/// let word = AtomicU32::new(0);
/// assert_eq!(futex_wake(&word, 1), 0);
/// ```
///
/// # References
/// - [`futex(2)`](https://man7.org/linux/man-pages/man2/futex.2.html)
#[doc(alias = "FUTEX_WAKE")]
pub fn futex_wake(word: &AtomicU32, n: u32) -> usize {
    futex::wake(word, n)
}

/// An asymmetric fence: a cheap [`light`](asymmetric::light) side run on every operation of a
/// fast path, and an expensive [`heavy`](asymmetric::heavy) side run rarely by whoever must
/// synchronise with it.
///
/// Together they act like a `fence(SeqCst)` on both sides: when the light side does
/// `store A; light(); load B` and the heavy side does `store B; heavy(); load A`, at least one of
/// the two loads sees the other side's store. The light side is only a compiler barrier; the
/// heavy side is `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`, which makes every CPU that runs a
/// thread of a process that called [`register`](asymmetric::register) execute a full memory
/// barrier (a thread that is not running passed one when it was switched out). Under loom both
/// sides are `fence(SeqCst)`.
///
/// # Examples
///
/// ```
/// use multiproc_sys::sync::asymmetric;
///
/// if asymmetric::register() {
///     asymmetric::light(); // on the fast path
///     asymmetric::heavy(); // on the rare path
/// }
/// ```
///
/// # References
/// - [`membarrier(2)`](https://man7.org/linux/man-pages/man2/membarrier.2.html)
pub mod asymmetric {
    #[cfg(not(multiproc_loom))]
    use std::sync::atomic::{AtomicU32, Ordering};

    /// The light side: a compiler barrier (a `fence(SeqCst)` under loom).
    ///
    /// # Examples
    ///
    /// ```
    /// multiproc_sys::sync::asymmetric::light();
    /// ```
    #[inline]
    pub fn light() {
        #[cfg(not(multiproc_loom))]
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
        #[cfg(multiproc_loom)]
        loom::sync::atomic::fence(loom::sync::atomic::Ordering::SeqCst);
    }

    /// The process that last registered (registration is per process and re-done after `fork`).
    #[cfg(not(multiproc_loom))]
    static REGISTERED: AtomicU32 = AtomicU32::new(0);
    /// The process whose registration the kernel refused (so it is not asked again).
    #[cfg(not(multiproc_loom))]
    static REFUSED: AtomicU32 = AtomicU32::new(0);

    /// The light side for a process that may not have registered: [`light`] once the calling
    /// process is registered (the first call registers it), a `fence(SeqCst)` if the kernel
    /// refuses. Pairs with [`heavy`] as `light` does, at the cost of two loads.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use multiproc_sys::sync::asymmetric;
    ///
    /// // The fast side of a wake-up handshake: publish, barrier, look for a sleeper.
    /// let (data, sleepers) = (AtomicU32::new(0), AtomicU32::new(0));
    /// data.store(1, Ordering::Release);
    /// asymmetric::light_or_fence();
    /// assert_eq!(sleepers.load(Ordering::Relaxed), 0);
    /// ```
    #[inline]
    pub fn light_or_fence() {
        #[cfg(not(multiproc_loom))]
        {
            if REGISTERED.load(Ordering::Relaxed) != crate::owner::current_pid() {
                unregistered();
                return;
            }
        }
        light();
    }

    /// [`light_or_fence`] before the process is known to be registered: tries to register it
    /// for the next calls, and fences this time (a heavy barrier running meanwhile may have
    /// missed the registration).
    #[cfg(not(multiproc_loom))]
    #[cold]
    #[inline(never)]
    fn unregistered() {
        register();
        core::sync::atomic::fence(Ordering::SeqCst);
    }

    /// Registers the calling process for the heavy side's expedited barrier; returns whether
    /// the kernel supports it. A process must register before it relies on [`light`]; the call
    /// is a syscall the first time and a load afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// let ok = multiproc_sys::sync::asymmetric::register();
    /// assert_eq!(ok, multiproc_sys::sync::asymmetric::register());
    /// ```
    pub fn register() -> bool {
        #[cfg(not(multiproc_loom))]
        {
            use rustix::thread::{MembarrierCommand, membarrier};
            let me = crate::owner::current_pid();
            if REGISTERED.load(Ordering::Relaxed) == me {
                return true;
            }
            if REFUSED.load(Ordering::Relaxed) == me {
                return false;
            }
            if membarrier(MembarrierCommand::RegisterGlobalExpedited).is_err() {
                REFUSED.store(me, Ordering::Relaxed);
                return false;
            }
            REGISTERED.store(me, Ordering::Relaxed);
            true
        }
        #[cfg(multiproc_loom)]
        {
            true
        }
    }

    /// The heavy side: a full barrier on every CPU running a registered process. Costs a few
    /// microseconds.
    ///
    /// Falls back to the slower `MEMBARRIER_CMD_GLOBAL` (milliseconds) if the expedited command
    /// fails, and, if that fails too, to a 1 ms sleep: long past the time any store buffer takes
    /// to drain, though without the kernel's guarantee.
    ///
    /// # Examples
    ///
    /// ```
    /// multiproc_sys::sync::asymmetric::heavy();
    /// ```
    pub fn heavy() {
        #[cfg(not(multiproc_loom))]
        {
            use rustix::thread::{MembarrierCommand, membarrier};
            if membarrier(MembarrierCommand::GlobalExpedited).is_err()
                && membarrier(MembarrierCommand::Global).is_err()
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        #[cfg(multiproc_loom)]
        loom::sync::atomic::fence(loom::sync::atomic::Ordering::SeqCst);
    }

    /// A number identifying the calling thread among all threads of all processes: the kernel
    /// thread id (a distinct small number per model thread under loom). Never 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let me = multiproc_sys::sync::asymmetric::thread_token();
    /// assert_ne!(me, 0);
    /// assert_eq!(me, multiproc_sys::sync::asymmetric::thread_token());
    /// ```
    #[inline]
    pub fn thread_token() -> u32 {
        #[cfg(not(multiproc_loom))]
        {
            crate::owner::current_tid()
        }
        #[cfg(multiproc_loom)]
        {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(2);
            loom::thread_local! {
                static TOKEN: u32 = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            TOKEN.with(|t| *t)
        }
    }
}
