//! Targets: what a child runs, in-process (fork) or as a portable call (spawn, forkserver).
//!
//! A portable call names its function by the address of a monomorphized *trampoline* relative to
//! a base symbol of this crate. A re-executed copy of the same binary (checked by
//! [`BuildId`]) maps the same code at the same offsets, so adding the offset to its own base
//! address finds the same trampoline. The trampoline decodes the arguments, conjures the
//! zero-sized target type (fn items and non-capturing closures have no state to send), calls it
//! and encodes the result.
#![allow(unsafe_code)]

use std::any::TypeId;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::error::{ChildPanic, Error, Result};

/// What a child reports on its result channel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Report {
    /// The target returned; its encoded value (fds travel beside the frame).
    Returned(Vec<u8>),
    /// The target panicked.
    Panicked(ChildPanic),
    /// The child could not run the target (bad arguments, build mismatch...).
    Failed(String),
}

/// A child's report, the fds that go with it, and its exit code.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) report: Report,
    pub(crate) fds: Vec<OwnedFd>,
    pub(crate) code: i32,
}

impl Outcome {
    pub(crate) fn failed(e: impl std::fmt::Display) -> Self {
        Self {
            report: Report::Failed(e.to_string()),
            fds: Vec::new(),
            code: 1,
        }
    }
}

/// The monomorphized entry point a portable call names.
pub(crate) type Trampoline = fn(&[u8], Vec<OwnedFd>, usize) -> Outcome;

/// A portable call: trampoline and extra offsets plus the encoded arguments and their fds.
#[derive(Debug)]
pub(crate) struct PortableCall {
    pub(crate) trampoline: u64,
    pub(crate) extra: u64,
    pub(crate) payload: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
}

/// A type-erased target.
pub(crate) trait Target: Send {
    /// Runs the target in this process (the fork child).
    fn run_here(self: Box<Self>) -> Outcome;
    /// Runs the target in this process when nobody will read its report (the fork child of a
    /// plain [`Process`](crate::Process)); returns the exit code [`run_here`](Self::run_here)
    /// would have produced.
    fn run_unreported(self: Box<Self>) -> i32;
    /// Describes the target for another copy of this binary.
    fn portable(&self) -> Result<PortableCall>;
}

/// `F(A) -> R` where `F` may be anything under fork, and must be zero-sized to be portable.
pub(crate) struct FnTarget<F, A, R> {
    pub(crate) f: F,
    pub(crate) args: A,
    pub(crate) _r: PhantomData<fn() -> R>,
}

impl<F, A, R> Target for FnTarget<F, A, R>
where
    F: FnOnce(A) -> R + Send + 'static,
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + 'static,
{
    fn run_here(self: Box<Self>) -> Outcome {
        let Self { f, args, .. } = *self;
        call(move || f(args))
    }

    fn run_unreported(self: Box<Self>) -> i32 {
        let Self { f, args, .. } = *self;
        call_unreported(move || f(args))
    }

    fn portable(&self) -> Result<PortableCall> {
        if size_of::<F>() != 0 {
            return Err(Error::NotPortable);
        }
        let (payload, fds) = codec::encode_value(&self.args)?;
        Ok(PortableCall {
            trampoline: offset(zst_trampoline::<F, A, R> as Trampoline as usize),
            extra: 0,
            payload,
            fds,
        })
    }
}

/// A plain `fn(A) -> R` pointer: portable by its own offset.
pub(crate) struct FnPtrTarget<A, R> {
    pub(crate) f: fn(A) -> R,
    pub(crate) args: A,
}

impl<A, R> Target for FnPtrTarget<A, R>
where
    A: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + 'static,
{
    fn run_here(self: Box<Self>) -> Outcome {
        let Self { f, args } = *self;
        call(move || f(args))
    }

    fn run_unreported(self: Box<Self>) -> i32 {
        let Self { f, args } = *self;
        call_unreported(move || f(args))
    }

    fn portable(&self) -> Result<PortableCall> {
        let (payload, fds) = codec::encode_value(&self.args)?;
        Ok(PortableCall {
            trampoline: offset(fnptr_trampoline::<A, R> as Trampoline as usize),
            extra: offset(self.f as usize),
            payload,
            fds,
        })
    }
}

fn zst_trampoline<F, A, R>(payload: &[u8], fds: Vec<OwnedFd>, _extra: usize) -> Outcome
where
    F: FnOnce(A) -> R,
    A: DeserializeOwned,
    R: Serialize,
{
    if size_of::<F>() != 0 {
        return Outcome::failed("target is not zero-sized");
    }
    let args: A = match codec::decode_value(payload, fds) {
        Ok(a) => a,
        Err(e) => return Outcome::failed(e),
    };
    // SAFETY: `F` is zero-sized (checked above). The only zero-sized types implementing
    // `FnOnce` on stable Rust are fn items and closures without captures, which have no bytes
    // and no validity invariant, so reading one from a dangling, well-aligned pointer produces a
    // valid value; the parent built this trampoline from a value of the same `F`.
    let f: F = unsafe { std::ptr::NonNull::<F>::dangling().as_ptr().read() };
    call(move || f(args))
}

fn fnptr_trampoline<A, R>(payload: &[u8], fds: Vec<OwnedFd>, extra: usize) -> Outcome
where
    A: DeserializeOwned,
    R: Serialize,
{
    let args: A = match codec::decode_value(payload, fds) {
        Ok(a) => a,
        Err(e) => return Outcome::failed(e),
    };
    let addr = base().wrapping_add(extra);
    // SAFETY: `extra` is the offset of a `fn(A) -> R` from `base` in the parent, which runs the
    // same binary (the build identity was checked before any trampoline runs), so adding it to
    // our base gives the address of the same function with the same signature.
    let f: fn(A) -> R = unsafe { std::mem::transmute::<usize, fn(A) -> R>(addr) };
    call(move || f(args))
}

/// Turns a trampoline offset received from the parent back into a function.
///
/// # Safety
///
/// `offset` must come from [`PortableCall::trampoline`] computed by a process running the same
/// build of this binary (see [`BuildId`]).
pub(crate) unsafe fn resolve(offset: u64) -> Trampoline {
    let addr = base().wrapping_add(usize::try_from(offset).unwrap_or(0));
    // SAFETY: per the contract, `addr` is the address of a function of type `Trampoline` in
    // this very binary.
    unsafe { std::mem::transmute::<usize, Trampoline>(addr) }
}

/// Runs `f`, catching a panic, and encodes the result.
pub(crate) fn call<R: Serialize>(f: impl FnOnce() -> R) -> Outcome {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => match codec::encode_value(&value) {
            Ok((bytes, fds)) => Outcome {
                report: Report::Returned(bytes),
                fds,
                code: 0,
            },
            Err(e) => Outcome::failed(e),
        },
        Err(payload) => {
            let recorded = lock_last_panic().and_then(|mut g| g.take());
            let panic = recorded.unwrap_or_else(|| ChildPanic {
                message: panic_message(payload.as_ref()),
                location: None,
            });
            Outcome {
                report: Report::Panicked(panic),
                fds: Vec::new(),
                code: 1,
            }
        }
    }
}

/// Runs `f`, catching a panic, for a child whose report nobody reads: the exit code of
/// [`call`] without the report (`0` after a return, `1` after a panic or a value that does not
/// encode).
pub(crate) fn call_unreported<R: Serialize + 'static>(f: impl FnOnce() -> R) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        // `()` always encodes: nothing to check.
        Ok(_) if TypeId::of::<R>() == TypeId::of::<()>() => 0,
        // Encoded all the same, so that a value that cannot be sent fails the child as `call`
        // would.
        Ok(value) => i32::from(codec::encode_value(&value).is_err()),
        Err(_) => 1,
    }
}

static LAST_PANIC: Mutex<Option<ChildPanic>> = Mutex::new(None);

/// Set in a fork child: panics are then printed without std's locks (another thread of the
/// parent may have held them at the fork).
static FORK_CHILD: AtomicBool = AtomicBool::new(false);

/// Marks this process as a fork child (see [`FORK_CHILD`]).
pub(crate) fn set_fork_child() {
    FORK_CHILD.store(true, Ordering::Relaxed);
}

/// `try_lock`, so that a lock left held by a thread that does not exist in a fork child cannot
/// hang the child.
fn lock_last_panic() -> Option<std::sync::MutexGuard<'static, Option<ChildPanic>>> {
    match LAST_PANIC.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The message of a panic payload (`&str` or `String`; `"Box<dyn Any>"` for anything else), as
/// std's panic hook prints it.
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
/// assert_eq!(multiproc_process::panic_message(payload.as_ref()), "boom 7");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Installs (once per process) a panic hook that records the message and location of a panic
/// for the child's report, then runs the previous hook (which prints it, as Python prints the
/// child's traceback).
pub(crate) fn install_panic_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let panic = ChildPanic {
                message: panic_message(info.payload()),
                location: info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            };
            if FORK_CHILD.load(Ordering::Relaxed) {
                let msg = match &panic.location {
                    Some(loc) => format!(
                        "process {} panicked at {loc}:\n{}\n",
                        multiproc_sys::process::getpid(),
                        panic.message
                    ),
                    None => format!(
                        "process {} panicked:\n{}\n",
                        multiproc_sys::process::getpid(),
                        panic.message
                    ),
                };
                multiproc_sys::process::write_stderr_raw(msg.as_bytes());
            }
            if let Some(mut g) = lock_last_panic() {
                *g = Some(panic);
            }
            if !FORK_CHILD.load(Ordering::Relaxed) {
                previous(info);
            }
        }));
    });
}

#[inline(never)]
fn base_anchor() -> u32 {
    0x6d70_6261
}

#[inline(never)]
fn second_anchor() -> u64 {
    0x6d70_7365_636f_6e64
}

fn base() -> usize {
    base_anchor as fn() -> u32 as usize
}

fn offset(addr: usize) -> u64 {
    addr.wrapping_sub(base()) as u64
}

/// The identity of the running executable: file identity and metadata of `/proc/self/exe`,
/// plus the distance between two of our functions (a layout check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BuildId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
    layout: u64,
}

/// This process's [`BuildId`] (computed once).
pub(crate) fn build_id() -> BuildId {
    static ID: OnceLock<BuildId> = OnceLock::new();
    *ID.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        let layout = offset(second_anchor as fn() -> u64 as usize);
        match std::fs::metadata("/proc/self/exe") {
            Ok(m) => BuildId {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: m.mtime(),
                mtime_nsec: m.mtime_nsec(),
                layout,
            },
            Err(_) => BuildId {
                dev: 0,
                ino: 0,
                size: 0,
                mtime: 0,
                mtime_nsec: 0,
                layout,
            },
        }
    })
}
