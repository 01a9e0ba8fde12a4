//! Memory follows the working set: after a burst of entries drains, the cache
//! gives its tables, index, free lists and the policy's and wheel's per-slot
//! arrays back, and a cache that sees burst after burst stays flat. Heap is
//! counted by dhat's global allocator; the tests in this file run one at a time
//! (they share the allocator's counters).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenure::policy::{Hybrid, LruBound, SlidingTtl};
use tenure::{Cache, ManualClock};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// dhat allows one profiler at a time, and the counters are process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const TTL: Duration = Duration::from_secs(60);
const BURST: u64 = 200_000;
/// Slack the acceptance allows on top of twice a fresh cache.
const SLACK: usize = 64 * 1024;

fn heap() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// A cache on a manual clock, as every test here builds it.
fn hybrid(clock: &ManualClock) -> Cache<u64, Arc<u64>, Hybrid> {
    Cache::builder()
        .policy(Hybrid::new(TTL, 1_000_000).expect("valid"))
        .clock(clock.clone())
        .build()
        .expect("valid")
}

/// Fills `cache` with `count` keys from `first`, all sharing `value`.
fn fill(cache: &Cache<u64, Arc<u64>, Hybrid>, first: u64, count: u64, value: &Arc<u64>) {
    for key in first..first + count {
        cache.insert(key, Arc::clone(value));
    }
}

/// The heap a cache holds once it has been built and used a little (so the
/// thread's read buffer and the first table pages count in both figures).
fn fresh_cache_heap(clock: &ManualClock, value: &Arc<u64>) -> usize {
    let before = heap();
    let cache = hybrid(clock);
    fill(&cache, u64::MAX - 10, 1, value);
    assert_eq!(cache.get(&(u64::MAX - 10)).as_deref(), Some(&0));
    let held = heap() - before;
    drop(cache);
    held
}

#[test]
fn after_a_burst_drains_the_heap_returns_to_within_twice_a_fresh_cache() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _profiler = dhat::Profiler::builder().testing().build();
    let clock = ManualClock::new();
    let value = Arc::new(0);
    let fresh = fresh_cache_heap(&clock, &value);

    let before = heap();
    let cache = hybrid(&clock);
    fill(&cache, 0, BURST, &value);
    let peak = heap() - before;
    assert_eq!(cache.len(), BURST as usize);

    clock.advance(TTL);
    cache.run_maintenance();
    assert_eq!(cache.len(), 0);
    assert_eq!(cache.stats().removals.expired, BURST);
    let drained = heap() - before;
    println!("fresh {fresh} B, peak {peak} B, drained {drained} B");
    assert!(
        drained <= 2 * fresh + SLACK,
        "after {BURST} entries drained the cache holds {drained} B; a fresh one holds {fresh} B (peak {peak} B)"
    );
    // Still a working cache.
    fill(&cache, 7, 1, &value);
    assert_eq!(cache.get(&7).as_deref(), Some(&0));
}

#[test]
fn a_cache_left_with_a_few_live_entries_shrinks_to_them() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _profiler = dhat::Profiler::builder().testing().build();
    let clock = ManualClock::new();
    let value = Arc::new(0);
    const KEPT: u64 = 2_000;

    // A cache holding only the entries that will survive, for comparison.
    let before = heap();
    let small = hybrid(&clock);
    fill(&small, 0, KEPT, &value);
    let small_heap = heap() - before;
    drop(small);

    let before = heap();
    let cache = hybrid(&clock);
    fill(&cache, 0, BURST, &value);
    // Keep every hundredth key alive: they sit all over the tables.
    clock.advance(TTL / 2);
    for key in (0..BURST).step_by((BURST / KEPT) as usize) {
        assert!(cache.get(&key).is_some());
    }
    clock.advance(TTL / 2);
    // Each write moves at most 64 entries per shard (about 250 live here, and
    // the first pass only frees the expired ones): a few more passes (or
    // writes, or sweeps) finish the job.
    for _ in 0..16 {
        cache.run_maintenance();
    }
    assert_eq!(cache.len(), KEPT as usize);
    let held = heap() - before;
    println!("{KEPT} live entries: {held} B; a cache filled with only them: {small_heap} B");
    assert!(
        held <= 2 * small_heap + SLACK,
        "{KEPT} live entries after a burst hold {held} B; a cache of just them holds {small_heap} B"
    );
    // The moved entries are intact: same values, still found, still expiring
    // at their own deadlines.
    for key in (0..BURST).step_by((BURST / KEPT) as usize) {
        assert_eq!(cache.get(&key).as_deref(), Some(&0), "key {key}");
    }
    clock.advance(TTL);
    cache.run_maintenance();
    assert_eq!(cache.len(), 0);
}

#[test]
fn a_cache_cycling_through_ten_bursts_stays_flat() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _profiler = dhat::Profiler::builder().testing().build();
    let clock = ManualClock::new();
    let value = Arc::new(0);
    let before = heap();
    let cache = hybrid(&clock);
    let mut drained = Vec::new();
    for cycle in 0..10 {
        fill(&cache, cycle * BURST, BURST, &value);
        clock.advance(TTL);
        cache.run_maintenance();
        assert_eq!(cache.len(), 0);
        drained.push(heap() - before);
    }
    println!("heap after each drained burst: {drained:?}");
    let first = drained[0];
    assert!(
        drained.iter().all(|&d| d <= first + SLACK),
        "the heap grew from burst to burst: {drained:?}"
    );
}

#[test]
fn an_lru_cache_gives_memory_back_after_a_clear_and_a_sliding_one_after_removes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _profiler = dhat::Profiler::builder().testing().build();
    let value = Arc::new(0);

    let before = heap();
    let lru: Cache<u64, Arc<u64>, LruBound> = Cache::new(LruBound::new(1_000_000).expect("valid"));
    lru.insert(1, Arc::clone(&value));
    let fresh = heap() - before;
    for key in 0..BURST {
        lru.insert(key, Arc::clone(&value));
    }
    lru.clear();
    let cleared = heap() - before;
    assert!(
        cleared <= 2 * fresh + SLACK,
        "LRU after clear: {cleared} B, fresh {fresh} B"
    );
    drop(lru);

    let clock = ManualClock::new();
    let before = heap();
    let ttl: Cache<u64, Arc<u64>, SlidingTtl> = Cache::builder()
        .policy(SlidingTtl::new(TTL).expect("valid"))
        .clock(clock.clone())
        .build()
        .expect("valid");
    ttl.insert(1, Arc::clone(&value));
    let fresh = heap() - before;
    for key in 0..BURST {
        ttl.insert(key, Arc::clone(&value));
    }
    for key in 0..BURST {
        assert!(ttl.remove(&key).is_some());
    }
    // The wheel still holds the removed entries' nodes (dead) until their
    // deadlines; the next write after those gives the rest back.
    clock.advance(TTL);
    ttl.run_maintenance();
    let removed = heap() - before;
    assert!(
        removed <= 2 * fresh + SLACK,
        "sliding TTL after removes: {removed} B, fresh {fresh} B"
    );
}
