//! Interop with real CPython: `multiprocessing.connection.Client`/`Listener` against ours.
//!
//! Runs against `python3` and, when installed, `python3.12` and `python3.13` (via pyenv's
//! `PYENV_VERSION`); a missing interpreter is skipped with a message on stderr. Every exchange
//! sends 0 B, 5 B, 20 KiB and 16 MiB both ways, over TCP, a Unix path and an abstract socket,
//! without an authkey, with one and with an empty one; mismatched keys must fail on both sides.
#![allow(missing_docs)]

mod common;

use common::{Watchdog, register_child};
use multiproc_pipe::{Address, Client, Connection, Error, Listener};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SIZES: [usize; 4] = [0, 5, 20 * 1024, 16 * 1024 * 1024];

fn pattern(size: usize, seed: usize) -> Vec<u8> {
    let base: Vec<u8> = (0..251)
        .map(|j| u8::try_from((j + seed) % 251).unwrap())
        .collect();
    let mut v = base.repeat(size / 251 + 1);
    v.truncate(size);
    v
}

struct Interpreter {
    program: &'static str,
    pyenv: Option<&'static str>,
    /// CPython before 3.13 skips the handshake in `Listener.accept` for an empty key
    /// (`if self._authkey:`), while its `Client` still runs it: the two hang against each
    /// other, and against us. 3.13 fixed it (`is not None`); we behave like 3.13.
    empty_key_listener_works: bool,
}

const INTERPRETERS: [Interpreter; 3] = [
    Interpreter {
        program: "python3",
        pyenv: None,
        empty_key_listener_works: false,
    },
    Interpreter {
        program: "python3.12",
        pyenv: Some("3.12.1"),
        empty_key_listener_works: false,
    },
    Interpreter {
        program: "python3.13",
        pyenv: Some("3.13.0"),
        empty_key_listener_works: true,
    },
];

impl Interpreter {
    fn command(&self) -> Command {
        let mut c = Command::new(self.program);
        if let Some(v) = self.pyenv {
            c.env("PYENV_VERSION", v);
        }
        c
    }

    fn available(&self) -> bool {
        let ok = self
            .command()
            .arg("-c")
            .arg("import multiprocessing.connection")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "SKIPPING interop with {} (PYENV_VERSION={:?}): interpreter not available",
                self.program, self.pyenv
            );
        }
        ok
    }

    fn peer(&self, role: &str, address: &str, key: Option<&[u8]>) -> Child {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/peer.py");
        let key = key.map_or_else(|| "none".to_owned(), hex);
        let child = self
            .command()
            .args([script, role, address, &key])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn python");
        register_child(child.id());
        child
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Rust half of the exchange in `peer.py`.
fn exchange(conn: &Connection) {
    for size in SIZES {
        conn.send_bytes(&pattern(size, 1)).unwrap();
        let got = conn.recv_bytes().unwrap();
        assert_eq!(got.len(), size);
        assert!(got == pattern(size, 2), "payload of {size} bytes differs");
    }
    assert_eq!(conn.recv_bytes().unwrap(), b"done");
    assert!(matches!(conn.recv_bytes(), Err(Error::Eof)));
}

fn finish(mut child: Child) -> (i32, String) {
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            out.push_str(&line.unwrap());
            out.push('\n');
        }
    }
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), out)
}

/// A fresh address of each family, as (ours, peer.py's spelling).
fn addresses(tag: &str) -> Vec<(Address, String)> {
    let unique = format!("multiproc-test-{}-{tag}", std::process::id());
    let path = std::env::temp_dir().join(format!("{unique}.sock"));
    vec![
        ("127.0.0.1:0".parse().unwrap(), String::new()),
        (
            Address::Unix(path.clone()),
            format!("unix:{}", path.display()),
        ),
        (
            Address::Abstract(unique.clone().into_bytes()),
            format!("abstract:{unique}"),
        ),
    ]
}

const KEYS: [Option<&[u8]>; 3] = [None, Some(b"secret key"), Some(b"")];

fn python_client_to_our_listener(interp: &Interpreter) {
    if !interp.available() {
        return;
    }
    let _w = Watchdog::new(240);
    for (i, key) in KEYS.iter().enumerate() {
        for (address, spelled) in addresses(&format!("{}-l{i}", interp.program)) {
            let listener = Listener::bind(&address, *key).unwrap();
            let spelled = match listener.address() {
                Address::Tcp(a) => format!("tcp:127.0.0.1:{}", a.port()),
                _ => spelled,
            };
            let child = interp.peer("client", &spelled, *key);
            let conn = listener.accept().unwrap();
            exchange(&conn);
            drop(conn);
            let (code, out) = finish(child);
            assert_eq!(
                code, 0,
                "python client over {spelled} with key {key:?}: {out}"
            );
        }
    }
    // Mismatched keys fail on both sides.
    let (address, spelled) = addresses(&format!("{}-bad", interp.program)).remove(1);
    let listener = Listener::bind(&address, Some(b"right")).unwrap();
    let child = interp.peer("client", &spelled, Some(b"wrong"));
    assert!(matches!(listener.accept(), Err(Error::Authentication(_))));
    let (code, out) = finish(child);
    assert_eq!(code, 3, "python client must fail authentication: {out}");
}

fn our_client_to_python_listener(interp: &Interpreter) {
    if !interp.available() {
        return;
    }
    let _w = Watchdog::new(240);
    for (i, key) in KEYS.iter().enumerate() {
        if *key == Some(b"") && !interp.empty_key_listener_works {
            eprintln!(
                "{}: not testing an empty-key Python Listener (CPython < 3.13 skips its handshake)",
                interp.program
            );
            continue;
        }
        for (address, spelled) in addresses(&format!("{}-c{i}", interp.program)) {
            let (spelled, tcp) = if spelled.is_empty() {
                ("tcp:127.0.0.1:0".to_owned(), true)
            } else {
                (spelled, false)
            };
            let mut child = interp.peer("server", &spelled, *key);
            let mut ready = String::new();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            stdout.read_line(&mut ready).unwrap();
            let port: u16 = ready
                .trim()
                .strip_prefix("READY ")
                .unwrap()
                .parse()
                .unwrap();
            let address = if tcp {
                Address::Tcp(([127, 0, 0, 1], port).into())
            } else {
                address
            };
            let conn = Client::connect(&address, *key).unwrap();
            exchange(&conn);
            drop(conn);
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
            let code = child.wait().unwrap().code().unwrap_or(-1);
            assert_eq!(
                code, 0,
                "python listener at {spelled} with key {key:?}: {rest}"
            );
        }
    }
    // Mismatched keys fail on both sides.
    let (address, spelled) = addresses(&format!("{}-bad2", interp.program)).remove(2);
    let mut child = interp.peer("server", &spelled, Some(b"right"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert!(matches!(
        Client::connect(&address, Some(b"wrong")),
        Err(Error::Authentication(_))
    ));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(3), "{rest}");
}

#[test]
fn python311_client_to_our_listener() {
    python_client_to_our_listener(&INTERPRETERS[0]);
}

#[test]
fn python311_listener_to_our_client() {
    our_client_to_python_listener(&INTERPRETERS[0]);
}

#[test]
fn python312_client_to_our_listener() {
    python_client_to_our_listener(&INTERPRETERS[1]);
}

#[test]
fn python312_listener_to_our_client() {
    our_client_to_python_listener(&INTERPRETERS[1]);
}

#[test]
fn python313_client_to_our_listener() {
    python_client_to_our_listener(&INTERPRETERS[2]);
}

#[test]
fn python313_listener_to_our_client() {
    our_client_to_python_listener(&INTERPRETERS[2]);
}
