//! One code path at a time, run in a plain loop, for instruction-level profiles:
//! run it under `valgrind --tool=callgrind` (instruction counts are repeatable
//! whatever else the machine does) or `perf record`.
//!
//! ```text
//! cargo build --release -p tenure-benches --example paths
//! valgrind --tool=callgrind target/release/examples/paths <path> [cache]
//! ```
//!
//! `path`: `hit` (W1's get hit), `insert` (W3's insert that evicts) or
//! `create` (a get-or-create miss into a full cache, W2a's expensive case).
//! `cache`: `lru-bound` (default), `sliding`, `hybrid` or `lru` (`Mutex<lru>`).
//! It prints ns per operation; divide callgrind's total by the operations
//! (printed too) for instructions per operation.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tenure::Cache;
use tenure::policy::{Hybrid, LruBound, Policy, SlidingTtl};
use tenure_benches::contenders::{Contender, MutexLru, Value};

const KEYS: u64 = 10_000;
const OPS: u64 = 2_000_000;

/// The operations, over any cache the loop drives.
trait Ops {
    fn insert(&self, key: u64, value: Value);
    fn hit(&self, key: u64) -> bool;
    fn create(&self, key: u64, value: &Value);
}

impl<P: Policy> Ops for Cache<u64, Value, P> {
    fn insert(&self, key: u64, value: Value) {
        Cache::insert(self, key, value);
    }
    fn hit(&self, key: u64) -> bool {
        self.get(&key).is_some()
    }
    fn create(&self, key: u64, value: &Value) {
        self.get_or_create(key, || Arc::clone(value));
    }
}

impl Ops for MutexLru {
    fn insert(&self, key: u64, value: Value) {
        Contender::insert(self, key, value);
    }
    fn hit(&self, key: u64) -> bool {
        Contender::get(self, key).is_some()
    }
    fn create(&self, key: u64, value: &Value) {
        self.get_or_create(key, value);
    }
}

/// Keys scrambled so neighbours in the loop are not neighbours in memory.
fn key(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn run(path: &str, cache: &impl Ops) -> Option<(u64, Duration)> {
    let value: Value = Arc::new(0);
    for i in 0..KEYS {
        cache.insert(key(i), Arc::new(i));
    }
    let start = Instant::now();
    match path {
        "hit" => {
            let mut state = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..OPS {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                assert!(cache.hit(key(state % KEYS)));
            }
        }
        "insert" => (KEYS..KEYS + OPS).for_each(|i| cache.insert(key(i), Arc::clone(&value))),
        "create" => (KEYS..KEYS + OPS).for_each(|i| cache.create(key(i), &value)),
        _ => return None,
    }
    Some((OPS, start.elapsed()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or("hit", String::as_str);
    let which = args.get(1).map_or("lru-bound", String::as_str);
    let hour = Duration::from_secs(3600);
    // Room for every key in `hit`; full (so each insert evicts) otherwise.
    let capacity = if path == "hit" { 2 * KEYS } else { KEYS } as usize;
    let measured = match which {
        "lru-bound" => run(path, &Cache::new(LruBound::new(capacity).expect("valid"))),
        "sliding" => run(path, &Cache::new(SlidingTtl::new(hour).expect("valid"))),
        "hybrid" => run(
            path,
            &Cache::new(Hybrid::new(hour, capacity).expect("valid")),
        ),
        "lru" => run(path, &MutexLru::new(capacity)),
        _ => None,
    };
    let Some((ops, elapsed)) = measured else {
        eprintln!("paths: usage: paths hit|insert|create [lru-bound|sliding|hybrid|lru]");
        return ExitCode::from(2);
    };
    println!(
        "{path} on {which}: {ops} operations, {:.1} ns each",
        elapsed.as_nanos() as f64 / ops as f64
    );
    ExitCode::SUCCESS
}
