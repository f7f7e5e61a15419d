//! Seed 004, "批量异步提交": the four ways to run a batch — `map` (blocking, a list), `imap`
//! (lazy, in order), `imap_unordered` (lazy, as they finish) and `starmap` (several arguments).
//!
//! Run: `cargo run -p multiproc --example pool_batch`
#![allow(clippy::print_stdout)]

use multiproc::Pool;

fn process_item(item: u64) -> u64 {
    item.pow(2)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let items = 0..100u64;
    let pool = Pool::new(4)?;

    // 1: map (blocks, returns a Vec).
    let results = pool.map(process_item, items.clone())?;
    println!("map: {} results, last {}", results.len(), results[99]);

    // 2: imap (lazy iterator, input order).
    for result in pool.imap(process_item, items.clone()).take(5) {
        println!("imap: {}", result?);
    }

    // 3: imap_unordered (lazy, completion order).
    let total: u64 = pool
        .imap_unordered(process_item, items)
        .sum::<Result<u64, _>>()?;
    println!("imap_unordered: sum {total}");

    // 4: starmap (several arguments). Python passes a lambda, which cannot be pickled for a
    // pool in Python either; a capture-free closure works here under every start method.
    let pairs = [(1, 2), (3, 4), (5, 6)];
    let results = pool.starmap(|a: i32, b: i32| a + b, pairs)?;
    println!("starmap: {results:?}");
    Ok(())
}
