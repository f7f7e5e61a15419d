//! Process control: the one audited `fork`, `waitid`/`waitpid`, pidfds, signals, the parent
//! death signal, `posix_spawn` of the running binary and fd hygiene for children. Sockets, fd
//! passing and `poll` live in [`crate::fd`].
//!
//! Pids are plain `i32` (`pid_t`) here so that no `rustix` type leaks out of this crate.
//!
//! # Examples
//!
//! ```
//! use multiproc_sys::process;
//!
//! assert!(process::getpid() > 0);
//! assert!(process::cpu_count() >= 1);
//! ```
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use rustix::process::{Pid, PidfdFlags, WaitId, WaitIdOptions, WaitOptions};

/// `ESRCH`: no such process (already reaped).
pub const ESRCH: i32 = libc::ESRCH;
/// `ECHILD`: not an unreaped child of ours.
pub const ECHILD: i32 = libc::ECHILD;

/// What [`fork`] returned, seen from each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fork {
    /// We are the new child process.
    Child,
    /// We are the parent; the child has this pid.
    Parent(i32),
}

/// `fork()`—creates a child process that is a copy of the caller.
///
/// This is the one call of `fork` in multiproc (`rustix` offers only an experimental
/// `kernel_fork` that cannot coexist with libc's own bookkeeping, so this goes through
/// `libc::fork`, which runs the `pthread_atfork` handlers that keep `malloc` usable in the child).
///
/// # Safety
///
/// The child starts with a single thread: the one that called `fork`. Any lock held by another
/// thread at the moment of the fork (inside std, inside another library, or your own) stays
/// locked forever in the child, so if the process had other threads the child must only touch
/// state that it knows no other thread could have been holding: the caller must make sure of
/// that (for example by holding its own locks across the call, by not using stdio locks that
/// other threads may hold, or by calling only async-signal-safe functions before `exec`/`_exit`).
/// The child must leave with [`exit_immediately`] (never by returning into code that believes it
/// still is the parent, and never by unwinding past the fork point).
///
/// # Errors
///
/// `EAGAIN`/`ENOMEM` from the kernel.
///
/// # Examples
///
/// ```
/// use multiproc_sys::process::{self, Fork};
///
/// // SAFETY: the child only calls `_exit`.
/// match unsafe { process::fork() }.unwrap() {
///     Fork::Child => process::exit_immediately(7),
///     Fork::Parent(pid) => {
///         let status = process::waitpid(pid, true).unwrap().unwrap();
///         assert_eq!(status.code(), 7);
///     }
/// }
/// ```
///
/// # References
/// - [`fork(2)`](https://man7.org/linux/man-pages/man2/fork.2.html)
pub unsafe fn fork() -> io::Result<Fork> {
    // SAFETY: `fork` has no memory-safety preconditions of its own; the caller upholds the
    // documented contract about what the child may do afterwards.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid)),
    }
}

/// `_exit(code)`—ends the process at once, without running `atexit` handlers or flushing
/// Rust's buffered stdout.
///
/// # Examples
///
/// ```no_run
/// multiproc_sys::process::exit_immediately(0);
/// ```
///
/// # References
/// - [`_exit(2)`](https://man7.org/linux/man-pages/man2/_exit.2.html)
#[doc(alias = "_exit")]
pub fn exit_immediately(code: i32) -> ! {
    // Called through a function pointer (bound when the program is loaded) rather than the PLT:
    // with lazy binding, a fork child would otherwise resolve `_exit` anew every time, copying
    // the pages the resolver writes.
    let exit: unsafe extern "C" fn(libc::c_int) -> ! = std::hint::black_box(libc::_exit);
    // SAFETY: `_exit` is async-signal-safe and accepts any status; it never returns.
    unsafe { exit(code) }
}

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It exited with this status (`0..=255`).
    Exited(i32),
    /// A signal with this number killed it.
    Signaled(i32),
}

impl ExitStatus {
    /// Python's `exitcode`: the exit status, or the negated signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sys::process::ExitStatus;
    /// assert_eq!(ExitStatus::Exited(3).code(), 3);
    /// assert_eq!(ExitStatus::Signaled(9).code(), -9);
    /// ```
    pub fn code(self) -> i32 {
        match self {
            Self::Exited(c) => c,
            Self::Signaled(s) => -s,
        }
    }

    /// The inverse of [`code`](Self::code).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_sys::process::ExitStatus;
    /// assert_eq!(ExitStatus::from_code(-15), ExitStatus::Signaled(15));
    /// ```
    pub fn from_code(code: i32) -> Self {
        if code < 0 {
            Self::Signaled(code.saturating_neg())
        } else {
            Self::Exited(code)
        }
    }
}

fn pid(raw: i32) -> io::Result<Pid> {
    Pid::from_raw(raw).ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))
}

/// `getpid()`—the calling process's id.
///
/// # Examples
///
/// ```
/// assert_eq!(multiproc_sys::process::getpid(), std::process::id() as i32);
/// ```
pub fn getpid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// `getppid()`—the parent's pid, or 0 when the parent is outside our pid namespace.
///
/// # Examples
///
/// ```
/// assert!(multiproc_sys::process::getppid() >= 0);
/// ```
pub fn getppid() -> i32 {
    rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get())
}

/// `gettid()`—the calling thread's id (equal to [`getpid`] on the main thread).
///
/// # Examples
///
/// ```
/// // Doctests run `main` on the main thread.
/// assert_eq!(multiproc_sys::process::gettid(), multiproc_sys::process::getpid());
/// ```
pub fn gettid() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// `waitpid(pid, &status, block ? 0 : WNOHANG)`—reaps the child `pid`.
///
/// Returns `Ok(None)` when `block` is false and the child is still running.
///
/// # Errors
///
/// `ECHILD` when `pid` is not an unreaped child of ours.
///
/// # Examples
///
/// See [`fork`].
///
/// # References
/// - [`waitpid(2)`](https://man7.org/linux/man-pages/man2/waitpid.2.html)
pub fn waitpid(child: i32, block: bool) -> io::Result<Option<ExitStatus>> {
    let opts = if block {
        WaitOptions::empty()
    } else {
        WaitOptions::NOHANG
    };
    loop {
        match rustix::process::waitpid(Some(pid(child)?), opts) {
            Ok(Some((_, status))) => {
                if let Some(code) = status.exit_status() {
                    return Ok(Some(ExitStatus::Exited(code)));
                }
                if let Some(sig) = status.terminating_signal() {
                    return Ok(Some(ExitStatus::Signaled(sig)));
                }
                // Stopped/continued reports are not asked for; loop defensively.
                if !block {
                    return Ok(None);
                }
            }
            Ok(None) => return Ok(None),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `pidfd_open(pid, 0)`—a file descriptor that refers to process `pid` and becomes readable
/// when it terminates.
///
/// # Errors
///
/// `ESRCH` when no such process exists.
///
/// # Examples
///
/// ```
/// let fd = multiproc_sys::process::pidfd_open(multiproc_sys::process::getpid()).unwrap();
/// ```
///
/// # References
/// - [`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
pub fn pidfd_open(process: i32) -> io::Result<OwnedFd> {
    Ok(rustix::process::pidfd_open(
        pid(process)?,
        PidfdFlags::empty(),
    )?)
}

/// `waitid(P_PIDFD, pidfd, WEXITED | (block ? 0 : WNOHANG))`—reaps the child behind a pidfd.
///
/// Returns `Ok(None)` when `block` is false and the child is still running. Waiting through the
/// pidfd cannot hit a recycled pid.
///
/// # Errors
///
/// `ECHILD` when the process is not an unreaped child of ours.
///
/// # Examples
///
/// ```
/// use multiproc_sys::process::{self, Fork};
/// // SAFETY: the child only calls `_exit`.
/// if let Fork::Parent(pid) = unsafe { process::fork() }.unwrap() {
///     let fd = process::pidfd_open(pid).unwrap();
///     let status = process::waitid_pidfd(&fd, true).unwrap().unwrap();
///     assert_eq!(status.code(), 0);
/// } else {
///     process::exit_immediately(0);
/// }
/// ```
///
/// # References
/// - [`waitid(2)`](https://man7.org/linux/man-pages/man2/waitid.2.html)
pub fn waitid_pidfd(pidfd: impl AsFd, block: bool) -> io::Result<Option<ExitStatus>> {
    let mut opts = WaitIdOptions::EXITED;
    if !block {
        opts |= WaitIdOptions::NOHANG;
    }
    loop {
        match rustix::process::waitid(WaitId::PidFd(pidfd.as_fd()), opts) {
            Ok(Some(status)) => {
                if let Some(code) = status.exit_status() {
                    return Ok(Some(ExitStatus::Exited(code)));
                }
                if let Some(sig) = status.terminating_signal() {
                    return Ok(Some(ExitStatus::Signaled(sig)));
                }
                // With WNOHANG and no state change the kernel leaves si_pid at 0.
                return Ok(None);
            }
            Ok(None) => return Ok(None),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The signals multiproc sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGTERM` (15): Python's `terminate()`.
    Term,
    /// `SIGKILL` (9): Python's `kill()`.
    Kill,
    /// `SIGINT` (2): Python's `interrupt()`.
    Int,
}

impl Signal {
    fn to_rustix(self) -> rustix::process::Signal {
        match self {
            Self::Term => rustix::process::Signal::TERM,
            Self::Kill => rustix::process::Signal::KILL,
            Self::Int => rustix::process::Signal::INT,
        }
    }

    /// The signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_sys::process::Signal::Kill.number(), 9);
    /// ```
    pub fn number(self) -> i32 {
        self.to_rustix().as_raw()
    }
}

/// `kill(pid, sig)`—sends a signal to a process.
///
/// # Errors
///
/// `ESRCH` when no such process exists, `EPERM` when we may not signal it.
///
/// # Examples
///
/// ```
/// use multiproc_sys::process::{self, Signal};
/// assert!(process::kill(i32::MAX, Signal::Term).is_err());
/// ```
///
/// # References
/// - [`kill(2)`](https://man7.org/linux/man-pages/man2/kill.2.html)
pub fn kill(process: i32, sig: Signal) -> io::Result<()> {
    Ok(rustix::process::kill_process(
        pid(process)?,
        sig.to_rustix(),
    )?)
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`—sends a signal to the process behind a pidfd (no
/// risk of hitting a recycled pid).
///
/// # Errors
///
/// `ESRCH` when the process has already been reaped.
///
/// # Examples
///
/// ```
/// use multiproc_sys::process::{self, Fork, Signal};
/// // SAFETY: the child only pauses and is killed.
/// if let Fork::Parent(pid) = unsafe { process::fork() }.unwrap() {
///     let fd = process::pidfd_open(pid).unwrap();
///     process::pidfd_send_signal(&fd, Signal::Kill).unwrap();
///     assert_eq!(process::waitid_pidfd(&fd, true).unwrap().unwrap().code(), -9);
/// } else {
///     loop { std::hint::spin_loop() }
/// }
/// ```
///
/// # References
/// - [`pidfd_send_signal(2)`](https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html)
pub fn pidfd_send_signal(pidfd: impl AsFd, sig: Signal) -> io::Result<()> {
    Ok(rustix::process::pidfd_send_signal(
        pidfd.as_fd(),
        sig.to_rustix(),
    )?)
}

/// `prctl(PR_SET_PDEATHSIG, sig)`—asks the kernel to send `sig` to the caller when the thread
/// that created it exits (`None` clears it).
///
/// Note the kernel ties this to the parent *thread*, not the parent process: a child started
/// from a short-lived thread gets the signal when that thread ends.
///
/// # Errors
///
/// Only `EINVAL` for a bad signal, which cannot be expressed here.
///
/// # Examples
///
/// ```
/// multiproc_sys::process::set_parent_death_signal(None).unwrap();
/// ```
///
/// # References
/// - [`prctl(2)`](https://man7.org/linux/man-pages/man2/prctl.2.html)
#[doc(alias = "PR_SET_PDEATHSIG")]
pub fn set_parent_death_signal(sig: Option<Signal>) -> io::Result<()> {
    Ok(rustix::process::set_parent_process_death_signal(
        sig.map(Signal::to_rustix),
    )?)
}

/// `sched_getaffinity(0)`—how many CPUs this process may run on (at least 1).
///
/// # Examples
///
/// ```
/// assert!(multiproc_sys::process::cpu_count() >= 1);
/// ```
///
/// # References
/// - [`sched_getaffinity(2)`](https://man7.org/linux/man-pages/man2/sched_getaffinity.2.html)
pub fn cpu_count() -> usize {
    match rustix::thread::sched_getaffinity(None) {
        Ok(set) => usize::try_from(set.count()).unwrap_or(1).max(1),
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// `close_range(first, last, 0)`—closes every descriptor `>= 3` except those in `keep`
/// (stdin, stdout and stderr always stay).
///
/// # Errors
///
/// Errors from `close_range(2)` (`ENOSYS` before Linux 5.9).
///
/// # Examples
///
/// ```no_run
/// // In a freshly started child that must hold only fd 5 besides stdio:
/// multiproc_sys::process::close_fds_except(&[5]).unwrap();
/// ```
///
/// # References
/// - [`close_range(2)`](https://man7.org/linux/man-pages/man2/close_range.2.html)
pub fn close_fds_except(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .filter(|&fd| fd >= 3)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first: u32 = 3;
    for fd in keep.into_iter().chain(std::iter::once(u32::MAX)) {
        if fd > first {
            let last = fd - 1;
            close_range(first, last)?;
        }
        if fd == u32::MAX {
            break;
        }
        first = fd + 1;
    }
    Ok(())
}

fn close_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range only closes descriptors; the caller decided they are not needed.
    // Descriptors owned by live `OwnedFd`s in this process would be invalidated, which is why the
    // public wrapper is meant for a child that has not yet created any.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `write(2, bytes)`—writes to stderr directly, without std's stderr lock (which another
/// thread may have held at the moment of a `fork`). Errors are ignored.
///
/// # Examples
///
/// ```
/// multiproc_sys::process::write_stderr_raw(b"");
/// ```
pub fn write_stderr_raw(mut bytes: &[u8]) {
    // SAFETY: fd 2 is stderr for the life of the process; borrowing it for the duration of the
    // writes does not close or transfer it.
    let fd = unsafe { BorrowedFd::borrow_raw(2) };
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// Ignores `SIGPIPE` (as Rust's runtime does before `main`), so that writing to a closed pipe
/// returns `EPIPE` instead of killing the process.
///
/// # Examples
///
/// ```
/// multiproc_sys::process::ignore_sigpipe();
/// ```
pub fn ignore_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// `atexit(f)`—runs `f` when the process exits normally (return from `main` or
/// `std::process::exit`), after handlers registered later.
///
/// # Errors
///
/// `ENOMEM` when libc's handler table is full.
///
/// # Examples
///
/// ```
/// extern "C" fn bye() {}
/// multiproc_sys::process::at_exit(bye).unwrap();
/// ```
///
/// # References
/// - [`atexit(3)`](https://man7.org/linux/man-pages/man3/atexit.3.html)
#[doc(alias = "atexit")]
pub fn at_exit(f: extern "C" fn()) -> io::Result<()> {
    // SAFETY: `f` is a plain `extern "C" fn()` with a 'static lifetime, as atexit requires.
    if unsafe { libc::atexit(f) } == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(libc::ENOMEM))
    }
}

/// Whether `fd` is an open descriptor in this process (`fcntl(fd, F_GETFD)` succeeds).
///
/// # Examples
///
/// ```
/// assert!(multiproc_sys::process::fd_is_open(2));
/// assert!(!multiproc_sys::process::fd_is_open(-1));
/// ```
pub fn fd_is_open(fd: RawFd) -> bool {
    if fd < 0 {
        return false;
    }
    // SAFETY: F_GETFD only queries the flags of a descriptor number; an unused number yields
    // EBADF and no descriptor is created or closed.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// A `posix_spawn` command line prepared ahead of time (argv and envp as C strings), so that
/// starting the child allocates nothing between the kernel's `clone` and `execve`.
///
/// The child gets default dispositions for `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGCHLD`, an empty
/// signal mask, and keeps one extra descriptor open across `exec` (its close-on-exec flag is
/// cleared in the child only).
///
/// # Examples
///
/// ```
/// use multiproc_sys::process::{SpawnCommand, waitpid};
/// let cmd = SpawnCommand::new("/bin/true", &["true"], &[]).unwrap();
/// let pid = cmd.spawn(None).unwrap();
/// assert_eq!(waitpid(pid, true).unwrap().unwrap().code(), 0);
/// ```
#[derive(Debug)]
pub struct SpawnCommand {
    path: CString,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
}

// SAFETY: the raw pointers point into the CStrings owned by the same struct, which are never
// mutated after construction; sharing or moving the struct between threads is as safe as sharing
// the CStrings themselves.
unsafe impl Send for SpawnCommand {}
// SAFETY: see `Send`; `spawn` only reads the arrays.
unsafe impl Sync for SpawnCommand {}

impl SpawnCommand {
    /// Prepares `path` with `argv` and the environment `env` (`KEY=VALUE` strings).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when a string contains a NUL byte.
    ///
    /// # Examples
    ///
    /// See [`SpawnCommand`].
    pub fn new(path: &str, argv: &[&str], env: &[Vec<u8>]) -> io::Result<Self> {
        fn c(s: &[u8]) -> io::Result<CString> {
            CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "nul byte"))
        }
        let path = c(path.as_bytes())?;
        let argv: Vec<CString> = argv
            .iter()
            .map(|a| c(a.as_bytes()))
            .collect::<io::Result<_>>()?;
        let envp: Vec<CString> = env.iter().map(|e| c(e)).collect::<io::Result<_>>()?;
        let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const libc::c_char> = envp.iter().map(|a| a.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());
        Ok(Self {
            path,
            _argv: argv,
            _envp: envp,
            argv_ptrs,
            envp_ptrs,
        })
    }

    /// The program path.
    ///
    /// # Examples
    ///
    /// ```
    /// let cmd = multiproc_sys::process::SpawnCommand::new("/bin/true", &[], &[]).unwrap();
    /// assert_eq!(cmd.path().to_bytes(), b"/bin/true");
    /// ```
    pub fn path(&self) -> &CStr {
        &self.path
    }

    /// `posix_spawn(path, argv, envp)`—starts the program; `inherit` stays open in the child
    /// under the same number. Returns the child's pid.
    ///
    /// # Errors
    ///
    /// Errors from `posix_spawn(3)` (for example `ENOENT`).
    ///
    /// # Examples
    ///
    /// See [`SpawnCommand`].
    ///
    /// # References
    /// - [`posix_spawn(3)`](https://man7.org/linux/man-pages/man3/posix_spawn.3.html)
    pub fn spawn(&self, inherit: Option<BorrowedFd<'_>>) -> io::Result<i32> {
        let mut actions = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
        let mut attr = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
        // SAFETY: initialises the file-actions object in place.
        check(unsafe { libc::posix_spawn_file_actions_init(actions.as_mut_ptr()) })?;
        let actions = Guard(actions.as_mut_ptr(), |p| {
            // SAFETY: `p` was initialised above and is destroyed once.
            unsafe { libc::posix_spawn_file_actions_destroy(p) };
        });
        // SAFETY: initialises the attributes object in place.
        check(unsafe { libc::posix_spawnattr_init(attr.as_mut_ptr()) })?;
        let attr = Guard(attr.as_mut_ptr(), |p| {
            // SAFETY: `p` was initialised above and is destroyed once.
            unsafe { libc::posix_spawnattr_destroy(p) };
        });
        if let Some(fd) = inherit {
            let raw = fd.as_raw_fd();
            // SAFETY: `actions.0` is initialised; dup2(fd, fd) in posix_spawn clears
            // FD_CLOEXEC in the child (glibc >= 2.29, musl).
            check(unsafe { libc::posix_spawn_file_actions_adddup2(actions.0, raw, raw) })?;
        }
        let mut defaults = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: initialises the set in place.
        check(unsafe { libc::sigemptyset(defaults.as_mut_ptr()) })?;
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGCHLD] {
            // SAFETY: the set was initialised by sigemptyset.
            check(unsafe { libc::sigaddset(defaults.as_mut_ptr(), sig) })?;
        }
        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: initialises the set in place.
        check(unsafe { libc::sigemptyset(empty.as_mut_ptr()) })?;
        // SAFETY: `attr.0` is initialised and `defaults` is a valid set.
        check(unsafe { libc::posix_spawnattr_setsigdefault(attr.0, defaults.as_ptr()) })?;
        // SAFETY: `attr.0` is initialised and `empty` is a valid set.
        check(unsafe { libc::posix_spawnattr_setsigmask(attr.0, empty.as_ptr()) })?;
        let flags = libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
        let flags = libc::c_short::try_from(flags).unwrap_or(0);
        // SAFETY: `attr.0` is initialised.
        check(unsafe { libc::posix_spawnattr_setflags(attr.0, flags) })?;
        let mut child: libc::pid_t = 0;
        // SAFETY: every pointer is valid: the path and both NULL-terminated arrays point into
        // C strings owned by `self`, and the actions/attributes objects are initialised.
        check(unsafe {
            libc::posix_spawn(
                &mut child,
                self.path.as_ptr(),
                actions.0,
                attr.0,
                self.argv_ptrs.as_ptr().cast::<*mut libc::c_char>(),
                self.envp_ptrs.as_ptr().cast::<*mut libc::c_char>(),
            )
        })?;
        Ok(child)
    }
}

struct Guard<T>(*mut T, fn(*mut T));

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        (self.1)(self.0);
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_except_keeps_listed() {
        // Runs in a forked child so that closing descriptors cannot disturb the test harness.
        let (a, b) = crate::fd::socketpair().unwrap();
        // SAFETY: the child only makes raw syscalls and exits.
        match unsafe { fork() }.unwrap() {
            Fork::Child => {
                let keep = a.as_raw_fd();
                let ok = close_fds_except(&[keep]).is_ok()
                    && rustix::io::fcntl_getfd(&a).is_ok()
                    && rustix::io::fcntl_getfd(&b).is_err();
                exit_immediately(if ok { 0 } else { 1 });
            }
            Fork::Parent(pid) => {
                assert_eq!(waitpid(pid, true).unwrap(), Some(ExitStatus::Exited(0)));
            }
        }
    }

    #[test]
    fn exit_codes_round_trip() {
        for c in [-15, -9, 0, 1, 255] {
            assert_eq!(ExitStatus::from_code(c).code(), c);
        }
    }
}
