//! Biased sides: a side (the producers or the consumers) that one thread uses alone skips its
//! lock.
//!
//! Most queues have one producer and one consumer in fact, though any handle may start to put or
//! get at any time. The first thread to take a side's lock while nobody waits for it keeps the
//! lock for good and marks the word [`BIASED`], recording its thread token in the line's `bias`
//! word. From then on its operations take the side without a read-modify-write:
//!
//! ```text
//! owner (every operation)               revoker (once, on finding BIASED with a live holder)
//! busy = 1                              bias = 0; revoked += 1
//! light barrier (compiler only)         heavy barrier (membarrier)
//! if bias != me: busy = 0, slow path    wait until busy == 0 (or the holder died)
//! ... the operation ...                 unlock the word on the owner's behalf
//! busy = 0 (release)
//! ```
//!
//! The two barriers together order like a `fence(SeqCst)` on both sides
//! ([`multiproc_sys::sync::asymmetric`]): either the owner sees `bias == 0` and keeps out, or the
//! revoker sees `busy == 1` and waits for the operation to end. A revoked side is never biased
//! again (`revoked != 0`), so a queue with several producers pays for one revocation, a few
//! microseconds, and then uses its lock as before. A biased owner has no unlock to carry the
//! PEER wake-up, so its operations notify the other side directly (like `Sender`/`Receiver`).
//!
//! Provenance: biased locking as in the JVM's (revocation at a safepoint), with the asymmetric
//! Dekker handshake of `membarrier(2)` in place of the safepoint.

use crate::layout::LockLine;
use crate::wait::{self, BIASED, CONTENDED, PEER, PID_MASK};
use multiproc_sys::sync::asymmetric;
use multiproc_sys::sync::atomic::Ordering;
use std::time::Instant;

/// Enters an operation through the bias if the calling thread (`token`) holds it. On `true`
/// the caller must call [`exit`] when the operation ends (also when it unwinds).
///
/// An operation started from inside another on the same side (a receive from a `recv_with`
/// callback, a send while a `Writer` is open) must not run: it would take the same record or
/// reserve the same bytes. `busy` is already 1 then, and only this thread sets it, so the call
/// goes the slow way, where it waits for the outer operation as it would wait for a lock.
#[inline(always)]
pub(crate) fn enter(line: &LockLine, token: u32) -> bool {
    if line.bias.load(Ordering::Relaxed) != token || line.busy.load(Ordering::Relaxed) != 0 {
        return false;
    }
    line.busy.store(1, Ordering::Relaxed);
    asymmetric::light();
    if line.bias.load(Ordering::Relaxed) == token {
        return true;
    }
    exit(line);
    false
}

/// Ends an operation entered with [`enter`]: whatever it did happens before a revoker's look
/// at `busy`.
#[inline(always)]
pub(crate) fn exit(line: &LockLine) {
    line.busy.store(0, Ordering::Release);
}

/// With the lock held (acquired cleanly by this thread): biases the side to `token` if the side
/// was never revoked and nobody waits for the lock. On `true` the caller holds the bias and is
/// inside an operation, as after [`enter`]: it must call [`exit`], and never unlock.
pub(crate) fn try_bias(line: &LockLine, token: u32) -> bool {
    if line.revoked.load(Ordering::Relaxed) != 0 || !asymmetric::register() {
        return false;
    }
    // Both recorded before BIASED is published: a revoker that sees BIASED sees them too, so
    // its `bias = 0` comes later and wins, and it waits for this operation to end.
    line.bias.store(token, Ordering::Relaxed);
    line.busy.store(1, Ordering::Relaxed);
    let mut cur = line.word.load(Ordering::Relaxed);
    loop {
        if cur & CONTENDED != 0 {
            // Someone waits for the lock: the side is shared, do not bias it.
            line.bias.store(0, Ordering::Relaxed);
            exit(line);
            return false;
        }
        match line.word.compare_exchange_weak(
            cur,
            cur | BIASED,
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(now) => cur = now,
        }
    }
}

/// What [`revoke`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Revoke {
    /// The bias is over and the word no longer holds it: try the lock again.
    Released,
    /// The biased holder is dead: take the lock over (and repair what it guards).
    HolderDead,
    /// The deadline passed while the holder was inside an operation (the bias is still ended;
    /// whoever comes next finishes the revocation).
    TimedOut,
}

/// Ends the bias recorded in the lock word `seen` (BIASED set). Any thread may call it, the
/// owner's own process included; several may at once. Revocation is for good: the side is never
/// biased again, so a word that shows the same holder with BIASED later is still this bias.
pub(crate) fn revoke(line: &LockLine, seen: u32, deadline: Option<Instant>) -> Revoke {
    let holder = seen & PID_MASK;
    // Acquire: synchronises with the owner's release of BIASED, so its `bias = token` comes
    // before our `bias = 0`.
    let cur = line.word.load(Ordering::Acquire);
    if cur & BIASED == 0 || cur & PID_MASK != holder {
        return Revoke::Released;
    }
    if line.bias.swap(0, Ordering::AcqRel) != 0 {
        line.revoked.fetch_add(1, Ordering::Relaxed);
    }
    asymmetric::heavy();
    let mut rounds = 0u32;
    while line.busy.load(Ordering::Acquire) != 0 {
        if rounds % 64 == 63 && !wait::alive(holder) {
            return Revoke::HolderDead;
        }
        if wait::passed(deadline) {
            return Revoke::TimedOut;
        }
        rounds = rounds.wrapping_add(1);
        backoff(rounds);
    }
    // The owner is between operations and will not start another through the bias: release
    // the word for it. CONTENDED and PEER stay for the next unlock to act on.
    let mut cur = cur;
    while cur & BIASED != 0 && cur & PID_MASK == holder {
        match line.word.compare_exchange(
            cur,
            cur & (CONTENDED | PEER),
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(_) => {
                if cur & CONTENDED != 0 {
                    multiproc_sys::sync::futex_wake(&line.word, 1);
                }
                break;
            }
            Err(now) => cur = now,
        }
    }
    Revoke::Released
}

/// Forgets the bias of a holder that died (its lock was just taken over). The side may be
/// biased again: the dead process can enter no operation.
pub(crate) fn clear(line: &LockLine) {
    line.bias.store(0, Ordering::Relaxed);
    line.busy.store(0, Ordering::Relaxed);
}

/// Waits a little longer each round while an owner finishes its operation.
fn backoff(rounds: u32) {
    if rounds < 64 {
        multiproc_sys::sync::spin_loop();
    } else {
        #[cfg(not(multiproc_loom))]
        std::thread::sleep(std::time::Duration::from_micros(50));
        #[cfg(multiproc_loom)]
        multiproc_sys::sync::yield_now();
    }
}
