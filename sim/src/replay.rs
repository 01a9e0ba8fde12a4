//! Replaying a trace file through one configured cache.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use tenure::{CacheConfig, PolicyKind};

use crate::error::SimError;
use crate::model::{Model, PolicyModel, TenureModel};
use crate::progress::{Progress, ProgressUnit};
use crate::run::{RunOptions, RunStats, run};
use crate::trace::{Access, TraceFormat, TraceOptions, open_trace};
use crate::units::group_digits;

/// The sliding TTL used when a policy needs one and none was given.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// Configuration settings given on the command line; each one given replaces
/// the config file's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    /// `--policy`.
    pub policy: Option<PolicyKind>,
    /// `--capacity` (alias `--max-capacity`).
    pub capacity: Option<usize>,
    /// `--ttl` (alias `--time-to-idle`).
    pub ttl: Option<Duration>,
    /// `--max-lifetime` (alias `--time-to-live`).
    pub max_lifetime: Option<Duration>,
    /// `--sweep-interval`.
    pub sweep_interval: Option<Duration>,
}

/// Reads a config file as the library does: TOML, or JSON if the name ends in `.json`.
///
/// # Errors
/// [`SimError::ConfigFile`] naming the file, with the parser's message.
pub fn read_config_file(path: &Path) -> Result<CacheConfig, SimError> {
    let fail = |message: String| SimError::ConfigFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
    } else {
        toml::from_str(&text).map_err(|e| fail(e.to_string().trim_end().to_string()))
    }
}

/// The configuration to replay with: the file's (if any), with each given
/// override applied; without a file, a 1 h TTL if the policy needs one and
/// none was given.
/// The result is checked as the library checks it.
///
/// ```
/// use tenure::PolicyKind;
/// use tenure_sim::{ConfigOverrides, resolve_config};
///
/// let flags = ConfigOverrides { policy: Some(PolicyKind::Hybrid), capacity: Some(500), ..Default::default() };
/// let config = resolve_config(None, &flags)?;
/// assert_eq!(config.time_to_idle, Some(std::time::Duration::from_secs(3600)));
///
/// // Policies that only bound the cache get no default TTL.
/// let fifo = ConfigOverrides { policy: Some(PolicyKind::Sieve), capacity: Some(500), ..Default::default() };
/// assert_eq!(resolve_config(None, &fifo)?.time_to_idle, None);
///
/// let bad = ConfigOverrides { policy: Some(PolicyKind::Lru), ..Default::default() };
/// let err = resolve_config(None, &bad).unwrap_err();
/// assert_eq!(err.to_string(), "invalid configuration: `max_capacity` is required for policy `lru`");
/// # Ok::<(), tenure_sim::SimError>(())
/// ```
///
/// # Errors
/// [`SimError::ConfigFile`] for an unreadable file, [`SimError::Usage`] if no
/// policy is given at all, [`SimError::Config`] for an unusable combination.
pub fn resolve_config(
    file: Option<&Path>,
    overrides: &ConfigOverrides,
) -> Result<CacheConfig, SimError> {
    let mut config = match file {
        Some(path) => read_config_file(path)?,
        None => CacheConfig {
            policy: overrides.policy.ok_or_else(|| {
                SimError::Usage("--policy is required unless --config is given".into())
            })?,
            max_capacity: None,
            time_to_idle: None,
            time_to_live: None,
            sweep_interval: None,
        },
    };
    let ConfigOverrides {
        policy,
        capacity,
        ttl,
        max_lifetime,
        sweep_interval,
    } = *overrides;
    config.policy = policy.unwrap_or(config.policy);
    config.max_capacity = capacity.map(|c| c as u64).or(config.max_capacity);
    config.time_to_idle = ttl.or(config.time_to_idle);
    config.time_to_live = max_lifetime.or(config.time_to_live);
    config.sweep_interval = sweep_interval.or(config.sweep_interval);
    // Only a flags-only run gets the documented `--ttl` default: a config file
    // is taken as the library would take it.
    let needs_ttl = matches!(config.policy, PolicyKind::SlidingTtl | PolicyKind::Hybrid);
    if file.is_none() && config.time_to_idle.is_none() && config.time_to_live.is_none() && needs_ttl
    {
        config.time_to_idle = Some(DEFAULT_TTL);
    }
    config.to_policy()?;
    Ok(config)
}

/// What a replay drives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// [`PolicyModel`]: the policy state machine under the cache's rules,
    /// single-threaded. Same results as [`Engine::Cache`], about 3× faster on long traces.
    #[default]
    Policy,
    /// [`TenureModel`]: the real concurrent [`tenure::Cache`] on a manual clock.
    Cache,
}

/// The result of replaying a trace.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format.
    pub format: TraceFormat,
    /// The cache configuration replayed.
    pub config: CacheConfig,
    /// What drove the replay.
    pub engine: Engine,
    /// What the replay measured.
    pub stats: RunStats,
}

/// Replays the trace at `path` through a tenure cache (or its policy, per
/// `engine`) made from `config`, on a
/// simulated clock (the trace's timestamps; for `.lis`, `trace_options.lis_step`
/// per lookup), with a simulated sweeper if `config` has a `sweep_interval`.
///
/// # Errors
/// [`SimError::Trace`] for a missing or malformed trace, [`SimError::Config`]
/// for an unusable configuration.
pub fn replay_trace(
    path: &Path,
    trace_options: TraceOptions,
    config: &CacheConfig,
    engine: Engine,
    quiet: bool,
) -> Result<ReplayReport, SimError> {
    match engine {
        Engine::Policy => replay_with(
            PolicyModel::new(config)?,
            path,
            trace_options,
            config,
            quiet,
        ),
        Engine::Cache => replay_with(
            TenureModel::new(config)?,
            path,
            trace_options,
            config,
            quiet,
        ),
    }
    .map(|stats| ReplayReport {
        trace: path.to_path_buf(),
        format: stats.1,
        config: config.clone(),
        engine,
        stats: stats.0,
    })
}

/// [`replay_trace`] for one kind of model (generic, so the hot loop's calls
/// are direct).
fn replay_with<M: Model>(
    mut model: M,
    path: &Path,
    trace_options: TraceOptions,
    config: &CacheConfig,
    quiet: bool,
) -> Result<(RunStats, TraceFormat), SimError> {
    let trace = open_trace(path, trace_options)?;
    let format = trace.reader.format();
    let bytes = trace.bytes_read.clone();
    let mut progress = Progress::new(trace.file_size, ProgressUnit::Bytes, quiet);
    let options = RunOptions {
        sweep_interval: config.sweep_interval,
        ..RunOptions::default()
    };
    let mut reader = trace.reader;
    // Parsing costs about as much as simulating, so it runs on a thread of
    // its own (and decompression on a third, see `open_trace`).
    let (batches, received) = mpsc::sync_channel(READ_AHEAD);
    let stats = std::thread::scope(|scope| {
        let (spent, recycled) = mpsc::sync_channel(READ_AHEAD + 2);
        scope.spawn(move || {
            loop {
                let spare = recycled.try_recv().unwrap_or_default();
                let Some(batch) = reader.next_batch_vec(spare) else {
                    break;
                };
                let batch = batch.map(|accesses| Batch {
                    accesses,
                    spent: spent.clone(),
                });
                if batches.send(batch).is_err() {
                    break;
                }
            }
        });
        run(&mut model, received, &options, |_| {
            progress.set(bytes.get())
        })
    });
    progress.finish();
    Ok((stats?, format))
}

/// Batches of parsed accesses the reader thread may run ahead by.
const READ_AHEAD: usize = 16;

/// Parsed accesses on their way to the replay; handed back to the reader
/// thread when spent, so no batch is allocated twice.
struct Batch {
    accesses: Vec<Access>,
    spent: mpsc::SyncSender<Vec<Access>>,
}

impl AsRef<[Access]> for Batch {
    fn as_ref(&self) -> &[Access] {
        &self.accesses
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // A full return channel only means the reader has enough spares.
        let _ = self.spent.try_send(std::mem::take(&mut self.accesses));
    }
}

/// The JSON form of a [`ReplayReport`].
#[derive(Debug, Serialize)]
struct ReplayJson<'a> {
    trace: String,
    format: String,
    config: &'a CacheConfig,
    hit_ratio: Box<RawValue>,
    hits: u64,
    misses: u64,
    accesses: u64,
    creations: u64,
    evictions: u64,
    capacity_evictions: u64,
    expirations: u64,
    peak_live: usize,
    final_live: usize,
    elapsed_ms: u64,
}

/// `x` as a JSON number with exactly two decimals.
fn two_decimals(x: f64) -> Box<RawValue> {
    let text = if x.is_finite() {
        format!("{x:.2}")
    } else {
        "0.00".into()
    };
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl ReplayReport {
    /// Removals the cache chose: capacity evictions plus expirations.
    pub fn evictions(&self) -> u64 {
        self.stats.capacity_evicted + self.stats.expired
    }

    /// One JSON object: `hit_ratio` (percent, two decimals), `hits`, `misses`,
    /// `accesses`, `creations`, `evictions` (`capacity_evictions` +
    /// `expirations`), `peak_live`, `final_live`, `elapsed_ms`, and the
    /// `trace`, `format` and `config` replayed.
    pub fn to_json(&self) -> String {
        let s = &self.stats;
        let json = ReplayJson {
            trace: self.trace.display().to_string(),
            format: self.format.to_string(),
            config: &self.config,
            hit_ratio: two_decimals(s.hit_ratio_percent()),
            hits: s.hits,
            misses: s.accesses - s.hits,
            accesses: s.accesses,
            creations: s.creations(),
            evictions: self.evictions(),
            capacity_evictions: s.capacity_evicted,
            expirations: s.expired,
            peak_live: s.peak_len,
            final_live: s.final_len,
            elapsed_ms: u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        serde_json::to_string(&json).unwrap_or_default()
    }

    /// A short human-readable summary.
    pub fn to_text(&self) -> String {
        let s = &self.stats;
        let c = &self.config;
        let mut policy = c.policy.to_string();
        if let Some(capacity) = c.max_capacity {
            let _ = write!(policy, ", capacity {}", group_digits(capacity));
        }
        for (name, value) in [
            ("ttl", c.time_to_idle),
            ("max lifetime", c.time_to_live),
            ("sweep every", c.sweep_interval),
        ] {
            if let Some(value) = value {
                let _ = write!(policy, ", {name} {}", humantime::format_duration(value));
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "trace      {} ({})", self.trace.display(), self.format);
        let _ = writeln!(out, "policy     {policy}");
        let _ = writeln!(out, "hit ratio  {:.2} %", s.hit_ratio_percent());
        let _ = writeln!(out, "hits       {}", group_digits(s.hits));
        let _ = writeln!(out, "accesses   {}", group_digits(s.accesses));
        let _ = writeln!(
            out,
            "evictions  {} ({} for capacity, {} expired)",
            group_digits(self.evictions()),
            group_digits(s.capacity_evicted),
            group_digits(s.expired)
        );
        let _ = writeln!(
            out,
            "live       peak {}, final {}",
            group_digits(s.peak_len as u64),
            group_digits(s.final_len as u64)
        );
        let _ = writeln!(out, "took       {:.2} s", s.elapsed.as_secs_f64());
        out
    }
}
