//! The built-in scenario: two days of a multi-tenant service's OpenAI-client
//! lookups, shaped like the incident that started this project.
//!
//! At scale 1 (all counts scale linearly):
//!
//! - **Diurnal traffic**: about 650 requests a minute on average, peaking at
//!   15:00 and dropping to 30 % of the average at 03:00, over 48 hours.
//! - **A few hot tenants**: 20 keys carry 40 % of the steady traffic.
//! - **A long tail**: 40,000 tenants share the rest, Zipf-distributed (the
//!   tenant ranked `i` is picked with weight `1 / i`).
//! - **Daily rotation**: every tenth tenant (hot ones included) gets a new key
//!   once a day, at its own hour; the old key is never used again.
//! - **Bursts of new keys**: at 10:00 on day one, 12,000 never-seen keys arrive
//!   within 20 minutes, and at 06:30 on day two, 20,000 (a sign-up spike, or a
//!   client minting keys by mistake); each is used 1 to 3 times.
//!
//! The same requests replay through the unbounded map and through each policy.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use foldhash::fast::FixedState;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};
use tenure::policy::Timestamp;
use tenure::{CacheConfig, ConfigError, PolicyKind};

use crate::chart::{Series, live_entries_svg};
use crate::memory::{private_stack_bytes, shared_stack_bytes};
use crate::model::{Model, TenureModel, UnboundedMap};
use crate::run::{RunOptions, RunStats, run};
use crate::trace::Access;
use crate::units::{aligned, format_bytes, group_digits, wrap};

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;
const HOURS: u64 = 48;
const REQUESTS_PER_MINUTE: f64 = 650.0;
const HOT_TENANTS: u64 = 20;
const HOT_SHARE: f64 = 0.4;
const TAIL_TENANTS: f64 = 40_000.0;
const ROTATING_EVERY: u64 = 10;
/// `(start, new keys, window)` of each burst.
const BURSTS: [(u64, f64, u64); 2] = [
    (10 * HOUR_MS, 12_000.0, 20 * MINUTE_MS),
    (30 * HOUR_MS + 30 * MINUTE_MS, 20_000.0, 20 * MINUTE_MS),
];
/// Burst keys live in their own key range, above every tenant key.
const BURST_KEY_BASE: u64 = 1 << 48;
const TTL: Duration = Duration::from_secs(3600);
const SWEEP: Duration = Duration::from_secs(300);
const CAPACITY: f64 = 10_000.0;
/// Requests between two progress reports.
const PROGRESS_EVERY: usize = 4096;
/// How often the chart samples live entries.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(300);

/// Knobs of the built-in scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScenarioOptions {
    /// Seed of the traffic generator: the same seed, the same traffic.
    pub seed: u64,
    /// Multiplies request counts, tenant counts, burst sizes and capacities
    /// (1.0 is the full scenario; tests use less).
    pub scale: f64,
}

impl Default for ScenarioOptions {
    /// Seed 1, scale 1.
    fn default() -> Self {
        ScenarioOptions {
            seed: 1,
            scale: 1.0,
        }
    }
}

/// The generated requests, in time order.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// Every request: which API key, and when.
    pub requests: Vec<Access>,
    /// Simulated length of the scenario.
    pub duration: Duration,
}

fn ms(millis: u64) -> Timestamp {
    Timestamp::from_nanos(millis * 1_000_000)
}

/// The traffic generator: one of rand's portable generators, whose output for
/// a seed is the same on every platform and is kept stable across rand
/// releases, so a seed names one scenario.
type TrafficRng = Xoshiro256PlusPlus;

/// Rounds `x` (`>= 0`) up or down at random so that the expectation is `x`.
fn round_randomly(x: f64, rng: &mut TrafficRng) -> u64 {
    let whole = x.floor();
    whole as u64 + u64::from(rng.random_bool(x - whole))
}

/// Generates the scenario's traffic (see the [module docs](self)).
///
/// ```
/// use tenure_sim::{ScenarioOptions, generate_traffic};
///
/// let options = ScenarioOptions { seed: 7, scale: 0.01 };
/// let a = generate_traffic(&options);
/// assert_eq!(a.requests, generate_traffic(&options).requests);
/// assert!(a.requests.windows(2).all(|w| w[0].time <= w[1].time));
/// ```
pub fn generate_traffic(options: &ScenarioOptions) -> Traffic {
    let scale = options.scale;
    let mut rng = TrafficRng::seed_from_u64(options.seed);
    let tail_tenants = (TAIL_TENANTS * scale).round().max(1.0);
    // Ranks 1..=tail_tenants, rank `i` with weight `1 / i`.
    let tail = Zipf::new(tail_tenants, 1.0).expect("at least one tenant, exponent 1");
    let tenant_key = |tenant: u64, at: u64| {
        if tenant % ROTATING_EVERY != ROTATING_EVERY - 1 {
            return tenant << 8;
        }
        // Each rotating tenant rotates at its own time of day, the same for every seed.
        let offset = TrafficRng::seed_from_u64(tenant).random_range(0..DAY_MS);
        (tenant << 8) | ((at + offset) / DAY_MS)
    };
    let mut requests = Vec::new();
    for minute in 0..HOURS * 60 {
        let hour_of_day = (minute % 1440) as f64 / 60.0;
        let diurnal = 1.0 + 0.7 * (std::f64::consts::TAU * (hour_of_day - 9.0) / 24.0).sin();
        let count = round_randomly(REQUESTS_PER_MINUTE * scale * diurnal, &mut rng);
        for _ in 0..count {
            let at = minute * MINUTE_MS + rng.random_range(0..MINUTE_MS);
            let tenant = if rng.random_bool(HOT_SHARE) {
                rng.random_range(0..HOT_TENANTS)
            } else {
                // Zipf draws whole numbers as floats, from 1 to the tail's length.
                HOT_TENANTS + tail.sample(&mut rng) as u64 - 1
            };
            requests.push(Access {
                time: ms(at),
                key: tenant_key(tenant, at),
            });
        }
    }
    for (burst, &(start, keys, window)) in BURSTS.iter().enumerate() {
        let keys = (keys * scale).round() as u64;
        for n in 0..keys {
            let key = BURST_KEY_BASE | ((burst as u64) << 32) | n;
            for _ in 0..=rng.random_range(0..3) {
                requests.push(Access {
                    time: ms(start + rng.random_range(0..window)),
                    key,
                });
            }
        }
    }
    requests.sort_unstable_by_key(|a| (a.time, a.key));
    Traffic {
        requests,
        duration: Duration::from_millis(HOURS * HOUR_MS),
    }
}

impl Traffic {
    /// Writes the traffic as a CSV trace (`timestamp_ms,key`, with a header),
    /// which `tenure-sim replay` reads back: for trying other configurations on
    /// the same requests.
    ///
    /// ```
    /// use tenure_sim::{ScenarioOptions, generate_traffic};
    ///
    /// let traffic = generate_traffic(&ScenarioOptions { seed: 1, scale: 0.001 });
    /// let mut csv = Vec::new();
    /// traffic.write_csv(&mut csv)?;
    /// let text = String::from_utf8(csv).unwrap();
    /// assert!(text.starts_with("timestamp_ms,key\n"));
    /// assert_eq!(text.lines().count(), traffic.requests.len() + 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// Whatever writing to `out` returns.
    pub fn write_csv(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(out);
        writeln!(out, "timestamp_ms,key")?;
        for access in &self.requests {
            writeln!(
                out,
                "{},key-{:x}",
                access.time.as_nanos() / 1_000_000,
                access.key
            )?;
        }
        out.flush()
    }
}

/// One cache the scenario compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    /// How the table and chart name it.
    pub label: String,
    /// The tenure cache's configuration; `None` for the unbounded map.
    pub config: Option<CacheConfig>,
}

/// The unbounded map, then sliding TTL 1 h, LRU, TinyLFU, S3-FIFO, SIEVE, and
/// hybrid 1 h + LRU, the time-based ones with a sweeper every 5 minutes (as in
/// the original fix). Every bounded one holds at most 10,000 × `scale` entries.
pub fn contenders(scale: f64) -> Vec<Contender> {
    let capacity = (CAPACITY * scale).round().max(1.0) as usize;
    let ttl = Some(TTL);
    let sweep = Some(SWEEP);
    let cap = group_digits(capacity as u64);
    let config = |policy, ttl, capacity, sweep_interval| CacheConfig {
        policy,
        max_capacity: capacity,
        time_to_idle: ttl,
        time_to_live: None,
        sweep_interval,
    };
    vec![
        Contender {
            label: "unbounded map (the leak)".into(),
            config: None,
        },
        Contender {
            label: "sliding-ttl 1h".into(),
            config: Some(config(PolicyKind::SlidingTtl, ttl, None, sweep)),
        },
        Contender {
            label: format!("lru {cap}"),
            config: Some(config(PolicyKind::Lru, None, Some(capacity as u64), None)),
        },
        Contender {
            label: format!("tinylfu {cap}"),
            config: Some(config(
                PolicyKind::TinyLfu,
                None,
                Some(capacity as u64),
                None,
            )),
        },
        Contender {
            label: format!("s3fifo {cap}"),
            config: Some(config(
                PolicyKind::S3Fifo,
                None,
                Some(capacity as u64),
                None,
            )),
        },
        Contender {
            label: format!("sieve {cap}"),
            config: Some(config(PolicyKind::Sieve, None, Some(capacity as u64), None)),
        },
        Contender {
            label: format!("hybrid 1h + {cap}"),
            config: Some(config(
                PolicyKind::Hybrid,
                ttl,
                Some(capacity as u64),
                sweep,
            )),
        },
    ]
}

/// One contender's results.
#[derive(Debug, Clone)]
pub struct ScenarioRow {
    /// Which cache.
    pub contender: Contender,
    /// What the replay measured.
    pub stats: RunStats,
}

/// The results of the built-in scenario.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// The requests that were replayed.
    pub traffic: Traffic,
    /// The options it ran with.
    pub options: ScenarioOptions,
    /// Requests replayed through each contender.
    pub requests: u64,
    /// Distinct API keys in the traffic.
    pub distinct_keys: usize,
    /// Simulated length.
    pub duration: Duration,
    /// One row per contender, in [`contenders`] order.
    pub rows: Vec<ScenarioRow>,
    /// Keys looked up at most [`RareKeys::MAX_LOOKUPS`] times.
    pub rare_keys: RareKeys,
}

/// Keys that hardly come back: what decides between recency and frequency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RareKeys {
    /// Distinct keys looked up at most [`MAX_LOOKUPS`](Self::MAX_LOOKUPS) times.
    pub keys: u64,
    /// Requests for those keys.
    pub requests: u64,
}

impl RareKeys {
    /// The most lookups a key may have and still count as rare: a burst key
    /// is used 1 to 3 times.
    pub const MAX_LOOKUPS: u32 = 3;

    /// Counts the rare keys of `requests`.
    pub fn count(requests: &[Access]) -> Self {
        let mut lookups: HashMap<u64, u32, FixedState> = HashMap::default();
        for access in requests {
            *lookups.entry(access.key).or_default() += 1;
        }
        let rare = lookups.values().filter(|&&n| n <= Self::MAX_LOOKUPS);
        RareKeys {
            keys: rare.clone().count() as u64,
            requests: rare.map(|&n| u64::from(n)).sum(),
        }
    }
}

/// Generates the traffic and replays it through every contender.
/// `progress(done, total)` is called now and then with requests replayed so far.
///
/// ```
/// use tenure_sim::{ScenarioOptions, run_scenario};
///
/// let report = run_scenario(&ScenarioOptions { seed: 1, scale: 0.01 }, |_, _| {})?;
/// let leak = &report.rows[0].stats;
/// assert_eq!(leak.final_len, report.distinct_keys); // the map forgets nothing
/// assert!(report.rows[1..].iter().all(|row| row.stats.final_len < leak.final_len));
/// # Ok::<(), tenure::ConfigError>(())
/// ```
///
/// # Errors
/// A [`ConfigError`] if a contender's configuration is invalid (only possible
/// at an absurd `scale`).
pub fn run_scenario(
    options: &ScenarioOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<ScenarioReport, ConfigError> {
    let traffic = generate_traffic(options);
    let per_run = traffic.requests.len() as u64;
    let contenders = contenders(options.scale);
    let total = per_run * contenders.len() as u64;
    let run_options = RunOptions {
        sweep_interval: None,
        sample_every: Some(SAMPLE_EVERY),
        end: Some(Timestamp::ZERO + traffic.duration),
        ..RunOptions::default()
    };
    let mut rows = Vec::with_capacity(contenders.len());
    for (i, contender) in contenders.into_iter().enumerate() {
        let mut model: Box<dyn Model> = match &contender.config {
            None => Box::new(UnboundedMap::default()),
            Some(config) => Box::new(TenureModel::new(config)?),
        };
        let run_options = RunOptions {
            sweep_interval: contender
                .config
                .as_ref()
                .and_then(|config| config.sweep_interval),
            ..run_options
        };
        let requests = traffic.requests.chunks(PROGRESS_EVERY).map(Ok);
        let done_before = i as u64 * per_run;
        let stats = run(&mut *model, requests, &run_options, |done| {
            progress(done_before + done, total)
        })
        .unwrap_or_else(|never: std::convert::Infallible| match never {});
        rows.push(ScenarioRow { contender, stats });
    }
    let duration = traffic.duration;
    let rare_keys = RareKeys::count(&traffic.requests);
    Ok(ScenarioReport {
        traffic,
        options: *options,
        requests: per_run,
        distinct_keys: rows[0].stats.final_len,
        duration,
        rows,
        rare_keys,
    })
}

impl ScenarioReport {
    /// The side-by-side table, with a header line and notes.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Built-in scenario: {} h of multi-tenant traffic, {} requests, {} distinct API keys (seed {}, scale {}).",
            self.duration.as_secs() / 3600,
            group_digits(self.requests),
            group_digits(self.distinct_keys as u64),
            self.options.seed,
            self.options.scale
        );
        let _ = writeln!(out);
        let header = [
            "cache",
            "requests",
            "hit ratio",
            "creations",
            "peak live",
            "final live",
            "mem, private HTTP",
            "mem, shared HTTP",
        ];
        let mut lines = vec![header.map(String::from).to_vec()];
        for row in &self.rows {
            let s = &row.stats;
            lines.push(vec![
                row.contender.label.clone(),
                group_digits(s.accesses),
                format!("{:.2} %", s.hit_ratio_percent()),
                group_digits(s.creations()),
                group_digits(s.peak_len as u64),
                group_digits(s.final_len as u64),
                format_bytes(private_stack_bytes(s.peak_len)),
                format_bytes(shared_stack_bytes(s.peak_len)),
            ]);
        }
        out.push_str(&aligned(&lines));
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "live = entries held (expired ones count until a sweep reclaims them; sweeps every 5 min for the TTL policies).\n\
             mem = estimated at peak live: ~104 KB per client when each builds its own HTTP stack (Client::with_config),\n\
             ~66 B per client + one shared ~104 KB HTTP stack when they share one reqwest::Client (measured; see docs/design.md)."
        );
        if let Some(verdict) = verdict(
            &self.rows,
            self.distinct_keys as u64,
            self.requests,
            self.rare_keys,
        ) {
            let _ = writeln!(out, "\n{}", wrap(&verdict, 110, "", ""));
        }
        out
    }

    /// The chart of live entries over time, one line per contender.
    pub fn chart_svg(&self) -> String {
        let series: Vec<Series<'_>> = self
            .rows
            .iter()
            .map(|row| Series {
                label: &row.contender.label,
                samples: &row.stats.samples,
            })
            .collect();
        live_entries_svg(
            "Live entries over time",
            &series,
            Timestamp::ZERO + self.duration,
        )
    }
}

/// Which bounded cache the scenario favours, and why, from the rows' own
/// numbers: the most hits among the caches with a capacity (the first in
/// table order on a tie), set against LRU and the runner-up, and explained by
/// how many keys hardly come back (`rare` of `keys` keys, of `requests`).
/// `None` if no row is bounded.
fn verdict(rows: &[ScenarioRow], keys: u64, requests: u64, rare: RareKeys) -> Option<String> {
    let bounded: Vec<(&ScenarioRow, &CacheConfig)> = rows
        .iter()
        .filter_map(|row| Some((row, row.contender.config.as_ref()?)))
        .filter(|(_, config)| config.max_capacity.is_some())
        .collect();
    let (best, best_config) = *bounded.iter().rev().max_by_key(|(row, _)| row.stats.hits)?;
    let name = best_config.policy;
    let capacity = best_config.max_capacity.unwrap_or_default();
    let ratio = |row: &ScenarioRow| format!("{:.2} %", row.stats.hit_ratio_percent());
    let mut text = format!(
        "Of the caches bounded at {} entries, {name} had the most hits: {}",
        group_digits(capacity),
        ratio(best)
    );
    let lru = bounded.iter().find(|(_, c)| c.policy == PolicyKind::Lru);
    if let Some((lru, _)) = lru.filter(|_| name != PolicyKind::Lru) {
        let _ = write!(
            text,
            ", {} fewer creations than lru ({} against {})",
            group_digits(best.stats.hits - lru.stats.hits),
            group_digits(best.stats.creations()),
            group_digits(lru.stats.creations())
        );
    }
    let runner_up = bounded
        .iter()
        .filter(|(row, _)| !std::ptr::eq(*row, best))
        .max_by_key(|(row, _)| row.stats.hits);
    if let Some((row, config)) = runner_up {
        let _ = write!(text, "; next, {} at {}", config.policy, ratio(row));
    }
    let _ = write!(
        text,
        ". Why: {} of the {} keys ({:.0} %) were looked up {} times or fewer ({:.1} % of requests)",
        group_digits(rare.keys),
        group_digits(keys),
        100.0 * rare.keys as f64 / keys.max(1) as f64,
        RareKeys::MAX_LOOKUPS,
        100.0 * rare.requests as f64 / requests.max(1) as f64
    );
    let newcomers = match name {
        PolicyKind::TinyLfu => Some(
            "tinylfu admits a new key only if it has been seen more often than the entry it would evict",
        ),
        PolicyKind::S3Fifo => Some(
            "s3fifo holds a new key in a small probation queue and evicts it from there unless it is read again",
        ),
        PolicyKind::Sieve => Some(
            "sieve evicts the oldest entry not read since its hand last passed, so a key read once goes before one read again",
        ),
        _ => None,
    };
    match newcomers {
        Some(how) => {
            let _ = write!(
                text,
                ", and {how}: such keys cost a creation under every policy, but under {name} they do not also push out keys that come back."
            );
        }
        None => {
            let others: Vec<String> = bounded
                .iter()
                .filter(|(_, c)| {
                    matches!(
                        c.policy,
                        PolicyKind::TinyLfu | PolicyKind::S3Fifo | PolicyKind::Sieve
                    )
                })
                .map(|(row, c)| format!("{} {}", c.policy, ratio(row)))
                .collect();
            let _ = write!(
                text,
                ", yet the policies that hold new keys back ({}) lost more hits on keys that come back than they saved on those: here recency predicts the next lookup better than frequency.",
                others.join(", ")
            );
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_has_the_advertised_shape() {
        let traffic = generate_traffic(&ScenarioOptions {
            seed: 3,
            scale: 0.05,
        });
        let n = traffic.requests.len() as f64;
        let expected_steady = REQUESTS_PER_MINUTE * 0.05 * (HOURS * 60) as f64;
        assert!(n > expected_steady && n < expected_steady * 1.2, "{n}");
        let hot = traffic
            .requests
            .iter()
            .filter(|a| a.key >> 8 < HOT_TENANTS)
            .count() as f64;
        assert!((0.3..0.4).contains(&(hot / n)), "hot share {}", hot / n);
        // A rotating hot tenant (19) shows up under three keys over two days.
        let mut tenant_19: Vec<u64> = traffic
            .requests
            .iter()
            .filter(|a| a.key >> 8 == 19)
            .map(|a| a.key)
            .collect();
        tenant_19.dedup();
        assert_eq!(tenant_19.len(), 3, "{tenant_19:?}");
        let burst_keys = traffic
            .requests
            .iter()
            .filter(|a| a.key & BURST_KEY_BASE != 0)
            .count();
        assert!(burst_keys >= 1600, "{burst_keys}");
    }

    fn row(policy: Option<PolicyKind>, hits: u64) -> ScenarioRow {
        let config = policy.map(|policy| CacheConfig {
            policy,
            max_capacity: (policy != PolicyKind::SlidingTtl).then_some(100),
            time_to_idle: None,
            time_to_live: None,
            sweep_interval: None,
        });
        ScenarioRow {
            contender: Contender {
                label: String::new(),
                config,
            },
            stats: RunStats {
                accesses: 1_000,
                hits,
                ..RunStats::default()
            },
        }
    }

    #[test]
    fn the_verdict_follows_the_numbers() {
        let rare = RareKeys {
            keys: 30,
            requests: 60,
        };
        let rows = |lru, tinylfu, sieve| {
            vec![
                row(None, 990),
                row(Some(PolicyKind::SlidingTtl), 980),
                row(Some(PolicyKind::Lru), lru),
                row(Some(PolicyKind::TinyLfu), tinylfu),
                row(Some(PolicyKind::Sieve), sieve),
            ]
        };
        // The leak and sliding-ttl hit more, but they are not bounded.
        let text = verdict(&rows(700, 750, 720), 100, 1_000, rare).unwrap();
        assert!(
            text.starts_with("Of the caches bounded at 100 entries, tinylfu had the most hits: 75.00 %, 50 fewer creations than lru (250 against 300); next, sieve at 72.00 %."),
            "{text}"
        );
        assert!(
            text.contains(
                "30 of the 100 keys (30 %) were looked up 3 times or fewer (6.0 % of requests)"
            ),
            "{text}"
        );
        assert!(text.contains("tinylfu admits a new key only if"), "{text}");
        let text = verdict(&rows(760, 750, 720), 100, 1_000, rare).unwrap();
        assert!(
            text.contains("lru had the most hits: 76.00 %; next, tinylfu at 75.00 %."),
            "{text}"
        );
        assert!(text.contains("(tinylfu 75.00 %, sieve 72.00 %)"), "{text}");
        assert!(
            text.contains("recency predicts the next lookup better"),
            "{text}"
        );
        // A tie goes to the first in table order.
        let text = verdict(&rows(720, 700, 720), 100, 1_000, rare).unwrap();
        assert!(text.contains("lru had the most hits"), "{text}");
        assert_eq!(verdict(&rows(1, 2, 3)[..2], 100, 1_000, rare), None);
    }

    #[test]
    fn different_seeds_differ() {
        let a = generate_traffic(&ScenarioOptions {
            seed: 1,
            scale: 0.01,
        });
        let b = generate_traffic(&ScenarioOptions {
            seed: 2,
            scale: 0.01,
        });
        assert_ne!(a.requests, b.requests);
    }
}
