//! Value / Array / RawValue / RawArray across real processes (fork), with leak checks.
//! The scenarios are the seeds' CPython examples (counter, fill, struct, 'c' array).

use multiproc_shared::{Array, Bool, RawArray, RawValue, Value};
use multiproc_shm::handle;
use multiproc_testkit::{DEADLINE, fork, open_fds, watchdog};

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

#[test]
fn four_processes_times_ten_thousand_locked_increments() {
    let counter = Value::new(0i32).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            fork(move || {
                for _ in 0..10_000 {
                    *counter.lock() += 1;
                }
            })
        })
        .collect();
    for c in children {
        assert!(c.join(DEADLINE));
    }
    assert_eq!(counter.load(), 40_000);
}

#[test]
fn value_sent_with_handles_like_a_spawned_child_argument() {
    let v = Value::new(1.5f64).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&v).unwrap();
    let child = fork(move || {
        let mine: Value<f64> = handle::decode_with_handles(&bytes, fds).unwrap();
        mine.update(|x| *x *= 4.0);
    });
    assert!(child.join(DEADLINE));
    assert_eq!(v.load(), 6.0);
}

#[test]
fn array_filled_in_a_child() {
    let arr = Array::<i32>::new(10).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&arr).unwrap();
    let child = fork(move || {
        let arr: Array<i32> = handle::decode_with_handles(&bytes, fds).unwrap();
        let a = arr.lock();
        for i in 0..a.len() {
            a.store(i, 100 + i32::try_from(i).unwrap());
        }
    });
    assert!(child.join(DEADLINE));
    assert_eq!(arr.to_vec(), (100..110).collect::<Vec<i32>>());
}

#[test]
fn points_squared_in_a_child() {
    let pts = [(1.875, -6.25), (-5.75, 2.0), (2.375, 9.5)].map(|(x, y)| Point { x, y });
    let arr = Array::from_slice(&pts).unwrap();
    let child_arr = arr.clone();
    let child = fork(move || {
        let a = child_arr.lock();
        for i in 0..a.len() {
            let p = a.load(i);
            a.store(
                i,
                Point {
                    x: p.x * p.x,
                    y: p.y * p.y,
                },
            );
        }
    });
    assert!(child.join(DEADLINE));
    let want: Vec<Point> = pts
        .iter()
        .map(|p| Point {
            x: p.x * p.x,
            y: p.y * p.y,
        })
        .collect();
    assert_eq!(arr.to_vec(), want);
}

#[test]
fn char_array_upper_cased_in_a_child() {
    let s = Array::from_slice(b"hello world").unwrap();
    let child_s = s.clone();
    let child = fork(move || {
        let g = child_s.lock();
        let up = g.value().to_ascii_uppercase();
        g.set_value(&up).unwrap();
    });
    assert!(child.join(DEADLINE));
    assert_eq!(s.value(), b"HELLO WORLD");
    // A shorter value writes a NUL after it; the rest stays.
    s.set_value(b"hi").unwrap();
    assert_eq!(s.value(), b"hi");
    assert_eq!(s.raw(), b"hi\0LO WORLD");
    assert!(s.set_value(b"much too long!").is_err());
}

#[test]
fn raw_values_and_arrays_in_a_child() {
    let flag = RawValue::new(Bool::FALSE).unwrap();
    let data = RawArray::<u64>::new(1000).unwrap();
    let (f2, d2) = (flag.clone(), data.clone());
    let child = fork(move || {
        for i in 0..d2.len() {
            d2.store(i, (i * i) as u64);
        }
        f2.store(true.into());
    });
    assert!(child.join(DEADLINE));
    assert!(flag.load().get());
    assert_eq!(data.load(999), 999 * 999);
}

#[test]
fn ten_thousand_values_need_a_handful_of_fds() {
    let before = open_fds();
    // Each Value has its own lock (as in CPython); values and locks live in arena segments.
    let values: Vec<Value<u64>> = (0..10_000).map(|i| Value::new(i).unwrap()).collect();
    let raws: Vec<RawValue<u64>> = (0..10_000).map(|i| RawValue::new(i).unwrap()).collect();
    let used = open_fds() - before;
    assert!(used <= 12, "20,000 values used {used} fds");
    assert!(multiproc_shm::Block::mapped_segments() <= 12);
    assert!(raws.iter().enumerate().all(|(i, v)| v.load() == i as u64));
    assert!(values.iter().enumerate().all(|(i, v)| v.load() == i as u64));
    // All 10,000 travel to a child in one message: each segment's fd once.
    let (bytes, fds) = handle::encode_with_handles(&values).unwrap();
    assert!(fds.len() <= 12, "{} fds in the message", fds.len());
    let child = fork(move || {
        let mine: Vec<Value<u64>> = handle::decode_with_handles(&bytes, fds).unwrap();
        for v in &mine {
            *v.lock() += 1;
        }
    });
    assert!(child.join(DEADLINE));
    assert!(
        values
            .iter()
            .enumerate()
            .all(|(i, v)| v.load() == i as u64 + 1)
    );
    drop((raws, values));
    assert!(open_fds() <= before + 1, "fds leaked");
}

#[test]
fn values_with_their_own_lock_release_every_fd() {
    let before = open_fds();
    for i in 0..200 {
        let v = Value::new(i).unwrap();
        let a = Array::<u8>::new(16).unwrap();
        let (bytes, fds) = handle::encode_with_handles(&(v, a)).unwrap();
        let back: (Value<i32>, Array<u8>) = handle::decode_with_handles(&bytes, fds).unwrap();
        assert_eq!(back.0.load(), i);
    }
    assert!(open_fds() <= before + 1, "fds leaked");
}

#[test]
fn a_block_of_the_wrong_shape_is_refused() {
    let small = RawArray::<u8>::new(4).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&small).unwrap();
    let err = handle::decode_with_handles::<RawValue<u64>>(&bytes, fds).unwrap_err();
    assert!(err.to_string().contains("cannot hold one u64"), "{err}");
    let odd = RawArray::<u8>::new(12).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&odd).unwrap();
    assert!(handle::decode_with_handles::<RawArray<u64>>(&bytes, fds).is_err());
}

#[test]
fn rlock_value_nests_like_cpython() {
    // CPython: with v.get_lock(): v.value += 1   (Value's default lock is an RLock)
    let v: Value<i64, multiproc_sync::RLock> =
        Value::with_lock(0, multiproc_sync::RLock::new().unwrap()).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let v = v.clone();
            fork(move || {
                for _ in 0..2_500 {
                    let _held = v.get_lock().acquire().unwrap();
                    v.store(v.load() + 1);
                }
            })
        })
        .collect();
    for c in children {
        assert!(c.join(DEADLINE));
    }
    assert_eq!(v.load(), 10_000);
    // An Array with an RLock travels with handles too.
    let arr = Array::with_lock(&[1u8, 2], multiproc_sync::RLock::new().unwrap()).unwrap();
    let (bytes, fds) = handle::encode_with_handles(&arr).unwrap();
    let back: Array<u8, multiproc_sync::RLock> = handle::decode_with_handles(&bytes, fds).unwrap();
    back.store(0, 9);
    assert_eq!(arr.to_vec(), [9, 2]);
}

#[test]
fn a_thousand_raw_values_in_one_message() {
    // One arena segment travels once (the handle table dedups fds), not 1,000 times.
    let values: Vec<RawValue<u64>> = (0..1000).map(|i| RawValue::new(i).unwrap()).collect();
    let (bytes, fds) = handle::encode_with_handles(&values).unwrap();
    assert!(fds.len() <= 3, "{} fds", fds.len());
    let child = fork(move || {
        let mine: Vec<RawValue<u64>> = handle::decode_with_handles(&bytes, fds).unwrap();
        for v in &mine {
            v.store(v.load() * 2);
        }
    });
    assert!(child.join(DEADLINE));
    assert!(
        values
            .iter()
            .enumerate()
            .all(|(i, v)| v.load() == 2 * i as u64)
    );
}

#[test]
fn a_holder_killed_inside_the_critical_section_does_not_deadlock() {
    watchdog(30);
    let v = Value::new(7i64).unwrap();
    let holding = RawValue::new(Bool::FALSE).unwrap();
    let (v2, h2) = (v.clone(), holding.clone());
    let child = fork(move || {
        let mut g = v2.lock();
        *g = -1; // modified only in the guard's private copy
        h2.store(true.into());
        loop {
            std::thread::park();
        }
    });
    while !holding.load().get() {
        std::thread::yield_now();
    }
    child.kill();
    let g = v.lock(); // CPython would deadlock here
    assert!(g.owner_died());
    // The holder died before its guard wrote back: the shared value is untouched.
    assert_eq!(*g, 7);
    drop(g);
    assert!(!v.lock().owner_died());
}
