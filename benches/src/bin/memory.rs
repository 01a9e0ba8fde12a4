//! W4: heap bytes per entry at 1M entries (`u64` keys, `Arc` values), counted by
//! dhat's global allocator. Every entry shares one value, so the figure is the
//! cache's own overhead.
//!
//! `memory --sites CACHE` fills only that cache (a label as in `compare --caches`),
//! keeps it alive to the end and writes `dhat-heap.json` (view it with dhat's
//! viewer, or read `eb`, bytes at exit, per allocation site) to show where its
//! bytes go.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tenure_benches::contenders::{Contender, Kind, Setup, Visit};
use tenure_benches::report::memory_targets_table;
use tenure_benches::workload::key_of;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const ENTRIES: u64 = 1_000_000;
/// Builds per cache (except the slow moka and mini-moka).
const REPEATS: usize = 7;

/// Fills a cache; `before` is the heap as it was before the cache was built, so
/// what the cache allocates up front counts too.
struct Fill {
    before: dhat::HeapStats,
    keep_alive: bool,
}

/// What filling one cache cost.
struct Footprint {
    entries: usize,
    bytes: usize,
    blocks: usize,
}

impl Visit for Fill {
    type Output = Footprint;
    fn visit<C: Contender>(self, cache: C) -> Footprint {
        let value = Arc::new(0u64);
        let before = self.before;
        for i in 0..ENTRIES {
            cache.insert(key_of(i), Arc::clone(&value));
        }
        let entries = cache.settled_len();
        let after = dhat::HeapStats::get();
        if self.keep_alive {
            // Still allocated when the profiler writes its file.
            std::mem::forget(cache);
        }
        Footprint {
            entries,
            bytes: after.curr_bytes.saturating_sub(before.curr_bytes),
            blocks: after.curr_blocks.saturating_sub(before.curr_blocks),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sites = match args.as_slice() {
        [] => None,
        [flag, label] if flag == "--sites" => match Kind::from_label(label) {
            Some(kind) => Some(kind),
            None => {
                eprintln!("memory: unknown cache {label:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("memory: usage: memory [--sites CACHE]");
            return ExitCode::from(2);
        }
    };
    // Testing mode: statistics only, no profile file; short backtraces keep it quick.
    let builder = dhat::Profiler::builder();
    let _profiler = match sites {
        Some(_) => builder.trim_backtraces(Some(12)).build(),
        None => builder.testing().trim_backtraces(Some(4)).build(),
    };
    let kinds = sites.map_or(Kind::ALL.to_vec(), |k| vec![k]);
    let setup = Setup {
        capacity: ENTRIES as usize,
        ttl: Duration::from_secs(3600),
        ticks_as_ttl: false,
    };
    println!("#### W4: heap per entry at {ENTRIES} entries (u64 → Arc<u64>, one shared value)\n");
    println!(
        "| cache | entries held | heap bytes | bytes/entry (median of {REPEATS} builds) | min–max | allocations/entry |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut medians: Vec<(Kind, f64)> = Vec::with_capacity(kinds.len());
    for kind in kinds {
        // Hash seeds differ per build and move table sizes; the slow peers run once.
        let repeats = if sites.is_some() || matches!(kind, Kind::Moka | Kind::MiniMoka) {
            1
        } else {
            REPEATS
        };
        let mut runs = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let fill = Fill {
                before: dhat::HeapStats::get(),
                keep_alive: sites.is_some(),
            };
            match kind.build(&setup, fill) {
                Ok(f) => runs.push(f),
                Err(e) => {
                    eprintln!("memory: {}: {e}", kind.name());
                    return ExitCode::FAILURE;
                }
            }
        }
        runs.sort_by_key(|f| f.bytes * 1_000 / f.entries.max(1));
        let per_entry = |f: &Footprint| f.bytes as f64 / f.entries.max(1) as f64;
        let median = &runs[runs.len() / 2];
        println!(
            "| {} | {} | {} | {:.1} | {:.1}–{:.1} | {:.2} |",
            kind.name(),
            median.entries,
            median.bytes,
            per_entry(median),
            per_entry(&runs[0]),
            per_entry(&runs[runs.len() - 1]),
            median.blocks as f64 / median.entries.max(1) as f64
        );
        medians.push((kind, per_entry(median)));
    }
    let measured = |kind| medians.iter().find(|&&(k, _)| k == kind).map(|&(_, b)| b);
    println!(
        "\n#### Target (issue 9)\n\n{}",
        memory_targets_table(measured)
    );
    ExitCode::SUCCESS
}
