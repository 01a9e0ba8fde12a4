//! [`CacheBuilder`]: a cache's settings before it is built, and
//! [`EvictionPolicy`], which bounded policy a `max_capacity` uses.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use crate::clock::{Clock, CoarseClock};
use crate::engine::{Inner, Weigher};
use crate::expire::Expiry;
use crate::policy::{AnyPolicy, Policy};
use crate::removals::EvictionListener;
use crate::shard::Layout;
use crate::sweeper::check_interval;
use crate::sync::Arc;
use crate::{Cache, CacheConfig, ConfigError, DefaultHashBuilder, PolicyKind, RemovalCause};

/// Configures a [`Cache`] before it is built.
///
/// Say what bounds the cache, and [`build`](CacheBuilder::build) picks the
/// policy:
///
/// | knobs set | policy |
/// |---|---|
/// | [`max_capacity`](CacheBuilder::max_capacity) | the [`eviction_policy`](CacheBuilder::eviction_policy) (LRU unless changed) |
/// | [`time_to_idle`](CacheBuilder::time_to_idle) and/or [`time_to_live`](CacheBuilder::time_to_live) | [`SlidingTtl`](crate::policy::SlidingTtl) |
/// | `max_capacity` and a time | [`Hybrid`](crate::policy::Hybrid) (LRU with the time rules) |
/// | none of them | an error, [`ConfigError::Unbounded`]: such a cache grows without limit |
///
/// ```
/// use std::time::Duration;
/// use tenure::{Cache, ManualClock, RemovalCause};
///
/// let clock = ManualClock::new();
/// let cache: Cache<&str, u32> = Cache::builder()
///     .max_capacity(10_000)
///     .time_to_idle(Duration::from_secs(60))
///     .clock(clock.clone())
///     .eviction_listener(|key, value, cause| println!("{key} = {value} left: {cause:?}"))
///     .build()?;
/// cache.insert("a", 1);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(cache.get("a"), None); // idle for exactly time_to_idle: expired
/// # Ok::<(), tenure::ConfigError>(())
/// ```
///
/// A policy of your own goes in with [`policy`](CacheBuilder::policy), which
/// changes the builder's (and the cache's) policy type.
#[must_use]
pub struct CacheBuilder<K, V, P = AnyPolicy, S = DefaultHashBuilder> {
    policy: Chosen<P>,
    knobs: Knobs,
    hasher: S,
    clock: Option<Arc<dyn Clock>>,
    listener: Option<EvictionListener<K, V>>,
    weigher: Option<Weigher<K, V>>,
    per_entry: Option<Box<dyn Expiry<K, V>>>,
    shards: Option<usize>,
    sweep_interval: Option<Duration>,
    sweep_on_tokio: bool,
    #[cfg(feature = "metrics")]
    metrics_name: Option<crate::metrics::MetricsName>,
}

/// Where the built cache's policy comes from.
enum Chosen<P> {
    /// Made from the knobs at `build` (only for [`AnyPolicy`]).
    FromKnobs(fn(&Knobs) -> Result<P, ConfigError>),
    /// Given whole; the knobs must stay unset.
    Given(P),
}

/// The builder's policy knobs, as the user set them.
#[derive(Clone, Copy, Debug, Default)]
struct Knobs {
    /// The policy a config named; `None` lets `build` choose.
    kind: Option<PolicyKind>,
    eviction_policy: Option<EvictionPolicy>,
    max_capacity: Option<u64>,
    time_to_idle: Option<Duration>,
    time_to_live: Option<Duration>,
}

impl Knobs {
    /// The policy the knobs describe, checked as a [`CacheConfig`] is (one
    /// place turns numbers into policies).
    fn any_policy(&self) -> Result<AnyPolicy, ConfigError> {
        let timed = self.time_to_idle.is_some() || self.time_to_live.is_some();
        let policy = match (self.kind, self.max_capacity) {
            (Some(kind), _) => kind,
            (None, Some(_)) => self.eviction_policy.unwrap_or_default().kind(timed),
            (None, None) if timed => PolicyKind::SlidingTtl,
            (None, None) => return Err(ConfigError::Unbounded),
        };
        CacheConfig {
            policy,
            max_capacity: self.max_capacity,
            time_to_idle: self.time_to_idle,
            time_to_live: self.time_to_live,
            sweep_interval: None,
        }
        .to_policy()
    }

    /// The first knob that is set, which a given policy would ignore.
    fn first_set(&self) -> Option<&'static str> {
        [
            ("max_capacity", self.max_capacity.is_some()),
            ("time_to_idle", self.time_to_idle.is_some()),
            ("time_to_live", self.time_to_live.is_some()),
            ("eviction_policy", self.eviction_policy.is_some()),
        ]
        .into_iter()
        .find_map(|(name, set)| set.then_some(name))
    }
}

/// Which policy keeps a cache within its
/// [`max_capacity`](CacheBuilder::max_capacity). With a time knob as well, the
/// policy also enforces the time rules.
///
/// ```
/// use tenure::{Cache, EvictionPolicy};
///
/// let cache: Cache<u32, u32> = Cache::builder()
///     .max_capacity(2)
///     .eviction_policy(EvictionPolicy::lru())
///     .build()?;
/// for k in 0..3 {
///     cache.insert(k, k);
/// }
/// assert!(!cache.contains_key(&0)); // the least recently used went first
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvictionPolicy {
    /// The config's policy for a cache with this bound and no time rule.
    bound: PolicyKind,
}

impl EvictionPolicy {
    /// Least recently used: evicts the entry read or written longest ago. The
    /// default. With a time knob, [`Hybrid`](crate::policy::Hybrid).
    pub fn lru() -> Self {
        EvictionPolicy {
            bound: PolicyKind::Lru,
        }
    }

    /// S3-FIFO: a small probationary queue in front of a main one, with
    /// ghosts of recently evicted keys ([`S3Fifo`](crate::policy::S3Fifo)).
    /// Resists scans better than LRU.
    pub fn s3_fifo() -> Self {
        EvictionPolicy {
            bound: PolicyKind::S3Fifo,
        }
    }

    /// SIEVE: one FIFO queue and a visited bit per entry
    /// ([`Sieve`](crate::policy::Sieve)).
    pub fn sieve() -> Self {
        EvictionPolicy {
            bound: PolicyKind::Sieve,
        }
    }

    /// W-TinyLFU: a small LRU window in front of a segmented main space, with
    /// admission by a frequency sketch and a window sized by simulating a few sizes
    /// on a sample of the keys
    /// ([`TinyLfu`](crate::policy::TinyLfu)). Keeps frequently used entries
    /// through scans and loops.
    pub fn tiny_lfu() -> Self {
        EvictionPolicy {
            bound: PolicyKind::TinyLfu,
        }
    }

    // Each further bounded policy is one constructor here naming its
    // `PolicyKind`: `CacheConfig::to_policy` already turns that kind, with or
    // without time rules, into the policy.

    /// The config's policy for this bound, with time rules if `timed`.
    fn kind(self, timed: bool) -> PolicyKind {
        match self.bound {
            PolicyKind::Lru if timed => PolicyKind::Hybrid,
            kind => kind,
        }
    }
}

impl Default for EvictionPolicy {
    /// [`EvictionPolicy::lru`].
    fn default() -> Self {
        EvictionPolicy::lru()
    }
}

impl<K, V, P, S> fmt::Debug for CacheBuilder<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("max_capacity", &self.knobs.max_capacity)
            .field("time_to_idle", &self.knobs.time_to_idle)
            .field("time_to_live", &self.knobs.time_to_live)
            .field("shards", &self.shards)
            .field("sweep_interval", &self.sweep_interval)
            .finish_non_exhaustive()
    }
}

impl<K, V, P> CacheBuilder<K, V, P> {
    fn with_choice(policy: Chosen<P>, knobs: Knobs) -> Self {
        CacheBuilder {
            policy,
            knobs,
            hasher: DefaultHashBuilder::default(),
            clock: None,
            listener: None,
            weigher: None,
            per_entry: None,
            shards: None,
            sweep_interval: None,
            sweep_on_tokio: false,
            #[cfg(feature = "metrics")]
            metrics_name: None,
        }
    }

    /// A builder for a cache with `policy`, as [`Cache::new`] makes.
    pub(crate) fn given(policy: P) -> Self {
        Self::with_choice(Chosen::Given(policy), Knobs::default())
    }
}

impl<K, V> CacheBuilder<K, V, AnyPolicy> {
    /// A builder whose policy comes from its knobs ([`Cache::builder`]).
    pub(crate) fn new() -> Self {
        Self::with_choice(Chosen::FromKnobs(Knobs::any_policy), Knobs::default())
    }

    /// A builder with the policy and sweeper interval of `config`. Knobs set
    /// afterwards replace the config's numbers; the config's policy stays.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the offending field.
    pub fn from_config(config: &CacheConfig) -> Result<Self, ConfigError> {
        config.to_policy()?;
        let knobs = Knobs {
            kind: Some(config.policy),
            eviction_policy: None,
            max_capacity: config.max_capacity,
            time_to_idle: config.time_to_idle,
            time_to_live: config.time_to_live,
        };
        let mut builder = Self::with_choice(Chosen::FromKnobs(Knobs::any_policy), knobs);
        builder.sweep_interval = config.sweep_interval;
        Ok(builder)
    }
}

impl<K, V, S> CacheBuilder<K, V, AnyPolicy, S> {
    /// At most `max_capacity` entries: beyond it, the
    /// [`eviction_policy`](CacheBuilder::eviction_policy) picks entries to
    /// evict ([`RemovalCause::Capacity`]). Must be at least 1.
    pub fn max_capacity(mut self, max_capacity: u64) -> Self {
        self.knobs.max_capacity = Some(max_capacity);
        self
    }

    /// An entry not read or written for `duration` expires
    /// ([`RemovalCause::Expired`]): a sliding TTL, pushed back by every hit.
    /// Must be greater than zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure::{Cache, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let cache: Cache<u32, u32> = Cache::builder()
    ///     .time_to_idle(Duration::from_secs(10))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// cache.insert(1, 1);
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get(&1), Some(1)); // a hit: idle again from now
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get(&1), Some(1));
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(cache.get(&1), None);
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    pub fn time_to_idle(mut self, duration: Duration) -> Self {
        self.knobs.time_to_idle = Some(duration);
        self
    }

    /// An entry expires `duration` after it was written, however often it is
    /// read ([`RemovalCause::Expired`]): what makes key rotation safe for keys
    /// in constant use. Must be greater than zero and, with
    /// [`time_to_idle`](CacheBuilder::time_to_idle), not shorter than it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure::{Cache, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let cache: Cache<u32, u32> = Cache::builder()
    ///     .time_to_live(Duration::from_secs(10))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// cache.insert(1, 1);
    /// clock.advance(Duration::from_secs(9));
    /// assert_eq!(cache.get(&1), Some(1)); // reads do not extend its life
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(cache.get(&1), None);
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    pub fn time_to_live(mut self, duration: Duration) -> Self {
        self.knobs.time_to_live = Some(duration);
        self
    }

    /// Which policy enforces [`max_capacity`](CacheBuilder::max_capacity)
    /// (default [`EvictionPolicy::lru`]). Without a `max_capacity` it has
    /// nothing to bound and is not used. After
    /// [`from_config`](CacheBuilder::from_config) it replaces the config's policy.
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.knobs.eviction_policy = Some(policy);
        self.knobs.kind = None;
        self
    }

    /// Uses `policy`, of any type implementing [`Policy`], instead of one
    /// chosen from the knobs; the cache's policy type becomes `P`. The policy
    /// carries its own bound and time rules, so `max_capacity`,
    /// `time_to_idle`, `time_to_live` and `eviction_policy` must not be set
    /// ([`build`](CacheBuilder::build) returns [`ConfigError::CustomPolicy`]).
    ///
    /// ```
    /// use tenure::Cache;
    /// use tenure::policy::LruBound;
    ///
    /// let cache: Cache<u32, u32, LruBound> = Cache::builder().policy(LruBound::new(10)?).build()?;
    /// cache.insert(1, 1);
    /// assert!(cache.contains_key(&1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A policy of your own, written against [`tenure::policy`](crate::policy):
    /// see [`Policy`]'s documentation for one.
    pub fn policy<P: Policy>(self, policy: P) -> CacheBuilder<K, V, P, S> {
        CacheBuilder {
            policy: Chosen::Given(policy),
            knobs: self.knobs,
            hasher: self.hasher,
            clock: self.clock,
            listener: self.listener,
            weigher: self.weigher,
            per_entry: self.per_entry,
            shards: self.shards,
            sweep_interval: self.sweep_interval,
            sweep_on_tokio: self.sweep_on_tokio,
            #[cfg(feature = "metrics")]
            metrics_name: self.metrics_name,
        }
    }
}

impl<K, V, P, S> CacheBuilder<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Reads time from `clock` instead of the default [`CoarseClock`] (use
    /// [`SystemClock`](crate::SystemClock) for sub-second TTLs, [`ManualClock`](crate::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Calls `listener(key, value, cause)` for every entry that leaves the
    /// cache, whatever the [`RemovalCause`] (evicted, expired, removed,
    /// replaced or cleared), once, with no internal lock held (so it may call
    /// back into the cache). It receives the key and value themselves, not
    /// references: the cache no longer holds them.
    ///
    /// If the listener panics, the cache is already consistent (every lock
    /// released, the entries gone, counters updated), the other entries removed
    /// by the same call are still each passed to it, and
    /// [`CacheStats::listener_panics`](crate::CacheStats::listener_panics)
    /// counts it. Then:
    /// - in a caller's own operation (`insert`, `remove`, a get-or-create, …) the
    ///   first panic resumes in that caller once every removal was delivered;
    /// - in a sweeper's pass, the sweeper catches it and carries on sweeping.
    ///
    /// A panic never leaves expired entries stuck, a flight unfinished, or the
    /// cache unusable.
    pub fn eviction_listener(
        mut self,
        listener: impl Fn(K, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// The number of table shards, rounded up to a power of two and clamped to
    /// 1..=1024 (more shards than that only cost memory; `usize::MAX` gives
    /// 1024). The default, four per available CPU, suits most programs.
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let cache: Cache<u32, u32> = Cache::builder().max_capacity(10).shards(usize::MAX).build()?;
    /// cache.insert(1, 1);
    /// assert_eq!(cache.get(&1), Some(1));
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.clamp(1, Layout::MAX_SHARDS));
        self
    }

    /// Reclaims expired entries every `interval` on a background std thread,
    /// which stops when the cache is dropped (see [`Cache::start_sweeper`]). A
    /// listener panic during a sweep is caught and counted, and the sweeper
    /// carries on (see [`eviction_listener`](CacheBuilder::eviction_listener)).
    ///
    /// `interval` must be at least [`Sweeper::MIN_INTERVAL`](crate::Sweeper::MIN_INTERVAL)
    /// (1 ms): a shorter one makes [`build`](CacheBuilder::build) return
    /// [`ConfigError::SweepInterval`], with the config's message.
    pub fn sweep_every(mut self, interval: Duration) -> Self {
        self.sweep_interval = Some(interval);
        self
    }

    /// Like [`sweep_every`](CacheBuilder::sweep_every), but the sweeper is a task
    /// on the tokio runtime current at [`build`](CacheBuilder::build) (so it follows
    /// tokio's paused time in tests); outside a runtime it falls back to a std
    /// thread. The task ends with the cache, or with its runtime.
    #[cfg(feature = "tokio")]
    pub fn sweep_on_tokio_every(mut self, interval: Duration) -> Self {
        self.sweep_interval = Some(interval);
        self.sweep_on_tokio = true;
        self
    }

    /// Publishes the cache's [stats](Cache::stats) through the
    /// [`metrics`](::metrics) facade under `name`, as the label `cache="name"`.
    /// Give each live cache its own name: two caches under one name overwrite
    /// each other's numbers.
    ///
    /// Nothing is recorded on the hit path. A snapshot is published at each
    /// [`run_maintenance`](Cache::run_maintenance), each sweeper pass (so a
    /// [`sweep_every`](CacheBuilder::sweep_every) interval is also the publish
    /// interval) and each [`publish_metrics`](Cache::publish_metrics), to the
    /// recorder current on the thread doing it: counters are set to the
    /// snapshot's absolute values, the gauges to the current entries and weight.
    /// (A sweeper's own thread sees only the global recorder, which is where
    /// exporters install themselves.)
    ///
    /// | metric | kind | labels | from [`CacheStats`](crate::CacheStats) |
    /// |---|---|---|---|
    /// | `tenure_cache_hits_total` | counter | `cache` | `hits` |
    /// | `tenure_cache_misses_total` | counter | `cache` | `misses` |
    /// | `tenure_cache_creations_total` | counter | `cache` | `creations` |
    /// | `tenure_cache_creation_failures_total` | counter | `cache` | `creation_failures` |
    /// | `tenure_cache_removals_total` | counter | `cache`, `cause` = `expired`, `capacity`, `removed`, `replaced` or `cleared` | `removals` |
    /// | `tenure_cache_listener_panics_total` | counter | `cache` | `listener_panics` |
    /// | `tenure_cache_entries` | gauge | `cache` | `len` |
    /// | `tenure_cache_weighted_size` | gauge | `cache` | `weighted_size` |
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure::Cache;
    ///
    /// // With a recorder installed (e.g. a Prometheus exporter), this cache shows
    /// // up as `tenure_cache_hits_total{cache="api_clients"}` and so on, updated
    /// // every 30 seconds by its sweeper.
    /// let cache: Cache<String, u64> = Cache::builder()
    ///     .max_capacity(10_000)
    ///     .time_to_idle(Duration::from_secs(3600))
    ///     .metrics_name("api_clients")
    ///     .sweep_every(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics_name(mut self, name: impl Into<String>) -> Self {
        self.metrics_name = Some(crate::metrics::MetricsName::new(name.into()));
        self
    }

    /// Hashes keys with `hasher` instead of the default [`DefaultHashBuilder`].
    ///
    /// The default is fast but only minimally resistant to keys chosen to
    /// collide. When keys come from untrusted callers (API keys, tenant ids),
    /// use a keyed hasher such as std's [`RandomState`](std::hash::RandomState):
    ///
    /// ```
    /// use std::hash::RandomState;
    /// use tenure::Cache;
    ///
    /// let cache: Cache<String, u32, _, RandomState> =
    ///     Cache::builder().max_capacity(100).hasher(RandomState::new()).build()?;
    /// cache.insert("tenant-a".to_string(), 1);
    /// assert_eq!(cache.get("tenant-a"), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hasher<S2>(self, hasher: S2) -> CacheBuilder<K, V, P, S2>
    where
        S2: BuildHasher + Send + Sync + 'static,
    {
        CacheBuilder {
            policy: self.policy,
            knobs: self.knobs,
            hasher,
            clock: self.clock,
            listener: self.listener,
            weigher: self.weigher,
            per_entry: self.per_entry,
            shards: self.shards,
            sweep_interval: self.sweep_interval,
            sweep_on_tokio: self.sweep_on_tokio,
            #[cfg(feature = "metrics")]
            metrics_name: self.metrics_name,
        }
    }

    /// Weighs every entry with `weigher` as it is stored: the policy's capacity
    /// ([`max_capacity`](CacheBuilder::max_capacity)) is then a bound on the
    /// total weight, not on the number of entries, and
    /// [`CacheStats::weighted_size`](crate::CacheStats::weighted_size) reports
    /// the total. An entry heavier than the whole capacity is not kept: it is
    /// removed as soon as it is stored, with cause
    /// [`Capacity`](crate::RemovalCause::Capacity), and the other entries stay.
    /// A weight of 0 counts nothing against the bound.
    ///
    /// The weigher runs with no lock held, once per stored value. If it
    /// panics, the call that ran it panics and stores nothing: an `insert`
    /// leaves the old value in place; a get-or-create's creation is abandoned
    /// and a waiting caller takes over.
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let cache: Cache<&str, String> = Cache::builder()
    ///     .max_capacity(10)
    ///     .weigher(|_key: &&str, value: &String| value.len() as u32)
    ///     .build()?;
    /// cache.insert("a", "four".to_string());
    /// cache.insert("b", "five!".to_string());
    /// assert_eq!(cache.stats().weighted_size, 9);
    /// cache.insert("c", "two".to_string()); // 12 > 10: "a", read least recently, goes
    /// assert_eq!((cache.contains_key("a"), cache.stats().weighted_size), (false, 8));
    /// cache.insert("d", "eleven char".to_string()); // heavier than the capacity
    /// assert!(!cache.contains_key("d") && cache.contains_key("b") && cache.contains_key("c"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Box::new(weigher));
        self
    }

    /// Lets each entry choose its own deadline with `expiry`'s hooks (on
    /// create, read and update), on top of the policy's time rules: the
    /// earliest deadline wins. See [`Expiry`](crate::Expiry).
    pub fn expire_after(mut self, expiry: impl Expiry<K, V>) -> Self {
        self.per_entry = Some(Box::new(expiry));
        self
    }

    /// Builds the cache (and starts its sweeper, if one was asked for).
    ///
    /// # Errors
    /// - [`ConfigError::Unbounded`] if none of `max_capacity`, `time_to_idle`
    ///   and `time_to_live` was set (and no policy was given);
    /// - a [`ConfigError`] naming the knob whose number is out of range
    ///   (`max_capacity` 0, a zero duration, `time_to_live` shorter than
    ///   `time_to_idle`);
    /// - [`ConfigError::CustomPolicy`] if a policy was given with
    ///   [`policy`](CacheBuilder::policy) and a policy knob was set too;
    /// - [`ConfigError::SweepInterval`] if a sweeper was asked for with an
    ///   interval under [`Sweeper::MIN_INTERVAL`](crate::Sweeper::MIN_INTERVAL) (1 ms).
    pub fn build(self) -> Result<Cache<K, V, P, S>, ConfigError> {
        let policy = match self.policy {
            Chosen::FromKnobs(make) => make(&self.knobs)?,
            Chosen::Given(policy) => match self.knobs.first_set() {
                Some(field) => return Err(ConfigError::CustomPolicy { field }),
                None => policy,
            },
        };
        self.sweep_interval.map(check_interval).transpose()?;
        let shards = self
            .shards
            .unwrap_or_else(|| crate::sync::cpus().saturating_mul(4));
        let clock = self.clock.unwrap_or_else(|| Arc::new(CoarseClock::new()));
        #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
        let mut inner = Inner::new(
            policy,
            shards,
            clock,
            self.hasher,
            self.listener,
            self.weigher,
            self.per_entry,
        );
        #[cfg(feature = "metrics")]
        {
            inner.metrics_name = self.metrics_name;
        }
        let cache = Cache::from_inner(Arc::new(inner));
        if let Some(interval) = self.sweep_interval {
            cache.start_owned_sweeper(interval, self.sweep_on_tokio);
        }
        Ok(cache)
    }
}
