//! Acceptance item 4: single-flight creation, sync and async, through `Cache` and
//! through `Arc<dyn KeyedResourceCache<K, V>>`.
//!
//! No test waits for time: a creator holds its flight open until the cache's miss
//! counter shows that every other caller has joined (and so is waiting), and
//! every wait is bounded by `support::PATIENCE` so a hang fails instead of blocking.

mod support;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;

use support::{PATIENCE, Removals, wait_until, within_patience};
use tenure::RemovalCause::{Removed, Replaced};
use tenure::policy::LruBound;
use tenure::{Cache, KeyedResourceCache, KeyedResourceCacheExt};
use tokio::sync::oneshot;

type Value = Arc<u64>;
type FlightCache = Cache<u32, Value, LruBound>;
type DynCache = dyn KeyedResourceCache<u32, Value>;

/// Callers per test.
const N: usize = 8;
/// Callers that wait on a creator that will fail.
const WAITERS: usize = 3;
const KEY: u32 = 7;

fn new_cache() -> FlightCache {
    Cache::new(LruBound::new(100).unwrap())
}

/// Every caller that joined the flight for a missing key counted one miss.
fn joined(cache: &DynCache) -> usize {
    cache.stats().misses as usize
}

/// Async form of [`wait_until`] for `joined(cache) >= n`.
async fn until_joined(cache: &DynCache, n: usize) {
    let all_in = async {
        while joined(cache) < n {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(PATIENCE, all_in)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {n} callers to join"));
}

async fn in_time<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: still pending after {PATIENCE:?} (deadlock?)"))
}

/// All `values` are one allocation, and it is the one the cache holds.
fn assert_one_value(cache: &DynCache, values: &[Value]) {
    assert!(!values.is_empty());
    for v in values {
        assert!(Arc::ptr_eq(v, &values[0]), "callers got different values");
    }
    let held = cache.get(&KEY).expect("the value is cached");
    assert!(Arc::ptr_eq(&held, &values[0]));
}

// ---------------------------------------------------------------- one creation for all

fn threads_share_one_creation(cache: &DynCache) {
    let calls = AtomicUsize::new(0);
    let barrier = Barrier::new(N);
    let values: Vec<Value> = thread::scope(|s| {
        let (calls, barrier) = (&calls, &barrier);
        let callers: Vec<_> = (0..N as u64)
            .map(|i| {
                s.spawn(move || {
                    barrier.wait();
                    cache.get_or_create(KEY, || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        wait_until("every caller joined", || joined(cache) >= N);
                        Arc::new(i)
                    })
                })
            })
            .collect();
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the factory ran once");
    assert_one_value(cache, &values);
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (1, 0));
    assert_eq!(stats.misses, N as u64);
    assert_eq!(cache.len(), 1);
}

#[test]
fn n_threads_on_one_missing_key_run_the_factory_once_and_share_its_value() {
    threads_share_one_creation(&new_cache());
}

#[test]
fn n_threads_through_a_dyn_keyed_resource_cache_share_one_creation() {
    let cache: Arc<DynCache> = Arc::new(new_cache());
    threads_share_one_creation(&*cache);
}

/// Spawns `N` tasks that each call `create_via(cache, i)` and returns their values.
async fn tasks_share_one_creation<F>(
    cache: Arc<DynCache>,
    create_via: impl Fn(Arc<DynCache>, u64) -> F,
) -> Vec<Value>
where
    F: Future<Output = Value> + Send + 'static,
{
    let tasks: Vec<_> = (0..N as u64)
        .map(|i| tokio::spawn(create_via(Arc::clone(&cache), i)))
        .collect();
    let mut values = Vec::new();
    for task in tasks {
        values.push(in_time("a caller", task).await.unwrap());
    }
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_tasks_on_one_missing_key_run_the_factory_once_and_share_its_value() {
    let cache = new_cache();
    let calls = Arc::new(AtomicUsize::new(0));
    let shared: Arc<DynCache> = Arc::new(cache.clone());
    let values = tasks_share_one_creation(shared, |_, i| {
        let (cache, calls) = (cache.clone(), Arc::clone(&calls));
        async move {
            cache
                .get_or_create_async(KEY, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    until_joined(&cache, N).await;
                    Arc::new(i)
                })
                .await
        }
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_one_value(&cache, &values);
    assert_eq!(cache.stats().creations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_tasks_through_a_dyn_keyed_resource_cache_share_one_creation() {
    let cache: Arc<DynCache> = Arc::new(new_cache());
    let calls = Arc::new(AtomicUsize::new(0));
    let values = tasks_share_one_creation(Arc::clone(&cache), |cache, i| {
        let calls = Arc::clone(&calls);
        async move {
            let creator_view = Arc::clone(&cache);
            cache
                .get_or_create_async(KEY, move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    until_joined(&*creator_view, N).await;
                    Arc::new(i)
                })
                .await
        }
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_one_value(&*cache, &values);
    assert_eq!(cache.stats().creations, 1);
}

#[test]
fn n_threads_and_n_tasks_together_run_the_factory_once() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let cache = new_cache();
    let calls = Arc::new(AtomicUsize::new(0));
    let everyone = 2 * N;
    let tasks: Vec<_> = (0..N as u64)
        .map(|i| {
            let (cache, calls) = (cache.clone(), Arc::clone(&calls));
            runtime.spawn(async move {
                cache
                    .get_or_create_async(KEY, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        until_joined(&cache, everyone).await;
                        Arc::new(i)
                    })
                    .await
            })
        })
        .collect();
    let mut values: Vec<Value> = thread::scope(|s| {
        let threads: Vec<_> = (0..N as u64)
            .map(|i| {
                let (cache, calls) = (&cache, &calls);
                s.spawn(move || {
                    cache.get_or_create(KEY, || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        wait_until("every caller joined", || joined(cache) >= everyone);
                        Arc::new(100 + i)
                    })
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for task in tasks {
        values.push(runtime.block_on(in_time("a task", task)).unwrap());
    }
    assert_eq!(values.len(), everyone);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_one_value(&cache, &values);
}

// ---------------------------------------------------------------- hand-over on failure

/// Runs `fail_first` on a thread: it must start a creation for `KEY` whose
/// creator calls `hold` and then fails. `hold` returns only once `WAITERS` more
/// callers (started after the creator, through `Cache` or the `dyn` trait) wait
/// on that creation. Checks that exactly one waiter took over and that all
/// waiters got its value.
fn check_hand_over(
    via_dyn: bool,
    fail_first: impl FnOnce(&FlightCache, &(dyn Fn() + Sync)) + Send,
) {
    let cache = new_cache();
    let takeovers = AtomicUsize::new(0);
    let (started, creator_started) = mpsc::channel();
    let hold = || {
        started.send(()).unwrap();
        wait_until("the waiters joined", || joined(&cache) > WAITERS);
    };
    let values: Vec<Value> = thread::scope(|s| {
        let (cache, takeovers, hold) = (&cache, &takeovers, &hold);
        let first = s.spawn(move || fail_first(cache, hold));
        creator_started
            .recv_timeout(PATIENCE)
            .expect("the first creator started");
        let waiters: Vec<_> = (0..WAITERS as u64)
            .map(|i| {
                s.spawn(move || {
                    let create = || {
                        takeovers.fetch_add(1, Ordering::SeqCst);
                        Arc::new(100 + i)
                    };
                    if via_dyn {
                        let shared: &DynCache = cache;
                        shared.get_or_create(KEY, create)
                    } else {
                        cache.get_or_create(KEY, create)
                    }
                })
            })
            .collect();
        first
            .join()
            .expect("the failing caller checks its own result");
        waiters.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(takeovers.load(Ordering::SeqCst), 1, "one waiter took over");
    assert!((100..100 + WAITERS as u64).contains(&*values[0]));
    assert_one_value(&cache, &values);
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (1, 1));
    assert_eq!(cache.len(), 1);
}

fn panic_in_creator(cache: &FlightCache, hold: &(dyn Fn() + Sync)) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_create(KEY, || {
            hold();
            panic!("this creator fails on purpose");
        })
    }));
    assert!(
        outcome.is_err(),
        "the creator's panic reaches its own caller"
    );
}

fn error_in_creator(cache: &FlightCache, hold: &(dyn Fn() + Sync)) {
    let outcome: Result<Value, &str> = cache.try_get_or_create(KEY, || {
        hold();
        Err("first creator failed")
    });
    assert_eq!(outcome, Err("first creator failed"));
}

fn error_in_dyn_creator(cache: &FlightCache, hold: &(dyn Fn() + Sync)) {
    let shared: &DynCache = cache;
    let outcome: Result<Value, String> = shared.try_get_or_create(KEY, || {
        hold();
        Err("first creator failed".to_string())
    });
    assert_eq!(outcome.unwrap_err(), "first creator failed");
}

#[test]
fn a_creator_that_panics_hands_over_to_one_waiter() {
    check_hand_over(false, panic_in_creator);
}

#[test]
fn a_creator_that_errors_hands_over_to_one_waiter() {
    check_hand_over(false, error_in_creator);
}

#[test]
fn through_the_dyn_trait_a_failed_creator_hands_over_to_one_waiter() {
    check_hand_over(true, panic_in_creator);
    check_hand_over(true, error_in_dyn_creator);
}

#[test]
fn a_creator_error_is_returned_and_nothing_is_cached() {
    let cache = new_cache();
    let outcome: Result<Value, &str> = cache.try_get_or_create(KEY, || Err("no"));
    assert_eq!(outcome, Err("no"));
    assert_eq!(cache.len(), 0);
    assert!(!cache.contains_key(&KEY));
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (0, 1));
    // Not cached: the next caller's creator runs.
    let again: Result<Value, &str> = cache.try_get_or_create(KEY, || Ok(Arc::new(5)));
    assert_eq!(*again.unwrap(), 5);
    assert_eq!(cache.stats().creations, 1);

    // Same through the dyn trait.
    let shared: Arc<DynCache> = Arc::new(new_cache());
    let outcome: Result<Value, &str> = shared.try_get_or_create(KEY, || Err("no"));
    assert_eq!(outcome, Err("no"));
    assert_eq!((shared.len(), shared.stats().creation_failures), (0, 1));
}

#[tokio::test]
async fn an_async_creator_error_is_returned_and_nothing_is_cached() {
    let cache = new_cache();
    let outcome: Result<Value, &str> = cache
        .try_get_or_create_async(KEY, || async { Err("no") })
        .await;
    assert_eq!(outcome, Err("no"));
    assert_eq!((cache.len(), cache.stats().creation_failures), (0, 1));

    let shared: Arc<DynCache> = Arc::new(new_cache());
    let outcome: Result<Value, &str> = shared
        .try_get_or_create_async(KEY, || async { Err("no") })
        .await;
    assert_eq!(outcome, Err("no"));
    assert_eq!((shared.len(), shared.stats().creation_failures), (0, 1));
    let made = shared
        .get_or_create_async(KEY, || async { Arc::new(1) })
        .await;
    assert_eq!(*made, 1);
}

// ---------------------------------------------------------------- async cancellation

/// A creator future that signals it has started and then never finishes.
fn stuck_creator(started: oneshot::Sender<()>) -> impl FnOnce() -> std::future::Pending<Value> {
    move || {
        started.send(()).unwrap();
        std::future::pending()
    }
}

/// Starts `WAITERS` tasks on `KEY` (after a creator is running), lets `cancel`
/// drop the creator, and checks that one waiter took over for all of them.
async fn check_async_hand_over(cache: FlightCache, cancel: impl Future<Output = ()>) {
    let takeovers = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..WAITERS as u64)
        .map(|i| {
            let (cache, takeovers) = (cache.clone(), Arc::clone(&takeovers));
            tokio::spawn(async move {
                cache
                    .get_or_create_async(KEY, || async move {
                        takeovers.fetch_add(1, Ordering::SeqCst);
                        Arc::new(100 + i)
                    })
                    .await
            })
        })
        .collect();
    until_joined(&cache, 1 + WAITERS).await;
    cancel.await;
    let mut values = Vec::new();
    for waiter in waiters {
        values.push(in_time("a waiter", waiter).await.unwrap());
    }
    assert_eq!(takeovers.load(Ordering::SeqCst), 1);
    assert_one_value(&cache, &values);
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (1, 1));
}

#[tokio::test]
async fn an_aborted_async_creator_hands_over_to_a_waiter() {
    let cache = new_cache();
    let (started, creator_started) = oneshot::channel();
    let creator = tokio::spawn({
        let cache = cache.clone();
        async move { cache.get_or_create_async(KEY, stuck_creator(started)).await }
    });
    creator_started.await.unwrap();
    check_async_hand_over(cache, async move {
        creator.abort();
        assert!(creator.await.unwrap_err().is_cancelled());
    })
    .await;
}

#[tokio::test]
async fn an_async_creator_dropped_by_select_hands_over_to_a_waiter() {
    let cache = new_cache();
    let (started, creator_started) = oneshot::channel();
    let (give_up, gave_up) = oneshot::channel::<()>();
    let (dropped, creator_dropped) = oneshot::channel();
    tokio::spawn({
        let cache = cache.clone();
        async move {
            tokio::select! {
                _ = cache.get_or_create_async(KEY, stuck_creator(started)) => unreachable!(),
                _ = gave_up => {}
            }
            dropped.send(()).unwrap();
        }
    });
    creator_started.await.unwrap();
    check_async_hand_over(cache, async move {
        give_up.send(()).unwrap();
        creator_dropped.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_dropped_dyn_async_creator_hands_over_to_a_waiter() {
    let cache = new_cache();
    let (started, creator_started) = oneshot::channel();
    let creator = tokio::spawn({
        let shared: Arc<DynCache> = Arc::new(cache.clone());
        async move {
            shared
                .get_or_create_async(KEY, stuck_creator(started))
                .await
        }
    });
    creator_started.await.unwrap();
    check_async_hand_over(cache, async move {
        creator.abort();
        assert!(creator.await.unwrap_err().is_cancelled());
    })
    .await;
}

#[tokio::test]
async fn an_async_creator_that_panics_hands_over_to_a_waiter() {
    let cache = new_cache();
    let (started, creator_started) = oneshot::channel();
    let (fail, told_to_fail) = oneshot::channel::<()>();
    let creator = tokio::spawn({
        let cache = cache.clone();
        async move {
            cache
                .get_or_create_async(KEY, || async move {
                    started.send(()).unwrap();
                    told_to_fail.await.unwrap();
                    panic!("this creator fails on purpose");
                })
                .await
        }
    });
    creator_started.await.unwrap();
    check_async_hand_over(cache, async move {
        fail.send(()).unwrap();
        assert!(creator.await.unwrap_err().is_panic());
    })
    .await;
}

#[tokio::test]
async fn an_async_creator_that_errors_hands_over_to_a_waiter() {
    let cache = new_cache();
    let (started, creator_started) = oneshot::channel();
    let (fail, told_to_fail) = oneshot::channel::<()>();
    let creator = tokio::spawn({
        let cache = cache.clone();
        async move {
            cache
                .try_get_or_create_async(KEY, || async move {
                    started.send(()).unwrap();
                    told_to_fail.await.unwrap();
                    Err::<Value, _>("first creator failed")
                })
                .await
        }
    });
    creator_started.await.unwrap();
    check_async_hand_over(cache, async move {
        fail.send(()).unwrap();
        assert_eq!(creator.await.unwrap(), Err("first creator failed"));
    })
    .await;
}

// ---------------------------------------------------------------- creators using the cache

#[test]
fn a_creator_may_use_the_cache_even_for_its_own_key() {
    let (value, removed, len) = within_patience("a creator calling back", || {
        let removals = Removals::new();
        let cache: FlightCache = Cache::builder()
            .policy(LruBound::new(100).unwrap())
            .eviction_listener(removals.listener())
            .build()
            .expect("a valid cache");
        let early = Arc::new(1);
        let value = cache.get_or_create(KEY, || {
            // Another key, created and read while this creation is in flight.
            assert_eq!(*cache.get_or_create(KEY + 1, || Arc::new(2)), 2);
            assert_eq!(cache.get(&KEY), None, "nothing stored for the key yet");
            // A value stored for the key meanwhile stands: the creation yields.
            assert_eq!(cache.insert(KEY, Arc::clone(&early)), None);
            cache.remove(&(KEY + 1));
            Arc::new(3)
        });
        let removed: Vec<_> = removals
            .take()
            .into_iter()
            .map(|(k, v, cause)| (k, *v, cause))
            .collect();
        assert!(Arc::ptr_eq(&cache.get(&KEY).unwrap(), &value));
        assert!(Arc::ptr_eq(&early, &value));
        (*value, removed, cache.len())
    });
    assert_eq!(value, 1);
    assert_eq!(removed, [(KEY + 1, 2, Removed)]);
    assert_eq!(len, 1);
}

// ---------------------------------------------------------------- a creation against other writes

/// Runs `get_or_create(KEY)` on one thread and a waiter on another, with a
/// creator that makes `3` only after `meanwhile` has run on this thread;
/// returns what the creator's caller and the waiter got.
fn create_around(cache: &FlightCache, meanwhile: impl FnOnce()) -> (u64, u64) {
    let (started, creator_started) = mpsc::channel();
    let (go, wait_for_go) = mpsc::channel::<()>();
    thread::scope(|s| {
        let creator = s.spawn(move || {
            *cache.get_or_create(KEY, || {
                started.send(()).unwrap();
                wait_for_go.recv_timeout(PATIENCE).unwrap();
                Arc::new(3)
            })
        });
        creator_started.recv_timeout(PATIENCE).unwrap();
        let waiter = s.spawn(move || *cache.get_or_create(KEY, || Arc::new(99)));
        wait_until("the waiter joined", || joined(cache) == 2);
        meanwhile();
        go.send(()).unwrap();
        (creator.join().unwrap(), waiter.join().unwrap())
    })
}

fn listened_cache() -> (FlightCache, Removals<u32, Value>) {
    let removals = Removals::new();
    let cache = Cache::builder()
        .policy(LruBound::new(100).unwrap())
        .eviction_listener(removals.listener())
        .build()
        .unwrap();
    (cache, removals)
}

#[test]
fn a_creation_yields_to_a_value_inserted_while_its_creator_ran() {
    let (cache, removals) = listened_cache();
    let inserted = Arc::new(1);
    let got = create_around(&cache, || {
        assert_eq!(cache.insert(KEY, Arc::clone(&inserted)), None);
    });
    // As if the insert came first and the creation found its value.
    assert_eq!(got, (1, 1), "the creator's caller and the waiter");
    assert!(Arc::ptr_eq(&cache.get(&KEY).unwrap(), &inserted));
    assert_eq!(cache.insert(KEY, Arc::new(4)).as_deref(), Some(&1));
    let heard: Vec<_> = removals
        .take()
        .into_iter()
        .map(|(k, v, c)| (k, *v, c))
        .collect();
    assert_eq!(
        heard,
        [(KEY, 1, Replaced)],
        "the created 3 was never stored"
    );
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (0, 0));
}

#[test]
fn a_creation_stores_its_value_when_the_key_was_inserted_and_removed_meanwhile() {
    let (cache, removals) = listened_cache();
    let got = create_around(&cache, || {
        assert_eq!(cache.insert(KEY, Arc::new(1)), None);
        assert_eq!(cache.remove(&KEY).as_deref(), Some(&1));
    });
    assert_eq!(got, (3, 3));
    assert_eq!(cache.get(&KEY).as_deref(), Some(&3));
    let heard: Vec<_> = removals
        .take()
        .into_iter()
        .map(|(k, v, c)| (k, *v, c))
        .collect();
    assert_eq!(heard, [(KEY, 1, Removed)]);
    assert_eq!(cache.stats().creations, 1);
}

/// A creation's value, once removed, is never handed to a later
/// get-or-create: the flight is gone by the time the value can be removed.
/// The race is narrow, so this runs many rounds on two threads.
#[test]
fn a_removed_value_is_never_handed_out_again() {
    const ROUNDS: u32 = 30_000;
    let cache: FlightCache = Cache::new(LruBound::new(64).unwrap());
    let round_start = Barrier::new(2);
    let round_end = Barrier::new(2);
    let mut handed_out_again = Vec::new();
    thread::scope(|s| {
        s.spawn(|| {
            for key in 0..ROUNDS {
                round_start.wait();
                cache.get_or_create(key, || Arc::new(1));
                round_end.wait();
            }
        });
        for key in 0..ROUNDS {
            round_start.wait();
            // Remove as soon as the creation's value can be seen: right after
            // its write, when an old flight could still be registered.
            while !cache.contains_key(&key) {
                std::hint::spin_loop();
            }
            let removed = cache.remove(&key);
            let got = cache.get_or_create(key, || Arc::new(3));
            if Arc::ptr_eq(&removed.expect("the creation's value"), &got) {
                handed_out_again.push(key);
            }
            round_end.wait();
        }
    });
    assert_eq!(
        handed_out_again,
        [],
        "rounds where a removed value came back"
    );
}

// ---------------------------------------------------------------- different keys

#[test]
fn creators_of_two_different_keys_run_concurrently() {
    // One shard, so the two keys share every lock the cache has.
    let cache: FlightCache = Cache::builder()
        .policy(LruBound::new(100).unwrap())
        .shards(1)
        .build()
        .expect("a valid cache");
    let (a_started, a_seen) = mpsc::channel();
    let (b_started, b_seen) = mpsc::channel::<()>();
    thread::scope(|s| {
        let cache = &cache;
        // Each creator waits for the other to start: serialized, they would time out.
        let a = s.spawn(move || {
            cache.get_or_create(1, || {
                a_started.send(()).unwrap();
                b_seen
                    .recv_timeout(PATIENCE)
                    .expect("B's creator started while A's ran");
                Arc::new(1)
            })
        });
        let b = s.spawn(move || {
            cache.get_or_create(2, || {
                b_started.send(()).unwrap();
                a_seen
                    .recv_timeout(PATIENCE)
                    .expect("A's creator started while B's ran");
                Arc::new(2)
            })
        });
        assert_eq!(*a.join().unwrap(), 1);
        assert_eq!(*b.join().unwrap(), 2);
    });
    assert_eq!(cache.stats().creations, 2);
}

#[tokio::test]
async fn async_creators_of_two_different_keys_run_concurrently() {
    let cache: FlightCache = Cache::builder()
        .policy(LruBound::new(100).unwrap())
        .shards(1)
        .build()
        .expect("a valid cache");
    let (a_started, a_seen) = oneshot::channel();
    let (b_started, b_seen) = oneshot::channel::<()>();
    let a = cache.get_or_create_async(1, || async {
        a_started.send(()).unwrap();
        b_seen.await.unwrap();
        Arc::new(1)
    });
    let b = cache.get_or_create_async(2, || async {
        b_started.send(()).unwrap();
        a_seen.await.unwrap();
        Arc::new(2)
    });
    let (a, b) = in_time("two creators waiting on each other", async {
        tokio::join!(a, b)
    })
    .await;
    assert_eq!((*a, *b), (1, 2));
    // A sync creator of a third key is not held up by a pending async one either.
    let (c_started, c_seen) = oneshot::channel();
    let stuck = cache.get_or_create_async(3, stuck_creator(c_started));
    tokio::pin!(stuck);
    tokio::select! {
        _ = &mut stuck => unreachable!(),
        _ = c_seen => {}
    }
    assert_eq!(*cache.get_or_create(4, || Arc::new(4)), 4);
}
