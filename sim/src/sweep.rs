//! Hit ratio against capacity: every bounded policy, and OPT as the ceiling,
//! at every capacity asked for, on one trace.

use std::convert::Infallible;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::value::RawValue;
use tenure::{CacheConfig, ConfigError, PolicyKind};

use crate::chart::{RatioLine, hit_ratio_svg};
use crate::error::SimError;
use crate::model::PolicyModel;
use crate::opt::Belady;
use crate::parallel::in_parallel;
use crate::replay::{DEFAULT_TTL, OPT_NAME, read_trace, two_decimals};
use crate::run::{RunOptions, RunStats, percent_two_decimals, run};
use crate::trace::{Access, TraceFormat, TraceOptions};
use crate::units::group_digits;

/// Every tenure policy bounded by a `capacity`: what a sweep replays by
/// default, and what the `hit_ratios` bench compares. A new bounded
/// [`PolicyKind`] is picked up by both once it is listed here. (`hybrid` is
/// LRU with a TTL: on a trace without idle gaps it is LRU, so it is left out.)
pub fn bounded_policies() -> &'static [PolicyKind] {
    &[
        PolicyKind::Lru,
        PolicyKind::TinyLfu,
        PolicyKind::S3Fifo,
        PolicyKind::Sieve,
    ]
}

/// A policy a sweep replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepPolicy {
    /// A tenure policy, through its state machine under the cache's rules
    /// ([`PolicyModel`]).
    Cache(PolicyKind),
    /// Bélády's OPT ([`crate::opt`]).
    Opt,
}

impl SweepPolicy {
    /// The default set: every one of [`bounded_policies`], then OPT.
    pub fn all() -> Vec<SweepPolicy> {
        let mut all: Vec<SweepPolicy> = bounded_policies()
            .iter()
            .map(|&kind| SweepPolicy::Cache(kind))
            .collect();
        all.push(SweepPolicy::Opt);
        all
    }

    /// Parses a policy name as the config file spells it (`lru`, `hybrid`, …),
    /// or `opt`.
    ///
    /// # Errors
    /// [`SimError::Usage`] for an unknown name or a policy with no capacity.
    pub fn parse(name: &str) -> Result<SweepPolicy, SimError> {
        let name = name.trim();
        if name == OPT_NAME {
            return Ok(SweepPolicy::Opt);
        }
        let choosable = bounded_policies().iter().chain([&PolicyKind::Hybrid]);
        if let Some(&kind) = choosable.into_iter().find(|k| k.to_string() == name) {
            return Ok(SweepPolicy::Cache(kind));
        }
        let mut known: Vec<String> = SweepPolicy::all().iter().map(|p| p.to_string()).collect();
        known.push(PolicyKind::Hybrid.to_string());
        Err(SimError::Usage(format!(
            "--policies: {name:?} is not a policy bounded by capacity (expected one of {})",
            known.join(", ")
        )))
    }

    /// The cache configuration replayed at `capacity` (none for OPT): the
    /// policy's capacity and, only if the policy needs one, `ttl`.
    ///
    /// # Errors
    /// The [`ConfigError`] the policy reports for these numbers.
    pub fn config(
        self,
        capacity: usize,
        ttl: Duration,
    ) -> Result<Option<CacheConfig>, ConfigError> {
        let SweepPolicy::Cache(policy) = self else {
            return Ok(None);
        };
        let mut config = CacheConfig {
            policy,
            max_capacity: Some(capacity as u64),
            time_to_idle: None,
            time_to_live: None,
            sweep_interval: None,
        };
        if let Err(ConfigError::NoExpiry { .. }) = config.to_policy() {
            config.time_to_idle = Some(ttl);
        }
        config.to_policy()?;
        Ok(Some(config))
    }
}

impl fmt::Display for SweepPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepPolicy::Cache(kind) => kind.fmt(f),
            SweepPolicy::Opt => f.write_str(OPT_NAME),
        }
    }
}

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The capacities, in the order to show them.
    pub capacities: Vec<usize>,
    /// The policies, in the order to show them. OPT is added if missing:
    /// every share is a share of it.
    pub policies: Vec<SweepPolicy>,
    /// The sliding TTL of the policies that need one (hybrid); by default
    /// [`DEFAULT_TTL`], as `replay` gives them.
    pub ttl: Option<Duration>,
    /// Replays run at once, at least 1.
    pub threads: usize,
}

/// One policy at one capacity.
#[derive(Debug, Clone)]
pub struct SweepCell {
    /// The policy.
    pub policy: SweepPolicy,
    /// The capacity.
    pub capacity: usize,
    /// The cache configuration replayed (none for OPT).
    pub config: Option<CacheConfig>,
    /// What the replay measured.
    pub stats: RunStats,
}

/// The result of a sweep: one [`SweepCell`] per policy and capacity.
#[derive(Debug, Clone)]
pub struct SweepReport {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format.
    pub format: TraceFormat,
    /// Lookups in the trace.
    pub accesses: u64,
    /// Distinct keys in the trace.
    pub distinct_keys: usize,
    /// The capacities, as asked.
    pub capacities: Vec<usize>,
    /// The policies, as asked, OPT last if it was not asked for.
    pub policies: Vec<SweepPolicy>,
    /// Policy-major: `cells[p * capacities.len() + c]`.
    pub cells: Vec<SweepCell>,
    /// Wall-clock time of the whole sweep, reading the trace included.
    pub elapsed: Duration,
}

/// Replays the trace at `path` through every policy of `options` at every
/// capacity, `options.threads` replays at a time. The trace is read into
/// memory once (16 bytes a lookup), then shared by every replay.
///
/// # Errors
/// [`SimError::Trace`] for a missing or malformed trace, [`SimError::Usage`]
/// for no capacity or a capacity of 0, [`SimError::Config`] for a policy that
/// refuses its numbers.
pub fn sweep_trace(
    path: &Path,
    trace_options: TraceOptions,
    options: &SweepOptions,
    quiet: bool,
) -> Result<SweepReport, SimError> {
    if options.capacities.is_empty() || options.capacities.contains(&0) {
        return Err(SimError::Usage(
            "--capacities: give one or more capacities, each at least 1".into(),
        ));
    }
    let mut policies = options.policies.clone();
    if !policies.contains(&SweepPolicy::Opt) {
        policies.push(SweepPolicy::Opt);
    }
    let ttl = options.ttl.unwrap_or(DEFAULT_TTL);
    // Every configuration is checked before the first (long) replay.
    let mut cells = Vec::new();
    for &policy in &policies {
        for &capacity in &options.capacities {
            cells.push(SweepCell {
                policy,
                capacity,
                config: policy.config(capacity, ttl)?,
                stats: RunStats::default(),
            });
        }
    }
    let started = Instant::now();
    let (accesses, format) = read_trace(path, trace_options, quiet)?;
    let belady = Belady::new(accesses.iter().map(|a| a.key).collect());
    let results = in_parallel(&cells, options.threads, |cell| {
        replay_cell(cell, &accesses, &belady)
    });
    for (cell, stats) in cells.iter_mut().zip(results) {
        cell.stats = stats?;
    }
    Ok(SweepReport {
        trace: path.to_path_buf(),
        format,
        accesses: accesses.len() as u64,
        distinct_keys: belady.distinct_keys(),
        capacities: options.capacities.clone(),
        policies,
        cells,
        elapsed: started.elapsed(),
    })
}

/// One replay of a sweep.
fn replay_cell(
    cell: &SweepCell,
    accesses: &[Access],
    belady: &Belady,
) -> Result<RunStats, SimError> {
    let started = Instant::now();
    match &cell.config {
        None => Ok(belady.run(cell.capacity).to_run_stats(started.elapsed())),
        Some(config) => {
            let mut model = PolicyModel::new(config)?;
            let batches = accesses.chunks(4096).map(Ok::<_, Infallible>);
            let Ok(stats) = run(&mut model, batches, &RunOptions::default(), |_| {});
            Ok(stats)
        }
    }
}

/// The JSON form of a [`SweepReport`].
#[derive(Debug, Serialize)]
struct SweepJson<'a> {
    trace: String,
    format: String,
    accesses: u64,
    distinct_keys: usize,
    capacities: &'a [usize],
    policies: Vec<String>,
    results: Vec<CellJson<'a>>,
    chart: Option<String>,
    elapsed_ms: u64,
}

#[derive(Debug, Serialize)]
struct CellJson<'a> {
    policy: String,
    capacity: usize,
    config: Option<&'a CacheConfig>,
    hit_ratio: Box<RawValue>,
    share_of_opt: Option<Box<RawValue>>,
    hits: u64,
    accesses: u64,
    capacity_evictions: u64,
    expirations: u64,
}

impl SweepReport {
    /// The cell of `policy` at capacity number `column`.
    fn cell(&self, policy: usize, column: usize) -> &SweepCell {
        &self.cells[policy * self.capacities.len() + column]
    }

    /// OPT's cell at capacity number `column`.
    fn opt(&self, column: usize) -> &SweepCell {
        let row = self
            .policies
            .iter()
            .position(|&p| p == SweepPolicy::Opt)
            .unwrap_or(0);
        self.cell(row, column)
    }

    /// `cell`'s hits as a percentage of OPT's at the same capacity (two
    /// decimals), or `None` if OPT has no hits there.
    pub fn share_of_opt(&self, cell: &SweepCell) -> Option<f64> {
        let column = self.capacities.iter().position(|&c| c == cell.capacity)?;
        let opt = self.opt(column).stats.hits;
        (opt > 0).then(|| percent_two_decimals(cell.stats.hits, opt))
    }

    /// A text table: one row per capacity, one column per policy, each cell
    /// the hit ratio and (but for OPT) its share of OPT's.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Hit ratio against capacity: {} ({}), {} lookups, {} distinct keys",
            self.trace.display(),
            self.format,
            group_digits(self.accesses),
            group_digits(self.distinct_keys as u64)
        );
        let _ = writeln!(
            out,
            "Each cell: hit ratio %, and in brackets the share of OPT's hits.\n"
        );
        let mut header = format!("{:>10}", "capacity");
        for policy in &self.policies {
            let _ = write!(header, "  {:>16}", policy.to_string());
        }
        let _ = writeln!(out, "{}", header.trim_end());
        for (column, &capacity) in self.capacities.iter().enumerate() {
            let mut row = format!("{:>10}", group_digits(capacity as u64));
            for p in 0..self.policies.len() {
                let cell = self.cell(p, column);
                let ratio = format!("{:.2}", cell.stats.hit_ratio_percent());
                let text = match (cell.policy, self.share_of_opt(cell)) {
                    (SweepPolicy::Opt, _) => ratio,
                    (_, Some(share)) => format!("{ratio} ({share:.1}%)"),
                    (_, None) => format!("{ratio} (-)"),
                };
                let _ = write!(row, "  {text:>16}");
            }
            let _ = writeln!(out, "{row}");
        }
        out
    }

    /// One JSON object: `trace`, `format`, `accesses`, `distinct_keys`,
    /// `capacities`, `policies`, `chart` (the path written, or null),
    /// `elapsed_ms`, and `results`, one object per policy and capacity
    /// (policy-major): `policy`, `capacity`, `config` (null for OPT),
    /// `hit_ratio` (percent, two decimals), `share_of_opt` (percent of OPT's
    /// hits, two decimals; null if OPT has none), `hits`, `accesses`,
    /// `capacity_evictions`, `expirations`.
    pub fn to_json(&self, chart: Option<&Path>) -> String {
        let results = self
            .cells
            .iter()
            .map(|cell| CellJson {
                policy: cell.policy.to_string(),
                capacity: cell.capacity,
                config: cell.config.as_ref(),
                hit_ratio: two_decimals(cell.stats.hit_ratio_percent()),
                share_of_opt: self.share_of_opt(cell).map(two_decimals),
                hits: cell.stats.hits,
                accesses: cell.stats.accesses,
                capacity_evictions: cell.stats.capacity_evicted,
                expirations: cell.stats.expired,
            })
            .collect();
        let json = SweepJson {
            trace: self.trace.display().to_string(),
            format: self.format.to_string(),
            accesses: self.accesses,
            distinct_keys: self.distinct_keys,
            capacities: &self.capacities,
            policies: self.policies.iter().map(ToString::to_string).collect(),
            results,
            chart: chart.map(|p| p.display().to_string()),
            elapsed_ms: u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        serde_json::to_string(&json).unwrap_or_default()
    }

    /// The chart of hit ratio against capacity, one line per policy.
    pub fn chart_svg(&self) -> String {
        let points: Vec<Vec<(usize, f64)>> = (0..self.policies.len())
            .map(|p| {
                (0..self.capacities.len())
                    .map(|c| {
                        let cell = self.cell(p, c);
                        (cell.capacity, cell.stats.hit_ratio_percent())
                    })
                    .collect()
            })
            .collect();
        let labels: Vec<String> = self.policies.iter().map(ToString::to_string).collect();
        let lines: Vec<RatioLine<'_>> = labels
            .iter()
            .zip(&points)
            .map(|(label, points)| RatioLine { label, points })
            .collect();
        let stem = chart_stem(&self.trace);
        hit_ratio_svg(&format!("Hit ratio against capacity: {stem}"), &lines)
    }
}

/// The trace's name without folders and without `.zst`, `.lis` or `.csv`:
/// `traces/OLTP.lis.zst` → `OLTP`. Names the sweep's chart,
/// `sweep-<stem>.svg`.
pub fn chart_stem(trace: &Path) -> String {
    let name = trace
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    let mut stem = name.as_str();
    for suffix in [".zst", ".lis", ".csv"] {
        stem = stem.strip_suffix(suffix).unwrap_or(stem);
    }
    stem.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sliding_ttl_is_refused() {
        for policy in SweepPolicy::all() {
            assert_eq!(SweepPolicy::parse(&policy.to_string()).unwrap(), policy);
        }
        let err = SweepPolicy::parse("sliding-ttl").unwrap_err().to_string();
        assert!(err.contains("not a policy bounded by capacity"), "{err}");
        assert!(
            err.contains("lru, tinylfu, s3fifo, sieve, opt, hybrid"),
            "{err}"
        );
    }

    #[test]
    fn only_policies_that_need_a_ttl_get_one() {
        let ttl = Duration::from_secs(60);
        let lru = SweepPolicy::Cache(PolicyKind::Lru).config(5, ttl).unwrap();
        assert_eq!(lru.unwrap().time_to_idle, None);
        let hybrid = SweepPolicy::Cache(PolicyKind::Hybrid)
            .config(5, ttl)
            .unwrap();
        assert_eq!(hybrid.unwrap().time_to_idle, Some(ttl));
        assert_eq!(SweepPolicy::Opt.config(5, ttl).unwrap(), None);
    }

    #[test]
    fn every_bounded_policy_takes_a_capacity() {
        let ttl = DEFAULT_TTL;
        for &kind in bounded_policies() {
            let config = SweepPolicy::Cache(kind).config(7, ttl).unwrap().unwrap();
            assert_eq!(config.max_capacity, Some(7), "{kind}");
        }
    }

    #[test]
    fn chart_stems_drop_folders_and_extensions() {
        assert_eq!(chart_stem(Path::new("a/b/OLTP.lis.zst")), "OLTP");
        assert_eq!(chart_stem(Path::new("keys.csv")), "keys");
        assert_eq!(chart_stem(Path::new("odd.name")), "odd.name");
    }
}
