//! Weighted capacity: `weigher` makes the bound a bound on total weight.
//! Single-threaded rules are checked against a model in `reference_model.rs`;
//! here, the promises under concurrency.

mod support;

use std::collections::HashMap;
use std::sync::Barrier;

use support::Removals;
use tenure::policy::{Hybrid, LruBound};
use tenure::{Cache, RemovalCause};

const CAPACITY: usize = 1_000;
const THREADS: u64 = 8;
const OPS: u64 = 4_000;

/// Weights from 0 to 60, and now and then one heavier than the whole capacity.
fn weight_of(value: u64) -> u32 {
    if value % 97 == 0 {
        CAPACITY as u32 + 1 + (value % 3) as u32
    } else {
        (value % 61) as u32
    }
}

/// A small deterministic generator per thread (no dependency needed for a test).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn total_weight_never_exceeds_the_capacity_when_a_call_returns_under_8_threads() {
    let removals = Removals::new();
    let cache: Cache<u64, u64, LruBound> = Cache::builder()
        .policy(LruBound::new(CAPACITY).unwrap())
        .weigher(|_, &value| weight_of(value))
        .eviction_listener(removals.listener())
        .shards(8)
        .build()
        .unwrap();
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, start) = (&cache, &start);
            s.spawn(move || {
                let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (t + 1);
                start.wait();
                for i in 0..OPS {
                    let r = next(&mut rng);
                    let key = r % 500;
                    // Unique values: the weight says which call stored it.
                    let value = (t * OPS + i) * 1_000 + r % 1_000;
                    match r % 4 {
                        0 => {
                            cache.insert(key, value);
                        }
                        1 => {
                            // The caller gets a value even if it was too heavy to keep.
                            let got = cache.get_or_create(key, || value);
                            assert_eq!(got % 500, key, "a value stored under this key");
                        }
                        2 => {
                            cache.remove(&key);
                        }
                        _ => {
                            cache.get(&key);
                        }
                    }
                    let size = cache.stats().weighted_size;
                    assert!(size <= CAPACITY as u64, "weighted size {size} after a call");
                }
            });
        }
    });
    // At rest: the reported total is the weight of what is held, and every
    // entry too heavy to keep left at once, with cause Capacity.
    let held: u64 = cache
        .keys()
        .iter()
        .filter_map(|k| cache.get(k))
        .map(|v| u64::from(weight_of(v)))
        .sum();
    assert_eq!(cache.stats().weighted_size, held);
    let events = removals.take();
    let mut heavy_causes: HashMap<RemovalCause, usize> = HashMap::new();
    for (_, value, cause) in &events {
        if weight_of(*value) as usize > CAPACITY {
            *heavy_causes.entry(*cause).or_default() += 1;
        }
    }
    assert!(
        heavy_causes
            .get(&RemovalCause::Capacity)
            .is_some_and(|&n| n > 0)
    );
    assert_eq!(
        heavy_causes.len(),
        1,
        "heavy entries left only by Capacity: {heavy_causes:?}"
    );
    let stats = cache.stats();
    assert_eq!(stats.removals.total(), events.len() as u64);
}

#[test]
fn an_entry_heavier_than_the_capacity_is_refused_without_evicting_the_others() {
    let removals = Removals::new();
    let cache: Cache<&str, Vec<u8>, Hybrid> = Cache::builder()
        .policy(Hybrid::new(std::time::Duration::from_secs(60), 100).unwrap())
        .weigher(|_, v: &Vec<u8>| v.len() as u32)
        .eviction_listener(removals.listener())
        .build()
        .unwrap();
    cache.insert("a", vec![0; 40]);
    cache.insert("b", vec![0; 60]);
    assert_eq!(cache.stats().weighted_size, 100);
    let huge = cache.get_or_create("huge", || vec![1; 101]);
    assert_eq!(huge.len(), 101, "the caller still gets what it made");
    assert!(!cache.contains_key("huge"));
    assert!(cache.contains_key("a") && cache.contains_key("b"));
    assert_eq!(
        removals.take(),
        vec![("huge", vec![1; 101], RemovalCause::Capacity)]
    );
    // A weight of 0 counts nothing against the bound.
    cache.insert("free", Vec::new());
    assert_eq!((cache.len(), cache.stats().weighted_size), (3, 100));
    // Replacing an entry replaces its weight.
    cache.insert("a", vec![0; 10]);
    assert_eq!(cache.stats().weighted_size, 70);
}

/// An entry that fits is never the victim of its own admission, whatever the
/// weight already held: each bound evicts the light entry, not the heavy one.
/// (W-TinyLFU is left out: its admission filter may turn a newcomer away.)
#[test]
fn a_heavy_entry_that_fits_evicts_others_not_itself_under_every_bound() {
    use tenure::EvictionPolicy;
    for capacity in [100u64, u64::from(u32::MAX) - 2] {
        let heavy = u32::try_from(capacity - 4).unwrap();
        for policy in [
            EvictionPolicy::lru(),
            EvictionPolicy::s3_fifo(),
            EvictionPolicy::sieve(),
        ] {
            let what = format!("{policy:?} at capacity {capacity}");
            let removals = Removals::new();
            let cache: Cache<u32, u32> = Cache::builder()
                .max_capacity(capacity)
                .eviction_policy(policy)
                .weigher(|_, &weight| weight)
                .eviction_listener(removals.listener())
                .build()
                .unwrap();
            cache.insert(1, 5);
            cache.insert(2, heavy);
            assert_eq!(cache.get(&2), Some(heavy), "{what}");
            assert_eq!(cache.get(&1), None, "{what}");
            assert_eq!(removals.take(), [(1, 5, RemovalCause::Capacity)], "{what}");
            assert_eq!(cache.stats().weighted_size, u64::from(heavy), "{what}");
        }
    }
}
