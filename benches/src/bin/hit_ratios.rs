//! Hit ratios on real traces: each access is a `get`, and a miss inserts.
//! Columns: every bounded tenure policy (the real `tenure::Cache`, built from a
//! `CacheConfig`), Bélády's OPT (the ceiling), moka, quick_cache and the `lru`
//! crate.
//!
//! `--traces OLTP,loop` picks traces; `--traces-dir DIR` says where they are
//! (by default `testdata/traces`, then `../shared/traces` beside the
//! workspace); `--json` prints one JSON object instead of the table;
//! `--threads N` runs N replays at once (default: the number of CPUs).

#![forbid(unsafe_code)]

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tenure::PolicyKind;
use tenure_benches::contenders::{Contender, Kind, Setup, Tenure, Visit};
use tenure_benches::trace;
use tenure_sim::opt::Belady;
use tenure_sim::{DEFAULT_TTL, SweepPolicy, bounded_policies};

/// Each trace and the capacities it is replayed at: the capacities of the
/// published results in `testdata/traces/README.md`.
const TRACES: [(&str, &[usize]); 7] = [
    ("OLTP", &[1_000, 2_000, 5_000, 10_000, 15_000]),
    ("P3", &[16_384, 65_536, 262_144]),
    ("P6", &[16_384, 65_536, 262_144]),
    ("P12", &[16_384, 65_536, 262_144]),
    ("loop", &[250, 500, 900]),
    ("sprite", &[100, 500, 1_500]),
    ("corda", &[512, 4_096, 32_768]),
];

/// The peers. The `lru` crate is exact LRU: tenure's `lru` must match it.
const PEERS: [Kind; 3] = [Kind::Moka, Kind::QuickCache, Kind::MutexLru];

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// A bounded tenure policy, through `tenure::Cache::from_config`.
    Tenure(PolicyKind),
    /// Bélády's OPT, from tenure-sim.
    Opt,
    /// A peer crate.
    Peer(Kind),
}

impl Column {
    /// Every column: tenure's bounded policies, OPT, then the peers.
    fn all() -> Vec<Column> {
        let tenure = bounded_policies().iter().map(|&k| Column::Tenure(k));
        let peers = PEERS.into_iter().map(Column::Peer);
        tenure.chain([Column::Opt]).chain(peers).collect()
    }

    fn name(self) -> String {
        match self {
            Column::Tenure(kind) => format!("tenure {kind}"),
            Column::Opt => "OPT".into(),
            Column::Peer(kind) => kind.short_name().into(),
        }
    }
}

/// Replays a trace through a cache: the fraction of lookups that hit.
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

/// The hit ratio of `column` at `capacity` on the trace `belady` holds.
fn replay(column: Column, capacity: usize, belady: &Belady) -> Result<f64, String> {
    let keys = belady.keys();
    match column {
        Column::Opt => {
            let stats = belady.run(capacity);
            Ok(stats.hits as f64 / stats.accesses.max(1) as f64)
        }
        Column::Tenure(kind) => {
            // The TTL (for the policies that need one) is wall-clock time
            // here, far longer than any replay: only capacity evicts.
            let config = SweepPolicy::Cache(kind)
                .config(capacity, DEFAULT_TTL)
                .map_err(|e| e.to_string())?
                .ok_or("a tenure policy has a config")?;
            let cache = Tenure::from_config(&config).map_err(|e| e.to_string())?;
            Ok(Replay(keys).visit(cache))
        }
        Column::Peer(kind) => {
            let setup = Setup {
                capacity,
                ttl: DEFAULT_TTL,
                ticks_as_ttl: false,
            };
            kind.build(&setup, Replay(keys)).map_err(|e| e.to_string())
        }
    }
}

/// One trace at one capacity: a hit ratio per column.
struct Row {
    trace: &'static str,
    accesses: usize,
    capacity: usize,
    ratios: Vec<f64>,
}

/// Runs every column at every capacity of one trace, `threads` replays at once.
fn run_trace(
    name: &'static str,
    capacities: &[usize],
    belady: &Belady,
    columns: &[Column],
    threads: usize,
) -> Result<Vec<Row>, String> {
    let cells: Vec<(usize, Column)> = capacities
        .iter()
        .flat_map(|&c| columns.iter().map(move |&col| (c, col)))
        .collect();
    let next = AtomicUsize::new(0);
    let mut ratios = vec![0.0; cells.len()];
    let done: Vec<(usize, Result<f64, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, cells.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(capacity, column)) = cells.get(i) else {
                            return done;
                        };
                        let ratio = replay(column, capacity, belady)
                            .map_err(|e| format!("{name} at {capacity}: {}: {e}", column.name()));
                        done.push((i, ratio));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for (i, ratio) in done {
        ratios[i] = ratio?;
    }
    Ok(capacities
        .iter()
        .zip(ratios.chunks(columns.len()))
        .map(|(&capacity, ratios)| Row {
            trace: name,
            accesses: belady.keys().len(),
            capacity,
            ratios: ratios.to_vec(),
        })
        .collect())
}

/// The command line.
struct Options {
    wanted: Option<Vec<String>>,
    dir: Option<PathBuf>,
    json: bool,
    threads: usize,
}

const USAGE: &str = "hit_ratios: usage: hit_ratios [--traces OLTP,P3,P6,P12,loop,sprite,corda] [--traces-dir DIR] [--threads N] [--json]";

fn parse_args() -> Option<Options> {
    let mut options = Options {
        wanted: None,
        dir: None,
        json: false,
        threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => options.json = true,
            "--traces" => {
                options.wanted = Some(args.next()?.split(',').map(str::to_string).collect())
            }
            "--traces-dir" => options.dir = Some(args.next()?.into()),
            "--threads" => options.threads = args.next()?.parse::<NonZeroUsize>().ok()?.get(),
            _ => return None,
        }
    }
    Some(options)
}

fn main() -> ExitCode {
    let Some(options) = parse_args() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if let Some(wanted) = &options.wanted {
        if let Some(unknown) = wanted.iter().find(|w| !TRACES.iter().any(|t| t.0 == *w)) {
            eprintln!("hit_ratios: unknown trace {unknown:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    // Find every file before the first (long) replay, so a missing one fails at once.
    let mut runs: Vec<(&'static str, &[usize], PathBuf)> = Vec::new();
    for (name, capacities) in TRACES {
        if options
            .wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|x| x == name))
        {
            continue;
        }
        match trace::find(name, options.dir.as_deref()) {
            Ok(path) => runs.push((name, capacities, path)),
            Err(e) => {
                eprintln!("hit_ratios: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let columns = Column::all();
    if !options.json {
        let names: Vec<String> = columns.iter().map(|c| c.name()).collect();
        println!("| trace | accesses | capacity | {} |", names.join(" | "));
        println!("|---|---:|---:|{}", "---:|".repeat(columns.len()));
    }
    let mut rows = Vec::new();
    // One trace at a time: the largest (P12) takes about 400 MB with its OPT
    // bookkeeping.
    for (name, capacities, path) in runs {
        let belady = match trace::load(&path) {
            Ok(keys) => Belady::new(keys),
            Err(e) => {
                eprintln!("hit_ratios: {e}");
                return ExitCode::FAILURE;
            }
        };
        match run_trace(name, capacities, &belady, &columns, options.threads) {
            Ok(done) => {
                if !options.json {
                    for row in &done {
                        let cells: Vec<String> = row
                            .ratios
                            .iter()
                            .map(|r| format!("{:.2}%", r * 100.0))
                            .collect();
                        println!(
                            "| {} | {} | {} | {} |",
                            row.trace,
                            row.accesses,
                            row.capacity,
                            cells.join(" | ")
                        );
                    }
                }
                rows.extend(done);
            }
            Err(e) => {
                eprintln!("hit_ratios: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if options.json {
        println!("{}", to_json(&columns, &rows));
    }
    ExitCode::SUCCESS
}

/// `{"columns": [...], "rows": [{"trace", "accesses", "capacity",
/// "hit_ratios": {column: percent}}]}`, percentages rounded to two decimals.
fn to_json(columns: &[Column], rows: &[Row]) -> String {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let ratios: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .zip(&row.ratios)
                .map(|(c, r)| (c.name(), ((r * 10_000.0).round() / 100.0).into()))
                .collect();
            serde_json::json!({
                "trace": row.trace,
                "accesses": row.accesses,
                "capacity": row.capacity,
                "hit_ratios": ratios,
            })
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|c| c.name()).collect();
    serde_json::json!({ "columns": names, "rows": rows }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bounded_policy_and_opt_and_every_peer_is_a_column() {
        let columns = Column::all();
        for &kind in bounded_policies() {
            assert!(columns.contains(&Column::Tenure(kind)), "{kind}");
        }
        assert!(columns.contains(&Column::Opt));
        assert_eq!(columns.len(), bounded_policies().len() + 1 + PEERS.len());
    }

    /// On the vendored loop trace: tenure's LRU and the `lru` crate agree
    /// (both exact LRU, 0% on a loop larger than the cache), and OPT is the
    /// published optimum.
    #[test]
    fn lru_matches_the_lru_crate_and_opt_tops_every_column() {
        let path = trace::find("loop", None).unwrap();
        let belady = Belady::new(trace::load(&path).unwrap());
        let columns = Column::all();
        let rows = run_trace("loop", &[500], &belady, &columns, 2).unwrap();
        let ratio = |c: Column| rows[0].ratios[columns.iter().position(|&x| x == c).unwrap()];
        assert_eq!(
            ratio(Column::Tenure(PolicyKind::Lru)),
            ratio(Column::Peer(Kind::MutexLru))
        );
        assert_eq!(format!("{:.2}", ratio(Column::Opt) * 100.0), "49.36");
        for &column in &columns {
            assert!(ratio(column) <= ratio(Column::Opt), "{}", column.name());
        }
        let json: serde_json::Value = serde_json::from_str(&to_json(&columns, &rows)).unwrap();
        assert_eq!(json["rows"][0]["hit_ratios"]["OPT"], 49.36);
        assert_eq!(json["rows"][0]["capacity"], 500);
    }
}
