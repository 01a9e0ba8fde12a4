//! Counters: what the cache did since it was made.

use serde::Serialize;

use crate::RemovalCause;
use crate::sync::{AtomicU64, Ordering};

/// A snapshot of a cache's counters. Serializes with serde (for a metrics endpoint).
///
/// ```
/// use tenure::Cache;
///
/// let cache: Cache<u32, u32> = Cache::builder().max_capacity(10).build()?;
/// cache.get_or_create(1, || 10);
/// cache.get_or_create(1, || unreachable!());
/// let stats = cache.stats();
/// assert_eq!((stats.hits, stats.misses, stats.creations), (1, 1, 1));
/// assert_eq!(stats.hit_ratio(), 0.5);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found nothing, or an expired entry.
    pub misses: u64,
    /// Values made by a get-or-create creator and stored. A value made while
    /// another call wrote the key is dropped unstored, and not counted.
    pub creations: u64,
    /// Creators that returned an error, panicked, or were dropped before finishing.
    pub creation_failures: u64,
    /// Entries that left the cache, by cause.
    pub removals: RemovalCounts,
    /// Calls of the eviction listener that panicked, wherever they ran (a
    /// caller's operation, or a sweeper, which catches the panic and goes on).
    pub listener_panics: u64,
    /// Entries held when the snapshot was taken.
    pub len: usize,
    /// Their total weight: what a weighted capacity bounds. Equal to `len`
    /// unless the cache has a weigher.
    pub weighted_size: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, or 0 before any lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

/// Removals by [`RemovalCause`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RemovalCounts {
    /// See [`RemovalCause::Expired`].
    pub expired: u64,
    /// See [`RemovalCause::Capacity`].
    pub capacity: u64,
    /// See [`RemovalCause::Removed`].
    pub removed: u64,
    /// See [`RemovalCause::Replaced`].
    pub replaced: u64,
    /// See [`RemovalCause::Cleared`].
    pub cleared: u64,
}

impl RemovalCounts {
    /// The count for one cause.
    pub fn get(&self, cause: RemovalCause) -> u64 {
        match cause {
            RemovalCause::Expired => self.expired,
            RemovalCause::Capacity => self.capacity,
            RemovalCause::Removed => self.removed,
            RemovalCause::Replaced => self.replaced,
            RemovalCause::Cleared => self.cleared,
            _ => 0,
        }
    }

    /// All removals.
    pub fn total(&self) -> u64 {
        RemovalCause::ALL.iter().map(|&c| self.get(c)).sum()
    }
}

/// The write-side counters. Creations and removals are counted under the
/// policy lock, one writer at a time, so a load and a store suffice.
#[derive(Debug, Default)]
pub(crate) struct WriteCounters {
    creations: AtomicU64,
    creation_failures: AtomicU64,
    listener_panics: AtomicU64,
    removals: [AtomicU64; 5],
}

impl WriteCounters {
    /// Counts a creation (under the policy lock).
    pub(crate) fn created(&self) {
        bump_locked(&self.creations);
    }

    /// Counts a removal (under the policy lock).
    pub(crate) fn removed(&self, cause: RemovalCause) {
        let i = RemovalCause::ALL
            .iter()
            .position(|&c| c == cause)
            .unwrap_or(0);
        bump_locked(&self.removals[i]);
    }

    /// Counts a creator that failed (any thread, no lock).
    pub(crate) fn creation_failed(&self) {
        self.creation_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a listener call that panicked (any thread, no lock).
    pub(crate) fn listener_panicked(&self) {
        self.listener_panics.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with the read side's `hits` and `misses`.
    pub(crate) fn snapshot(
        &self,
        hits: u64,
        misses: u64,
        len: usize,
        weighted_size: u64,
    ) -> CacheStats {
        let [expired, capacity, removed, replaced, cleared] =
            std::array::from_fn(|i| self.removals[i].load(Ordering::Relaxed));
        CacheStats {
            hits,
            misses,
            creations: self.creations.load(Ordering::Relaxed),
            creation_failures: self.creation_failures.load(Ordering::Relaxed),
            listener_panics: self.listener_panics.load(Ordering::Relaxed),
            removals: RemovalCounts {
                expired,
                capacity,
                removed,
                replaced,
                cleared,
            },
            len,
            weighted_size,
        }
    }
}

/// Bumps a counter that only the policy-lock holder writes.
fn bump_locked(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}
