//! Replays every reference trace cell through the tinylfu policy, two cells at
//! a time, and compares the hit ratios with the known results in
//! `../shared/traces/README.md` (moka, quick_cache, ARC).
//!
//! ```text
//! cargo run --release -p tenure-sim --example tune_tinylfu -- [TRACE_DIR] [TRACE...]
//! ```
//!
//! With `TUNE_SEED=N` in the environment, the policy is
//! `TinyLfu::with_seed(capacity, N)` instead of the config's (seed 0): how much
//! a cell moves with the hash is how much of a gap is noise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tenure::{CacheConfig, PolicyKind};
use tenure_policies::{NewEntry, Policy, Slot, Timestamp, TinyLfu};
use tenure_sim::{Model, PolicyModel, TraceOptions, cache_hash, open_trace};

/// (trace, capacity, moka, quick_cache, ARC) from the traces' README.
const CELLS: &[(&str, usize, f64, f64, f64)] = &[
    ("OLTP", 1_000, 35.72, 35.21, 38.93),
    ("OLTP", 2_000, 41.19, 43.69, 46.08),
    ("OLTP", 5_000, 49.27, 54.14, 55.25),
    ("OLTP", 10_000, 55.02, 61.31, 61.87),
    ("OLTP", 15_000, 57.55, 64.81, 65.40),
    ("P3", 16_384, 8.94, 7.03, 7.00),
    ("P3", 65_536, 30.38, 26.42, 26.89),
    ("P3", 262_144, 61.01, 65.74, 67.57),
    ("P6", 16_384, 13.25, 8.30, 12.96),
    ("P6", 65_536, 57.42, 49.80, 31.68),
    ("P6", 262_144, 85.30, 90.16, 90.18),
    ("P12", 16_384, 7.46, 9.42, 10.11),
    ("P12", 65_536, 26.51, 27.12, 26.09),
    ("P12", 262_144, 51.19, 54.11, 53.47),
    ("loop", 250, 24.16, 24.48, 0.00),
    ("loop", 500, 49.25, 48.17, 0.00),
    ("loop", 900, 88.53, 79.88, 0.00),
    ("sprite", 100, 34.58, 30.00, 25.66),
    ("sprite", 500, 75.45, 76.73, 77.37),
    ("sprite", 1_500, 86.60, 90.79, 91.88),
    ("corda", 512, 18.72, 1.58, 33.30),
    ("corda", 4_096, 19.50, 33.33, 33.30),
    ("corda", 32_768, 26.45, 33.33, 33.31),
];

fn load(path: &Path) -> Vec<u64> {
    let cached = std::env::temp_dir().join(format!(
        "tune-tinylfu-{}.bin",
        path.file_name()
            .map_or("trace".into(), |n| n.to_string_lossy())
    ));
    if let Ok(bytes) = std::fs::read(&cached) {
        return bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
    }
    let keys = load_trace(path);
    let bytes: Vec<u8> = keys.iter().flat_map(|k| k.to_le_bytes()).collect();
    let _ = std::fs::write(&cached, bytes);
    keys
}

fn load_trace(path: &Path) -> Vec<u64> {
    let trace = open_trace(path, TraceOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = trace.reader;
    let mut keys = Vec::new();
    while let Some(batch) = reader.next_batch_vec(Vec::new()) {
        keys.extend(batch.expect("a readable trace").iter().map(|a| a.key));
    }
    keys
}

fn hit_ratio(keys: &[u64], capacity: usize) -> f64 {
    if let Some(seed) = std::env::var("TUNE_SEED").ok().and_then(|s| s.parse().ok()) {
        return seeded_hit_ratio(keys, capacity, seed);
    }
    let config = CacheConfig {
        policy: PolicyKind::TinyLfu,
        max_capacity: Some(capacity as u64),
        time_to_idle: None,
        time_to_live: None,
        sweep_interval: None,
    };
    let mut model = PolicyModel::new(&config).expect("a valid config");
    let hits = keys.iter().filter(|&&k| model.access(k)).count();
    100.0 * hits as f64 / keys.len() as f64
}

/// The hit ratio of `TinyLfu::with_seed(capacity, seed)`, driven as
/// `PolicyModel` drives a policy: a hit is an access, a miss an insert (with
/// the key's hash as the cache computes it) and evictions until the policy is
/// within its bound. `TUNE_SEED=0` gives the config's numbers.
fn seeded_hit_ratio(keys: &[u64], capacity: usize, seed: u64) -> f64 {
    let mut policy = TinyLfu::with_seed(capacity, seed).expect("a valid capacity");
    let mut index: HashMap<u64, Slot> = HashMap::new();
    let mut held: Vec<u64> = Vec::new();
    let mut free: Vec<Slot> = Vec::new();
    let mut hits = 0;
    for &key in keys {
        if let Some(&slot) = index.get(&key) {
            policy.on_access(slot, Timestamp::ZERO);
            hits += 1;
            continue;
        }
        let slot = free.pop().unwrap_or_else(|| {
            held.push(0);
            Slot::new(held.len() as u32 - 1)
        });
        held[slot.index()] = key;
        index.insert(key, slot);
        policy.on_insert(slot, NewEntry::new(cache_hash(key)), Timestamp::ZERO);
        while let Some(victim) = policy.next_victim() {
            policy.on_remove(victim);
            index.remove(&held[victim.index()]);
            free.push(victim);
        }
    }
    100.0 * hits as f64 / keys.len() as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/traces".to_string()),
    );
    let only: Vec<String> = args.collect();
    let cells: Vec<_> = CELLS
        .iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.0))
        .collect();
    let mut names: Vec<&str> = cells.iter().map(|c| c.0).collect();
    names.dedup();
    let traces: Vec<(&str, Vec<u64>)> = names
        .iter()
        .map(|&n| (n, load(&dir.join(format!("{n}.lis.zst")))))
        .collect();
    // Longest traces first, so the two threads finish together.
    let mut work: Vec<usize> = (0..cells.len()).collect();
    let length = |i: &usize| {
        traces
            .iter()
            .find(|t| t.0 == cells[*i].0)
            .map_or(0, |t| t.1.len())
    };
    work.sort_by_key(|i| std::cmp::Reverse(length(i)));
    let queue = Mutex::new(work);
    let results = Mutex::new(vec![f64::NAN; cells.len()]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(i) = queue.lock().expect("not poisoned").pop() {
                    let keys = &traces.iter().find(|t| t.0 == cells[i].0).expect("loaded").1;
                    let ratio = hit_ratio(keys, cells[i].1);
                    results.lock().expect("not poisoned")[i] = ratio;
                }
            });
        }
    });
    let results = results.into_inner().expect("not poisoned");
    println!(
        "{:<7} {:>8} {:>7} {:>7} {:>7} {:>7}  verdict",
        "trace", "capacity", "tinylfu", "moka", "qc", "ARC"
    );
    let (mut sum, mut sum_moka, mut sum_qc) = (0.0, 0.0, 0.0);
    for (cell, ratio) in cells.iter().zip(&results) {
        let &&(name, capacity, moka, qc, arc) = cell;
        let mut verdict = Vec::new();
        if *ratio < moka.max(qc) - 1.0 {
            verdict.push(format!("{:+.2} vs best peer", ratio - moka.max(qc)));
        }
        if name == "OLTP" && *ratio < arc {
            verdict.push(format!("{:+.2} vs ARC", ratio - arc));
        }
        println!(
            "{name:<7} {capacity:>8} {ratio:>7.2} {moka:>7.2} {qc:>7.2} {arc:>7.2}  {}",
            if verdict.is_empty() {
                "ok".to_string()
            } else {
                verdict.join(", ")
            }
        );
        sum += ratio;
        sum_moka += moka;
        sum_qc += qc;
    }
    let n = cells.len() as f64;
    println!(
        "mean: tinylfu {:.2}, moka {:.2}, quick_cache {:.2}",
        sum / n,
        sum_moka / n,
        sum_qc / n
    );
}
