//! What one clock read costs: `CoarseClock` (the default) against `SystemClock`,
//! timed in the same process in alternating rounds.
//!
//! `cargo run --release -p tenure --example clock_cost`

use std::hint::black_box;
use std::time::Instant;

use tenure::{Clock, CoarseClock, SystemClock};

const READS: u32 = 2_000_000;

/// Nanoseconds per `now()` over `READS` reads.
fn ns_per_read(clock: &dyn Clock) -> f64 {
    let start = Instant::now();
    for _ in 0..READS {
        black_box(clock.now());
    }
    start.elapsed().as_nanos() as f64 / f64::from(READS)
}

fn main() {
    let (coarse, system) = (CoarseClock::new(), SystemClock::new());
    let mut ratios = Vec::new();
    for round in 1..=7 {
        let c = ns_per_read(&coarse);
        let s = ns_per_read(&system);
        println!("round {round}: CoarseClock {c:5.1} ns, SystemClock {s:5.1} ns");
        ratios.push(s / c);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median SystemClock / CoarseClock: {:.2}x",
        ratios[ratios.len() / 2]
    );
}
