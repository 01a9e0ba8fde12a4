//! Bélády's OPT on the vendored traces: the published optimum, exactly.

use std::path::PathBuf;

use tenure_sim::opt::Belady;
use tenure_sim::{TraceOptions, open_trace};

fn keys(name: &str) -> Vec<u64> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/traces")
        .join(name);
    open_trace(&path, TraceOptions::default())
        .unwrap()
        .reader
        .map(|access| access.unwrap().key)
        .collect()
}

/// testdata/traces/README.md's OPT column for OLTP.
#[test]
fn oltp_opt_matches_the_published_optimum() {
    let belady = Belady::new(keys("OLTP.lis.zst"));
    assert_eq!(belady.keys().len(), 914_145);
    let expected = [
        (1_000, 53.61),
        (2_000, 60.40),
        (5_000, 68.27),
        (10_000, 73.02),
        (15_000, 75.14),
    ];
    for (capacity, ratio) in expected {
        let stats = belady.run(capacity);
        assert_eq!(stats.hit_ratio_percent(), ratio, "capacity {capacity}");
        assert_eq!(stats.peak_len, capacity);
        assert_eq!(stats.capacity_evicted, stats.misses() - capacity as u64);
    }
}

/// testdata/traces/README.md's OPT column for the LIRS and Caffeine traces.
#[test]
fn loop_sprite_and_corda_opt_match_the_published_optimum() {
    let expected: [(&str, [(usize, f64); 3]); 3] = [
        ("loop.lis.zst", [(250, 24.63), (500, 49.36), (900, 88.84)]),
        (
            "sprite.lis.zst",
            [(100, 50.80), (500, 87.88), (1_500, 94.21)],
        ),
        (
            "corda.lis.zst",
            [(512, 33.33), (4_096, 33.33), (32_768, 33.33)],
        ),
    ];
    for (trace, rows) in expected {
        let belady = Belady::new(keys(trace));
        for (capacity, ratio) in rows {
            let stats = belady.run(capacity);
            assert_eq!(stats.hit_ratio_percent(), ratio, "{trace} at {capacity}");
        }
    }
}
