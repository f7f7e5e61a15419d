//! `Pipe`/`Connection` between real processes (forked children), hostile peers and EOF cases.
#![allow(missing_docs)]

mod common;

use common::{Watchdog, fork, open_fds};
use multiproc_pipe::{Connection, Error, pipe, wait};
use std::io::IoSlice;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A Connection plus the raw socket on the other side, for speaking bytes directly.
fn raw_pair() -> (Connection, std::os::fd::OwnedFd) {
    let (a, b) = multiproc_sys::fd::socketpair().unwrap();
    (Connection::from_unix_stream(UnixStream::from(a)), b)
}

#[test]
fn send_recv_both_ways_with_a_child() {
    let _w = Watchdog::new(30);
    let (parent, child) = pipe(true).unwrap();
    let kid = fork(30, move || {
        let msg: String = child.recv().unwrap();
        child.send(&format!("child got: {msg}")).unwrap();
        let big = child.recv_bytes().unwrap();
        child.send_bytes(&big).unwrap();
        0
    });
    parent.send("hello").unwrap();
    assert_eq!(parent.recv::<String>().unwrap(), "child got: hello");
    let base: Vec<u8> = (0..=250).collect();
    let mut big = base.repeat((16 << 20) / 251 + 1);
    big.truncate(16 << 20);
    parent.send_bytes(&big).unwrap();
    assert_eq!(parent.recv_bytes().unwrap(), big);
    assert_eq!(kid.wait(), 0);
    // The child is gone: end of stream, before any frame.
    assert!(matches!(parent.recv_bytes(), Err(Error::Eof)));
}

#[test]
fn connection_end_sent_to_a_child_works_there() {
    let _w = Watchdog::new(30);
    let (parent, child) = pipe(true).unwrap();
    let kid = fork(30, move || {
        let (label, end): (String, Connection) = child.recv().unwrap();
        end.send(&format!("{label} works")).unwrap();
        let n: u64 = end.recv().unwrap();
        end.send(&(n * 2)).unwrap();
        0
    });
    // Created after the fork: the child can only get `y` through the message.
    let (x, y) = pipe(true).unwrap();
    let before = open_fds();
    parent.send(&("passed end", &y)).unwrap();
    assert_eq!(open_fds(), before, "sending must not leak the duplicate");
    drop(y);
    assert_eq!(x.recv::<String>().unwrap(), "passed end works");
    x.send(&21u64).unwrap();
    assert_eq!(x.recv::<u64>().unwrap(), 42);
    assert_eq!(kid.wait(), 0);
    assert!(matches!(x.recv_bytes(), Err(Error::Eof)));
}

#[test]
fn eof_inside_a_frame_differs_from_eof_between_frames() {
    let _w = Watchdog::new(30);
    let (conn, raw) = raw_pair();
    let kid = fork(30, move || {
        // One whole frame, then a header announcing 10 bytes followed by only 3.
        multiproc_sys::fd::write(&raw, &[0, 0, 0, 2, b'o', b'k']).unwrap();
        multiproc_sys::fd::write(&raw, &[0, 0, 0, 10, 1, 2, 3]).unwrap();
        0
    });
    assert_eq!(kid.wait(), 0);
    assert_eq!(conn.recv_bytes().unwrap(), b"ok");
    match conn.recv_bytes() {
        Err(Error::TruncatedFrame { expected, received }) => {
            assert_eq!((expected, received), (14, 7));
        }
        other => panic!("{other:?}"),
    }
    // A header cut short is also a truncated frame.
    let (conn, raw) = raw_pair();
    multiproc_sys::fd::write(&raw, &[0, 0]).unwrap();
    drop(raw);
    assert!(matches!(
        conn.recv_bytes(),
        Err(Error::TruncatedFrame { .. })
    ));
}

#[test]
fn buffer_too_short_carries_the_whole_message() {
    let _w = Watchdog::new(30);
    let (parent, child) = pipe(true).unwrap();
    let kid = fork(30, move || {
        child.send_bytes(b"0123456789").unwrap();
        child.send_bytes(b"fits").unwrap();
        0
    });
    let mut buf = [0u8; 6];
    match parent.recv_bytes_into(&mut buf, 0) {
        Err(Error::BufferTooShort(m)) => assert_eq!(m, b"0123456789"),
        other => panic!("{other:?}"),
    }
    assert_eq!(parent.recv_bytes_into(&mut buf, 2).unwrap(), 4);
    assert_eq!(&buf[2..], b"fits");
    assert!(matches!(
        parent.recv_bytes_into(&mut buf, 7),
        Err(Error::OutOfRange)
    ));
    assert_eq!(kid.wait(), 0);
}

#[test]
fn poll_and_wait_see_messages_from_children_without_consuming() {
    let _w = Watchdog::new(30);
    let (p1, c1) = pipe(true).unwrap();
    let (p2, c2) = pipe(true).unwrap();
    let kid = fork(30, move || {
        // Wait for "go", then answer on the second pipe only.
        let _: u8 = c1.recv().unwrap();
        c2.send_bytes(b"from 2").unwrap();
        // Then close everything: both pipes become ready (EOF).
        0
    });
    assert!(!p2.poll(Some(Duration::ZERO)).unwrap());
    assert!(
        wait(&[&p1, &p2], Some(Duration::from_millis(10)))
            .unwrap()
            .is_empty()
    );
    p1.send(&1u8).unwrap();
    assert!(p2.poll(Some(Duration::from_secs(20))).unwrap());
    assert!(p2.poll(None).unwrap());
    let ready = wait(&[&p1, &p2], None).unwrap();
    assert!(ready.iter().any(|c| std::ptr::eq(*c, &p2)));
    assert_eq!(p2.recv_bytes().unwrap(), b"from 2");
    assert_eq!(kid.wait(), 0);
    let ready = wait(&[&p1, &p2], Some(Duration::from_secs(20))).unwrap();
    assert_eq!(ready.len(), 2, "closed peers count as ready");
    assert!(matches!(p1.recv_bytes(), Err(Error::Eof)));
}

#[test]
fn wait_mixes_connections_and_raw_fds() {
    let _w = Watchdog::new(30);
    let (p, c) = pipe(true).unwrap();
    let (r, w) = multiproc_sys::fd::pipe().unwrap();
    multiproc_sys::fd::write(&w, b"x").unwrap();
    let objects: [&dyn multiproc_pipe::Waitable; 2] = [&p, &r];
    let ready = wait(&objects, Some(Duration::from_secs(5))).unwrap();
    assert_eq!(ready.len(), 1);
    drop(c);
    assert_eq!(
        wait(&objects, Some(Duration::from_secs(5))).unwrap().len(),
        2
    );
}

#[test]
fn hostile_lengths_are_errors_not_allocations() {
    let _w = Watchdog::new(30);
    // i32::MAX: above the default 1 GiB cap.
    let (conn, raw) = raw_pair();
    multiproc_sys::fd::write(&raw, &[0x7f, 0xff, 0xff, 0xff]).unwrap();
    assert!(matches!(
        conn.recv_bytes(),
        Err(Error::FrameTooLong {
            len: 0x7fff_ffff,
            ..
        })
    ));
    // The stream is out of sync now: later reads fail too.
    assert!(matches!(conn.recv_bytes(), Err(Error::Broken)));
    // The 8-byte escape with an absurd length.
    let (conn, raw) = raw_pair();
    multiproc_sys::fd::write(&raw, &[0xff; 12]).unwrap();
    assert!(matches!(conn.recv_bytes(), Err(Error::FrameTooLong { .. })));
    // A negative length other than the escape.
    let (conn, raw) = raw_pair();
    multiproc_sys::fd::write(&raw, &[0xff, 0xff, 0xff, 0xfe]).unwrap();
    assert!(matches!(conn.recv_bytes(), Err(Error::InvalidLength(-2))));
    // Within the cap but never sent: memory grows only with the bytes that arrive.
    let (conn, raw) = raw_pair();
    conn.set_max_frame_len(u64::MAX);
    multiproc_sys::fd::write(&raw, &[0x7f, 0xff, 0xff, 0xff, 1, 2, 3]).unwrap();
    drop(raw);
    assert!(matches!(
        conn.recv_bytes(),
        Err(Error::TruncatedFrame { received: 7, .. })
    ));
    // The escape is accepted for short payloads too.
    let (conn, raw) = raw_pair();
    multiproc_sys::fd::write(
        &raw,
        &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2, 7, 8],
    )
    .unwrap();
    assert_eq!(conn.recv_bytes().unwrap(), [7, 8]);
}

#[test]
fn closed_and_simplex_ends_give_clear_errors() {
    let _w = Watchdog::new(30);
    let (a, b) = pipe(true).unwrap();
    drop(b);
    match a.send_bytes(b"anyone?") {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe),
        other => panic!("{other:?}"),
    }
    let (r, w) = pipe(false).unwrap();
    assert!(matches!(r.send_bytes(b"x"), Err(Error::NotWritable)));
    assert!(matches!(w.recv_bytes(), Err(Error::NotReadable)));
    assert!(matches!(w.poll(None), Err(Error::NotReadable)));
    w.send(&5u8).unwrap();
    assert_eq!(r.recv::<u8>().unwrap(), 5);
    w.close();
    assert!(matches!(r.recv::<u8>(), Err(Error::Eof)));
}

#[test]
fn unexpected_descriptors_are_closed() {
    let _w = Watchdog::new(30);
    let (conn, raw) = raw_pair();
    let (spare1, spare2) = multiproc_sys::fd::socketpair().unwrap();
    let before = open_fds();
    // A bytes frame carrying two descriptors it has no use for.
    multiproc_sys::fd::send_with_fds(
        &raw,
        &[IoSlice::new(&[0, 0, 0, 1, 9])],
        &[spare1.as_fd(), spare2.as_fd()],
    )
    .unwrap();
    assert_eq!(conn.recv_bytes().unwrap(), [9]);
    assert_eq!(open_fds(), before);
    // A typed frame declaring 0 handles but carrying one: rejected, descriptor closed.
    multiproc_sys::fd::send_with_fds(
        &raw,
        &[IoSlice::new(&[0, 0, 0, 2, 0, 5])],
        &[spare1.as_fd()],
    )
    .unwrap();
    assert!(matches!(conn.recv::<u8>(), Err(Error::Envelope(_))));
    assert_eq!(open_fds(), before);
    // A typed frame declaring a handle that never came.
    multiproc_sys::fd::write(&raw, &[0, 0, 0, 2, 1, 0]).unwrap();
    assert!(matches!(
        conn.recv::<multiproc_shm::handle::Handle>(),
        Err(Error::Envelope(_))
    ));
    // Still in sync afterwards.
    multiproc_sys::fd::write(&raw, &[0, 0, 0, 2, 0, 7]).unwrap();
    assert_eq!(conn.recv::<u8>().unwrap(), 7);
    assert_eq!(open_fds(), before);
}

fn check_descriptors_stay_with_their_frame(a: Connection, b: &Connection) {
    let (x, y) = pipe(true).unwrap();
    let (x2, y2) = pipe(true).unwrap();
    let big = vec![3u8; 300_000];
    let sent = big.clone();
    // Several frames land in one read; the handles must go to the right frames, including a
    // frame larger than the read buffer. The sender runs on its own thread, as the big frame
    // does not fit the pipe or socket buffer.
    let sender = std::thread::spawn(move || {
        a.send_bytes(b"one").unwrap();
        a.send(&7u32).unwrap();
        a.send(&("end", &y)).unwrap();
        a.send_bytes(b"four").unwrap();
        a.send(&(&sent, &y2)).unwrap();
        a.send(&8u32).unwrap();
    });
    assert_eq!(b.recv_bytes().unwrap(), b"one");
    assert_eq!(b.recv::<u32>().unwrap(), 7);
    let (_, end): (String, Connection) = b.recv().unwrap();
    assert_eq!(b.recv_bytes().unwrap(), b"four");
    let (got, end2): (Vec<u8>, Connection) = b.recv().unwrap();
    assert_eq!(got, big);
    assert_eq!(b.recv::<u32>().unwrap(), 8);
    sender.join().unwrap();
    end.send_bytes(b"through").unwrap();
    assert_eq!(x.recv_bytes().unwrap(), b"through");
    end2.send_bytes(b"second").unwrap();
    assert_eq!(x2.recv_bytes().unwrap(), b"second");
}

#[test]
fn descriptors_stay_with_their_frame_over_pipes() {
    let _w = Watchdog::new(30);
    let (a, b) = pipe(true).unwrap();
    check_descriptors_stay_with_their_frame(a, &b);
}

#[test]
fn descriptors_stay_with_their_frame_over_a_unix_socket() {
    let _w = Watchdog::new(30);
    let (a, b) = UnixStream::pair().unwrap();
    check_descriptors_stay_with_their_frame(
        Connection::from_unix_stream(a),
        &Connection::from_unix_stream(b),
    );
}

#[test]
fn typed_handles_over_tcp_are_refused_at_send() {
    let _w = Watchdog::new(30);
    let l = multiproc_pipe::Listener::bind(&"127.0.0.1:0".parse().unwrap(), None).unwrap();
    let addr = l.address().clone();
    let t = std::thread::spawn(move || multiproc_pipe::Client::connect(&addr, None).unwrap());
    let server = l.accept().unwrap();
    let client = t.join().unwrap();
    let (_x, y) = pipe(true).unwrap();
    assert!(matches!(server.send(&y), Err(Error::HandlesNeedUnixSocket)));
    server.send(&"plain is fine").unwrap();
    assert_eq!(client.recv::<String>().unwrap(), "plain is fine");
}
