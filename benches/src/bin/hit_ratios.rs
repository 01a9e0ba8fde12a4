//! Hit ratios on the ARC paper's traces: each access is a `get`, and a miss
//! inserts. `--traces OLTP,P3` picks traces; `--traces-dir DIR` says where they
//! are (by default `testdata/traces`, which holds only OLTP, then
//! `../shared/traces` beside the workspace).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tenure_benches::contenders::{Contender, Kind, Setup, Visit};
use tenure_benches::trace;

const TRACES: [(&str, &[usize]); 4] = [
    ("OLTP", &[1_000, 5_000, 15_000]),
    ("P3", &[16_384, 65_536, 262_144]),
    ("P6", &[16_384, 65_536, 262_144]),
    ("P12", &[16_384, 65_536, 262_144]),
];

/// The `lru` crate is exact LRU: the reference tenure's `LruBound` must match.
const CACHES: [Kind; 4] = [
    Kind::TenureLruBound,
    Kind::MutexLru,
    Kind::Moka,
    Kind::QuickCache,
];

struct Replay<'a>(&'a [u64]);

impl Visit for Replay<'_> {
    type Output = f64;
    fn visit<C: Contender>(self, cache: C) -> f64 {
        let value = Arc::new(0u64);
        let mut hits = 0u64;
        for &block in self.0 {
            if cache.get(block).is_some() {
                hits += 1;
            } else {
                cache.insert(block, Arc::clone(&value));
            }
        }
        hits as f64 / self.0.len().max(1) as f64
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut wanted: Option<Vec<String>> = None;
    let mut dir: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--traces", Some(list)) => {
                wanted = Some(list.split(',').map(str::to_string).collect())
            }
            ("--traces-dir", Some(path)) => dir = Some(path.into()),
            _ => {
                eprintln!(
                    "hit_ratios: usage: hit_ratios [--traces OLTP,P3,P6,P12] [--traces-dir DIR]"
                );
                return ExitCode::from(2);
            }
        }
    }
    // Find every file before the first (long) replay, so a missing one fails at once.
    let mut runs: Vec<(&str, &[usize], PathBuf)> = Vec::new();
    for (name, capacities) in TRACES {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|x| x == name))
        {
            continue;
        }
        match trace::find(name, dir.as_deref()) {
            Ok(path) => runs.push((name, capacities, path)),
            Err(e) => {
                eprintln!("hit_ratios: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "| trace | accesses | capacity | {} |",
        CACHES.map(Kind::name).join(" | ")
    );
    println!("|---|---:|---:|{}", "---:|".repeat(CACHES.len()));
    for (name, capacities, path) in runs {
        let accesses = match trace::load(&path) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("hit_ratios: {e}");
                return ExitCode::FAILURE;
            }
        };
        for &capacity in capacities {
            let setup = Setup {
                capacity,
                ttl: Duration::from_secs(3600),
                ticks_as_ttl: false,
            };
            let mut row = format!("| {name} | {} | {capacity} |", accesses.len());
            for kind in CACHES {
                match kind.build(&setup, Replay(&accesses)) {
                    Ok(ratio) => row.push_str(&format!(" {:.2}% |", ratio * 100.0)),
                    Err(e) => {
                        eprintln!("hit_ratios: {}: {e}", kind.name());
                        return ExitCode::FAILURE;
                    }
                }
            }
            println!("{row}");
        }
    }
    ExitCode::SUCCESS
}
