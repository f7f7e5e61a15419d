//! Pipes and connections between processes: Python's `multiprocessing.Pipe` and
//! `multiprocessing.connection`, for Rust.
//!
//! A [`Connection`] sends and receives whole messages over a Unix socket (or TCP). Byte
//! messages use CPython's exact framing, so a Python `Client`/`Listener` can talk to ours.
//! Typed messages are serde values (postcard), and may hold OS handles: a `Connection` end, a
//! shared-memory segment or a lock put inside a message arrives working on the other side.
//!
//! | Python | multiproc |
//! |---|---|
//! | `Pipe(duplex=True)` | [`pipe(true)`](pipe) |
//! | `conn.send(obj)` / `conn.recv()` | [`Connection::send`] / [`Connection::recv`] |
//! | `conn.send_bytes(buf, offset, size)` | [`Connection::send_bytes`], [`Connection::send_bytes_range`] |
//! | `conn.recv_bytes(maxlength)` | [`Connection::recv_bytes`], [`Connection::recv_bytes_limited`] |
//! | `conn.recv_bytes_into(buf, offset)` | [`Connection::recv_bytes_into`] |
//! | `conn.poll(timeout)` | [`Connection::poll`] |
//! | `connection.wait(objects, timeout)` | [`wait`] |
//! | `Listener(address, authkey=...)` | [`Listener::bind`] |
//! | `Client(address, authkey=...)` | [`Client::connect`] |
//! | `EOFError`, `BufferTooShort`, `AuthenticationError` | [`Error::Eof`], [`Error::BufferTooShort`], [`Error::Authentication`] |
//!
//! Ends made by [`pipe`] carry their frames over `pipe(2)`s (a round trip costs what raw pipes
//! cost) with a `SOCK_SEQPACKET` socketpair beside them for OS handles; ends made by
//! [`Listener`]/[`Client`] are sockets, with handles riding on a frame's first `sendmsg` (Unix
//! sockets only). The exact bytes are specified in `docs/wire-format.md`.
//!
//! # Examples
//!
//! ```
//! use multiproc_pipe::pipe;
//!
//! let (parent, child) = pipe(true)?;
//! std::thread::spawn(move || {
//!     let msg: String = child.recv().unwrap();
//!     child.send(&format!("{msg}, back")).unwrap();
//! });
//! parent.send("hello")?;
//! assert_eq!(parent.recv::<String>()?, "hello, back");
//! # Ok::<(), multiproc_pipe::Error>(())
//! ```
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]
#![forbid(unsafe_code)]

mod connection;
mod error;
pub mod frame;
pub mod handshake;
mod listener;
mod wait;

pub use connection::{Connection, decode_envelope, encode_envelope, pipe};
pub use error::{Error, Result};
pub use listener::{Address, Client, Listener, answer_challenge, deliver_challenge};
pub use wait::{Waitable, wait};
