//! Iteration (`Cache::iter`, `for (k, v) in &cache`): it yields exactly the
//! live entries, is not an access, holds no lock while the loop body runs,
//! and under concurrent writes and a moving clock never yields an expired
//! value or one whose removal the listener had already been told of.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use support::within_patience;
use tenure::policy::LruBound;
use tenure::{Cache, Clock, ManualClock};

const TTL: Duration = Duration::from_secs(60);
const NS: Duration = Duration::from_nanos(1);

fn sorted<K: Ord, V: Ord>(entries: impl IntoIterator<Item = (K, V)>) -> Vec<(K, V)> {
    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort();
    entries
}

/// A cache on a manual clock, its entries living `TTL` from their insert.
fn timed(shards: usize) -> (Cache<&'static str, u32>, ManualClock) {
    let clock = ManualClock::new();
    let cache = Cache::builder()
        .time_to_live(TTL)
        .clock(clock.clone())
        .shards(shards)
        .build()
        .expect("a valid cache");
    (cache, clock)
}

#[test]
fn yields_exactly_the_live_entries_with_their_values() {
    let cache: Cache<u32, u64> = Cache::builder()
        .max_capacity(1_000)
        .shards(8)
        .build()
        .unwrap();
    assert_eq!(cache.iter().next(), None);
    for k in 0..200 {
        cache.insert(k, u64::from(k) * 7);
    }
    for k in (0..200).step_by(3) {
        cache.remove(&k);
    }
    cache.insert(1, 1_000_001);
    let expected: Vec<(u32, u64)> = (0..200)
        .filter(|k| k % 3 != 0)
        .map(|k| (k, if k == 1 { 1_000_001 } else { u64::from(k) * 7 }))
        .collect();
    assert_eq!(sorted(cache.iter()), expected);
    assert_eq!(sorted(&cache), expected);
}

#[test]
fn skips_entries_past_their_deadline() {
    let (cache, clock) = timed(4);
    cache.insert("old", 1);
    clock.advance(TTL / 2);
    cache.insert("new", 2);
    clock.advance(TTL / 2);
    assert_eq!(sorted(&cache), [("new", 2)]);
    clock.advance(TTL / 2);
    assert_eq!(cache.iter().next(), None);
    // Nothing reclaimed them (no write ran): iteration itself left them out.
    assert_eq!(cache.len(), 2);
}

#[test]
fn an_entry_changed_after_its_shard_was_read_is_looked_up_again() {
    let (cache, clock) = timed(1);
    let original = |k: &str| u32::from(k.as_bytes()[0]);
    for k in ["a", "b", "c", "d"] {
        cache.insert(k, original(k));
    }
    let mut entries = cache.iter();
    // The first step read the one shard's keys; what happens next must show.
    let (first, _) = entries.next().unwrap();
    let rest: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .filter(|&k| k != first)
        .collect();
    cache.remove(rest[0]);
    cache.insert(rest[1], 20);
    assert_eq!(
        sorted(entries),
        sorted([(rest[1], 20), (rest[2], original(rest[2]))])
    );

    let mut entries = cache.iter();
    entries.next().unwrap();
    clock.advance(TTL);
    assert_eq!(entries.next(), None, "every entry has expired since");
}

#[test]
fn iterating_does_not_refresh_a_sliding_deadline() {
    let clock = ManualClock::new();
    let cache: Cache<&str, u32> = Cache::builder()
        .time_to_idle(TTL)
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert("k", 1);
    clock.advance(TTL - NS);
    assert_eq!(sorted(&cache), [("k", 1)]);
    clock.advance(NS);
    assert!(
        !cache.contains_key("k"),
        "iterating refreshed the idle deadline"
    );
}

#[test]
fn iterating_does_not_move_lru_order() {
    let cache: Cache<&str, u32, LruBound> = Cache::builder()
        .policy(LruBound::new(3).unwrap())
        .shards(1)
        .build()
        .unwrap();
    for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
        cache.insert(k, v);
    }
    let order: Vec<_> = cache.iter().map(|(k, _)| k).collect();
    // Were iteration an access, the first key yielded would be the least recent.
    assert_ne!(order[0], "a", "this test needs a not to be yielded first");
    cache.insert("d", 4);
    assert_eq!(sorted(&cache), [("b", 2), ("c", 3), ("d", 4)]);
}

#[test]
fn iterating_counts_no_hit_or_miss() {
    let (cache, clock) = timed(4);
    cache.insert("expires", 1);
    clock.advance(TTL / 2);
    cache.insert("stays", 2);
    cache.get("stays");
    cache.get("absent");
    clock.advance(TTL / 2);
    let before = cache.stats();
    assert_eq!(cache.iter().count(), 1);
    let after = cache.stats();
    assert_eq!((after.hits, after.misses), (before.hits, before.misses));
    assert_eq!((after.hits, after.misses), (1, 1));
}

#[test]
fn the_loop_body_may_write_to_the_cache() {
    for shards in [1, 16] {
        within_patience("a loop body writing to the cache it iterates", move || {
            let cache: Cache<u32, u32> = Cache::builder()
                .max_capacity(10_000)
                .shards(shards)
                .build()
                .unwrap();
            for k in 0..100 {
                cache.insert(k, k);
            }
            let mut yielded = Vec::new();
            for (k, v) in &cache {
                // Keys the body writes may or may not be yielded: leave them be.
                if k >= 1_000 {
                    continue;
                }
                yielded.push(k);
                assert_eq!(cache.remove(&k), Some(v));
                cache.insert(k + 1_000, v);
                assert_eq!(cache.get_or_create(k + 2_000, || v), v);
            }
            yielded.sort();
            assert_eq!(yielded, (0..100).collect::<Vec<_>>(), "{shards} shards");
            let written = (0..100).flat_map(|k| [(k + 1_000, k), (k + 2_000, k)]);
            assert_eq!(sorted(&cache), sorted(written));
        });
    }
}

/// What the writers and the listener of the concurrent test record, by value
/// id (a value is `id << 16 | key`, each id stored once).
struct History {
    /// The listener's sequence number for the value's removal; 0: none yet.
    removed_at: Vec<AtomicU64>,
    /// The clock read after the value's insert returned; `u64::MAX` until
    /// then. Its deadline is at most this plus `TTL`.
    stored_by: Vec<AtomicU64>,
    /// Removals reported so far.
    reported: AtomicU64,
    /// Writes made so far.
    writes: AtomicU64,
    /// Writes the writers may make before they wait for the iterating thread:
    /// the two take turns, however the machine schedules them.
    allowed: AtomicU64,
}

const WRITERS: u64 = 2;
/// The most writes a writer makes (its share of value ids).
const OPS: u64 = 500_000;
const KEYS: u64 = 512;
/// The concurrent test ends after this many yields (or when the writers have
/// used their ids).
const YIELDS: u64 = 20_000;

fn id_of(value: u64) -> usize {
    (value >> 16) as usize
}

/// A writer: inserts (and so overwrites) and removes random keys, each value
/// new, until `stop`.
fn write(
    cache: &Cache<u64, u64>,
    clock: &ManualClock,
    history: &History,
    writer: u64,
    stop: &AtomicBool,
) {
    let mut seed = writer * 0x9E37_79B9_7F4A_7C15 + 1;
    for op in 0..OPS {
        while history.writes.load(SeqCst) >= history.allowed.load(SeqCst) {
            if stop.load(SeqCst) {
                return;
            }
            thread::yield_now();
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let key = seed % KEYS;
        if seed >> 60 < 3 {
            cache.remove(&key);
        } else {
            let id = writer * OPS + op + 1;
            cache.insert(key, id << 16 | key);
            history.stored_by[id as usize].store(clock.now().as_nanos(), SeqCst);
        }
        history.writes.fetch_add(1, SeqCst);
    }
}

#[test]
fn concurrent_writes_and_time_never_show_a_removed_or_expired_value() {
    let clock = ManualClock::new();
    let history = Arc::new(History {
        removed_at: (0..=WRITERS * OPS).map(|_| AtomicU64::new(0)).collect(),
        stored_by: (0..=WRITERS * OPS)
            .map(|_| AtomicU64::new(u64::MAX))
            .collect(),
        reported: AtomicU64::new(0),
        writes: AtomicU64::new(0),
        allowed: AtomicU64::new(1_000),
    });
    let listened = Arc::clone(&history);
    let cache: Cache<u64, u64> = Cache::builder()
        .time_to_live(TTL)
        .clock(clock.clone())
        .shards(8)
        .eviction_listener(move |_key, value: u64, _cause| {
            let seq = listened.reported.fetch_add(1, SeqCst) + 1;
            listened.removed_at[id_of(value)].store(seq, SeqCst);
        })
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (cache, clock) = (cache.clone(), clock.clone());
            let (history, stop) = (Arc::clone(&history), Arc::clone(&stop));
            thread::spawn(move || write(&cache, &clock, &history, w, &stop))
        })
        .collect();

    let (mut steps, mut yields, mut passes) = (0u64, 0u64, 0u64);
    while yields < YIELDS && !writers.iter().all(|w| w.is_finished()) {
        passes += 1;
        let mut entries = cache.iter();
        let mut seen = HashSet::new();
        loop {
            // Only this thread moves the clock, so it stands still during
            // `next`. Every fifth step it waits until the writers have made
            // the writes allowed so far, allows 100 more (made while the next
            // steps run) and moves a quarter TTL.
            if steps % 5 == 4 {
                let allowed = history.allowed.load(SeqCst);
                while history.writes.load(SeqCst) < allowed
                    && !writers.iter().all(|w| w.is_finished())
                {
                    thread::yield_now();
                }
                history.allowed.store(allowed + 100, SeqCst);
                clock.advance(TTL / 4);
            }
            steps += 1;
            let reported_before = history.reported.load(SeqCst);
            let now = clock.now().as_nanos();
            let Some((key, value)) = entries.next() else {
                break;
            };
            yields += 1;
            assert_eq!(
                value & 0xFFFF,
                key,
                "{value:#x} was never stored under {key}"
            );
            assert!(seen.insert(key), "{key} yielded twice in one pass");
            let id = id_of(value);
            let removed_at = history.removed_at[id].load(SeqCst);
            assert!(
                removed_at == 0 || removed_at > reported_before,
                "{key} yielded {value:#x}, whose removal was reported (#{removed_at}) \
                 before the call (#{reported_before} reported)"
            );
            let stored_by = history.stored_by[id].load(SeqCst);
            assert!(
                stored_by == u64::MAX || now < stored_by + TTL.as_nanos() as u64,
                "{key} yielded {value:#x}, stored by {stored_by} ns: expired at {now} ns"
            );
        }
    }
    stop.store(true, SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }
    let advanced = clock.now().as_nanos() / TTL.as_nanos() as u64;
    assert!(
        yields >= YIELDS && advanced > 100,
        "{passes} passes, {yields} yields, the clock moved {advanced} TTLs"
    );
}

#[test]
fn concurrent_writes_never_hide_or_repeat_a_key_live_throughout() {
    let cache: Cache<u64, u64> = Cache::builder()
        .max_capacity(1_000_000)
        .shards(16)
        .build()
        .unwrap();
    for k in 0..100 {
        cache.insert(k, k * 3);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (cache, stop) = (cache.clone(), Arc::clone(&stop));
            thread::spawn(move || {
                let mut i = w;
                while !stop.load(SeqCst) {
                    let key = 1_000 + i % 300;
                    if i % 3 == 0 {
                        cache.remove(&key);
                    } else {
                        cache.insert(key, key * 3);
                    }
                    i += WRITERS;
                }
            })
        })
        .collect();
    for _ in 0..300 {
        let mut stable = Vec::new();
        let mut seen = HashSet::new();
        for (key, value) in &cache {
            assert_eq!(value, key * 3);
            assert!(seen.insert(key), "{key} yielded twice in one pass");
            if key < 1_000 {
                stable.push(key);
            }
        }
        stable.sort();
        assert_eq!(stable, (0..100).collect::<Vec<_>>());
    }
    stop.store(true, SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }
}
