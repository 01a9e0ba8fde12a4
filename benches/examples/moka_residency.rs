//! How many entries moka holds while a trace is replayed through it at a
//! capacity: moka applies its bound in batches, so between two batches it can
//! hold more than `max_capacity`, which raises its hit ratio on small caches.
//!
//! ```text
//! cargo run --release -p tenure-benches --example moka_residency -- sprite 100
//! ```
//!
//! Prints moka's hit ratio and the mean and largest number of entries it held,
//! counted by iterating the cache every 97 accesses.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use tenure_benches::trace;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(Ok(capacity))) = (args.first(), args.get(1).map(|c| c.parse::<u64>()))
    else {
        eprintln!("usage: moka_residency TRACE CAPACITY (e.g. sprite 100)");
        return ExitCode::FAILURE;
    };
    let keys = match trace::find(name, None).and_then(|path| trace::load(&path)) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let cache: moka::sync::Cache<u64, u64> =
        moka::sync::Cache::builder().max_capacity(capacity).build();
    let (mut hits, mut largest, mut total, mut samples) = (0u64, 0usize, 0usize, 0usize);
    for (i, &key) in keys.iter().enumerate() {
        if cache.get(&key).is_some() {
            hits += 1;
        } else {
            cache.insert(key, key);
        }
        if i % 97 == 0 {
            let held = cache.iter().count();
            largest = largest.max(held);
            total += held;
            samples += 1;
        }
    }
    println!(
        "{name} at max_capacity {capacity}: hit ratio {:.2} %, entries held: mean {:.1}, largest {largest}",
        100.0 * hits as f64 / keys.len() as f64,
        total as f64 / samples.max(1) as f64,
    );
    ExitCode::SUCCESS
}
