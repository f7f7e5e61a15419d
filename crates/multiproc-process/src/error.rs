//! The crate's error type.

use std::fmt;
use std::io;

/// Where and why a child's target panicked, as reported by the child.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChildPanic {
    /// The panic message (`"Box<dyn Any>"` when the payload was not a string).
    pub message: String,
    /// `file:line:column` of the panic, when known.
    pub location: Option<String>,
}

impl fmt::Display for ChildPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "child panicked at {loc}: {}", self.message),
            None => write!(f, "child panicked: {}", self.message),
        }
    }
}

/// Everything that can go wrong starting, watching or joining a process.
///
/// # Examples
///
/// ```
/// use multiproc_process::{Error, StartMethod};
///
/// let err = "threads".parse::<StartMethod>().unwrap_err();
/// assert!(matches!(err, Error::UnknownStartMethod(_)));
/// assert_eq!(
///     err.to_string(),
///     "unknown start method \"threads\" (expected one of: fork, spawn, forkserver)"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call failed.
    Io(io::Error),
    /// A start-method name that is not `fork`, `spawn` or `forkserver`.
    UnknownStartMethod(String),
    /// `set_start_method` was called a second time without `force`.
    StartMethodAlreadySet,
    /// `start()` on a process that was already started.
    AlreadyStarted,
    /// An operation that needs a started process.
    NotStarted,
    /// `close()` on a process that is still running.
    StillRunning,
    /// The process object was closed.
    Closed,
    /// A daemonic process tried to start a child.
    DaemonicParent,
    /// The target captures state, so it can only run under `fork`.
    NotPortable,
    /// The arguments or the result could not be (de)serialized.
    Codec(String),
    /// The child's target panicked.
    Panicked(ChildPanic),
    /// The child ended without reporting a result (it exited early or was killed).
    NoResult {
        /// The child's exit code (negative: the signal that killed it), if known.
        exitcode: Option<i32>,
    },
    /// The forkserver died and its report of this child's exit status was lost.
    ExitStatusLost,
    /// The forkserver could not be started or answered wrongly.
    Forkserver(String),
    /// A spawned child runs a different binary than its parent (it was rebuilt in between).
    BuildMismatch,
    /// The peer sent a malformed bootstrap message.
    Protocol(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::UnknownStartMethod(name) => write!(
                f,
                "unknown start method {name:?} (expected one of: fork, spawn, forkserver)"
            ),
            Self::StartMethodAlreadySet => write!(f, "context has already been set"),
            Self::AlreadyStarted => write!(f, "cannot start a process twice"),
            Self::NotStarted => write!(f, "can only use a started process"),
            Self::StillRunning => write!(f, "cannot close a process while it is still running"),
            Self::Closed => write!(f, "process object is closed"),
            Self::DaemonicParent => {
                write!(f, "daemonic processes are not allowed to have children")
            }
            Self::NotPortable => write!(
                f,
                "the target captures state and can only run under the fork start method \
                 (use a fn item or a non-capturing closure for spawn and forkserver)"
            ),
            Self::Codec(msg) => write!(f, "serialization failed: {msg}"),
            Self::Panicked(p) => p.fmt(f),
            Self::NoResult { exitcode: Some(c) } => {
                write!(f, "child exited with code {c} without a result")
            }
            Self::NoResult { exitcode: None } => write!(f, "child ended without a result"),
            Self::ExitStatusLost => {
                write!(f, "the forkserver died; the child's exit status is unknown")
            }
            Self::Forkserver(msg) => write!(f, "forkserver failure: {msg}"),
            Self::BuildMismatch => write!(
                f,
                "the spawned child runs a different build of the program than its parent"
            ),
            Self::Protocol(msg) => write!(f, "bad bootstrap message: {msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// This crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
