//! The forkserver: a spawned, single-threaded copy of the program that forks children on
//! request, and the client side that talks to it.
//!
//! # Protocol
//!
//! The client keeps one control socket to the server. A request is one frame (see
//! [`codec`](crate::codec)) holding a [`ChildRequest`], with fds attached in this order: the
//! server's end of a fresh *status* socketpair, the child's end of a fresh *result* socketpair,
//! then the argument fds. The server forks; the child keeps only the result socket and the
//! argument fds and runs the request exactly like a spawned child. The server writes the child's
//! pid (4 bytes, little-endian) on the status socket at once and, when the child ends, its exit
//! code (4 bytes, negative for a signal), then closes the status socket.
//!
//! The server exits when the control socket reaches end of stream, which happens when the
//! client process dies, however it dies; daemonic children have `PR_SET_PDEATHSIG` pointed at
//! the server and die with it. A client that finds the server dead (a failed send, or end of
//! stream instead of a pid) reaps it, starts a new one and retries once; a second failure is
//! reported as [`Error::Forkserver`].

#![allow(unsafe_code)]

use std::io::IoSlice;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use multiproc_sys::fd;
use multiproc_sys::process::{self as sys, Fork};

use crate::bootstrap::{self, ChildRequest};
use crate::codec;
use crate::context::StartMethod;
use crate::error::{Error, Result};
use crate::started::{Started, Watch};
use crate::target::PortableCall;

/// How long the client waits for the server to answer with a pid.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// The client's connection to its forkserver.
#[derive(Debug)]
pub(crate) struct Client {
    ctl: OwnedFd,
    pid: i32,
    pidfd: OwnedFd,
}

static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

/// Locks the client state (also held across `fork`).
pub(crate) fn lock() -> MutexGuard<'static, Option<Client>> {
    CLIENT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pid of this process's forkserver, if one is running (for tests and diagnostics).
pub(crate) fn pid() -> Option<i32> {
    lock().as_ref().map(|c| c.pid)
}

fn launch() -> Result<Client> {
    let (ours, theirs) = fd::socketpair()?;
    let pid = bootstrap::exec_self("forkserver", &theirs)?;
    drop(theirs);
    let pidfd = bootstrap::pidfd_or_reap(pid)?;
    Ok(Client {
        ctl: ours,
        pid,
        pidfd,
    })
}

fn retire(client: Client) {
    let _ = sys::pidfd_send_signal(&client.pidfd, sys::Signal::Kill);
    let _ = sys::waitid_pidfd(&client.pidfd, true);
}

/// Asks the forkserver (started on first use) for a child running `call`.
pub(crate) fn start(call: PortableCall, mut req: ChildRequest) -> Result<Started> {
    req.trampoline = call.trampoline;
    req.extra = call.extra;
    req.payload = call.payload;
    let body = codec::to_bytes(&req)?;
    let daemon = req.daemon;
    let mut guard = lock();
    let mut last_error = String::new();
    for _attempt in 0..2 {
        let client = match guard.take() {
            Some(c) => c,
            None => launch()?,
        };
        match ask(&client, &body, &call.fds) {
            Ok((pid, status, result)) => {
                *guard = Some(client);
                drop(guard);
                let pidfd = sys::pidfd_open(pid).ok();
                return Started::new(
                    pid,
                    daemon,
                    StartMethod::Forkserver,
                    Watch::Served { status, pidfd },
                    Some(result),
                );
            }
            Err(e) => {
                last_error = e.to_string();
                retire(client);
            }
        }
    }
    Err(Error::Forkserver(last_error))
}

fn ask(client: &Client, body: &[u8], arg_fds: &[OwnedFd]) -> Result<(i32, OwnedFd, OwnedFd)> {
    let (status_c, status_s) = fd::socketpair()?;
    let (result_c, result_child) = fd::socketpair()?;
    let mut fds = vec![status_s.as_fd(), result_child.as_fd()];
    fds.extend(arg_fds.iter().map(AsFd::as_fd));
    codec::write_frame(client.ctl.as_fd(), body, &fds)?;
    drop(fds);
    drop(status_s);
    drop(result_child);
    let mut got = Vec::with_capacity(4);
    while got.len() < 4 {
        let ready = codec::poll_readable(&[status_c.as_fd()], Some(ANSWER_TIMEOUT))?;
        if !ready[0] {
            return Err(Error::Forkserver("no answer from the forkserver".into()));
        }
        let mut buf = [0u8; 4];
        let mut stray = Vec::new();
        let n = fd::recv_with_fds(&status_c, &mut buf[..4 - got.len()], &mut stray)?.bytes;
        if n == 0 {
            return Err(Error::Forkserver("the forkserver died".into()));
        }
        got.extend_from_slice(&buf[..n]);
    }
    let pid = codec::decode_code(&got).unwrap_or(0);
    if pid <= 0 {
        return Err(Error::Forkserver("the forkserver could not fork".into()));
    }
    Ok((pid, status_c, result_c))
}

/// Sends one little-endian `i32` (a pid or an exit code) on a status socket (`MSG_NOSIGNAL`).
fn send_code(sock: &OwnedFd, code: i32) -> std::io::Result<usize> {
    fd::send_with_fds(sock, &[IoSlice::new(&code.to_le_bytes())], &[])
}

struct Kid {
    pidfd: OwnedFd,
    status: OwnedFd,
}

/// The server's main loop (runs in the spawned server process, from the constructor).
pub(crate) fn serve(ctl: OwnedFd) -> ! {
    let me = sys::getpid();
    // Computed once here, inherited by every forked child.
    let _ = crate::target::build_id();
    let mut kids: Vec<Kid> = Vec::new();
    loop {
        let mut watch = vec![ctl.as_fd()];
        watch.extend(kids.iter().map(|k| k.pidfd.as_fd()));
        let ready = match codec::poll_readable(&watch, None) {
            Ok(r) => r,
            Err(_) => sys::exit_immediately(1),
        };
        drop(watch);
        for i in (0..kids.len()).rev() {
            if ready[i + 1] {
                if let Ok(Some(status)) = sys::waitid_pidfd(&kids[i].pidfd, false) {
                    let kid = kids.swap_remove(i);
                    let _ = send_code(&kid.status, status.code());
                }
            }
        }
        if ready[0] {
            let (body, mut fds) = match codec::read_frame(&ctl) {
                Ok(x) => x,
                // End of stream (the client is gone) or garbage: stop serving.
                Err(_) => sys::exit_immediately(0),
            };
            let req = match codec::from_bytes::<ChildRequest>(&body) {
                Ok(r) if fds.len() >= 2 => r,
                _ => continue,
            };
            let status = fds.remove(0);
            let result = fds.remove(0);
            // SAFETY: the server is single-threaded, so no lock can be held by another thread;
            // the child closes everything that belongs to the server and `_exit`s.
            match unsafe { sys::fork() } {
                Ok(Fork::Child) => {
                    let mut keep: Vec<i32> =
                        fds.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
                    keep.push(std::os::fd::AsRawFd::as_raw_fd(&result));
                    // The server's descriptors are closed wholesale; forget their owners so
                    // that nothing closes a recycled number later.
                    std::mem::forget(kids);
                    std::mem::forget(ctl);
                    std::mem::forget(status);
                    if sys::close_fds_except(&keep).is_err() {
                        sys::exit_immediately(1);
                    }
                    bootstrap::run_request(req, fds, result, me)
                }
                Ok(Fork::Parent(pid)) => {
                    drop(result);
                    drop(fds);
                    let _ = send_code(&status, pid);
                    match sys::pidfd_open(pid) {
                        Ok(pidfd) => kids.push(Kid { pidfd, status }),
                        Err(_) => drop(status),
                    }
                }
                Err(_) => {
                    let _ = send_code(&status, 0);
                }
            }
        }
    }
}
