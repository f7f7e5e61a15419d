//! Value, Array, RawValue and RawArray passed as `Process` arguments under every start method
//! (under spawn the child is a fresh exec of this test binary: it maps the arena segments anew).

use multiproc_process::{Process, StartMethod};
use multiproc_shared::{Array, RawArray, RawValue, Value};
use multiproc_shm::SharedMemory;
use std::time::Duration;

type Args = (Value<i64>, Array<f64>, RawValue<u32>, RawArray<u8>);

fn child(args: Args) {
    let (counter, arr, raw, name) = args;
    for _ in 0..1000 {
        *counter.lock() += 1;
    }
    let a = arr.lock();
    for i in 0..a.len() {
        a.store(i, a.load(i) * 2.0);
    }
    {
        // Raw values have no lock: borrow the counter's for the read-modify-write.
        let _g = counter.lock();
        raw.store(raw.load() + 1);
    }
    let up = name.value().to_ascii_uppercase();
    name.set_value(&up).unwrap();
}

fn run(method: StartMethod) {
    let counter = Value::new(0i64).unwrap();
    let arr = Array::from_slice(&[1.0, 2.0, 3.0]).unwrap();
    let raw = RawValue::new(41u32).unwrap();
    let name = RawArray::from_slice(b"shared\0").unwrap();
    let mut procs: Vec<Process> = (0..2)
        .map(|_| {
            let mut p = Process::from_fn(
                child,
                (counter.clone(), arr.clone(), raw.clone(), name.clone()),
            );
            p.set_start_method(method);
            p
        })
        .collect();
    for p in &mut procs {
        p.start().unwrap();
    }
    for p in &procs {
        // A watchdog: join with a deadline, kill on timeout.
        let done = p.join_timeout(Duration::from_secs(60)).unwrap();
        if !done {
            let _ = p.kill();
            panic!("child did not finish under {method:?}");
        }
        assert_eq!(p.exitcode(), Some(0), "under {method:?}");
    }
    assert_eq!(counter.load(), 2000, "under {method:?}");
    assert_eq!(arr.to_vec(), [4.0, 8.0, 12.0], "under {method:?}");
    assert_eq!(raw.load(), 43, "under {method:?}");
    assert_eq!(name.value(), b"SHARED", "under {method:?}");
}

#[test]
fn under_fork() {
    run(StartMethod::Fork);
}

#[test]
fn under_spawn() {
    run(StartMethod::Spawn);
}

#[test]
fn under_forkserver() {
    run(StartMethod::Forkserver);
}

fn segment_child(args: (SharedMemory, SharedMemory, String)) {
    let (anonymous, named, name) = args;
    anonymous.as_slice_of::<u64>().store(1, 11);
    named.as_slice_of::<u64>().store(2, 22);
    // Opening by name works from a child of any start method too.
    let by_name = SharedMemory::open(&name).unwrap();
    by_name.as_slice_of::<u64>().store(3, 33);
}

#[test]
fn shared_memory_under_every_start_method() {
    for method in [
        StartMethod::Fork,
        StartMethod::Spawn,
        StartMethod::Forkserver,
    ] {
        let anonymous = SharedMemory::anonymous(64).unwrap();
        let named = SharedMemory::create(None, 64).unwrap();
        let name = named.name().unwrap().to_owned();
        // A second handle to the anonymous segment (what a receiver gets).
        let (bytes, fds) = multiproc_shm::handle::encode_with_handles(&anonymous).unwrap();
        let anonymous_arg: SharedMemory =
            multiproc_shm::handle::decode_with_handles(&bytes, fds).unwrap();
        let mut p = Process::from_fn(
            segment_child,
            (
                anonymous_arg,
                SharedMemory::open(&name).unwrap(),
                name.clone(),
            ),
        );
        p.set_start_method(method);
        p.start().unwrap();
        assert!(
            p.join_timeout(Duration::from_secs(60)).unwrap(),
            "{method:?}"
        );
        assert_eq!(p.exitcode(), Some(0), "{method:?}");
        drop(p);
        let v = named.as_slice_of::<u64>();
        assert_eq!((v.load(2), v.load(3)), (22, 33), "{method:?}");
        assert_eq!(anonymous.as_slice_of::<u64>().load(1), 11, "{method:?}");
        drop(named);
        assert!(
            SharedMemory::open(&name).is_err(),
            "creator's drop unlinks ({method:?})"
        );
    }
}
