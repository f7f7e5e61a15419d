//! `Listener`/`Client` between our own ends: every address family, keys right, wrong, empty
//! and absent, and hostile handshake messages.
#![allow(missing_docs)]

mod common;

use common::Watchdog;
use multiproc_pipe::{Address, Client, Connection, Error, Listener, handshake};
use std::os::unix::net::UnixStream;

fn addresses(tag: &str) -> Vec<Address> {
    let unique = format!("multiproc-listener-{}-{tag}", std::process::id());
    vec![
        "127.0.0.1:0".parse().unwrap(),
        Address::Unix(std::env::temp_dir().join(format!("{unique}.sock"))),
        Address::Abstract(unique.into_bytes()),
    ]
}

fn pair(
    address: &Address,
    server_key: Option<&'static [u8]>,
    client_key: Option<&'static [u8]>,
) -> (Result<Connection, Error>, Result<Connection, Error>) {
    let listener = Listener::bind(address, server_key).unwrap();
    let addr = listener.address().clone();
    let t = std::thread::spawn(move || Client::connect(&addr, client_key));
    let server = listener.accept();
    (server, t.join().unwrap())
}

#[test]
fn every_family_with_and_without_keys() {
    let _w = Watchdog::new(60);
    let keys: [Option<&'static [u8]>; 3] = [None, Some(b"k"), Some(b"")];
    for (i, key) in keys.into_iter().enumerate() {
        for address in addresses(&format!("ok{i}")) {
            let (server, client) = pair(&address, key, key);
            let (server, client) = (server.unwrap(), client.unwrap());
            client.send_bytes(b"ping").unwrap();
            assert_eq!(server.recv_bytes().unwrap(), b"ping");
            server.send(&"pong").unwrap();
            assert_eq!(client.recv::<String>().unwrap(), "pong");
        }
    }
}

#[test]
fn unix_socket_file_is_removed_with_the_listener() {
    let address = addresses("rm").remove(1);
    let Address::Unix(path) = &address else {
        unreachable!()
    };
    let listener = Listener::bind(&address, None).unwrap();
    assert!(path.exists());
    listener.close();
    assert!(!path.exists());
}

#[test]
fn wrong_key_fails_on_both_sides() {
    let _w = Watchdog::new(60);
    for address in addresses("bad") {
        let (server, client) = pair(&address, Some(b"right"), Some(b"wrong"));
        assert!(
            matches!(server, Err(Error::Authentication(_))),
            "{server:?}"
        );
        assert!(
            matches!(client, Err(Error::Authentication(_))),
            "{client:?}"
        );
    }
    // An empty key is not "no key".
    let address = addresses("empty").remove(2);
    let (server, client) = pair(&address, Some(b""), Some(b"x"));
    assert!(server.is_err() && client.is_err());
}

#[test]
fn hostile_handshake_messages_are_errors() {
    let _w = Watchdog::new(60);
    let address = addresses("hostile").remove(2);
    let listener = Listener::bind(&address, Some(b"key")).unwrap();
    let Address::Abstract(name) = address.clone() else {
        unreachable!()
    };
    let t = std::thread::spawn(move || {
        let sa = <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(&name).unwrap();
        let raw = Connection::from_unix_stream(UnixStream::connect_addr(&sa).unwrap());
        let challenge = raw.recv_bytes().unwrap();
        assert!(challenge.starts_with(handshake::CHALLENGE));
        // An answer far above the 256-byte cap.
        // The listener may hang up before reading it all.
        let _ = raw.send_bytes(&[b'{'; 100_000]);
    });
    assert!(listener.accept().is_err());
    t.join().unwrap();
    drop(listener);
    // A "challenge" that is not one: the client refuses it.
    let client_side = {
        let address = addresses("hostile2").remove(2);
        let l2 = Listener::bind(&address, None).unwrap();
        let addr = l2.address().clone();
        let c = std::thread::spawn(move || Client::connect(&addr, Some(b"key")));
        let s = l2.accept().unwrap();
        s.send_bytes(b"#CHALLENGE#{nonsense}0123456789012345678901234567890")
            .unwrap();
        c.join().unwrap()
    };
    assert!(matches!(client_side, Err(Error::Authentication(_))));
}

#[test]
fn addresses_parse() {
    assert!(matches!("[::1]:80".parse(), Ok(Address::Tcp(_))));
    assert!(matches!("localhost:80".parse(), Ok(Address::Tcp(_))));
    assert!(matches!("relative.sock".parse(), Ok(Address::Unix(_))));
    assert!(matches!("./dir:80/x".parse(), Ok(Address::Unix(_))));
    assert!("".parse::<Address>().is_err());
}
