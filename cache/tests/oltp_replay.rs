//! Exact LRU: a single-threaded replay of the ARC paper's OLTP trace through the
//! public `Cache` API, with default settings, reproduces the paper's hit ratios.
//! The trace is vendored in `testdata/traces/` (see its README for provenance).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use tenure::Cache;
use tenure::policy::LruBound;

fn trace_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces/OLTP.lis.zst")
}

/// Every block access in the trace, in order.
fn oltp_accesses() -> Vec<u64> {
    let path = trace_path();
    let file =
        std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let reader = BufReader::new(zstd::Decoder::new(file).expect("zstd stream"));
    let mut accesses = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.expect("read trace");
        let mut fields = line.split_whitespace().map(|f| f.parse::<u64>());
        let (Some(Ok(start)), Some(Ok(count))) = (fields.next(), fields.next()) else {
            panic!("{}:{}: malformed line {line:?}", path.display(), n + 1);
        };
        accesses.extend(start..start + count);
    }
    accesses
}

fn hit_ratio_percent(accesses: &[u64], capacity: usize) -> String {
    let cache: Cache<u64, (), LruBound> = Cache::new(LruBound::new(capacity).unwrap());
    let mut hits = 0u64;
    for &block in accesses {
        if cache.get(&block).is_some() {
            hits += 1;
        } else {
            cache.insert(block, ());
        }
        assert!(cache.len() <= capacity);
    }
    let stats = cache.stats();
    assert_eq!(stats.hits, hits);
    assert_eq!(stats.hits + stats.misses, accesses.len() as u64);
    format!("{:.2}", 100.0 * hits as f64 / accesses.len() as f64)
}

#[test]
fn oltp_lru_hit_ratios_match_the_arc_paper() {
    let accesses = oltp_accesses();
    assert_eq!(accesses.len(), 914_145);
    let expected = [
        (1_000, "32.83"),
        (2_000, "42.47"),
        (5_000, "53.65"),
        (10_000, "60.70"),
        (15_000, "64.63"),
    ];
    for (capacity, ratio) in expected {
        assert_eq!(
            hit_ratio_percent(&accesses, capacity),
            ratio,
            "capacity {capacity}"
        );
    }
}
