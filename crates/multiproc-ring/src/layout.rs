//! The shared-memory layout of a ring: one header page followed by the data area.
//!
//! ```text
//! offset 0     Meta      shm header (kind RING), capacity, max_items, closed (rarely written)
//! offset 128   ProdLine  tail, stream, stream_seq                     (producers write it)
//! offset 256   ConsLine  head                                         (consumers write it)
//! offset 384   WaitLine  data_seq, data_waiters                       (consumers park here)
//! offset 512   WaitLine  space_seq, space_waiters                     (producers park here)
//! offset 640   MiscLine  done, join_waiters, recoveries               (joinable counter, diagnostics)
//! offset 768   LockLine  prod_lock, bias, busy, revoked               (producers only)
//! offset 896   LockLine  cons_lock, bias, busy, revoked               (consumers only)
//! offset 4096  data      `capacity` bytes of 8-byte aligned records
//! ```
//!
//! Every word is an atomic; the all-zero header is the "not yet initialised" state, which
//! [`RingHeader::validate`] refuses. The creator fills `Meta` before the segment is shared.
//!
//! # Position words (`tail`, `head`)
//!
//! | bits   | meaning                                                              |
//! |--------|----------------------------------------------------------------------|
//! | 0..36  | position in 8-byte units, counted from creation, modulo 2^36         |
//! | 36..64 | number of complete messages (WHOLE or LAST records) passed, mod 2^28 |
//!
//! A single store of `tail` is the producer's commit point: the record bytes, the byte position
//! and the message count become visible together. `head` is the consumer's commit point likewise.
//! `tail - head` (positions) is the number of used units, `count(tail) - count(head)` the exact
//! number of messages in the ring.
//!
//! # Lock words (`prod_lock`, `cons_lock`)
//!
//! | value              | state                                                              |
//! |--------------------|--------------------------------------------------------------------|
//! | 0                  | free                                                               |
//! | pid                | held by process `pid`, nobody sleeping                             |
//! | pid \| `1 << 31`   | held by `pid`, a waiter may sleep: the unlock must `futex_wake`    |
//! | ... \| `1 << 29`   | BIASED: the holder is the thread in `bias`, for good, until someone revokes it (see the crate's `bias` module) |
//! | ... \| `1 << 30`   | PEER: the other side may sleep (consumers waiting for data set it on the producers' lock, producers waiting for room on the consumers' lock); the next unlock's swap returns it and that unlocker wakes the other side's wait line |
//!
//! The PEER handshake needs no fence: the sleeper's `fetch_or` and the unlocker's `swap` are
//! read-modify-writes of one word, so either the swap returns the bit, or the `fetch_or` reads
//! the swap's release and the sleeper's re-check sees what was published under the lock.
//! Handles that hold a side for good (`Sender`/`Receiver`) never unlock per message; they use
//! the wait lines' flag-and-fence protocol below instead, and sleepers register with both.
//!
//! A waiter that sleeps a whole slice (10 ms) on a word whose holder pid is no longer alive (or
//! is a zombie) swaps its own pid in: the lock is recovered, never stuck. A pid recycled by the
//! kernel reads as alive, so the lock then waits for that process like for a live holder.
//!
//! # Wait lines (`data_seq`/`data_waiters`, `space_seq`/`space_waiters`, `done`/`join_waiters`)
//!
//! | word        | values                                                                  |
//! |-------------|-------------------------------------------------------------------------|
//! | `*_seq`     | a wrapping counter bumped by a waker; sleepers `futex_wait` on it       |
//! | `*_waiters` | 0 = nobody may sleep; 1 = someone may sleep (set by the sleeper before its last check, cleared by the waker that then wakes everyone) |
//!
//! Sleeper: read `seq`, set `waiters = 1`, `fence(SeqCst)`, re-check the condition, then
//! `futex_wait(seq, value read)`. Waker: publish the change, `fence(SeqCst)`, and only if
//! `waiters != 0`: swap it to 0, bump `seq`, `futex_wake` all. Either the sleeper sees the change
//! or the waker sees the flag, so no wake-up is lost; the fast path is one fence and one load.
//!
//! # `stream`
//!
//! | value | state                                                         |
//! |-------|---------------------------------------------------------------|
//! | 0     | no record is being streamed                                   |
//! | id    | a producer is streaming the message `id` in FIRST/MIDDLE/LAST pieces |

use multiproc_sys::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The structure code in the segment's versioned header.
pub(crate) const KIND: u32 = multiproc_shm::header::kind(b"RING");
/// Layout version; bumped on any incompatible change.
pub(crate) const VERSION: u32 = 2;
/// Offset of the data area from the start of the segment.
pub(crate) const DATA_OFFSET: usize = 4096;
/// Bits of a position word that hold the position (in 8-byte units).
pub(crate) const POS_BITS: u32 = 36;
/// Mask of the position part of a position word.
pub(crate) const POS_MASK: u64 = (1 << POS_BITS) - 1;
/// Mask of the message count part (after shifting).
pub(crate) const COUNT_MASK: u64 = (1 << (64 - POS_BITS)) - 1;
/// Smallest data area.
pub(crate) const MIN_CAPACITY: u64 = 256;
/// Largest data area (keeps the 28-bit message count and 36-bit positions unambiguous).
pub(crate) const MAX_CAPACITY: u64 = 1 << 30;

/// The read-only part of the header.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct Meta {
    /// The versioned header every multiproc structure starts with.
    pub(crate) header: multiproc_shm::header::Header,
    /// Data area size in bytes (a power of two).
    pub(crate) capacity: AtomicU64,
    /// Most messages in the ring at once (0 = no item limit).
    pub(crate) max_items: AtomicU64,
    /// 0 = open, 1 = closed (read on every send, written once: kept off the busy lines).
    pub(crate) closed: AtomicU32,
}

/// A side lock on a line of its own (consumers never read the producers' lock and vice versa,
/// so taking it is an uncontended atomic on a line the holder keeps), with the side's bias
/// (see [`crate::bias`]).
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct LockLine {
    pub(crate) word: AtomicU32,
    /// The thread token the side is biased to (0 = none). Meaningful while `word` has the
    /// BIASED bit.
    pub(crate) bias: AtomicU32,
    /// 1 while the biased thread is inside an operation.
    pub(crate) busy: AtomicU32,
    /// How many biases were revoked; after the first the side is never biased again.
    pub(crate) revoked: AtomicU32,
}

impl LockLine {
    #[cfg(any(multiproc_loom, test))]
    fn zeroed() -> Self {
        Self {
            word: AtomicU32::new(0),
            bias: AtomicU32::new(0),
            busy: AtomicU32::new(0),
            revoked: AtomicU32::new(0),
        }
    }
}

/// The producers' line.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct ProdLine {
    pub(crate) tail: AtomicU64,
    /// The message id being streamed (0 = none).
    pub(crate) stream: AtomicU64,
    /// The last stream id handed out.
    pub(crate) stream_seq: AtomicU64,
}

/// The consumers' line.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct ConsLine {
    pub(crate) head: AtomicU64,
}

/// A futex word with its sleeper count.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct WaitLine {
    pub(crate) seq: AtomicU32,
    pub(crate) waiters: AtomicU32,
}

/// Close flag and the joinable counter.
#[repr(C, align(128))]
#[derive(Debug)]
pub(crate) struct MiscLine {
    /// Tasks marked done, modulo 2^28 (compared with the message count of `tail`).
    pub(crate) done: AtomicU32,
    pub(crate) join_waiters: AtomicU32,
    /// How many times a side lock was taken over from a dead holder (diagnostics).
    pub(crate) recoveries: AtomicU32,
}

/// The ring header at the start of the segment.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct RingHeader {
    pub(crate) meta: Meta,
    pub(crate) prod: ProdLine,
    pub(crate) cons: ConsLine,
    pub(crate) prod_lock: LockLine,
    pub(crate) cons_lock: LockLine,
    pub(crate) data_wait: WaitLine,
    pub(crate) space_wait: WaitLine,
    pub(crate) misc: MiscLine,
}

#[cfg(not(multiproc_loom))]
const _: () = assert!(core::mem::size_of::<RingHeader>() <= DATA_OFFSET);
#[cfg(not(multiproc_loom))]
const _: () = assert!(core::mem::align_of::<RingHeader>() == 128);
#[cfg(not(multiproc_loom))]
const _: () = assert!(core::mem::size_of::<RingHeader>() == 1024);

impl RingHeader {
    /// A zeroed header (the state of fresh shared memory).
    #[cfg(any(multiproc_loom, test))]
    pub(crate) fn zeroed() -> Self {
        let line = || WaitLine {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        };
        Self {
            meta: Meta {
                header: multiproc_shm::header::Header::default(),
                capacity: AtomicU64::new(0),
                max_items: AtomicU64::new(0),
                closed: AtomicU32::new(0),
            },
            prod: ProdLine {
                tail: AtomicU64::new(0),
                stream: AtomicU64::new(0),
                stream_seq: AtomicU64::new(0),
            },
            cons: ConsLine {
                head: AtomicU64::new(0),
            },
            prod_lock: LockLine::zeroed(),
            cons_lock: LockLine::zeroed(),
            data_wait: line(),
            space_wait: line(),
            misc: MiscLine {
                done: AtomicU32::new(0),
                join_waiters: AtomicU32::new(0),
                recoveries: AtomicU32::new(0),
            },
        }
    }

    /// Fills in `Meta` on a freshly zeroed header.
    pub(crate) fn init(&self, capacity: u64, max_items: u64) {
        self.meta.capacity.store(capacity, Ordering::Relaxed);
        self.meta.max_items.store(max_items, Ordering::Relaxed);
        // Release: the fields above are visible to whoever sees the published header.
        self.meta
            .header
            .publish(KIND, VERSION, DATA_OFFSET as u64 + capacity);
    }

    /// Checks `Meta` against the size of the data area the segment really has; returns the
    /// capacity and the item limit.
    pub(crate) fn validate(&self, data_len: u64) -> Result<(u64, u64), crate::Error> {
        self.meta
            .header
            .check(KIND, VERSION, DATA_OFFSET as u64 + data_len)
            .map_err(crate::Error::Attach)?;
        let cap = self.meta.capacity.load(Ordering::Relaxed);
        check_capacity(cap).map_err(|_| crate::Error::Corrupt("bad ring capacity"))?;
        if cap > data_len {
            return Err(crate::Error::Corrupt("ring capacity exceeds the segment"));
        }
        Ok((cap, self.meta.max_items.load(Ordering::Relaxed)))
    }
}

/// Checks a requested data-area size.
pub(crate) fn check_capacity(cap: u64) -> Result<(), crate::Error> {
    if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) || !cap.is_power_of_two() {
        return Err(crate::Error::InvalidCapacity(cap));
    }
    Ok(())
}

/// Splits a position word into (position in units, message count).
#[inline]
pub(crate) fn unpack(word: u64) -> (u64, u64) {
    (word & POS_MASK, word >> POS_BITS)
}

/// Builds a position word.
#[inline]
pub(crate) fn pack(pos: u64, count: u64) -> u64 {
    (pos & POS_MASK) | ((count & COUNT_MASK) << POS_BITS)
}

/// `a - b` on positions (modulo 2^36).
#[inline]
pub(crate) fn pos_diff(a: u64, b: u64) -> u64 {
    a.wrapping_sub(b) & POS_MASK
}

/// `a - b` on message counts (modulo 2^28).
#[inline]
pub(crate) fn count_diff(a: u64, b: u64) -> u64 {
    a.wrapping_sub(b) & COUNT_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_zero_is_uninitialised() {
        let h = RingHeader::zeroed();
        assert!(h.validate(4096).is_err());
        h.init(4096, 0);
        assert_eq!(h.validate(4096).unwrap(), (4096, 0));
        assert!(h.validate(2048).is_err());
    }

    #[test]
    fn packing_round_trips_and_wraps() {
        let w = pack(POS_MASK, COUNT_MASK);
        assert_eq!(unpack(w), (POS_MASK, COUNT_MASK));
        assert_eq!(pos_diff(2, POS_MASK), 3);
        assert_eq!(count_diff(0, COUNT_MASK), 1);
    }
}
