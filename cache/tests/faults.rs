//! Faults: a listener that panics, a creator that panics while others wait, and
//! async callers cancelled at every await point (on tokio's paused time, so the
//! "slow" creators below cost no real time).
//!
//! Documented behaviour checked here (see `CacheBuilder::listener`): when the
//! listener panics, every entry removed by that call is still passed to it, the
//! cache's state is already complete (locks released, counters updated), and the
//! first panic then resumes in the caller of the operation. The cache stays usable.
//!
//! Issue 10, items 3 and 4: a creator that asks for its own key panics at once
//! (sync and async) instead of hanging, and the flight is handed over as for any
//! panicking creator; a cancelled async waiter releases the waker it registered.

mod support;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use support::{
    Deliberate, Removals, panic_message, panics_deliberately, wait_until, within_patience,
};
use tenure::policy::LruBound;
use tenure::{Cache, CacheBuilder, RemovalCause};

type Flights = Cache<u32, u32, LruBound>;

/// The message of the panic a creator that asks for its own key meets.
const SELF_WAIT: &str = "the creator for this key asked for the same key";

/// Silences this file's deliberate panics; every other panic still prints.
fn quiet_deliberate_panics() {
    support::quiet_deliberate_panics(&[SELF_WAIT]);
}

/// The one place this file builds a cache.
fn build(builder: CacheBuilder<u32, u32, LruBound>) -> Flights {
    builder.build().expect("a valid cache")
}

/// A cache of capacity 10, no listener.
fn new_cache() -> Flights {
    build(Cache::builder().policy(LruBound::new(10).unwrap()))
}

// ---- a listener that panics ----------------------------------------------------

/// A capacity-2 cache whose listener records every call, then panics.
fn panicking_listener_cache() -> (Flights, Removals<u32, u32>) {
    quiet_deliberate_panics();
    let removals = Removals::new();
    let record = removals.listener();
    let cache = build(
        Cache::builder()
            .policy(LruBound::new(2).unwrap())
            .eviction_listener(move |k, v, cause| {
                record(k, v, cause);
                std::panic::panic_any(Deliberate);
            }),
    );
    (cache, removals)
}

#[test]
fn a_panicking_listener_gets_every_removal_then_its_panic_reaches_the_caller() {
    let (cache, removals) = panicking_listener_cache();
    cache.insert(1, 10);
    cache.insert(2, 20);
    // The eviction is done and delivered before the panic surfaces.
    assert!(panics_deliberately(|| {
        cache.insert(3, 30);
    }));
    assert_eq!(removals.take(), [(1, 10, RemovalCause::Capacity)]);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&3), Some(30));
    // Two removals in one call: both delivered, one panic surfaces.
    assert!(panics_deliberately(|| cache.clear()));
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
    assert!(panics_deliberately(|| {
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
    assert!(panics_deliberately(|| {
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
    let cache = new_cache();
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
        let cache = new_cache();
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
    let cache = new_cache();
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
    let cache = new_cache();
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
        let cache = new_cache();
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

// ---- a creator that asks for its own key (issue 10, item 3) ----------------------

/// The sync get-or-create forms, each asking for key 7 with creator `create`.
type Ask = fn(&Flights, &dyn Fn() -> u32) -> u32;
const SYNC_ASKS: [(&str, Ask); 3] = [
    ("get_or_create", |cache, create| {
        cache.get_or_create(7, create)
    }),
    ("try_get_or_create", |cache, create| {
        cache
            .try_get_or_create(7, || Ok::<_, ()>(create()))
            .unwrap()
    }),
    ("try_get_or_create_ref", |cache, create| {
        let to_key = |k: &u32| Ok::<_, ()>(*k);
        cache
            .try_get_or_create_ref(&7, to_key, |_| Ok(create()))
            .unwrap()
    }),
];

/// Asserts `outcome` is the panic of a creator that asked for its own key.
fn assert_self_wait_panic(outcome: Result<u32, Box<dyn std::any::Any + Send>>, what: &str) {
    let payload = outcome.expect_err(what);
    let message = panic_message(payload.as_ref());
    assert!(message.contains(SELF_WAIT), "{what}: {message:?}");
}

/// Each sync form, called for key 7 from inside key 7's creator (of each sync
/// form), panics at once, naming the misuse. A waiter parked on the flight
/// meanwhile takes over once the panic has unwound out of the creator, and a
/// later caller on a third thread finds the waiter's value. (The bounded waits
/// are deadlock guards: before this was detected, the inner call hung.)
#[test]
fn a_sync_creator_that_asks_for_its_own_key_panics_and_a_waiter_takes_over() {
    quiet_deliberate_panics();
    for (outer, outer_ask) in SYNC_ASKS {
        for (inner, inner_ask) in SYNC_ASKS {
            let what = format!("{inner} inside the creator of {outer}");
            let cache = new_cache();
            let creator = {
                let cache = cache.clone();
                thread::spawn(move || {
                    catch_unwind(AssertUnwindSafe(|| {
                        outer_ask(&cache, &|| {
                            // Every caller counts a miss as it joins.
                            wait_until("the waiter joins", || cache.stats().misses >= 2);
                            inner_ask(&cache, &|| 1)
                        })
                    }))
                })
            };
            wait_until("the creator starts", || cache.stats().misses == 1);
            let waiter = {
                let cache = cache.clone();
                thread::spawn(move || cache.get_or_create(7, || 20))
            };
            let outcome = within_patience(&what, move || creator.join().expect("creator"));
            assert_self_wait_panic(outcome, &what);
            let taken_over = within_patience(&what, move || waiter.join().expect("waiter"));
            assert_eq!(taken_over, 20, "{what}: the waiter created");
            let later = {
                let cache = cache.clone();
                thread::spawn(move || inner_ask(&cache, &|| panic!("nothing to create")))
            };
            let later = within_patience(&what, move || later.join().expect("later"));
            assert_eq!(later, 20, "{what}: a later caller finds the waiter's value");
            let stats = cache.stats();
            assert_eq!((stats.creations, stats.creation_failures), (1, 1), "{what}");
        }
    }
}

/// Asking for *other* keys from inside a creator is fine, and so is asking for
/// the same key again once the creator has finished.
#[test]
fn a_creator_may_ask_for_other_keys() {
    let cache = new_cache();
    let got = within_patience("nested creators", {
        let cache = cache.clone();
        move || {
            cache.get_or_create(7, || {
                cache.get_or_create(8, || cache.get_or_create(9, || 3)) + 1
            })
        }
    });
    assert_eq!(got, 4);
    assert_eq!(cache.get_or_create(7, || unreachable!()), 4);
    assert_eq!(cache.stats().creations, 3);
}

/// An async creator that asks for its own key, by awaiting the async form or
/// by calling the sync one, panics at once; a waiter task parked on the flight
/// takes over. Paused time makes the deadlock guard fire at once if it hangs.
#[tokio::test(start_paused = true)]
async fn an_async_creator_that_asks_for_its_own_key_panics_and_a_waiter_takes_over() {
    quiet_deliberate_panics();
    for nested_sync in [false, true] {
        let what = if nested_sync { "sync" } else { "async" };
        let cache = new_cache();
        let creator = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .get_or_create_async(7, || async {
                        tokio::time::sleep(STEP).await; // the waiter joins meanwhile
                        match nested_sync {
                            true => cache.get_or_create(7, || 1),
                            false => cache.get_or_create_async(7, || async { 1 }).await,
                        }
                    })
                    .await
            }
        });
        tokio::task::yield_now().await;
        let waiter = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get_or_create_async(7, || async { 20 }).await }
        });
        let outcome = tokio::time::timeout(STEP * 100, creator)
            .await
            .unwrap_or_else(|_| panic!("{what}: the creator hung on its own key"));
        let outcome = outcome.map_err(|e| e.into_panic());
        assert_self_wait_panic(outcome, what);
        let taken_over = tokio::time::timeout(STEP * 100, waiter).await;
        assert_eq!(taken_over.expect("waiter hung").expect("waiter"), 20);
        assert_recovered(&cache, 7, Some(20)).await;
        let stats = cache.stats();
        assert_eq!((stats.creations, stats.creation_failures), (1, 1), "{what}");
    }
}

/// Two callers for one key polled side by side in one task are not a creator
/// waiting on itself: the second waits for the first and shares its value.
#[tokio::test(start_paused = true)]
async fn two_callers_for_one_key_in_one_task_share_one_creation() {
    let cache = new_cache();
    let runs = Arc::new(AtomicUsize::new(0));
    let both = async {
        tokio::join!(
            cache.get_or_create_async(7, slow_creator(1, &runs)),
            cache.get_or_create_async(7, slow_creator(2, &runs)),
        )
    };
    let (a, b) = tokio::time::timeout(STEP * 100, both).await.expect("hung");
    assert_eq!((a, b), (1, 1));
    assert_eq!(runs.load(Ordering::Relaxed), 1);
    assert_eq!(cache.stats().creations, 1);
}

// ---- cancelled async waiters (issue 10, item 4) ----------------------------------

/// A waker whose object lives as long as any clone of it: it holds a clone of a
/// shared `Arc<()>`, so that `Arc`'s strong count tells how many such wakers
/// are still held anywhere (by the cache's flight, once the test has let go).
struct Tracked {
    _alive: Arc<()>,
    woken: AtomicUsize,
}

impl std::task::Wake for Tracked {
    fn wake(self: Arc<Self>) {
        self.woken.fetch_add(1, Ordering::Relaxed);
    }
}

fn tracked(alive: &Arc<()>) -> Arc<Tracked> {
    Arc::new(Tracked {
        _alive: Arc::clone(alive),
        woken: AtomicUsize::new(0),
    })
}

/// Wakers of [`Tracked`] objects alive for `alive`.
fn held(alive: &Arc<()>) -> usize {
    Arc::strong_count(alive) - 1
}

/// A creator future that is pending until `open` is set (polled by hand).
struct Gate(Arc<std::sync::atomic::AtomicBool>);

impl Future for Gate {
    type Output = u32;
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        match self.0.load(Ordering::Acquire) {
            true => Poll::Ready(1),
            false => Poll::Pending,
        }
    }
}

/// 100 async waiters on 4 threads register on a flight whose creator is still
/// pending, then are dropped (cancelled): each waker they registered is released
/// at once, not when the creator finishes. A waiter that stays is still woken
/// and gets the value; no cancelled waiter ever ran its creator.
#[test]
fn cancelled_async_waiters_release_their_wakers_at_once() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 25;
    let cache = new_cache();
    let open = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut noop = Context::from_waker(Waker::noop());
    let mut creator = Box::pin(cache.get_or_create_async(7, || Gate(Arc::clone(&open))));
    assert!(creator.as_mut().poll(&mut noop).is_pending());

    let alive = Arc::new(());
    let patient_waker = tracked(&alive);
    let mut patient = Box::pin(cache.get_or_create_async(7, || std::future::ready(99)));
    let waker = Waker::from(Arc::clone(&patient_waker));
    assert!(
        patient
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(waker);
    assert_eq!(held(&alive), 1, "the patient waiter's waker is held");

    let registered = Barrier::new(THREADS + 1);
    let checked = Barrier::new(THREADS + 1);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let mut waiters: Vec<_> = (0..PER_THREAD)
                    .map(|_| Box::pin(cache.get_or_create_async(7, || std::future::ready(99))))
                    .collect();
                for waiter in &mut waiters {
                    let waker = Waker::from(tracked(&alive));
                    let mut cx = Context::from_waker(&waker);
                    assert!(waiter.as_mut().poll(&mut cx).is_pending());
                }
                registered.wait();
                checked.wait();
                drop(waiters); // cancelled
            });
        }
        registered.wait();
        // Only the flight holds these wakers now.
        assert_eq!(held(&alive), 1 + THREADS * PER_THREAD);
        checked.wait();
    });
    assert_eq!(
        held(&alive),
        1,
        "cancelled waiters' wakers are released while the creator is still pending"
    );

    open.store(true, Ordering::Release);
    assert_eq!(creator.as_mut().poll(&mut noop), Poll::Ready(1));
    assert_eq!(patient_waker.woken.load(Ordering::Relaxed), 1);
    assert_eq!(patient.as_mut().poll(&mut noop), Poll::Ready(1));
    drop((creator, patient, patient_waker));
    assert_eq!(held(&alive), 0);
    let stats = cache.stats();
    assert_eq!((stats.creations, stats.creation_failures), (1, 0));
}
