//! Processes and the three start methods of Python's `multiprocessing`: fork, spawn and
//! forkserver.
//!
//! ```
//! use multiproc_process::{Process, StartMethod};
//!
//! fn f(name: String) -> String {
//!     format!("hello {name}")
//! }
//!
//! let mut p = Process::with_result(f, "bob".to_string());
//! p.set_start_method(StartMethod::Fork);
//! p.start().unwrap();
//! assert_eq!(p.join().unwrap(), "hello bob");
//! ```
//!
//! | Python | multiproc |
//! |---|---|
//! | `Process(target=f, args=(x,))` | [`Process::new(f, x)`](Process::new) |
//! | `p.start()`, `p.join()`, `p.join(t)` | [`start`](Process::start), [`join`](Process::join), [`join_timeout`](Process::join_timeout) |
//! | `p.is_alive()`, `p.pid`, `p.exitcode`, `p.name`, `p.daemon` | same names as methods |
//! | `p.terminate()`, `p.kill()`, `p.interrupt()`, `p.close()`, `p.sentinel` | same names |
//! | subclass `Process`, override `run` | implement [`Run`], [`Process::from_run`] |
//! | (result of the target) | [`Process::with_result`] → [`JoinHandle::join`] |
//! | `get_context('spawn')` | [`get_context(Some(StartMethod::Spawn))`](get_context) |
//! | `set_start_method(m, force)`, `get_start_method(allow_none)`, `get_all_start_methods()` | same |
//! | `current_process()`, `parent_process()`, `active_children()`, `cpu_count()` | same |
//! | `sys.exit(n)` in a child | [`exit(n)`](exit) |
//!
//! # Start methods
//!
//! * [`StartMethod::Fork`] runs any `FnOnce` closure in a forked copy of the parent. Forking a
//!   process that has other threads is hazardous: only the calling thread survives in the
//!   child, and any lock another thread held (inside `malloc`'s friends, std's stdout, your
//!   own mutexes) stays locked there forever. The child inherits every descriptor of the parent.
//! * [`StartMethod::Spawn`] re-executes the current binary (`/proc/self/exe`). An
//!   `.init_array` constructor intercepts the child before `main`, so nothing of the program's
//!   `main` runs in it, in ordinary binaries and in `cargo test` binaries alike, with no setup
//!   call. The target is a `fn` item or non-capturing closure; it is found again in the child by
//!   its offset from a base symbol of this crate (the build identity is checked).
//! * [`StartMethod::Forkserver`] (the default, as in CPython 3.14) asks a single-threaded
//!   server process, spawned on first use, to fork the child.
//!
//! Under spawn and forkserver the child holds only stdin, stdout, stderr, its result channel
//! and the descriptors inside its arguments.
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![deny(unsafe_code)]

mod bootstrap;
mod codec;
mod context;
mod current;
mod error;
mod forkserver;
mod process;
mod started;
mod target;

/// Entry points for the fuzz targets; not part of the public API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::codec::fuzz_decode as decode;
}

pub use context::{
    Context, StartMethod, get_all_start_methods, get_context, get_start_method, set_start_method,
};
pub use current::{CurrentProcess, ParentProcess, current_process, parent_process};
pub use error::{ChildPanic, Error, Result};
pub use process::{JoinHandle, Process, Run, active_children, cpu_count, exit, forkserver_pid};
pub use target::panic_message;
