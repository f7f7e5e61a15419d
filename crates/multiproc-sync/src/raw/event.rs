//! The event: one flag word with a waiters bit.
//!
//! # State table
//!
//! | `word` | meaning                                                   |
//! |--------|-----------------------------------------------------------|
//! | `0`    | clear, nobody asleep (the all-zero initial state)         |
//! | `2`    | clear, someone may sleep on the word                      |
//! | `1`    | set (waiters return at once); `set` wakes all if it saw 2 |
//!
//! `set`: swap to 1, wake everyone if the old value had the waiters bit. `clear`: `1 → 0`
//! (CAS; a clear event stays as it is). `wait`: while the word is 0 or 2, move 0 → 2 and sleep
//! on 2. A waiter that dies asleep leaves the bit set: the next `set` makes one futile
//! `futex_wake` call and clears it.
//!
//! Provenance: the futex event/notification word of "Futexes Are Tricky" (Drepper), with the
//! waiters bit used to skip the syscall when nobody waits.

use super::{Slept, TimedOut, sleep};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::futex_wake;
use std::time::Instant;

const SET: u32 = 1;
const SLEEPERS: u32 = 2;

/// The shared event word (4 bytes, all-zero = clear).
#[repr(C)]
#[derive(Debug, Default)]
pub struct EventState {
    word: AtomicU32,
}

impl EventState {
    /// Whether the flag is set.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.word.load(Ordering::Acquire) == SET
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        if self.word.swap(SET, Ordering::Release) & SLEEPERS != 0 {
            futex_wake(&self.word, u32::MAX);
        }
    }

    /// Clears the flag.
    pub fn clear(&self) {
        let _ = self
            .word
            .compare_exchange(SET, 0, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Waits until the flag is set or `deadline` passes; returns whether it is set.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<(), TimedOut> {
        loop {
            let v = self.word.load(Ordering::Acquire);
            if v == SET {
                return Ok(());
            }
            if v == 0
                && self
                    .word
                    .compare_exchange(0, SLEEPERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            if sleep(&self.word, SLEEPERS, deadline, None) == Slept::Deadline {
                return if self.is_set() { Ok(()) } else { Err(TimedOut) };
            }
        }
    }
}
