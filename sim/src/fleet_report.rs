//! How a fleet run is shown: a table per routing scheme, the resizes, a
//! comparison, one JSON object, and a chart of live entries per replica.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::value::RawValue;
use tenure::CacheConfig;
use tenure::policy::Timestamp;

use crate::chart::{Series, live_entries_svg};
use crate::fleet::{FleetReport, HOUR, ReplicaRun, ResizeOutcome, RoutingReport, alive_at};
use crate::memory::{private_stack_bytes, shared_stack_bytes};
use crate::model::nanos;
use crate::replay::{Engine, describe, two_decimals};
use crate::routing::Routing;
use crate::run::Sample;
use crate::units::{aligned, clock, format_bytes, group_digits, wrap};

/// Beyond this many replicas, a chart shows their minimum, mean and maximum
/// rather than one line each.
const LINES_PER_CHART: usize = 10;

/// The max and the mean of some numbers (0 and 0 for none).
fn max_mean(values: impl Iterator<Item = u64>) -> (u64, f64) {
    let (mut max, mut sum, mut n) = (0, 0u64, 0u64);
    for v in values {
        max = max.max(v);
        sum += v;
        n += 1;
    }
    (max, sum as f64 / n.max(1) as f64)
}

/// The engine as `--engine` names it.
fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Policy => "policy",
        Engine::Cache => "cache",
    }
}

/// `part` of `whole` as a percentage with one decimal.
fn share(part: u64, whole: u64) -> String {
    format!("{:.1} %", 100.0 * part as f64 / whole.max(1) as f64)
}

impl FleetReport {
    /// The run's length.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.end.as_nanos() - self.start.as_nanos())
    }

    /// The text report: a header, one table per routing scheme, what each
    /// resize did, and how the schemes compare.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Fleet: {}, {}, {} requests, {} distinct keys.",
            self.source,
            clock(self.duration()),
            group_digits(self.requests),
            group_digits(self.distinct_keys as u64)
        );
        let _ = writeln!(
            out,
            "{} replicas, each with its own cache: {} (engine: {}).",
            self.options.replicas,
            describe(&self.config),
            engine_name(self.options.engine)
        );
        for routing in &self.routings {
            let _ = writeln!(out);
            out.push_str(&self.routing_table(routing));
        }
        let _ = writeln!(out);
        out.push_str(&self.comparison());
        let _ = writeln!(
            out,
            "\nfleet peak live = the most entries the replicas held together at one sampling instant (every {});\n\
             per replica: each cache's own peak (a replica lost or added in a resize counts as one more cache).\n\
             mem = estimated at each replica's peak, as the main job does: ~104 KB per client when each builds its own\n\
             HTTP stack; ~66 B per client + one ~104 KB HTTP stack per replica when they share one reqwest::Client.",
            clock(sample_every_rounded(&self.routings))
        );
        out
    }

    fn routing_table(&self, report: &RoutingReport) -> String {
        let caches = &report.caches;
        let stat = |f: &dyn Fn(&ReplicaRun) -> u64| max_mean(caches.iter().map(f));
        let finals = || report.final_caches();
        let cells = |fleet: String, (max, mean): (u64, f64)| {
            vec![fleet, group_digits(max), group_digits(mean.round() as u64)]
        };
        let bytes = |(max, mean): (u64, f64)| {
            vec![
                String::new(),
                format_bytes(max),
                format_bytes(mean.round() as u64),
            ]
        };
        let peak = |c: &ReplicaRun| c.stats.peak_len as u64;
        let fleet_peak = report
            .fleet_samples
            .iter()
            .map(|s| s.len)
            .max()
            .unwrap_or(0);
        let rows: Vec<(&str, Vec<String>)> = vec![
            (
                "requests",
                cells(group_digits(report.accesses()), stat(&|c| c.stats.accesses)),
            ),
            (
                "hit ratio",
                vec![format!("{:.2} %", report.hit_ratio_percent())],
            ),
            (
                "creations",
                cells(
                    group_digits(report.creations()),
                    stat(&|c| c.stats.creations()),
                ),
            ),
            (
                "creations per replica-hour",
                vec![group_digits(
                    report.creations_per_replica_hour().round() as u64
                )],
            ),
            (
                "repeat requests to the key's last replica",
                vec![share(report.repeat_same_replica, report.repeat_requests)],
            ),
            (
                "peak live",
                cells(group_digits(fleet_peak as u64), stat(&peak)),
            ),
            (
                "final live",
                cells(
                    group_digits(finals().map(|c| c.stats.final_len as u64).sum()),
                    max_mean(finals().map(|c| c.stats.final_len as u64)),
                ),
            ),
            (
                "mem at peak, private HTTP",
                bytes(stat(&|c| private_stack_bytes(c.stats.peak_len))),
            ),
            (
                "mem at peak, shared HTTP",
                bytes(stat(&|c| shared_stack_bytes(c.stats.peak_len))),
            ),
        ];
        let header = ["fleet", "max per replica", "mean per replica"];
        let mut lines = vec![
            [String::new()]
                .into_iter()
                .chain(header.map(String::from))
                .collect::<Vec<_>>(),
        ];
        for (name, cells) in rows {
            let mut line = vec![format!("  {name}")];
            line.extend(cells);
            lines.push(line);
        }
        let mut out = format!("{}: {}\n", report.routing, report.routing.description());
        out.push_str(&aligned(&lines));
        for resize in &report.resizes {
            out.push_str(&self.resize_text(report.routing, resize));
        }
        out
    }

    fn resize_text(&self, routing: Routing, r: &ResizeOutcome) -> String {
        let mut text = format!(
            "At {}, {} -> {} replicas: ",
            clock(r.resize.at),
            r.from_replicas,
            r.resize.replicas
        );
        match r.keys_remapped {
            Some(remapped) => {
                let (a, b) = (r.from_replicas, r.resize.replicas);
                let least = a.abs_diff(b) as f64 / a.max(b) as f64;
                let _ = write!(
                    text,
                    "{} of the {} keys ({}) got a new home replica (the least possible: {}/{} = {:.1} %); ",
                    group_digits(remapped),
                    group_digits(self.distinct_keys as u64),
                    share(remapped, self.distinct_keys as u64),
                    a.abs_diff(b),
                    a.max(b),
                    100.0 * least
                );
            }
            None => {
                let _ = write!(text, "under {routing} routing no key has a home replica; ");
            }
        }
        let _ = write!(
            text,
            "of the {} keys looked up before and after, {} ({}) went to another replica than the last time.",
            group_digits(r.keys_returning),
            group_digits(r.keys_moved),
            share(r.keys_moved, r.keys_returning)
        );
        let hour =
            Duration::from_nanos(r.window_end.as_nanos() - (self.start + r.resize.at).as_nanos());
        let extra = r.creations_next_hour as i64 - r.creations_next_hour_unresized as i64;
        let _ = write!(
            text,
            " Creations in the next {}: {} ({} without the resize, {}{}).",
            if hour == HOUR {
                "hour".to_string()
            } else {
                format!("{} (the run ends)", clock(hour))
            },
            group_digits(r.creations_next_hour),
            group_digits(r.creations_next_hour_unresized),
            if extra < 0 { "-" } else { "+" },
            group_digits(extra.unsigned_abs())
        );
        format!("{}\n", wrap(&text, 110, "  ", "    "))
    }

    /// Creations of every scheme against random routing's (if it ran).
    fn comparison(&self) -> String {
        let Some(random) = self.routings.iter().find(|r| r.routing == Routing::Random) else {
            return String::new();
        };
        let others: Vec<String> = self
            .routings
            .iter()
            .filter(|r| r.routing != Routing::Random)
            .map(|r| {
                format!(
                    "{} {} ({:.2}×)",
                    r.routing,
                    group_digits(r.creations()),
                    r.creations() as f64 / random.creations().max(1) as f64
                )
            })
            .collect();
        if others.is_empty() {
            return String::new();
        }
        format!(
            "Creations against random routing's {}: {}.\n",
            group_digits(random.creations()),
            others.join(", ")
        )
    }

    /// The chart of live entries per replica over time under `report`'s
    /// routing: one line per replica number (a replica lost and added again
    /// continues its line), or, for more than ten replicas, the minimum,
    /// mean and maximum over the replicas up at each instant.
    pub fn chart_svg(&self, report: &RoutingReport) -> String {
        let shift = |s: &Sample| Sample {
            time: Timestamp::from_nanos(s.time.as_nanos() - self.start.as_nanos()),
            len: s.len,
        };
        let numbers = report
            .caches
            .iter()
            .map(|c| c.replica + 1)
            .max()
            .unwrap_or(0);
        let lines: Vec<(String, Vec<Sample>)> = if numbers <= LINES_PER_CHART {
            (0..numbers)
                .map(|replica| {
                    let samples = report
                        .caches
                        .iter()
                        .filter(|c| c.replica == replica)
                        .flat_map(|c| c.stats.samples.iter().filter(|s| alive_at(c, s.time)))
                        .map(shift)
                        .collect();
                    (format!("replica {replica}"), samples)
                })
                .collect()
        } else {
            let spread = |pick: fn(&[usize]) -> usize| {
                report
                    .fleet_samples
                    .iter()
                    .enumerate()
                    .map(|(k, fleet)| {
                        let lens: Vec<usize> = report
                            .caches
                            .iter()
                            .filter(|c| alive_at(c, fleet.time))
                            .filter_map(|c| c.stats.samples.get(k).map(|s| s.len))
                            .collect();
                        shift(&Sample {
                            time: fleet.time,
                            len: pick(&lens),
                        })
                    })
                    .collect()
            };
            vec![
                (
                    "max".into(),
                    spread(|l| l.iter().copied().max().unwrap_or(0)),
                ),
                (
                    "mean".into(),
                    spread(|l| l.iter().sum::<usize>() / l.len().max(1)),
                ),
                (
                    "min".into(),
                    spread(|l| l.iter().copied().min().unwrap_or(0)),
                ),
            ]
        };
        let series: Vec<Series<'_>> = lines
            .iter()
            .map(|(label, samples)| Series { label, samples })
            .collect();
        live_entries_svg(
            &format!("Live entries per replica: {} routing", report.routing),
            &series,
            Timestamp::from_nanos(self.duration().as_nanos() as u64),
        )
    }

    /// One JSON object (see the crate README, "Fleets"); `charts` are the
    /// chart files written, one per routing scheme, in order.
    pub fn to_json(&self, charts: &[PathBuf]) -> String {
        let ms = |t: Timestamp| (t.as_nanos() - self.start.as_nanos()) / 1_000_000;
        let routings = self
            .routings
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let caches = &r.caches;
                let finals: Vec<&ReplicaRun> = r.final_caches().collect();
                let spread = |values: &mut dyn Iterator<Item = u64>| {
                    let (max, mean) = max_mean(values);
                    Spread {
                        max,
                        mean: two_decimals(mean),
                    }
                };
                RoutingJson {
                    routing: r.routing.to_string(),
                    hit_ratio: two_decimals(r.hit_ratio_percent()),
                    hits: r.hits(),
                    accesses: r.accesses(),
                    creations: r.creations(),
                    creations_per_replica_hour: two_decimals(r.creations_per_replica_hour()),
                    replica_hours: two_decimals(r.replica_hours),
                    repeat_requests: r.repeat_requests,
                    repeat_same_replica: r.repeat_same_replica,
                    peak_live: LiveJson {
                        fleet: r
                            .fleet_samples
                            .iter()
                            .map(|s| s.len as u64)
                            .max()
                            .unwrap_or(0),
                        per_replica: spread(&mut caches.iter().map(|c| c.stats.peak_len as u64)),
                    },
                    final_live: LiveJson {
                        fleet: finals.iter().map(|c| c.stats.final_len as u64).sum(),
                        per_replica: spread(&mut finals.iter().map(|c| c.stats.final_len as u64)),
                    },
                    memory_per_replica: MemoryJson {
                        private_http_bytes: spread(
                            &mut caches.iter().map(|c| private_stack_bytes(c.stats.peak_len)),
                        ),
                        shared_http_bytes: spread(
                            &mut caches.iter().map(|c| shared_stack_bytes(c.stats.peak_len)),
                        ),
                    },
                    caches: caches
                        .iter()
                        .map(|c| CacheJson {
                            replica: c.replica,
                            from_ms: ms(c.from),
                            until_ms: c.until.map(ms),
                            accesses: c.stats.accesses,
                            hits: c.stats.hits,
                            creations: c.stats.creations(),
                            peak_live: c.stats.peak_len,
                            final_live: c.stats.final_len,
                            expirations: c.stats.expired,
                            capacity_evictions: c.stats.capacity_evicted,
                        })
                        .collect(),
                    resizes: r
                        .resizes
                        .iter()
                        .map(|o| ResizeJson {
                            at_ms: nanos(o.resize.at) / 1_000_000,
                            from_replicas: o.from_replicas,
                            to_replicas: o.resize.replicas,
                            keys_remapped: o.keys_remapped,
                            keys_returning: o.keys_returning,
                            keys_moved: o.keys_moved,
                            window_end_ms: ms(o.window_end),
                            creations_next_hour: o.creations_next_hour,
                            creations_next_hour_without_resize: o.creations_next_hour_unresized,
                        })
                        .collect(),
                    chart: charts.get(i).map(|p| p.display().to_string()),
                }
            })
            .collect();
        let json = FleetJson {
            source: &self.source,
            requests: self.requests,
            distinct_keys: self.distinct_keys,
            duration_ms: nanos(self.duration()) / 1_000_000,
            config: &self.config,
            engine: engine_name(self.options.engine),
            replicas: self.options.replicas,
            seed: self.options.seed,
            routings,
            elapsed_ms: u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        };
        serde_json::to_string(&json).unwrap_or_default()
    }
}

/// The sampling interval, read off the samples (they are evenly spaced).
fn sample_every_rounded(routings: &[RoutingReport]) -> Duration {
    let samples = routings.first().map_or(&[][..], |r| &r.fleet_samples[..]);
    match samples {
        [a, b, ..] => Duration::from_millis((b.time.as_nanos() - a.time.as_nanos()) / 1_000_000),
        _ => Duration::ZERO,
    }
}

#[derive(Serialize)]
struct FleetJson<'a> {
    source: &'a str,
    requests: u64,
    distinct_keys: usize,
    duration_ms: u64,
    config: &'a CacheConfig,
    engine: &'static str,
    replicas: usize,
    seed: u64,
    routings: Vec<RoutingJson>,
    elapsed_ms: u64,
}

#[derive(Serialize)]
struct RoutingJson {
    routing: String,
    hit_ratio: Box<RawValue>,
    hits: u64,
    accesses: u64,
    creations: u64,
    creations_per_replica_hour: Box<RawValue>,
    replica_hours: Box<RawValue>,
    repeat_requests: u64,
    repeat_same_replica: u64,
    peak_live: LiveJson,
    final_live: LiveJson,
    memory_per_replica: MemoryJson,
    caches: Vec<CacheJson>,
    resizes: Vec<ResizeJson>,
    chart: Option<String>,
}

#[derive(Serialize)]
struct Spread {
    max: u64,
    mean: Box<RawValue>,
}

#[derive(Serialize)]
struct LiveJson {
    fleet: u64,
    per_replica: Spread,
}

#[derive(Serialize)]
struct MemoryJson {
    private_http_bytes: Spread,
    shared_http_bytes: Spread,
}

#[derive(Serialize)]
struct CacheJson {
    replica: usize,
    from_ms: u64,
    until_ms: Option<u64>,
    accesses: u64,
    hits: u64,
    creations: u64,
    peak_live: usize,
    final_live: usize,
    expirations: u64,
    capacity_evictions: u64,
}

#[derive(Serialize)]
struct ResizeJson {
    at_ms: u64,
    from_replicas: usize,
    to_replicas: usize,
    keys_remapped: Option<u64>,
    keys_returning: u64,
    keys_moved: u64,
    window_end_ms: u64,
    creations_next_hour: u64,
    creations_next_hour_without_resize: u64,
}
