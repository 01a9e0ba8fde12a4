//! `tenure-sim sweep`: the table, the JSON and the chart, on vendored traces.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::{sim, stdout};

fn trace(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/traces")
        .join(name);
    path.to_str().unwrap().to_owned()
}

/// A fresh output folder for one test.
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Exact LRU on sprite, from testdata/traces/README.md.
const SPRITE_LRU: [(u64, f64); 3] = [(100, 21.58), (500, 78.30), (1_500, 92.48)];

/// Polylines wider than the chart's 1 px axes and ticks: its data lines.
fn data_lines(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && !l.contains(r#"stroke-width="1""#))
        .count()
}

#[test]
fn json_has_every_cell_opt_on_top_and_exact_lru() {
    let dir = out_dir("sweep-json");
    let out = sim(&[
        "sweep",
        "--trace",
        &trace("sprite.lis.zst"),
        "--capacities",
        "100,500,1500",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    let json: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(json["accesses"], 133_996);
    assert_eq!(json["distinct_keys"], 7_075);
    assert_eq!(json["capacities"], serde_json::json!([100, 500, 1500]));
    let policies: Vec<&str> = json["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for policy in ["lru", "tinylfu", "s3fifo", "sieve"] {
        assert!(
            policies.contains(&policy),
            "{policy} missing from {policies:?}"
        );
    }
    assert_eq!(policies.last(), Some(&"opt"));
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), policies.len() * 3);
    let cell = |policy: &str, capacity: u64| -> &Value {
        results
            .iter()
            .find(|r| r["policy"] == policy && r["capacity"] == capacity)
            .unwrap_or_else(|| panic!("no cell for {policy} at {capacity}"))
    };
    for (capacity, lru) in SPRITE_LRU {
        assert_eq!(cell("lru", capacity)["hit_ratio"].as_f64(), Some(lru));
        let opt = cell("opt", capacity);
        assert_eq!(opt["share_of_opt"].as_f64(), Some(100.0));
        assert!(opt["config"].is_null());
        for policy in &policies {
            let other = cell(policy, capacity);
            assert_eq!(other["accesses"], 133_996);
            assert!(
                other["hits"].as_u64() <= opt["hits"].as_u64(),
                "{policy} beats OPT at {capacity}: {other} vs {opt}"
            );
            assert!(other["share_of_opt"].as_f64().unwrap() <= 100.0);
        }
        assert_eq!(cell("lru", capacity)["config"]["max_capacity"], capacity);
    }
    let chart = PathBuf::from(json["chart"].as_str().unwrap());
    assert_eq!(chart, dir.join("sweep-sprite.svg"));
    assert!(chart.exists());
}

#[test]
fn the_table_lists_every_policy_at_every_capacity() {
    let dir = out_dir("sweep-table");
    let out = sim(&[
        "sweep",
        "--trace",
        &trace("sprite.lis.zst"),
        "--capacities",
        "100,500,1500",
        "--policies",
        "lru",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("capacity"))
        .unwrap_or_else(|| panic!("no header in\n{text}"));
    // OPT is computed even when not asked for.
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["capacity", "lru", "opt"]
    );
    for (capacity, lru) in SPRITE_LRU {
        let label = if capacity == 1_500 {
            "1,500".to_string()
        } else {
            capacity.to_string()
        };
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(label.as_str()))
            .unwrap_or_else(|| panic!("no row for {label} in\n{text}"));
        assert!(row.contains(&format!("{lru:.2} (")), "{row}");
        assert!(row.contains("%)"), "{row}");
    }
    assert!(text.contains("sweep-sprite.svg"), "{text}");
}

#[test]
fn the_chart_has_a_line_and_a_legend_entry_per_policy() {
    let dir = out_dir("sweep-chart");
    let out = sim(&[
        "sweep",
        "--trace",
        &trace("loop.lis.zst"),
        "--capacities",
        "250,500,900",
        "--policies",
        "lru,hybrid,opt",
        "--out",
        dir.to_str().unwrap(),
    ]);
    stdout(&out);
    let svg = std::fs::read_to_string(dir.join("sweep-loop.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(data_lines(&svg), 3);
    assert_eq!(svg.matches("<circle").count(), 3 * 3);
    for name in [
        "lru",
        "hybrid",
        "opt",
        "hit ratio (%)",
        "capacity (entries)",
        "900",
    ] {
        assert!(
            svg.contains(&format!(">\n{name}\n</text>")),
            "{name} missing"
        );
    }
}

#[test]
fn bad_sweeps_exit_2_with_a_clear_message() {
    let sprite = trace("sprite.lis.zst");
    let dir = out_dir("sweep-bad");
    let out = dir.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--capacities", "100", "--policies", "sliding-ttl"],
            "not a policy bounded by capacity",
        ),
        (&["--capacities", "100,0"], "each at least 1"),
        (&["--capacities", "many"], "many"),
        (&[], "--capacities"),
    ];
    for (flags, words) in cases {
        let mut args = vec!["sweep", "--trace", &sprite, "--out", out];
        args.extend_from_slice(flags);
        let output = sim(&args);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(words), "{flags:?}: {err}");
    }
    assert!(!dir.exists(), "a refused sweep writes no chart");
}
