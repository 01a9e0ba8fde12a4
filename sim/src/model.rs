//! What a replay drives: the leaking map, or a real tenure cache.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;
use std::time::Duration;

use foldhash::fast::FixedState;
use tenure::policy::{AnyPolicy, Expiry, NewEntry, Policy, Slot, TimerWheel, Timestamp};
use tenure::{Cache, CacheConfig, ConfigError, ManualClock};

/// How both engines hash a key: the policies see these hashes (W-TinyLFU's
/// sketch and window tuner, S3-FIFO's ghost), so the two engines must agree
/// on them, and a replay must not depend on a random seed.
pub(crate) fn key_hasher() -> FixedState {
    FixedState::with_seed(0x7e9e_5eed)
}

/// The hash a model's cache hands its policy for `key` (in [`NewEntry`]):
/// what a driver of a bare policy should pass to replay as [`PolicyModel`]
/// and [`TenureModel`] do.
///
/// ```
/// assert_eq!(tenure_sim::cache_hash(7), tenure_sim::cache_hash(7));
/// assert_ne!(tenure_sim::cache_hash(7), 7);
/// ```
pub fn cache_hash(key: u64) -> u64 {
    key_hasher().hash_one(key)
}

/// A keyed cache under simulation: one lookup at a time, on a simulated clock.
pub trait Model {
    /// Moves simulated time to `now` (never backwards).
    fn advance_to(&mut self, now: Timestamp);
    /// Looks `key` up, creating its value on a miss; `true` on a hit.
    fn access(&mut self, key: u64) -> bool;
    /// Entries held now (for a tenure cache, expired ones not yet reclaimed count).
    fn len(&self) -> usize;
    /// Whether [`len`](Model::len) is zero.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// What a background sweeper does on each tick.
    fn sweep(&mut self);
    /// Entries removed so far because they expired.
    fn expired(&self) -> u64;
    /// Entries removed so far to stay within capacity.
    fn capacity_evicted(&self) -> u64;
}

/// The original code's cache: a plain `HashMap` that never forgets a key.
#[derive(Debug, Default)]
pub struct UnboundedMap {
    map: HashMap<u64, ()>,
}

impl Model for UnboundedMap {
    fn advance_to(&mut self, _now: Timestamp) {}

    fn access(&mut self, key: u64) -> bool {
        match self.map.entry(key) {
            Entry::Occupied(_) => true,
            Entry::Vacant(slot) => {
                slot.insert(());
                false
            }
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn sweep(&mut self) {}

    fn expired(&self) -> u64 {
        0
    }

    fn capacity_evicted(&self) -> u64 {
        0
    }
}

/// A real [`tenure::Cache`] on a [`ManualClock`], looked up with
/// [`get_or_create`](tenure::Cache::get_or_create) as a service would.
///
/// ```
/// use tenure::{CacheConfig, PolicyKind};
/// use tenure::policy::Timestamp;
/// use tenure_sim::{Model, TenureModel};
///
/// let config = CacheConfig {
///     policy: PolicyKind::SlidingTtl,
///     max_capacity: None,
///     time_to_idle: Some(std::time::Duration::from_secs(60)),
///     time_to_live: None,
///     sweep_interval: None,
/// };
/// let mut cache = TenureModel::new(&config)?;
/// assert!(!cache.access(1));
/// assert!(cache.access(1));
/// cache.advance_to(Timestamp::from_nanos(61_000_000_000));
/// assert!(!cache.access(1)); // idle for longer than the TTL
/// assert_eq!(cache.expired(), 1);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct TenureModel {
    cache: Cache<u64, (), AnyPolicy, FixedState>,
    clock: ManualClock,
}

impl TenureModel {
    /// A cache with `config`'s policy. The sweeper interval is not started as a
    /// thread: the replay calls [`Model::sweep`] at each simulated tick instead.
    ///
    /// # Errors
    /// The [`ConfigError`] that [`CacheConfig::to_policy`] reports.
    pub fn new(config: &CacheConfig) -> Result<Self, ConfigError> {
        let clock = ManualClock::new();
        let cache = Cache::builder()
            .policy(config.to_policy()?)
            .clock(clock.clone())
            .hasher(key_hasher())
            .build()?;
        Ok(TenureModel { cache, clock })
    }

    /// The cache itself, e.g. for its [`stats`](tenure::Cache::stats).
    pub fn cache(&self) -> &Cache<u64, (), AnyPolicy, FixedState> {
        &self.cache
    }
}

impl Model for TenureModel {
    fn advance_to(&mut self, now: Timestamp) {
        self.clock.set(now);
    }

    fn access(&mut self, key: u64) -> bool {
        let mut created = false;
        self.cache.get_or_create(key, || created = true);
        !created
    }

    fn len(&self) -> usize {
        self.cache.len()
    }

    fn sweep(&mut self) {
        self.cache.run_maintenance();
    }

    fn expired(&self) -> u64 {
        self.cache.stats().removals.expired
    }

    fn capacity_evicted(&self) -> u64 {
        self.cache.stats().removals.capacity
    }
}

/// tenure's policy state machine driven directly, single-threaded, by the
/// cache's own rules, without the concurrent machinery around it: about 3× faster
/// than [`TenureModel`] on long traces, and equal to it lookup for
/// lookup (the `policy_model_matches_the_cache` test replays random traffic
/// through both and compares every counter after every step).
///
/// The rules it follows are the cache's: a hit refreshes the entry's sliding
/// deadline and LRU position; an entry is expired at `last_access + ttl` (or
/// `created + max_lifetime`), and a lookup then misses; every write (a miss
/// creating a value, or a sweep) first removes *all* expired entries, then
/// stores, then evicts least-recently-used entries while over capacity.
///
/// ```
/// use tenure::{CacheConfig, PolicyKind};
/// use tenure_sim::{Model, PolicyModel};
///
/// let config = CacheConfig { policy: PolicyKind::Lru, max_capacity: Some(2), time_to_idle: None, time_to_live: None, sweep_interval: None };
/// let mut lru = PolicyModel::new(&config)?;
/// for key in [1, 2, 1, 3] {
///     lru.access(key);
/// }
/// assert!(lru.access(1)); // 1 was used more recently than 2
/// assert!(!lru.access(2)); // 2 was evicted for 3
/// assert_eq!(lru.capacity_evicted(), 2);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct PolicyModel {
    policy: AnyPolicy,
    expiry: Expiry,
    /// Deadlines, as the cache keeps them (present with time rules).
    timers: Option<TimerWheel>,
    uses_time: bool,
    /// Whether the policy wants reads (the cache skips them otherwise).
    tracks_reads: bool,
    now: Timestamp,
    index: HashMap<u64, u32, FixedState>,
    slots: Vec<SlotEntry>,
    free: Vec<u32>,
    len: usize,
    expired: u64,
    capacity_evicted: u64,
}

#[derive(Debug, Clone, Copy)]
struct SlotEntry {
    key: u64,
    created: Timestamp,
    last_access: Timestamp,
    live: bool,
}

impl PolicyModel {
    /// A model of a cache with `config`'s policy (the sweeper interval is the
    /// replay's business, as for [`TenureModel::new`]).
    ///
    /// # Errors
    /// The [`ConfigError`] that [`CacheConfig::to_policy`] reports.
    pub fn new(config: &CacheConfig) -> Result<Self, ConfigError> {
        let policy = config.to_policy()?;
        let expiry = policy.expiry();
        let tracks_reads = policy.tracks_reads();
        Ok(PolicyModel {
            policy,
            expiry,
            timers: TimerWheel::for_rules(&expiry),
            uses_time: expiry.uses_time(),
            tracks_reads,
            now: Timestamp::ZERO,
            index: HashMap::with_hasher(FixedState::default()),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            expired: 0,
            capacity_evicted: 0,
        })
    }

    /// Takes the entry in `slot` out; the policy (and the wheel, if
    /// `cancel`) forgets it.
    fn remove(&mut self, slot: Slot, cancel: bool) {
        let entry = &mut self.slots[slot.index()];
        if entry.live {
            entry.live = false;
            self.index.remove(&entry.key);
            self.free.push(slot.index() as u32);
            self.len -= 1;
        }
        self.policy.on_remove(slot);
        if let Some(timers) = self.timers.as_mut().filter(|_| cancel) {
            timers.cancel(slot);
        }
    }

    /// Removes every expired entry, as each cache write begins by doing: the
    /// wheel names the entries due by their scheduled deadline, and each is
    /// checked against its latest access.
    fn reclaim_expired(&mut self) {
        let Some(mut timers) = self.timers.take() else {
            return;
        };
        let now = self.now;
        timers.advance(now, |slot| {
            let entry = self.slots[slot.index()];
            match self.expiry.deadline(entry.created, entry.last_access) {
                Some(deadline) if deadline > now => Some(deadline),
                _ => {
                    self.expired += 1;
                    self.remove(slot, false);
                    None
                }
            }
        });
        self.timers = Some(timers);
    }

    /// The slot the next new entry will take.
    fn next_slot(&self) -> u32 {
        self.free.last().copied().unwrap_or(self.slots.len() as u32)
    }

    /// Fills slot `index` (from [`next_slot`](Self::next_slot), already in the
    /// index) with a new entry for `key`, then evicts while over the bound.
    fn store(&mut self, key: u64, index: u32) {
        let entry = SlotEntry {
            key,
            created: self.now,
            last_access: self.now,
            live: true,
        };
        if self.free.last() == Some(&index) {
            self.free.pop();
            self.slots[index as usize] = entry;
        } else {
            self.slots.push(entry);
        }
        self.len += 1;
        self.policy
            .on_insert(Slot::new(index), NewEntry::new(cache_hash(key)), self.now);
        if let (Some(timers), Some(deadline)) = (
            self.timers.as_mut(),
            self.expiry.deadline(self.now, self.now),
        ) {
            timers.schedule(Slot::new(index), deadline);
        }
        while let Some(victim) = self.policy.next_victim() {
            self.capacity_evicted += u64::from(self.slots[victim.index()].live);
            self.remove(victim, true);
        }
    }

    /// A lookup for a policy with time rules: a hit if the entry is alive;
    /// otherwise a write (reclaim, store, evict).
    fn access_timed(&mut self, key: u64) -> bool {
        if let Some(&index) = self.index.get(&key) {
            let entry = &mut self.slots[index as usize];
            if !self
                .expiry
                .is_expired(entry.created, entry.last_access, self.now)
            {
                entry.last_access = self.now;
                if self.tracks_reads {
                    self.policy.on_access(Slot::new(index), self.now);
                }
                return true;
            }
        }
        self.reclaim_expired();
        if let Some(&stale) = self.index.get(&key) {
            // Reclaiming leaves no expired entry, so this is not reached; if
            // it were, the cache's insert would replace it, and so does this.
            self.remove(Slot::new(stale), true);
        }
        let index = self.next_slot();
        self.index.insert(key, index);
        self.store(key, index);
        false
    }
}

impl Model for PolicyModel {
    fn advance_to(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
    }

    #[inline]
    fn access(&mut self, key: u64) -> bool {
        if self.uses_time {
            return self.access_timed(key);
        }
        // Without time rules a miss has nothing to reclaim before it stores,
        // so one hash lookup both decides and stores.
        let index = self.next_slot();
        match self.index.entry(key) {
            Entry::Occupied(found) => {
                self.policy.on_access(Slot::new(*found.get()), self.now);
                true
            }
            Entry::Vacant(slot) => {
                slot.insert(index);
                self.store(key, index);
                false
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn sweep(&mut self) {
        self.reclaim_expired();
    }

    fn expired(&self) -> u64 {
        self.expired
    }

    fn capacity_evicted(&self) -> u64 {
        self.capacity_evicted
    }
}

/// `d` in whole nanoseconds, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};
    use tenure::PolicyKind;

    fn config(
        policy: PolicyKind,
        ttl: Option<u64>,
        capacity: Option<usize>,
        max: Option<u64>,
    ) -> CacheConfig {
        let secs = Duration::from_secs;
        CacheConfig {
            policy,
            max_capacity: capacity.map(|c| c as u64),
            time_to_idle: ttl.map(secs),
            time_to_live: max.map(secs),
            sweep_interval: None,
        }
    }

    /// Random traffic over few keys and short times, so that hits, expiry,
    /// eviction and re-creation all happen often; every counter must agree
    /// after every step.
    #[test]
    fn policy_model_matches_the_cache() {
        let configs = [
            config(PolicyKind::Lru, None, Some(1), None),
            config(PolicyKind::Lru, None, Some(5), None),
            config(PolicyKind::SlidingTtl, Some(5), None, None),
            config(PolicyKind::SlidingTtl, Some(5), None, Some(12)),
            config(PolicyKind::Hybrid, Some(5), Some(4), None),
            config(PolicyKind::Hybrid, Some(4), Some(6), Some(9)),
            config(PolicyKind::TinyLfu, None, Some(5), None),
            config(PolicyKind::TinyLfu, Some(5), Some(6), None),
            config(PolicyKind::S3Fifo, None, Some(5), None),
            config(PolicyKind::S3Fifo, Some(4), Some(6), Some(9)),
            config(PolicyKind::Sieve, None, Some(5), None),
            config(PolicyKind::Sieve, Some(5), Some(6), None),
        ];
        for (c, config) in configs.iter().enumerate() {
            let (mut hits, mut expired, mut evicted) = (0, 0, 0);
            for seed in 0..20 {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed * 100 + c as u64);
                let mut fast = PolicyModel::new(config).unwrap();
                let mut real = TenureModel::new(config).unwrap();
                let mut now = 0;
                for step in 0..400 {
                    now += rng.random_range(0..3) * 1_000_000_000;
                    let at = Timestamp::from_nanos(now);
                    fast.advance_to(at);
                    real.advance_to(at);
                    if rng.random_range(0..10) == 0 {
                        fast.sweep();
                        real.sweep();
                    } else {
                        let key = rng.random_range(0..12);
                        let hit = fast.access(key);
                        hits += u64::from(hit);
                        assert_eq!(
                            hit,
                            real.access(key),
                            "{config:?} seed {seed} step {step} key {key}"
                        );
                    }
                    let what = format!("{config:?} seed {seed} step {step}");
                    assert_eq!(fast.len(), real.len(), "len: {what}");
                    assert_eq!(fast.expired(), real.expired(), "expired: {what}");
                    assert_eq!(
                        fast.capacity_evicted(),
                        real.capacity_evicted(),
                        "capacity: {what}"
                    );
                }
                expired += fast.expired();
                evicted += fast.capacity_evicted();
            }
            // The traffic must exercise every rule the config has.
            assert!(hits > 200, "{config:?}: {hits} hits");
            assert_eq!(
                expired > 1000,
                config.time_to_idle.is_some(),
                "{config:?}: {expired} expired"
            );
            assert_eq!(
                evicted > 20,
                config.max_capacity.is_some(),
                "{config:?}: {evicted} evicted"
            );
        }
    }

    #[test]
    fn the_unbounded_map_never_forgets() {
        let mut map = UnboundedMap::default();
        map.advance_to(Timestamp::MAX);
        assert!(!map.access(1));
        map.sweep();
        assert!(map.access(1));
        assert_eq!(
            (map.len(), map.expired(), map.capacity_evicted()),
            (1, 0, 0)
        );
    }
}
