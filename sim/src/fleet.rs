//! A fleet: N replicas of a service behind a load balancer, each holding its
//! own cache built from the same configuration, fed the requests the
//! balancer sends it.
//!
//! A replica's cache sees only its own requests, in order, so each replica
//! replays its share of the traffic on its own ([`run`], exactly as a
//! single-process replay does): one replica gives the single-process result
//! exactly. Replicas added by a resize start empty; replicas lost in one take
//! their entries with them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use foldhash::fast::FixedState;
use tenure::CacheConfig;
use tenure::policy::Timestamp;

use crate::error::SimError;
use crate::model::{Model, PolicyModel, TenureModel, nanos};
use crate::parallel::in_parallel;
use crate::progress::{Progress, ProgressUnit};
use crate::replay::Engine;
use crate::routing::{MAX_REPLICAS, Router, Routing};
use crate::run::{RunOptions, RunStats, Sample, run};
use crate::scenario::{SAMPLE_EVERY, ScenarioOptions, Traffic};
use crate::trace::Access;
use crate::units::clock;

pub(crate) const HOUR: Duration = Duration::from_secs(3600);
/// Samples a trace's chart takes over its whole span.
const TRACE_SAMPLES: u32 = 288;
/// Requests a replica replays between two progress reports.
const BATCH: usize = 4096;

/// A change in the number of replicas during a run (`--resize AT:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// When, counted from the start of the run.
    pub at: Duration,
    /// Replicas from then on (at least 1).
    pub replicas: usize,
}

impl Resize {
    /// Parses `AT:N`, `AT` a duration from the start of the run (`24h`,
    /// `90m`) and `N` the replicas from then on, between 1 and
    /// [`MAX_REPLICAS`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure_sim::Resize;
    ///
    /// let resize = Resize::parse("24h:9")?;
    /// assert_eq!(resize, Resize { at: Duration::from_secs(24 * 3600), replicas: 9 });
    /// assert!(Resize::parse("24h:0").unwrap_err().contains("at least 1"));
    /// # Ok::<(), String>(())
    /// ```
    ///
    /// # Errors
    /// What is wrong with `text`.
    pub fn parse(text: &str) -> Result<Resize, String> {
        let (at, replicas) = text.rsplit_once(':').ok_or_else(|| {
            format!(
                "expected AT:N, a time from the start and a replica count (24h:9), got {text:?}"
            )
        })?;
        let at = humantime::parse_duration(at.trim())
            .map_err(|e| format!("the time {at:?} is not a duration (24h, 90m): {e}"))?;
        let replicas: usize = replicas
            .trim()
            .parse()
            .map_err(|_| format!("the replica count {replicas:?} is not a whole number"))?;
        if replicas == 0 {
            return Err("a fleet cannot shrink to 0 replicas: give at least 1".into());
        }
        if replicas > MAX_REPLICAS {
            return Err(format!("at most {MAX_REPLICAS} replicas"));
        }
        Ok(Resize { at, replicas })
    }
}

/// The requests a fleet serves, and the span of the run.
#[derive(Debug, Clone)]
pub struct FleetTraffic<'a> {
    /// What the requests are, for the report's first line.
    pub source: String,
    /// Every request, in time order.
    pub requests: &'a [Access],
    /// When the run begins: resize times count from here.
    pub start: Timestamp,
    /// When it ends (for a trace, its last request).
    pub end: Timestamp,
    /// Whether sweeps and samples carry on to `end` after the last request,
    /// as the main job does for its 48 h; a trace's run ends with its last
    /// request, as `replay`'s does.
    pub carry_to_end: bool,
    /// How often the chart samples each replica's live entries.
    pub sample_every: Duration,
}

impl<'a> FleetTraffic<'a> {
    /// The built-in scenario's traffic, over its whole 48 h, sampled as the
    /// main job samples it.
    pub fn scenario(traffic: &'a Traffic, options: &ScenarioOptions) -> Self {
        FleetTraffic {
            source: format!(
                "built-in scenario (seed {}, scale {})",
                options.seed, options.scale
            ),
            requests: &traffic.requests,
            start: Timestamp::ZERO,
            end: Timestamp::ZERO + traffic.duration,
            carry_to_end: true,
            sample_every: SAMPLE_EVERY,
        }
    }

    /// A trace's requests, from its first request to its last.
    pub fn trace(path: &Path, requests: &'a [Access]) -> Self {
        let start = requests.first().map_or(Timestamp::ZERO, |a| a.time);
        let end = requests.last().map_or(start, |a| a.time);
        let span = end.as_nanos() - start.as_nanos();
        FleetTraffic {
            source: path.display().to_string(),
            requests,
            start,
            end,
            carry_to_end: false,
            sample_every: Duration::from_nanos((span / u64::from(TRACE_SAMPLES)).max(1)),
        }
    }

    /// The run's length.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.end.as_nanos() - self.start.as_nanos())
    }
}

/// How to run a fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Replicas at the start, 1 to [`MAX_REPLICAS`].
    pub replicas: usize,
    /// The routing schemes to compare: one fleet run each.
    pub routings: Vec<Routing>,
    /// Changes in the number of replicas, each strictly inside the run.
    pub resizes: Vec<Resize>,
    /// Seeds random routing.
    pub seed: u64,
    /// What each replica's cache is replayed through.
    pub engine: Engine,
    /// Fleet runs at once, at least 1.
    pub threads: usize,
}

/// One replica's cache over its life: from the start of the run (or the
/// resize that added it) to the end (or the resize that lost it).
#[derive(Debug, Clone)]
pub struct ReplicaRun {
    /// The replica's number, from 0. A replica lost and later added again
    /// gets the same number (the same place on the ring), and a new cache.
    pub replica: usize,
    /// When it joined.
    pub from: Timestamp,
    /// When it was lost, if it was.
    pub until: Option<Timestamp>,
    /// What its cache did.
    pub stats: RunStats,
}

/// What one resize did.
#[derive(Debug, Clone)]
pub struct ResizeOutcome {
    /// The resize.
    pub resize: Resize,
    /// Replicas before it.
    pub from_replicas: usize,
    /// Under consistent hashing, how many of the run's distinct keys have
    /// another home replica after it; `None` for random and round-robin
    /// routing, under which no key has a home.
    pub keys_remapped: Option<u64>,
    /// Keys looked up both before the resize and after it (before any later
    /// one).
    pub keys_returning: u64,
    /// Of those, the keys whose first request after the resize went to a
    /// replica other than the one their last request before it went to.
    pub keys_moved: u64,
    /// The end of the hour after the resize (earlier if the run ends first).
    pub window_end: Timestamp,
    /// Values the fleet created in that hour.
    pub creations_next_hour: u64,
    /// Values the fleet created in the same hour in a run without any resize.
    pub creations_next_hour_unresized: u64,
}

/// A fleet run under one routing scheme.
#[derive(Debug, Clone)]
pub struct RoutingReport {
    /// The scheme.
    pub routing: Routing,
    /// Every cache the fleet had, in order of creation.
    pub caches: Vec<ReplicaRun>,
    /// Replicas × hours they were up.
    pub replica_hours: f64,
    /// Requests for a key looked up before.
    pub repeat_requests: u64,
    /// Of those, requests that went to the replica the key's previous
    /// request went to.
    pub repeat_same_replica: u64,
    /// One per resize, in time order.
    pub resizes: Vec<ResizeOutcome>,
    /// Live entries of the whole fleet at each sampling instant.
    pub fleet_samples: Vec<Sample>,
}

impl RoutingReport {
    /// Requests the fleet served.
    pub fn accesses(&self) -> u64 {
        self.caches.iter().map(|c| c.stats.accesses).sum()
    }

    /// Requests that found their value in their replica's cache.
    pub fn hits(&self) -> u64 {
        self.caches.iter().map(|c| c.stats.hits).sum()
    }

    /// Values created across the fleet (every miss creates one).
    pub fn creations(&self) -> u64 {
        self.accesses() - self.hits()
    }

    /// Fleet-wide hits as a percentage of requests, two decimals.
    pub fn hit_ratio_percent(&self) -> f64 {
        crate::run::percent_two_decimals(self.hits(), self.accesses())
    }

    /// Creations per replica per hour of the run.
    pub fn creations_per_replica_hour(&self) -> f64 {
        self.creations() as f64 / self.replica_hours.max(f64::MIN_POSITIVE)
    }

    /// The caches alive at the end of the run.
    pub fn final_caches(&self) -> impl Iterator<Item = &ReplicaRun> {
        self.caches.iter().filter(|c| c.until.is_none())
    }
}

/// The result of [`run_fleet`].
#[derive(Debug, Clone)]
pub struct FleetReport {
    /// What was replayed.
    pub source: String,
    /// Requests in it.
    pub requests: u64,
    /// Distinct keys in it.
    pub distinct_keys: usize,
    /// The run's span.
    pub start: Timestamp,
    /// See [`start`](Self::start).
    pub end: Timestamp,
    /// Each replica's cache configuration.
    pub config: CacheConfig,
    /// The options it ran with.
    pub options: FleetOptions,
    /// One per routing scheme, in the order asked.
    pub routings: Vec<RoutingReport>,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

/// Which replica serves each request of `requests` under `routing`, starting
/// with `replicas` replicas and changing their number at each of `resizes`
/// (absolute times, ascending; a request at a resize's instant already sees
/// the new replicas).
///
/// ```
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Access, Routing, route_requests};
///
/// let requests: Vec<Access> = (0..6).map(|i| Access { time: Timestamp::from_nanos(i), key: 7 }).collect();
/// let turns = route_requests(&requests, Routing::RoundRobin, 2, &[(Timestamp::from_nanos(3), 3)], 1);
/// assert_eq!(turns, [0, 1, 0, 0, 1, 2]);
/// ```
pub fn route_requests(
    requests: &[Access],
    routing: Routing,
    replicas: usize,
    resizes: &[(Timestamp, usize)],
    seed: u64,
) -> Vec<u32> {
    let mut router = Router::new(routing, replicas, seed);
    let mut routed = Vec::with_capacity(requests.len());
    in_plan_order(requests, resizes, |event| match event {
        Event::Resize(_, n) => router.resize(n),
        Event::Request(access) => routed.push(router.route(access.key) as u32),
    });
    routed
}

/// What a balancer meets, in time order.
enum Event {
    /// The number of replicas changes at this instant.
    Resize(Timestamp, usize),
    /// A request.
    Request(Access),
}

/// Calls `event` for each request and each resize of `plan`, in time order:
/// a resize comes before the requests at its instant, and resizes after the
/// last request come last.
fn in_plan_order(requests: &[Access], plan: &[(Timestamp, usize)], mut event: impl FnMut(Event)) {
    let mut pending = plan.iter().copied().peekable();
    for &access in requests {
        while let Some((at, n)) = pending.next_if(|(at, _)| *at <= access.time) {
            event(Event::Resize(at, n));
        }
        event(Event::Request(access));
    }
    for (at, n) in pending {
        event(Event::Resize(at, n));
    }
}

/// Replays `traffic` through a fleet per routing scheme of `options`, each
/// replica's cache made from `config`. `quiet` hides the progress bar.
///
/// ```
/// use tenure::{CacheConfig, PolicyKind};
/// use tenure_sim::{Engine, FleetOptions, FleetTraffic, Routing, ScenarioOptions, generate_traffic, run_fleet};
///
/// let scenario = ScenarioOptions { seed: 1, scale: 0.01 };
/// let traffic = generate_traffic(&scenario);
/// let config = CacheConfig { policy: PolicyKind::Lru, max_capacity: Some(50), time_to_idle: None, time_to_live: None, sweep_interval: None };
/// let options = FleetOptions {
///     replicas: 4,
///     routings: vec![Routing::Random, Routing::Maglev],
///     resizes: Vec::new(),
///     seed: 1,
///     engine: Engine::Policy,
///     threads: 1,
/// };
/// let report = run_fleet(&FleetTraffic::scenario(&traffic, &scenario), &config, &options, true)?;
/// let (random, maglev) = (&report.routings[0], &report.routings[1]);
/// // Sending each key to one replica, the fleet creates fewer values.
/// assert!(maglev.creations() < random.creations());
/// # Ok::<(), tenure_sim::SimError>(())
/// ```
///
/// # Errors
/// [`SimError::Usage`] naming `--replicas`, `--routing` or `--resize` for a
/// fleet that cannot be run; [`SimError::Config`] if `config` cannot make a
/// cache.
pub fn run_fleet(
    traffic: &FleetTraffic<'_>,
    config: &CacheConfig,
    options: &FleetOptions,
    quiet: bool,
) -> Result<FleetReport, SimError> {
    let started = Instant::now();
    let plan = check(traffic, options)?;
    // Fails here, before any replay, if the config cannot make a cache.
    PolicyModel::new(config)?;
    let mut keys: Vec<u64> = traffic.requests.iter().map(|a| a.key).collect();
    keys.sort_unstable();
    keys.dedup();
    let windows: Vec<(Timestamp, Timestamp)> = plan
        .iter()
        .map(|&(at, _)| (at, (at + HOUR).min(traffic.end)))
        .collect();
    // Each routing as asked and, if it has resizes, once more without them:
    // the creations a resize costs are the difference.
    let mut jobs = Vec::new();
    for &routing in &options.routings {
        jobs.push(Job {
            traffic,
            config,
            options,
            routing,
            plan: &plan,
            windows: &windows,
            keys: &keys,
        });
        if !plan.is_empty() {
            jobs.push(Job {
                plan: &[],
                ..jobs[jobs.len() - 1]
            });
        }
    }
    let total = traffic.requests.len() as u64 * jobs.len() as u64;
    let progress = Mutex::new(Progress::new(total, ProgressUnit::Requests, quiet));
    let done = AtomicU64::new(0);
    let tick = |n: u64| {
        let done = done.fetch_add(n, Ordering::Relaxed) + n;
        if let Ok(mut progress) = progress.try_lock() {
            progress.set(done);
        }
    };
    let ran = in_parallel(&jobs, options.threads, |job| job.simulate(&tick));
    if let Ok(mut progress) = progress.lock() {
        progress.finish();
    }
    // Jobs come in routing order, each followed by its run without resizes
    // if there are any.
    let per_routing = if plan.is_empty() { 1 } else { 2 };
    let mut results = ran.into_iter();
    let mut routings = Vec::new();
    for &routing in &options.routings {
        let mut runs = results.by_ref().take(per_routing);
        let (Some(simulated), unresized) = (runs.next(), runs.next()) else {
            break;
        };
        let unresized = unresized.transpose()?;
        routings.push(simulated?.into_report(routing, traffic, options, unresized.as_ref()));
    }
    Ok(FleetReport {
        source: traffic.source.clone(),
        requests: traffic.requests.len() as u64,
        distinct_keys: keys.len(),
        start: traffic.start,
        end: traffic.end,
        config: config.clone(),
        options: options.clone(),
        routings,
        elapsed: started.elapsed(),
    })
}

/// Checks `options` against the run; the resizes as absolute times, ascending.
fn check(
    traffic: &FleetTraffic<'_>,
    options: &FleetOptions,
) -> Result<Vec<(Timestamp, usize)>, SimError> {
    let usage = |text: String| Err(SimError::Usage(text));
    if !(1..=MAX_REPLICAS).contains(&options.replicas) {
        return usage(format!(
            "--replicas: a fleet has 1 to {MAX_REPLICAS} replicas, not {}",
            options.replicas
        ));
    }
    if options.routings.is_empty() {
        return usage(format!(
            "--routing: give at least one of {}",
            Routing::ALL.map(|r| r.to_string()).join(", ")
        ));
    }
    let span = traffic.duration();
    let mut resizes = options.resizes.clone();
    resizes.sort_by_key(|r| r.at);
    for (i, resize) in resizes.iter().enumerate() {
        let at = clock(resize.at);
        if resize.at.is_zero() || resize.at >= span {
            return usage(format!(
                "--resize {at}:{}: {at} is outside the run, which lasts {}: give a time after 0 and before its end",
                resize.replicas,
                clock(span)
            ));
        }
        if !(1..=MAX_REPLICAS).contains(&resize.replicas) {
            return usage(format!(
                "--resize {at}:{}: a fleet has 1 to {MAX_REPLICAS} replicas",
                resize.replicas
            ));
        }
        if i > 0 && resizes[i - 1].at == resize.at {
            return usage(format!("--resize: two resizes at {at}"));
        }
    }
    Ok(resizes
        .iter()
        .map(|r| (traffic.start + r.at, r.replicas))
        .collect())
}

/// One fleet run: a routing scheme and a plan of resizes.
#[derive(Clone, Copy)]
struct Job<'a> {
    traffic: &'a FleetTraffic<'a>,
    config: &'a CacheConfig,
    options: &'a FleetOptions,
    routing: Routing,
    /// Resizes, absolute and ascending.
    plan: &'a [(Timestamp, usize)],
    /// The hour after each resize of the full plan (also in the run without
    /// them, to compare).
    windows: &'a [(Timestamp, Timestamp)],
    /// The run's distinct keys, for counting the keys a resize remaps.
    keys: &'a [u64],
}

/// What a [`Job`] measured.
struct Simulated {
    caches: Vec<ReplicaRun>,
    /// Creations in each of the job's windows.
    window_creations: Vec<u64>,
    routed: Routed,
}

/// What the balancer did, before any cache ran.
struct Routed {
    replica_hours: f64,
    repeat_requests: u64,
    repeat_same_replica: u64,
    resizes: Vec<ResizeRouting>,
}

/// A resize as the balancer saw it.
#[derive(Debug, Clone, Copy)]
struct ResizeRouting {
    from_replicas: usize,
    keys_remapped: Option<u64>,
    keys_returning: u64,
    keys_moved: u64,
}

/// A cache and the requests it is sent.
struct CacheShare {
    replica: usize,
    from: Timestamp,
    until: Option<Timestamp>,
    requests: Vec<Access>,
}

/// The balancer's pass over the requests: who serves what, and how keys move.
struct RoutingPass<'a> {
    router: Router,
    keys: &'a [u64],
    shares: Vec<CacheShare>,
    /// `shares[current[r]]` is replica `r`'s cache now.
    current: Vec<usize>,
    /// Each key's last replica, and the number of resizes before that request.
    last: HashMap<u64, (u32, u32), FixedState>,
    resizes: Vec<ResizeRouting>,
    repeat_requests: u64,
    repeat_same_replica: u64,
}

impl RoutingPass<'_> {
    fn resize(&mut self, at: Timestamp, replicas: usize) {
        let before = self.router.replicas();
        let homes: Vec<Option<usize>> = if self.router.home(0).is_some() {
            self.keys.iter().map(|&k| self.router.home(k)).collect()
        } else {
            Vec::new()
        };
        self.router.resize(replicas);
        let keys_remapped = (!homes.is_empty()).then(|| {
            let keys = self.keys.iter().zip(&homes);
            keys.filter(|&(&k, &home)| self.router.home(k) != home)
                .count() as u64
        });
        for &lost in &self.current[replicas.min(before)..] {
            self.shares[lost].until = Some(at);
        }
        self.current.truncate(replicas);
        for replica in before..replicas {
            self.current.push(self.shares.len());
            self.shares.push(CacheShare {
                replica,
                from: at,
                until: None,
                requests: Vec::new(),
            });
        }
        self.resizes.push(ResizeRouting {
            from_replicas: before,
            keys_remapped,
            keys_returning: 0,
            keys_moved: 0,
        });
    }

    #[inline]
    fn route(&mut self, access: Access) {
        let replica = self.router.route(access.key);
        let epoch = self.resizes.len() as u32;
        if let Some((before, then)) = self.last.insert(access.key, (replica as u32, epoch)) {
            let same = before == replica as u32;
            self.repeat_requests += 1;
            self.repeat_same_replica += u64::from(same);
            if then < epoch {
                let resize = &mut self.resizes[epoch as usize - 1];
                resize.keys_returning += 1;
                resize.keys_moved += u64::from(!same);
            }
        }
        self.shares[self.current[replica]].requests.push(access);
    }
}

impl Job<'_> {
    /// The balancer's pass: every cache's share of the requests, and what
    /// the routing did.
    fn route(&self) -> (Vec<CacheShare>, Routed) {
        let traffic = self.traffic;
        let replicas = self.options.replicas;
        let mut pass = RoutingPass {
            router: Router::new(self.routing, replicas, self.options.seed),
            keys: self.keys,
            shares: (0..replicas)
                .map(|replica| CacheShare {
                    replica,
                    from: traffic.start,
                    until: None,
                    requests: Vec::with_capacity(traffic.requests.len() / replicas),
                })
                .collect(),
            current: (0..replicas).collect(),
            last: HashMap::default(),
            resizes: Vec::new(),
            repeat_requests: 0,
            repeat_same_replica: 0,
        };
        in_plan_order(traffic.requests, self.plan, |event| match event {
            Event::Resize(at, n) => pass.resize(at, n),
            Event::Request(access) => pass.route(access),
        });
        let hours = |share: &CacheShare| {
            let until = share.until.unwrap_or(traffic.end);
            (until.as_nanos() - share.from.as_nanos()) as f64 / nanos(HOUR) as f64
        };
        let routed = Routed {
            replica_hours: pass.shares.iter().map(hours).sum(),
            repeat_requests: pass.repeat_requests,
            repeat_same_replica: pass.repeat_same_replica,
            resizes: pass.resizes,
        };
        (pass.shares, routed)
    }

    /// Routes every request, then replays each cache's share.
    fn simulate(&self, tick: &(impl Fn(u64) + Sync)) -> Result<Simulated, SimError> {
        let traffic = self.traffic;
        let (shares, routed) = self.route();
        let mut window_creations = vec![0; self.windows.len()];
        let mut caches = Vec::with_capacity(shares.len());
        for share in shares {
            let end = share.until.or(traffic.carry_to_end.then_some(traffic.end));
            let options = RunOptions {
                sweep_interval: self.config.sweep_interval,
                sample_every: Some(traffic.sample_every),
                end,
                samples_from: traffic.start,
            };
            let replay = Replay {
                requests: &share.requests,
                options: &options,
                windows: self.windows,
                tick,
            };
            let (stats, creations) = match self.options.engine {
                Engine::Policy => replay.through(PolicyModel::new(self.config)?),
                Engine::Cache => replay.through(TenureModel::new(self.config)?),
            };
            for (total, n) in window_creations.iter_mut().zip(creations) {
                *total += n;
            }
            caches.push(ReplicaRun {
                replica: share.replica,
                from: share.from,
                until: share.until,
                stats,
            });
        }
        Ok(Simulated {
            caches,
            window_creations,
            routed,
        })
    }
}

/// One cache's replay of its share.
struct Replay<'a, T> {
    requests: &'a [Access],
    options: &'a RunOptions,
    windows: &'a [(Timestamp, Timestamp)],
    tick: &'a T,
}

impl<T: Fn(u64)> Replay<'_, T> {
    /// The run's stats, and the creations in each window.
    fn through<M: Model>(&self, model: M) -> (RunStats, Vec<u64>) {
        let mut counted = WindowedMisses {
            model,
            now: Timestamp::ZERO,
            windows: self.windows,
            misses: vec![0; self.windows.len()],
        };
        let mut reported = 0;
        let batches = self.requests.chunks(BATCH).map(Ok::<_, Infallible>);
        let Ok(stats) = run(&mut counted, batches, self.options, |done| {
            (self.tick)(done - reported);
            reported = done;
        });
        (stats, counted.misses)
    }
}

/// A model that also counts the misses (creations) that fall in each window.
struct WindowedMisses<'a, M> {
    model: M,
    /// The time of the lookup about to be made ([`run`] moves the clock to
    /// each lookup's time just before it).
    now: Timestamp,
    windows: &'a [(Timestamp, Timestamp)],
    misses: Vec<u64>,
}

impl<M: Model> Model for WindowedMisses<'_, M> {
    fn advance_to(&mut self, now: Timestamp) {
        self.now = now;
        self.model.advance_to(now);
    }

    #[inline]
    fn access(&mut self, key: u64) -> bool {
        let hit = self.model.access(key);
        if !hit {
            for (misses, (from, to)) in self.misses.iter_mut().zip(self.windows) {
                *misses += u64::from(*from <= self.now && self.now < *to);
            }
        }
        hit
    }

    fn len(&self) -> usize {
        self.model.len()
    }

    fn sweep(&mut self) {
        self.model.sweep();
    }

    fn expired(&self) -> u64 {
        self.model.expired()
    }

    fn capacity_evicted(&self) -> u64 {
        self.model.capacity_evicted()
    }
}

impl Simulated {
    fn into_report(
        self,
        routing: Routing,
        traffic: &FleetTraffic<'_>,
        options: &FleetOptions,
        unresized: Option<&Simulated>,
    ) -> RoutingReport {
        let mut plan = options.resizes.clone();
        plan.sort_by_key(|r| r.at);
        let resizes = plan
            .into_iter()
            .zip(&self.routed.resizes)
            .enumerate()
            .map(|(i, (resize, routed))| ResizeOutcome {
                resize,
                from_replicas: routed.from_replicas,
                keys_remapped: routed.keys_remapped,
                keys_returning: routed.keys_returning,
                keys_moved: routed.keys_moved,
                window_end: (traffic.start + resize.at + HOUR).min(traffic.end),
                creations_next_hour: self.window_creations[i],
                creations_next_hour_unresized: unresized.map_or(0, |u| u.window_creations[i]),
            })
            .collect();
        let fleet_samples = fleet_samples(&self.caches, traffic);
        RoutingReport {
            routing,
            caches: self.caches,
            replica_hours: self.routed.replica_hours,
            repeat_requests: self.routed.repeat_requests,
            repeat_same_replica: self.routed.repeat_same_replica,
            resizes,
            fleet_samples,
        }
    }
}

/// Whether `cache` was up at `time`.
pub(crate) fn alive_at(cache: &ReplicaRun, time: Timestamp) -> bool {
    cache.from <= time && cache.until.is_none_or(|until| time < until)
}

/// Live entries of the whole fleet at each sampling instant: the sum over
/// the caches up then. Every cache samples at the same instants, from the
/// start of the run.
fn fleet_samples(caches: &[ReplicaRun], traffic: &FleetTraffic<'_>) -> Vec<Sample> {
    let count = caches
        .iter()
        .map(|c| c.stats.samples.len())
        .max()
        .unwrap_or(0);
    (0..count)
        .filter_map(|k| {
            let time = caches.iter().find_map(|c| c.stats.samples.get(k))?.time;
            let len = caches
                .iter()
                .filter(|c| alive_at(c, time))
                .filter_map(|c| c.stats.samples.get(k))
                .map(|s| s.len)
                .sum();
            Some(Sample { time, len })
        })
        .filter(|s| s.time <= traffic.end)
        .collect()
}
