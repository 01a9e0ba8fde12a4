//! [`CacheBuilder`]: a cache's settings before it is built.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use crate::clock::{Clock, CoarseClock};
use crate::engine::{Inner, Weigher};
use crate::expire::Expiry;
use crate::removals::RemovalListener;
use crate::shard::Layout;
use crate::sweeper::check_interval;
use crate::sync::Arc;
use crate::{AnyPolicy, Cache, CacheConfig, ConfigError, DefaultHashBuilder, Policy, RemovalCause};

/// Configures a [`Cache`] before it is built.
///
/// ```
/// use std::time::Duration;
/// use tenure::{Cache, ManualClock, RemovalCause, SlidingTtl};
///
/// let clock = ManualClock::new();
/// let cache: Cache<&str, u32, SlidingTtl> = Cache::builder(SlidingTtl::new(Duration::from_secs(60))?)
///     .clock(clock.clone())
///     .listener(|key, value, cause| println!("{key} = {value} left: {cause:?}"))
///     .build()?;
/// cache.insert("a", 1);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(cache.get("a"), None); // expired exactly at t + ttl
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[must_use]
pub struct CacheBuilder<K, V, P, S = DefaultHashBuilder> {
    pub(crate) policy: P,
    pub(crate) hasher: S,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) listener: Option<RemovalListener<K, V>>,
    pub(crate) weigher: Option<Weigher<K, V>>,
    pub(crate) per_entry: Option<Box<dyn Expiry<K, V>>>,
    pub(crate) shards: Option<usize>,
    pub(crate) sweep_interval: Option<Duration>,
    pub(crate) sweep_on_tokio: bool,
    #[cfg(feature = "metrics")]
    pub(crate) metrics_name: Option<crate::metrics::MetricsName>,
}

impl<K, V, P, S> fmt::Debug for CacheBuilder<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("shards", &self.shards)
            .field("sweep_interval", &self.sweep_interval)
            .finish_non_exhaustive()
    }
}

impl<K, V, P> CacheBuilder<K, V, P> {
    pub(crate) fn new(policy: P) -> Self {
        CacheBuilder {
            policy,
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

    /// Calls `listener(key, value, cause)` for every entry that leaves the cache,
    /// once, with no internal lock held (so it may call back into the cache).
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
    pub fn listener(
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
    /// use tenure::{Cache, LruBound};
    ///
    /// let cache: Cache<u32, u32, LruBound> = Cache::builder(LruBound::new(10)?).shards(usize::MAX).build()?;
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
    /// carries on (see [`listener`](CacheBuilder::listener)).
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
    /// snapshot's absolute values, the gauge to the current number of entries.
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
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure::{Cache, Hybrid};
    ///
    /// // With a recorder installed (e.g. a Prometheus exporter), this cache shows
    /// // up as `tenure_cache_hits_total{cache="api_clients"}` and so on, updated
    /// // every 30 seconds by its sweeper.
    /// let cache: Cache<String, u64, Hybrid> = Cache::builder(Hybrid::new(Duration::from_secs(3600), 10_000)?)
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
    /// use tenure::{Cache, LruBound};
    ///
    /// let cache: Cache<String, u32, LruBound, RandomState> =
    ///     Cache::builder(LruBound::new(100)?).hasher(RandomState::new()).build()?;
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
    /// is then a bound on the total weight, not on the number of entries, and
    /// [`CacheStats::weighted_size`](crate::CacheStats::weighted_size) reports
    /// the total. An entry heavier than the whole capacity is not kept: it is
    /// removed as soon as it is stored, with cause
    /// [`Capacity`](crate::RemovalCause::Capacity), and the other entries stay.
    /// A weight of 0 counts nothing against the bound.
    ///
    /// The weigher runs with no lock held, once per stored value.
    ///
    /// ```
    /// use tenure::{Cache, LruBound};
    ///
    /// let cache: Cache<&str, String, LruBound> = Cache::builder(LruBound::new(10)?)
    ///     .weigher(|_key: &&str, value: &String| value.len() as u32)
    ///     .build()?;
    /// cache.insert("a", "four".to_string());
    /// cache.insert("b", "five!".to_string());
    /// assert_eq!(cache.stats().weighted_size, 9);
    /// cache.insert("c", "two".to_string()); // 12 > 10: "a", read least recently, goes
    /// assert_eq!((cache.contains("a"), cache.stats().weighted_size), (false, 8));
    /// cache.insert("d", "eleven char".to_string()); // heavier than the capacity
    /// assert!(!cache.contains("d") && cache.contains("b") && cache.contains("c"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Box::new(weigher));
        self
    }

    /// Lets each entry choose its own deadline with `expiry`'s hooks (on
    /// create, read and update), on top of the policy's time rules: the
    /// earliest deadline wins. See [`Expiry`].
    pub fn expire_after(mut self, expiry: impl Expiry<K, V>) -> Self {
        self.per_entry = Some(Box::new(expiry));
        self
    }

    /// Builds the cache (and starts its sweeper, if one was asked for).
    ///
    /// # Errors
    /// [`ConfigError::SweepInterval`] if a sweeper was asked for with an interval
    /// under [`Sweeper::MIN_INTERVAL`](crate::Sweeper::MIN_INTERVAL) (1 ms).
    pub fn build(self) -> Result<Cache<K, V, P, S>, ConfigError> {
        self.sweep_interval.map(check_interval).transpose()?;
        let shards = self
            .shards
            .unwrap_or_else(|| crate::sync::cpus().saturating_mul(4));
        let clock = self.clock.unwrap_or_else(|| Arc::new(CoarseClock::new()));
        #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
        let mut inner = Inner::new(
            self.policy,
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

impl<K, V> CacheBuilder<K, V, AnyPolicy>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A builder with the policy and sweeper interval of `config`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the offending field.
    pub fn from_config(config: &CacheConfig) -> Result<Self, ConfigError> {
        let mut builder = CacheBuilder::new(config.to_policy()?);
        builder.sweep_interval = config.sweep_interval();
        Ok(builder)
    }
}
