//! Retention snapshots (`Cache::coldest`, `Cache::hottest`): for every
//! built-in bound the cold end is what the cache evicts next (exactly, checked
//! through the listener; TinyLFU one victim at a time, as documented), the
//! hot end is its reverse, a cache with only time rules orders by deadline, a
//! snapshot is not an access, expired entries never appear, and snapshots
//! taken while other threads write never panic, hang or repeat a key.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::{Removals, within_patience};
use tenure::{Cache, EvictionPolicy, ManualClock, RemovalCause};

const CAPACITY: u32 = 20;
const TTL: Duration = Duration::from_secs(60);
const SECOND: Duration = Duration::from_secs(1);

/// A bounded cache of `CAPACITY` on a manual clock, with a listener; with a
/// time-to-idle if `timed` (LRU then becomes `Hybrid`).
fn bounded(
    policy: EvictionPolicy,
    timed: bool,
) -> (Cache<u32, u32>, Removals<u32, u32>, ManualClock) {
    let removals = Removals::new();
    let clock = ManualClock::new();
    let mut builder = Cache::builder()
        .max_capacity(CAPACITY.into())
        .eviction_policy(policy)
        .shards(4)
        .clock(clock.clone())
        .eviction_listener(removals.listener());
    if timed {
        builder = builder.time_to_idle(TTL);
    }
    (builder.build().expect("a valid cache"), removals, clock)
}

/// The bounds whose cold end is exact for `k` evictions in a row, each with
/// a reading pattern it ranks by: (name, policy, timed, reads).
fn exact_bounds() -> Vec<(&'static str, EvictionPolicy, bool, Vec<u32>)> {
    // LRU: recency, with a key read twice and the newest read.
    let recency = vec![5, 0, 19, 3, 5];
    // S3-FIFO promotes keys read twice; SIEVE spares keys read once.
    let twice = vec![0, 0, 1, 1, 2, 2, 5, 5, 9, 9];
    let once = vec![0, 1, 2, 5, 9];
    vec![
        ("lru", EvictionPolicy::lru(), false, recency.clone()),
        ("hybrid", EvictionPolicy::lru(), true, recency),
        ("s3-fifo", EvictionPolicy::s3_fifo(), false, twice),
        ("sieve", EvictionPolicy::sieve(), false, once),
    ]
}

/// Fills a fresh cache with keys `0..CAPACITY`, one clock second apart, then
/// reads `reads`.
fn filled(
    policy: EvictionPolicy,
    timed: bool,
    reads: &[u32],
) -> (Cache<u32, u32>, Removals<u32, u32>, ManualClock) {
    let (cache, removals, clock) = bounded(policy, timed);
    for k in 0..CAPACITY {
        cache.insert(k, k);
        clock.advance(SECOND);
    }
    for k in reads {
        assert_eq!(cache.get(k), Some(*k));
    }
    (cache, removals, clock)
}

/// Stores the `k` new keys from `first` on (none read since the snapshot);
/// returns the keys evicted, in the order the listener heard of them.
fn evicted_by_new_keys(
    cache: &Cache<u32, u32>,
    removals: &Removals<u32, u32>,
    first: u32,
    k: u32,
) -> Vec<u32> {
    removals.take();
    for key in first..first + k {
        cache.insert(key, 0);
    }
    let removed = removals.take();
    assert!(
        removed
            .iter()
            .all(|&(_, _, cause)| cause == RemovalCause::Capacity)
    );
    removed.into_iter().map(|(key, _, _)| key).collect()
}

#[test]
fn the_cold_end_is_what_new_keys_evict_next() {
    for (name, policy, timed, reads) in exact_bounds() {
        for k in [1, 3, 8, 15] {
            let (cache, removals, _clock) = filled(policy, timed, &reads);
            let coldest = cache.coldest(k as usize);
            assert_eq!(coldest.len(), k as usize, "{name}, k = {k}");
            let evicted = evicted_by_new_keys(&cache, &removals, 1_000, k);
            assert_eq!(evicted, coldest, "{name}, k = {k}");
        }
    }
}

#[test]
fn the_whole_order_and_its_hot_end_for_each_bound() {
    let lru: Vec<u32> = (1..19)
        .filter(|k| ![3, 5].contains(k))
        .chain([0, 19, 3, 5])
        .collect();
    // S3-FIFO: the unpromotable first, then those it would promote.
    let s3: Vec<u32> = (0..20)
        .filter(|k| ![0, 1, 2, 5, 9].contains(k))
        .chain([0, 1, 2, 5, 9])
        .collect();
    // SIEVE: the hand at the oldest; unvisited first, then visited.
    let sieve = s3.clone();
    let expected = [lru.clone(), lru, s3, sieve];
    for ((name, policy, timed, reads), expected) in exact_bounds().into_iter().zip(expected) {
        let (cache, _removals, _clock) = filled(policy, timed, &reads);
        assert_eq!(cache.coldest(usize::MAX), expected, "{name}");
        let hottest: Vec<u32> = expected.iter().rev().copied().collect();
        assert_eq!(cache.hottest(usize::MAX), hottest, "{name}");
        assert_eq!(cache.hottest(3), hottest[..3], "{name}");
        assert_eq!(cache.coldest(3), expected[..3], "{name}");
        assert!(cache.coldest(0).is_empty() && cache.hottest(0).is_empty());
    }
}

/// TinyLFU's documented guarantee: the first key named is the next victim
/// of a new key (it ranks the window's candidate against main's victim by
/// frequency). Checked one eviction at a time, with reads that raise some
/// keys' counts and protect others.
#[test]
fn tiny_lfu_names_each_next_victim() {
    let (cache, removals, _clock) = bounded(EvictionPolicy::tiny_lfu(), false);
    for k in 0..CAPACITY {
        cache.insert(k, k);
    }
    // Counts stay below 6, where admission is never random.
    for k in [2, 2, 4, 7, 7, 11, 19, 19] {
        cache.get(&k);
    }
    let mut named = Vec::new();
    for n in 0..30 {
        let next = cache.coldest(1);
        assert_eq!(next.len(), 1);
        let evicted = evicted_by_new_keys(&cache, &removals, 1_000 + n, 1);
        assert_eq!(evicted, next, "insert {n}");
        named.extend(next);
        // The newest key read now and then, so the window's candidate
        // sometimes wins its way in against main's victim.
        if n % 4 == 0 {
            cache.get(&(1_000 + n));
        }
    }
    // Both sides won: main's victims and window candidates were named.
    assert!(named.iter().any(|&k| k < CAPACITY) && named.iter().any(|&k| k >= 1_000));
    // The popular keys were never named.
    assert!(named.iter().all(|k| ![2, 7, 19].contains(k)), "{named:?}");
    // The hot end is the reverse of the cold end.
    let mut all = cache.coldest(usize::MAX);
    assert_eq!(all.len(), CAPACITY as usize);
    all.reverse();
    assert_eq!(cache.hottest(usize::MAX), all);
}

#[test]
fn time_rules_alone_order_by_deadline() {
    let clock = ManualClock::new();
    let cache: Cache<u32, u32> = Cache::builder()
        .time_to_idle(TTL)
        .clock(clock.clone())
        .shards(4)
        .build()
        .unwrap();
    for k in 0..6 {
        cache.insert(k, k);
        clock.advance(SECOND);
    }
    // Read at 6 s: key 2 now expires last.
    cache.get(&2);
    assert_eq!(cache.coldest(10), [0, 1, 3, 4, 5, 2]);
    assert_eq!(cache.hottest(10), [2, 5, 4, 3, 1, 0]);
    assert_eq!(cache.coldest(2), [0, 1]);
    assert_eq!(cache.hottest(2), [2, 5]);
    // Keys 0 and 1 expire at 60 s and 61 s: gone from both ends, though no
    // write has reclaimed them.
    clock.set(tenure::policy::Timestamp::ZERO + TTL + SECOND);
    assert_eq!(cache.coldest(10), [3, 4, 5, 2]);
    assert_eq!(cache.hottest(10), [2, 5, 4, 3]);
    assert_eq!(cache.len(), 6);
}

#[test]
fn expired_entries_never_appear_and_are_not_reclaimed() {
    let (cache, removals, clock) = filled(EvictionPolicy::lru(), true, &[0, 1]);
    removals.take();
    // Key k was written at k s; keys 2..=9, not read since, have expired by
    // 69.5 s, key 10 not yet; keys 0 and 1 were read at 20 s.
    clock.set(tenure::policy::Timestamp::ZERO + TTL + 9 * SECOND + SECOND / 2);
    let coldest = cache.coldest(usize::MAX);
    let hottest = cache.hottest(usize::MAX);
    let live: Vec<u32> = (10..CAPACITY).chain([0, 1]).collect();
    assert_eq!(coldest, live);
    assert_eq!(hottest, live.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!((cache.len(), removals.count()), (CAPACITY as usize, 0));
}

#[test]
fn a_snapshot_is_not_an_access() {
    for (name, policy, timed, reads) in exact_bounds() {
        let (cache, removals, _clock) = filled(policy, timed, &reads);
        let stats = cache.stats();
        let order = cache.coldest(usize::MAX);
        for _ in 0..3 {
            assert_eq!(cache.hottest(5).len(), 5);
            assert_eq!(cache.coldest(5), order[..5], "{name}");
        }
        assert_eq!(cache.stats(), stats, "{name}");
        assert_eq!(cache.coldest(usize::MAX), order, "{name}");
        // The order taken before all those snapshots still decides.
        assert_eq!(
            evicted_by_new_keys(&cache, &removals, 1_000, 4),
            order[..4],
            "{name}"
        );
    }
}

#[test]
fn snapshots_while_other_threads_write_and_read() {
    let policies = [
        EvictionPolicy::lru(),
        EvictionPolicy::s3_fifo(),
        EvictionPolicy::sieve(),
        EvictionPolicy::tiny_lfu(),
    ];
    for policy in policies {
        within_patience("snapshots under concurrent writes", move || {
            let cache: Cache<u32, u32> = Cache::builder()
                .max_capacity(64)
                .eviction_policy(policy)
                .shards(4)
                .build()
                .unwrap();
            let cache = Arc::new(cache);
            let workers: Vec<_> = (0..2u32)
                .map(|t| {
                    let cache = Arc::clone(&cache);
                    thread::spawn(move || {
                        let mut x = 0x9e37_79b9_u32 ^ t;
                        for _ in 0..20_000 {
                            x ^= x << 13;
                            x ^= x >> 17;
                            x ^= x << 5;
                            // Only even keys are ever stored.
                            let key = (x % 200) & !1;
                            match x % 4 {
                                0 => drop(cache.insert(key, key)),
                                1 => drop(cache.remove(&key)),
                                _ => drop(cache.get(&key)),
                            }
                        }
                    })
                })
                .collect();
            for round in 0..2_000 {
                let n = round % 70;
                let keys = if round % 2 == 0 {
                    cache.coldest(n)
                } else {
                    cache.hottest(n)
                };
                assert!(keys.len() <= n.min(64), "{} keys for {n}", keys.len());
                assert!(keys.iter().all(|k| k % 2 == 0 && *k < 200), "{keys:?}");
                let distinct: HashSet<&u32> = keys.iter().collect();
                assert_eq!(distinct.len(), keys.len(), "a key named twice: {keys:?}");
            }
            for worker in workers {
                worker.join().unwrap();
            }
            // Quiet again: the whole order names each entry held once.
            let all = cache.coldest(usize::MAX);
            assert_eq!(all.len(), cache.len());
            assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
        });
    }
}
