//! Marking policies (S3-FIFO, SIEVE: `Reads::Mark`): a hit counts a read beside
//! the entry instead of recording it for replay, and the policy takes the count
//! while choosing a victim.
//!
//! Single-threaded, that must change nothing: the same operations on a cache
//! whose policy hears every read at once through `on_access` (the `Eager`
//! wrapper below, a `Reads::Replay` policy) must return the same values and
//! evict the same keys in the same order. Under concurrency, capacity, values
//! and stats must still add up.

mod support;

use std::sync::Barrier;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use proptest::prelude::*;
use support::Removals;
use tenure::policy::{NewEntry, Policy, Reads, S3Fifo, Sieve, Slot, Timestamp};
use tenure::{Cache, RemovalCause};

/// `P` with every read reported to it, in order, through `on_access`.
struct Eager<P>(P);

impl<P: Policy> Policy for Eager<P> {
    fn reads(&self) -> Reads {
        Reads::Replay
    }
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp) {
        self.0.on_insert(slot, entry, now);
    }
    fn on_access(&mut self, slot: Slot, now: Timestamp) {
        self.0.on_access(slot, now);
    }
    fn on_remove(&mut self, slot: Slot) {
        self.0.on_remove(slot);
    }
    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp) {
        self.0.on_move(from, to, now);
    }
    fn next_victim(&mut self) -> Option<Slot> {
        self.0.next_victim()
    }
    fn shrink_to(&mut self, slots: usize) {
        self.0.shrink_to(slots);
    }
}

#[derive(Debug, Clone)]
enum Op {
    Get(u16),
    Insert(u16),
    GetOrCreate(u16),
    Remove(u16),
    /// Removes every key from 16 up: leaves the tables sparse, so the next
    /// writes compact them (entries move to other slots, with their marks).
    RemoveHigh,
}

/// Mostly a few hot keys (so entries are read several times), some from a
/// wider range (so a large cache fills and then thins out).
fn key() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 0u16..16, 1 => 0u16..400]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => key().prop_map(Op::Get),
        4 => key().prop_map(Op::Insert),
        4 => key().prop_map(Op::GetOrCreate),
        2 => key().prop_map(Op::Remove),
        1 => Just(Op::RemoveHigh),
    ]
}

type Log = Vec<(u16, u32, RemovalCause)>;

/// Runs `ops` on a one-shard cache with `policy`; returns what each call
/// returned, every removal in listener order, and the final stats' counters.
fn run<P: Policy>(policy: P, ops: &[Op]) -> (Vec<Option<u32>>, Log, [u64; 4]) {
    let removals = Removals::new();
    let cache: Cache<u16, u32, P> = Cache::builder()
        .shards(1)
        .eviction_listener(removals.listener())
        .policy(policy)
        .build()
        .unwrap();
    let mut next = 0u32;
    let mut value = || {
        next += 1;
        next
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        out.push(match *op {
            Op::Get(k) => cache.get(&k),
            Op::Insert(k) => cache.insert(k, value()),
            Op::GetOrCreate(k) => Some(cache.get_or_create(k, &mut value)),
            Op::Remove(k) => cache.remove(&k),
            Op::RemoveHigh => {
                for k in 16..400 {
                    cache.remove(&k);
                }
                None
            }
        });
    }
    let stats = cache.stats();
    let counts = [stats.hits, stats.misses, stats.creations, stats.len as u64];
    (out, removals.take(), counts)
}

fn same_as_eager<P: Policy + Clone>(policy: P, ops: &[Op]) -> Result<(), TestCaseError> {
    prop_assert_eq!(policy.reads(), Reads::Mark);
    let (marked, marked_log, marked_counts) = run(policy.clone(), ops);
    let (eager, eager_log, eager_counts) = run(Eager(policy), ops);
    prop_assert_eq!(marked, eager);
    prop_assert_eq!(marked_log, eager_log);
    prop_assert_eq!(marked_counts, eager_counts);
    Ok(())
}

fn capacity() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=12, Just(40usize), Just(200usize)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn s3fifo_with_marks_evicts_as_with_every_read_replayed(
        cap in capacity(),
        ops in prop::collection::vec(op(), 1..400),
    ) {
        same_as_eager(S3Fifo::new(cap).unwrap(), &ops)?;
    }

    #[test]
    fn sieve_with_marks_evicts_as_with_every_read_replayed(
        cap in capacity(),
        ops in prop::collection::vec(op(), 1..400),
    ) {
        same_as_eager(Sieve::new(cap).unwrap(), &ops)?;
    }
}

/// Hits reach the policy through the marks: key 1, read twice, is promoted
/// where it would be evicted if its reads were lost.
#[test]
fn marks_change_what_s3fifo_keeps() {
    let mut ops: Vec<Op> = (0..10).map(Op::Insert).collect();
    ops.extend([Op::Get(1), Op::Get(1), Op::Insert(10)]);
    let (_, log, _) = run(S3Fifo::new(10).unwrap(), &ops);
    assert_eq!(log, [(0, 1, RemovalCause::Capacity)]);
    ops.push(Op::Insert(11));
    // Key 1, read twice, is promoted instead of going: key 2 goes.
    let (_, log, _) = run(S3Fifo::new(10).unwrap(), &ops);
    assert_eq!(
        log,
        [
            (0, 1, RemovalCause::Capacity),
            (2, 3, RemovalCause::Capacity)
        ]
    );
}

const THREADS: usize = 4;
const OPS: usize = 20_000;
const CAPACITY: usize = 64;

/// The value every call stores or makes for `key`, so any value seen can be checked.
fn value_of(key: u32) -> u64 {
    u64::from(key) * 1_000 + 7
}

/// What the threads saw, summed.
#[derive(Default)]
struct Seen {
    /// Gets and get-or-creates.
    lookups: u64,
    got_some: u64,
    got_none: u64,
    removed: u64,
    replaced: u64,
    inserted: u64,
}

fn hammer<P: Policy>(policy: P) {
    let removals = Removals::new();
    let cache: Cache<u32, u64, P> = Cache::builder()
        .shards(4)
        .eviction_listener(removals.listener())
        .policy(policy)
        .build()
        .unwrap();
    let total = Mutex::new(Seen::default());
    let created = AtomicU64::new(0);
    let start = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, total, created, start) = (&cache, &total, &created, &start);
            s.spawn(move || {
                let mut seen = Seen::default();
                let mut x = 0x9e37_79b9_u64 ^ t as u64;
                start.wait();
                for _ in 0..OPS {
                    // xorshift: cheap, and each thread's sequence its own.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // A hot set of 32 keys and a cold range of 512.
                    let key = if x % 4 == 0 {
                        (x >> 8) % 512
                    } else {
                        (x >> 8) % 32
                    } as u32;
                    match (x >> 40) % 8 {
                        0..=3 => match cache.get(&key) {
                            Some(v) => {
                                assert_eq!(v, value_of(key));
                                seen.lookups += 1;
                                seen.got_some += 1;
                            }
                            None => {
                                seen.lookups += 1;
                                seen.got_none += 1;
                            }
                        },
                        4 | 5 => {
                            seen.lookups += 1;
                            let v = cache.get_or_create(key, || {
                                created.fetch_add(1, Ordering::Relaxed);
                                value_of(key)
                            });
                            assert_eq!(v, value_of(key));
                        }
                        6 => {
                            seen.inserted += 1;
                            if let Some(old) = cache.insert(key, value_of(key)) {
                                assert_eq!(old, value_of(key));
                                seen.replaced += 1;
                            }
                        }
                        _ => {
                            if let Some(old) = cache.remove(&key) {
                                assert_eq!(old, value_of(key));
                                seen.removed += 1;
                            }
                        }
                    }
                    assert!(cache.len() <= CAPACITY, "{} entries", cache.len());
                }
                let mut total = total.lock().unwrap();
                total.lookups += seen.lookups;
                total.got_some += seen.got_some;
                total.got_none += seen.got_none;
                total.removed += seen.removed;
                total.replaced += seen.replaced;
                total.inserted += seen.inserted;
            });
        }
    });
    let seen = total.into_inner().unwrap();
    let created = created.into_inner();
    let stats = cache.stats();
    let log = removals.take();
    let count = |cause| log.iter().filter(|(_, _, c)| *c == cause).count() as u64;
    assert!(log.iter().all(|&(k, v, _)| v == value_of(k)));
    // Gets and get-or-creates each count once, as a hit or a miss.
    assert_eq!(stats.hits + stats.misses, seen.lookups);
    assert!(stats.hits >= seen.got_some);
    assert!(stats.misses >= seen.got_none);
    // A creator that ran while another thread inserted its key yields to
    // that value: its own is dropped, not stored and not counted.
    assert!(
        stats.creations <= created,
        "{} > {created}",
        stats.creations
    );
    assert!(stats.creations > 0);
    assert_eq!(stats.removals.removed, seen.removed);
    // Only inserts replace: a creation never overwrites a value.
    assert_eq!(stats.removals.replaced, seen.replaced);
    for cause in RemovalCause::ALL {
        assert_eq!(stats.removals.get(cause), count(cause), "{cause:?}");
    }
    assert_eq!(stats.removals.expired, 0);
    assert!(stats.removals.capacity > 0, "the test never evicted");
    let stored = seen.inserted + stats.creations;
    assert_eq!(stats.len as u64, stored - log.len() as u64);
    assert_eq!(cache.len(), stats.len);
    assert!(cache.len() <= CAPACITY);
}

#[test]
fn s3fifo_under_four_threads_keeps_capacity_values_and_counts() {
    hammer(S3Fifo::new(CAPACITY).unwrap());
}

#[test]
fn sieve_under_four_threads_keeps_capacity_values_and_counts() {
    hammer(Sieve::new(CAPACITY).unwrap());
}
