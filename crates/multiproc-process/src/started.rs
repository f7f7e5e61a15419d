//! A started child as seen by its parent: pid, sentinel, result channel and exit status; and the
//! registry of this process's children (reaping, `active_children`, the exit hook).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use multiproc_sys::fd;
use multiproc_sys::process::{self as sys, ExitStatus, Signal};

use crate::codec::{self, FrameReader, Progress};
use crate::context::StartMethod;
use crate::error::Result;
use crate::target::Report;

/// How the parent learns about a child's end.
#[derive(Debug)]
pub(crate) enum Watch {
    /// fork/spawn: our own child, reaped through its pidfd.
    Child {
        /// The child's pidfd (the sentinel).
        pidfd: OwnedFd,
    },
    /// forkserver: the server reports the exit code on `status`; `pidfd` (if the child was still
    /// there when we opened it) tells liveness if the server dies.
    Served {
        /// The status socket (the sentinel).
        status: OwnedFd,
        /// A pidfd for signals and liveness.
        pidfd: Option<OwnedFd>,
    },
}

#[derive(Debug, Default)]
struct State {
    chan: Option<Arc<OwnedFd>>,
    reader: FrameReader,
    report: Option<(Report, Vec<OwnedFd>)>,
    exit: Option<ExitStatus>,
    /// The exit status can no longer be learned (forkserver died, or someone else reaped).
    lost: bool,
    /// The process is known to be gone (exit known, or lost and the pidfd fired).
    gone: bool,
    status_buf: Vec<u8>,
}

/// A started child.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) pid: i32,
    pub(crate) name: String,
    pub(crate) daemon: bool,
    pub(crate) method: StartMethod,
    watch: Watch,
    state: Mutex<State>,
}

impl Started {
    pub(crate) fn new(
        pid: i32,
        daemon: bool,
        method: StartMethod,
        watch: Watch,
        chan: Option<OwnedFd>,
    ) -> Result<Self> {
        if let Some(chan) = &chan {
            fd::set_nonblocking(chan, true)?;
        }
        if let Watch::Served { status, .. } = &watch {
            fd::set_nonblocking(status, true)?;
        }
        Ok(Self {
            pid,
            name: String::new(),
            daemon,
            method,
            watch,
            state: Mutex::new(State {
                chan: chan.map(Arc::new),
                ..State::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fd that becomes readable when the child ends.
    pub(crate) fn sentinel(&self) -> BorrowedFd<'_> {
        match &self.watch {
            Watch::Child { pidfd } => pidfd.as_fd(),
            Watch::Served { status, .. } => status.as_fd(),
        }
    }

    fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        match &self.watch {
            Watch::Child { pidfd } => Some(pidfd.as_fd()),
            Watch::Served { pidfd, .. } => pidfd.as_ref().map(AsFd::as_fd),
        }
    }

    /// Sends `sig` (ignored once the child is gone).
    pub(crate) fn signal(&self, sig: Signal) -> Result<()> {
        if self.state().gone {
            return Ok(());
        }
        let r = match self.pidfd() {
            Some(fd) => sys::pidfd_send_signal(fd, sig),
            None => sys::kill(self.pid, sig),
        };
        match r {
            Err(e) if e.raw_os_error() == Some(sys::ESRCH) => Ok(()),
            r => Ok(r?),
        }
    }

    /// Makes non-blocking progress: reads the result channel and checks for the exit.
    fn pump(&self, st: &mut State) -> Result<()> {
        Self::pump_chan(st)?;
        if st.gone {
            return Ok(());
        }
        match &self.watch {
            Watch::Child { pidfd } => match sys::waitid_pidfd(pidfd, false) {
                Ok(Some(s)) => {
                    st.exit = Some(s);
                    st.gone = true;
                }
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(sys::ECHILD) => {
                    // Somebody else reaped it.
                    st.lost = true;
                    st.gone = true;
                }
                Err(e) => return Err(e.into()),
            },
            Watch::Served { status, pidfd } => {
                if !st.lost {
                    let mut buf = [0u8; 16];
                    let mut fds = Vec::new();
                    loop {
                        match fd::recv_with_fds(status, &mut buf, &mut fds).map(|r| r.bytes) {
                            Ok(0) => {
                                st.lost = true;
                                break;
                            }
                            Ok(n) => st.status_buf.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            Err(_) => {
                                st.lost = true;
                                break;
                            }
                        }
                        if st.status_buf.len() >= 4 {
                            break;
                        }
                    }
                    if let Some(code) = codec::decode_code(&st.status_buf) {
                        st.exit = Some(ExitStatus::from_code(code));
                        st.lost = false;
                        st.gone = true;
                    }
                }
                if st.lost && !st.gone {
                    st.gone = match pidfd {
                        Some(fd) => codec::poll_readable(&[fd.as_fd()], Some(Duration::ZERO))?[0],
                        None => true,
                    };
                }
            }
        }
        if st.gone {
            // Everything the child wrote is buffered by now; take it, or give up on it.
            Self::pump_chan(st)?;
            st.chan = None;
        }
        Ok(())
    }

    fn pump_chan(st: &mut State) -> Result<()> {
        if let Some(chan) = st.chan.clone() {
            match st.reader.poll(&*chan) {
                Ok(Progress::Frame(body, fds)) => {
                    let report = codec::from_bytes::<Report>(&body)
                        .unwrap_or_else(|e| Report::Failed(e.to_string()));
                    st.report = Some((report, fds));
                    st.chan = None;
                }
                Ok(Progress::Pending) => {}
                Ok(Progress::Eof) | Err(_) => st.chan = None,
            }
        }
        Ok(())
    }

    /// Waits until the child has ended or `timeout` passes; true when it has ended.
    ///
    /// The state lock is not held while sleeping, so other threads may query the child (or
    /// wait for it too) meanwhile.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let (lost, chan) = {
                let mut st = self.state();
                self.pump(&mut st)?;
                if st.gone {
                    return Ok(true);
                }
                (st.lost, st.chan.clone())
            };
            let left = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    Some(left)
                }
                None => None,
            };
            let watch_fd = if lost {
                match self.pidfd() {
                    Some(fd) => fd,
                    None => return Ok(true),
                }
            } else {
                self.sentinel()
            };
            match &chan {
                Some(chan) => codec::poll_any(&[watch_fd, chan.as_fd()], left)?,
                None => codec::poll_any(&[watch_fd], left)?,
            }
        }
    }

    /// The exit status, if known; `None` while running or when it was lost.
    pub(crate) fn exit(&self) -> Option<ExitStatus> {
        self.state().exit
    }

    /// Whether the child is still running (makes non-blocking progress).
    pub(crate) fn is_alive(&self) -> bool {
        let mut st = self.state();
        let _ = self.pump(&mut st);
        !st.gone
    }

    /// Whether the exit status was lost (the forkserver died).
    pub(crate) fn lost(&self) -> bool {
        let st = self.state();
        st.gone && st.exit.is_none()
    }

    /// Takes the child's report (after the child has ended).
    pub(crate) fn take_report(&self) -> Option<(Report, Vec<OwnedFd>)> {
        self.state().report.take()
    }
}

static CHILDREN: Mutex<Vec<Arc<Started>>> = Mutex::new(Vec::new());

/// Locks the registry of children (also held across `fork`).
pub(crate) fn registry() -> MutexGuard<'static, Vec<Arc<Started>>> {
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds a child to the registry and makes sure the exit hook is installed.
pub(crate) fn register(child: Arc<Started>) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let _ = sys::at_exit(exit_hook);
    });
    registry().push(child);
}

/// Drops finished children from the registry (reaping them) and returns the rest.
pub(crate) fn reap() -> Vec<Arc<Started>> {
    let mut reg = registry();
    reg.retain(|c| c.is_alive());
    reg.clone()
}

/// Removes a finished child from the registry.
pub(crate) fn forget(child: &Arc<Started>) {
    registry().retain(|c| !Arc::ptr_eq(c, child));
}

extern "C" fn exit_hook() {
    cleanup();
}

/// What happens when a process that started children exits normally: daemonic children are
/// terminated (SIGTERM), then every child is joined, as CPython's exit handler does.
pub(crate) fn cleanup() {
    let kids = match CHILDREN.try_lock() {
        Ok(mut reg) => std::mem::take(&mut *reg),
        Err(_) => return,
    };
    for k in &kids {
        if k.daemon {
            let _ = k.signal(Signal::Term);
        }
    }
    for k in &kids {
        let _ = k.wait(None);
    }
}
