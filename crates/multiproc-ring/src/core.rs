//! The ring algorithm over a [`Mem`]: reserving, writing and committing records on the producer
//! side, finding, validating and releasing them on the consumer side.
//!
//! Provenance: a classic bounded byte ring with monotonically increasing head and tail counters
//! (Lamport's single-producer/single-consumer queue), extended with per-side robust locks for
//! many producers and consumers, variable-length records, and message streaming.
//!
//! Its `unsafe` blocks are the calls into [`Mem`]'s byte copies; each says which protocol rule
//! makes the byte range ours at that point.
#![allow(unsafe_code)]

use crate::Error;
use crate::bias;
use crate::layout::{
    self, LockLine, RingHeader, check_capacity, count_diff, pack, pos_diff, unpack,
};
use crate::mem::{Mem, us};
use crate::record::{
    self, FIRST_PREFIX, FRAG_PREFIX, HEADER_LEN, RecordKind, decode_header, encode_header,
    record_size,
};
use crate::wait::{self, Acquired, Spin};
use multiproc_sys::sync::asymmetric;
use multiproc_sys::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The largest message a ring accepts (streamed messages are assembled in memory).
pub(crate) const MAX_MESSAGE: u64 = 1 << 32;
/// Most bytes a consumer reserves up front for a streamed message (it grows as pieces arrive).
const MAX_PREALLOC: u64 = 16 << 20;

/// Process-local state padded to its own cache line.
#[repr(align(128))]
#[derive(Debug)]
struct Padded<T>(T);

/// A ring: the memory plus process-local caches.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) mem: Mem,
    pub(crate) cap: u64,
    cap_units: u64,
    /// `cap_units - 1` (the capacity is a power of two).
    unit_mask: u64,
    pub(crate) max_items: u64,
    /// Largest payload sent as one WHOLE record.
    pub(crate) max_whole: u64,
    /// Payload size of a streamed piece (prefix included).
    frag_payload: u64,
    /// A recent value of the head word (a lower bound: the head only moves forward).
    cached_head: Padded<AtomicU64>,
    /// A recent value of the tail word (a lower bound).
    cached_tail: Padded<AtomicU64>,
    prod_spin: Spin,
    cons_spin: Spin,
}

/// A side of the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The producers.
    Prod,
    /// The consumers.
    Cons,
}

/// How the calling thread holds a side for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// Through the side's bias: there is no unlock, so the operation wakes the other side's
    /// sleepers itself (it is "loud").
    Biased,
    /// Through the side's lock: the unlock wakes the other side's sleepers (see `wait::PEER`).
    Locked,
    /// The side is claimed for good by a `Sender`/`Receiver`: nothing to take or give back,
    /// and, as with a bias, the operation wakes the other side itself.
    Claimed,
}

impl Held {
    /// Right after taking the lock (cleanly or from a dead holder, whose state is repaired by
    /// now): bias the side to this thread if it may be.
    fn after_lock(line: &LockLine, token: u32) -> Self {
        if bias::try_bias(line, token) {
            Self::Biased
        } else {
            Self::Locked
        }
    }

    /// Whether the operation must notify the other side itself.
    #[inline]
    pub(crate) fn loud(self) -> bool {
        self != Self::Locked
    }
}

/// Where a reserved record goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reservation {
    /// A PAD record to write first: (offset, size in bytes).
    pad: Option<(u64, u64)>,
    /// Offset of the record header.
    off: u64,
    /// The tail position (units) after the record.
    end_pos: u64,
}

impl Core {
    /// Initialises a fresh (zeroed) ring in `mem`.
    pub(crate) fn create(mem: Mem, capacity: u64, max_items: u64) -> Result<Self, Error> {
        check_capacity(capacity)?;
        if mem.data_len() < capacity {
            return Err(Error::InvalidCapacity(capacity));
        }
        mem.hdr().init(capacity, max_items);
        Self::attach(mem)
    }

    /// Attaches to an initialised ring, validating its header.
    pub(crate) fn attach(mem: Mem) -> Result<Self, Error> {
        let (cap, max_items) = mem.hdr().validate(mem.data_len())?;
        let hdr = mem.hdr();
        let head = hdr.cons.head.load(Ordering::Acquire);
        let tail = hdr.prod.tail.load(Ordering::Acquire);
        Ok(Self {
            cap,
            cap_units: cap / 8,
            unit_mask: cap / 8 - 1,
            max_items,
            max_whole: cap / 2 - HEADER_LEN as u64,
            frag_payload: cap / 4 - HEADER_LEN as u64,
            cached_head: Padded(AtomicU64::new(head)),
            cached_tail: Padded(AtomicU64::new(tail)),
            prod_spin: Spin::new(),
            cons_spin: Spin::new(),
            mem,
        })
    }

    #[inline]
    pub(crate) fn hdr(&self) -> &RingHeader {
        self.mem.hdr()
    }

    // ---------------------------------------------------------------- locks

    #[inline(always)]
    fn line(&self, side: Side) -> &LockLine {
        match side {
            Side::Prod => &self.hdr().prod_lock,
            Side::Cons => &self.hdr().cons_lock,
        }
    }

    /// Takes `side` for one operation: through the bias if this thread holds it, else through
    /// the lock (biasing the side to this thread when it may). `None` on timeout.
    #[inline(always)]
    pub(crate) fn acquire(&self, side: Side, deadline: Option<Instant>) -> Option<Held> {
        if bias::enter(self.line(side), asymmetric::thread_token()) {
            return Some(Held::Biased);
        }
        self.acquire_locked(side, deadline)
    }

    /// [`acquire`](Self::acquire) through the lock.
    #[inline(never)]
    fn acquire_locked(&self, side: Side, deadline: Option<Instant>) -> Option<Held> {
        let line = self.line(side);
        let token = asymmetric::thread_token();
        if wait::lock(line, deadline)? == Acquired::Recovered {
            self.repair(side);
        }
        Some(Held::after_lock(line, token))
    }

    /// Ends an operation begun with [`acquire`](Self::acquire).
    #[inline(always)]
    pub(crate) fn release(&self, side: Side, held: Held) {
        match held {
            Held::Biased => bias::exit(self.line(side)),
            Held::Locked => self.unlock(side),
            Held::Claimed => {}
        }
    }

    /// Takes `side` for good if it is free, its holder dead, or its bias can be ended now.
    pub(crate) fn try_lock(&self, side: Side) -> Option<()> {
        if wait::try_lock(self.line(side))? == Acquired::Recovered {
            self.repair(side);
        }
        Some(())
    }

    /// After taking a side's lock from a dead holder. Producers: end the stream it left open
    /// (its uncommitted bytes past the tail are simply overwritten). Consumers: nothing, the
    /// head word is their only commit point.
    fn repair(&self, side: Side) {
        let h = self.hdr();
        h.misc.recoveries.fetch_add(1, Ordering::Relaxed);
        if side == Side::Prod && h.prod.stream.load(Ordering::Relaxed) != 0 {
            h.prod.stream.store(0, Ordering::Release);
            wait::notify(&h.data_wait);
        }
    }

    /// Unlocks `side`, waking the other side's sleepers if one asked (`wait::PEER`).
    pub(crate) fn unlock(&self, side: Side) {
        let h = self.hdr();
        if wait::unlock(&self.line(side).word) {
            wait::wake_line(match side {
                Side::Prod => &h.data_wait,
                Side::Cons => &h.space_wait,
            });
        }
    }

    /// Locks taken over from dead holders so far.
    pub(crate) fn recoveries(&self) -> u32 {
        self.hdr().misc.recoveries.load(Ordering::Relaxed)
    }

    // ---------------------------------------------------------------- state

    pub(crate) fn is_closed(&self) -> bool {
        self.hdr().meta.closed.load(Ordering::Acquire) != 0
    }

    pub(crate) fn close(&self) {
        let h = self.hdr();
        h.meta.closed.store(1, Ordering::Release);
        wait::notify_all(&h.data_wait);
        wait::notify_all(&h.space_wait);
    }

    /// Messages committed and not yet taken.
    pub(crate) fn len(&self) -> u64 {
        let h = self.hdr();
        let head = h.cons.head.load(Ordering::Acquire);
        let tail = h.prod.tail.load(Ordering::Acquire);
        count_diff(unpack(tail).1, unpack(head).1)
    }

    /// Bytes committed and not yet released (a snapshot, at most the capacity).
    pub(crate) fn used_bytes(&self) -> u64 {
        let h = self.hdr();
        let head = h.cons.head.load(Ordering::Acquire);
        let tail = h.prod.tail.load(Ordering::Acquire);
        (pos_diff(unpack(tail).0, unpack(head).0) * 8).min(self.cap)
    }

    fn load_head(&self) -> u64 {
        let w = self.hdr().cons.head.load(Ordering::Acquire);
        self.cached_head.0.store(w, Ordering::Release);
        w
    }

    fn load_tail(&self) -> u64 {
        let w = self.hdr().prod.tail.load(Ordering::Acquire);
        self.cached_tail.0.store(w, Ordering::Release);
        w
    }

    /// Whether a consumer would find something (a hint; read without the lock).
    pub(crate) fn has_data_hint(&self) -> bool {
        let h = self.hdr();
        unpack(h.prod.tail.load(Ordering::Acquire)).0
            != unpack(h.cons.head.load(Ordering::Acquire)).0
    }

    // ---------------------------------------------------------------- producer side

    /// Tries to reserve `size` bytes (a record) after the tail. Producer lock held.
    /// `Ok(Err(head))` means no room yet, `head` being the head word it was judged against.
    #[inline(always)]
    fn reserve(&self, size: u64, count_msg: bool) -> Result<Result<Reservation, u64>, Error> {
        let tail = self.hdr().prod.tail.load(Ordering::Relaxed);
        let (tpos, tcount) = unpack(tail);
        let off = (tpos & self.unit_mask) * 8;
        let to_end = self.cap - off;
        let (pad, rec_off, need) = if size <= to_end {
            (None, off, size)
        } else {
            (Some((off, to_end)), 0, to_end + size)
        };
        // `fresh`: `head` was just loaded. A cached head may be so old that the tail has gone
        // round the ring since (then it just does not fit); a fresh one never is.
        let fits = |head: u64, fresh: bool| -> Result<bool, Error> {
            let (hpos, hcount) = unpack(head);
            let used = pos_diff(tpos, hpos);
            if used > self.cap_units {
                if fresh {
                    return Err(Error::Corrupt(
                        "tail and head further apart than the capacity",
                    ));
                }
                return Ok(false);
            }
            let room = used * 8 + need <= self.cap;
            let items =
                !count_msg || self.max_items == 0 || count_diff(tcount, hcount) < self.max_items;
            Ok(room && items)
        };
        if !fits(self.cached_head.0.load(Ordering::Acquire), false)? {
            let head = self.load_head();
            if !fits(head, true)? {
                return Ok(Err(head));
            }
        }
        Ok(Ok(Reservation {
            pad,
            off: rec_off,
            end_pos: (tpos + need / 8) & layout::POS_MASK,
        }))
    }

    /// Publishes a reserved record: writes the pad and record headers, then the tail word.
    /// `loud`: also wake sleeping consumers now (else the caller's unlock does it).
    #[inline(always)]
    fn publish(&self, res: Reservation, kind: RecordKind, len: u64, loud: bool) {
        let h = self.hdr();
        if let Some((off, size)) = res.pad {
            let hdr = encode_header(RecordKind::Pad, u32_len(size - HEADER_LEN as u64));
            // SAFETY: the pad range [off, cap) is reserved by this producer (lock held, inside
            // the free space checked by `reserve`).
            unsafe { self.mem.write(off, &hdr) };
        }
        let hdr = encode_header(kind, u32_len(len));
        // SAFETY: the record range is reserved by this producer, as above.
        unsafe { self.mem.write(res.off, &hdr) };
        let (_, tcount) = unpack(h.prod.tail.load(Ordering::Relaxed));
        let count = tcount + u64::from(kind.ends_message());
        h.prod
            .tail
            .store(pack(res.end_pos, count), Ordering::Release);
        if loud {
            wait::notify(&h.data_wait);
        }
    }

    /// Waits until the head word moves away from `seen_head` (room may have appeared), the ring
    /// is closed, or the deadline passes. Returns false on timeout.
    pub(crate) fn wait_space(
        &self,
        seen_head: u64,
        deadline: Option<Instant>,
    ) -> Result<bool, Error> {
        let h = self.hdr();
        let start_head = seen_head;
        #[cfg(not(multiproc_loom))]
        if self.wait_batch(seen_head, deadline) {
            return Ok(true);
        }
        wait::wait_until(
            &h.space_wait,
            Some(&h.cons_lock.word),
            deadline,
            &self.prod_spin,
            |_| Ok(h.cons.head.load(Ordering::Acquire) != start_head || self.is_closed()),
        )
    }

    /// The first stage of [`wait_space`](Self::wait_space) while consumers are making progress:
    /// wait for a batch of room (1/16 of the ring, at most 8 KiB), not for one record.
    ///
    /// A producer faster than its consumers finds the ring full on every send. Resuming as soon
    /// as one record is freed keeps both sides in lockstep on the head word: each release by a
    /// consumer then waits for the cache line the producer keeps reading, and a producer that
    /// writes a batch, then reads the head once, runs at several times the rate. Returns true
    /// once the head moved that far, or the ring is empty (nothing more will be freed), or the
    /// ring is closed; false if the head stands still for about 5 µs (consumers not working:
    /// wait for the exact room as usual) or after 50 µs or at the deadline with no batch freed.
    #[cfg(not(multiproc_loom))]
    fn wait_batch(&self, seen_head: u64, deadline: Option<Instant>) -> bool {
        const STALL: std::time::Duration = std::time::Duration::from_micros(5);
        const MOST: std::time::Duration = std::time::Duration::from_micros(50);
        let h = self.hdr();
        let want = (self.cap / 16).min(8 << 10) / 8;
        let start = Instant::now();
        let mut last = seen_head;
        let mut last_move = start;
        loop {
            // Look at the head word rarely: every read pulls its line away from the consumer
            // that is storing to it.
            for _ in 0..32 {
                multiproc_sys::sync::spin_loop();
            }
            let head = h.cons.head.load(Ordering::Acquire);
            let (hpos, _) = unpack(head);
            if pos_diff(hpos, unpack(seen_head).0) >= want
                || hpos == unpack(h.prod.tail.load(Ordering::Acquire)).0
                || self.is_closed()
            {
                return true;
            }
            let now = Instant::now();
            if head != last {
                last = head;
                last_move = now;
            }
            if now - last_move >= STALL || now - start >= MOST || deadline.is_some_and(|d| now >= d)
            {
                return head != seen_head;
            }
        }
    }

    /// Waits, without any lock, until there might be a record, the ring is closed, or the
    /// deadline passes. Returns false on timeout.
    pub(crate) fn wait_data(&self, deadline: Option<Instant>) -> Result<bool, Error> {
        let h = self.hdr();
        wait::wait_until(
            &h.data_wait,
            Some(&h.prod_lock.word),
            deadline,
            &self.cons_spin,
            |_| Ok(self.has_data_hint() || self.is_closed()),
        )
    }

    // ---------------------------------------------------------------- consumer side

    /// Reads and validates the record header at the current head. Consumer lock held.
    #[inline(always)]
    fn peek(&self) -> Result<Option<(u64, record::RecordHeader, u64)>, Error> {
        let head = self.hdr().cons.head.load(Ordering::Relaxed);
        let (hpos, _) = unpack(head);
        let mut tail = self.cached_tail.0.load(Ordering::Acquire);
        if unpack(tail).0 == hpos || pos_diff(unpack(tail).0, hpos) > self.cap_units {
            tail = self.load_tail();
        }
        let avail_units = pos_diff(unpack(tail).0, hpos);
        if avail_units == 0 {
            return Ok(None);
        }
        if avail_units > self.cap_units {
            return Err(Error::Corrupt(
                "tail and head further apart than the capacity",
            ));
        }
        let off = (hpos & self.unit_mask) * 8;
        let mut hb = [0u8; HEADER_LEN];
        // SAFETY: `off + 8 <= cap` (off is 8-aligned and below cap) and the bytes are committed
        // (avail_units >= 1) and ours until we move the head.
        unsafe { self.mem.read(off, &mut hb) };
        let rh = decode_header(hb, off, self.cap, avail_units * 8)?;
        Ok(Some((head, rh, off)))
    }

    /// Moves the head past a record of `size` bytes. Consumer lock held.
    #[inline(always)]
    fn free_record(&self, head: u64, size: u64, ends_message: bool) {
        self.free_record_quiet(head, size, ends_message);
        wait::notify(&self.hdr().space_wait);
    }

    /// Like [`free_record`](Self::free_record) without waking producers (the caller's unlock does).
    #[inline(always)]
    fn free_record_quiet(&self, head: u64, size: u64, ends_message: bool) {
        let (hpos, hcount) = unpack(head);
        let w = pack(hpos + size / 8, hcount + u64::from(ends_message));
        self.hdr().cons.head.store(w, Ordering::Release);
    }

    /// Takes one message if one is there, calling `f` on its bytes. Consumer lock held.
    ///
    /// Returns `Ok(None)` when the ring is empty. A streamed message is assembled (waiting for
    /// its pieces, with the lock held) before `f` runs.
    ///
    /// `loud`: wake sleeping producers at once when a WHOLE record is released (else the
    /// caller's unlock does it).
    #[inline(always)]
    pub(crate) fn take<R>(
        &self,
        f: &mut Option<impl FnOnce(&[u8]) -> R>,
        loud: bool,
    ) -> Result<Option<R>, Error> {
        // The common case, kept apart from the stream bookkeeping below: a WHOLE record.
        match self.peek()? {
            None => Ok(None),
            Some((head, rh, off)) if rh.kind == RecordKind::Whole => {
                self.take_whole(f, head, &rh, off, loud).map(Some)
            }
            Some(_) => self.take_slow(f, loud),
        }
    }

    /// Runs `f` on the WHOLE record `rh` found at `off` by [`peek`](Self::peek), then moves
    /// the head past it (also if `f` panics).
    #[inline(always)]
    fn take_whole<R>(
        &self,
        f: &mut Option<impl FnOnce(&[u8]) -> R>,
        head: u64,
        rh: &record::RecordHeader,
        off: u64,
        loud: bool,
    ) -> Result<R, Error> {
        let f = f
            .take()
            .ok_or(Error::Corrupt("consumer callback used twice"))?;
        let guard = Release {
            core: self,
            head,
            size: rh.size(),
            loud,
        };
        // SAFETY: the payload is committed (inside the checked record) and stays untouched
        // until `guard` moves the head after `f` returns.
        let r = unsafe {
            self.mem
                .with_bytes(off + HEADER_LEN as u64, u64::from(rh.len), f)
        };
        drop(guard);
        Ok(r)
    }

    /// [`take`](Self::take) when the head record is a PAD or a piece of a streamed message.
    #[inline(never)]
    fn take_slow<R>(
        &self,
        f: &mut Option<impl FnOnce(&[u8]) -> R>,
        loud: bool,
    ) -> Result<Option<R>, Error> {
        let mut partial: Option<Partial> = None;
        loop {
            let Some((head, rh, off)) = self.peek()? else {
                match partial {
                    None => return Ok(None),
                    Some(ref p) => {
                        if !self.wait_stream(p.id)? {
                            partial = None;
                        }
                        continue;
                    }
                }
            };
            let payload_off = off + HEADER_LEN as u64;
            let len = u64::from(rh.len);
            match rh.kind {
                RecordKind::Pad => self.free_record(head, rh.size(), false),
                RecordKind::Whole => {
                    // A stream cut off by its producer (death or timeout) is dropped.
                    return self.take_whole(f, head, &rh, off, loud).map(Some);
                }
                RecordKind::First => {
                    let mut prefix = [0u8; FIRST_PREFIX];
                    // SAFETY: committed record bytes, len >= FIRST_PREFIX (decoder checked).
                    unsafe { self.mem.read(payload_off, &mut prefix) };
                    let (id, total) = record::decode_first_prefix(&prefix)?;
                    let piece = len - FIRST_PREFIX as u64;
                    if total > MAX_MESSAGE || piece > total {
                        self.free_record(head, rh.size(), false);
                        return Err(Error::Corrupt("streamed message length out of range"));
                    }
                    let mut buf = Vec::with_capacity(us(total.min(MAX_PREALLOC)));
                    self.append(&mut buf, payload_off + FIRST_PREFIX as u64, piece);
                    partial = Some(Partial { id, total, buf });
                    self.free_record(head, rh.size(), false);
                }
                RecordKind::Middle | RecordKind::Last => {
                    let mut prefix = [0u8; FRAG_PREFIX];
                    // SAFETY: committed record bytes, len >= FRAG_PREFIX (decoder checked).
                    unsafe { self.mem.read(payload_off, &mut prefix) };
                    let id = record::read_u64(&prefix, 0)?;
                    let piece = len - FRAG_PREFIX as u64;
                    let last = rh.kind == RecordKind::Last;
                    match partial.as_mut() {
                        Some(p) if p.id == id && p.buf.len() as u64 + piece <= p.total => {
                            self.append(&mut p.buf, payload_off + FRAG_PREFIX as u64, piece);
                            self.free_record(head, rh.size(), last);
                            if last {
                                let p = partial.take().ok_or(Error::Corrupt("stream state"))?;
                                if p.buf.len() as u64 != p.total {
                                    return Err(Error::Corrupt("streamed message too short"));
                                }
                                let f = f.take().ok_or(Error::Corrupt("callback used twice"))?;
                                return Ok(Some(f(&p.buf)));
                            }
                        }
                        _ => {
                            // An orphan piece: its beginning went to a consumer that died, or
                            // it is garbage. Skip it; a skipped message counts as a done task.
                            partial = None;
                            self.free_record(head, rh.size(), last);
                            if last {
                                self.task_done_unchecked();
                            }
                        }
                    }
                }
            }
        }
    }

    fn append(&self, buf: &mut Vec<u8>, off: u64, len: u64) {
        let start = buf.len();
        buf.resize(start + us(len), 0);
        // SAFETY: committed bytes of the record being consumed, inside the data area.
        unsafe { self.mem.read(off, &mut buf[start..]) };
    }

    /// Mid-stream with nothing to read: waits for the next piece. Returns false when the stream
    /// was abandoned (its producer timed out or died), true to look again.
    fn wait_stream(&self, id: u64) -> Result<bool, Error> {
        let h = self.hdr();
        let abandoned = || {
            h.prod.stream.load(Ordering::Acquire) != id || {
                let owner = h.prod_lock.word.load(Ordering::Relaxed) & wait::PID_MASK;
                owner == 0 || !wait::alive(owner)
            }
        };
        wait::wait_until(&h.data_wait, None, None, &self.cons_spin, |slice_over| {
            Ok::<bool, Error>(
                self.has_data_hint()
                    || (slice_over && abandoned())
                    || h.prod.stream.load(Ordering::Acquire) != id,
            )
        })?;
        if self.has_data_hint() {
            return Ok(true);
        }
        // The producer ends a stream by publishing LAST *then* clearing `stream`; re-check the
        // tail after seeing the change so a LAST that just landed is not mistaken for an abort.
        if abandoned() {
            return Ok(self.has_data_hint());
        }
        Ok(true)
    }

    // ---------------------------------------------------------------- joinable counter

    /// Messages sent and not yet marked done.
    pub(crate) fn unfinished(&self) -> u64 {
        let h = self.hdr();
        let done = u64::from(h.misc.done.load(Ordering::Acquire));
        count_diff(unpack(h.prod.tail.load(Ordering::Acquire)).1, done)
    }

    pub(crate) fn task_done(&self) -> Result<(), Error> {
        let h = self.hdr();
        let mut done = h.misc.done.load(Ordering::Relaxed);
        loop {
            let sent = unpack(h.prod.tail.load(Ordering::Acquire)).1;
            if count_diff(sent, u64::from(done)) == 0 {
                return Err(Error::TooManyTaskDone);
            }
            let next = u32_count(u64::from(done) + 1);
            match h
                .misc
                .done
                .compare_exchange(done, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(d) => done = d,
            }
        }
        self.wake_joiners();
        Ok(())
    }

    fn task_done_unchecked(&self) {
        let h = self.hdr();
        let _ = h
            .misc
            .done
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |d| {
                Some(u32_count(u64::from(d) + 1))
            });
        self.wake_joiners();
    }

    fn wake_joiners(&self) {
        let h = self.hdr();
        multiproc_sys::sync::atomic::fence(Ordering::SeqCst);
        if h.misc.join_waiters.load(Ordering::Relaxed) != 0
            && h.misc.join_waiters.swap(0, Ordering::Relaxed) != 0
        {
            multiproc_sys::sync::futex_wake(&h.misc.done, u32::MAX);
        }
    }

    /// Waits until every message sent has been marked done. Returns false on timeout.
    pub(crate) fn join(&self, deadline: Option<Instant>) -> bool {
        let h = self.hdr();
        loop {
            let done = h.misc.done.load(Ordering::Acquire);
            h.misc.join_waiters.store(1, Ordering::Relaxed);
            multiproc_sys::sync::atomic::fence(Ordering::SeqCst);
            let sent = unpack(h.prod.tail.load(Ordering::Acquire)).1;
            if count_diff(sent, u64::from(done)) == 0 {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            let _ = multiproc_sys::sync::futex_wait(&h.misc.done, done, wait::slice_end(deadline));
        }
    }

    // ---------------------------------------------------------------- writer

    /// Starts a message of `total` bytes. Producer lock held. Returns `Ok(None)` when there is
    /// no room yet (the caller waits and retries).
    pub(crate) fn begin(&self, total: u64) -> Result<Result<WriteState, u64>, Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        if total > MAX_MESSAGE {
            return Err(Error::TooLarge {
                len: total,
                max: MAX_MESSAGE,
            });
        }
        if total <= self.max_whole {
            return Ok(self
                .reserve(record_size(total), true)?
                .map(|res| WriteState::Whole { res }));
        }
        // A streamed message: only the item limit is checked up front; room is waited for
        // piece by piece.
        if self.max_items != 0 {
            let (_, tcount) = unpack(self.hdr().prod.tail.load(Ordering::Relaxed));
            let head = self.load_head();
            if count_diff(tcount, unpack(head).1) >= self.max_items {
                return Ok(Err(head));
            }
        }
        let h = self.hdr();
        let mut id = h.prod.stream_seq.load(Ordering::Relaxed).wrapping_add(1);
        if id == 0 {
            id = 1;
        }
        h.prod.stream_seq.store(id, Ordering::Relaxed);
        h.prod.stream.store(id, Ordering::Release);
        Ok(Ok(WriteState::Stream {
            id,
            first: true,
            frag: None,
        }))
    }

    /// Sends `msg` as one WHOLE record if there is room now: the fast path of `send` for
    /// messages up to [`max_whole`](Self::max_whole). Producer lock held. `Ok(Err(head))` means
    /// no room yet.
    #[inline(always)]
    pub(crate) fn send_whole(&self, msg: &[u8], loud: bool) -> Result<Result<(), u64>, Error> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let len = msg.len() as u64;
        debug_assert!(len <= self.max_whole);
        let res = match self.reserve(record_size(len), true)? {
            Ok(res) => res,
            Err(head) => return Ok(Err(head)),
        };
        // SAFETY: inside the record just reserved (its size covers header and payload).
        unsafe { self.mem.write(res.off + HEADER_LEN as u64, msg) };
        self.publish(res, RecordKind::Whole, len, loud);
        Ok(Ok(()))
    }

    /// Writes `data` at position `written` of the message. Producer lock held.
    pub(crate) fn write(
        &self,
        st: &mut WriteState,
        total: u64,
        written: &mut u64,
        mut data: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        if *written + data.len() as u64 > total {
            return Err(Error::TooLarge {
                len: *written + data.len() as u64,
                max: total,
            });
        }
        match st {
            WriteState::Whole { res } => {
                // SAFETY: inside the reserved record (length checked against `total` above).
                unsafe { self.mem.write(res.off + HEADER_LEN as u64 + *written, data) };
                *written += data.len() as u64;
                Ok(())
            }
            WriteState::Stream { id, first, frag } => {
                while !data.is_empty() {
                    if frag.is_none() {
                        *frag = Some(self.open_piece(*id, *first, total, *written, deadline)?);
                    }
                    let Some(p) = frag.as_mut() else { continue };
                    let n = (p.cap - p.filled).min(data.len() as u64);
                    // SAFETY: inside the reserved piece (n <= room left in it).
                    unsafe {
                        self.mem
                            .write(p.res.off + HEADER_LEN as u64 + p.filled, &data[..us(n)])
                    };
                    p.filled += n;
                    *written += n;
                    data = &data[us(n)..];
                    if p.filled == p.cap {
                        let kind = if *first {
                            RecordKind::First
                        } else if *written == total {
                            RecordKind::Last
                        } else {
                            RecordKind::Middle
                        };
                        self.publish(p.res, kind, p.cap, true);
                        *first = false;
                        *frag = None;
                    }
                }
                Ok(())
            }
        }
    }

    fn open_piece(
        &self,
        id: u64,
        first: bool,
        total: u64,
        written: u64,
        deadline: Option<Instant>,
    ) -> Result<Piece, Error> {
        let prefix = if first { FIRST_PREFIX } else { FRAG_PREFIX } as u64;
        let cap = (prefix + total - written).min(self.frag_payload);
        let size = record_size(cap);
        let res = loop {
            match self.reserve(size, false)? {
                Ok(res) => break res,
                Err(head) => {
                    if !self.wait_space(head, deadline)? {
                        return Err(Error::Timeout);
                    }
                }
            }
        };
        let mut pre = [0u8; FIRST_PREFIX];
        pre[0..8].copy_from_slice(&id.to_le_bytes());
        pre[8..16].copy_from_slice(&total.to_le_bytes());
        // SAFETY: inside the reserved piece (cap >= prefix since total > written).
        unsafe {
            self.mem
                .write(res.off + HEADER_LEN as u64, &pre[..us(prefix)])
        };
        Ok(Piece {
            res,
            cap,
            filled: prefix,
        })
    }

    /// Commits a fully written message. Producer lock held.
    pub(crate) fn commit(&self, st: &WriteState, total: u64, written: u64) -> Result<(), Error> {
        if written != total {
            return Err(Error::TooLarge {
                len: written,
                max: total,
            });
        }
        match st {
            WriteState::Whole { res } => self.publish(*res, RecordKind::Whole, total, true),
            WriteState::Stream { .. } => {
                // The LAST piece was published by `write`; now the stream is over.
                self.hdr().prod.stream.store(0, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Abandons an uncommitted message. Producer lock held.
    pub(crate) fn abort(&self, st: &WriteState) {
        if let WriteState::Stream { .. } = st {
            let h = self.hdr();
            h.prod.stream.store(0, Ordering::Release);
            wait::notify(&h.data_wait);
        }
    }
}

/// A streamed message being assembled.
struct Partial {
    id: u64,
    total: u64,
    buf: Vec<u8>,
}

/// Moves the head past a WHOLE record when dropped (also when the callback panics).
struct Release<'a> {
    core: &'a Core,
    head: u64,
    size: u64,
    loud: bool,
}

impl Drop for Release<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.loud {
            self.core.free_record(self.head, self.size, true);
        } else {
            self.core.free_record_quiet(self.head, self.size, true);
        }
    }
}

/// A streamed piece being filled.
#[derive(Debug)]
pub(crate) struct Piece {
    res: Reservation,
    /// Payload bytes the piece holds (prefix included).
    cap: u64,
    /// Payload bytes written so far (prefix included).
    filled: u64,
}

/// The state of a message being written.
#[derive(Debug)]
pub(crate) enum WriteState {
    /// One WHOLE record, reserved up front.
    Whole { res: Reservation },
    /// Streamed pieces.
    Stream {
        id: u64,
        first: bool,
        frag: Option<Piece>,
    },
}

fn u32_len(len: u64) -> u32 {
    // Record payloads are below half the capacity (at most 512 MiB).
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn u32_count(c: u64) -> u32 {
    // Masked to 28 bits.
    u32::try_from(c & layout::COUNT_MASK).unwrap_or(0)
}
