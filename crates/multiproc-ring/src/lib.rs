//! A bytes-in/bytes-out ring of variable-length messages in one shared-memory segment: the
//! transport under multiproc's `Queue`, and the one a shared-memory `Pipe` path reuses.
//!
//! ```
//! use multiproc_ring::Ring;
//!
//! let ring = Ring::new(1 << 16)?;
//! ring.send(b"hello, world")?;
//! assert_eq!(ring.recv()?, b"hello, world");
//! # Ok::<(), multiproc_ring::Error>(())
//! ```
//!
//! | Python (`multiprocessing`)   | here                                             |
//! |------------------------------|--------------------------------------------------|
//! | `Queue._writer.send_bytes`   | [`Ring::send`], [`Ring::writer`]                 |
//! | `Queue._reader.recv_bytes`   | [`Ring::recv`], [`Ring::recv_with`] (zero-copy)  |
//! | `Queue.qsize()`              | [`Ring::len`] (exact)                            |
//! | `JoinableQueue` counter      | [`Ring::task_done`], [`Ring::join`]              |
//!
//! # Design
//!
//! One segment holds a header page (see `docs/shm-layout.md`: a versioned header, a producer
//! line, a consumer line, two futex lines, a close flag and the joinable counter) and a data
//! area of 8-byte aligned records. The producer commits a record by one release store of the
//! tail word (byte position and message count together); the consumer releases it by one store
//! of the head word. Many producers (consumers) take turns through a per-side lock whose word
//! holds the holder's pid: a waiter that finds the holder dead takes the lock over and repairs
//! what it guarded, so `SIGKILL` at any instruction leaves no torn record, no stuck lock and no
//! lost committed message. [`Ring::sender`]/[`Ring::receiver`] claim a side for one handle and
//! skip the per-message lock (the single-producer/single-consumer mode). Without them a side
//! used by one thread only gets there by itself: the first thread to take an uncontended side
//! keeps its lock (a *bias*), and another thread that wants the side ends the bias once, with
//! `membarrier(2)`, after which the side is locked per message as before.
//!
//! Sleepers spin briefly (an adaptive budget that shrinks when spinning does not pay off), yield
//! their CPU for up to 50 µs, then raise a "may sleep" flag and `futex_wait`; the other side calls `futex_wake` only when it
//! finds that flag (and clears it), so the fast path makes no system call. In the
//! many-producer/many-consumer path the flag is a bit in the other side's lock word, which the
//! unlock's atomic swap reads for free; the exclusive ends and biased sides use a flag word and
//! a fence.
//!
//! Messages longer than half the ring are streamed through it in pieces (FIRST, MIDDLE, LAST),
//! so any message up to 4 GiB passes through any ring; the consumer assembles the pieces. A
//! streamed message is the one case with a weaker guarantee: a consumer killed while receiving
//! one loses that message (as if it had received it).
//!
//! Everything read from the segment is treated as hostile: record headers go through the pure,
//! bounds-checked [`decode_header`], and inconsistencies are [`Error::Corrupt`], never a panic.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![cfg_attr(multiproc_loom, allow(dead_code, unreachable_pub))]
#![deny(unsafe_code)]

mod bias;
mod core;
mod error;
mod layout;
mod mem;
mod receiver;
mod record;
mod ring;
mod sender;
mod wait;
mod writer;

pub use error::Error;
pub use receiver::Receiver;
pub use record::{HEADER_LEN, RecordHeader, RecordKind, decode_header, scan_image};
pub use ring::Ring;
pub use sender::Sender;
pub use writer::Writer;
