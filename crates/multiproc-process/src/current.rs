//! Who we are: `current_process()`, `parent_process()`, and the counter behind child names.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use multiproc_sys::process as sys;

use crate::codec;

/// This process's identity as multiproc sees it.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    pub(crate) name: String,
    pub(crate) identity: Vec<u32>,
    pub(crate) daemon: bool,
    pub(crate) counter: u32,
    pub(crate) parent: Option<ParentProcess>,
    /// The parent's pidfd is still to be opened, on the first [`parent_process`] call (fork
    /// children: this keeps a syscall and an allocation off the start path).
    parent_pidfd_pending: bool,
}

impl Me {
    fn main() -> Self {
        Self {
            name: "MainProcess".to_owned(),
            identity: Vec::new(),
            daemon: false,
            counter: 0,
            parent: None,
            parent_pidfd_pending: false,
        }
    }
}

static ME: Mutex<Option<Me>> = Mutex::new(None);

/// Locks the identity state (also held across `fork`).
pub(crate) fn lock() -> MutexGuard<'static, Option<Me>> {
    ME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on this process's identity.
pub(crate) fn with<T>(f: impl FnOnce(&mut Me) -> T) -> T {
    let mut g = lock();
    f(g.get_or_insert_with(Me::main))
}

/// Sets the identity of a freshly started spawn or forkserver child. Its parent's pidfd is
/// opened at once: the parent named here need not be the OS parent (a forkserver child's is the
/// server), so the lazy open of a fork child, checked against `getppid()`, does not apply.
pub(crate) fn become_child(
    guard: &mut Option<Me>,
    name: String,
    identity: Vec<u32>,
    daemon: bool,
    parent_pid: i32,
    parent_name: String,
) {
    let mut me = fork_child(name, identity, daemon, parent_pid, parent_name);
    me.parent_pidfd_pending = false;
    if let Some(p) = &mut me.parent {
        p.pidfd = sys::pidfd_open(parent_pid).ok().map(Arc::new);
    }
    *guard = Some(me);
}

/// The identity of a fork child, built by the parent *before* `fork` so that the child only
/// has to move it into place (no allocation, no syscall in the child).
///
/// The parent's pidfd is opened lazily, on the first [`parent_process`] call in the child; that
/// is sound because the forking process is the child's real parent (see [`open_parent_pidfd`]).
pub(crate) fn fork_child(
    name: String,
    identity: Vec<u32>,
    daemon: bool,
    parent_pid: i32,
    parent_name: String,
) -> Me {
    Me {
        name,
        identity,
        daemon,
        counter: 0,
        parent: Some(ParentProcess {
            pid: parent_pid,
            name: parent_name,
            pidfd: None,
        }),
        parent_pidfd_pending: true,
    }
}

/// Installs the identity built by [`fork_child`] in a fork child.
///
/// The previous identity (the parent's) is forgotten rather than dropped, since freeing it would
/// only write to, and so copy, heap pages still shared with the parent; only our copy of the
/// parent's own parent pidfd, if it had opened one, is closed.
pub(crate) fn install_fork_child(guard: &mut Option<Me>, me: Me) {
    if let Some(mut old) = guard.replace(me) {
        if let Some(p) = &mut old.parent {
            drop(p.pidfd.take());
        }
        std::mem::forget(old);
    }
}

/// Opens a pidfd for `parent`, the process that forked us, or `None` if it has ended.
///
/// A pid is not reused while its process runs, and when the parent ends we are reparented at
/// once (before its pid can be freed). So if `getppid()` still names `parent` *after* the open,
/// the pidfd refers to our parent and not to a process that recycled its pid.
fn open_parent_pidfd(parent: i32) -> Option<Arc<OwnedFd>> {
    let fd = sys::pidfd_open(parent).ok()?;
    (sys::getppid() == parent).then(|| Arc::new(fd))
}

/// This process's name.
pub(crate) fn name() -> String {
    with(|me| me.name.clone())
}

/// The next child's name and identity (`Process-1`, `Process-1:2`, ...).
pub(crate) fn next_child_identity() -> (String, Vec<u32>) {
    with(|me| {
        me.counter += 1;
        let mut ident = me.identity.clone();
        ident.push(me.counter);
        let parts: Vec<String> = ident.iter().map(u32::to_string).collect();
        (format!("Process-{}", parts.join(":")), ident)
    })
}

/// A snapshot of the calling process (Python's `current_process()`).
///
/// # Examples
///
/// ```
/// let me = multiproc_process::current_process();
/// assert_eq!(me.name(), "MainProcess");
/// assert_eq!(me.pid(), std::process::id() as i32);
/// assert!(!me.daemon());
/// ```
#[derive(Debug, Clone)]
pub struct CurrentProcess {
    name: String,
    pid: i32,
    daemon: bool,
    identity: Vec<u32>,
}

impl CurrentProcess {
    /// The process's name (`MainProcess` in the main process).
    ///
    /// # Examples
    ///
    /// See [`CurrentProcess`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    ///
    /// # Examples
    ///
    /// See [`CurrentProcess`].
    #[doc(alias = "ident")]
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether this process is daemonic.
    ///
    /// # Examples
    ///
    /// See [`CurrentProcess`].
    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// The position in the process tree (`[]` for the main process, `[1, 2]` for `Process-1:2`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_process::current_process().identity().is_empty());
    /// ```
    pub fn identity(&self) -> &[u32] {
        &self.identity
    }

    /// Always true: the calling process is running.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(multiproc_process::current_process().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        true
    }
}

/// Python's `current_process()`.
///
/// # Examples
///
/// See [`CurrentProcess`].
pub fn current_process() -> CurrentProcess {
    with(|me| CurrentProcess {
        name: me.name.clone(),
        pid: sys::getpid(),
        daemon: me.daemon,
        identity: me.identity.clone(),
    })
}

/// The process that started this one (Python's `parent_process()`).
///
/// Under forkserver the *logical* parent (the process that asked for the child) is reported,
/// not the server that forked it.
///
/// # Examples
///
/// ```
/// // The main process has no multiproc parent.
/// assert!(multiproc_process::parent_process().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ParentProcess {
    pid: i32,
    name: String,
    pidfd: Option<Arc<OwnedFd>>,
}

impl ParentProcess {
    /// The parent's pid.
    ///
    /// # Examples
    ///
    /// See [`parent_process`].
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The parent's name.
    ///
    /// # Examples
    ///
    /// See [`parent_process`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the parent is still running (false once it has died, even if killed).
    ///
    /// # Examples
    ///
    /// See [`parent_process`].
    pub fn is_alive(&self) -> bool {
        match &self.pidfd {
            Some(fd) => !codec::poll_readable(&[fd.as_fd()], Some(Duration::ZERO))
                .map(|r| r[0])
                .unwrap_or(true),
            None => false,
        }
    }

    /// An fd that becomes readable when the parent dies (a pidfd), for
    /// `multiproc_pipe::wait`; `None` when the parent had already ended the first time this
    /// process asked for [`parent_process`] (a fork child opens the pidfd then).
    ///
    /// # Examples
    ///
    /// See [`parent_process`].
    pub fn sentinel(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_deref().map(AsFd::as_fd)
    }
}

/// Python's `parent_process()`: `None` in the main process.
///
/// # Examples
///
/// ```
/// use multiproc_process::{parent_process, Context, StartMethod};
///
/// fn child(_: ()) -> (i32, bool) {
///     let parent = parent_process().unwrap();
///     (parent.pid(), parent.is_alive())
/// }
///
/// let mut h = Context::new(StartMethod::Fork).process_with_result(child, ());
/// h.start().unwrap();
/// assert_eq!(h.join().unwrap(), (std::process::id() as i32, true));
/// ```
pub fn parent_process() -> Option<ParentProcess> {
    with(|me| {
        if me.parent_pidfd_pending {
            me.parent_pidfd_pending = false;
            if let Some(p) = &mut me.parent {
                p.pidfd = open_parent_pidfd(p.pid);
            }
        }
        me.parent.clone()
    })
}
