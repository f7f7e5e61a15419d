//! A queue passed to a child as a `Process` argument under every start method (fork, spawn,
//! forkserver): the child puts through it, the parent gets; and a `JoinableQueue`'s counter is
//! shared too.
#![cfg(not(multiproc_loom))]

use multiproc_process::{Process, StartMethod};
use multiproc_queue::{JoinableQueue, Queue};
use std::time::Duration;

fn child_puts(q: Queue<String>) -> usize {
    for i in 0..100 {
        q.put(format!("from child {i}")).unwrap();
    }
    q.qsize()
}

fn child_works(jobs: JoinableQueue<u32>) {
    for _ in 0..3 {
        let n = jobs.get().unwrap();
        assert!(n < 3);
        jobs.task_done().unwrap();
    }
}

#[test]
fn queue_crosses_every_start_method() {
    for method in [
        StartMethod::Fork,
        StartMethod::Spawn,
        StartMethod::Forkserver,
    ] {
        let q: Queue<String> = Queue::new().unwrap();
        let mut p = Process::with_result(child_puts, q.clone());
        p.set_start_method(method);
        p.start().unwrap();
        for i in 0..100 {
            let got = q.get_timeout(Duration::from_secs(30)).unwrap();
            assert_eq!(got, format!("from child {i}"), "{method:?}");
        }
        let seen = p
            .join_timeout(Duration::from_secs(30))
            .unwrap()
            .expect("child finished");
        assert!(seen <= 100, "{method:?}");
        assert!(q.empty());
    }
}

#[test]
fn joinable_counter_is_shared_with_a_spawned_child() {
    let jobs: JoinableQueue<u32> = JoinableQueue::new().unwrap();
    let mut p = Process::new(child_works, jobs.clone());
    p.set_start_method(StartMethod::Spawn);
    p.start().unwrap();
    for n in 0..3 {
        jobs.put(n).unwrap();
    }
    assert!(jobs.join_timeout(Duration::from_secs(30)));
    assert!(p.join_timeout(Duration::from_secs(30)).unwrap());
    assert_eq!(p.exitcode(), Some(0));
}
