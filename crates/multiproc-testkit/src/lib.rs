//! Test support for multiproc's multi-process tests (not published).
//!
//! - [`fork`] runs a closure in a forked child; [`Child::join`] waits with a deadline and kills
//!   the child when it is exceeded, so a hang fails the test instead of eating CI.
//! - [`watchdog`] aborts the whole test process after a budget, for tests whose blocking calls
//!   have no timeout of their own.
//! - [`open_fds`], [`open_fd_numbers`] and [`dev_shm`] let a test check that it leaked no
//!   descriptor and no `/dev/shm` entry.
//! - [`children`], [`zombie_children`] and [`pid_alive`] read `/proc` to check that a test
//!   reaped every child it started and that a killed process is really gone.
//!
//! The crate sits below the process crate on purpose: the lower crates test themselves with it
//! without depending on `multiproc-process`.
//!
//! # Examples
//!
//! ```
//! use multiproc_testkit::{DEADLINE, fork};
//!
//! let child = fork(|| assert_eq!(1 + 1, 2));
//! assert!(child.join(DEADLINE));
//! ```
#![allow(unsafe_code)]

use std::time::{Duration, Instant};

/// A generous deadline for one child of a test.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `_exit(code)`.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

/// A forked child process, killed and reaped on drop if still running.
///
/// # Examples
///
/// ```
/// let child = multiproc_testkit::fork_code(|| 3);
/// assert_eq!(child.wait(multiproc_testkit::DEADLINE), multiproc_testkit::Exit::Code(3));
/// ```
#[derive(Debug)]
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

/// Forks; the child runs `f` and exits with 0 if it returned, 1 if it panicked.
///
/// Tests run one per process under nextest, so forking from a test is safe as long as the child
/// sticks to what the test gives it.
///
/// # Panics
///
/// If `fork` fails.
///
/// # Examples
///
/// ```
/// assert!(multiproc_testkit::fork(|| ()).join(multiproc_testkit::DEADLINE));
/// ```
pub fn fork(f: impl FnOnce()) -> Child {
    fork_code(|| {
        f();
        0
    })
}

/// Forks; the child runs `f` and exits with the code it returns (1 if it panicked).
///
/// # Panics
///
/// If `fork` fails.
///
/// # Examples
///
/// ```
/// let c = multiproc_testkit::fork_code(|| 7);
/// assert_eq!(c.wait(multiproc_testkit::DEADLINE), multiproc_testkit::Exit::Code(7));
/// ```
pub fn fork_code(f: impl FnOnce() -> i32) -> Child {
    // SAFETY: the child only runs `f` and then `_exit`s without returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(1);
        // SAFETY: `_exit` ends the child without running the parent's atexit handlers or
        // unwinding into the test harness.
        unsafe { libc::_exit(code) };
    }
    Child { pid, reaped: false }
}

impl Child {
    /// The child's process id.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = multiproc_testkit::fork(|| ());
    /// assert!(c.pid() > 0);
    /// ```
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Waits up to `timeout`; on timeout kills the child and panics (the watchdog).
    ///
    /// # Panics
    ///
    /// On timeout, or if `waitpid` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = multiproc_testkit::fork(|| panic!("boom"));
    /// assert_eq!(c.wait(multiproc_testkit::DEADLINE), multiproc_testkit::Exit::Code(1));
    /// ```
    pub fn wait(mut self, timeout: Duration) -> Exit {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(exit) = self.try_reap() {
                return exit;
            }
            if Instant::now() > deadline {
                let pid = self.pid;
                drop(self);
                panic!("watchdog: child {pid} did not finish within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits up to `timeout` and tells whether the child exited with status 0.
    ///
    /// # Panics
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!multiproc_testkit::fork_code(|| 2).join(multiproc_testkit::DEADLINE));
    /// ```
    pub fn join(self, timeout: Duration) -> bool {
        self.wait(timeout) == Exit::Code(0)
    }

    /// Reaps the child if it has ended, without blocking.
    ///
    /// # Panics
    ///
    /// If `waitpid` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut c = multiproc_testkit::fork(|| std::thread::sleep(std::time::Duration::from_secs(5)));
    /// assert_eq!(c.try_reap(), None);
    /// c.kill();
    /// ```
    pub fn try_reap(&mut self) -> Option<Exit> {
        if self.reaped {
            return None;
        }
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
        if r == 0 {
            return None;
        }
        assert_eq!(
            r,
            self.pid,
            "waitpid failed: {}",
            std::io::Error::last_os_error()
        );
        self.reaped = true;
        Some(if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            Exit::Code(libc::WEXITSTATUS(status))
        })
    }

    /// Sends `signal` to the child (it is reaped by a later wait or on drop).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = multiproc_testkit::fork(|| std::thread::sleep(std::time::Duration::from_secs(5)));
    /// c.signal(libc::SIGTERM);
    /// assert_eq!(c.wait(multiproc_testkit::DEADLINE), multiproc_testkit::Exit::Signal(libc::SIGTERM));
    /// ```
    pub fn signal(&self, signal: i32) {
        if !self.reaped {
            // SAFETY: signalling our own, not yet reaped, child.
            unsafe { libc::kill(self.pid, signal) };
        }
    }

    /// Kills the child with `SIGKILL` and reaps it.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = multiproc_testkit::fork(|| std::thread::sleep(std::time::Duration::from_secs(5)));
    /// c.kill();
    /// ```
    pub fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        if self.reaped {
            return;
        }
        self.signal(libc::SIGKILL);
        let mut status = 0;
        // SAFETY: reaping our own child with a valid out-pointer.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
        self.reaped = true;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Aborts the whole test process if it still runs after `secs` seconds.
///
/// # Examples
///
/// ```
/// multiproc_testkit::watchdog(600);
/// ```
pub fn watchdog(secs: u64) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        eprintln!("watchdog: test still running after {secs} s; aborting");
        std::process::abort();
    });
}

/// The number of open file descriptors of this process.
///
/// # Examples
///
/// ```
/// let before = multiproc_testkit::open_fds();
/// let f = std::fs::File::open("/dev/null").unwrap();
/// assert_eq!(multiproc_testkit::open_fds(), before + 1);
/// ```
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count().saturating_sub(1)) // the directory handle itself
        .unwrap_or(0)
}

/// The names in `/dev/shm`, sorted.
///
/// # Examples
///
/// ```
/// let names = multiproc_testkit::dev_shm();
/// assert!(names.windows(2).all(|w| w[0] <= w[1]));
/// ```
pub fn dev_shm() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The `/dev/shm` names that contain this process's pid (segments multiproc named for us).
///
/// # Examples
///
/// ```
/// assert!(multiproc_testkit::own_dev_shm().is_empty());
/// ```
pub fn own_dev_shm() -> Vec<String> {
    let pid = format!("_{}_", std::process::id());
    dev_shm().into_iter().filter(|n| n.contains(&pid)).collect()
}

/// The numbers of this process's open file descriptors, sorted (for a readable message when a
/// leak check fails; [`open_fds`] is the count).
///
/// # Examples
///
/// ```
/// let fds = multiproc_testkit::open_fd_numbers();
/// assert!(fds.contains(&0) || fds.contains(&2));
/// assert!(fds.windows(2).all(|w| w[0] < w[1]));
/// ```
pub fn open_fd_numbers() -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let mut v: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The directory handle of `read_dir` itself was listed too; drop it if it is closed now.
    v.retain(|&fd| std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_ok());
    v.sort_unstable();
    v
}

/// The state letter (`R`, `S`, `Z`, ...) and parent pid of process `pid`, from
/// `/proc/<pid>/stat`; `None` when there is no such process.
fn stat(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may itself contain `)` or spaces.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// This process's children (including zombies not yet reaped), each with its state letter from
/// `/proc/<pid>/stat` (`Z` for a zombie).
///
/// # Examples
///
/// ```
/// use multiproc_testkit::{children, fork};
///
/// let child = fork(|| std::thread::sleep(std::time::Duration::from_secs(30)));
/// let pid = child.pid();
/// assert!(children().iter().any(|&(p, _)| p == pid));
/// child.kill(); // kills and reaps
/// assert!(children().iter().all(|&(p, _)| p != pid));
/// ```
pub fn children() -> Vec<(i32, char)> {
    let Ok(me) = i32::try_from(std::process::id()) else {
        return Vec::new();
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<(i32, char)> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| match stat(pid) {
            Some((state, ppid)) if ppid == me => Some((pid, state)),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out
}

/// Pids of this process's children that have ended but were not reaped (zombies); a test that
/// cleaned up after itself finds none.
///
/// # Examples
///
/// ```
/// use multiproc_testkit::{DEADLINE, fork_code, zombie_children};
/// use std::time::{Duration, Instant};
///
/// let child = fork_code(|| 0);
/// let end = Instant::now() + DEADLINE;
/// while !zombie_children().contains(&child.pid()) {
///     assert!(Instant::now() < end, "the child never ended");
///     std::thread::sleep(Duration::from_millis(1));
/// }
/// let pid = child.pid();
/// assert!(child.join(DEADLINE)); // reaps
/// assert!(!zombie_children().contains(&pid));
/// ```
pub fn zombie_children() -> Vec<i32> {
    children()
        .into_iter()
        .filter(|&(_, state)| state == 'Z')
        .map(|(pid, _)| pid)
        .collect()
}

/// Whether a process with this pid exists and is not a zombie (any process, not only our
/// children).
///
/// # Examples
///
/// ```
/// let me = i32::try_from(std::process::id()).unwrap();
/// assert!(multiproc_testkit::pid_alive(me));
/// assert!(!multiproc_testkit::pid_alive(-1));
/// ```
pub fn pid_alive(pid: i32) -> bool {
    pid > 0 && stat(pid).is_some_and(|(state, _)| state != 'Z')
}
