//! The `tenure-sim` binary: output, JSON, errors and exit codes.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use support::{json, sim, stderr, stdout, write};

/// Runs `tenure-sim replay --trace TRACE FLAGS...`.
fn replay(trace: &str, flags: &[&str]) -> Output {
    let mut args = vec!["replay", "--trace", trace];
    args.extend_from_slice(flags);
    sim(&args)
}

fn oltp() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces/OLTP.lis.zst");
    path.to_str().unwrap().to_owned()
}

/// `a,b,a,c,a` with LRU capacity 1 by hand: only the consecutive... none hit;
/// with capacity 2: the second `a` and the third `a` hit.
const SMALL_CSV: &str = "timestamp_ms,key\n0,a\n1000,b\n2000,a\n3000,c\n4000,a\n";

#[test]
fn json_output_has_the_documented_fields() {
    let trace = write("small.csv", SMALL_CSV);
    let out = json(&replay(
        &trace,
        &["--policy", "lru", "--max-capacity", "2", "--json"],
    ));
    assert_eq!(out["hit_ratio"], 40.0);
    assert_eq!(out["hits"], 2);
    assert_eq!(out["misses"], 3);
    assert_eq!(out["accesses"], 5);
    assert_eq!(out["creations"], 3);
    assert_eq!(out["evictions"], 1);
    assert_eq!(out["capacity_evictions"], 1);
    assert_eq!(out["expirations"], 0);
    assert_eq!(out["peak_live"], 2);
    assert_eq!(out["format"], "csv");
    assert_eq!(out["config"]["policy"], "lru");
    assert_eq!(out["config"]["max_capacity"], 2);
    assert!(out["elapsed_ms"].is_u64());
}

#[test]
fn the_old_flag_names_are_hidden_aliases() {
    let trace = write("aliases.csv", SMALL_CSV);
    let run = |flags: &[&str]| {
        let mut all = vec!["--policy", "hybrid", "--json"];
        all.extend_from_slice(flags);
        let mut out = json(&replay(&trace, &all));
        out.as_object_mut().unwrap().remove("elapsed_ms");
        out
    };
    let old = run(&["--capacity", "2", "--ttl", "1500ms", "--max-lifetime", "3s"]);
    let new = run(&[
        "--max-capacity",
        "2",
        "--time-to-idle",
        "1500ms",
        "--time-to-live",
        "3s",
    ]);
    assert_eq!(old, new);
    assert_eq!(new["config"]["max_capacity"], 2);
    assert_eq!(new["config"]["time_to_idle"], "1s 500ms");
    assert_eq!(new["config"]["time_to_live"], "3s");
    // `--help` lists only the library's names.
    for command in ["replay", "fleet", "sweep"] {
        let help = stdout(&sim(&[command, "--help"]));
        assert!(help.contains("--time-to-idle"), "{command}: {help}");
        for old in ["--capacity ", "--ttl", "--max-lifetime"] {
            assert!(!help.contains(old), "{command} --help lists {old}:\n{help}");
        }
    }
}

#[test]
fn ttl_counts_in_trace_time() {
    // `a` idle for 2 s then read again: a miss with a 1s TTL, a hit with 3s.
    let trace = write("ttl.csv", "0,a\n2000,a\n");
    for (ttl, hits, expired) in [("1s", 0, 1), ("3s", 1, 0)] {
        let out = json(&replay(
            &trace,
            &["--policy", "sliding-ttl", "--time-to-idle", ttl, "--json"],
        ));
        assert_eq!(out["hits"], hits, "ttl {ttl}");
        assert_eq!(out["expirations"], expired, "ttl {ttl}");
        assert_eq!(out["config"]["time_to_idle"], ttl);
    }
}

#[test]
fn text_output_shows_ratio_hits_accesses_evictions() {
    let trace = write("text.csv", SMALL_CSV);
    let out = replay(&trace, &["--policy", "lru", "--max-capacity", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "hit ratio  40.00 %",
        "hits       2",
        "accesses   5",
        "evictions  1",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
}

#[test]
fn the_config_file_is_read_and_flags_override_it() {
    let trace = write("config.csv", SMALL_CSV);
    let config = write("lru.toml", "policy = \"lru\"\ncapacity = 1\n");
    let from_file = json(&replay(&trace, &["--config", &config, "--json"]));
    assert_eq!(from_file["hits"], 0);
    let overridden = json(&replay(
        &trace,
        &["--config", &config, "--max-capacity", "2", "--json"],
    ));
    assert_eq!(overridden["hits"], 2);
    let json_config = write(
        "hybrid.json",
        r#"{"policy": "hybrid", "ttl": "1h", "capacity": 2}"#,
    );
    let hybrid = json(&replay(&trace, &["--config", &json_config, "--json"]));
    assert_eq!(hybrid["hits"], 2);
}

#[test]
fn both_engines_agree() {
    let mut text = String::new();
    for i in 0..3000u64 {
        text.push_str(&format!("{},k{}\n", i * 250, (i * i + 7 * i) % 97));
    }
    let trace = write("engines.csv", &text);
    let run = |engine: &str| {
        let mut out = json(&replay(
            &trace,
            &[
                "--policy",
                "hybrid",
                "--time-to-idle",
                "5s",
                "--max-capacity",
                "12",
                "--sweep-interval",
                "2s",
                "--engine",
                engine,
                "--json",
            ],
        ));
        out.as_object_mut().unwrap().remove("elapsed_ms");
        out
    };
    let policy = run("policy");
    assert!(policy["expirations"].as_u64().unwrap() > 0, "{policy}");
    assert!(
        policy["capacity_evictions"].as_u64().unwrap() > 0,
        "{policy}"
    );
    assert_eq!(policy, run("cache"));
}

#[test]
fn malformed_line_exits_2_naming_file_and_line() {
    let trace = write("bad.lis", "1 1 0 0\n2 1 0 0\n3 one 0 0\n");
    let out = replay(&trace, &["--policy", "lru", "--max-capacity", "10"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{trace}:3: ")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&out).is_empty());

    let csv = write("bad.csv", "0,a\n1,b\n\n2\n");
    let out = replay(&csv, &["--policy", "lru", "--max-capacity", "10", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{csv}:4: ")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_invocations_exit_2_with_a_clear_message() {
    let trace = write("ok.lis", "1 1 0 0\n");
    let missing = write("ok-dir-marker", "").replace("ok-dir-marker", "missing.lis");
    let bad_config = write(
        "bad.toml",
        "policy = \"lru\"\ncapacity = 5\ncolour = \"red\"\n",
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "replay",
                "--trace",
                &missing,
                "--policy",
                "lru",
                "--max-capacity",
                "5",
            ],
            "cannot open trace",
        ),
        (
            &[
                "replay",
                "--trace",
                &trace,
                "--policy",
                "fifo",
                "--max-capacity",
                "5",
            ],
            "fifo",
        ),
        (
            &[
                "replay",
                "--trace",
                &trace,
                "--policy",
                "lru",
                "--max-capacity",
                "many",
            ],
            "many",
        ),
        (
            &[
                "replay",
                "--trace",
                &trace,
                "--policy",
                "lru",
                "--max-capacity",
                "0",
            ],
            "`max_capacity` must be at least 1",
        ),
        (
            &["replay", "--trace", &trace, "--policy", "lru"],
            "`max_capacity` is required for policy `lru`",
        ),
        (
            &["replay", "--trace", &trace, "--max-capacity", "5"],
            "--policy is required",
        ),
        (
            &[
                "replay",
                "--trace",
                &trace,
                "--policy",
                "sliding-ttl",
                "--time-to-idle",
                "soon",
            ],
            "invalid value 'soon' for '--time-to-idle",
        ),
        (
            &[
                "replay",
                "--trace",
                &trace,
                "--policy",
                "sliding-ttl",
                "--max-capacity",
                "5",
            ],
            "`max_capacity` does not apply",
        ),
        (
            &["replay", "--trace", &trace, "--config", &bad_config],
            "colour",
        ),
        (
            &["replay", "--policy", "lru", "--max-capacity", "5"],
            "--trace",
        ),
        (
            &["replay", "--trace", &trace, "--frobnicate"],
            "--frobnicate",
        ),
        (&["--scale", "0"], "scale"),
    ];
    for (args, words) in cases {
        let out = sim(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {err:?} lacks {words:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn oltp_lru_matches_the_arc_paper() {
    let trace = oltp();
    let expected = [
        (1000, 32.83),
        (2000, 42.47),
        (5000, 53.65),
        (10000, 60.70),
        (15000, 64.63),
    ];
    for (capacity, ratio) in expected {
        let capacity = capacity.to_string();
        let out = replay(
            &trace,
            &["--policy", "lru", "--max-capacity", &capacity, "--json"],
        );
        // The progress bar stays off when stderr is not a terminal.
        assert!(out.stderr.is_empty(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("\"hit_ratio\":{ratio:.2},")),
            "{text}"
        );
        let out = json(&out);
        assert_eq!(
            out["hit_ratio"].as_f64(),
            Some(ratio),
            "capacity {capacity}"
        );
        assert_eq!(out["accesses"], 914_145);
    }
}

#[test]
fn the_default_scenario_prints_the_table_and_writes_the_chart() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scenario-out");
    let _ = std::fs::remove_dir_all(&dir);
    let out = sim(&["--scale", "0.05", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for words in [
        "hit ratio",
        "creations",
        "peak live",
        "final live",
        "mem, private HTTP",
        "mem, shared HTTP",
        "unbounded map (the leak)",
        "sliding-ttl 1h",
        "lru 500",
        "tinylfu 500",
        "s3fifo 500",
        "sieve 500",
        "hybrid 1h + 500",
    ] {
        assert!(text.contains(words), "{words:?} missing from\n{text}");
    }
    let chart = dir.join("live-entries.svg");
    assert!(text.contains(chart.to_str().unwrap()), "{text}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    // plotters draws axes and ticks as 1 px polylines; the data lines are wider.
    let lines = svg
        .lines()
        .filter(|l| l.starts_with("<polyline") && !l.contains(r#"stroke-width="1""#));
    assert_eq!(lines.count(), 7);

    // The explicit subcommand is the same run.
    let again = sim(&[
        "scenario",
        "--scale",
        "0.05",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let table = |s: &str| s.lines().take(11).collect::<Vec<_>>().join("\n");
    assert_eq!(table(&stdout(&again)), table(&text));
}

/// A row of the main job's table: its label's first word, its requests and creations.
fn scenario_rows(text: &str) -> Vec<(String, u64, u64)> {
    let number = |cell: &str| cell.replace(',', "").parse::<u64>().unwrap();
    text.lines()
        .skip_while(|line| !line.starts_with("cache "))
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| {
            // label, requests, hit ratio (2 cells: "96.00 %"), creations, ...
            let cells: Vec<&str> = line.split("  ").filter(|c| !c.is_empty()).collect();
            let name = cells[0].split(' ').next().unwrap().to_owned();
            (name, number(cells[1].trim()), number(cells[3].trim()))
        })
        .collect()
}

#[test]
fn the_main_job_names_the_bounded_policy_with_the_most_hits() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scenario-verdict");
    let bounded = ["lru", "tinylfu", "s3fifo", "sieve", "hybrid"];
    for (seed, scale) in [("1", "0.05"), ("4", "0.03")] {
        let out = sim(&[
            "--seed",
            seed,
            "--scale",
            scale,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        let rows = scenario_rows(&text);
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "unbounded",
                "sliding-ttl",
                "lru",
                "tinylfu",
                "s3fifo",
                "sieve",
                "hybrid"
            ],
            "{text}"
        );
        let hits = |row: &(String, u64, u64)| row.1 - row.2;
        let most = rows
            .iter()
            .filter(|r| bounded.contains(&r.0.as_str()))
            .map(hits)
            .max()
            .unwrap();
        let winners: Vec<&str> = rows
            .iter()
            .filter(|r| bounded.contains(&r.0.as_str()) && hits(r) == most)
            .map(|r| r.0.as_str())
            .collect();
        // The closing paragraph, joined into one line.
        let closing = text
            .split("\n\n")
            .find(|p| p.starts_with("Of the caches bounded at"))
            .unwrap_or_else(|| panic!("no closing sentence in\n{text}"))
            .replace('\n', " ");
        let named = closing
            .split(" had the most hits")
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .unwrap();
        assert!(
            winners.contains(&named),
            "{named} named, {winners:?} won:\n{text}"
        );
        assert!(closing.contains("Why: "), "{closing}");
    }
}

#[test]
fn a_config_file_gets_no_default_ttl() {
    let trace = write("ttl-default.lis", "1 1 0 0\n");
    let config = write("no-ttl.toml", "policy = \"sliding-ttl\"\n");
    let out = replay(&trace, &["--config", &config]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("policy `sliding-ttl` needs `time_to_idle` or `time_to_live`"),
        "{}",
        stderr(&out)
    );
    let flags = json(&replay(&trace, &["--policy", "sliding-ttl", "--json"]));
    assert_eq!(flags["config"]["time_to_idle"], "1h");
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("closed-stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenure-sim"))
        .args(["--scale", "0.02", "--quiet", "--out", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: the reader goes away before the table is printed.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(dir.join("live-entries.svg").exists());
}

#[test]
fn opt_replays_with_the_same_json_fields_and_the_published_optimum() {
    let trace = oltp();
    let out = replay(
        &trace,
        &["--policy", "opt", "--max-capacity", "1000", "--json"],
    );
    assert!(
        stdout(&out).contains("\"hit_ratio\":53.61,"),
        "{}",
        stdout(&out)
    );
    let opt = json(&out);
    assert_eq!(
        opt["config"],
        serde_json::json!({"policy": "opt", "capacity": 1000})
    );
    assert_eq!(opt["accesses"], 914_145);
    assert_eq!(opt["expirations"], 0);
    assert_eq!(opt["peak_live"], 1000);
    assert_eq!(
        opt["evictions"].as_u64().unwrap(),
        opt["misses"].as_u64().unwrap() - 1000
    );
    // Same fields as any other policy's replay, and more hits than LRU's.
    let lru = json(&replay(
        &trace,
        &["--policy", "lru", "--max-capacity", "1000", "--json"],
    ));
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&opt), keys(&lru));
    assert!(opt["hits"].as_u64() > lru["hits"].as_u64());

    let text = stdout(&replay(
        &trace,
        &["--policy", "opt", "--max-capacity", "1000"],
    ));
    assert!(text.contains("policy     opt, capacity 1,000"), "{text}");
    assert!(text.contains("hit ratio  53.61 %"), "{text}");
}

#[test]
fn opt_refuses_time_and_cache_flags() {
    let trace = write("opt.lis", "1 3 0 0\n1 3 0 0\n");
    let config = write("opt-lru.toml", "policy = \"lru\"\ncapacity = 1\n");
    let opt = ["--policy", "opt", "--max-capacity", "2"];
    let cases: &[(&[&str], &str)] = &[
        (
            &["--time-to-idle", "1h"],
            "--time-to-idle does not apply to --policy opt",
        ),
        (&["--time-to-live", "1h"], "--time-to-live does not apply"),
        (
            &["--sweep-interval", "1m"],
            "--sweep-interval does not apply",
        ),
        (&["--lis-step", "1s"], "--lis-step does not apply"),
        (&["--engine", "cache"], "--engine does not apply"),
        (&["--config", &config], "--config does not apply"),
    ];
    for (extra, words) in cases {
        let mut flags = opt.to_vec();
        flags.extend_from_slice(extra);
        let out = replay(&trace, &flags);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&out).contains(words), "{extra:?}: {}", stderr(&out));
    }
    let out = replay(&trace, &["--policy", "opt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--policy opt needs --max-capacity"),
        "{}",
        stderr(&out)
    );
    let out = replay(&trace, &["--policy", "opt", "--max-capacity", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 1"), "{}", stderr(&out));
    // Without them it runs: 3 blocks twice, room for 2.
    let ok = json(&replay(&trace, &[&opt[..], &["--json"]].concat()));
    assert_eq!(
        (ok["hits"].as_u64(), ok["accesses"].as_u64()),
        (Some(2), Some(6))
    );
}
