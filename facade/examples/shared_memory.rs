//! Seeds 000 and 004, `shared_memory`: a named segment viewed as an `int64` array (numpy over
//! `shm.buf` in the Python original), opened by name in a child that writes to it.
//!
//! Run: `cargo run -p multiproc --example shared_memory`
#![allow(clippy::print_stdout)]

use multiproc::SharedMemory;
use multiproc::process::Process;

/// The child: attach by name, view as i64, write, close (an attacher never unlinks).
fn worker((name, len): (String, usize)) {
    let existing = SharedMemory::open(&name).expect("open by name");
    let array = existing.view_at::<i64>(0, len).expect("view");
    array.store(0, 99);
    existing.close();
}

/// The second half of seed 004: a 10×10 float64 matrix, `arr[0, 0] = 42` in a child.
fn matrix_worker(name: String) {
    let existing = SharedMemory::open(&name).expect("open by name");
    let m = existing.view_at::<f64>(0, 10 * 10).expect("view");
    m.store(0, 42.0); // arr[0, 0]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data: [i64; 5] = [1, 2, 3, 4, 5];
    let shm = SharedMemory::create(None, std::mem::size_of_val(&data))?;
    let shm_array = shm.as_slice_of::<i64>();
    shm_array.copy_from_slice(&data); // shm_array[:] = array[:]

    let name = shm.name().expect("named").to_owned();
    let mut p = Process::from_fn(worker, (name, data.len()));
    p.start()?;
    p.join()?;
    println!("Shared memory content: {:?}", shm_array.copy_to_vec());
    assert_eq!(shm_array.copy_to_vec(), [99, 2, 3, 4, 5]);
    shm.unlink()?; // what dropping would do for the creator anyway
    shm.close();

    let shm = SharedMemory::create(None, 1000)?;
    let m = shm.view_at::<f64>(0, 100)?;
    m.fill(0.0); // arr[:] = 0
    let mut p = Process::from_fn(matrix_worker, shm.name().expect("named").to_owned());
    p.start()?;
    p.join()?;
    println!("arr[0, 0] = {}", m.load(0));
    assert_eq!(m.load(0), 42.0);
    Ok(())
}
