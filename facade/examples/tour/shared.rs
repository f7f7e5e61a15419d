//! Tour stop: state shared between processes — `Value`, `Array`, raw values, and
//! `SharedMemory` segments viewed as typed arrays.

use multiproc::process::Process;
use multiproc::{Array, RawValue, SharedMemory, Value};

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

fn locked_increments(counter: Value<i64>) {
    for _ in 0..20_000 {
        *counter.lock() += 1;
    }
}

fn unlocked_increments(counter: RawValue<i64>) {
    for _ in 0..20_000 {
        counter.store(counter.load() + 1); // read, then write: not atomic
    }
}

fn square_points(points: Array<Point>) {
    let a = points.lock();
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
}

fn shout(s: Array<u8>) {
    let g = s.lock();
    let up = g.value().to_ascii_uppercase();
    g.set_value(&up).expect("same length");
}

fn write_by_name(name: String) {
    let shm = SharedMemory::open(&name).expect("open by name");
    shm.as_slice_of::<f64>().store(0, 42.0);
}

fn run_all<A>(target: fn(A), arg: &A, n: usize) -> Result<(), Box<dyn std::error::Error>>
where
    A: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let mut procs: Vec<Process> = (0..n)
        .map(|_| Process::from_fn(target, arg.clone()))
        .collect();
    for p in &mut procs {
        p.start()?;
    }
    for p in &procs {
        p.join()?;
    }
    Ok(())
}

/// Runs the shared-state tour stop.
#[allow(clippy::print_stdout)]
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Shared state: Value, Array, SharedMemory ==");

    let counter = Value::new(0i64)?;
    run_all(locked_increments, &counter, 2)?;
    println!(
        "2 processes x 20,000 increments with the lock:    {} (always 40000)",
        counter.load()
    );
    let raw = RawValue::new(0i64)?;
    run_all(unlocked_increments, &raw, 2)?;
    let total = raw.load();
    let verdict = if total < 40_000 {
        format!("{} updates lost to the race", 40_000 - total)
    } else {
        "no update lost this time, but nothing guarantees it".to_owned()
    };
    println!("2 processes x 20,000 increments without the lock: {total} ({verdict})");

    let points = Array::from_slice(&[Point { x: 1.5, y: -2.0 }, Point { x: 3.0, y: 0.5 }])?;
    run_all(square_points, &points, 1)?;
    println!("points squared in a child: {:?}", points.to_vec());

    let s = Array::from_slice(b"hello from the parent")?;
    run_all(shout, &s, 1)?;
    println!(
        "a 'c' array upper-cased in a child: {}",
        String::from_utf8_lossy(&s.value())
    );

    let shm = SharedMemory::create(None, 8 * 4)?;
    let name = shm.name().unwrap_or_default().to_owned();
    run_all(write_by_name, &name, 1)?;
    println!(
        "segment {name:?} written by a child that opened it by name: {:?}",
        shm.as_slice_of::<f64>().copy_to_vec()
    );
    println!("(the creator unlinks {name:?} when it drops the segment)");
    Ok(())
}
