//! Starting children: the fork path, the spawn path, and the child side of both, including the
//! `.init_array` constructor that intercepts a re-executed child before `main`.
//!
//! # How a spawned child finds its way
//!
//! The parent creates a socketpair, starts `/proc/self/exe` with `posix_spawn`, keeps the child's
//! end open across `exec` and names it in the environment variable `MULTIPROC_BOOTSTRAP`
//! (`child:<fd>` or `forkserver:<fd>`). Before `main` runs, the constructor below sees the
//! variable, removes it, closes every other inherited descriptor, reads a [`ChildRequest`] plus
//! the argument fds from the socket, checks the build identity, runs the target through its
//! trampoline, writes the report back on the same socket and `_exit`s. `main` never runs in a
//! child.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStringExt;
use std::sync::Arc;

use multiproc_sys::fd;
use multiproc_sys::process::{self as sys, Fork};
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::context::StartMethod;
use crate::current;
use crate::error::{Error, Result};
use crate::forkserver;
use crate::started::{self, Started, Watch};
use crate::target::{self, BuildId, Outcome, Report, Target};

/// The environment variable that marks a re-executed child.
pub(crate) const MARKER: &str = "MULTIPROC_BOOTSTRAP";

/// Everything a spawned or forkserver child needs besides its fds.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChildRequest {
    pub(crate) build: BuildId,
    pub(crate) trampoline: u64,
    pub(crate) extra: u64,
    pub(crate) payload: Vec<u8>,
    pub(crate) name: String,
    pub(crate) identity: Vec<u32>,
    pub(crate) daemon: bool,
    pub(crate) parent_pid: i32,
    pub(crate) parent_name: String,
    /// Whether the parent started us from its main thread (see [`die_with_parent`]).
    pub(crate) parent_main_thread: bool,
}

/// What the parent knows about the child it is about to start.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) identity: Vec<u32>,
    pub(crate) daemon: bool,
    /// Whether the parent reads the child's report (see [`Process`](crate::Process)).
    pub(crate) report: bool,
}

#[used]
#[unsafe(link_section = ".init_array")]
static BOOTSTRAP: extern "C" fn() = bootstrap_ctor;

/// Makes sure the constructor's object file is linked into any binary that starts processes.
pub(crate) fn ensure_linked() {
    std::hint::black_box(&BOOTSTRAP);
    if std::env::var_os(MARKER).is_some() {
        // The variable is removed by the constructor; still seeing it means the constructor did
        // not run, and carrying on would run the parent's `main` again (a fork bomb).
        let _ = writeln!(
            std::io::stderr(),
            "multiproc: this process was started as a child but the bootstrap constructor did \
             not run; refusing to start processes from it"
        );
        sys::exit_immediately(1);
    }
}

extern "C" fn bootstrap_ctor() {
    let Some(value) = std::env::var_os(MARKER) else {
        return;
    };
    // SAFETY: constructors run before `main`, on the only thread of the process, so nothing can
    // read the environment concurrently.
    unsafe { std::env::remove_var(MARKER) };
    let value = value.to_string_lossy().into_owned();
    let (kind, fd) = match value.split_once(':') {
        Some((k, f)) => (k.to_owned(), f.parse::<RawFd>().ok()),
        None => (String::new(), None),
    };
    let Some(fd) = fd.filter(|&fd| fd > 2 && sys::fd_is_open(fd)) else {
        let _ = writeln!(std::io::stderr(), "multiproc: bad {MARKER} value {value:?}");
        sys::exit_immediately(1);
    };
    // SAFETY: the parent kept this descriptor open across exec for us and named it in the
    // marker; it is open (checked above) and nothing else in this fresh process owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    sys::ignore_sigpipe();
    if sys::close_fds_except(&[fd]).is_err() {
        sys::exit_immediately(1);
    }
    match kind.as_str() {
        "child" => spawned_child(sock),
        "forkserver" => forkserver::serve(sock),
        _ => sys::exit_immediately(1),
    }
}

fn spawned_child(sock: OwnedFd) -> ! {
    let (body, fds) = match codec::read_frame(&sock) {
        Ok(x) => x,
        Err(_) => sys::exit_immediately(1),
    };
    let req: ChildRequest = match codec::from_bytes(&body) {
        Ok(r) => r,
        Err(e) => child_fail(&sock, e),
    };
    let parent = req.parent_pid;
    run_request(req, fds, sock, parent)
}

fn child_fail(sock: &OwnedFd, e: impl std::fmt::Display) -> ! {
    let _ = send_report(sock.as_fd(), &Outcome::failed(e));
    sys::exit_immediately(1)
}

/// Runs a portable request in this (new) process and exits. `real_parent` is the pid `getppid`
/// must return (the forkserver for its children).
pub(crate) fn run_request(
    req: ChildRequest,
    fds: Vec<OwnedFd>,
    sock: OwnedFd,
    real_parent: i32,
) -> ! {
    if req.build != target::build_id() {
        child_fail(&sock, Error::BuildMismatch);
    }
    {
        let mut me = current::lock();
        current::become_child(
            &mut me,
            req.name,
            req.identity,
            req.daemon,
            req.parent_pid,
            req.parent_name,
        );
    }
    if req.daemon {
        // A forkserver child's real parent is the server's only thread.
        let main_thread = req.parent_main_thread || real_parent != req.parent_pid;
        die_with_parent(real_parent, main_thread);
    }
    // SAFETY: the offset was computed by a process running this same build (checked above) and
    // reached us over a private socketpair from our parent.
    let tramp = unsafe { target::resolve(req.trampoline) };
    let extra = usize::try_from(req.extra).unwrap_or(0);
    let payload = req.payload;
    child_main(move || tramp(&payload, fds, extra), sock)
}

/// Makes a daemonic child die with its parent, even when the parent is SIGKILLed.
///
/// When the parent started us from its main thread, `PR_SET_PDEATHSIG` does it (the kernel ties
/// the signal to the parent *thread*, and the main thread lives as long as the process). From
/// any other thread, a watcher thread polls the parent's pidfd instead, so that the end of the
/// starting thread does not kill us. Either way, a parent that is already gone ends us at once.
fn die_with_parent(real_parent: i32, parent_main_thread: bool) {
    if parent_main_thread {
        if sys::set_parent_death_signal(Some(sys::Signal::Kill)).is_err()
            || sys::getppid() != real_parent
        {
            sys::exit_immediately(1);
        }
        return;
    }
    let Ok(pidfd) = sys::pidfd_open(real_parent) else {
        sys::exit_immediately(1);
    };
    if sys::getppid() != real_parent {
        sys::exit_immediately(1);
    }
    let watcher = std::thread::Builder::new()
        .name("multiproc-parent-watch".into())
        .spawn(move || {
            let _ = codec::poll_readable(&[pidfd.as_fd()], None);
            let _ = sys::kill(sys::getpid(), sys::Signal::Kill);
            sys::exit_immediately(1);
        });
    if watcher.is_err() {
        sys::exit_immediately(1);
    }
}

/// Writes the child's report frame.
fn send_report(sock: std::os::fd::BorrowedFd<'_>, outcome: &Outcome) -> Result<()> {
    let body = codec::to_bytes(&outcome.report)?;
    let fds: Vec<_> = outcome.fds.iter().map(AsFd::as_fd).collect();
    codec::write_frame(sock, &body, &fds)
}

/// The common tail of every child: run, report, clean up, `_exit`.
fn child_main(run: impl FnOnce() -> Outcome, sock: OwnedFd) -> ! {
    target::install_panic_hook();
    let outcome = run();
    // If the parent is gone the report is lost; the exit code still tells the story.
    let _ = send_report(sock.as_fd(), &outcome);
    drop(sock);
    finish(outcome.code)
}

/// Ends a child process: joins its own children, flushes stdio and `_exit`s.
pub(crate) fn finish(code: i32) -> ! {
    started::cleanup();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    sys::exit_immediately(code)
}

/// Starts `target` under `method`.
pub(crate) fn start(
    method: StartMethod,
    target: Box<dyn Target>,
    spec: &Spec,
) -> Result<Arc<Started>> {
    ensure_linked();
    if current::with(|me| me.daemon) {
        return Err(Error::DaemonicParent);
    }
    let _ = started::reap();
    let child = match method {
        StartMethod::Fork => start_fork(target, spec)?,
        StartMethod::Spawn => start_spawn(target.as_ref(), spec)?,
        StartMethod::Forkserver => {
            let call = target.portable()?;
            forkserver::start(call, request_header(spec))?
        }
    };
    let mut child = child;
    child.name = spec.name.clone();
    let child = Arc::new(child);
    started::register(child.clone());
    Ok(child)
}

/// The request for `spec`, with the call fields left empty.
pub(crate) fn request_header(spec: &Spec) -> ChildRequest {
    let (parent_name, parent_pid) = (current::current_process().name().to_owned(), sys::getpid());
    ChildRequest {
        build: target::build_id(),
        trampoline: 0,
        extra: 0,
        payload: Vec::new(),
        name: spec.name.clone(),
        identity: spec.identity.clone(),
        daemon: spec.daemon,
        parent_pid,
        parent_name,
        parent_main_thread: sys::gettid() == parent_pid,
    }
}

fn start_fork(target: Box<dyn Target>, spec: &Spec) -> Result<Started> {
    // Done here rather than in every child (fewer pages to copy after the fork): the panic hook,
    // and the codec's thread-local state.
    target::install_panic_hook();
    // The report channel exists only when a `JoinHandle` will read the report; a plain
    // `Process` child just exits, and `join` waits for one event instead of two.
    let chan = if spec.report {
        let _ = codec::encode_value(&());
        Some(fd::socketpair()?)
    } else {
        None
    };
    let parent_pid = sys::getpid();
    let main_thread = sys::gettid() == parent_pid;
    // The child's identity is built here: every page either side writes after the fork costs a
    // copy-on-write fault, so the child allocates nothing and only moves it into place.
    let child_me = current::fork_child(
        spec.name.clone(),
        spec.identity.clone(),
        spec.daemon,
        parent_pid,
        current::name(),
    );
    // Hold std's stdout/stderr locks and our own locks across the fork, so that no other thread
    // can be holding them at that instant and the child finds them usable (the stdio locks are
    // reentrant and owned by this very thread in the child too).
    let out = std::io::stdout().lock();
    let err = std::io::stderr().lock();
    let mut reg = started::registry();
    let mut fs = forkserver::lock();
    let mut me = current::lock();
    // SAFETY: the child below only touches state guarded by the three locks this thread holds
    // (so no other thread can have left them inconsistent), then runs the target; the
    // fork-with-threads hazard for anything else the target touches is documented on
    // `StartMethod::Fork`. The child never returns from this function: it `_exit`s.
    match unsafe { sys::fork() }? {
        Fork::Child => {
            target::set_fork_child();
            // The parent's children are not ours. Forgotten rather than dropped: dropping would
            // only write to (and so copy) heap pages still shared with the parent.
            std::mem::forget(std::mem::take(&mut *reg));
            if fs.is_some() {
                // Closes our copy of the control socket: the server must see end of stream when
                // the parent dies.
                *fs = None;
            }
            current::install_fork_child(&mut me, child_me);
            drop(me);
            drop(fs);
            drop(reg);
            drop(err);
            drop(out);
            let sock = chan.map(|(ours, theirs)| {
                drop(ours);
                theirs
            });
            if spec.daemon {
                die_with_parent(parent_pid, main_thread);
            }
            match sock {
                Some(sock) => child_main(move || target.run_here(), sock),
                None => finish(target.run_unreported()),
            }
        }
        Fork::Parent(pid) => {
            drop(me);
            drop(fs);
            drop(reg);
            drop(err);
            drop(out);
            let chan = chan.map(|(ours, theirs)| {
                drop(theirs);
                ours
            });
            let pidfd = pidfd_or_reap(pid)?;
            Started::new(
                pid,
                spec.daemon,
                StartMethod::Fork,
                Watch::Child { pidfd },
                chan,
            )
        }
    }
}

/// The environment for a re-executed child: ours, plus the marker.
pub(crate) fn child_env(kind: &str, fd: RawFd) -> Vec<Vec<u8>> {
    let mut env: Vec<Vec<u8>> = std::env::vars_os()
        .filter(|(k, _)| k != MARKER)
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(&v.into_vec());
            kv
        })
        .collect();
    env.push(format!("{MARKER}={kind}:{fd}").into_bytes());
    env
}

/// `argv[0]` for children: the parent's own.
pub(crate) fn argv0() -> String {
    std::env::args_os()
        .next()
        .unwrap_or_else(|| OsString::from("multiproc-child"))
        .to_string_lossy()
        .into_owned()
}

/// Starts `/proc/self/exe` with the marker `kind:<fd of theirs>`; returns its pid.
pub(crate) fn exec_self(kind: &str, theirs: &OwnedFd) -> Result<i32> {
    let env = child_env(kind, theirs.as_raw_fd());
    let argv0 = argv0();
    let cmd = sys::SpawnCommand::new("/proc/self/exe", &[argv0.as_str()], &env)?;
    Ok(cmd.spawn(Some(theirs.as_fd()))?)
}

/// Opens a pidfd for the fresh child `pid`; if that fails (out of descriptors, most likely),
/// kills and reaps the child so that no unwatched process is left behind.
pub(crate) fn pidfd_or_reap(pid: i32) -> Result<OwnedFd> {
    match sys::pidfd_open(pid) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let _ = sys::kill(pid, sys::Signal::Kill);
            let _ = sys::waitpid(pid, true);
            Err(e.into())
        }
    }
}

fn start_spawn(target: &dyn Target, spec: &Spec) -> Result<Started> {
    let call = target.portable()?;
    let mut req = request_header(spec);
    req.trampoline = call.trampoline;
    req.extra = call.extra;
    req.payload = call.payload;
    let body = codec::to_bytes(&req)?;
    let (ours, theirs) = fd::socketpair()?;
    let pid = exec_self("child", &theirs)?;
    drop(theirs);
    let pidfd = pidfd_or_reap(pid)?;
    let fds: Vec<_> = call.fds.iter().map(AsFd::as_fd).collect();
    if let Err(e) = codec::write_frame(ours.as_fd(), &body, &fds) {
        // The child died before reading its request: reap it and report.
        let _ = sys::pidfd_send_signal(&pidfd, sys::Signal::Kill);
        let _ = sys::waitid_pidfd(&pidfd, true);
        return Err(e);
    }
    Started::new(
        pid,
        spec.daemon,
        StartMethod::Spawn,
        Watch::Child { pidfd },
        Some(ours),
    )
}

/// Reads a report delivered by a finished child.
pub(crate) fn decode_report<R: serde::de::DeserializeOwned>(
    report: Option<(Report, Vec<OwnedFd>)>,
    exitcode: Option<i32>,
) -> Result<R> {
    match report {
        Some((Report::Returned(bytes), fds)) => codec::decode_value(&bytes, fds),
        Some((Report::Panicked(p), _)) => Err(Error::Panicked(p)),
        Some((Report::Failed(msg), _)) => Err(Error::Protocol(msg)),
        None => Err(Error::NoResult { exitcode }),
    }
}
