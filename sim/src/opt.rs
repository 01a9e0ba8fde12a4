//! Bélády's optimal replacement (OPT, also called MIN), with demand fetch: the
//! ceiling no real policy can beat, to read every other hit ratio against.
//!
//! The rules are those of the cache replays: every lookup of a key not held is
//! a miss and stores the key; when that makes more than `capacity` keys held,
//! the held key whose next lookup is farthest in the future goes (a key never
//! looked up again is infinitely far). The key just stored is needed now, so it
//! is never the one evicted. OPT needs the whole future, so it replays a trace
//! held in memory rather than a stream.
//!
//! ```
//! use tenure_sim::opt::Belady;
//!
//! // With room for two keys, OPT keeps `a` (used again soonest) when `c` comes.
//! let belady = Belady::new([1, 2, 1, 3, 1, 2].to_vec());
//! let stats = belady.run(2);
//! assert_eq!((stats.hits, stats.accesses), (2, 6));
//! assert_eq!(stats.hit_ratio_percent(), 33.33);
//! ```

use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use foldhash::fast::FixedState;

use crate::run::RunStats;

/// The position of a key's next lookup, or [`NEVER`].
type Position = usize;

/// The next-use position of a key that is not looked up again.
const NEVER: Position = Position::MAX;

/// A trace prepared for OPT: its keys and, for each lookup, where the same key
/// is looked up next. Preparing costs one pass and a map of the distinct keys;
/// each [`run`](Belady::run) then takes O(n log capacity), and runs at
/// different capacities may share one `Belady` across threads.
#[derive(Debug, Clone)]
pub struct Belady {
    keys: Vec<u64>,
    /// `next_use[i]` is the position of the first lookup of `keys[i]` after
    /// `i`, or [`NEVER`].
    next_use: Vec<Position>,
    distinct: usize,
}

/// What an OPT replay measured. Nothing expires under OPT: its only removals
/// are for capacity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptStats {
    /// The capacity replayed.
    pub capacity: usize,
    /// Lookups replayed.
    pub accesses: u64,
    /// Lookups that found their key held.
    pub hits: u64,
    /// Keys evicted to stay within capacity.
    pub capacity_evicted: u64,
    /// Most keys held at once.
    pub peak_len: usize,
    /// Keys held at the end.
    pub final_len: usize,
}

impl OptStats {
    /// Lookups that missed (and stored their key).
    pub fn misses(&self) -> u64 {
        self.accesses - self.hits
    }

    /// Hits as a percentage of lookups, rounded to two decimals as the other
    /// replays print it ([`RunStats::hit_ratio_percent`](crate::RunStats::hit_ratio_percent));
    /// 0 for no lookups.
    pub fn hit_ratio_percent(&self) -> f64 {
        crate::run::percent_two_decimals(self.hits, self.accesses)
    }

    /// The same counts as the other replays report them, with `elapsed` as
    /// the time taken (nothing expires; no samples).
    pub fn to_run_stats(&self, elapsed: Duration) -> RunStats {
        RunStats {
            accesses: self.accesses,
            hits: self.hits,
            peak_len: self.peak_len,
            final_len: self.final_len,
            expired: 0,
            capacity_evicted: self.capacity_evicted,
            samples: Vec::new(),
            elapsed,
        }
    }
}

impl Belady {
    /// Prepares `keys`, the lookups in trace order.
    pub fn new(keys: Vec<u64>) -> Self {
        let mut next_use = vec![NEVER; keys.len()];
        let mut seen: HashMap<u64, Position, FixedState> = HashMap::default();
        for (i, &key) in keys.iter().enumerate().rev() {
            if let Some(later) = seen.insert(key, i) {
                next_use[i] = later;
            }
        }
        Belady {
            keys,
            next_use,
            distinct: seen.len(),
        }
    }

    /// The lookups, in trace order.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// How many distinct keys the trace looks up.
    pub fn distinct_keys(&self) -> usize {
        self.distinct
    }

    /// Replays the trace through an OPT cache holding at most `capacity` keys
    /// (a capacity of 0 is taken as 1: the key looked up is always stored).
    pub fn run(&self, capacity: usize) -> OptStats {
        let capacity = capacity.max(1);
        // Each held key maps to the position of its next lookup. The heap
        // orders held keys by that position, farthest first; an entry whose
        // position no longer matches the map is stale (the key was looked up
        // again since, or evicted) and is skipped when it surfaces.
        let mut held: HashMap<u64, Position, FixedState> = HashMap::default();
        let mut farthest: BinaryHeap<(Position, u64)> = BinaryHeap::new();
        let mut stats = OptStats {
            capacity,
            accesses: self.keys.len() as u64,
            ..OptStats::default()
        };
        for (&key, &next) in self.keys.iter().zip(&self.next_use) {
            match held.entry(key) {
                Entry::Occupied(mut found) => {
                    stats.hits += 1;
                    found.insert(next);
                }
                Entry::Vacant(slot) => {
                    slot.insert(next);
                    if held.len() > capacity {
                        self.evict_farthest(&mut held, &mut farthest, key);
                        stats.capacity_evicted += 1;
                    }
                }
            }
            farthest.push((next, key));
            stats.peak_len = stats.peak_len.max(held.len());
            // Stale entries would otherwise pile up to one per lookup.
            if farthest.len() > 2 * capacity + 1024 {
                farthest = held.iter().map(|(&k, &p)| (p, k)).collect();
            }
        }
        stats.final_len = held.len();
        stats
    }

    /// Evicts the held key other than `stored` whose next lookup is farthest.
    fn evict_farthest(
        &self,
        held: &mut HashMap<u64, Position, FixedState>,
        farthest: &mut BinaryHeap<(Position, u64)>,
        stored: u64,
    ) {
        // `stored` has no heap entry yet, so it cannot be popped here.
        while let Some((position, key)) = farthest.pop() {
            if key != stored && held.get(&key) == Some(&position) {
                held.remove(&key);
                return;
            }
        }
        unreachable!("a cache over capacity holds a key other than the one just stored");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    /// OPT by brute force: on each eviction, scan the future for every held key.
    fn slow_opt(keys: &[u64], capacity: usize) -> u64 {
        let mut held: Vec<u64> = Vec::new();
        let mut hits = 0;
        for (i, &key) in keys.iter().enumerate() {
            if held.contains(&key) {
                hits += 1;
                continue;
            }
            if held.len() == capacity {
                let next = |k: u64| {
                    keys[i + 1..]
                        .iter()
                        .position(|&x| x == k)
                        .unwrap_or(usize::MAX)
                };
                let victim = (0..held.len()).max_by_key(|&j| next(held[j])).unwrap();
                held.swap_remove(victim);
            }
            held.push(key);
        }
        hits
    }

    #[test]
    fn next_uses_point_at_the_next_lookup_of_the_same_key() {
        let belady = Belady::new(vec![7, 8, 7, 9, 8, 7]);
        assert_eq!(belady.next_use, [2, 4, 5, NEVER, NEVER, NEVER]);
    }

    #[test]
    fn evicts_the_key_used_farthest_ahead() {
        // Capacity 3. At `4` (position 3) the held keys 1, 2, 3 are next used
        // at 4, 6 and 5: 2 goes, though LRU would have evicted 1. At `2`
        // (position 6) 4 goes: never used again. At `5` (position 7), 2 goes
        // again (next used at 10, after 1 and 3), and at position 10, 5.
        let keys = vec![1, 2, 3, 4, 1, 3, 2, 5, 1, 3, 2];
        let stats = Belady::new(keys).run(3);
        // Hits: 1 and 3 at positions 4 and 5, and again at 8 and 9.
        assert_eq!(stats.hits, 4);
        // 7 misses, the first 3 of which fill the cache.
        assert_eq!(stats.capacity_evicted, 4);
        assert_eq!((stats.peak_len, stats.final_len), (3, 3));
    }

    #[test]
    fn a_loop_one_larger_than_the_cache_still_hits_mostly() {
        // LRU misses every lookup of a loop over capacity + 1 keys. OPT
        // misses the first pass (5), then evicts on each miss the key needed
        // last, so the next 3 lookups hit: one miss in every 4 lookups.
        let keys: Vec<u64> = (0..10).flat_map(|_| 0..5).collect();
        let stats = Belady::new(keys).run(4);
        assert_eq!(stats.accesses, 50);
        assert_eq!(stats.misses(), 5 + 45 / 4);
    }

    #[test]
    fn matches_brute_force_on_random_traces() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for round in 0..200 {
            let len = rng.random_range(1..=300usize);
            let distinct = rng.random_range(1..=40u64);
            let keys: Vec<u64> = (0..len).map(|_| rng.random_range(0..distinct)).collect();
            let belady = Belady::new(keys.clone());
            for capacity in [1, 2, 3, 5, 8, 20] {
                let stats = belady.run(capacity);
                assert_eq!(
                    stats.hits,
                    slow_opt(&keys, capacity),
                    "round {round} capacity {capacity}"
                );
                assert_eq!(stats.final_len, stats.peak_len.min(capacity));
            }
        }
    }

    #[test]
    fn more_room_never_hurts() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let keys: Vec<u64> = (0..5000).map(|_| rng.random_range(0..500u64)).collect();
        let belady = Belady::new(keys);
        let hits: Vec<u64> = (1..60).map(|c| belady.run(c * 10).hits).collect();
        assert!(hits.windows(2).all(|w| w[0] <= w[1]), "{hits:?}");
    }
}
