//! Creating and dropping primitives leaks no file descriptors (alone in its test binary, so
//! that no concurrently running test opens or closes fds meanwhile).
#![cfg(not(multiproc_loom))]

mod common;

use multiproc_sync::{Barrier, Condition, Event, Lock, RLock, Semaphore};

#[test]
fn no_fd_leaks() {
    // The first primitive maps this process's arena segment, which stays for later ones.
    drop(Lock::new().unwrap());
    let before = multiproc_testkit::open_fds();
    for _ in 0..200 {
        let l = Lock::new().unwrap();
        let c = l.clone();
        drop((l, c, Semaphore::new(1).unwrap(), Event::new().unwrap()));
        drop((RLock::new().unwrap(), Condition::with_rlock().unwrap()));
        drop(Barrier::new(2).unwrap());
    }
    let name = format!("mpsync_leak_{}", std::process::id());
    for _ in 0..20 {
        let named = Lock::create_named(&name).unwrap();
        drop((Lock::open_named(&name).unwrap(), named));
    }
    assert_eq!(multiproc_testkit::open_fds(), before);
    assert_eq!(common::shm_entries(&name), 0);
}
