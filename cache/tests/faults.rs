//! Faults: a listener that panics, a creator that panics while others wait, and
//! async callers cancelled at every await point (on tokio's paused time, so the
//! "slow" creators below cost no real time).
//!
//! Documented behaviour checked here (see `CacheBuilder::listener`): when the
//! listener panics, every entry removed by that call is still passed to it, the
//! cache's state is already complete (locks released, counters updated), and the
//! first panic then resumes in the caller of the operation. The cache stays usable.

mod support;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use support::{Removals, wait_until};
use tenure::{Cache, LruBound, RemovalCause};

type Flights = Cache<u32, u32, LruBound>;

// ---- a listener that panics ----------------------------------------------------

/// Silences the deliberate panics of this file (payload [`Deliberate`]); every
/// other panic still prints.
struct Deliberate;

fn quiet_deliberate_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<Deliberate>() {
                default(info);
            }
        }));
    });
}

/// A capacity-2 cache whose listener records every call, then panics.
fn panicking_listener_cache() -> (Flights, Removals<u32, u32>) {
    quiet_deliberate_panics();
    let removals = Removals::new();
    let record = removals.listener();
    let cache = Cache::builder(LruBound::new(2).unwrap())
        .listener(move |k, v, cause| {
            record(k, v, cause);
            std::panic::panic_any(Deliberate);
        })
        .build()
        .expect("a valid cache");
    (cache, removals)
}

fn panics(op: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(()) => false,
        Err(payload) => {
            assert!(payload.is::<Deliberate>(), "an unexpected panic");
            true
        }
    }
}

#[test]
fn a_panicking_listener_gets_every_removal_then_its_panic_reaches_the_caller() {
    let (cache, removals) = panicking_listener_cache();
    cache.insert(1, 10);
    cache.insert(2, 20);
    // The eviction is done and delivered before the panic surfaces.
    assert!(panics(|| {
        cache.insert(3, 30);
    }));
    assert_eq!(removals.take(), [(1, 10, RemovalCause::Capacity)]);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&3), Some(30));
    // Two removals in one call: both delivered, one panic surfaces.
    assert!(panics(|| cache.clear()));
    assert_eq!(
        removals.take_sorted(),
        [
            (2, 20, RemovalCause::Cleared),
            (3, 30, RemovalCause::Cleared)
        ]
    );
    assert!(cache.is_empty());
    // Still fully usable, including single-flight creation.
    assert_eq!(cache.get_or_create(4, || 40), 40);
    assert_eq!(cache.get(&4), Some(40));
    assert!(panics(|| {
        cache.remove(&4);
    }));
    assert_eq!(removals.take(), [(4, 40, RemovalCause::Removed)]);
    let stats = cache.stats();
    assert_eq!(
        (
            stats.removals.capacity,
            stats.removals.cleared,
            stats.removals.removed
        ),
        (1, 2, 1)
    );
    assert_eq!(stats.len, 0);
}

#[test]
fn a_panicking_listener_during_creation_still_hands_the_value_to_waiters() {
    let (cache, removals) = panicking_listener_cache();
    cache.insert(1, 10);
    cache.insert(2, 20);
    // Storing the created value evicts 1; the listener's panic reaches the
    // creator only after the value is stored and the flight completed.
    assert!(panics(|| {
        cache.get_or_create(3, || 30);
    }));
    assert_eq!(removals.take(), [(1, 10, RemovalCause::Capacity)]);
    assert_eq!(
        cache.get_or_create(3, || unreachable!("no stuck or lost flight")),
        30
    );
    assert_eq!(cache.stats().creations, 1);
}

// ---- a creator that panics while others wait ------------------------------------

#[test]
fn a_creator_that_panics_while_several_wait_hands_over_to_exactly_one() {
    quiet_deliberate_panics();
    const WAITERS: usize = 4;
    let cache: Flights = Cache::new(LruBound::new(10).unwrap());
    let ran = Arc::new(AtomicUsize::new(0));
    let creator = {
        let cache = cache.clone();
        thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                cache.get_or_create(1, || {
                    // Every caller counts a miss when it joins; wait for all waiters.
                    wait_until("the waiters join", || {
                        cache.stats().misses as usize > WAITERS
                    });
                    std::panic::panic_any(Deliberate)
                })
            }))
        })
    };
    wait_until("the creator starts", || cache.stats().misses == 1);
    let start = Arc::new(Barrier::new(WAITERS));
    let waiters: Vec<_> = (0..WAITERS as u32)
        .map(|i| {
            let (cache, ran, start) = (cache.clone(), Arc::clone(&ran), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                cache.get_or_create(1, || {
                    ran.fetch_add(1, Ordering::Relaxed);
                    100 + i
                })
            })
        })
        .collect();
    let outcome = creator.join().expect("creator thread");
    assert!(
        outcome.is_err_and(|p| p.is::<Deliberate>()),
        "the panic reaches its caller"
    );
    let values: Vec<u32> = waiters
        .into_iter()
        .map(|w| w.join().expect("waiter"))
        .collect();
    assert_eq!(
        ran.load(Ordering::Relaxed),
        1,
        "exactly one waiter takes over"
    );
    assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
    assert_eq!(cache.get(&1), Some(values[0]));
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (1, 1));
}

// ---- async cancellation at every await point ------------------------------------

const STEP: Duration = Duration::from_secs(1);
/// Await points inside each creator (besides the cache's own wait on a flight).
const CREATOR_AWAITS: u32 = 3;

/// A creator that awaits `CREATOR_AWAITS` timers of one `STEP`, then yields `value`,
/// counting its runs.
fn slow_creator(
    value: u32,
    runs: &Arc<AtomicUsize>,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = u32> + Send>> + use<> {
    let runs = Arc::clone(runs);
    move || {
        runs.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            for _ in 0..CREATOR_AWAITS {
                tokio::time::sleep(STEP).await;
            }
            value
        })
    }
}

/// A later caller must create afresh: nothing is cached and no flight is stuck.
async fn assert_recovered(cache: &Flights, key: u32, expect_cached: Option<u32>) {
    let fresh = tokio::time::timeout(STEP * 100, cache.get_or_create_async(key, || async { 999 }))
        .await
        .expect("a later caller must not wait on a stuck flight");
    assert_eq!(fresh, expect_cached.unwrap_or(999));
}

/// The creator is cancelled at each of its await points (after `k` of its timers)
/// while a waiter is parked on its flight: the waiter runs its own creator and
/// finishes; nothing is stuck.
#[tokio::test(start_paused = true)]
async fn a_creator_cancelled_at_each_await_point_hands_over_to_the_waiter() {
    for k in 0..CREATOR_AWAITS {
        let cache: Flights = Cache::new(LruBound::new(10).unwrap());
        let runs = Arc::new(AtomicUsize::new(0));
        let creator = tokio::spawn({
            let (cache, create) = (cache.clone(), slow_creator(1, &runs));
            async move { cache.get_or_create_async(7, create).await }
        });
        tokio::task::yield_now().await; // the creator registers its flight
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        let waiter = tokio::spawn({
            let (cache, create) = (cache.clone(), slow_creator(2, &runs));
            async move { cache.get_or_create_async(7, create).await }
        });
        // Cancel the creator halfway through its timer number k.
        tokio::time::sleep(STEP * k + STEP / 2).await;
        assert!(!creator.is_finished());
        creator.abort();
        assert!(creator.await.unwrap_err().is_cancelled());
        let got = tokio::time::timeout(STEP * 100, waiter)
            .await
            .expect("waiter stuck")
            .expect("waiter");
        assert_eq!(got, 2, "after cancellation at await {k} the waiter created");
        assert_eq!(runs.load(Ordering::Relaxed), 2);
        let stats = cache.stats();
        assert_eq!(
            (stats.creations, stats.creation_failures),
            (1, 1),
            "await {k}"
        );
        assert_recovered(&cache, 7, Some(2)).await;
    }
}

/// A waiter cancelled while parked on a flight leaves the creation and the other
/// waiters untouched.
#[tokio::test(start_paused = true)]
async fn a_waiter_cancelled_while_waiting_leaves_the_flight_intact() {
    let cache: Flights = Cache::new(LruBound::new(10).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let spawn = |value| {
        let (cache, create) = (cache.clone(), slow_creator(value, &runs));
        tokio::spawn(async move { cache.get_or_create_async(7, create).await })
    };
    let creator = spawn(1);
    tokio::task::yield_now().await;
    let doomed = spawn(2);
    let patient = spawn(3);
    tokio::time::sleep(STEP / 2).await;
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());
    assert_eq!(creator.await.expect("creator"), 1);
    assert_eq!(patient.await.expect("waiter"), 1);
    assert_eq!(runs.load(Ordering::Relaxed), 1);
    assert_eq!(cache.stats().creation_failures, 0);
    assert_recovered(&cache, 7, Some(1)).await;
}

/// A lone creator cancelled at each await point, including its first poll (where
/// it registers the flight) and before it is ever polled: nothing is cached and
/// the next caller creates.
#[tokio::test(start_paused = true)]
async fn a_lone_creator_cancelled_anywhere_leaves_no_stuck_flight() {
    let cache: Flights = Cache::new(LruBound::new(10).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    // Never polled: nothing was registered.
    drop(cache.get_or_create_async(7, slow_creator(1, &runs)));
    assert_eq!(runs.load(Ordering::Relaxed), 0);
    // Polled once by hand (registers and starts the creator), then dropped.
    {
        let mut fut = pin!(cache.get_or_create_async(7, slow_creator(1, &runs)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }
    assert_eq!(cache.stats().creation_failures, 1);
    // Dropped at each timer.
    for k in 0..CREATOR_AWAITS {
        let cancelled = tokio::time::timeout(
            STEP * k + STEP / 2,
            cache.get_or_create_async(7, slow_creator(1, &runs)),
        )
        .await;
        assert!(cancelled.is_err(), "await {k}");
    }
    assert_eq!(runs.load(Ordering::Relaxed), 1 + CREATOR_AWAITS as usize);
    assert_eq!(cache.get(&7), None);
    assert_recovered(&cache, 7, None).await;
    let stats = cache.stats();
    assert_eq!(
        (stats.creations, stats.creation_failures),
        (1, 1 + u64::from(CREATOR_AWAITS))
    );
}

/// A fallible async creator that errors after each await point: the error reaches
/// its caller, a parked waiter takes over.
#[tokio::test(start_paused = true)]
async fn an_async_creator_failing_at_each_await_point_hands_over() {
    for k in 0..CREATOR_AWAITS {
        let cache: Flights = Cache::new(LruBound::new(10).unwrap());
        let failing = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .try_get_or_create_async(7, || async move {
                        for _ in 0..=k {
                            tokio::time::sleep(STEP).await;
                        }
                        Err::<u32, String>(format!("failed after await {k}"))
                    })
                    .await
            }
        });
        tokio::task::yield_now().await;
        let waiter = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get_or_create_async(7, || async { 5 }).await }
        });
        assert_eq!(
            failing.await.expect("task"),
            Err(format!("failed after await {k}"))
        );
        assert_eq!(waiter.await.expect("waiter"), 5);
        assert_recovered(&cache, 7, Some(5)).await;
    }
}
