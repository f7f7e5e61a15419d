//! The parent side of a pool: the job queue, one handler thread per worker slot, and the
//! supervision of each worker process.
//!
//! Each slot thread takes a chunk from the queue, makes sure its worker runs the chunk's
//! function (starting, or restarting, the worker when needed), sends the chunk and waits on
//! three descriptors at once: the worker's connection (the acknowledgement, then the reply),
//! the worker's sentinel (its death) and the pool's wake-up socket (terminate). Nothing waits
//! without also watching the sentinel, so a dying worker cannot hang the pool.
//!
//! A worker acknowledges a chunk before running any of it, which splits a worker's death in
//! two cases:
//!
//! - before the acknowledgement, the chunk never started (the worker was already dying when
//!   the slot picked it, or died in its initializer): the slot starts a fresh worker and sends
//!   the chunk again, at most [`MAX_REDISPATCH`] times, then fails it with `WorkerLost`;
//! - after it, the chunk may have run in part: it fails with `WorkerLost` and is never sent
//!   again (a chunk that started runs at most once). Only that chunk fails; the next one
//!   starts a replacement.

use std::any::TypeId;
use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use multiproc_pipe::{Connection, Waitable};
use multiproc_process::{Process, StartMethod};

use crate::error::Error;
use crate::result::CallbackJob;
use crate::task::{Initializer, Task};
use crate::worker::{self, Failure, Reply, Request, WorkerArgs};

/// Serialises worker starts process-wide, so that a worker forked from one slot thread never
/// inherits the child end of another slot's brand-new connection.
static START: Mutex<()> = Mutex::new(());

/// How long a worker asked to stop may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How many times a chunk whose worker died before acknowledging it is sent to a fresh worker
/// before it fails with `WorkerLost` (bounded, so that a worker dying in its initializer every
/// time does not loop forever).
const MAX_REDISPATCH: u32 = 3;

/// Pool-wide settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) processes: usize,
    pub(crate) method: StartMethod,
    pub(crate) maxtasks: Option<u64>,
    pub(crate) task_timeout: Option<Duration>,
}

/// Which function a worker runs: the type of the task (and, for a task with state, the
/// submission it came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KindKey {
    ty: TypeId,
    instance: u64,
}

/// Starts workers for one task function.
pub(crate) trait Kind: Send + Sync {
    fn key(&self) -> KindKey;
    fn start(&self, conn: Connection, cfg: &Config, name: String) -> Result<Process, Error>;
}

struct KindImpl<In: Initializer, T: Task> {
    key: KindKey,
    init: In,
    args: In::Args,
    task: T,
}

/// The worker kind for `task` in a pool with initializer `init`.
pub(crate) fn kind<In: Initializer, T: Task>(init: &In, args: &In::Args, task: T) -> Arc<dyn Kind> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let instance = if size_of::<T>() == 0 {
        0
    } else {
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
    Arc::new(KindImpl {
        key: KindKey {
            ty: TypeId::of::<(In, T)>(),
            instance,
        },
        init: init.clone(),
        args: args.clone(),
        task,
    })
}

impl<In: Initializer, T: Task> Kind for KindImpl<In, T> {
    fn key(&self) -> KindKey {
        self.key
    }

    fn start(&self, conn: Connection, cfg: &Config, name: String) -> Result<Process, Error> {
        let init = self.init.clone();
        let task = self.task.clone();
        let args = WorkerArgs {
            conn,
            init: self.args.clone(),
            maxtasks: cfg.maxtasks,
        };
        // The closure captures only the initializer and the task function: zero-sized for fn
        // items, so the process stays portable under spawn and forkserver.
        let mut p = Process::new(
            move |a: WorkerArgs<In::Args>| worker::run(init, task, a),
            args,
        );
        p.set_start_method(cfg.method);
        p.set_name(name);
        p.set_daemon(true)?;
        p.start()?;
        Ok(p)
    }
}

/// Where the results of a chunk go.
pub(crate) trait Sink<R>: Send + Sync {
    /// Called when a slot picks the chunk; false skips it (a cancelled future).
    fn begin(&self) -> bool {
        true
    }
    /// The results of the items `start..start + results.len()`.
    fn deliver(&self, start: usize, results: Vec<Result<R, Error>>);
    /// The results of the items `start..start + values.len()`, all successful.
    fn deliver_ok(&self, start: usize, values: Vec<R>) {
        self.deliver(start, values.into_iter().map(Ok).collect());
    }
}

/// Why sending a chunk failed.
pub(crate) enum SendFailure {
    /// The chunk could not be encoded; the worker is fine.
    Value(Error),
    /// The worker is gone.
    Lost,
}

/// What receiving a reply gave.
pub(crate) enum Received {
    /// Results delivered.
    Done,
    /// An error was delivered and the worker's stream cannot be trusted any more.
    Broken,
    /// The worker is gone; the chunk comes back to be failed.
    Lost(Box<dyn Job>),
}

/// A chunk of tasks, type-erased for the slot threads.
pub(crate) trait Job: Send {
    fn kind(&self) -> &Arc<dyn Kind>;
    fn begin(&self) -> bool;
    fn len(&self) -> usize;
    /// Sends the chunk's items; they are kept until [`started`](Self::started), so that a chunk
    /// whose worker dies before acknowledging it can be sent again.
    fn send(&self, conn: &Connection, id: u64, buf: &mut Vec<u8>) -> Result<(), SendFailure>;
    /// The worker acknowledged the chunk: the items are not needed any more.
    fn started(&mut self);
    fn receive(self: Box<Self>, conn: &Connection, id: u64) -> Received;
    fn fail(self: Box<Self>, e: Error);
}

/// A chunk of items for task `T`.
pub(crate) struct ChunkJob<T: Task> {
    pub(crate) kind: Arc<dyn Kind>,
    pub(crate) start: usize,
    pub(crate) items: Vec<T::Arg>,
    pub(crate) len: usize,
    pub(crate) sink: Arc<dyn Sink<T::Out>>,
}

impl<T: Task> ChunkJob<T> {
    pub(crate) fn new(
        kind: Arc<dyn Kind>,
        start: usize,
        items: Vec<T::Arg>,
        sink: Arc<dyn Sink<T::Out>>,
    ) -> Self {
        let len = items.len();
        Self {
            kind,
            start,
            items,
            len,
            sink,
        }
    }
}

fn is_lost(e: &multiproc_pipe::Error) -> bool {
    matches!(
        e,
        multiproc_pipe::Error::Eof
            | multiproc_pipe::Error::TruncatedFrame { .. }
            | multiproc_pipe::Error::Io(_)
            | multiproc_pipe::Error::Broken
    )
}

/// Puts the failures back among the values, by position.
fn merge<R>(len: usize, values: Vec<R>, failed: Vec<(u64, Failure)>) -> Vec<Result<R, Error>> {
    let mut out: Vec<Option<Result<R, Error>>> = (0..len).map(|_| None).collect();
    for (pos, f) in failed {
        let e = match f {
            Failure::Panicked(m) => Error::Panicked(m),
            Failure::Worker(m) => Error::Worker(m),
        };
        if let Some(slot) = usize::try_from(pos).ok().and_then(|p| out.get_mut(p)) {
            *slot = Some(Err(e));
        }
    }
    let mut values = values.into_iter();
    out.into_iter()
        .map(|slot| match slot {
            Some(r) => r,
            None => values
                .next()
                .ok_or_else(|| Error::Worker("reply is missing a result".into())),
        })
        .collect()
}

impl<T: Task> Job for ChunkJob<T> {
    fn kind(&self) -> &Arc<dyn Kind> {
        &self.kind
    }

    fn begin(&self) -> bool {
        self.sink.begin()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn send(&self, conn: &Connection, id: u64, buf: &mut Vec<u8>) -> Result<(), SendFailure> {
        let run = Request::Run {
            id,
            items: &self.items,
        };
        match worker::send_reusing(conn, &run, buf) {
            Ok(()) => Ok(()),
            Err(e) if is_lost(&e) => Err(SendFailure::Lost),
            Err(e) => Err(SendFailure::Value(e.into())),
        }
    }

    fn started(&mut self) {
        self.items = Vec::new();
    }

    fn receive(self: Box<Self>, conn: &Connection, id: u64) -> Received {
        match conn.recv::<Reply<Vec<T::Out>>>() {
            Ok(reply) if reply.id == id && reply.values.len() + reply.failed.len() == self.len => {
                if reply.failed.is_empty() {
                    self.sink.deliver_ok(self.start, reply.values);
                } else {
                    self.sink
                        .deliver(self.start, merge(self.len, reply.values, reply.failed));
                }
                Received::Done
            }
            Ok(reply) if reply.id == 0 => {
                // The worker could not decode the chunk (see `worker::run`).
                let msg = match reply.failed.into_iter().next() {
                    Some((_, Failure::Worker(m) | Failure::Panicked(m))) => m,
                    None => "the worker rejected the chunk".to_owned(),
                };
                self.fail(Error::Worker(msg));
                Received::Done
            }
            Ok(_) => {
                self.fail(Error::Worker("reply does not match the chunk sent".into()));
                Received::Broken
            }
            Err(e) if is_lost(&e) => Received::Lost(self),
            Err(e) => {
                self.fail(e.into());
                Received::Done
            }
        }
    }

    fn fail(self: Box<Self>, e: Error) {
        let results = (0..self.len).map(|_| Err(e.clone())).collect();
        self.sink.deliver(self.start, results);
    }
}

/// The queue and flags shared by the pool and its slot threads.
pub(crate) struct State {
    pub(crate) queue: VecDeque<Box<dyn Job>>,
    pub(crate) closed: bool,
    pub(crate) terminated: bool,
    /// The worker of each slot, for [`Shared::pids`] and for `terminate` to kill.
    pub(crate) workers: Vec<Option<WorkerRef>>,
}

/// What the pool knows of a slot's worker outside the slot thread.
#[derive(Clone)]
pub(crate) struct WorkerRef {
    pid: Option<i32>,
    process: Arc<Mutex<Process>>,
}

/// Everything the slot threads share with the pool handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    work: Condvar,
    pub(crate) cfg: Config,
    wake_tx: Connection,
    wake_rx: Connection,
    pub(crate) results: Mutex<Option<Sender<CallbackJob>>>,
    next_worker: AtomicU64,
}

impl Shared {
    pub(crate) fn new(cfg: Config, results: Sender<CallbackJob>) -> Result<Arc<Self>, Error> {
        let (wake_tx, wake_rx) = multiproc_pipe::pipe(true)?;
        let workers = vec![None; cfg.processes];
        Ok(Arc::new(Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                terminated: false,
                workers,
            }),
            work: Condvar::new(),
            cfg,
            wake_tx,
            wake_rx,
            results: Mutex::new(Some(results)),
            next_worker: AtomicU64::new(1),
        }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A sender to the result thread (for callbacks).
    pub(crate) fn results(&self) -> Option<Sender<CallbackJob>> {
        self.results
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Queues chunks; if the pool is closed they fail with [`Error::Closed`].
    pub(crate) fn submit(&self, jobs: Vec<Box<dyn Job>>) {
        let rejected = {
            let mut st = self.lock();
            if st.closed || st.terminated {
                Some(jobs)
            } else {
                let n = jobs.len();
                st.queue.extend(jobs);
                if n == 1 {
                    self.work.notify_one();
                } else {
                    self.work.notify_all();
                }
                None
            }
        };
        for j in rejected.into_iter().flatten() {
            j.fail(Error::Closed);
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        let st = self.lock();
        !st.closed && !st.terminated
    }

    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    /// Stops taking work, fails every queued chunk and wakes every slot so that it kills its
    /// worker.
    pub(crate) fn terminate(&self) {
        let (queued, workers) = {
            let mut st = self.lock();
            if st.terminated {
                return;
            }
            st.terminated = true;
            st.closed = true;
            (std::mem::take(&mut st.queue), st.workers.clone())
        };
        // Kill the workers from here too: a slot thread may be blocked sending a large chunk to
        // a worker that does not read (stuck in its initializer, stopped...).
        for w in workers.into_iter().flatten() {
            let _ = lock_process(&w.process).kill();
        }
        // Nobody reads the wake-up socket: once written it stays readable for every slot.
        let _ = self.wake_tx.send_bytes(b"t");
        self.work.notify_all();
        for j in queued {
            j.fail(Error::Terminated);
        }
    }

    /// The pids of the running workers.
    pub(crate) fn pids(&self) -> Vec<i32> {
        self.lock()
            .workers
            .iter()
            .flatten()
            .filter_map(|w| w.pid)
            .collect()
    }

    /// Takes the next chunk for a slot whose worker runs `current` (preferring chunks of the
    /// same function); `None` when the slot should exit.
    fn next_job(&self, current: Option<KindKey>) -> Option<Box<dyn Job>> {
        let mut st = self.lock();
        loop {
            if st.terminated {
                return None;
            }
            if !st.queue.is_empty() {
                let pos = current
                    .and_then(|k| st.queue.iter().take(64).position(|j| j.kind().key() == k))
                    .unwrap_or(0);
                return st.queue.remove(pos);
            }
            if st.closed {
                return None;
            }
            st = self.work.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn set_worker(&self, slot: usize, w: Option<&Worker>) {
        if let Some(p) = self.lock().workers.get_mut(slot) {
            *p = w.map(|w| WorkerRef {
                pid: w.pid,
                process: Arc::clone(&w.process),
            });
        }
    }

    fn terminated(&self) -> bool {
        self.lock().terminated
    }
}

fn lock_process(p: &Mutex<Process>) -> MutexGuard<'_, Process> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running worker process and our end of its connection.
struct Worker {
    process: Arc<Mutex<Process>>,
    /// A duplicate of the process's sentinel, to wait on without holding the lock.
    sentinel: OwnedFd,
    pid: Option<i32>,
    conn: Connection,
    key: KindKey,
    done: u64,
}

impl Worker {
    /// Waits at most `timeout` for the worker to end and reaps it; false if it still runs.
    fn reap_within(&self, timeout: Duration) -> bool {
        let ended =
            multiproc_pipe::wait(&[&self.sentinel], Some(timeout)).map_or(true, |r| !r.is_empty());
        if ended {
            let _ = lock_process(&self.process).join();
        }
        ended
    }

    /// Asks the worker to leave its loop and reaps it (killing it if it lingers).
    fn retire(self) {
        let _ = self.conn.send(&Request::<()>::Stop);
        if !self.reap_within(STOP_GRACE) {
            self.kill();
        }
    }

    /// Kills and reaps the worker.
    fn kill(self) {
        let p = lock_process(&self.process);
        let _ = p.kill();
        let _ = p.join();
    }

    /// Reaps a worker that died, returning the error its chunk gets.
    fn lost(self) -> Error {
        let _ = self.reap_within(STOP_GRACE);
        let exitcode = lock_process(&self.process).exitcode();
        let pid = self.pid;
        if exitcode.is_none() {
            self.kill();
        }
        Error::WorkerLost { pid, exitcode }
    }

    fn is_dead(&self) -> bool {
        multiproc_pipe::wait(&[&self.sentinel], Some(Duration::ZERO))
            .map_or(true, |r| !r.is_empty())
    }
}

fn start_worker(shared: &Shared, kind: &Arc<dyn Kind>) -> Result<Worker, Error> {
    let (ours, theirs) = multiproc_pipe::pipe(true)?;
    let n = shared.next_worker.fetch_add(1, Ordering::Relaxed);
    let prefix = match shared.cfg.method {
        StartMethod::Fork => "ForkPoolWorker",
        StartMethod::Spawn => "SpawnPoolWorker",
        StartMethod::Forkserver => "ForkServerPoolWorker",
    };
    let process = {
        let _guard = START.lock().unwrap_or_else(PoisonError::into_inner);
        kind.start(theirs, &shared.cfg, format!("{prefix}-{n}"))?
    };
    let sentinel = match process
        .sentinel()
        .and_then(|s| s.try_clone_to_owned().map_err(multiproc_process::Error::Io))
    {
        Ok(s) => s,
        Err(e) => {
            let _ = process.kill();
            let _ = process.join();
            return Err(e.into());
        }
    };
    Ok(Worker {
        pid: process.pid(),
        process: Arc::new(Mutex::new(process)),
        sentinel,
        conn: ours,
        key: kind.key(),
        done: 0,
    })
}

/// What waiting for a reply gave.
enum Waited {
    Reply,
    Died,
    Terminated,
    TimedOut,
}

fn wait_reply(shared: &Shared, w: &Worker, deadline: Option<Instant>) -> Waited {
    loop {
        let timeout = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Waited::TimedOut;
                }
                Some(d - now)
            }
            None => None,
        };
        let conn: &dyn Waitable = &w.conn;
        let sent: &dyn Waitable = &w.sentinel;
        let wake: &dyn Waitable = &shared.wake_rx;
        let ready = match multiproc_pipe::wait(&[conn, sent, wake], timeout) {
            Ok(r) => r,
            Err(_) => return Waited::Died,
        };
        let has = |x: &dyn Waitable| ready.iter().any(|r| std::ptr::addr_eq(*r, x));
        if has(conn) {
            return Waited::Reply;
        }
        if has(wake) && shared.terminated() {
            return Waited::Terminated;
        }
        if has(sent) {
            // The worker may have written its reply just before dying: look once more.
            if w.conn.poll(Some(Duration::ZERO)).unwrap_or(false) {
                return Waited::Reply;
            }
            return Waited::Died;
        }
    }
}

/// Reads the first message after a chunk was sent: `true` for the worker's acknowledgement,
/// `false` if the worker is gone (end of stream: it died without acknowledging), an error for
/// anything else (the stream cannot be trusted any more).
fn read_ack(conn: &Connection) -> Result<bool, Error> {
    match conn.recv_bytes() {
        Ok(frame) if worker::is_ack(&frame) => Ok(true),
        Ok(_) => Err(Error::Worker(
            "the worker answered a chunk without acknowledging it".into(),
        )),
        Err(e) if is_lost(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Reaps a dead worker; the error its chunk gets (`Terminated` if the pool killed it).
fn lost(shared: &Shared, w: Worker) -> Error {
    let e = w.lost();
    if shared.terminated() {
        Error::Terminated
    } else {
        e
    }
}

/// What became of a chunk handed to a worker, up to its acknowledgement.
enum Dispatch {
    /// The worker acknowledged the chunk (sent under `id`), whose reply must now be waited for.
    Started {
        w: Worker,
        id: u64,
        job: Box<dyn Job>,
    },
    /// The chunk is settled (delivered or failed); the slot keeps `worker` (if any).
    Settled { worker: Option<Worker> },
}

/// Hands `job` to the slot's worker (`worker`, or a fresh one), until a worker acknowledges it:
/// a worker that dies before acknowledging is replaced and the chunk sent again, at most
/// [`MAX_REDISPATCH`] times.
fn dispatch(
    shared: &Shared,
    slot: usize,
    mut worker: Option<Worker>,
    mut job: Box<dyn Job>,
    next_id: &mut u64,
    buf: &mut Vec<u8>,
) -> Dispatch {
    let mut redispatched = 0;
    loop {
        let w = match worker.take() {
            Some(w) => w,
            None => match start_worker(shared, job.kind()) {
                Ok(w) => {
                    // Register first, then look at the flag: `terminate` sets the flag and
                    // reads the registry under one lock, so either it kills this worker or
                    // we see the flag.
                    shared.set_worker(slot, Some(&w));
                    if shared.terminated() {
                        w.kill();
                        shared.set_worker(slot, None);
                        job.fail(Error::Terminated);
                        return Dispatch::Settled { worker: None };
                    }
                    w
                }
                Err(e) => {
                    job.fail(e);
                    return Dispatch::Settled { worker: None };
                }
            },
        };
        *next_id += 1;
        let id = *next_id;
        let waited = match job.send(&w.conn, id, buf) {
            Ok(()) => wait_reply(shared, &w, deadline(shared, job.len())),
            Err(SendFailure::Value(e)) => {
                job.fail(e);
                return Dispatch::Settled { worker: Some(w) };
            }
            Err(SendFailure::Lost) => Waited::Died,
        };
        let waited = match waited {
            Waited::Reply => match read_ack(&w.conn) {
                Ok(true) => {
                    job.started();
                    return Dispatch::Started { w, id, job };
                }
                Ok(false) => Waited::Died,
                Err(e) => {
                    w.kill();
                    shared.set_worker(slot, None);
                    job.fail(e);
                    return Dispatch::Settled { worker: None };
                }
            },
            other => other,
        };
        if let Waited::Died = waited {
            // The worker never took the chunk: nothing of it ran.
            let e = lost(shared, w);
            shared.set_worker(slot, None);
            if redispatched < MAX_REDISPATCH && !shared.terminated() {
                redispatched += 1;
                continue;
            }
            job.fail(e);
            return Dispatch::Settled { worker: None };
        }
        settle_unanswered(shared, slot, w, job, waited);
        return Dispatch::Settled { worker: None };
    }
}

/// The deadline of a chunk of `len` items sent now, under the pool's task timeout.
fn deadline(shared: &Shared, len: usize) -> Option<Instant> {
    shared.cfg.task_timeout.and_then(|t| {
        let n = u32::try_from(len.max(1)).unwrap_or(u32::MAX);
        Instant::now().checked_add(t.saturating_mul(n))
    })
}

/// Fails a chunk whose worker did not answer (`waited` is not [`Waited::Reply`]) and disposes
/// of the worker.
fn settle_unanswered(shared: &Shared, slot: usize, w: Worker, job: Box<dyn Job>, waited: Waited) {
    let e = match waited {
        Waited::Died | Waited::Reply => lost(shared, w),
        Waited::Terminated => {
            w.kill();
            Error::Terminated
        }
        Waited::TimedOut => {
            w.kill();
            Error::TaskTimedOut
        }
    };
    shared.set_worker(slot, None);
    job.fail(e);
}

/// The body of one slot thread.
pub(crate) fn slot_main(shared: Arc<Shared>, slot: usize) {
    let mut worker: Option<Worker> = None;
    let mut next_id = 0u64;
    let mut buf = Vec::new();
    while let Some(job) = shared.next_job(worker.as_ref().map(|w| w.key)) {
        if !job.begin() {
            continue;
        }
        let key = job.kind().key();
        if let Some(w) = worker.take() {
            if w.key != key {
                w.retire();
                shared.set_worker(slot, None);
            } else if w.is_dead() {
                let _ = w.lost();
                shared.set_worker(slot, None);
            } else {
                worker = Some(w);
            }
        }
        let (w, id, job) = match dispatch(&shared, slot, worker.take(), job, &mut next_id, &mut buf)
        {
            Dispatch::Started { w, id, job } => (w, id, job),
            Dispatch::Settled { worker: kept } => {
                worker = kept;
                continue;
            }
        };
        let deadline = deadline(&shared, job.len());
        match wait_reply(&shared, &w, deadline) {
            Waited::Reply => match job.receive(&w.conn, id) {
                Received::Done => {
                    let mut w = w;
                    w.done += 1;
                    if shared.cfg.maxtasks.is_some_and(|m| w.done >= m) {
                        // The worker leaves by itself after this chunk.
                        if !w.reap_within(STOP_GRACE) {
                            w.kill();
                        }
                        shared.set_worker(slot, None);
                    } else {
                        worker = Some(w);
                    }
                }
                Received::Broken => {
                    w.kill();
                    shared.set_worker(slot, None);
                }
                Received::Lost(job) => {
                    job.fail(lost(&shared, w));
                    shared.set_worker(slot, None);
                }
            },
            waited => settle_unanswered(&shared, slot, w, job, waited),
        }
    }
    if let Some(w) = worker {
        if shared.terminated() {
            w.kill();
        } else {
            w.retire();
        }
    }
    shared.set_worker(slot, None);
}

#[cfg(test)]
mod tests {
    use super::{Error, Failure, merge};

    #[test]
    fn merge_puts_failures_back_in_place() {
        let got = merge(
            4,
            vec![10, 30],
            vec![
                (1, Failure::Panicked("boom".into())),
                (3, Failure::Worker("w".into())),
            ],
        );
        assert!(matches!(got[0], Ok(10)));
        assert!(matches!(&got[1], Err(Error::Panicked(m)) if m == "boom"));
        assert!(matches!(got[2], Ok(30)));
        assert!(matches!(&got[3], Err(Error::Worker(m)) if m == "w"));
    }

    #[test]
    fn merge_survives_a_hostile_reply() {
        // Out-of-range positions are ignored; missing values become errors; no panic.
        let got = merge(2, vec![1u8], vec![(u64::MAX, Failure::Worker("x".into()))]);
        assert!(matches!(got[0], Ok(1)));
        assert!(matches!(got[1], Err(Error::Worker(_))));
    }
}
