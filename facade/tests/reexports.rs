//! Every re-export path of the facade reaches a working item: the module paths
//! (`multiproc::pipe::...`) and the flat Python-style names (`multiproc::Pipe`).

use std::time::Duration;

#[test]
fn pipe_paths() {
    let (a, b) = multiproc::Pipe(true).unwrap();
    a.send(&1u32).unwrap();
    assert_eq!(b.recv::<u32>().unwrap(), 1);
    let (c, d) = multiproc::pipe::pipe(true).unwrap();
    d.send_bytes(b"x").unwrap();
    assert_eq!(c.recv_bytes().unwrap(), b"x");
}

#[test]
fn queue_paths() {
    let q: multiproc::Queue<u8> = multiproc::queue::Queue::new().unwrap();
    q.put(3).unwrap();
    assert_eq!(q.get().unwrap(), 3);
    let s = multiproc::SimpleQueue::<u8>::new().unwrap();
    s.put(4).unwrap();
    assert_eq!(s.get().unwrap(), 4);
    let j = multiproc::JoinableQueue::<u8>::new().unwrap();
    j.put(5).unwrap();
    assert_eq!(j.get().unwrap(), 5);
    j.task_done().unwrap();
    j.join();
}

#[test]
fn sync_paths() {
    let lock = multiproc::Lock::new().unwrap();
    drop(lock.acquire().unwrap());
    let sem = multiproc::sync::Semaphore::new(1).unwrap();
    assert!(sem.try_acquire().is_some());
    let ev = multiproc::Event::new().unwrap();
    ev.set();
    assert!(ev.wait_timeout(Duration::from_millis(1)));
}

#[test]
fn shared_paths() {
    let v = multiproc::Value::new(1i32).unwrap();
    *v.lock() += 1;
    assert_eq!(v.load(), 2);
    let a = multiproc::shared::RawArray::<u8>::new(3).unwrap();
    assert_eq!(a.len(), 3);
    let shm = multiproc::SharedMemory::anonymous(64).unwrap();
    assert_eq!(multiproc::shm::SharedMemory::len(&shm), 64);
}

fn double(x: u32) -> u32 {
    x * 2
}

#[test]
fn process_and_pool_paths() {
    multiproc_testkit::watchdog(120);
    let mut p = multiproc::Process::with_result(double, 21);
    p.set_start_method(multiproc::StartMethod::Fork);
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), 42);
    assert!(multiproc::process::cpu_count() >= 1);
    let pool = multiproc::Pool::new(2).unwrap();
    assert_eq!(pool.map(double, vec![1, 2, 3]).unwrap(), vec![2, 4, 6]);
}
