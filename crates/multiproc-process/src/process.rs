//! `Process`, its typed handle `JoinHandle<R>`, and the class-style `Run` trait.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use multiproc_sys::process::Signal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bootstrap::{self, Spec};
use crate::context::{StartMethod, get_start_method};
use crate::current;
use crate::error::{Error, Result};
use crate::started::{self, Started};
use crate::target::{FnPtrTarget, FnTarget, Target};

/// A child process running a target (Python's `multiprocessing.Process`).
///
/// Build it from a target and its arguments, optionally rename it or make it daemonic, then
/// [`start`](Self::start) and [`join`](Self::join). The start method is the process-wide default
/// ([`get_start_method`]) unless set with [`set_start_method`](Self::set_start_method) or by
/// creating the process through a [`Context`](crate::Context).
///
/// * Under **fork** the target may be any `FnOnce(A) -> R + Send` closure.
/// * Under **spawn** and **forkserver** it must be a `fn` item or a closure that captures
///   nothing (or a `fn` pointer via [`Process::from_fn`]); the arguments travel serialized, and
///   may hold handles such as a `multiproc_pipe::Connection`.
///
/// Dropping a `Process` does not stop the child: as in Python, the process stays registered;
/// [`active_children`](crate::active_children) reaps it once it has finished, and when this
/// process exits normally (returns from `main` or calls `std::process::exit`) an exit hook
/// terminates daemonic children and joins all the others.
///
/// # Examples
///
/// ```
/// use multiproc_process::{Process, StartMethod};
///
/// fn greet(name: String) {
///     println!("hello {name}");
/// }
///
/// // `Process` is `Send + Sync`: one thread may join while another terminates.
/// fn shareable<T: Send + Sync>(_: &T) {}
///
/// let mut p = Process::new(greet, "bob".to_string());
/// shareable(&p);
/// p.set_start_method(StartMethod::Fork);
/// assert_eq!(p.name(), "Process-1");
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(p.exitcode(), Some(0));
/// ```
pub struct Process {
    // Behind a mutex only so that `Process` is `Sync` (the target itself is merely `Send`).
    target: Mutex<Option<Box<dyn Target>>>,
    name: String,
    identity: Vec<u32>,
    daemon: bool,
    method: Option<StartMethod>,
    /// Whether the child's report (its return value or panic) is read: only a [`JoinHandle`]
    /// reads it, so a plain `Process` started under fork skips it.
    report: bool,
    started: Option<Arc<Started>>,
    closed: bool,
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("pid", &self.pid())
            .field("daemon", &self.daemon)
            .field("method", &self.method)
            .field("exitcode", &self.exitcode())
            .finish_non_exhaustive()
    }
}

impl Process {
    fn from_target(target: Box<dyn Target>) -> Self {
        let (name, identity) = current::next_child_identity();
        Self {
            target: Mutex::new(Some(target)),
            name,
            identity,
            daemon: false,
            method: None,
            report: false,
            started: None,
            closed: false,
        }
    }

    /// A process that will run `target(args)`.
    ///
    /// Under spawn and forkserver `target` must not capture anything; [`start`](Self::start)
    /// reports [`Error::NotPortable`] otherwise.
    ///
    /// # Examples
    ///
    /// See [`Process`].
    pub fn new<F, A, R>(target: F, args: A) -> Self
    where
        F: FnOnce(A) -> R + Send + 'static,
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        Self::from_target(Box::new(FnTarget {
            f: target,
            args,
            _r: PhantomData,
        }))
    }

    /// A process that will run the `fn` pointer `target(args)` (portable under every method).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    ///
    /// fn one(x: u8) -> u8 { x + 1 }
    /// fn two(x: u8) -> u8 { x + 2 }
    /// let table: [fn(u8) -> u8; 2] = [one, two];
    /// let mut p = Process::from_fn(table[1], 1);
    /// p.set_start_method(StartMethod::Fork);
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// ```
    pub fn from_fn<A, R>(target: fn(A) -> R, args: A) -> Self
    where
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        Self::from_target(Box::new(FnPtrTarget { f: target, args }))
    }

    /// A process that will run `target.run()` (the Rust face of subclassing `Process`).
    ///
    /// # Examples
    ///
    /// See [`Run`].
    pub fn from_run<T: Run>(target: T) -> Self {
        Self::new(T::run, target)
    }

    /// Like [`new`](Self::new), but returns a handle whose `join` hands back the target's
    /// return value.
    ///
    /// # Examples
    ///
    /// See [`JoinHandle`].
    pub fn with_result<F, A, R>(target: F, args: A) -> JoinHandle<R>
    where
        F: FnOnce(A) -> R + Send + 'static,
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        let mut process = Self::new(target, args);
        process.report = true;
        JoinHandle {
            process,
            _r: PhantomData,
        }
    }

    /// The process's name (`Process-N`, or `Process-N:M` for the children of `Process-N`).
    ///
    /// # Examples
    ///
    /// See [`Process`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the process (before it starts; the child sees the new name).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut p = multiproc_process::Process::new(|()| (), ());
    /// p.set_name("worker");
    /// assert_eq!(p.name(), "worker");
    /// ```
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Whether the process is daemonic.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = multiproc_process::Process::new(|()| (), ());
    /// assert!(!p.daemon());
    /// ```
    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Makes the process daemonic (or not). A daemonic child is killed when its parent dies
    /// (even by `SIGKILL`), is terminated by the parent's exit hook, and may not start children.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`] after [`start`](Self::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut p = multiproc_process::Process::new(|()| (), ());
    /// p.set_daemon(true).unwrap();
    /// assert!(p.daemon());
    /// ```
    pub fn set_daemon(&mut self, daemon: bool) -> Result<()> {
        if self.started.is_some() {
            return Err(Error::AlreadyStarted);
        }
        self.daemon = daemon;
        Ok(())
    }

    /// The start method this process uses (or will use).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    /// let mut p = Process::new(|()| (), ());
    /// p.set_start_method(StartMethod::Spawn);
    /// assert_eq!(p.start_method(), StartMethod::Spawn);
    /// ```
    pub fn start_method(&self) -> StartMethod {
        self.method
            .or_else(|| get_start_method(false))
            .unwrap_or_default()
    }

    /// Chooses the start method for this process (before it starts).
    ///
    /// # Examples
    ///
    /// See [`start_method`](Self::start_method).
    pub fn set_start_method(&mut self, method: StartMethod) {
        self.method = Some(method);
    }

    /// Starts the child.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyStarted`], [`Error::Closed`], [`Error::DaemonicParent`] in a daemonic
    /// process, [`Error::NotPortable`] for a capturing closure under spawn or forkserver,
    /// [`Error::Codec`] for arguments that do not serialize, [`Error::Forkserver`] when the
    /// forkserver cannot be (re)started, [`Error::Io`] from the OS.
    ///
    /// # Examples
    ///
    /// See [`Process`].
    pub fn start(&mut self) -> Result<()> {
        if self.closed {
            return Err(Error::Closed);
        }
        let target = self
            .target
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(Error::AlreadyStarted)?;
        let spec = Spec {
            name: self.name.clone(),
            identity: self.identity.clone(),
            daemon: self.daemon,
            report: self.report,
        };
        let method = self.start_method();
        self.method = Some(method);
        match bootstrap::start(method, target, &spec) {
            Ok(s) => {
                self.started = Some(s);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn handle(&self) -> Result<&Arc<Started>> {
        if self.closed {
            return Err(Error::Closed);
        }
        self.started.as_ref().ok_or(Error::NotStarted)
    }

    /// Waits until the child ends.
    ///
    /// # Errors
    ///
    /// [`Error::NotStarted`], [`Error::Closed`], [`Error::Io`].
    ///
    /// # Examples
    ///
    /// See [`Process`].
    pub fn join(&self) -> Result<()> {
        let h = self.handle()?;
        h.wait(None)?;
        started::forget(h);
        Ok(())
    }

    /// Waits at most `timeout` for the child to end; returns whether it has ended (Python's
    /// `join(timeout)`, after which one checks `exitcode`).
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    /// use std::time::Duration;
    ///
    /// let mut p = Process::new(|()| std::thread::park(), ());
    /// p.set_start_method(StartMethod::Fork);
    /// p.start().unwrap();
    /// assert!(!p.join_timeout(Duration::from_millis(50)).unwrap());
    /// assert_eq!(p.exitcode(), None);
    /// p.kill().unwrap();
    /// p.join().unwrap();
    /// assert_eq!(p.exitcode(), Some(-9));
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool> {
        let h = self.handle()?;
        let done = h.wait(Some(timeout))?;
        if done {
            started::forget(h);
        }
        Ok(done)
    }

    /// Whether the child is running (false before `start` and after it ended).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = multiproc_process::Process::new(|()| (), ());
    /// assert!(!p.is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.handle().is_ok_and(|h| h.is_alive())
    }

    /// The child's pid, once started.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = multiproc_process::Process::new(|()| (), ());
    /// assert_eq!(p.pid(), None);
    /// ```
    #[doc(alias = "ident")]
    pub fn pid(&self) -> Option<i32> {
        self.started.as_ref().map(|s| s.pid)
    }

    /// The exit code: `None` while running, the exit status, or the negated number of the
    /// signal that killed it (`-15` after [`terminate`](Self::terminate), `-9` after
    /// [`kill`](Self::kill), `-2` after [`interrupt`](Self::interrupt)); a panicking target
    /// gives `1`.
    ///
    /// # Examples
    ///
    /// See [`Process`].
    pub fn exitcode(&self) -> Option<i32> {
        let s = self.started.as_ref()?;
        if s.is_alive() {
            return None;
        }
        s.exit().map(|e| e.code())
    }

    /// Whether the forkserver died before reporting this child's exit status.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = multiproc_process::Process::new(|()| (), ());
    /// assert!(!p.exit_status_lost());
    /// ```
    pub fn exit_status_lost(&self) -> bool {
        self.started.as_ref().is_some_and(|s| s.lost())
    }

    fn signal(&self, sig: Signal) -> Result<()> {
        self.handle()?.signal(sig)
    }

    /// Sends `SIGTERM` (exit code `-15` unless the child handles it).
    ///
    /// # Errors
    ///
    /// [`Error::NotStarted`], [`Error::Closed`], [`Error::Io`].
    ///
    /// # Examples
    ///
    /// See [`join_timeout`](Self::join_timeout) (with `kill`).
    pub fn terminate(&self) -> Result<()> {
        self.signal(Signal::Term)
    }

    /// Sends `SIGKILL` (exit code `-9`).
    ///
    /// # Errors
    ///
    /// As [`terminate`](Self::terminate).
    ///
    /// # Examples
    ///
    /// See [`join_timeout`](Self::join_timeout).
    pub fn kill(&self) -> Result<()> {
        self.signal(Signal::Kill)
    }

    /// Sends `SIGINT`. A Rust child has no `KeyboardInterrupt`: unless it handles the signal
    /// it dies of it, and the exit code is `-2`.
    ///
    /// # Errors
    ///
    /// As [`terminate`](Self::terminate).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    /// let mut p = Process::new(|()| std::thread::park(), ());
    /// p.set_start_method(StartMethod::Fork);
    /// p.start().unwrap();
    /// p.interrupt().unwrap();
    /// p.join().unwrap();
    /// assert_eq!(p.exitcode(), Some(-2));
    /// ```
    pub fn interrupt(&self) -> Result<()> {
        self.signal(Signal::Int)
    }

    /// An fd that becomes readable when the child ends (a pidfd under fork and spawn, the
    /// status socket under forkserver), for `multiproc_pipe::wait` or `poll`.
    ///
    /// # Errors
    ///
    /// [`Error::NotStarted`], [`Error::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    /// let mut p = Process::new(|()| (), ());
    /// p.set_start_method(StartMethod::Fork);
    /// p.start().unwrap();
    /// let _fd = p.sentinel().unwrap();
    /// p.join().unwrap();
    /// ```
    pub fn sentinel(&self) -> Result<BorrowedFd<'_>> {
        Ok(self.handle()?.sentinel())
    }

    /// Releases the process's resources. Fails while the child runs; afterwards every method
    /// that needs the child fails with [`Error::Closed`].
    ///
    /// # Errors
    ///
    /// [`Error::StillRunning`].
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Error, Process, StartMethod};
    /// let mut p = Process::new(|()| (), ());
    /// p.set_start_method(StartMethod::Fork);
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// p.close().unwrap();
    /// assert!(matches!(p.join(), Err(Error::Closed)));
    /// ```
    pub fn close(&mut self) -> Result<()> {
        if let Some(s) = &self.started {
            if s.is_alive() {
                return Err(Error::StillRunning);
            }
            started::forget(s);
        }
        *self
            .target
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.closed = true;
        Ok(())
    }

    pub(crate) fn from_started(s: Arc<Started>) -> Self {
        let name = s.name.clone();
        Self {
            target: Mutex::new(None),
            name,
            identity: Vec::new(),
            daemon: s.daemon,
            method: Some(s.method),
            report: false,
            started: Some(s),
            closed: false,
        }
    }
}

/// A [`Process`] whose [`join`](Self::join) returns the target's value (or the child's panic).
///
/// It dereferences to [`Process`] for everything else (`start`, `pid`, `terminate`...).
///
/// # Examples
///
/// ```
/// use multiproc_process::{Error, Process, StartMethod};
///
/// fn square(x: u64) -> u64 { x * x }
/// fn boom(_: ()) -> u8 { panic!("no luck") }
///
/// let mut h = Process::with_result(square, 12);
/// h.set_start_method(StartMethod::Fork);
/// h.start().unwrap();
/// assert_eq!(h.join().unwrap(), 144);
///
/// let mut h = Process::with_result(boom, ());
/// h.set_start_method(StartMethod::Fork);
/// h.start().unwrap();
/// match h.join() {
///     Err(Error::Panicked(p)) => assert_eq!(p.message, "no luck"),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(h.exitcode(), Some(1));
/// ```
pub struct JoinHandle<R> {
    process: Process,
    _r: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for JoinHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JoinHandle").field(&self.process).finish()
    }
}

impl<R> Deref for JoinHandle<R> {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.process
    }
}

impl<R> DerefMut for JoinHandle<R> {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.process
    }
}

impl<R: DeserializeOwned> JoinHandle<R> {
    /// Waits for the child and returns the target's value.
    ///
    /// # Errors
    ///
    /// [`Error::Panicked`] with the child's panic message and location, [`Error::NoResult`]
    /// when the child ended without a result (killed, or it exited early), [`Error::Codec`],
    /// and the errors of [`Process::join`]. The value can be taken once; later calls give
    /// [`Error::NoResult`].
    ///
    /// # Examples
    ///
    /// See [`JoinHandle`].
    pub fn join(&mut self) -> Result<R> {
        self.process.join()?;
        self.take()
    }

    /// Waits at most `timeout`; `Ok(None)` when the child is still running.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Process, StartMethod};
    /// use std::time::Duration;
    /// let mut h = Process::with_result(|x: u8| x, 3);
    /// h.set_start_method(StartMethod::Fork);
    /// h.start().unwrap();
    /// assert_eq!(h.join_timeout(Duration::from_secs(10)).unwrap(), Some(3));
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<R>> {
        if self.process.join_timeout(timeout)? {
            self.take().map(Some)
        } else {
            Ok(None)
        }
    }

    fn take(&mut self) -> Result<R> {
        let s = self.process.handle()?;
        if s.lost() && s.exit().is_none() {
            if let Some(report) = s.take_report() {
                return bootstrap::decode_report(Some(report), None);
            }
            return Err(Error::ExitStatusLost);
        }
        bootstrap::decode_report(s.take_report(), s.exit().map(|e| e.code()))
    }

    /// The untyped process.
    ///
    /// # Examples
    ///
    /// ```
    /// let h = multiproc_process::Process::with_result(|x: u8| x, 3);
    /// let p = h.into_process();
    /// assert!(p.name().starts_with("Process-"));
    /// ```
    pub fn into_process(self) -> Process {
        self.process
    }
}

/// A class-style target: the Rust face of subclassing `Process` and overriding `run`.
///
/// The value itself is the argument: it is moved into the child (serialized under spawn and
/// forkserver), and `run` consumes it there.
///
/// # Examples
///
/// ```
/// use multiproc_process::{Process, Run, StartMethod};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct MyProcess { label: String }
///
/// impl Run for MyProcess {
///     type Output = usize;
///     fn run(self) -> usize {
///         println!("process {} running", self.label);
///         self.label.len()
///     }
/// }
///
/// let mut p = Process::from_run(MyProcess { label: "Worker".into() });
/// p.set_start_method(StartMethod::Fork);
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(p.exitcode(), Some(0));
/// ```
pub trait Run: Serialize + DeserializeOwned + Send + 'static {
    /// What `run` returns to the parent.
    type Output: Serialize + DeserializeOwned + 'static;

    /// The code the child runs.
    fn run(self) -> Self::Output;
}

/// The children of this process that are still running (Python's `active_children()`); it
/// also reaps the ones that have finished.
///
/// # Examples
///
/// ```
/// assert!(multiproc_process::active_children().is_empty());
/// ```
pub fn active_children() -> Vec<Process> {
    started::reap()
        .into_iter()
        .map(Process::from_started)
        .collect()
}

/// Python's `cpu_count()`: the CPUs this process may run on (`sched_getaffinity`).
///
/// # Examples
///
/// ```
/// assert!(multiproc_process::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    multiproc_sys::process::cpu_count()
}

/// Ends the calling process with `code` (Python's `sys.exit(code)` in a child): joins its
/// children as at a normal exit, flushes stdout and stderr, and exits without unwinding. In a
/// child the parent sees `exitcode == code` (and no return value).
///
/// # Examples
///
/// ```
/// use multiproc_process::{Process, StartMethod};
///
/// fn quit(code: i32) {
///     multiproc_process::exit(code)
/// }
///
/// let mut p = Process::new(quit, 3);
/// p.set_start_method(StartMethod::Fork);
/// p.start().unwrap();
/// p.join().unwrap();
/// assert_eq!(p.exitcode(), Some(3));
/// ```
pub fn exit(code: i32) -> ! {
    bootstrap::finish(code)
}

/// The pid of this process's forkserver, if it has started one.
///
/// # Examples
///
/// ```
/// assert_eq!(multiproc_process::forkserver_pid(), None);
/// ```
pub fn forkserver_pid() -> Option<i32> {
    crate::forkserver::pid()
}
