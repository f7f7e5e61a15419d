//! [`Listener`], [`Client`] and [`Address`]: connections between unrelated processes.

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::handshake::{self, MAX_MESSAGE_LEN};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;
use std::str::FromStr;

/// Where a [`Listener`] listens and a [`Client`] connects: Python's `address` argument.
///
/// Parse one from a string: `"host:port"` (or `"[::1]:port"`) is TCP, a string starting with a
/// NUL byte (`"\0name"`) is a Linux abstract socket, anything else is a Unix socket path.
/// An address is a plain value (`Serialize + Deserialize`): pass it to a child process.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::Address;
/// assert!(matches!("127.0.0.1:6000".parse()?, Address::Tcp(_)));
/// assert!(matches!("/tmp/my.sock".parse()?, Address::Unix(_)));
/// assert!(matches!("\0my-service".parse()?, Address::Abstract(_)));
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Address {
    /// A TCP address (Python's `AF_INET`/`AF_INET6` `(host, port)`).
    Tcp(SocketAddr),
    /// A Unix socket path (Python's `AF_UNIX` path string).
    Unix(PathBuf),
    /// A Linux abstract Unix socket name, without the leading NUL.
    Abstract(Vec<u8>),
}

impl FromStr for Address {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if let Some(name) = s.strip_prefix('\0') {
            return Ok(Address::Abstract(name.as_bytes().to_vec()));
        }
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(Address::Tcp(a));
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if !host.contains('/') && !host.is_empty() && port.parse::<u16>().is_ok() {
                let resolved = s
                    .to_socket_addrs()
                    .map_err(|e| Error::BadAddress(format!("{s:?}: {e}")))?
                    .next()
                    .ok_or_else(|| Error::BadAddress(format!("{s:?} resolves to nothing")))?;
                return Ok(Address::Tcp(resolved));
            }
        }
        if s.is_empty() {
            return Err(Error::BadAddress("empty address".into()));
        }
        Ok(Address::Unix(PathBuf::from(s)))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(a) => write!(f, "{a}"),
            Address::Unix(p) => write!(f, "{}", p.display()),
            Address::Abstract(n) => write!(f, "\\0{}", String::from_utf8_lossy(n)),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(a: SocketAddr) -> Self {
        Address::Tcp(a)
    }
}

impl From<PathBuf> for Address {
    fn from(p: PathBuf) -> Self {
        Address::Unix(p)
    }
}

enum Inner {
    Tcp(TcpListener),
    Unix {
        listener: UnixListener,
        /// The path this listener created and removes when dropped.
        path: Option<PathBuf>,
    },
}

/// A server socket accepting [`Connection`]s, with an optional authkey:
/// Python's `multiprocessing.connection.Listener`.
///
/// With an authkey, every accepted connection runs CPython's handshake (challenge the client,
/// then answer its challenge) before [`accept`](Self::accept) returns it; a client with the
/// wrong key gets an [`Error::Authentication`] from `accept`, and so does the client. A Unix
/// socket file created by the listener is removed when it is dropped.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::{Client, Listener};
///
/// let listener = Listener::bind(&"127.0.0.1:0".parse()?, Some(b"secret"))?;
/// let addr = listener.address().clone();
/// let t = std::thread::spawn(move || -> multiproc_pipe::Result<Vec<u8>> {
///     let c = Client::connect(&addr, Some(b"secret"))?;
///     c.send_bytes(b"hello")?;
///     c.recv_bytes()
/// });
/// let conn = listener.accept()?;
/// let msg = conn.recv_bytes()?;
/// conn.send_bytes(&msg)?;
/// assert_eq!(t.join().unwrap()?, b"hello");
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub struct Listener {
    inner: Inner,
    address: Address,
    authkey: Option<Vec<u8>>,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("address", &self.address)
            .field("authkey", &self.authkey.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Listener {
    /// Binds and listens on `address`; connections must prove they know `authkey` if given.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the address is in use or cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = multiproc_pipe::Listener::bind(&"\0multiproc-doc-bind".parse()?, None)?;
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn bind(address: &Address, authkey: Option<&[u8]>) -> Result<Self> {
        let (inner, address) = match address {
            Address::Tcp(a) => {
                let l = TcpListener::bind(a)?;
                let actual = l.local_addr()?;
                (Inner::Tcp(l), Address::Tcp(actual))
            }
            Address::Unix(p) => {
                let l = UnixListener::bind(p)?;
                (
                    Inner::Unix {
                        listener: l,
                        path: Some(p.clone()),
                    },
                    address.clone(),
                )
            }
            Address::Abstract(name) => {
                let sa = UnixSocketAddr::from_abstract_name(name)?;
                let l = UnixListener::bind_addr(&sa)?;
                (
                    Inner::Unix {
                        listener: l,
                        path: None,
                    },
                    address.clone(),
                )
            }
        };
        Ok(Listener {
            inner,
            address,
            authkey: authkey.map(<[u8]>::to_vec),
        })
    }

    /// The address clients connect to (for TCP port 0, the port actually bound).
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pipe::{Address, Listener};
    /// let l = Listener::bind(&"127.0.0.1:0".parse()?, None)?;
    /// assert!(matches!(l.address(), Address::Tcp(a) if a.port() != 0));
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Waits for a client and returns the connection, after the authkey handshake if the
    /// listener has a key.
    ///
    /// # Errors
    ///
    /// [`Error::Io`]; [`Error::Authentication`] if the client fails the handshake (the
    /// connection is then dropped; the listener stays usable).
    ///
    /// # Examples
    ///
    /// See [`Listener`].
    pub fn accept(&self) -> Result<Connection> {
        let conn = match &self.inner {
            Inner::Tcp(l) => Connection::from_tcp_stream(l.accept()?.0),
            Inner::Unix { listener, .. } => Connection::from_unix_stream(listener.accept()?.0),
        };
        if let Some(key) = &self.authkey {
            deliver_challenge(&conn, key)?;
            answer_challenge(&conn, key)?;
        }
        Ok(conn)
    }

    /// Stops listening (Python's `close()`); dropping does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = multiproc_pipe::Listener::bind(&"127.0.0.1:0".parse()?, None)?;
    /// l.close();
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Inner::Unix {
            path: Some(path), ..
        } = &self.inner
        {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The connecting side: Python's `multiprocessing.connection.Client`.
///
/// # Examples
///
/// See [`Listener`].
#[derive(Debug, Clone, Copy)]
pub struct Client;

impl Client {
    /// Connects to a [`Listener`] (ours or CPython's) at `address`; with `authkey`, answers
    /// the listener's challenge and then challenges it, as CPython's `Client` does.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if nothing listens there; [`Error::Authentication`] if the keys differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use multiproc_pipe::{Client, Error};
    /// // Nobody listens on this abstract name.
    /// let err = Client::connect(&"\0multiproc-doc-nobody".parse()?, None).unwrap_err();
    /// assert!(matches!(err, Error::Io(_)));
    /// # Ok::<(), multiproc_pipe::Error>(())
    /// ```
    pub fn connect(address: &Address, authkey: Option<&[u8]>) -> Result<Connection> {
        let conn = match address {
            Address::Tcp(a) => Connection::from_tcp_stream(TcpStream::connect(a)?),
            Address::Unix(p) => Connection::from_unix_stream(UnixStream::connect(p)?),
            Address::Abstract(name) => {
                let sa = UnixSocketAddr::from_abstract_name(name)?;
                Connection::from_unix_stream(UnixStream::connect_addr(&sa)?)
            }
        };
        if let Some(key) = authkey {
            answer_challenge(&conn, key)?;
            deliver_challenge(&conn, key)?;
        }
        Ok(conn)
    }
}

/// Challenges the peer to prove it knows `authkey` (CPython's `deliver_challenge`).
///
/// Sends the challenge, checks the answer, and sends the verdict.
///
/// # Errors
///
/// [`Error::Authentication`] if the peer's answer is wrong or malformed; I/O and framing
/// errors (a peer message longer than [`MAX_MESSAGE_LEN`] included).
///
/// # Examples
///
/// ```
/// use multiproc_pipe::{answer_challenge, deliver_challenge, pipe};
/// let (a, b) = pipe(true)?;
/// let t = std::thread::spawn(move || answer_challenge(&b, b"key"));
/// deliver_challenge(&a, b"key")?;
/// t.join().unwrap()?;
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn deliver_challenge(conn: &Connection, authkey: &[u8]) -> Result<()> {
    let challenge = handshake::challenge_message(&handshake::nonce()?);
    conn.send_bytes(&challenge)?;
    let response = conn.recv_bytes_limited(MAX_MESSAGE_LEN as u64)?;
    match handshake::verify(authkey, &challenge, &response) {
        Ok(()) => conn.send_bytes(handshake::WELCOME),
        Err(e) => {
            // The peer may already be gone; the authentication error is what matters.
            let _ = conn.send_bytes(handshake::FAILURE);
            Err(e)
        }
    }
}

/// Answers the peer's challenge with `authkey` (CPython's `answer_challenge`).
///
/// # Errors
///
/// [`Error::Authentication`] if the message is not a valid challenge or the peer rejects the
/// answer; I/O and framing errors.
///
/// # Examples
///
/// ```
/// use multiproc_pipe::{answer_challenge, deliver_challenge, pipe};
/// let (a, b) = pipe(true)?;
/// let t = std::thread::spawn(move || answer_challenge(&b, b"wrong"));
/// assert!(deliver_challenge(&a, b"right").is_err());
/// assert!(t.join().unwrap().is_err());
/// # Ok::<(), multiproc_pipe::Error>(())
/// ```
pub fn answer_challenge(conn: &Connection, authkey: &[u8]) -> Result<()> {
    let challenge = conn.recv_bytes_limited(MAX_MESSAGE_LEN as u64)?;
    let response = handshake::respond(authkey, &challenge)?;
    conn.send_bytes(&response)?;
    let verdict = conn.recv_bytes_limited(MAX_MESSAGE_LEN as u64)?;
    handshake::check_verdict(&verdict)
}
