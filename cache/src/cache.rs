//! [`Cache`]: the public front. Each method is a short call into the engine
//! ([`engine`](crate::engine)), where the read and write paths live.

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use crate::builder::CacheBuilder;
use crate::creation::Joined;
use crate::engine::{Inner, Lookup};
use crate::faults;
use crate::iter::Iter;
use crate::policy::{AnyPolicy, Policy};
use crate::retention::End;
use crate::stats::CacheStats;
use crate::sweeper::{Maintain, Sweeper, SweeperError};
use crate::sync::{Arc, Ordering, Weak};
use crate::{CacheConfig, ConfigError, DefaultHashBuilder, RemovalCause};

/// A concurrent keyed cache for values that are costly to make: clients,
/// connections, sessions. See the [crate docs](crate) for an overview.
///
/// `Cache` is a handle: clones share one cache. `V` is returned by clone, so it
/// should be cheap to clone (an `Arc`, or a client that is itself a handle).
///
/// ```
/// use std::time::Duration;
/// use tenure::Cache;
///
/// let cache = Cache::builder()
///     .max_capacity(10_000)
///     .time_to_idle(Duration::from_secs(3600))
///     .build()?;
/// let client = cache.get_or_create("key-1".to_string(), || std::sync::Arc::new(42));
/// assert_eq!(*client, 42);
/// assert_eq!(cache.get("key-1").as_deref(), Some(&42));
/// # Ok::<(), tenure::ConfigError>(())
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

impl<K, V, P> Cache<K, V, P>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
{
    /// A cache with `policy` (a built-in one from [`tenure::policy`](crate::policy),
    /// or your own) and default settings; the same as
    /// `Cache::builder().policy(policy).build()`.
    ///
    /// ```
    /// use tenure::Cache;
    /// use tenure::policy::LruBound;
    ///
    /// let cache: Cache<u32, u32, LruBound> = Cache::new(LruBound::new(10)?);
    /// cache.insert(1, 1);
    /// assert_eq!(cache.get(&1), Some(1));
    /// # Ok::<(), tenure::policy::PolicyError>(())
    /// ```
    pub fn new(policy: P) -> Self {
        CacheBuilder::given(policy)
            .build()
            .expect("a builder with default settings is valid")
    }
}

impl<K, V> Cache<K, V, AnyPolicy>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A [`CacheBuilder`]: say what bounds the cache
    /// ([`max_capacity`](CacheBuilder::max_capacity),
    /// [`time_to_idle`](CacheBuilder::time_to_idle),
    /// [`time_to_live`](CacheBuilder::time_to_live)), and optionally a clock,
    /// an eviction listener, a sweeper or a hasher.
    pub fn builder() -> CacheBuilder<K, V, AnyPolicy> {
        CacheBuilder::new()
    }

    /// A cache as `config` describes it (see [`CacheConfig`]).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the offending field.
    pub fn from_config(config: &CacheConfig) -> Result<Self, ConfigError> {
        CacheBuilder::from_config(config)?.build()
    }
}

impl<K, V, P, S> Cache<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    pub(crate) fn from_inner(inner: Arc<Inner<K, V, P, S>>) -> Self {
        Cache { inner }
    }

    /// The live value for `key`, if any. A hit refreshes the entry's sliding
    /// deadline and its LRU position. An expired entry is never returned.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.inner.hasher.hash_one(key);
        match self.inner.lookup(key, hash, true) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss => None,
            Lookup::Expired => {
                self.inner.maintain();
                None
            }
        }
    }

    /// Whether `key` has a live entry. Unlike [`get`](Cache::get) this is not an
    /// access: it moves no deadline and no LRU position, and counts in no stat.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.contains(key, self.inner.hasher.hash_one(key))
    }

    /// Stores `value` under `key`, returning the live value it replaced (which the
    /// eviction listener also receives, with [`RemovalCause::Replaced`]). An entry that had
    /// expired is not replaced but reclaimed first ([`RemovalCause::Expired`]),
    /// and `None` is returned. The entry starts a new life: its TTL and maximum
    /// lifetime count from now.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.inner.hasher.hash_one(&key);
        let weight = self.inner.weigh(&key, &value);
        self.inner.write(|w| w.insert(key, hash, value, weight))
    }

    /// Removes `key`, returning its live value (also passed to the eviction listener with
    /// [`RemovalCause::Removed`]). An entry that had expired is reclaimed as
    /// [`RemovalCause::Expired`] instead, and `None` is returned.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = &self.inner;
        let hash = inner.hasher.hash_one(key);
        let peek = || {
            inner
                .table(hash)
                .read()
                .find(hash, key)
                .map(|(_, e)| e.value.clone())
        };
        let stale = faults::stale_peek(peek);
        inner.write(|w| {
            let removed = w.remove(key, hash);
            faults::stale_remove(stale, removed, |v| w.replace_last_removed_value(v))
        })
    }

    /// Removes every live entry for which `predicate(key, value)` is true
    /// ([`RemovalCause::Removed`]); returns how many. The predicate runs under the
    /// cache's locks: it must not call back into this cache.
    ///
    /// Like [`clear`](Cache::clear), it goes shard by shard: a concurrent read
    /// may see some matching entries gone and others not yet. If the predicate
    /// panics, the entries already removed stay removed and are reported to the
    /// listener; the rest stay.
    pub fn invalidate_if(&self, mut predicate: impl FnMut(&K, &V) -> bool) -> usize {
        self.inner
            .write(|w| w.remove_where(&mut predicate, RemovalCause::Removed))
    }

    /// Removes every entry ([`RemovalCause::Cleared`]; entries that had already
    /// expired are reported as [`RemovalCause::Expired`]).
    ///
    /// No other write interleaves with it, but entries go shard by shard: a
    /// concurrent [`get`](Cache::get) may find one key gone and another still
    /// there. When it returns, every entry held when it began has gone.
    pub fn clear(&self) {
        self.inner
            .write(|w| w.remove_where(&mut |_, _| true, RemovalCause::Cleared));
    }

    /// The number of entries held. Expired entries count until they are reclaimed
    /// (by the next write, [`run_maintenance`](Cache::run_maintenance) or a sweeper);
    /// they are never returned. Never more than a bounded policy's capacity.
    ///
    /// The count is published at the end of each write, after its evictions:
    /// while a write is in progress on another thread, its entry may already be
    /// readable with `len()` not counting it yet. Once every write has
    /// returned, `len()` is exact.
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Acquire)
    }

    /// Whether [`len`](Cache::len) is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys of every live entry, in no particular order. Read shard by
    /// shard while writes go on: every key live throughout the call is there,
    /// no expired one is, and a key inserted or removed during the call may or
    /// may not be.
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        self.inner.keys()
    }

    /// An iterator over the live entries, yielding `(key, value)` clones in no
    /// particular order (`for (k, v) in &cache` does the same). Iterating is
    /// not an access: like [`contains_key`](Cache::contains_key) it moves no
    /// deadline and no LRU position, and counts in no stat.
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let cache: Cache<&str, u32> = Cache::builder().max_capacity(10).build()?;
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// let mut entries: Vec<(&str, u32)> = cache.iter().collect();
    /// entries.sort();
    /// assert_eq!(entries, [("a", 1), ("b", 2)]);
    ///
    /// // No lock is held while the loop body runs: it may write to the cache.
    /// for (key, value) in cache.iter() {
    ///     cache.insert(key, value * 10);
    /// }
    /// assert_eq!(cache.get("a"), Some(10));
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    ///
    /// It goes shard by shard while writes go on. It takes the keys of one
    /// shard's live entries under that shard's read lock, releases it, and
    /// looks each key up again just before yielding it, so:
    ///
    /// - every key live for the whole iteration is yielded exactly once;
    /// - a key inserted or removed during the iteration may or may not be
    ///   yielded, and is yielded at most once (even if removed and inserted
    ///   again);
    /// - the value yielded is the one the key holds when it is yielded: never
    ///   one whose removal (or replacement) the eviction listener was told of
    ///   before that call to [`next`](Iterator::next) began, and never one past
    ///   its deadline at that moment.
    ///
    /// No lock is held between calls to `next`, so the loop body may call any
    /// method of this cache (`insert`, `remove`, `get_or_create`, ...).
    ///
    /// Memory: besides what it yields, the iterator holds the keys of one
    /// shard's live entries at a time, as `K` clones in one `Vec` reused from
    /// shard to shard: at most as many keys as the largest shard held when it
    /// was visited, about `len() / shards` when keys hash evenly (see
    /// [`CacheBuilder::shards`]). It never copies the whole cache.
    pub fn iter(&self) -> Iter<'_, K, V, P, S>
    where
        K: Clone,
    {
        Iter::new(&self.inner)
    }

    /// Up to `n` live keys the cache would evict first, the first of them
    /// first: its retention order from the cold end.
    ///
    /// The order is the policy's ([`Policy::coldest_first`], where each
    /// built-in policy says what it means and how exact it is): least recently
    /// used first for an LRU bound, the hand's order for SIEVE, the queues'
    /// for S3-FIFO, regions and key frequencies for TinyLFU. A policy with
    /// only time rules (`time_to_idle`, `time_to_live` without a capacity) has
    /// no order of its own: entries are then ordered by deadline, earliest
    /// first, and an entry that never expires comes last. A custom policy
    /// that gives no order, in a cache without deadlines, gives an empty
    /// snapshot.
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let cache: Cache<&str, u32> = Cache::builder().max_capacity(3).build()?;
    /// cache.insert("a", 1);
    /// cache.insert("b", 2);
    /// cache.insert("c", 3);
    /// cache.get("a");
    /// assert_eq!(cache.coldest(2), ["b", "c"]);
    /// // So the next insert evicts "b".
    /// cache.insert("d", 4);
    /// assert!(!cache.contains_key("b"));
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    ///
    /// A snapshot of one moment: it takes the policy lock (so no write
    /// interleaves) and replays the buffered reads first, so a single-threaded
    /// program sees every read it made; under concurrency a read another
    /// thread made meanwhile may not count yet, as for eviction itself. It is
    /// not an access and not a write: it moves no entry, takes no read mark,
    /// reclaims and evicts nothing, tells the listener nothing and counts in
    /// no stat. An expired entry is never named. It costs O(entries) at most
    /// (the walk stops once it has `n` keys, past slots whose entries are
    /// gone or expired) under the policy lock, which every write waits for,
    /// and allocates the result.
    pub fn coldest(&self, n: usize) -> Vec<K>
    where
        K: Clone,
    {
        self.inner.retention(n, End::Coldest)
    }

    /// Up to `n` live keys the cache would keep longest, the hottest first:
    /// the other end of [`coldest`](Cache::coldest)'s order (by deadline, the
    /// latest first, for a cache with only time rules).
    ///
    /// A warm restart: note the hottest keys before shutting down, and make
    /// their values in the new process before it takes traffic (see
    /// `docs/warm-restart.md`). Making them coldest first leaves the new
    /// cache in the old one's order:
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let connect = |host: &str| format!("connection to {host}");
    /// let old: Cache<String, String> = Cache::builder().max_capacity(1_000).build()?;
    /// for host in ["db-1", "db-2", "db-3", "db-2"] {
    ///     old.get_or_create(host.to_string(), || connect(host));
    /// }
    ///
    /// // Before shutdown: what to bring back (saved to a file, say).
    /// let warm = old.hottest(100);
    /// assert_eq!(warm, ["db-2", "db-3", "db-1"]);
    ///
    /// // On start, before serving: make those first.
    /// let new: Cache<String, String> = Cache::builder().max_capacity(1_000).build()?;
    /// for host in warm.iter().rev() {
    ///     new.get_or_create(host.clone(), || connect(host));
    /// }
    /// assert_eq!(new.get("db-2").as_deref(), Some("connection to db-2"));
    /// assert_eq!(new.hottest(100), warm);
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    ///
    /// The same snapshot as [`coldest`](Cache::coldest), with the same cost:
    /// not an access, so taking it before shutdown does not make anything
    /// hotter. It walks the whole order to reach its hot end, and holds the
    /// slots of every entry (4 bytes each) while it does.
    pub fn hottest(&self, n: usize) -> Vec<K>
    where
        K: Clone,
    {
        self.inner.retention(n, End::Hottest)
    }

    /// Replays buffered reads into the policy and reclaims every entry whose
    /// deadline has passed: afterwards no entry past its deadline at the time of
    /// the call remains, whatever threads read what. Every write does the same;
    /// sweepers call this; so can you, e.g. from your own timer.
    ///
    /// With the `metrics` feature, a cache given a `metrics_name` on its
    /// builder then publishes its stats (see `publish_metrics`), as each
    /// sweeper pass does.
    pub fn run_maintenance(&self) {
        self.inner.maintain();
        #[cfg(feature = "metrics")]
        self.inner.publish_metrics();
    }

    /// Publishes a snapshot of [`stats`](Cache::stats) through the
    /// [`metrics`](::metrics) facade, to the recorder current on this thread,
    /// under the name given to [`CacheBuilder::metrics_name`] (which lists the
    /// metrics). A cache built without a name publishes nothing.
    ///
    /// [`run_maintenance`](Cache::run_maintenance) and every sweeper pass do this
    /// already; call it yourself to publish at other moments, e.g. just before
    /// your exporter is scraped, or for a cache that has no sweeper.
    ///
    /// ```
    /// use metrics_util::debugging::DebuggingRecorder;
    /// use tenure::Cache;
    ///
    /// let recorder = DebuggingRecorder::new();
    /// let snapshotter = recorder.snapshotter();
    /// let cache: Cache<u32, u32> = Cache::builder().max_capacity(10).metrics_name("sessions").build()?;
    /// cache.get_or_create(1, || 10);
    /// cache.get(&1);
    /// metrics::with_local_recorder(&recorder, || cache.publish_metrics());
    /// let published = snapshotter.snapshot().into_vec();
    /// let hits = published
    ///     .into_iter()
    ///     .find_map(|(key, _, _, value)| (key.key().name() == "tenure_cache_hits_total").then_some(value));
    /// assert_eq!(hits, Some(metrics_util::debugging::DebugValue::Counter(1)));
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn publish_metrics(&self) {
        self.inner.publish_metrics();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CacheStats {
        self.inner.stats()
    }

    /// The value for `key`, made by `create` if there is none. Concurrent callers
    /// for the same key wait for one creator and share its value; callers for other
    /// keys never wait on it. If the creator panics, one waiter takes over.
    ///
    /// It is one step as far as any other call can tell. If the key is written
    /// while `create` runs (an [`insert`](Cache::insert) from another thread, or
    /// from `create` itself), that value stands: it is returned, to this caller
    /// and every waiter, and the value `create` made is dropped, never stored,
    /// never passed to the eviction listener and not counted in
    /// [`CacheStats::creations`].
    ///
    /// ```
    /// use tenure::Cache;
    ///
    /// let cache: Cache<&str, u32> = Cache::builder().max_capacity(10).build()?;
    /// let got = cache.get_or_create("k", || {
    ///     cache.insert("k", 1); // written while the creator runs
    ///     2
    /// });
    /// assert_eq!((got, cache.get("k")), (1, Some(1)));
    /// assert_eq!(cache.stats().creations, 0);
    /// # Ok::<(), tenure::ConfigError>(())
    /// ```
    ///
    /// # Panics
    /// If `create` asks this cache for `key` itself (any get-or-create form,
    /// sync or async, on the thread running `create`): that call would wait for
    /// `create` to finish, forever, so it panics at once saying that the creator
    /// for this key asked for the same key. The panic unwinds out of `create` as
    /// any creator panic does: a waiter takes over, later callers create
    /// normally. Asking for other keys from inside `create` is fine; a creator
    /// that waits on another thread which asks for its key is not detected.
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
    /// use tenure::Cache;
    ///
    /// let cache: Cache<String, usize> = Cache::builder().max_capacity(10).build()?;
    /// let len = |k: &str| cache.try_get_or_create_ref(k, |k| Ok::<_, ()>(k.to_owned()), |k| Ok(k.len()));
    /// assert_eq!(len("four"), Ok(4));
    /// assert_eq!(len("four"), Ok(4)); // a hit: no String was made
    /// assert_eq!(cache.stats().creations, 1);
    /// # Ok::<(), tenure::ConfigError>(())
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
            match self.inner.join(key, || to_key(key), true)? {
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
    /// future is dropped before it finishes, one waiter takes over. A waiting
    /// future that is dropped (cancelled) releases its waker at once.
    ///
    /// # Panics
    /// If the creator's future, while it is polled, asks for `key` itself
    /// (awaiting any get-or-create form for `key`, or calling a sync one): it
    /// would wait for itself forever, so that call panics at once, as in
    /// [`get_or_create`](Cache::get_or_create), and a waiter takes over. Two
    /// callers for `key` polled side by side in one task (`join!`, `select!`)
    /// are not nested: the second waits for the first as usual. A creator that
    /// spawns a task asking for `key` and then awaits that task is not detected
    /// and never finishes: do not.
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
            match self.inner.join(&key, || Ok(key.clone()), false)? {
                Joined::Hit(v) => return Ok(v),
                Joined::Wait(flight) => {
                    if let Some(v) = flight.wait_async().await {
                        return Ok(v);
                    }
                }
                Joined::Create(creation) => break creation,
            }
        };
        let value = creation.flight().poll_creator(create()).await?;
        Ok(creation.finish(value))
    }

    /// Starts a sweeper on a std thread that calls
    /// [`run_maintenance`](Cache::run_maintenance) every `interval`. It holds only a
    /// weak reference: it stops when the returned handle or the cache is dropped,
    /// and never keeps the process alive. The cache forgets a sweeper once it has
    /// stopped, so starting and stopping sweepers does not accumulate memory.
    ///
    /// A panic from the eviction listener during a sweep does not end the
    /// sweeper: it is caught, counted in [`CacheStats::listener_panics`], and the
    /// next sweep runs on time; the cache stays consistent (see
    /// [`CacheBuilder::eviction_listener`]).
    ///
    /// # Errors
    /// [`SweeperError::IntervalTooShort`] if `interval` is under
    /// [`Sweeper::MIN_INTERVAL`] (1 ms).
    pub fn start_sweeper(&self, interval: Duration) -> Result<Sweeper, SweeperError> {
        Ok(self.register(Sweeper::thread(self.weak(), interval)?))
    }

    /// Starts a sweeper as a task on the current tokio runtime (which also makes it
    /// follow tokio's paused time in tests). Stops like
    /// [`start_sweeper`](Cache::start_sweeper)'s.
    ///
    /// # Errors
    /// [`SweeperError::NoTokioRuntime`] if called outside a tokio runtime,
    /// [`SweeperError::IntervalTooShort`] if `interval` is under
    /// [`Sweeper::MIN_INTERVAL`].
    #[cfg(feature = "tokio")]
    pub fn start_tokio_sweeper(&self, interval: Duration) -> Result<Sweeper, SweeperError> {
        Ok(self.register(Sweeper::tokio(self.weak(), interval)?))
    }

    /// Starts the sweeper the builder asked for; it lives as long as the cache.
    /// The builder has checked `interval`; a tokio sweeper outside a runtime
    /// falls back to a thread.
    pub(crate) fn start_owned_sweeper(&self, interval: Duration, on_tokio: bool) {
        let sweeper = Sweeper::configured(self.weak(), interval, on_tokio)
            .expect("a checked interval starts a sweeper, on a thread if need be");
        *self.inner.owned_sweeper.lock() = Some(self.register(sweeper));
    }

    fn weak(&self) -> Weak<dyn Maintain> {
        let strong: Arc<dyn Maintain> = self.inner.clone();
        Arc::downgrade(&strong)
    }

    fn register(&self, sweeper: Sweeper) -> Sweeper {
        self.inner.sweepers.register(&sweeper);
        sweeper
    }
}

/// `for (key, value) in &cache`: the same as [`Cache::iter`].
///
/// ```
/// use tenure::Cache;
///
/// let cache: Cache<u32, u32> = Cache::builder().max_capacity(10).build()?;
/// cache.insert(1, 10);
/// cache.insert(2, 20);
/// let mut total = 0;
/// for (_key, value) in &cache {
///     total += value;
/// }
/// assert_eq!(total, 30);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
impl<'a, K, V, P, S> IntoIterator for &'a Cache<K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    type Item = (K, V);
    type IntoIter = Iter<'a, K, V, P, S>;

    fn into_iter(self) -> Iter<'a, K, V, P, S> {
        self.iter()
    }
}
