//! Seed 003, `main07_practical_example`: "processing" eight images (a 0.1 s sleep each),
//! serially and then with a `ProcessPoolExecutor` of four workers.
//!
//! Run: `cargo run -p multiproc --example pool_images`
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use multiproc::ProcessPoolExecutor;

/// Simulated image processing.
fn process_image(image_path: String) -> String {
    std::thread::sleep(Duration::from_millis(100));
    format!("processed: {image_path}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let images: Vec<String> = (0..8).map(|i| format!("image_{i}.jpg")).collect();

    println!("serial:");
    let start = Instant::now();
    let _results: Vec<String> = images.iter().cloned().map(process_image).collect();
    println!("  took {:.2}s", start.elapsed().as_secs_f64());

    println!("\nparallel:");
    let start = Instant::now();
    let results: Vec<String> = {
        let executor = ProcessPoolExecutor::new(4)?;
        executor
            .map(process_image, images)
            .collect::<Result<_, _>>()?
    };
    println!("  took {:.2}s", start.elapsed().as_secs_f64());
    for r in &results[..3] {
        println!("  {r}");
    }
    Ok(())
}
