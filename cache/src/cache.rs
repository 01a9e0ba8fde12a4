//! The concurrent cache.
//!
//! # How a hit stays cheap
//!
//! Entries live in a sharded hash table, one reader-writer lock per shard. A hit
//! takes its shard's lock *shared*, checks the entry's deadline against one clock
//! read (skipped entirely when the policy has no time rule), stores the new access
//! time in the entry's atomic, clones the value, and appends `(slot, time)` to its
//! thread's read buffer ([`read_buffer`](crate::read_buffer)). Nothing is
//! allocated and no lock is taken exclusively. One hit in
//! [`STRIPE_LEN`](crate::read_buffer::STRIPE_LEN) finds its buffer full and
//! *tries* the policy lock to drain it; if the lock is busy it moves on.
//!
//! # Writes
//!
//! Every write (insert, remove, a creation, a read that meets an expired entry,
//! maintenance) takes the policy lock, replays the read buffers into the policy,
//! reclaims every expired entry, applies its change, and evicts while the policy
//! is over its bound. Removed entries are collected and handed to the removal
//! listener after every lock is released.
//!
//! Lock order: policy lock, then a shard's table lock; or a shard's flight lock,
//! then a table lock (shared). No code waits for a flight or policy lock while it
//! holds a table lock.

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

use crate::clock::{Clock, CoarseClock};
use crate::flight::{Flight, Flights, Join};
use crate::read_buffer::{Recorded, Stripe};
use crate::shard::{Entry, Shard};
use crate::stats::{CacheStats, WriteCounters, bump};
use crate::sweeper::{StopHandle, Sweeper};
use crate::sync::{Arc, AtomicU64, AtomicUsize, Mutex, Ordering, RwLock, thread_stripe};
use crate::{
    AnyPolicy, CacheConfig, ConfigError, DefaultHashBuilder, Expiry, Policy, RemovalCause, Slot,
    Timestamp,
};

/// The removal listener: called with each removed key, value and cause, after
/// every internal lock is released.
pub type RemovalListener<K, V> = Arc<dyn Fn(K, V, RemovalCause) + Send + Sync>;

/// Everything behind the policy lock.
struct Core<P> {
    policy: P,
    len: usize,
}

/// Removed entries waiting to be handed to the listener once the locks are gone.
pub(crate) struct Removals<K, V>(Batch<(K, V, RemovalCause)>);

/// A list that holds its first item inline: most writes remove at most one
/// entry, and an eviction should not cost an allocation.
pub(crate) struct Batch<T> {
    first: Option<T>,
    rest: Vec<T>,
}

impl<T> Batch<T> {
    fn new() -> Self {
        Batch {
            first: None,
            rest: Vec::new(),
        }
    }

    fn push(&mut self, item: T) {
        match self.first {
            None => self.first = Some(item),
            Some(_) => self.rest.push(item),
        }
    }

    fn len(&self) -> usize {
        self.first.iter().count() + self.rest.len()
    }

    fn last(&self) -> Option<&T> {
        self.rest.last().or(self.first.as_ref())
    }

    #[cfg_attr(not(tenure_fault = "stale_remove"), allow(dead_code))]
    pub(crate) fn last_mut(&mut self) -> Option<&mut T> {
        self.rest.last_mut().or(self.first.as_mut())
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.first.iter().chain(&self.rest)
    }
}

impl<T> IntoIterator for Batch<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<std::option::IntoIter<T>, std::vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

type Table<K, V> = RwLock<Shard<K, V>>;

pub(crate) struct Inner<K, V, P, S> {
    tables: Box<[Table<K, V>]>,
    flights: Flights<K, V>,
    core: Mutex<Core<P>>,
    stripes: Box<[Stripe]>,
    expiry: Expiry,
    clock: Arc<dyn Clock>,
    hasher: S,
    len: AtomicUsize,
    listener: Option<RemovalListener<K, V>>,
    counters: WriteCounters,
    sweepers: Mutex<Vec<StopHandle>>,
    owned_sweeper: Mutex<Option<Sweeper>>,
}

impl<K, V, P, S> Drop for Inner<K, V, P, S> {
    fn drop(&mut self) {
        for stop in self.sweepers.lock().drain(..) {
            stop.stop();
        }
    }
}

/// A concurrent keyed cache for values that are costly to make: clients,
/// connections, sessions. See the [crate docs](crate) for an overview.
///
/// `Cache` is a handle: clones share one cache. `V` is returned by clone, so it
/// should be cheap to clone (an `Arc`, or a client that is itself a handle).
///
/// ```
/// use std::time::Duration;
/// use tenure::{Cache, Hybrid};
///
/// let cache = Cache::new(Hybrid::new(Duration::from_secs(3600), 10_000)?);
/// let client = cache.get_or_create("key-1".to_string(), || std::sync::Arc::new(42));
/// assert_eq!(*client, 42);
/// assert_eq!(cache.get("key-1").as_deref(), Some(&42));
/// # Ok::<(), tenure::PolicyError>(())
/// ```
pub struct Cache<K, V, P = AnyPolicy, S = DefaultHashBuilder> {
    inner: Arc<Inner<K, V, P, S>>,
}

impl<K, V, P, S> Clone for Cache<K, V, P, S> {
    fn clone(&self) -> Self {
        Cache {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V, P, S> fmt::Debug for Cache<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("len", &self.inner.len.load(Ordering::Relaxed))
            .field("expiry", &self.inner.expiry)
            .finish_non_exhaustive()
    }
}

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
    policy: P,
    hasher: S,
    clock: Option<Arc<dyn Clock>>,
    listener: Option<RemovalListener<K, V>>,
    shards: Option<usize>,
    sweep_interval: Option<Duration>,
    sweep_on_tokio: bool,
}

impl<K, V, P, S> fmt::Debug for CacheBuilder<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("shards", &self.shards)
            .field("sweep_interval", &self.sweep_interval)
            .finish_non_exhaustive()
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
    /// If the listener panics, the entries removed by the same call are still each
    /// passed to it, and the first panic then resumes in the caller; the cache
    /// itself stays consistent and usable.
    pub fn listener(
        mut self,
        listener: impl Fn(K, V, RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// The number of table shards (rounded up to a power of two). The default,
    /// four per available CPU, suits most programs.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.max(1).next_power_of_two());
        self
    }

    /// Reclaims expired entries every `interval` on a background std thread,
    /// which stops when the cache is dropped (see [`Cache::start_sweeper`]).
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
            shards: self.shards,
            sweep_interval: self.sweep_interval,
            sweep_on_tokio: self.sweep_on_tokio,
        }
    }

    /// Builds the cache (and starts its sweeper, if one was asked for).
    ///
    /// # Errors
    /// [`ConfigError::ZeroSweepInterval`] if a sweeper was asked for with a zero interval.
    pub fn build(self) -> Result<Cache<K, V, P, S>, ConfigError> {
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::ZeroSweepInterval);
        }
        let shards = self.shards.unwrap_or_else(default_shards);
        let expiry = self.policy.expiry();
        let inner = Inner {
            tables: (0..shards).map(|_| RwLock::new(Shard::new())).collect(),
            flights: Flights::new(shards),
            core: Mutex::new(Core {
                policy: self.policy,
                len: 0,
            }),
            stripes: (0..shards).map(|_| Stripe::default()).collect(),
            expiry,
            clock: self.clock.unwrap_or_else(|| Arc::new(CoarseClock::new())),
            hasher: self.hasher,
            len: AtomicUsize::new(0),
            listener: self.listener,
            counters: WriteCounters::default(),
            sweepers: Mutex::new(Vec::new()),
            owned_sweeper: Mutex::new(None),
        };
        let cache = Cache {
            inner: Arc::new(inner),
        };
        if let Some(interval) = self.sweep_interval {
            let sweeper = cache.start_configured_sweeper(interval, self.sweep_on_tokio);
            *cache.inner.owned_sweeper.lock() = Some(sweeper);
        }
        Ok(cache)
    }
}

fn default_shards() -> usize {
    (crate::sync::cpus() * 4).next_power_of_two()
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
        let mut builder = Cache::builder(config.to_policy()?);
        builder.sweep_interval = config.sweep_interval();
        Ok(builder)
    }
}

impl<K, V> Cache<K, V, AnyPolicy>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache as `config` describes it (see [`CacheConfig`]).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the offending field.
    pub fn from_config(config: &CacheConfig) -> Result<Self, ConfigError> {
        CacheBuilder::from_config(config)?.build()
    }
}

impl<K, V, P> Cache<K, V, P>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
{
    /// A cache with `policy` and default settings.
    pub fn new(policy: P) -> Self {
        Self::builder(policy)
            .build()
            .expect("a builder with default settings is valid")
    }

    /// A [`CacheBuilder`] for a clock, a listener, a sweeper or a hasher.
    pub fn builder(policy: P) -> CacheBuilder<K, V, P> {
        CacheBuilder {
            policy,
            hasher: DefaultHashBuilder::default(),
            clock: None,
            listener: None,
            shards: None,
            sweep_interval: None,
            sweep_on_tokio: false,
        }
    }
}

/// Whether a table lookup found a live entry.
enum Lookup<V> {
    Hit(V),
    Miss,
    Expired,
}

impl<K, V, P, S> Cache<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// The live value for `key`, if any. A hit refreshes the entry's sliding
    /// deadline and its LRU position. An expired entry is never returned.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.hasher.hash_one(key);
        match self.inner.lookup(key, hash) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss => {
                bump(&self.inner.stripe().misses);
                None
            }
            Lookup::Expired => {
                bump(&self.inner.stripe().misses);
                self.run_maintenance();
                None
            }
        }
    }

    /// Whether `key` has a live entry. Unlike [`get`](Cache::get) this is not an
    /// access: it moves no deadline and no LRU position, and counts in no stat.
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = &self.inner;
        let hash = inner.hasher.hash_one(key);
        let shard = inner.table(hash).read();
        shard.find(hash, key).is_some_and(|(pos, e)| {
            !inner.expiry.uses_time() || !shard.is_expired(pos, e, &inner.expiry, inner.clock.now())
        })
    }

    /// Stores `value` under `key`, returning the live value it replaced (which the
    /// listener also receives, with [`RemovalCause::Replaced`]). The entry starts a
    /// new life: its TTL and maximum lifetime count from now.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.inner.hasher.hash_one(&key);
        let (replaced, removals) = self.inner.write(|w| w.insert(key, hash, value));
        self.inner.notify(removals);
        replaced
    }

    /// Removes `key`, returning its live value (also passed to the listener with
    /// [`RemovalCause::Removed`]).
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.hasher.hash_one(key);
        // Test-only fault (loom model e): report a value read before the lock.
        #[cfg(tenure_fault = "stale_remove")]
        let stale = self
            .inner
            .table(hash)
            .read()
            .find(hash, key)
            .map(|(_, e)| e.value.clone());
        let (removed, removals) = self.inner.write(|w| {
            let (pos, _) = w.inner.table(hash).read().find(hash, key)?;
            let removed = w.remove(w.inner.slot(hash, pos), RemovalCause::Removed);
            removed.then(|| w.last_removed_value()).flatten()
        });
        #[cfg(tenure_fault = "stale_remove")]
        let removals = {
            let mut removals = removals;
            if let (Some(stale), Some(last)) = (stale, removals.0.last_mut()) {
                last.1 = stale;
            }
            removals
        };
        self.inner.notify(removals);
        removed
    }

    /// Removes every live entry for which `predicate(key, value)` is true
    /// ([`RemovalCause::Removed`]); returns how many. The predicate runs under the
    /// cache's locks: it must not call back into this cache.
    pub fn invalidate_if(&self, mut predicate: impl FnMut(&K, &V) -> bool) -> usize {
        let (count, removals) = self
            .inner
            .write(|w| w.remove_where(&mut predicate, RemovalCause::Removed));
        self.inner.notify(removals);
        count
    }

    /// Removes every entry ([`RemovalCause::Cleared`]).
    pub fn clear(&self) {
        let (_, removals) = self
            .inner
            .write(|w| w.remove_where(&mut |_, _| true, RemovalCause::Cleared));
        self.inner.notify(removals);
    }

    /// The number of entries held. Expired entries count until they are reclaimed
    /// (by the next write, [`run_maintenance`](Cache::run_maintenance) or a sweeper);
    /// they are never returned. Never more than a bounded policy's capacity.
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Acquire)
    }

    /// Whether [`len`](Cache::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys of every live entry, in no particular order.
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        let inner = &self.inner;
        let now = inner.now();
        let mut keys = Vec::with_capacity(self.len());
        for shard in inner.tables.iter() {
            let shard = shard.read();
            let live = shard
                .positions()
                .filter(|&(pos, e)| !shard.is_expired(pos, e, &inner.expiry, now));
            keys.extend(live.map(|(_, e)| e.key.clone()));
        }
        keys
    }

    /// Replays buffered reads into the policy and reclaims every expired entry now.
    /// Sweepers call this; so can you, e.g. from your own timer.
    pub fn run_maintenance(&self) {
        self.inner.maintain();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CacheStats {
        let inner = &self.inner;
        let sum = |f: fn(&Stripe) -> &AtomicU64| {
            inner
                .stripes
                .iter()
                .map(|s| f(s).load(Ordering::Relaxed))
                .sum()
        };
        CacheStats {
            hits: inner.stripes.iter().map(Stripe::hits).sum(),
            misses: sum(|s| &s.misses),
            creations: inner.counters.creations.load(Ordering::Relaxed),
            creation_failures: inner.counters.creation_failures.load(Ordering::Relaxed),
            removals: inner.counters.removal_counts(),
            len: self.len(),
        }
    }

    /// The value for `key`, made by `create` if there is none. Concurrent callers
    /// for the same key wait for one creator and share its value; callers for other
    /// keys never wait on it. If the creator panics, one waiter takes over.
    pub fn get_or_create(&self, key: K, create: impl FnOnce() -> V) -> V
    where
        K: Clone,
    {
        match self.try_get_or_create(key, || Ok::<V, std::convert::Infallible>(create())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_create`](Cache::get_or_create) with a fallible creator. An
    /// error is returned to this caller and not cached; a caller waiting on this
    /// creation then runs its own creator.
    ///
    /// # Errors
    /// Whatever `create` returned.
    pub fn try_get_or_create<E>(
        &self,
        key: K,
        create: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Clone,
    {
        self.try_get_or_create_ref(&key, |k| Ok(k.clone()), |_| create())
    }

    /// Like [`try_get_or_create`](Cache::try_get_or_create), but looks up a
    /// borrowed form of the key (`&str` for a `String` key, say) and makes the
    /// owned key with `to_key` only on a miss, so a hit allocates nothing. An
    /// error from `to_key` or `create` is returned, nothing is cached.
    ///
    /// ```
    /// use tenure::{Cache, LruBound};
    ///
    /// let cache: Cache<String, usize, LruBound> = Cache::new(LruBound::new(10)?);
    /// let len = |k: &str| cache.try_get_or_create_ref(k, |k| Ok::<_, ()>(k.to_owned()), |k| Ok(k.len()));
    /// assert_eq!(len("four"), Ok(4));
    /// assert_eq!(len("four"), Ok(4)); // a hit: no String was made
    /// assert_eq!(cache.stats().creations, 1);
    /// # Ok::<(), tenure::PolicyError>(())
    /// ```
    ///
    /// # Errors
    /// Whatever `to_key` or `create` returned.
    pub fn try_get_or_create_ref<Q, E>(
        &self,
        key: &Q,
        mut to_key: impl FnMut(&Q) -> Result<K, E>,
        create: impl FnOnce(&K) -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
    {
        let creation = loop {
            match self.inner.join(key, || to_key(key))? {
                Joined::Hit(v) => return Ok(v),
                Joined::Wait(flight) => {
                    if let Some(v) = flight.wait() {
                        return Ok(v);
                    }
                }
                Joined::Create(creation) => break creation,
            }
        };
        let value = create(creation.key())?;
        Ok(creation.finish(value))
    }

    /// The async form of [`get_or_create`](Cache::get_or_create). If the creating
    /// future is dropped before it finishes, one waiter takes over.
    pub async fn get_or_create_async<F>(&self, key: K, create: impl FnOnce() -> F) -> V
    where
        K: Clone,
        F: Future<Output = V>,
    {
        let create = || async { Ok::<V, std::convert::Infallible>(create().await) };
        match self.try_get_or_create_async(key, create).await {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// The async form of [`try_get_or_create`](Cache::try_get_or_create).
    ///
    /// # Errors
    /// Whatever `create`'s future returned.
    pub async fn try_get_or_create_async<F, E>(
        &self,
        key: K,
        create: impl FnOnce() -> F,
    ) -> Result<V, E>
    where
        K: Clone,
        F: Future<Output = Result<V, E>>,
    {
        let creation = loop {
            match self.inner.join(&key, || Ok(key.clone()))? {
                Joined::Hit(v) => return Ok(v),
                Joined::Wait(flight) => {
                    if let Some(v) = std::future::poll_fn(|cx| flight.poll_wait(cx)).await {
                        return Ok(v);
                    }
                }
                Joined::Create(creation) => break creation,
            }
        };
        let value = create().await?;
        Ok(creation.finish(value))
    }

    /// Starts a sweeper on a std thread that calls
    /// [`run_maintenance`](Cache::run_maintenance) every `interval`. It holds only a
    /// weak reference: it stops when the returned handle or the cache is dropped,
    /// and never keeps the process alive.
    pub fn start_sweeper(&self, interval: Duration) -> Sweeper {
        self.register(Sweeper::thread(self.weak(), interval))
    }

    /// Starts a sweeper as a task on the current tokio runtime (which also makes it
    /// follow tokio's paused time in tests). Stops like
    /// [`start_sweeper`](Cache::start_sweeper)'s.
    ///
    /// # Errors
    /// [`crate::SweeperError`] if called outside a tokio runtime.
    #[cfg(feature = "tokio")]
    pub fn start_tokio_sweeper(&self, interval: Duration) -> Result<Sweeper, crate::SweeperError> {
        Ok(self.register(Sweeper::tokio(self.weak(), interval)?))
    }

    fn start_configured_sweeper(&self, interval: Duration, on_tokio: bool) -> Sweeper {
        #[cfg(feature = "tokio")]
        if on_tokio {
            if let Ok(sweeper) = self.start_tokio_sweeper(interval) {
                return sweeper;
            }
        }
        let _ = on_tokio;
        self.start_sweeper(interval)
    }

    fn weak(&self) -> crate::sync::Weak<dyn crate::sweeper::Maintain> {
        let strong: Arc<dyn crate::sweeper::Maintain> = self.inner.clone();
        Arc::downgrade(&strong)
    }

    fn register(&self, sweeper: Sweeper) -> Sweeper {
        self.inner.sweepers.lock().push(sweeper.stop_handle());
        sweeper
    }
}

/// What [`Inner::join`] found.
enum Joined<'a, K, V, P, S> {
    Hit(V),
    Wait(Arc<Flight<V>>),
    Create(Creation<'a, K, V, P, S>),
}

/// The right, and duty, to create the value for a key. Dropping it unfinished
/// (error, panic, cancellation) abandons the flight so a waiter can take over.
struct Creation<'a, K, V, P, S> {
    inner: &'a Inner<K, V, P, S>,
    hash: u64,
    key: Option<K>,
    flight: Option<Arc<Flight<V>>>,
}

impl<K, V, P, S> Creation<'_, K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// The key being created.
    fn key(&self) -> &K {
        self.key
            .as_ref()
            .expect("a creation holds its key until it finishes")
    }

    /// Stores `value`, hands it to the waiters, then runs the listener.
    fn finish(mut self, value: V) -> V {
        let inner = self.inner;
        let hash = self.hash;
        let key = self.key.take().expect("a creation finishes once");
        let (_, removals) = inner.write(|w| w.insert(key, hash, value.clone()));
        bump(&inner.counters.creations);
        if let Some(flight) = self.flight.take() {
            inner
                .flights
                .retire(hash, inner.shard_index(hash), &flight, Some(value.clone()));
        }
        inner.notify(removals);
        value
    }
}

impl<K, V, P, S> Drop for Creation<'_, K, V, P, S> {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            bump(&self.inner.counters.creation_failures);
            let shard = self.inner.shard_index(self.hash);
            // Test-only fault (loom model b): leave the abandoned flight running.
            #[cfg(not(tenure_fault = "keep_abandoned"))]
            self.inner.flights.retire(self.hash, shard, &flight, None);
        }
    }
}

impl<K, V, P, S> Inner<K, V, P, S> {
    fn shard_index(&self, hash: u64) -> usize {
        // hashbrown uses the low bits to place an entry and the top 7 as its tag;
        // the shard comes from bits in between so neither loses entropy.
        (hash >> 40) as usize & (self.tables.len() - 1)
    }
}

impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    fn table(&self, hash: u64) -> &Table<K, V> {
        &self.tables[self.shard_index(hash)]
    }

    fn stripe(&self) -> &Stripe {
        &self.stripes[thread_stripe() & (self.stripes.len() - 1)]
    }

    fn now(&self) -> Timestamp {
        if self.expiry.uses_time() {
            self.clock.now()
        } else {
            Timestamp::ZERO
        }
    }

    /// The policy slot of the entry at `pos` in the shard for `hash`.
    fn slot(&self, hash: u64, pos: u32) -> Slot {
        self.slot_at(self.shard_index(hash), pos)
    }

    fn slot_at(&self, shard: usize, pos: u32) -> Slot {
        Slot::new(pos * self.tables.len() as u32 + shard as u32)
    }

    /// The shard and position of `slot`.
    fn locate(&self, slot: Slot) -> (&Table<K, V>, u32) {
        let shards = self.tables.len();
        (
            &self.tables[slot.index() % shards],
            (slot.index() / shards) as u32,
        )
    }

    /// The hit path. No stats; callers count.
    fn lookup<Q>(&self, key: &Q, hash: u64) -> Lookup<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shard = self.table(hash).read();
        let Some((pos, entry)) = shard.find(hash, key) else {
            return Lookup::Miss;
        };
        let mut now = Timestamp::ZERO;
        if self.expiry.uses_time() {
            now = self.clock.now();
            // `skip_hit_expiry`: test-only fault (loom model d).
            if shard.is_expired(pos, entry, &self.expiry, now)
                && !cfg!(tenure_fault = "skip_hit_expiry")
            {
                return Lookup::Expired;
            }
            entry.touch(now);
        }
        let value = entry.value.clone();
        drop(shard);
        let slot = self.slot(hash, pos);
        if self.stripe().record(slot.index() as u64, now.as_nanos()) == Recorded::Full {
            if let Some(mut core) = self.core.try_lock() {
                self.drain(&mut core);
            }
        }
        Lookup::Hit(value)
    }

    /// Replays every read buffer into the policy. A buffered read of an entry
    /// removed since is passed on too; policies ignore slots they do not hold.
    /// Kept out of line so the hit path it is called from stays small.
    #[inline(never)]
    fn drain(&self, core: &mut Core<P>) {
        for stripe in self.stripes.iter() {
            stripe.drain(|slot, time| {
                core.policy
                    .on_access(Slot::new(slot as u32), Timestamp::from_nanos(time));
            });
        }
    }

    /// Runs `op` as a write: under the policy lock, after replaying reads and
    /// reclaiming expired entries, and followed by eviction down to the bound.
    /// The caller hands the returned removals to [`Inner::notify`].
    fn write<R>(&self, op: impl FnOnce(&mut Writer<'_, K, V, P, S>) -> R) -> (R, Removals<K, V>) {
        let mut core = self.core.lock();
        self.drain(&mut core);
        let mut w = Writer {
            inner: self,
            core: &mut core,
            now: self.now(),
            removed: Batch::new(),
        };
        w.reclaim_expired();
        let result = op(&mut w);
        // Test-only fault (loom model c): publish the length before evicting.
        #[cfg(tenure_fault = "len_before_evict")]
        self.len.store(w.core.len, Ordering::Release);
        w.evict_over_bound();
        let removed = w.removed;
        self.len.store(core.len, Ordering::Release);
        (result, Removals(removed))
    }

    fn maintain(&self) {
        let ((), removals) = self.write(|_| ());
        self.notify(removals);
    }

    /// Hands removed entries to the listener, each once, with no lock held.
    fn notify(&self, removals: Removals<K, V>) {
        for (_, _, cause) in removals.0.iter() {
            self.counters.removed(*cause);
        }
        let Some(listener) = &self.listener else {
            return;
        };
        let mut first_panic = None;
        for (key, value, cause) in removals.0 {
            // `lost_removal`: test-only fault (loom model e).
            if cfg!(tenure_fault = "lost_removal")
                && matches!(cause, RemovalCause::Replaced | RemovalCause::Cleared)
            {
                continue;
            }
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| listener(key, value, cause))) {
                first_panic.get_or_insert(panic);
            }
        }
        if let Some(panic) = first_panic {
            resume_unwind(panic);
        }
    }

    /// Finds the value for `key`, a flight to wait on, or the right to create
    /// (with the owned key `to_key` makes).
    fn join<Q, E>(
        &self,
        key: &Q,
        to_key: impl FnOnce() -> Result<K, E>,
    ) -> Result<Joined<'_, K, V, P, S>, E>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let stripe = self.stripe();
        match self.lookup(key, hash) {
            Lookup::Hit(v) => return Ok(Joined::Hit(v)),
            Lookup::Expired => self.maintain(),
            Lookup::Miss => {}
        }
        let shard = self.shard_index(hash);
        let recheck = || match self.lookup(key, hash) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss | Lookup::Expired => None,
        };
        Ok(
            match self.flights.join(key, hash, shard, recheck, to_key)? {
                Join::Found(v) => Joined::Hit(v),
                Join::Wait(flight) => {
                    bump(&stripe.misses);
                    Joined::Wait(flight)
                }
                Join::Create(flight, key) => {
                    bump(&stripe.misses);
                    Joined::Create(Creation {
                        inner: self,
                        hash,
                        key: Some(key),
                        flight: Some(flight),
                    })
                }
            },
        )
    }
}

/// A write in progress: holds the policy lock.
struct Writer<'a, K, V, P, S> {
    inner: &'a Inner<K, V, P, S>,
    core: &'a mut Core<P>,
    now: Timestamp,
    removed: Batch<(K, V, RemovalCause)>,
}

impl<K, V, P, S> Writer<'_, K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    fn insert(&mut self, key: K, hash: u64, value: V) -> Option<V> {
        let inner = self.inner;
        let mut shard = inner.table(hash).write();
        let old = match shard.find(hash, &key) {
            Some((pos, _)) => {
                let old = shard.take(pos, &inner.hasher);
                self.core.policy.on_remove(inner.slot(hash, pos));
                self.core.len -= 1;
                old
            }
            None => None,
        };
        let pos = shard.insert(hash, key, value, self.now, &inner.expiry, &inner.hasher);
        drop(shard);
        self.core.policy.on_insert(inner.slot(hash, pos), self.now);
        self.core.len += 1;
        let old = old?;
        self.removed
            .push((old.key, old.value.clone(), RemovalCause::Replaced));
        Some(old.value)
    }

    /// Removes the entry in `slot`; returns whether there was one.
    fn remove(&mut self, slot: Slot, cause: RemovalCause) -> bool {
        let (shard, pos) = self.inner.locate(slot);
        let entry = shard.write().take(pos, &self.inner.hasher);
        self.removed_entry(slot, entry, cause)
    }

    /// Books an entry taken out of `slot`: tells the policy, queues the listener.
    fn removed_entry(
        &mut self,
        slot: Slot,
        entry: Option<Entry<K, V>>,
        cause: RemovalCause,
    ) -> bool {
        self.core.policy.on_remove(slot);
        let Some(entry) = entry else { return false };
        self.core.len -= 1;
        self.removed.push((entry.key, entry.value, cause));
        true
    }

    /// The value of the entry removed last.
    fn last_removed_value(&self) -> Option<V> {
        self.removed.last().map(|(_, value, _)| value.clone())
    }

    fn remove_where(
        &mut self,
        predicate: &mut dyn FnMut(&K, &V) -> bool,
        cause: RemovalCause,
    ) -> usize {
        let before = self.removed.len();
        for index in 0..self.inner.tables.len() {
            let mut shard = self.inner.tables[index].write();
            for pos in 0..shard.span() as u32 {
                if shard.at(pos).is_some_and(|e| predicate(&e.key, &e.value)) {
                    let entry = shard.take(pos, &self.inner.hasher);
                    self.removed_entry(self.inner.slot_at(index, pos), entry, cause);
                }
            }
        }
        self.removed.len() - before
    }

    /// Removes every entry the policy finds expired, after checking each against
    /// the entry's own latest access (a buffered read may not have reached the
    /// policy yet).
    fn reclaim_expired(&mut self) {
        if !self.inner.expiry.uses_time() {
            return;
        }
        // A correct policy proposes each entry at most twice (once stale); the
        // budget only guards against a custom policy that keeps proposing.
        let mut budget = 2 * self.core.len + 2;
        while let Some(slot) = self.core.policy.next_expired(self.now) {
            budget -= 1;
            if budget == 0 {
                break;
            }
            // Check and remove under one write lock, so a concurrent hit either
            // sees the entry expired or refreshes it before the check.
            let (shard, pos) = self.inner.locate(slot);
            let mut shard = shard.write();
            let alive = shard.at(pos).map(|e| {
                let expired = shard.is_expired(pos, e, &self.inner.expiry, self.now);
                // `reclaim_trusts_policy`: test-only fault (loom model d).
                let expired = expired || cfg!(tenure_fault = "reclaim_trusts_policy");
                (!expired).then(|| e.last_access())
            });
            match alive {
                Some(Some(last_access)) => self.core.policy.on_access(slot, last_access),
                Some(None) => {
                    let entry = shard.take(pos, &self.inner.hasher);
                    drop(shard);
                    self.removed_entry(slot, entry, RemovalCause::Expired);
                }
                None => self.core.policy.on_remove(slot),
            }
        }
    }

    fn evict_over_bound(&mut self) {
        let mut budget = self.core.len + 2;
        while let Some(slot) = self.core.policy.next_victim() {
            budget -= 1;
            if budget == 0 {
                break;
            }
            self.remove(slot, RemovalCause::Capacity);
        }
    }
}

impl<K, V, P, S> crate::sweeper::Maintain for Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    fn maintain(&self) {
        Inner::maintain(self);
    }
}
