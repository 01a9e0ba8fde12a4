//! Acceptance item 5: the removal listener hears of every removal exactly once,
//! with its cause, runs with no internal lock held, and may call back into the
//! same cache without deadlock.

mod support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use support::{PATIENCE, Removals, within_patience};
use tenure::policy::{Hybrid, LruBound};
use tenure::{Cache, ManualClock, RemovalCause};

use RemovalCause::{Capacity, Cleared, Expired, Removed, Replaced};

const TTL: Duration = Duration::from_secs(60);

#[test]
fn every_cause_is_reported_once_with_key_and_value() {
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache: Cache<&str, u32, Hybrid> = Cache::builder()
        .policy(Hybrid::new(TTL, 2).unwrap())
        .clock(clock.clone())
        .eviction_listener(removals.listener())
        .build()
        .expect("a valid cache");
    cache.insert("a", 1);
    cache.insert("a", 2);
    assert_eq!(removals.take(), [("a", 1, Replaced)]);
    cache.remove("a");
    assert_eq!(removals.take(), [("a", 2, Removed)]);
    cache.insert("b", 3);
    cache.insert("c", 4);
    cache.insert("d", 5);
    assert_eq!(removals.take(), [("b", 3, Capacity)]);
    cache.invalidate_if(|k, _| *k == "c");
    assert_eq!(removals.take(), [("c", 4, Removed)]);
    clock.advance(TTL);
    cache.run_maintenance();
    assert_eq!(removals.take(), [("d", 5, Expired)]);
    cache.run_maintenance();
    assert!(removals.take().is_empty(), "reported once, not again");
    cache.insert("e", 6);
    cache.clear();
    assert_eq!(removals.take(), [("e", 6, Cleared)]);
    assert_eq!(cache.stats().removals.total(), 6);
}

/// Many threads write, read and remove unique values over six keys of a small
/// hybrid cache while the clock moves; at the end everything is cleared. Every
/// value ever stored must then have been reported exactly once, and the bound
/// must hold whenever a call returns.
#[test]
fn under_concurrent_writes_every_stored_value_is_reported_exactly_once() {
    const THREADS: u32 = 4;
    const OPS: u32 = 3_000;
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache: Cache<u32, u32, Hybrid> = Cache::builder()
        .policy(Hybrid::new(TTL, 4).unwrap())
        .clock(clock.clone())
        .eviction_listener(removals.listener())
        .build()
        .expect("a valid cache");
    let stored: Vec<u32> = thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cache, clock) = (&cache, &clock);
                s.spawn(move || {
                    let mut stored = Vec::new();
                    for i in 0..OPS {
                        let value = t * OPS + i;
                        let key = (i * 5 + t) % 6;
                        match i % 8 {
                            0..=2 => {
                                cache.insert(key, value);
                                stored.push(value);
                            }
                            3..=4 => {
                                // Stored if the creator ran and its value
                                // stood (a value inserted meanwhile wins).
                                if cache.get_or_create(key, || value) == value {
                                    stored.push(value);
                                }
                            }
                            5 => {
                                cache.remove(&key);
                            }
                            6 => {
                                cache.get(&key);
                            }
                            _ if t == 0 => clock.advance(TTL),
                            _ => {
                                cache.invalidate_if(|_, v| v % 97 == 0);
                            }
                        }
                        assert!(cache.len() <= 4, "over the bound: {}", cache.len());
                    }
                    stored
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    cache.clear();
    let reported = removals.take();
    let mut reported_values: Vec<u32> = reported.iter().map(|&(_, v, _)| v).collect();
    reported_values.sort_unstable();
    let mut stored = stored;
    stored.sort_unstable();
    assert_eq!(
        reported_values.len(),
        stored.len(),
        "one report per stored value"
    );
    assert_eq!(reported_values, stored);
    let mut by_cause: BTreeMap<RemovalCause, u64> = BTreeMap::new();
    for &(_, _, cause) in &reported {
        *by_cause.entry(cause).or_default() += 1;
    }
    let counted = cache.stats().removals;
    for cause in RemovalCause::ALL {
        let seen = by_cause.get(&cause).copied().unwrap_or(0);
        assert_eq!(counted.get(cause), seen, "{cause:?}");
    }
    for cause in [Expired, Capacity, Removed, Replaced] {
        assert!(
            by_cause.contains_key(&cause),
            "the run produced no {cause:?}"
        );
    }
    assert!(cache.is_empty());
}

type Shared = Cache<u32, u32, LruBound>;

#[test]
fn a_listener_that_calls_back_into_the_same_cache_does_not_deadlock() {
    let (final_keys, heard) = within_patience("a re-entrant listener", || {
        // The listener reaches its own cache through this slot, emptied at the end
        // to break the cycle cache -> listener -> cache.
        let slot: Arc<Mutex<Option<Shared>>> = Arc::new(Mutex::new(None));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let listener = {
            let (slot, heard) = (Arc::clone(&slot), Arc::clone(&heard));
            move |key: u32, value: u32, cause: RemovalCause| {
                let cache = slot
                    .lock()
                    .unwrap()
                    .clone()
                    .expect("built before any removal");
                // The entry is gone before its listener runs.
                let seen_after = (cache.get(&key), cache.contains_key(&key), cache.len());
                heard.lock().unwrap().push((key, value, cause, seen_after));
                if cause == Capacity && key < 100 {
                    // Re-home the evicted value: a creation inside the listener,
                    // which itself evicts and so calls this listener again.
                    assert_eq!(cache.get_or_create(key + 100, || value), value);
                }
                if key == 50 {
                    assert_eq!(cache.remove(&51), Some(510));
                    assert_eq!(cache.insert(60, 600), None);
                    cache.run_maintenance();
                    let _ = (cache.keys(), cache.stats());
                }
            }
        };
        let cache: Shared = Cache::builder()
            .policy(LruBound::new(2).unwrap())
            .eviction_listener(listener)
            .build()
            .expect("a valid cache");
        *slot.lock().unwrap() = Some(cache.clone());
        cache.insert(1, 10);
        cache.insert(2, 20);
        cache.insert(3, 30); // evicts 1, re-homed to 101, which evicts 2, ...
        cache.insert(50, 500); // evicts 102
        cache.insert(51, 510); // evicts 103
        cache.remove(&50); // the listener removes 51 and inserts 60
        let mut keys = cache.keys();
        keys.sort_unstable();
        slot.lock().unwrap().take();
        let heard = heard.lock().unwrap().clone();
        (keys, heard)
    });
    let expected = [
        (1, 10, Capacity, (None, false, 2)),
        (2, 20, Capacity, (None, false, 2)),
        (3, 30, Capacity, (None, false, 2)),
        (101, 10, Capacity, (None, false, 2)),
        (102, 20, Capacity, (None, false, 2)),
        (103, 30, Capacity, (None, false, 2)),
        (50, 500, Removed, (None, false, 1)),
        (51, 510, Removed, (None, false, 0)),
    ];
    assert_eq!(heard, expected);
    assert_eq!(final_keys, [60]);
}

/// Which call makes the cache remove an entry (and so run the listener).
#[derive(Debug, Clone, Copy)]
enum Trigger {
    InsertOverCapacity,
    Replace,
    Remove,
    InvalidateIf,
    Clear,
    GetOfExpired,
    Maintenance,
    CreationOverCapacity,
}

/// While the listener runs (blocked until another thread has used the cache
/// fully, on the same shard), no internal lock may be held: the other thread
/// would block, the listener would time out, and the test would fail.
fn listener_holds_no_lock(trigger: Trigger) {
    within_patience(&format!("{trigger:?}"), move || {
        let clock = ManualClock::new();
        let (in_listener, listener_entered) = mpsc::channel();
        let (other_done, other_finished) = mpsc::channel::<()>();
        let other_finished = Mutex::new(other_finished);
        let first = AtomicBool::new(true);
        let listener = move |_: u32, _: u32, _: RemovalCause| {
            if first.swap(false, Ordering::SeqCst) {
                in_listener.send(()).unwrap();
                other_finished
                    .lock()
                    .unwrap()
                    .recv_timeout(PATIENCE)
                    .expect("another thread used the cache while the listener ran");
            }
        };
        let cache: Cache<u32, u32, Hybrid> = Cache::builder()
            .policy(Hybrid::new(TTL, 3).unwrap())
            .clock(clock.clone())
            .shards(1)
            .eviction_listener(listener)
            .build()
            .expect("a valid cache");
        cache.insert(1, 10);
        cache.insert(2, 20);
        thread::scope(|s| {
            let cache = &cache;
            let other = s.spawn(move || {
                listener_entered
                    .recv_timeout(PATIENCE)
                    .expect("the listener ran");
                // Key 3 is stored or creatable: no creation of it is still in flight.
                assert_eq!(cache.get_or_create(3, || 30), 30);
                cache.insert(7, 70);
                assert_eq!(cache.get(&7), Some(70));
                assert_eq!(cache.remove(&7), Some(70));
                cache.invalidate_if(|k, _| *k == 8);
                cache.run_maintenance();
                let _ = (
                    cache.len(),
                    cache.keys(),
                    cache.stats(),
                    cache.contains_key(&1),
                );
                other_done.send(()).unwrap();
            });
            match trigger {
                Trigger::InsertOverCapacity => {
                    cache.insert(3, 30);
                    cache.insert(4, 40);
                }
                Trigger::Replace => {
                    cache.insert(3, 30);
                    cache.insert(3, 30);
                }
                Trigger::Remove => {
                    cache.insert(3, 30);
                    cache.remove(&1);
                }
                Trigger::InvalidateIf => {
                    cache.insert(3, 30);
                    cache.invalidate_if(|k, _| *k == 1);
                }
                Trigger::Clear => cache.clear(),
                Trigger::GetOfExpired => {
                    clock.advance(TTL);
                    assert_eq!(cache.get(&1), None);
                }
                Trigger::Maintenance => {
                    clock.advance(TTL);
                    cache.run_maintenance();
                }
                Trigger::CreationOverCapacity => {
                    cache.insert(4, 40);
                    assert_eq!(cache.get_or_create(3, || 30), 30);
                }
            }
            other.join().unwrap();
        });
    });
}

#[test]
fn the_listener_runs_with_no_lock_held_whatever_the_write() {
    for trigger in [
        Trigger::InsertOverCapacity,
        Trigger::Replace,
        Trigger::Remove,
        Trigger::InvalidateIf,
        Trigger::Clear,
        Trigger::GetOfExpired,
        Trigger::Maintenance,
        Trigger::CreationOverCapacity,
    ] {
        listener_holds_no_lock(trigger);
    }
}

#[test]
fn a_panicking_listener_still_hears_every_removal_and_the_cache_stays_usable() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let listener = {
        let heard = Arc::clone(&heard);
        move |key: u32, _: u32, cause: RemovalCause| {
            heard.lock().unwrap().push((key, cause));
            assert!(key % 2 == 0, "listener fails on odd keys on purpose");
        }
    };
    let cache: Cache<u32, u32, LruBound> = Cache::builder()
        .policy(LruBound::new(10).unwrap())
        .eviction_listener(listener)
        .build()
        .expect("a valid cache");
    for key in 1..=4 {
        cache.insert(key, key);
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| cache.clear()));
    assert!(outcome.is_err(), "the listener's panic reaches the caller");
    let mut heard_keys: Vec<u32> = heard.lock().unwrap().iter().map(|&(k, _)| k).collect();
    heard_keys.sort_unstable();
    assert_eq!(heard_keys, [1, 2, 3, 4]);
    assert_eq!(cache.len(), 0);
    assert_eq!(cache.stats().removals.cleared, 4);
    cache.insert(2, 2);
    assert_eq!(cache.get(&2), Some(2));
    assert_eq!(cache.get_or_create(6, || 6), 6);
}
