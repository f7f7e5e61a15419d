//! `Pool` and its builder.

use std::fmt;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use multiproc_process::{Context, StartMethod};

use crate::engine::{self, ChunkJob, Config, Kind, Shared, Sink};
use crate::error::{Error, Result};
use crate::imap::IMapIter;
use crate::result::{AsyncResult, CallbackJob, Cell, Completion};
use crate::sink::{ApplySink, IterSink, MapSink};
use crate::task::{Data, InitFn, Initializer, MapTask, NoInit, StarFn, StarTask, Task, TaskFn};

/// Builds a [`Pool`]: Python's `Pool(processes, initializer, initargs, maxtasksperchild,
/// context)` keyword arguments, plus a per-task timeout.
///
/// # Examples
///
/// ```
/// use multiproc_pool::Pool;
/// use multiproc_process::StartMethod;
///
/// fn setup(greeting: String) { assert_eq!(greeting, "hi"); }
/// fn len(s: String) -> usize { s.len() }
///
/// let pool = Pool::builder()
///     .processes(2)
///     .start_method(StartMethod::Fork)
///     .initializer(setup, "hi".to_string())
///     .maxtasksperchild(100)
///     .build()?;
/// assert_eq!(pool.map(len, ["a".to_string(), "bcd".to_string()])?, [1, 3]);
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct PoolBuilder<In: Initializer = NoInit> {
    processes: Option<usize>,
    method: Option<StartMethod>,
    init: In,
    args: In::Args,
    maxtasks: Option<u64>,
    task_timeout: Option<Duration>,
}

impl<In: Initializer> fmt::Debug for PoolBuilder<In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("processes", &self.processes)
            .field("method", &self.method)
            .field("maxtasks", &self.maxtasks)
            .field("task_timeout", &self.task_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for PoolBuilder<NoInit> {
    fn default() -> Self {
        Self::new()
    }
}

impl PoolBuilder<NoInit> {
    /// A builder with Python's defaults: `cpu_count()` processes, the default start method, no
    /// initializer, workers that live forever, no task timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::PoolBuilder::new().processes(1).build()?;
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn new() -> Self {
        Self {
            processes: None,
            method: None,
            init: NoInit,
            args: (),
            maxtasks: None,
            task_timeout: None,
        }
    }
}

impl<In: Initializer> PoolBuilder<In> {
    /// The number of worker processes (Python's `processes`; default `cpu_count()`).
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn processes(mut self, n: usize) -> Self {
        self.processes = Some(n);
        self
    }

    /// The start method of the workers (default: the process-wide default).
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn start_method(mut self, method: StartMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// Shorthand for `start_method(StartMethod::Fork)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().fork().processes(1).build()?;
    /// assert_eq!(pool.start_method(), multiproc_process::StartMethod::Fork);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn fork(self) -> Self {
        self.start_method(StartMethod::Fork)
    }

    /// Uses the start method of `ctx` (Python's `context=` / `ctx.Pool()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Context, StartMethod};
    /// let ctx = Context::new(StartMethod::Fork);
    /// let pool = multiproc_pool::Pool::builder().context(&ctx).processes(1).build()?;
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn context(self, ctx: &Context) -> Self {
        self.start_method(ctx.start_method())
    }

    /// Each worker leaves after running `n` chunks and is replaced by a fresh one (Python's
    /// `maxtasksperchild`; a chunk counts as one task, as in CPython).
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn maxtasksperchild(mut self, n: u64) -> Self {
        self.maxtasks = Some(n.max(1));
        self
    }

    /// Fails a task that runs longer than `timeout` with [`Error::TaskTimedOut`], killing and
    /// replacing its worker (a chunk of `n` tasks gets `n × timeout`, counted from the moment
    /// the worker takes the chunk; a worker that does not take it within that time either, say
    /// stuck in its initializer, is treated the same way).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, Pool};
    /// use std::time::Duration;
    ///
    /// fn forever(_: ()) { loop { std::thread::park() } }
    ///
    /// let pool = Pool::builder().processes(1).fork()
    ///     .task_timeout(Duration::from_millis(100)).build()?;
    /// assert!(matches!(pool.apply(forever, ()), Err(Error::TaskTimedOut)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Runs `f(args)` in each worker when it starts (Python's `initializer`, `initargs`).
    ///
    /// Under spawn and forkserver `f` must be a `fn` item or a capture-free closure; `args`
    /// travel to each worker (handles such as a lock or a connection included).
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn initializer<F, I>(self, f: F, args: I) -> PoolBuilder<InitFn<F, I>>
    where
        F: Fn(I) + Clone + Send + Sync + 'static,
        I: Data + Clone + Sync,
    {
        PoolBuilder {
            processes: self.processes,
            method: self.method,
            init: InitFn::new(f),
            args,
            maxtasks: self.maxtasks,
            task_timeout: self.task_timeout,
        }
    }

    /// Creates the pool. Its worker processes start with the first task (each worker is
    /// specialised to a task function; see [`Pool`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for zero processes; [`Error::Transfer`] or
    /// [`Error::Worker`] if the pool's sockets or threads cannot be created.
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn build(self) -> Result<Pool<In>> {
        let processes = self.processes.unwrap_or_else(multiproc_process::cpu_count);
        if processes == 0 {
            return Err(Error::InvalidArgument(
                "number of processes must be at least 1",
            ));
        }
        let method = self
            .method
            .or_else(|| multiproc_process::get_start_method(false))
            .unwrap_or_default();
        let cfg = Config {
            processes,
            method,
            maxtasks: self.maxtasks,
            task_timeout: self.task_timeout,
        };
        let (tx, rx) = mpsc::channel::<CallbackJob>();
        let result_thread = thread::Builder::new()
            .name("pool-results".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .map_err(|e| Error::Worker(format!("cannot start the result thread: {e}")))?;
        let shared = Shared::new(cfg, tx)?;
        let pool = Pool {
            shared: Arc::clone(&shared),
            init: self.init,
            args: self.args,
            slots: Mutex::new(Vec::new()),
            result_thread: Mutex::new(Some(result_thread)),
        };
        for slot in 0..processes {
            let s = Arc::clone(&shared);
            let h = thread::Builder::new()
                .name(format!("pool-slot-{slot}"))
                .spawn(move || engine::slot_main(s, slot))
                .map_err(|e| Error::Worker(format!("cannot start a slot thread: {e}")))?;
            pool.slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(h);
        }
        Ok(pool)
    }
}

/// A pool of worker processes: Python's `multiprocessing.Pool`.
///
/// Tasks travel to the workers in chunks over a socket per worker; results come back the same
/// way. A supervisor thread per worker watches the worker's sentinel while it runs a chunk: a
/// worker that dies (`SIGKILL`, abort) fails only the tasks of that chunk with
/// [`Error::WorkerLost`] and is replaced — the pool never hangs, where CPython's does. A task
/// that panics fails with [`Error::Panicked`] and the worker goes on.
///
/// Each chunk runs at most once: a worker acknowledges a chunk before starting it, and a chunk
/// that started is never sent again. A chunk whose worker died before acknowledging it (an
/// idle worker killed just as the chunk reached it) did not start and is sent to a fresh
/// worker, at most three times, so a worker's death costs nothing to work it never took.
///
/// Each worker process is specialised to one task function (the function is part of the
/// worker program's type, which is how it reaches a spawned program): the first task starts the
/// workers, and a task of a different function restarts the worker that takes it. A pool used
/// with one function, the common case, starts its workers once.
///
/// Dropping the pool terminates it (as leaving Python's `with Pool() as p:` block does); call
/// [`close`](Self::close) and [`join`](Self::join) to let queued work finish first.
///
/// | Python | here |
/// |---|---|
/// | `Pool(4)` / `Pool(processes, initializer, initargs, maxtasksperchild, context)` | [`Pool::new(4)`](Self::new) / [`Pool::builder()`](Self::builder) |
/// | `map(f, it, chunksize)` / `map_async` | [`map`](Self::map), [`map_chunked`](Self::map_chunked) / [`map_async`](Self::map_async), [`map_async_with`](Self::map_async_with) |
/// | `imap`, `imap_unordered` | [`imap`](Self::imap), [`imap_unordered`](Self::imap_unordered) (+ `_chunked`) |
/// | `starmap(f, pairs)` / `starmap_async` | [`starmap`](Self::starmap) / [`starmap_async`](Self::starmap_async) |
/// | `apply(f, (x,))` / `apply_async(f, (x,), callback, error_callback)` | [`apply(f, x)`](Self::apply) / [`apply_async`](Self::apply_async), [`apply_async_with`](Self::apply_async_with) |
/// | `close()`, `terminate()`, `join()` | same |
///
/// # Examples
///
/// ```
/// use multiproc_pool::Pool;
///
/// fn f(x: u64) -> u64 { x * x }
///
/// let pool = Pool::new(2)?;
/// assert_eq!(pool.map(f, [1, 2, 3])?, [1, 4, 9]);
/// # Ok::<(), multiproc_pool::Error>(())
/// ```
pub struct Pool<In: Initializer = NoInit> {
    shared: Arc<Shared>,
    init: In,
    args: In::Args,
    slots: Mutex<Vec<JoinHandle<()>>>,
    result_thread: Mutex<Option<JoinHandle<()>>>,
}

impl<In: Initializer> fmt::Debug for Pool<In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.shared.cfg.processes)
            .field("method", &self.shared.cfg.method)
            .field("running", &self.shared.is_running())
            .finish_non_exhaustive()
    }
}

impl Pool<NoInit> {
    /// A pool of `processes` workers with the default start method (Python's `Pool(n)`).
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`].
    ///
    /// # Examples
    ///
    /// See [`Pool`].
    pub fn new(processes: usize) -> Result<Self> {
        PoolBuilder::new().processes(processes).build()
    }

    /// A [`PoolBuilder`] with Python's defaults.
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder`].
    pub fn builder() -> PoolBuilder<NoInit> {
        PoolBuilder::new()
    }
}

/// CPython's default chunk size for `map`: `ceil(len / (4 × processes))`.
fn default_chunksize(len: usize, processes: usize) -> usize {
    len.div_ceil(processes.saturating_mul(4).max(1)).max(1)
}

impl<In: Initializer> Pool<In> {
    /// The number of worker processes.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::new(3)?;
    /// assert_eq!(pool.processes(), 3);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn processes(&self) -> usize {
        self.shared.cfg.processes
    }

    /// The workers' start method.
    ///
    /// # Examples
    ///
    /// See [`PoolBuilder::fork`].
    pub fn start_method(&self) -> StartMethod {
        self.shared.cfg.method
    }

    /// The pids of the worker processes running now (workers start with the first task).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().processes(1).fork().build()?;
    /// assert!(pool.pids().is_empty());
    /// pool.apply(|x: u8| x, 1)?;
    /// assert_eq!(pool.pids().len(), 1);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn pids(&self) -> Vec<i32> {
        self.shared.pids()
    }

    fn kind<T: Task>(&self, task: T) -> Arc<dyn Kind> {
        engine::kind(&self.init, &self.args, task)
    }

    fn completion<T>(&self, cell: &Arc<Cell<T>>) -> Completion<T> {
        Completion {
            cell: Arc::clone(cell),
            callback: None,
            error_callback: None,
            results: None,
        }
    }

    /// Cuts `items` into chunks and queues each as soon as it is cut; returns the number of
    /// items. With `chunksize` unknown, the input's exact size hint (or, failing that, the
    /// collected input) gives CPython's default.
    fn submit_chunks<T: Task, I: Iterator<Item = T::Arg>>(
        &self,
        kind: &Arc<dyn Kind>,
        items: I,
        chunksize: Option<usize>,
        sink: &Arc<dyn Sink<T::Out>>,
    ) -> usize {
        let (lo, hi) = items.size_hint();
        let (chunksize, mut items): (usize, Box<dyn Iterator<Item = T::Arg>>) =
            match (chunksize, hi == Some(lo)) {
                (Some(c), _) => (c, Box::new(items)),
                (None, true) => (default_chunksize(lo, self.processes()), Box::new(items)),
                (None, false) => {
                    let v: Vec<T::Arg> = items.collect();
                    (
                        default_chunksize(v.len(), self.processes()),
                        Box::new(v.into_iter()),
                    )
                }
            };
        let chunksize = chunksize.max(1);
        let mut start = 0;
        loop {
            let chunk: Vec<T::Arg> = items.by_ref().take(chunksize).collect();
            if chunk.is_empty() {
                return start;
            }
            let n = chunk.len();
            let job = ChunkJob::<T>::new(Arc::clone(kind), start, chunk, Arc::clone(sink));
            self.shared.submit(vec![Box::new(job)]);
            start += n;
        }
    }

    fn map_async_impl<T: Task, I: IntoIterator<Item = T::Arg>>(
        &self,
        task: T,
        items: I,
        chunksize: Option<usize>,
        mut completion: impl FnMut(&Arc<Cell<Vec<T::Out>>>) -> Completion<Vec<T::Out>>,
    ) -> AsyncResult<Vec<T::Out>> {
        let cell = Cell::new();
        let items = items.into_iter();
        // The size hint only reserves memory (capped: a hint is not a promise).
        let capacity = items.size_hint().0.min(1 << 24);
        let sink = Arc::new(MapSink::new(capacity, completion(&cell)));
        let dyn_sink: Arc<dyn Sink<T::Out>> = sink.clone();
        let kind = self.kind(task);
        let total = self.submit_chunks::<T, _>(&kind, items, chunksize, &dyn_sink);
        sink.submitted(total);
        AsyncResult { cell }
    }

    fn apply_impl<T: Task>(&self, task: T, arg: T::Arg, completion: Completion<T::Out>) {
        let sink: Arc<dyn Sink<T::Out>> = Arc::new(ApplySink::new(completion));
        let kind = self.kind(task);
        self.shared
            .submit(vec![Box::new(ChunkJob::<T>::new(kind, 0, vec![arg], sink))]);
    }

    /// Runs `f(arg)` in a worker and waits for the result (Python's `apply(f, (arg,))`).
    ///
    /// # Errors
    ///
    /// The task's failure (see [`AsyncResult::get`]); [`Error::Closed`] after `close`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(x: i64) -> i64 { x * x }
    /// let pool = multiproc_pool::Pool::builder().processes(1).fork().build()?;
    /// assert_eq!(pool.apply(square, 5)?, 25);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn apply<F, A, R>(&self, f: F, arg: A) -> Result<R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
    {
        self.apply_async(f, arg).get()
    }

    /// Starts `f(arg)` in a worker and returns at once (Python's `apply_async`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn task(x: i32) -> i32 { x * 2 }
    /// let pool = multiproc_pool::Pool::builder().processes(1).fork().build()?;
    /// let r = pool.apply_async(task, 10);
    /// // ... do other things ...
    /// assert_eq!(r.get()?, 20);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn apply_async<F, A, R>(&self, f: F, arg: A) -> AsyncResult<R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
    {
        let cell = Cell::new();
        self.apply_impl(MapTask::<F, A, R>::new(f), arg, self.completion(&cell));
        AsyncResult { cell }
    }

    /// [`apply_async`](Self::apply_async) with Python's `callback` and `error_callback`: one
    /// of them runs on the pool's result thread with the outcome, before the result becomes
    /// ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// fn task(x: i32) -> i32 { x * 2 }
    ///
    /// let pool = multiproc_pool::Pool::builder().processes(1).fork().build()?;
    /// let (tx, rx) = mpsc::channel();
    /// let etx = tx.clone();
    /// pool.apply_async_with(
    ///     task,
    ///     10,
    ///     move |v: &i32| tx.send(format!("got result: {v}")).unwrap(),
    ///     move |e| etx.send(format!("got error: {e}")).unwrap(),
    /// );
    /// pool.close();
    /// pool.join()?;
    /// assert_eq!(rx.recv().unwrap(), "got result: 20");
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn apply_async_with<F, A, R, C, E>(
        &self,
        f: F,
        arg: A,
        callback: C,
        error_callback: E,
    ) -> AsyncResult<R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        C: FnOnce(&R) + Send + 'static,
        E: FnOnce(&Error) + Send + 'static,
    {
        let cell = Cell::new();
        let completion = Completion {
            cell: Arc::clone(&cell),
            callback: Some(Box::new(callback)),
            error_callback: Some(Box::new(error_callback)),
            results: self.shared.results(),
        };
        self.apply_impl(MapTask::<F, A, R>::new(f), arg, completion);
        AsyncResult { cell }
    }

    /// Applies `f` to every item, in parallel, and returns the results in order (Python's
    /// `map`). The input is cut into chunks of CPython's default size
    /// (`ceil(len / (4 × processes))`); an input that knows its exact length (a range, a
    /// `Vec`) is chunked as it is read and each chunk starts at once, any other is collected
    /// first, as CPython does.
    ///
    /// # Errors
    ///
    /// The first failure among the tasks (see [`AsyncResult::get`]).
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(x: u32) -> u32 { x * x }
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// assert_eq!(pool.map(square, 0..10)?, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn map<F, A, R, I>(&self, f: F, iterable: I) -> Result<Vec<R>>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
    {
        self.map_async(f, iterable).get()
    }

    /// [`map`](Self::map) with an explicit chunk size (Python's `map(f, it, chunksize)`).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// assert_eq!(pool.map_chunked(|x: u8| x + 1, [1, 2, 3], 1)?, [2, 3, 4]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn map_chunked<F, A, R, I>(&self, f: F, iterable: I, chunksize: usize) -> Result<Vec<R>>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
    {
        self.map_async_impl(MapTask::<F, A, R>::new(f), iterable, Some(chunksize), |c| {
            self.completion(c)
        })
        .get()
    }

    /// Starts a [`map`](Self::map) and returns at once (Python's `map_async`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(x: u32) -> u32 { x * x }
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// let r = pool.map_async(square, 0..5);
    /// assert_eq!(r.get()?, [0, 1, 4, 9, 16]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn map_async<F, A, R, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<R>>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
    {
        self.map_async_impl(MapTask::<F, A, R>::new(f), iterable, None, |c| {
            self.completion(c)
        })
    }

    /// [`map_async`](Self::map_async) with Python's `callback` (given the whole list) and
    /// `error_callback`, run on the pool's result thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// let (tx, rx) = mpsc::channel();
    /// let r = pool.map_async_with(|x: u32| x + 1, 0..3, move |v: &Vec<u32>| tx.send(v.len()).unwrap(), |_| {});
    /// assert_eq!(r.get()?, [1, 2, 3]);
    /// assert_eq!(rx.recv().unwrap(), 3);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn map_async_with<F, A, R, I, C, E>(
        &self,
        f: F,
        iterable: I,
        callback: C,
        error_callback: E,
    ) -> AsyncResult<Vec<R>>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        C: FnOnce(&Vec<R>) + Send + 'static,
        E: FnOnce(&Error) + Send + 'static,
    {
        let mut cbs = Some((callback, error_callback));
        let results = self.shared.results();
        self.map_async_impl(MapTask::<F, A, R>::new(f), iterable, None, move |c| {
            let (cb, ecb) = cbs.take().map_or((None, None), |(a, b)| {
                (
                    Some(Box::new(a) as Box<dyn FnOnce(&Vec<R>) + Send>),
                    Some(Box::new(b) as Box<dyn FnOnce(&Error) + Send>),
                )
            });
            Completion {
                cell: Arc::clone(c),
                callback: cb,
                error_callback: ecb,
                results: results.clone(),
            }
        })
    }

    /// Like [`map`](Self::map), but each item is a tuple of arguments (Python's `starmap`:
    /// `f(*args)`).
    ///
    /// # Errors
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// assert_eq!(pool.starmap(add, [(1, 2), (3, 4), (5, 6)])?, [3, 7, 11]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn starmap<F, Args, I>(&self, f: F, iterable: I) -> Result<Vec<F::Output>>
    where
        F: StarFn<Args>,
        F::Output: Data,
        Args: Data,
        I: IntoIterator<Item = Args>,
    {
        self.starmap_async(f, iterable).get()
    }

    /// Starts a [`starmap`](Self::starmap) and returns at once (Python's `starmap_async`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn mul(a: u8, b: u8) -> u16 { u16::from(a) * u16::from(b) }
    /// let pool = multiproc_pool::Pool::builder().processes(1).fork().build()?;
    /// assert_eq!(pool.starmap_async(mul, [(2, 3)]).get()?, [6]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn starmap_async<F, Args, I>(&self, f: F, iterable: I) -> AsyncResult<Vec<F::Output>>
    where
        F: StarFn<Args>,
        F::Output: Data,
        Args: Data,
        I: IntoIterator<Item = Args>,
    {
        self.map_async_impl(StarTask::<F, Args>::new(f), iterable, None, |c| {
            self.completion(c)
        })
    }

    fn imap_impl<'a, T, I>(
        &self,
        task: T,
        iterable: I,
        chunksize: usize,
        ordered: bool,
    ) -> IMapIter<'a, T::Out>
    where
        T: Task,
        I: IntoIterator<Item = T::Arg>,
        I::IntoIter: 'a,
    {
        let chunksize = chunksize.max(1);
        let sink = Arc::new(IterSink::new(ordered));
        let dyn_sink: Arc<dyn Sink<T::Out>> = sink.clone();
        let kind = self.kind(task);
        let shared = Arc::clone(&self.shared);
        let mut input = iterable.into_iter();
        let mut start = 0usize;
        let feeder = Box::new(move || {
            let chunk: Vec<T::Arg> = input.by_ref().take(chunksize).collect();
            if chunk.is_empty() {
                return None;
            }
            let n = chunk.len();
            shared.submit(vec![Box::new(ChunkJob::<T>::new(
                Arc::clone(&kind),
                start,
                chunk,
                Arc::clone(&dyn_sink),
            ))]);
            start += n;
            Some(n)
        });
        let window = chunksize.saturating_mul(2 * self.processes());
        IMapIter::new(sink, feeder, window)
    }

    /// A lazy, ordered [`map`](Self::map) (Python's `imap`, chunk size 1): results come back
    /// in input order, and the input is consumed only as results are (see [`IMapIter`]).
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// for (i, r) in pool.imap(square, 0..4).enumerate() {
    ///     assert_eq!(r?, (i * i) as u64);
    /// }
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn imap<'a, F, A, R, I>(&self, f: F, iterable: I) -> IMapIter<'a, R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.imap_impl(MapTask::<F, A, R>::new(f), iterable, 1, true)
    }

    /// [`imap`](Self::imap) with chunks of `chunksize` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// let v: Vec<u32> = pool.imap_chunked(|x: u32| x * 10, 0..100, 16).collect::<Result<_, _>>()?;
    /// assert_eq!(v[99], 990);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn imap_chunked<'a, F, A, R, I>(
        &self,
        f: F,
        iterable: I,
        chunksize: usize,
    ) -> IMapIter<'a, R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.imap_impl(MapTask::<F, A, R>::new(f), iterable, chunksize, true)
    }

    /// Like [`imap`](Self::imap), but results come in the order they finish (Python's
    /// `imap_unordered`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn square(x: u64) -> u64 { x * x }
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// let mut v: Vec<u64> = pool.imap_unordered(square, 0..5).collect::<Result<_, _>>()?;
    /// v.sort();
    /// assert_eq!(v, [0, 1, 4, 9, 16]);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn imap_unordered<'a, F, A, R, I>(&self, f: F, iterable: I) -> IMapIter<'a, R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.imap_impl(MapTask::<F, A, R>::new(f), iterable, 1, false)
    }

    /// [`imap_unordered`](Self::imap_unordered) with chunks of `chunksize` items.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = multiproc_pool::Pool::builder().processes(2).fork().build()?;
    /// assert_eq!(pool.imap_unordered_chunked(|x: u32| x, 0..50, 8).count(), 50);
    /// # Ok::<(), multiproc_pool::Error>(())
    /// ```
    pub fn imap_unordered_chunked<'a, F, A, R, I>(
        &self,
        f: F,
        iterable: I,
        chunksize: usize,
    ) -> IMapIter<'a, R>
    where
        F: TaskFn<A, R>,
        A: Data,
        R: Data,
        I: IntoIterator<Item = A>,
        I::IntoIter: 'a,
    {
        self.imap_impl(MapTask::<F, A, R>::new(f), iterable, chunksize, false)
    }

    /// Stops accepting tasks; queued tasks still run, then the workers leave (Python's
    /// `close()`). Tasks submitted afterwards fail with [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, Pool};
    /// let pool = Pool::builder().processes(1).fork().build()?;
    /// let r = pool.apply_async(|x: u8| x, 7);
    /// pool.close();
    /// pool.join()?;
    /// assert_eq!(r.get()?, 7);
    /// assert!(matches!(pool.apply(|x: u8| x, 1), Err(Error::Closed)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn close(&self) {
        self.shared.close();
    }

    /// Stops at once: queued and running tasks fail with [`Error::Terminated`] and the
    /// workers are killed (Python's `terminate()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pool::{Error, Pool};
    /// fn forever(_: ()) { loop { std::thread::park() } }
    /// let pool = Pool::builder().processes(1).fork().build()?;
    /// let r = pool.apply_async(forever, ());
    /// pool.terminate();
    /// pool.join()?;
    /// assert!(matches!(r.get(), Err(Error::Terminated)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn terminate(&self) {
        self.shared.terminate();
    }

    /// Waits for the workers to leave and reaps them (Python's `join()`); call
    /// [`close`](Self::close) or [`terminate`](Self::terminate) first.
    ///
    /// # Errors
    ///
    /// [`Error::StillRunning`] if the pool was neither closed nor terminated.
    ///
    /// # Examples
    ///
    /// See [`close`](Self::close).
    pub fn join(&self) -> Result<()> {
        if self.shared.is_running() {
            return Err(Error::StillRunning);
        }
        let slots = std::mem::take(&mut *self.slots.lock().unwrap_or_else(PoisonError::into_inner));
        for h in slots {
            let _ = h.join();
        }
        // Callbacks of finished tasks are queued on the result thread: let them run.
        drop(
            self.shared
                .results
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let rt = self
            .result_thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = rt {
            if h.thread().id() == thread::current().id() {
                // Called from a callback: the thread ends by itself once its queue drains.
            } else {
                let _ = h.join();
            }
        }
        Ok(())
    }
}

impl<In: Initializer> Drop for Pool<In> {
    fn drop(&mut self) {
        self.terminate();
        let _ = self.join();
    }
}

#[cfg(test)]
mod tests {
    use super::default_chunksize;

    #[test]
    fn chunksize_matches_cpython() {
        // CPython: chunksize, extra = divmod(len, 4 * processes); chunksize += bool(extra).
        assert_eq!(default_chunksize(1_000_000, 2), 125_000);
        assert_eq!(default_chunksize(10, 4), 1);
        assert_eq!(default_chunksize(17, 2), 3);
        assert_eq!(default_chunksize(0, 2), 1);
    }
}
