//! Every cache under test behind one small trait, [`Contender`].
//!
//! Workloads are generic over [`Contender`], so each cache's loop is compiled on
//! its own (no dynamic call per operation); [`Kind::build`] hands the concrete
//! cache to a [`Visit`] to get there from a runtime choice.
//! [`Kind::build_with_seeds`] builds the same caches with fixed hasher seeds,
//! for instruction counts that repeat exactly from run to run.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tenure::policy::{AnyPolicy, Hybrid, LruBound, Policy, S3Fifo, Sieve, SlidingTtl, TinyLfu};
use tenure::{Cache, CacheConfig, ConfigError, DefaultHashBuilder, ManualClock};

/// What every cache stores: a cheap handle, as a resource cache would.
pub type Value = Arc<u64>;

/// The hasher tenure uses, so the floor can be measured with the same one.
pub type FoldHash = foldhash::fast::RandomState;

/// Where the key hashers of tenure, quick_cache, `Mutex<lru>` and the foldhash
/// floor get their seeds (all of them hash with foldhash). moka, mini-moka and
/// the SipHash floor keep their own.
pub trait Seeds: 'static {
    /// foldhash's fast hasher: tenure's, `lru`'s and the floor's.
    type Fast: BuildHasher + Clone + Default + Send + Sync + 'static;
    /// foldhash's quality hasher: quick_cache's.
    type Quality: BuildHasher + Clone + Default + Send + Sync + 'static;
}

/// Each cache's default hasher, seeded per process (foldhash mixes in the
/// time): what a user gets, and what [`Kind::build`] builds.
#[derive(Debug)]
pub enum RandomSeeds {}

impl Seeds for RandomSeeds {
    type Fast = FoldHash;
    type Quality = quick_cache::DefaultHashBuilder;
}

/// The same hashers with foldhash's fixed seed, so two runs hash every key
/// alike and a run's instruction count repeats exactly (the cost of a hash
/// does not depend on its seed).
#[derive(Debug)]
pub enum FixedSeeds {}

impl Seeds for FixedSeeds {
    type Fast = foldhash::fast::FixedState;
    type Quality = foldhash::quality::FixedState;
}

/// Rust's default SipHash-1-3.
pub type SipHash = std::collections::hash_map::RandomState;

/// The operations the workloads need, implemented once per cache.
pub trait Contender: Send + Sync + 'static {
    /// A lookup; `Some` on a hit.
    fn get(&self, key: u64) -> Option<Value>;
    /// Returns the cached value for `key`, storing a clone of `value` if there
    /// was none. `true` means it was a hit.
    fn get_or_create(&self, key: u64, value: &Value) -> bool;
    /// Stores `value` under `key`.
    fn insert(&self, key: u64, value: Value);
    /// Entries held, after letting the cache finish pending bookkeeping.
    fn settled_len(&self) -> usize;
    /// Moves a simulated clock one step (for caches bounded by time rather
    /// than size in [`Setup::ticks_as_ttl`] mode); a no-op otherwise.
    fn tick(&self) {}
}

/// The caches this crate compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `RwLock<HashMap>` with foldhash (tenure's hasher): the floor.
    FloorFoldHash,
    /// `RwLock<HashMap>` with std SipHash.
    FloorSipHash,
    /// quick_cache's sync cache.
    QuickCache,
    /// `parking_lot::Mutex<lru::LruCache>`.
    MutexLru,
    /// moka's sync cache with `time_to_idle` and `max_capacity`.
    Moka,
    /// mini-moka's sync cache with `time_to_idle` and `max_capacity`.
    MiniMoka,
    /// tenure with [`SlidingTtl`].
    TenureSlidingTtl,
    /// tenure with [`LruBound`].
    TenureLruBound,
    /// tenure with [`Hybrid`].
    TenureHybrid,
    /// tenure with [`TinyLfu`].
    TenureTinyLfu,
    /// tenure with [`S3Fifo`].
    TenureS3Fifo,
    /// tenure with [`Sieve`].
    TenureSieve,
}

impl Kind {
    /// Every cache, floor first.
    pub const ALL: [Kind; 12] = [
        Kind::FloorFoldHash,
        Kind::FloorSipHash,
        Kind::QuickCache,
        Kind::MutexLru,
        Kind::Moka,
        Kind::MiniMoka,
        Kind::TenureSlidingTtl,
        Kind::TenureLruBound,
        Kind::TenureHybrid,
        Kind::TenureTinyLfu,
        Kind::TenureS3Fifo,
        Kind::TenureSieve,
    ];

    /// The name printed in (markdown) tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::FloorFoldHash => "`RwLock<HashMap>` foldhash (floor)",
            Kind::FloorSipHash => "`RwLock<HashMap>` SipHash",
            Kind::QuickCache => "quick_cache",
            Kind::MutexLru => "`Mutex<lru>`",
            Kind::Moka => "moka",
            Kind::MiniMoka => "mini-moka",
            Kind::TenureSlidingTtl => "tenure SlidingTtl",
            Kind::TenureLruBound => "tenure LruBound",
            Kind::TenureHybrid => "tenure Hybrid",
            Kind::TenureTinyLfu => "tenure TinyLfu",
            Kind::TenureS3Fifo => "tenure S3Fifo",
            Kind::TenureSieve => "tenure Sieve",
        }
    }

    /// The name used on command lines.
    pub fn label(self) -> &'static str {
        match self {
            Kind::FloorFoldHash => "floor",
            Kind::FloorSipHash => "floor-sip",
            Kind::QuickCache => "quick_cache",
            Kind::MutexLru => "lru",
            Kind::Moka => "moka",
            Kind::MiniMoka => "mini-moka",
            Kind::TenureSlidingTtl => "sliding",
            Kind::TenureLruBound => "lru-bound",
            Kind::TenureHybrid => "hybrid",
            Kind::TenureTinyLfu => "tinylfu",
            Kind::TenureS3Fifo => "s3fifo",
            Kind::TenureSieve => "sieve",
        }
    }

    /// Parses a [`label`](Kind::label).
    pub fn from_label(label: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == label)
    }

    /// A short name for charts.
    pub fn short_name(self) -> &'static str {
        match self {
            Kind::FloorFoldHash => "floor foldhash",
            Kind::FloorSipHash => "floor SipHash",
            Kind::QuickCache => "quick_cache",
            Kind::MutexLru => "Mutex<lru>",
            Kind::Moka => "moka",
            Kind::MiniMoka => "mini-moka",
            Kind::TenureSlidingTtl => "tenure SlidingTtl",
            Kind::TenureLruBound => "tenure LruBound",
            Kind::TenureHybrid => "tenure Hybrid",
            Kind::TenureTinyLfu => "tenure TinyLfu",
            Kind::TenureS3Fifo => "tenure S3Fifo",
            Kind::TenureSieve => "tenure Sieve",
        }
    }

    /// Whether this is one of tenure's policies.
    pub fn is_tenure(self) -> bool {
        matches!(
            self,
            Kind::TenureSlidingTtl
                | Kind::TenureLruBound
                | Kind::TenureHybrid
                | Kind::TenureTinyLfu
                | Kind::TenureS3Fifo
                | Kind::TenureSieve
        )
    }

    /// Builds this cache as `setup` says and hands it to `visit`.
    ///
    /// # Errors
    /// [`SetupError`] if `setup` has a zero capacity or TTL.
    pub fn build<V: Visit>(self, setup: &Setup, visit: V) -> Result<V::Output, SetupError> {
        self.build_with_seeds::<RandomSeeds, V>(setup, visit)
    }

    /// Like [`build`](Kind::build), with hashers seeded as `H` says.
    ///
    /// # Errors
    /// [`SetupError`] if `setup` has a zero capacity or TTL.
    pub fn build_with_seeds<H: Seeds, V: Visit>(
        self,
        setup: &Setup,
        visit: V,
    ) -> Result<V::Output, SetupError> {
        if setup.capacity == 0 {
            return Err(SetupError::ZeroCapacity);
        }
        if setup.ttl.is_zero() {
            return Err(SetupError::ZeroTtl);
        }
        let cap = setup.capacity;
        Ok(match self {
            Kind::FloorFoldHash => visit.visit(Floor::<H::Fast>::new(cap)),
            Kind::FloorSipHash => visit.visit(Floor::<SipHash>::new(cap)),
            // As `quick_cache::sync::Cache::new(cap)` builds it, with `H`'s hasher.
            Kind::QuickCache => visit.visit(quick_cache::sync::Cache::<u64, Value, _, _>::with(
                cap,
                cap as u64,
                quick_cache::UnitWeighter,
                H::Quality::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            )),
            Kind::MutexLru => visit.visit(MutexLru::with_hasher(cap, H::Fast::default())),
            Kind::Moka => visit.visit(
                moka::sync::Cache::<u64, Value>::builder()
                    .max_capacity(cap as u64)
                    .time_to_idle(setup.ttl)
                    .build(),
            ),
            Kind::MiniMoka => visit.visit(
                mini_moka::sync::Cache::<u64, Value>::builder()
                    .max_capacity(cap as u64)
                    .time_to_idle(setup.ttl)
                    .build(),
            ),
            Kind::TenureSlidingTtl if setup.ticks_as_ttl => {
                // A TTL of `capacity` ticks, one tick per operation: the cache
                // holds what was touched in the last `capacity` operations.
                let clock = ManualClock::new();
                let policy = SlidingTtl::new(Duration::from_nanos(cap as u64))?;
                let cache = Cache::builder()
                    .policy(policy)
                    .clock(clock.clone())
                    .hasher(H::Fast::default())
                    .build()
                    .expect("no sweeper, so the builder is valid");
                visit.visit(Tenure {
                    cache,
                    clock: Some(clock),
                })
            }
            Kind::TenureSlidingTtl => visit.visit(Tenure::with_hasher(
                SlidingTtl::new(setup.ttl)?,
                H::Fast::default(),
            )),
            Kind::TenureLruBound => {
                visit.visit(Tenure::with_hasher(LruBound::new(cap)?, H::Fast::default()))
            }
            Kind::TenureHybrid => visit.visit(Tenure::with_hasher(
                Hybrid::new(setup.ttl, cap)?,
                H::Fast::default(),
            )),
            Kind::TenureTinyLfu => {
                visit.visit(Tenure::with_hasher(TinyLfu::new(cap)?, H::Fast::default()))
            }
            Kind::TenureS3Fifo => {
                visit.visit(Tenure::with_hasher(S3Fifo::new(cap)?, H::Fast::default()))
            }
            Kind::TenureSieve => {
                visit.visit(Tenure::with_hasher(Sieve::new(cap)?, H::Fast::default()))
            }
        })
    }
}

/// How to build a cache for a workload.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The entry bound of size-bounded caches.
    pub capacity: usize,
    /// The idle TTL of time-bounded caches (moka's `time_to_idle`).
    pub ttl: Duration,
    /// If true, tenure's [`SlidingTtl`] (which has no size bound) instead gets a
    /// manual clock advanced one nanosecond per operation and a TTL of
    /// `capacity` nanoseconds, so it stays bounded in workloads that need
    /// eviction.
    pub ticks_as_ttl: bool,
}

/// Why [`Kind::build`] refused a [`Setup`].
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `capacity` was zero.
    #[error("setup: capacity must be at least 1")]
    ZeroCapacity,
    /// `ttl` was zero.
    #[error("setup: ttl must be longer than zero")]
    ZeroTtl,
    /// tenure refused the policy.
    #[error("setup: {0}")]
    Policy(#[from] tenure::policy::PolicyError),
}

/// Receives a concrete cache from [`Kind::build`].
pub trait Visit {
    /// What the visit produces.
    type Output;
    /// Does the work with the concrete cache.
    fn visit<C: Contender>(self, cache: C) -> Self::Output;
}

/// The floor: one reader-writer lock around a std `HashMap`, with FIFO eviction
/// (a queue of keys in insertion order) once `capacity` is reached.
#[derive(Debug)]
pub struct Floor<S> {
    state: RwLock<FloorState<S>>,
    capacity: usize,
}

#[derive(Debug)]
struct FloorState<S> {
    map: HashMap<u64, Value, S>,
    order: VecDeque<u64>,
}

impl<S: BuildHasher + Default> Floor<S> {
    /// An empty floor map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Floor {
            state: RwLock::new(FloorState {
                map: HashMap::with_hasher(S::default()),
                order: VecDeque::new(),
            }),
            capacity,
        }
    }
}

impl<S: BuildHasher> FloorState<S> {
    fn insert(&mut self, key: u64, value: Value, capacity: usize) {
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
            if self.map.len() > capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.map.remove(&oldest);
                }
            }
        }
    }
}

impl<S: BuildHasher + Send + Sync + 'static> Contender for Floor<S> {
    fn get(&self, key: u64) -> Option<Value> {
        self.state.read().map.get(&key).cloned()
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        let mut state = self.state.write();
        if state.map.contains_key(&key) {
            return true;
        }
        state.insert(key, Arc::clone(value), self.capacity);
        false
    }

    fn insert(&self, key: u64, value: Value) {
        self.state.write().insert(key, value, self.capacity);
    }

    fn settled_len(&self) -> usize {
        self.state.read().map.len()
    }
}

/// `lru::LruCache` behind a `parking_lot::Mutex` (every get reorders, so it
/// needs the exclusive lock).
pub struct MutexLru<S = lru::DefaultHasher> {
    cache: Mutex<lru::LruCache<u64, Value, S>>,
}

impl MutexLru {
    /// An empty LRU of `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self::with_hasher(capacity, lru::DefaultHasher::default())
    }
}

impl<S: BuildHasher> MutexLru<S> {
    /// An empty LRU of `capacity` entries (at least one) hashing with `hasher`.
    pub fn with_hasher(capacity: usize, hasher: S) -> Self {
        let capacity = std::num::NonZeroUsize::new(capacity).unwrap_or(std::num::NonZeroUsize::MIN);
        MutexLru {
            cache: Mutex::new(lru::LruCache::with_hasher(capacity, hasher)),
        }
    }
}

impl<S: BuildHasher + Send + Sync + 'static> Contender for MutexLru<S> {
    fn get(&self, key: u64) -> Option<Value> {
        self.cache.lock().get(&key).cloned()
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        let mut cache = self.cache.lock();
        if cache.get(&key).is_some() {
            return true;
        }
        cache.put(key, Arc::clone(value));
        false
    }

    fn insert(&self, key: u64, value: Value) {
        self.cache.lock().put(key, value);
    }

    fn settled_len(&self) -> usize {
        self.cache.lock().len()
    }
}

impl<S: BuildHasher + Clone + Send + Sync + 'static> Contender
    for quick_cache::sync::Cache<u64, Value, quick_cache::UnitWeighter, S>
{
    fn get(&self, key: u64) -> Option<Value> {
        quick_cache::sync::Cache::get(self, &key)
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        let mut hit = true;
        let _ = self.get_or_insert_with(&key, || {
            hit = false;
            Ok::<_, std::convert::Infallible>(Arc::clone(value))
        });
        hit
    }

    fn insert(&self, key: u64, value: Value) {
        quick_cache::sync::Cache::insert(self, key, value);
    }

    fn settled_len(&self) -> usize {
        self.len()
    }
}

impl Contender for moka::sync::Cache<u64, Value> {
    fn get(&self, key: u64) -> Option<Value> {
        moka::sync::Cache::get(self, &key)
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        let mut hit = true;
        let _ = self.get_with(key, || {
            hit = false;
            Arc::clone(value)
        });
        hit
    }

    fn insert(&self, key: u64, value: Value) {
        moka::sync::Cache::insert(self, key, value);
    }

    fn settled_len(&self) -> usize {
        self.run_pending_tasks();
        self.entry_count() as usize
    }
}

impl Contender for mini_moka::sync::Cache<u64, Value> {
    fn get(&self, key: u64) -> Option<Value> {
        mini_moka::sync::Cache::get(self, &key)
    }

    // mini-moka has no single-flight get-or-insert: a get, then an insert on a miss.
    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        if mini_moka::sync::Cache::get(self, &key).is_some() {
            return true;
        }
        mini_moka::sync::Cache::insert(self, key, Arc::clone(value));
        false
    }

    fn insert(&self, key: u64, value: Value) {
        mini_moka::sync::Cache::insert(self, key, value);
    }

    fn settled_len(&self) -> usize {
        use mini_moka::sync::ConcurrentCacheExt;
        self.sync();
        self.entry_count() as usize
    }
}

/// A tenure cache, with the manual clock it reads in
/// [`Setup::ticks_as_ttl`] mode.
pub struct Tenure<P, S = DefaultHashBuilder> {
    cache: Cache<u64, Value, P, S>,
    clock: Option<ManualClock>,
}

impl<P: Policy> Tenure<P> {
    /// A tenure cache with `policy` and default settings (the system clock).
    pub fn new(policy: P) -> Self {
        Tenure {
            cache: Cache::new(policy),
            clock: None,
        }
    }
}

impl<P: Policy, S: BuildHasher + Send + Sync + 'static> Tenure<P, S> {
    /// Like [`new`](Tenure::new), hashing keys with `hasher`.
    pub fn with_hasher(policy: P, hasher: S) -> Self {
        Tenure {
            cache: Cache::builder()
                .policy(policy)
                .hasher(hasher)
                .build()
                .expect("no sweeper, so the builder is valid"),
            clock: None,
        }
    }
}

impl Tenure<AnyPolicy> {
    /// A tenure cache as `config` describes it, built the way a user builds
    /// one ([`Cache::from_config`]), on the system clock.
    ///
    /// # Errors
    /// The [`ConfigError`] naming the field `config` gets wrong.
    pub fn from_config(config: &CacheConfig) -> Result<Self, ConfigError> {
        Ok(Tenure {
            cache: Cache::from_config(config)?,
            clock: None,
        })
    }
}

impl<P, S> Contender for Tenure<P, S>
where
    P: Policy + Send + Sync + 'static,
    S: BuildHasher + Send + Sync + 'static,
{
    fn get(&self, key: u64) -> Option<Value> {
        self.cache.get(&key)
    }

    fn get_or_create(&self, key: u64, value: &Value) -> bool {
        let mut hit = true;
        let _ = self.cache.get_or_create(key, || {
            hit = false;
            Arc::clone(value)
        });
        hit
    }

    fn insert(&self, key: u64, value: Value) {
        self.cache.insert(key, value);
    }

    fn settled_len(&self) -> usize {
        self.cache.run_maintenance();
        self.cache.len()
    }

    fn tick(&self) {
        if let Some(clock) = &self.clock {
            clock.advance(Duration::from_nanos(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Exercise;

    impl Visit for Exercise {
        type Output = (bool, bool, Option<u64>, usize);
        fn visit<C: Contender>(self, cache: C) -> Self::Output {
            let value = Arc::new(5);
            let first = cache.get_or_create(1, &value);
            let second = cache.get_or_create(1, &Arc::new(6));
            for key in 2..50 {
                cache.insert(key, Arc::clone(&value));
            }
            (first, second, cache.get(1).map(|v| *v), cache.settled_len())
        }
    }

    #[test]
    fn every_cache_stores_counts_hits_and_stays_bounded() {
        let setup = Setup {
            capacity: 16,
            ttl: Duration::from_secs(3600),
            ticks_as_ttl: false,
        };
        for kind in Kind::ALL {
            for (first, second, _, len) in [
                kind.build(&setup, Exercise).unwrap(),
                kind.build_with_seeds::<FixedSeeds, _>(&setup, Exercise)
                    .unwrap(),
            ] {
                assert!(!first, "{}: first call must create", kind.name());
                assert!(second, "{}: second call must hit", kind.name());
                if kind == Kind::TenureSlidingTtl {
                    assert_eq!(len, 49, "SlidingTtl has no size bound");
                } else {
                    assert!(len <= 20, "{}: {len} entries for capacity 16", kind.name());
                }
            }
        }
    }

    #[test]
    fn ticking_sliding_ttl_expires_after_capacity_ticks() {
        struct Ticks;
        impl Visit for Ticks {
            type Output = (usize, bool);
            fn visit<C: Contender>(self, cache: C) -> Self::Output {
                let value = Arc::new(1);
                for key in 0..100 {
                    cache.tick();
                    cache.insert(key, Arc::clone(&value));
                }
                (cache.settled_len(), cache.get(0).is_some())
            }
        }
        let setup = Setup {
            capacity: 10,
            ttl: Duration::from_secs(3600),
            ticks_as_ttl: true,
        };
        let (len, oldest) = Kind::TenureSlidingTtl.build(&setup, Ticks).unwrap();
        assert_eq!(len, 10);
        assert!(!oldest);
    }

    #[test]
    fn labels_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_label(kind.label()), Some(kind));
        }
        assert_eq!(Kind::from_label("redis"), None);
    }

    #[test]
    fn zero_capacity_is_refused() {
        let setup = Setup {
            capacity: 0,
            ttl: Duration::from_secs(1),
            ticks_as_ttl: false,
        };
        assert!(matches!(
            Kind::Moka.build(&setup, Exercise),
            Err(SetupError::ZeroCapacity)
        ));
    }
}
