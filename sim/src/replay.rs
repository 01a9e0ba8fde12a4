//! Replaying a trace file through one configured cache.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::value::RawValue;
use tenure::{CacheConfig, ConfigError, PolicyKind};

use crate::error::SimError;
use crate::model::{Model, PolicyModel, TenureModel};
use crate::opt::Belady;
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
    /// `--max-capacity`.
    pub max_capacity: Option<usize>,
    /// `--time-to-idle`.
    pub time_to_idle: Option<Duration>,
    /// `--time-to-live`.
    pub time_to_live: Option<Duration>,
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
/// let flags = ConfigOverrides { policy: Some(PolicyKind::Hybrid), max_capacity: Some(500), ..Default::default() };
/// let config = resolve_config(None, &flags)?;
/// assert_eq!(config.time_to_idle, Some(std::time::Duration::from_secs(3600)));
///
/// // Policies that only bound the cache get no default TTL.
/// let fifo = ConfigOverrides { policy: Some(PolicyKind::Sieve), max_capacity: Some(500), ..Default::default() };
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
        max_capacity,
        time_to_idle,
        time_to_live,
        sweep_interval,
    } = *overrides;
    config.policy = policy.unwrap_or(config.policy);
    config.max_capacity = max_capacity.map(|c| c as u64).or(config.max_capacity);
    config.time_to_idle = time_to_idle.or(config.time_to_idle);
    config.time_to_live = time_to_live.or(config.time_to_live);
    config.sweep_interval = sweep_interval.or(config.sweep_interval);
    // Only a flags-only run gets the documented `--time-to-idle` default: a config file
    // is taken as the library would take it.
    // Asking the config (not naming policies) keeps this right for every policy.
    let needs_ttl = matches!(config.to_policy(), Err(ConfigError::NoExpiry { .. }));
    if file.is_none() && needs_ttl {
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

/// What a trace was replayed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayPolicy {
    /// A tenure cache made from `config`, driven by `engine`.
    Cache {
        /// The cache configuration replayed.
        config: CacheConfig,
        /// What drove the replay.
        engine: Engine,
    },
    /// Bélády's OPT ([`crate::opt`]) holding at most `capacity` keys.
    Opt {
        /// Most keys held.
        capacity: usize,
    },
}

/// The result of replaying a trace.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// The trace file.
    pub trace: PathBuf,
    /// Its format.
    pub format: TraceFormat,
    /// What the trace was replayed through.
    pub policy: ReplayPolicy,
    /// What the replay measured. For OPT, `expired` is 0 and `samples` empty.
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
        policy: ReplayPolicy::Cache {
            config: config.clone(),
            engine,
        },
        stats: stats.0,
    })
}

/// Replays the trace at `path` through Bélády's OPT holding at most
/// `capacity` keys. OPT needs the whole future, so the trace is read into
/// memory first (16 bytes a lookup), then replayed; time plays no part.
///
/// # Errors
/// [`SimError::Trace`] for a missing or malformed trace, [`SimError::Usage`]
/// for a capacity of 0.
pub fn replay_opt(
    path: &Path,
    trace_options: TraceOptions,
    capacity: usize,
    quiet: bool,
) -> Result<ReplayReport, SimError> {
    if capacity == 0 {
        return Err(SimError::Usage("`capacity` must be at least 1".into()));
    }
    let started = Instant::now();
    let (accesses, format) = read_trace(path, trace_options, quiet)?;
    let belady = Belady::new(accesses.iter().map(|a| a.key).collect());
    drop(accesses);
    let opt = belady.run(capacity);
    Ok(ReplayReport {
        trace: path.to_path_buf(),
        format,
        policy: ReplayPolicy::Opt { capacity },
        stats: opt.to_run_stats(started.elapsed()),
    })
}

/// Every access of the trace at `path`, in order, and its format; a progress
/// bar on the bytes read unless `quiet`.
///
/// # Errors
/// [`SimError::Trace`] for a missing or malformed trace.
pub fn read_trace(
    path: &Path,
    trace_options: TraceOptions,
    quiet: bool,
) -> Result<(Vec<Access>, TraceFormat), SimError> {
    let trace = open_trace(path, trace_options)?;
    let format = trace.reader.format();
    let mut progress = Progress::new(trace.file_size, ProgressUnit::Bytes, quiet);
    let mut reader = trace.reader;
    let mut accesses = Vec::new();
    while let Some(batch) = reader.next_batch_vec(Vec::new()) {
        accesses.extend_from_slice(&batch?);
        progress.set(trace.bytes_read.get());
    }
    progress.finish();
    Ok((accesses, format))
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

/// The name OPT goes by on the command line and in output.
pub const OPT_NAME: &str = "opt";

/// A config in a line: `hybrid, capacity 1,000, ttl 1h`.
pub(crate) fn describe(c: &CacheConfig) -> String {
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
    policy
}

/// The JSON form of a [`ReplayReport`].
#[derive(Debug, Serialize)]
struct ReplayJson<'a> {
    trace: String,
    format: String,
    config: ConfigJson<'a>,
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

/// The `config` of the JSON output: the cache's, or OPT's `{"policy": "opt",
/// "capacity": N}`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ConfigJson<'a> {
    Cache(&'a CacheConfig),
    Opt {
        policy: &'static str,
        capacity: usize,
    },
}

impl<'a> From<&'a ReplayPolicy> for ConfigJson<'a> {
    fn from(policy: &'a ReplayPolicy) -> Self {
        match policy {
            ReplayPolicy::Cache { config, .. } => ConfigJson::Cache(config),
            ReplayPolicy::Opt { capacity } => ConfigJson::Opt {
                policy: OPT_NAME,
                capacity: *capacity,
            },
        }
    }
}

/// `x` as a JSON number with exactly two decimals.
pub(crate) fn two_decimals(x: f64) -> Box<RawValue> {
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
    /// `trace`, `format` and `config` replayed. OPT has the same fields:
    /// its `config` is `{"policy":"opt","capacity":N}` and its `expirations` 0.
    pub fn to_json(&self) -> String {
        let s = &self.stats;
        let json = ReplayJson {
            trace: self.trace.display().to_string(),
            format: self.format.to_string(),
            config: ConfigJson::from(&self.policy),
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
        let policy = match &self.policy {
            ReplayPolicy::Cache { config, .. } => describe(config),
            ReplayPolicy::Opt { capacity } => {
                format!("{OPT_NAME}, capacity {}", group_digits(*capacity as u64))
            }
        };
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
