//! The worker side: the protocol between a pool and its workers, and the worker loop.
//!
//! A worker reads `Request::Run { id, items }` messages from its connection, acknowledges each
//! one at once with an empty frame (see [`send_ack`]), runs the task on each item (catching
//! panics), and answers `Reply { id, results }`; it leaves its loop on `Request::Stop`, at end
//! of stream, or after `maxtasks` chunks.
//!
//! The acknowledgement is what lets the pool tell a chunk that never started (its worker died
//! before taking it: the pool sends it to a fresh worker) from one that did (it is never run
//! twice; its worker's death fails it with `WorkerLost`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use multiproc_pipe::Connection;
use serde::{Deserialize, Serialize};

use crate::task::{Initializer, Task};

/// What a worker process receives as its argument.
#[derive(Serialize, Deserialize)]
pub(crate) struct WorkerArgs<I> {
    pub(crate) conn: Connection,
    pub(crate) init: I,
    pub(crate) maxtasks: Option<u64>,
}

/// Pool → worker.
#[derive(Serialize, Deserialize)]
pub(crate) enum Request<V> {
    /// Run the task on each item.
    Run { id: u64, items: V },
    /// Leave the loop.
    Stop,
}

/// Why one item produced no result.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Failure {
    /// The task panicked with this message.
    Panicked(String),
    /// Something else went wrong in the worker.
    Worker(String),
}

/// Worker → pool: the results of the items that succeeded, in order, and the failures by
/// position in the chunk.
#[derive(Serialize, Deserialize)]
pub(crate) struct Reply<V> {
    pub(crate) id: u64,
    pub(crate) values: V,
    pub(crate) failed: Vec<(u64, Failure)>,
}

/// Sends `value` as a typed message, encoding it into `buf` (whose allocation is reused from
/// message to message); a value holding OS handles goes through [`Connection::send`].
///
/// The bytes are the envelope [`Connection::recv`] reads: a handle count of zero, then the
/// postcard encoding. Encoding into a plain slice is several times faster than postcard's
/// growing-`Vec` flavour; when the slice is too small it is doubled and the encoding redone.
pub(crate) fn send_reusing<T: Serialize + ?Sized>(
    conn: &Connection,
    value: &T,
    buf: &mut Vec<u8>,
) -> Result<(), multiproc_pipe::Error> {
    /// Above this, the buffer is released after the message (one huge message should not pin
    /// its memory for the life of the worker).
    const KEEP: usize = 16 << 20;
    /// Above this, encode through `Connection::send` (which grows its buffer as needed).
    const MAX_SLICE: usize = 1 << 30;
    if buf.len() < 4096 {
        buf.resize(4096, 0);
    }
    let r = loop {
        let len = buf.len();
        match postcard::to_slice(value, &mut buf[1..]).map(|used| used.len()) {
            Ok(used) => {
                buf[0] = 0;
                break conn.send_bytes(&buf[..=used]);
            }
            Err(postcard::Error::SerializeBufferFull) if len < MAX_SLICE => {
                buf.resize(len * 2, 0);
            }
            // A value holding handles (they refuse plain encoding), a value that does not
            // serialize, or a huge one: the connection's own path sorts it out and reports the
            // right error.
            Err(_) => break conn.send(value),
        }
    };
    if buf.len() > KEEP {
        *buf = Vec::new();
    }
    r
}

/// Acknowledges the chunk just read, before running any of it: an empty frame. Typed messages
/// are never empty (their envelope starts with a handle count), so the pool cannot mistake a
/// reply for it.
pub(crate) fn send_ack(conn: &Connection) -> Result<(), multiproc_pipe::Error> {
    conn.send_bytes(&[])
}

/// Whether `frame` (the first message after a chunk) is the acknowledgement of [`send_ack`].
pub(crate) fn is_ack(frame: &[u8]) -> bool {
    frame.is_empty()
}

thread_local! {
    static IN_TASK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps a task's panic quiet (its message travels back to the pool, as CPython re-raises a
/// task's exception in the parent without printing it in the worker); any other panic is
/// reported as usual.
fn quiet_task_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_TASK.with(std::cell::Cell::get) {
            previous(info);
        }
    }));
}

/// The worker loop (runs in the worker process).
pub(crate) fn run<In: Initializer, T: Task>(init: In, task: T, args: WorkerArgs<In::Args>) {
    let WorkerArgs {
        conn,
        init: init_args,
        maxtasks,
    } = args;
    init.initialize(init_args);
    quiet_task_panics();
    let mut done = 0u64;
    let mut buf = Vec::new();
    loop {
        let (id, items) = match conn.recv::<Request<Vec<T::Arg>>>() {
            Ok(Request::Run { id, items }) => {
                if send_ack(&conn).is_err() {
                    break;
                }
                (id, items)
            }
            Ok(Request::Stop) => break,
            Err(e @ (multiproc_pipe::Error::Decode(_) | multiproc_pipe::Error::Envelope(_))) => {
                // The frame was consumed (so it is acknowledged: sending it again would fail
                // the same way): say why, under the reserved id 0, and go on.
                if send_ack(&conn).is_err() {
                    break;
                }
                let none: Vec<()> = Vec::new();
                let failed = vec![(0, Failure::Worker(format!("cannot decode the tasks: {e}")))];
                let reply = Reply {
                    id: 0,
                    values: &none,
                    failed,
                };
                if send_reusing(&conn, &reply, &mut buf).is_err() {
                    break;
                }
                continue;
            }
            Err(_) => break,
        };
        let n = items.len();
        let mut values: Vec<T::Out> = Vec::with_capacity(n);
        let mut failed: Vec<(u64, Failure)> = Vec::new();
        let mut it = items.into_iter();
        // One unwind guard for the whole chunk; after a panic, resume with the next item.
        loop {
            IN_TASK.with(|t| t.set(true));
            let run = catch_unwind(AssertUnwindSafe(|| {
                for item in it.by_ref() {
                    values.push(task.run(item));
                }
            }));
            IN_TASK.with(|t| t.set(false));
            match run {
                Ok(()) => break,
                Err(p) => {
                    let pos = (values.len() + failed.len()) as u64;
                    failed.push((
                        pos,
                        Failure::Panicked(multiproc_process::panic_message(p.as_ref())),
                    ));
                }
            }
        }
        let reply = Reply {
            id,
            values: &values,
            failed,
        };
        match send_reusing(&conn, &reply, &mut buf) {
            Ok(()) => {}
            Err(multiproc_pipe::Error::Encode(e)) => {
                let msg = format!("cannot encode the result: {e}");
                let failed: Vec<(u64, Failure)> = (0..n as u64)
                    .map(|i| (i, Failure::Worker(msg.clone())))
                    .collect();
                let none: Vec<()> = Vec::new();
                let reply = Reply {
                    id,
                    values: &none,
                    failed,
                };
                if send_reusing(&conn, &reply, &mut buf).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
        done += 1;
        if maxtasks.is_some_and(|m| done >= m) {
            break;
        }
    }
}
