//! One code path at a time, run in a plain loop, for instruction-level profiles:
//! run it under `valgrind --tool=callgrind` (instruction counts are repeatable
//! whatever else the machine does) or `perf record`. `benches/callgrind.sh`
//! runs every cache and path this way and prints instructions per operation.
//!
//! ```text
//! cargo build --release -p tenure-benches --example paths
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect=paths::measured_ops \
//!     target/release/examples/paths <path> [cache] [operations]
//! ```
//!
//! `path`: `hit` (W1's get hit), `insert` (W3's insert that evicts) or
//! `create` (a get-or-create miss into a full cache, W2a's expensive case).
//! `cache`: any label `compare --caches` takes (`lru-bound` by default,
//! `sliding`, `hybrid`, `tinylfu`, `s3fifo`, `sieve`, `quick_cache`, `lru`, …),
//! built by [`Kind::build_with_seeds`] from the setup of the workload the path
//! comes from (W1 for `hit`, W3 for the others), as `compare` builds it but
//! with fixed hasher seeds ([`FixedSeeds`]), so that two runs count the same.
//! `operations`: how many times the path is measured (2,000,000 by default).
//!
//! After filling the cache the example runs the path `operations` times
//! uncounted, so evictions and TinyLfu's sketch and window reach a steady
//! state, then `operations` times more in [`measured_ops`], never inlined:
//! with the options above callgrind counts that function alone (the fill,
//! the warm-up and the drop are left out), and its total ÷ `operations` is
//! instructions per operation, harness loop included. The example also
//! prints wall-clock ns per measured operation.
//!
//! `SlidingTtl` has no size bound, so for `insert` and `create` it runs as in
//! `compare`'s W3 and W2a: a manual clock advanced 1 ns per operation and a
//! TTL of 10,000 ns, so each new key arrives as one old entry expires (the
//! insert that "evicts" reclaims an expired entry). Every cache's loop makes
//! that same `tick` call; for the others it does nothing.
#![forbid(unsafe_code)]

use std::ops::Range;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tenure_benches::contenders::{Contender, FixedSeeds, Kind, Value, Visit};
use tenure_benches::workload::{BOUNDED_CAPACITY, W1_KEYS, Workload};

const DEFAULT_OPS: u64 = 2_000_000;

/// W1's resident keys, which also fill W3's caches to capacity.
const KEYS: u64 = W1_KEYS;
const _: () = assert!(KEYS as usize == BOUNDED_CAPACITY);

/// A code path, and the workload whose cache setup it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// A get of a resident key (W1).
    Hit,
    /// An insert of a new key into a full cache (W3).
    Insert,
    /// A get-or-create of a new key into a full cache (W2a's miss).
    Create,
}

impl Path {
    fn from_label(label: &str) -> Option<Path> {
        match label {
            "hit" => Some(Path::Hit),
            "insert" => Some(Path::Insert),
            "create" => Some(Path::Create),
            _ => None,
        }
    }

    fn workload(self) -> Workload {
        match self {
            Path::Hit => Workload::W1 { threads: 1 },
            Path::Insert | Path::Create => Workload::W3,
        }
    }
}

/// Keys scrambled so neighbours in the loop are not neighbours in memory.
fn key(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Fills the cache with [`KEYS`] keys (the capacity of W3's caches, half of
/// W1's), runs the path `ops` times uncounted to reach a steady state, then
/// times [`measured_ops`] over the next `ops`.
struct Run {
    path: Path,
    ops: u64,
}

impl Visit for Run {
    type Output = Duration;
    fn visit<C: Contender>(self, cache: C) -> Duration {
        for i in 0..KEYS {
            cache.tick();
            cache.insert(key(i), Arc::new(i));
        }
        let value: Value = Arc::new(0);
        run_path(self.path, &cache, 0..self.ops, &value);
        let start = Instant::now();
        measured_ops(self.path, &cache, self.ops..2 * self.ops, &value);
        start.elapsed()
    }
}

/// The operations callgrind counts (by this function's name, so it must stay
/// out of line and call no closure of its own).
#[inline(never)]
fn measured_ops<C: Contender>(path: Path, cache: &C, ops: Range<u64>, value: &Value) {
    run_path(path, cache, ops, value);
}

/// Runs `path` once for each number in `ops`; `insert` and `create` use the
/// numbers (after the resident ones) as new keys.
fn run_path<C: Contender>(path: Path, cache: &C, ops: Range<u64>, value: &Value) {
    match path {
        Path::Hit => {
            // xorshift64, seeded per range so the warm-up and the measured
            // run read the keys in different orders.
            let mut state = 0x2545_F491_4F6C_DD1D ^ ops.start;
            for _ in ops {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                assert!(cache.get(key(state % KEYS)).is_some());
            }
        }
        Path::Insert => {
            for i in ops {
                cache.tick();
                cache.insert(key(KEYS + i), Arc::clone(value));
            }
        }
        Path::Create => {
            for i in ops {
                cache.tick();
                assert!(!cache.get_or_create(key(KEYS + i), value));
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path_label = args.first().map_or("hit", String::as_str);
    let cache_label = args.get(1).map_or("lru-bound", String::as_str);
    let (Some(path), Some(kind), Some(ops)) = (
        Path::from_label(path_label),
        Kind::from_label(cache_label),
        args.get(2).map_or(Some(DEFAULT_OPS), |n| n.parse().ok()),
    ) else {
        eprintln!(
            "paths: usage: paths hit|insert|create [CACHE] [OPERATIONS], \
             CACHE one of: {}",
            Kind::ALL.map(Kind::label).join(", ")
        );
        return ExitCode::from(2);
    };
    let elapsed =
        match kind.build_with_seeds::<FixedSeeds, _>(&path.workload().setup(), Run { path, ops }) {
            Ok(elapsed) => elapsed,
            Err(err) => {
                eprintln!("paths: {err}");
                return ExitCode::FAILURE;
            }
        };
    println!(
        "{path_label} on {cache_label}: {ops} operations, {:.1} ns each",
        elapsed.as_nanos() as f64 / ops.max(1) as f64
    );
    ExitCode::SUCCESS
}
