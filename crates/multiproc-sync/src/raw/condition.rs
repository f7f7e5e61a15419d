//! The condition variable: a sequence word that every notify bumps.
//!
//! # State table
//!
//! | word      | meaning                                                                  |
//! |-----------|--------------------------------------------------------------------------|
//! | `seq`     | notify counter (wraps); waiters sleep on the value they read under the lock |
//! | `waiters` | waiters registered under the lock and not yet back; notify skips the bump and the syscall at 0 |
//!
//! All-zero = no waiters. A waiter reads `seq` while it still holds the lock, releases the lock,
//! and sleeps on that value: a notify (which needs the lock, so it comes after the read) either
//! changes `seq` before the sleep starts (the wait returns at once) or wakes it in the kernel.
//! `notify(n)` wakes up to `n` sleepers in the kernel's queue, which only ever holds live
//! processes: a waiter killed while asleep is simply gone and cannot swallow a notification. A
//! waiter that was between its release and its sleep when the notify came also returns, so more
//! than `n` waits may return (as with `std::sync::Condvar`, use `wait_for` with a predicate).
//!
//! Provenance: the futex condition variable of Rust's `std` (`sys/sync/condvar/futex.rs`), with
//! a waiter count to keep `notify` syscall-free when nobody waits.

use super::{Slept, TimedOut, sleep};
use multiproc_sys::sync::atomic::{AtomicU32, Ordering};
use multiproc_sys::sync::futex_wake;
use std::time::Instant;

/// The shared condition header (8 bytes, all-zero = no waiters).
#[repr(C)]
#[derive(Debug, Default)]
pub struct ConditionState {
    seq: AtomicU32,
    waiters: AtomicU32,
}

/// A registered wait: the sequence value read under the lock.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u32);

impl ConditionState {
    /// Registers a waiter; call while holding the lock, before releasing it.
    pub fn prepare(&self) -> Ticket {
        self.waiters.fetch_add(1, Ordering::Relaxed);
        Ticket(self.seq.load(Ordering::Relaxed))
    }

    /// Sleeps (without the lock) until notified or `deadline`; unregisters either way.
    pub fn sleep(&self, ticket: Ticket, deadline: Option<Instant>) -> Result<(), TimedOut> {
        let result = loop {
            if self.seq.load(Ordering::Acquire) != ticket.0 {
                break Ok(());
            }
            match sleep(&self.seq, ticket.0, deadline, None) {
                Slept::Deadline => {
                    break if self.seq.load(Ordering::Acquire) != ticket.0 {
                        Ok(())
                    } else {
                        Err(TimedOut)
                    };
                }
                Slept::Again | Slept::Check => {
                    // A futex wake-up may be spurious: only a changed `seq` counts.
                }
            }
        };
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Wakes up to `n` waiters; call while holding the lock.
    pub fn notify(&self, n: u32) {
        if n == 0 || self.waiters.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.seq.fetch_add(1, Ordering::Release);
        futex_wake(&self.seq, n);
    }

    /// Waiters registered now (approximate once they leave the lock).
    pub fn waiters(&self) -> u32 {
        self.waiters.load(Ordering::Relaxed)
    }
}
