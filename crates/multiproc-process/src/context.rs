//! Start methods and contexts: `get_context`, `set_start_method`, `get_start_method`.

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::process::{JoinHandle, Process};

/// How a new process is created.
///
/// # Examples
///
/// ```
/// use multiproc_process::StartMethod;
///
/// let m: StartMethod = "spawn".parse().unwrap();
/// assert_eq!(m, StartMethod::Spawn);
/// assert_eq!(m.to_string(), "spawn");
/// assert_eq!(StartMethod::default(), StartMethod::Forkserver);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum StartMethod {
    /// `fork()` the calling process; the child runs the target (any `FnOnce`) in a copy of the
    /// parent's memory. Fast, but hazardous when the parent has other threads.
    Fork,
    /// Re-execute the current binary; the child runs only the target (a `fn` item or a
    /// non-capturing closure) with arguments sent over a socket.
    Spawn,
    /// Ask a single-threaded server process (spawned on first use) to fork the child. The
    /// default, as in CPython 3.14.
    #[default]
    Forkserver,
}

impl StartMethod {
    /// The Python name of the method.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(multiproc_process::StartMethod::Fork.name(), "fork");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Fork => "fork",
            Self::Spawn => "spawn",
            Self::Forkserver => "forkserver",
        }
    }
}

impl fmt::Display for StartMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for StartMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fork" => Ok(Self::Fork),
            "spawn" => Ok(Self::Spawn),
            "forkserver" => Ok(Self::Forkserver),
            other => Err(Error::UnknownStartMethod(other.to_owned())),
        }
    }
}

static METHOD: Mutex<Option<StartMethod>> = Mutex::new(None);

/// Sets the process-wide default start method.
///
/// A second call fails with [`Error::StartMethodAlreadySet`] unless `force` is true (as in
/// Python, where `force=True` also allows resetting it).
///
/// # Errors
///
/// [`Error::StartMethodAlreadySet`] as described above.
///
/// # Examples
///
/// ```
/// use multiproc_process::{get_start_method, set_start_method, StartMethod};
///
/// set_start_method(StartMethod::Spawn, false).unwrap();
/// assert!(set_start_method(StartMethod::Fork, false).is_err());
/// set_start_method(StartMethod::Fork, true).unwrap();
/// assert_eq!(get_start_method(false), Some(StartMethod::Fork));
/// ```
pub fn set_start_method(method: StartMethod, force: bool) -> Result<()> {
    let mut m = METHOD.lock().unwrap_or_else(PoisonError::into_inner);
    if m.is_some() && !force {
        return Err(Error::StartMethodAlreadySet);
    }
    *m = Some(method);
    Ok(())
}

/// The process-wide default start method.
///
/// When none was set, returns `None` if `allow_none`, and otherwise fixes the default
/// ([`StartMethod::Forkserver`]) and returns it.
///
/// # Examples
///
/// ```
/// use multiproc_process::{get_start_method, StartMethod};
///
/// assert_eq!(get_start_method(true), None);
/// assert_eq!(get_start_method(false), Some(StartMethod::Forkserver));
/// assert_eq!(get_start_method(true), Some(StartMethod::Forkserver));
/// ```
pub fn get_start_method(allow_none: bool) -> Option<StartMethod> {
    let mut m = METHOD.lock().unwrap_or_else(PoisonError::into_inner);
    if m.is_none() && !allow_none {
        *m = Some(StartMethod::default());
    }
    *m
}

/// Every start method available on this platform, the default first.
///
/// # Examples
///
/// ```
/// let all = multiproc_process::get_all_start_methods();
/// assert_eq!(all.len(), 3);
/// ```
pub fn get_all_start_methods() -> Vec<StartMethod> {
    vec![
        StartMethod::Forkserver,
        StartMethod::Spawn,
        StartMethod::Fork,
    ]
}

/// Python's `get_context(method)`: a [`Context`] for `method`, or for the default method when
/// `None`.
///
/// # Examples
///
/// ```
/// use multiproc_process::{get_context, StartMethod};
///
/// let ctx = get_context(Some(StartMethod::Spawn));
/// assert_eq!(ctx.start_method(), StartMethod::Spawn);
/// ```
pub fn get_context(method: Option<StartMethod>) -> Context {
    Context {
        method: method
            .or_else(|| get_start_method(false))
            .unwrap_or_default(),
    }
}

/// A start method bound to the objects created through it (Python's `multiprocessing.context`).
///
/// # Examples
///
/// ```
/// use multiproc_process::{Context, StartMethod};
///
/// fn double(x: u32) -> u32 { x * 2 }
///
/// let ctx = Context::new(StartMethod::Fork);
/// let mut h = ctx.process_with_result(double, 21);
/// h.start().unwrap();
/// assert_eq!(h.join().unwrap(), 42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Context {
    method: StartMethod,
}

impl Context {
    /// A context for `method`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = multiproc_process::Context::new(multiproc_process::StartMethod::Spawn);
    /// ```
    pub fn new(method: StartMethod) -> Self {
        Self { method }
    }

    /// The context's start method.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Context, StartMethod};
    /// assert_eq!(Context::new(StartMethod::Fork).start_method(), StartMethod::Fork);
    /// ```
    pub fn start_method(&self) -> StartMethod {
        self.method
    }

    /// A [`Process`] that will start with this context's method.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_process::{Context, StartMethod};
    ///
    /// fn hello(name: String) { println!("hello {name}"); }
    ///
    /// let mut p = Context::new(StartMethod::Fork).process(hello, "bob".to_string());
    /// p.start().unwrap();
    /// p.join().unwrap();
    /// assert_eq!(p.exitcode(), Some(0));
    /// ```
    pub fn process<F, A, R>(&self, target: F, args: A) -> Process
    where
        F: FnOnce(A) -> R + Send + 'static,
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        let mut p = Process::new(target, args);
        p.set_start_method(self.method);
        p
    }

    /// A [`JoinHandle`] that will start with this context's method.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub fn process_with_result<F, A, R>(&self, target: F, args: A) -> JoinHandle<R>
    where
        F: FnOnce(A) -> R + Send + 'static,
        A: Serialize + DeserializeOwned + Send + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        let mut h = Process::with_result(target, args);
        h.set_start_method(self.method);
        h
    }
}
