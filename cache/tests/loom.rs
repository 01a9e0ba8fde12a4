//! Loom models of the real [`tenure::Cache`].
//!
//! Built only with `RUSTFLAGS="--cfg tenure_loom"` (see `ci/loom.sh`): the cache's
//! sync shim then uses loom's locks, atomics, condvar and threads, and loom runs
//! every model below under every interleaving up to the preemption bound
//! (`LOOM_MAX_PREEMPTIONS`, 3 if unset). Each model is small (two or three
//! threads, one to three keys) so the whole file runs in seconds. Each can fail:
//! `ci/loom-faults.sh` builds the cache with a `--cfg tenure_fault="..."` that
//! breaks exactly the invariant a model checks, and expects that model to fail.
//!
//! Test bookkeeping (counters, the listener's log) uses std types on purpose: loom
//! runs all model threads on one OS thread, so they are deterministic for a given
//! schedule and add no interleavings of their own.
//!
//! Each model thread records its reads in its own read buffer, as threads do
//! outside loom, and a write replays the buffers one thread after another. So a
//! model with two reader threads sees reads replayed in buffer order, not in
//! time order, and can catch a core that trusts the replay order. Under loom a
//! buffer holds two reads, so models also reach a full buffer.
//!
//! loom needs every execution of a model to take the same path, but the default
//! hasher has a random seed, so with two shards the shard a key lands in would
//! change from one execution to the next. Models with more than one shard
//! therefore build their cache with a fixed hasher.
//!
//! A loom 0.7 blind spot to keep in mind when adding models (tokio-rs/loom#392):
//! a spawned thread whose first access to an atomic is a plain load is never run
//! ahead of another thread's earlier load of that atomic, even if it stores to it
//! afterwards. Threads that move the clock therefore use `ManualClock::set` (one
//! read-modify-write), not `advance` (a load, then a compare-exchange).
#![cfg(tenure_loom)]

use std::future::Future;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use loom::thread;
use tenure::policy::{Hybrid, LruBound, Policy, Sieve, SlidingTtl, Timestamp};
use tenure::{Cache, Clock, ManualClock, RemovalCause};

/// Runs `body` under loom with the preemption bound from the environment, or 3.
/// Prints how many interleavings were explored.
fn model(name: &str, body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let started = std::time::Instant::now();
    builder.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        body();
    });
    eprintln!(
        "loom model {name}: {} interleavings in {:.1?}",
        runs.load(Ordering::Relaxed),
        started.elapsed()
    );
}

type Removed = Arc<Mutex<Vec<(u32, u32, RemovalCause)>>>;

/// An LRU cache (no time rule, so no clock reads) with one shard and a listener
/// that logs every removal.
fn lru_cache(capacity: usize) -> (Cache<u32, u32, LruBound>, Removed) {
    let removed: Removed = Arc::default();
    let log = Arc::clone(&removed);
    let cache = Cache::builder()
        .policy(LruBound::new(capacity).expect("capacity"))
        .shards(1)
        .clock(ManualClock::new())
        .eviction_listener(move |k, v, cause| log.lock().expect("log").push((k, v, cause)))
        .build()
        .expect("a valid cache");
    (cache, removed)
}

/// A creator that counts its runs and returns `value`.
fn counted(made: &Arc<AtomicUsize>, value: u32) -> impl FnOnce() -> u32 + use<> {
    let made = Arc::clone(made);
    move || {
        made.fetch_add(1, Ordering::Relaxed);
        value
    }
}

/// A future that is pending once (waking itself, as a real I/O future would after
/// registering) and then ready with `value`.
struct YieldOnce {
    value: u32,
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.yielded {
            Poll::Ready(self.value)
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// After a model's threads are done: no flight for `key` is left behind, so a
/// fresh get-or-create runs its own creator (a stuck flight would block it forever,
/// which loom reports as a deadlock).
fn assert_no_stuck_flight(cache: &Cache<u32, u32, LruBound>, key: u32) {
    cache.remove(&key);
    assert_eq!(
        cache.get_or_create(key, || 99),
        99,
        "a later creation must run"
    );
}

// ---- a. single-flight exactly once -------------------------------------------

fn assert_single_creation(cache: &Cache<u32, u32, LruBound>, made: &AtomicUsize, a: u32, b: u32) {
    assert_eq!(
        made.load(Ordering::Relaxed),
        1,
        "the value was created twice"
    );
    assert_eq!(a, b, "callers got different values");
    assert_eq!(cache.get(&1), Some(a));
    assert_eq!(cache.stats().creations, 1);
}

#[test]
fn a1_single_flight_two_sync_threads() {
    model("a1_single_flight_two_sync_threads", || {
        let (cache, _) = lru_cache(4);
        let made = Arc::new(AtomicUsize::new(0));
        let other = {
            let (cache, create) = (cache.clone(), counted(&made, 10));
            thread::spawn(move || cache.get_or_create(1, create))
        };
        let mine = cache.get_or_create(1, counted(&made, 20));
        let theirs = other.join().expect("other thread");
        assert_single_creation(&cache, &made, mine, theirs);
    });
}

#[test]
fn a2_single_flight_two_async_callers() {
    model("a2_single_flight_two_async_callers", || {
        let (cache, _) = lru_cache(4);
        let made = Arc::new(AtomicUsize::new(0));
        let call = |cache: Cache<u32, u32, LruBound>, value: u32, made: Arc<AtomicUsize>| async move {
            cache
                .get_or_create_async(1, move || {
                    made.fetch_add(1, Ordering::Relaxed);
                    YieldOnce {
                        value,
                        yielded: false,
                    }
                })
                .await
        };
        let other = {
            let fut = call(cache.clone(), 10, Arc::clone(&made));
            thread::spawn(move || loom::future::block_on(fut))
        };
        let mine = loom::future::block_on(call(cache.clone(), 20, Arc::clone(&made)));
        let theirs = other.join().expect("other thread");
        assert_single_creation(&cache, &made, mine, theirs);
    });
}

#[test]
fn a3_single_flight_sync_and_async() {
    model("a3_single_flight_sync_and_async", || {
        let (cache, _) = lru_cache(4);
        let made = Arc::new(AtomicUsize::new(0));
        let other = {
            let (cache, create) = (cache.clone(), counted(&made, 10));
            thread::spawn(move || cache.get_or_create(1, create))
        };
        let create = counted(&made, 20);
        let mine = loom::future::block_on(cache.get_or_create_async(1, || async move {
            YieldOnce {
                value: create(),
                yielded: false,
            }
            .await
        }));
        let theirs = other.join().expect("other thread");
        assert_single_creation(&cache, &made, mine, theirs);
    });
}

#[test]
fn a4_single_flight_three_sync_threads() {
    model("a4_single_flight_three_sync_threads", || {
        let (cache, _) = lru_cache(4);
        let made = Arc::new(AtomicUsize::new(0));
        let spawn = |value| {
            let (cache, create) = (cache.clone(), counted(&made, value));
            thread::spawn(move || cache.get_or_create(1, create))
        };
        let (first, second) = (spawn(10), spawn(30));
        let mine = cache.get_or_create(1, counted(&made, 20));
        let second = second.join().expect("second");
        assert_single_creation(&cache, &made, mine, first.join().expect("first"));
        assert_eq!(mine, second);
    });
}

// ---- b. hand-over when the creator fails ---------------------------------------

/// The payload of the creator's deliberate panic (kept quiet by [`quiet_panics`]).
struct CreatorPanic;

/// Silences the deliberate [`CreatorPanic`]s; every other panic still prints.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<CreatorPanic>() {
                default(info);
            }
        }));
    });
}

#[test]
fn b1_hand_over_after_creator_panics() {
    quiet_panics();
    model("b1_hand_over_after_creator_panics", || {
        let (cache, _) = lru_cache(4);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || {
                catch_unwind(AssertUnwindSafe(|| {
                    cache.get_or_create(1, || std::panic::panic_any(CreatorPanic))
                }))
            })
        };
        let mine = cache.get_or_create(1, || 20);
        assert_eq!(mine, 20, "only this caller's creator can have succeeded");
        match other.join().expect("other thread") {
            Ok(v) => assert_eq!(v, 20, "the panicking creator never ran"),
            Err(payload) => assert!(payload.is::<CreatorPanic>()),
        }
        assert_eq!(cache.get(&1), Some(20));
        assert_no_stuck_flight(&cache, 1);
    });
}

#[test]
fn b2_hand_over_after_creator_error() {
    model("b2_hand_over_after_creator_error", || {
        let (cache, _) = lru_cache(4);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || cache.try_get_or_create(1, || Err::<u32, &str>("refused")))
        };
        let mine = cache.try_get_or_create(1, || Ok::<u32, &str>(20));
        assert_eq!(mine, Ok(20));
        let theirs = other.join().expect("other thread");
        assert!(matches!(theirs, Ok(20) | Err("refused")), "{theirs:?}");
        assert_eq!(cache.get(&1), Some(20));
        assert_no_stuck_flight(&cache, 1);
    });
}

#[test]
fn b3_hand_over_after_async_creator_is_dropped() {
    model("b3_hand_over_after_async_creator_is_dropped", || {
        let (cache, _) = lru_cache(4);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || {
                // Poll once (registering as creator or waiter), then cancel.
                let fut = cache.get_or_create_async(1, std::future::pending::<u32>);
                let mut fut = std::pin::pin!(fut);
                let mut cx = Context::from_waker(Waker::noop());
                match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(v) => Some(v),
                    Poll::Pending => None,
                }
            })
        };
        let mine = loom::future::block_on(cache.get_or_create_async(1, || async { 20 }));
        assert_eq!(mine, 20);
        if let Some(theirs) = other.join().expect("other thread") {
            assert_eq!(theirs, 20);
        }
        assert_eq!(cache.get(&1), Some(20));
        assert_no_stuck_flight(&cache, 1);
    });
}

// ---- c. capacity ---------------------------------------------------------------

/// Inserts `keys` (value = key + 100), checking the bound after each insert.
fn insert_checked(cache: &Cache<u32, u32, LruBound>, keys: &[u32], capacity: usize) {
    for &k in keys {
        cache.insert(k, k + 100);
        let len = cache.len();
        assert!(len <= capacity, "len {len} > capacity {capacity}");
    }
}

fn capacity_model(capacity: usize, mine: &'static [u32], theirs: &'static [u32]) {
    let (cache, removed) = lru_cache(capacity);
    let other = {
        let cache = cache.clone();
        thread::spawn(move || insert_checked(&cache, theirs, capacity))
    };
    insert_checked(&cache, mine, capacity);
    other.join().expect("other thread");
    assert!(cache.len() <= capacity);
    let removed = removed.lock().expect("log").clone();
    let mut seen: Vec<u32> = cache.keys();
    assert_eq!(seen.len(), cache.len());
    for &(k, v, cause) in &removed {
        assert_eq!(cause, RemovalCause::Capacity, "{k} left for {cause:?}");
        assert_eq!(v, k + 100);
        seen.push(k);
    }
    seen.sort_unstable();
    let mut inserted: Vec<u32> = mine.iter().chain(theirs).copied().collect();
    inserted.sort_unstable();
    assert_eq!(
        seen, inserted,
        "live + evicted must be exactly the inserted keys"
    );
}

#[test]
fn c1_capacity_one_two_inserters() {
    model("c1_capacity_one_two_inserters", || {
        capacity_model(1, &[1], &[2])
    });
}

#[test]
fn c2_capacity_two_three_inserts() {
    model("c2_capacity_two_three_inserts", || {
        capacity_model(2, &[1, 2], &[3])
    });
}

// ---- d. a read racing expiry ---------------------------------------------------

const TTL: Duration = Duration::from_secs(10);
const SECOND: Duration = Duration::from_secs(1);

/// Reads an entry written at 0 `reads` times, starting at 5 s, while another
/// thread takes `steps` of moving the clock 5 s and running maintenance. Only this
/// thread reads the entry, so it can bound its deadline: `min(last touch + TTL,
/// 0 + lifetime)`, the touch lying between the start and the end of the last hit.
/// A read starting at or after the latest possible deadline must miss (no expired
/// value returned); a read ending before the earliest possible deadline must hit
/// (no live value lost).
fn read_racing_expiry<P: Policy>(
    policy: P,
    lifetime: Option<Duration>,
    reads: usize,
    steps: usize,
    per_entry: bool,
) {
    let clock = ManualClock::new();
    let mut builder = Cache::builder()
        .policy(policy)
        .shards(1)
        .clock(clock.clone());
    if per_entry {
        builder = builder.expire_after(SlideByHook);
    }
    let cache: Cache<u32, u64, P> = builder.build().expect("a valid cache");
    let now = || clock.now();
    let written = now();
    cache.insert(1, written.as_nanos());
    clock.advance(TTL / 2);
    let maintainer = {
        let (cache, clock) = (cache.clone(), clock.clone());
        thread::spawn(move || {
            for step in 2..steps + 2 {
                // `set` (one read-modify-write), not `advance` (a load, then a
                // compare-exchange): loom 0.7 never runs a thread whose first access
                // to an atomic is a load ahead of another thread's load of it
                // (tokio-rs/loom#392), so with `advance` it would never try a read
                // that sees the clock already moved.
                clock.set(written + TTL / 2 * step as u32);
                cache.run_maintenance();
            }
        })
    };
    let cap = |t: Timestamp| lifetime.map_or(t, |l| t.min(written + l));
    let (mut earliest, mut latest) = (cap(written + TTL), cap(written + TTL));
    for _ in 0..reads {
        let start = now();
        let got = cache.get(&1);
        let end = now();
        match got {
            Some(v) => {
                assert_eq!(v, written.as_nanos());
                assert!(
                    start < latest,
                    "expired value returned: read at {start:?}, deadline ≤ {latest:?}"
                );
                (earliest, latest) = (cap(start + TTL), cap(end + TTL));
            }
            None => {
                assert!(
                    end >= earliest,
                    "live value lost: read until {end:?}, deadline ≥ {earliest:?}"
                );
                break;
            }
        }
    }
    maintainer.join().expect("maintainer");
}

#[test]
fn d1_read_racing_expiry_and_maintenance() {
    model("d1_read_racing_expiry_and_maintenance", || {
        read_racing_expiry(SlidingTtl::new(TTL).expect("ttl"), None, 2, 1, false);
    });
}

/// A per-entry deadline that a read moves to `TTL` after the read: the same
/// bounds as a sliding TTL, but kept by the entry's own deadline.
struct SlideByHook;

impl tenure::Expiry<u32, u64> for SlideByHook {
    fn expire_after_create(&self, _: &u32, _: &u64) -> Option<Duration> {
        Some(TTL)
    }
    fn expire_after_read(&self, _: &u32, _: &u64, _: Option<Duration>) -> Option<Duration> {
        Some(TTL)
    }
}

/// An LRU cache (no time rule) whose entry's own deadline slides on reads,
/// read twice while another thread moves the clock and maintains.
#[test]
fn d3_read_racing_a_per_entry_deadline() {
    model("d3_read_racing_a_per_entry_deadline", || {
        read_racing_expiry(LruBound::new(2).expect("capacity"), None, 2, 1, true);
    });
}

/// A hybrid entry that also has a maximum lifetime (15 s), read three times while
/// a sweeper-like thread maintains at 10 s and 15 s.
#[test]
fn d2_read_racing_lifetime_and_repeated_maintenance() {
    model("d2_read_racing_lifetime_and_repeated_maintenance", || {
        let lifetime = TTL + TTL / 2;
        let policy = Hybrid::new(TTL, 2)
            .and_then(|p| p.with_max_lifetime(lifetime))
            .expect("policy");
        read_racing_expiry(policy, Some(lifetime), 3, 2, false);
    });
}

// ---- e. listener exactly once per removal -------------------------------------

/// Checks that every value ever stored is, at the end, either live or was passed
/// to the listener, and exactly once in all.
fn assert_each_once(cache: &Cache<u32, u32, LruBound>, removed: &Removed, stored: &[u32]) {
    let mut seen: Vec<u32> = removed.lock().expect("log").iter().map(|r| r.1).collect();
    for k in cache.keys() {
        seen.extend(cache.get(&k));
    }
    seen.sort_unstable();
    let mut stored = stored.to_vec();
    stored.sort_unstable();
    assert_eq!(
        seen, stored,
        "each value must be live or removed, exactly once"
    );
}

#[test]
fn e1_listener_once_remove_vs_insert() {
    model("e1_listener_once_remove_vs_insert", || {
        let (cache, removed) = lru_cache(4);
        cache.insert(1, 10);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || cache.insert(1, 11))
        };
        let taken = cache.remove(&1);
        let replaced = other.join().expect("other thread");
        // Either order is linearizable: remove first (10 removed, 11 live) or
        // insert first (10 replaced, 11 removed). remove never misses.
        let log = removed.lock().expect("log").clone();
        match (taken, replaced) {
            (Some(10), None) => assert_eq!(log, [(1, 10, RemovalCause::Removed)]),
            (Some(11), Some(10)) => assert_eq!(
                log,
                [
                    (1, 10, RemovalCause::Replaced),
                    (1, 11, RemovalCause::Removed)
                ]
            ),
            other => {
                panic!("not linearizable: remove/insert returned {other:?}, listener saw {log:?}")
            }
        }
        assert_each_once(&cache, &removed, &[10, 11]);
    });
}

#[test]
fn e2_listener_once_clear_vs_insert_and_remove() {
    model("e2_listener_once_clear_vs_insert_and_remove", || {
        let (cache, removed) = lru_cache(4);
        cache.insert(1, 10);
        cache.insert(2, 20);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || {
                cache.insert(1, 11);
                cache.remove(&2)
            })
        };
        cache.clear();
        let taken = other.join().expect("other thread");
        assert!(matches!(taken, None | Some(20)), "{taken:?}");
        assert_each_once(&cache, &removed, &[10, 11, 20]);
        for &(_, v, cause) in removed.lock().expect("log").iter() {
            let expected: &[RemovalCause] = match v {
                10 => &[RemovalCause::Replaced, RemovalCause::Cleared],
                11 => &[RemovalCause::Cleared],
                _ => &[RemovalCause::Removed, RemovalCause::Cleared],
            };
            assert!(expected.contains(&cause), "{v} left for {cause:?}");
        }
    });
}

#[test]
fn e3_listener_once_insert_vs_insert() {
    model("e3_listener_once_insert_vs_insert", || {
        let (cache, removed) = lru_cache(4);
        cache.insert(1, 10);
        let other = {
            let cache = cache.clone();
            thread::spawn(move || cache.insert(1, 11))
        };
        let mine = cache.insert(1, 12);
        let theirs = other.join().expect("other thread");
        // One insert replaced 10, the other replaced that insert's value.
        let live = cache.get(&1).expect("a value is live");
        match (mine, theirs) {
            (Some(10), Some(12)) => assert_eq!(live, 11),
            (Some(11), Some(10)) => assert_eq!(live, 12),
            other => panic!("not linearizable: inserts returned {other:?}"),
        }
        assert!(
            removed
                .lock()
                .expect("log")
                .iter()
                .all(|r| r.2 == RemovalCause::Replaced)
        );
        assert_each_once(&cache, &removed, &[10, 11, 12]);
    });
}

// ---- f. sweeper shutdown -------------------------------------------------------

/// Under loom a sweeper's timed wait never times out, so it can only end through
/// the stop signal the cache sends when it is dropped (or through the weak
/// reference failing, if it was mid-sweep). Joining it proves it ended; a lost
/// stop signal leaves it waiting forever, which loom reports as a deadlock.
#[test]
fn f_sweeper_ends_when_cache_is_dropped() {
    model("f_sweeper_ends_when_cache_is_dropped", || {
        let (cache, _) = lru_cache(4);
        let sweeper = cache.start_sweeper(Duration::from_secs(1)).unwrap();
        let user = {
            let cache = cache.clone();
            thread::spawn(move || {
                cache.insert(1, 10);
                drop(cache);
            })
        };
        drop(cache);
        user.join().expect("user thread");
        sweeper.join();
    });
}

// ---- g–i. reads on two threads' buffers, a reused slot, racing touches --------

/// std's SipHash with fixed keys: it puts a key in the same shard in every
/// execution of a model (see the file header).
type FixedHasher = BuildHasherDefault<DefaultHasher>;

/// The value models g and i store for `key`.
fn value_of(key: u32) -> u32 {
    key * 10
}

/// A cache on `clock` with `shards` shards, a fixed hasher and a listener that
/// logs every removal.
fn timed_cache<P: Policy>(
    policy: P,
    clock: &ManualClock,
    shards: usize,
) -> (Cache<u32, u32, P, FixedHasher>, Removed) {
    let removed: Removed = Arc::default();
    let log = Arc::clone(&removed);
    let cache = Cache::builder()
        .policy(policy)
        .hasher(FixedHasher::default())
        .shards(shards)
        .clock(clock.clone())
        .eviction_listener(move |k, v, cause| log.lock().expect("log").push((k, v, cause)))
        .build()
        .expect("a valid cache");
    (cache, removed)
}

/// The listener's records for `key` from the `from`-th on.
fn logged(removed: &Removed, key: u32, from: usize) -> Vec<(u32, u32, RemovalCause)> {
    let log = removed.lock().expect("log");
    log[from.min(log.len())..]
        .iter()
        .filter(|r| r.0 == key)
        .copied()
        .collect()
}

/// A `get` bracketed by clock reads: the entry's new access time lies in
/// `start..=end`.
struct TimedRead {
    key: u32,
    start: Timestamp,
    end: Timestamp,
    got: Option<u32>,
}

impl TimedRead {
    fn new<P: Policy>(
        cache: &Cache<u32, u32, P, FixedHasher>,
        clock: &ManualClock,
        key: u32,
    ) -> Self {
        let start = clock.now();
        let got = cache.get(&key);
        let end = clock.now();
        TimedRead {
            key,
            start,
            end,
            got,
        }
    }

    /// Whether the entry, read only by this read since it was written at 0, is
    /// past its deadline at `now`; `None` if the clock moved during the read far
    /// enough that the deadline may lie on either side.
    fn expired_at(&self, now: Timestamp) -> Option<bool> {
        if self.end + TTL <= now {
            Some(true)
        } else if self.start + TTL > now {
            Some(false)
        } else {
            None
        }
    }
}

/// Two threads each read their own key while the clock moves from 1 s to 5 s, so
/// in some interleavings the "new" read (5 s) is replayed before the "old" one
/// (1 s): from a buffer replayed first, or a record published late. At 11 s
/// the old key's deadline (TTL 10 s) has passed and the new one's has not:
/// `run_maintenance` must reclaim exactly the old key, as `Expired`; neither `get`
/// nor `remove` may return it, and `remove` of the new one returns its value as
/// `Removed`. Defect: maintenance trusted the replayed order, stopped at the new
/// key and left the old one, which `remove` then handed out as `Removed`.
#[test]
fn g_two_readers_then_maintenance_and_remove() {
    model("g_two_readers_then_maintenance_and_remove", || {
        let clock = ManualClock::new();
        let (cache, removed) = timed_cache(SlidingTtl::new(TTL).expect("ttl"), &clock, 2);
        let keys = [1, 2];
        for key in keys {
            cache.insert(key, value_of(key));
        }
        clock.set(Timestamp::ZERO + SECOND);
        let readers = keys.map(|key| {
            let (cache, clock) = (cache.clone(), clock.clone());
            thread::spawn(move || TimedRead::new(&cache, &clock, key))
        });
        clock.set(Timestamp::ZERO + 5 * SECOND);
        let reads = readers.map(|r| r.join().expect("reader"));
        let mut faults = Vec::new();
        for read in &reads {
            if read.got != Some(value_of(read.key)) {
                faults.push(format!(
                    "live value lost: key {} read between {:?} and {:?} (written at 0, TTL {TTL:?}) returned {:?}",
                    read.key, read.start, read.end, read.got
                ));
            }
        }

        let now = Timestamp::ZERO + 11 * SECOND;
        clock.set(now);
        // Which keys are expired now: known from the clock readings around the
        // read, or, if the clock moved during it (so it read at 1 s or 5 s), as
        // `contains` says; every later answer must then agree.
        let expired = reads.each_ref().map(|read| {
            let live = cache.contains_key(&read.key);
            let expired = read.expired_at(now).unwrap_or(!live);
            if expired == live {
                faults.push(format!(
                    "contains({}) is {live} at {now:?} after a read between {:?} and {:?} (TTL {TTL:?})",
                    read.key, read.start, read.end
                ));
            }
            expired
        });
        let describe = |read: &TimedRead| {
            format!(
                "key {} read between {:?} and {:?} (TTL {TTL:?}), now {now:?}",
                read.key, read.start, read.end
            )
        };

        cache.run_maintenance();
        for (read, &expired) in reads.iter().zip(&expired) {
            let (key, value) = (read.key, value_of(read.key));
            let log = logged(&removed, key, 0);
            if expired && log != [(key, value, RemovalCause::Expired)] {
                faults.push(format!(
                    "expired entry survived run_maintenance: {}; len {}, listener saw {log:?}",
                    describe(read),
                    cache.len()
                ));
            }
            if !expired && !log.is_empty() {
                faults.push(format!(
                    "live entry reclaimed by run_maintenance: {}; listener saw {log:?}",
                    describe(read)
                ));
            }
        }
        let live = expired.iter().filter(|&&e| !e).count();
        if cache.len() != live {
            faults.push(format!(
                "run_maintenance at {now:?} left len {} for {live} live entries",
                cache.len()
            ));
        }

        for (read, &expired) in reads.iter().zip(&expired) {
            let (key, value) = (read.key, value_of(read.key));
            let got = cache.get(&key);
            if got != (!expired).then_some(value) {
                let what = if expired {
                    "expired value returned by get"
                } else {
                    "live value lost"
                };
                faults.push(format!("{what}: {} -> {got:?}", describe(read)));
            }
            let from = removed.lock().expect("log").len();
            let taken = cache.remove(&key);
            let causes: Vec<RemovalCause> =
                logged(&removed, key, from).iter().map(|r| r.2).collect();
            if expired && taken.is_some() {
                faults.push(format!(
                    "expired value returned by remove: {} -> {taken:?}",
                    describe(read)
                ));
            }
            if expired && causes.contains(&RemovalCause::Removed) {
                faults.push(format!(
                    "listener reported Removed for an expired entry: {}; causes {causes:?}",
                    describe(read)
                ));
            }
            if !expired && (taken != Some(value) || causes != [RemovalCause::Removed]) {
                faults.push(format!(
                    "remove of a live entry: {} -> {taken:?}, listener causes {causes:?}",
                    describe(read)
                ));
            }
        }
        if !cache.is_empty() {
            faults.push(format!(
                "{} entries left after removing every key",
                cache.len()
            ));
        }
        assert!(faults.is_empty(), "{}", faults.join("\n"));
    });
}

/// A hit on `a` races with `remove(a)`, an insert of `c` (which may take `a`'s
/// freed position) and a rewrite of `b`, so `c` is the least recently used entry.
/// A hybrid cache of capacity 2 must then evict `c` when `a` comes back, whenever
/// `a`'s buffered read is drained. One shard, so that `c` can take `a`'s
/// position whatever shards their hashes pick. Defect: the read record named
/// only the position, so a drain after the reuse promoted `c` and evicted `b`.
#[test]
fn h_slot_reused_between_read_and_drain() {
    model("h_slot_reused_between_read_and_drain", || {
        let clock = ManualClock::new();
        let (cache, removed) = timed_cache(Hybrid::new(TTL, 2).expect("policy"), &clock, 1);
        let (a, b, c) = (1, 2, 3);
        cache.insert(a, 10);
        cache.insert(b, 20);
        let reader = {
            let cache = cache.clone();
            thread::spawn(move || cache.get(&a))
        };
        cache.remove(&a);
        cache.insert(c, 30);
        cache.insert(b, 21);
        let read = reader.join().expect("reader");
        assert!(matches!(read, None | Some(10)), "get(a) returned {read:?}");
        // Three entries for two places: the least recently used, c, must go.
        cache.insert(a, 11);
        let log = removed.lock().expect("log").clone();
        assert_eq!(
            log,
            [
                (a, 10, RemovalCause::Removed),
                (b, 20, RemovalCause::Replaced),
                (c, 30, RemovalCause::Capacity)
            ],
            "read of a removed entry moved c (in a's old slot) in LRU order: the insert over the bound evicted the wrong entry"
        );
        let mut keys = cache.keys();
        keys.sort_unstable();
        assert_eq!(keys, [a, b]);
    });
}

/// Two threads read one entry (TTL 10 s), one at 1 s or 5 s, the other at 5 s.
/// However the two reads interleave, the entry was read at 5 s, so at 11 s it is
/// live: `contains` sees it, maintenance keeps it, `get` hits, `remove` returns it
/// as `Removed`. Defect: a read preempted between its clock read and its store of
/// the access time overwrote 5 s with 1 s.
#[test]
fn i_racing_touches_of_one_entry() {
    model("i_racing_touches_of_one_entry", || {
        let clock = ManualClock::new();
        let (cache, removed) = timed_cache(SlidingTtl::new(TTL).expect("ttl"), &clock, 2);
        let a = 1;
        cache.insert(a, 10);
        clock.set(Timestamp::ZERO + SECOND);
        let early = {
            let cache = cache.clone();
            thread::spawn(move || cache.get(&a))
        };
        clock.set(Timestamp::ZERO + 5 * SECOND);
        let late = cache.get(&a);
        let early = early.join().expect("early reader");
        assert_eq!((early, late), (Some(10), Some(10)), "live value lost");

        let now = Timestamp::ZERO + 11 * SECOND;
        clock.set(now);
        let mut faults = Vec::new();
        if !cache.contains_key(&a) {
            faults.push(format!(
                "an earlier read undid a later one: contains(a) is false at {now:?} for an entry read at 5s (TTL {TTL:?})"
            ));
        }
        cache.run_maintenance();
        let log = removed.lock().expect("log").clone();
        if cache.len() != 1 || !log.is_empty() {
            faults.push(format!(
                "run_maintenance at {now:?} reclaimed an entry read at 5s: len {}, listener saw {log:?}",
                cache.len()
            ));
        }
        let got = cache.get(&a);
        if got != Some(10) {
            faults.push(format!(
                "an earlier read undid a later one: get(a) at {now:?} returned {got:?} for an entry read at 5s (TTL {TTL:?})"
            ));
        }
        let taken = cache.remove(&a);
        let log = removed.lock().expect("log").clone();
        if taken != Some(10) || log != [(a, 10, RemovalCause::Removed)] {
            faults.push(format!(
                "remove(a) at {now:?} returned {taken:?}, listener saw {log:?}; expected the live value, Removed"
            ));
        }
        assert!(faults.is_empty(), "{}", faults.join("\n"));
    });
}

// ---- j. a marked read racing an eviction ----------------------------------------

/// SIEVE at capacity 2 holds keys 1 and 2; one thread reads 1 while another
/// inserts 3, which evicts. The hand starts at 1: if the read's mark reaches
/// the policy before it chooses, 1 is spared and 2 goes; otherwise 1 goes, and
/// the read either returned 1's value first or missed. A read that had
/// returned before the insert began must have been counted.
#[test]
fn j1_marked_read_racing_an_evicting_insert() {
    model("j1_marked_read_racing_an_evicting_insert", || {
        let removed: Removed = Arc::default();
        let log = Arc::clone(&removed);
        let cache: Cache<u32, u32, Sieve> = Cache::builder()
            .policy(Sieve::new(2).expect("capacity"))
            .shards(1)
            .clock(ManualClock::new())
            .eviction_listener(move |k, v, cause| log.lock().expect("log").push((k, v, cause)))
            .build()
            .expect("a valid cache");
        cache.insert(1, 101);
        cache.insert(2, 102);
        // Test bookkeeping (std, so no interleavings of its own): set once the
        // read has returned.
        let read_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (cache, read_done) = (cache.clone(), Arc::clone(&read_done));
            thread::spawn(move || {
                let got = cache.get(&1);
                read_done.store(true, Ordering::Relaxed);
                got
            })
        };
        // Lets the reader run first in some schedules.
        thread::yield_now();
        let read_before = read_done.load(Ordering::Relaxed);
        cache.insert(3, 103);
        assert!(cache.len() <= 2, "len {} > capacity 2", cache.len());
        let got = reader.join().expect("reader");
        let log = removed.lock().expect("log").clone();
        let [(victim, value, RemovalCause::Capacity)] = log[..] else {
            panic!("one eviction expected, listener saw {log:?}");
        };
        assert_eq!(value, victim + 100);
        match got {
            Some(v) => assert_eq!(v, 101),
            None => assert_eq!(victim, 1, "a read of a held entry missed"),
        }
        if read_before {
            assert_eq!(victim, 2, "a read that returned before the insert was lost");
        }
        if victim == 2 {
            assert_eq!(got, Some(101), "2 was evicted though 1 was never read");
        }
        assert_eq!(cache.len(), 2);
    });
}

// ---- k. a creation racing writes of its key -------------------------------------
//
// Each failed on the cache as it was before creations yielded to concurrent
// writes (0d06853), where both defects were real; the faults
// `overwrite_on_create` (k1) and `unregister_after_write` (k2) bring them back.

/// The key models k1 and k2 race on.
const RACED: u32 = 1;

/// A call on [`RACED`] in models k1 and k2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyCall {
    Insert(u32),
    Remove,
    /// `get_or_create` whose creator returns this value.
    GetOrCreate(u32),
}

impl KeyCall {
    /// Makes the call on `cache`; a get-or-create's value comes back as `Some`.
    fn on(self, cache: &Cache<u32, u32, LruBound>) -> Option<u32> {
        match self {
            KeyCall::Insert(v) => cache.insert(RACED, v),
            KeyCall::Remove => cache.remove(&RACED),
            KeyCall::GetOrCreate(v) => Some(cache.get_or_create(RACED, move || v)),
        }
    }
}

/// What one call `a` on one thread and two calls `b` on another gave: their
/// results (`a`'s first), what `get` finds once both threads are done, and
/// the listener's records, sorted.
#[derive(Debug, PartialEq, Eq)]
struct RaceOutcome {
    results: [Option<u32>; 3],
    left: Option<u32>,
    removed: Vec<(u32, u32, RemovalCause)>,
}

/// The outcomes a linearizable cache may give for `a` racing `b`: one per
/// place `a` can take among `b`'s two calls, replayed on a plain map (a
/// creation whose key is held returns that value and changes nothing).
fn sequential_outcomes(a: KeyCall, b: [KeyCall; 2]) -> Vec<RaceOutcome> {
    (0..=2)
        .map(|at| {
            let mut order = vec![(1, b[0]), (2, b[1])];
            order.insert(at, (0, a));
            let (mut results, mut held, mut removed) = ([None; 3], None, Vec::new());
            for (who, call) in order {
                results[who] = match call {
                    KeyCall::Insert(v) => held.replace(v),
                    KeyCall::Remove => held.take(),
                    KeyCall::GetOrCreate(v) => Some(*held.get_or_insert(v)),
                };
                if let (Some(old), KeyCall::Insert(_) | KeyCall::Remove) = (results[who], call) {
                    let cause = match call {
                        KeyCall::Remove => RemovalCause::Removed,
                        _ => RemovalCause::Replaced,
                    };
                    removed.push((RACED, old, cause));
                }
            }
            removed.sort_unstable();
            RaceOutcome {
                results,
                left: held,
                removed,
            }
        })
        .collect()
}

/// Runs `a` on this thread while another runs `b`, on an empty key.
fn race(a: KeyCall, b: [KeyCall; 2]) -> RaceOutcome {
    let (cache, removed) = lru_cache(4);
    let other = {
        let cache = cache.clone();
        thread::spawn(move || b.map(|call| call.on(&cache)))
    };
    let mine = a.on(&cache);
    let [first, second] = other.join().expect("other thread");
    let left = cache.get(&RACED);
    let mut removed = removed.lock().expect("log").clone();
    removed.sort_unstable();
    assert_no_stuck_flight(&cache, RACED);
    RaceOutcome {
        results: [mine, first, second],
        left,
        removed,
    }
}

/// Fails unless `outcome` is one a sequential order gives.
fn assert_linearizable(a: KeyCall, b: [KeyCall; 2], outcome: &RaceOutcome) {
    let allowed = sequential_outcomes(a, b);
    assert!(
        allowed.contains(outcome),
        "not linearizable: {a:?} on one thread, {b:?} on another gave {outcome:?}; \
         the sequential orders give one of {allowed:?}"
    );
}

/// A creation of 3 races an insert of 1 and a removal on another thread. In
/// a linearizable run the creation came first and stored 3 (which the insert
/// replaced), or came between the two and found 1 (storing nothing), or came
/// last and stored 3; so a creation that finds its key written while its
/// creator ran yields to that write. Defect: the creation stored 3 over an
/// insert that had returned `None`, and the remove returned 3.
#[test]
fn k1_creation_racing_an_insert_and_a_remove() {
    model("k1_creation_racing_an_insert_and_a_remove", || {
        let (a, b) = (
            KeyCall::GetOrCreate(3),
            [KeyCall::Insert(1), KeyCall::Remove],
        );
        assert_linearizable(a, b, &race(a, b));
    });
}

/// A creation of 1 races a removal and a creation of 3 on another thread.
/// If the removal returned 1, that value is gone: the second creation must
/// not return it. Defect: the first creation stored 1 and kept its flight
/// registered until after; the removal took 1, and the second creation found
/// the flight and waited on it for 1.
#[test]
fn k2_removed_value_not_handed_out_again() {
    model("k2_removed_value_not_handed_out_again", || {
        let (a, b) = (
            KeyCall::GetOrCreate(1),
            [KeyCall::Remove, KeyCall::GetOrCreate(3)],
        );
        let outcome = race(a, b);
        let [_, removed, recreated] = outcome.results;
        assert!(
            !(removed == Some(1) && recreated == Some(1)),
            "a removed value was handed out again: remove returned 1, then get_or_create returned 1 ({outcome:?})"
        );
        assert_linearizable(a, b, &outcome);
    });
}
