//! Seed 004, `Array('i', 10)` filled in a child; plus an array of `#[repr(C)]` points squared in
//! a child (ctypes `Structure` in CPython) and a `'c'` byte string upper-cased in a child.
//!
//! Run: `cargo run -p multiproc --example shared_array`
#![allow(clippy::print_stdout)]

use multiproc::Array;
use multiproc::process::Process;

#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

fn fill_array((arr, start): (Array<i32>, i32)) {
    let a = arr.lock();
    for i in 0..a.len() {
        let offset = i32::try_from(i).expect("small index");
        a.store(i, start + offset); // arr[i] = start + i
    }
}

fn square(points: Array<Point>) {
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

fn upper(s: Array<u8>) {
    let g = s.lock();
    let up = g.value().to_ascii_uppercase();
    g.set_value(&up).expect("same length");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arr = Array::<i32>::new(10)?; // 10 ints
    let mut p = Process::from_fn(fill_array, (arr.clone(), 100));
    p.start()?;
    p.join()?;
    println!("{:?}", arr.to_vec()); // [100, 101, 102, ...]

    let points = Array::from_slice(&[
        Point { x: 1.875, y: -6.25 },
        Point { x: -5.75, y: 2.0 },
        Point { x: 2.375, y: 9.5 },
    ])?;
    let mut p = Process::from_fn(square, points.clone());
    p.start()?;
    p.join()?;
    for pt in points.to_vec() {
        println!("({}, {})", pt.x, pt.y);
    }

    let s = Array::from_slice(b"hello world")?; // Array('c', b'hello world')
    let mut p = Process::from_fn(upper, s.clone());
    p.start()?;
    p.join()?;
    println!("{}", String::from_utf8_lossy(&s.value())); // HELLO WORLD
    Ok(())
}
