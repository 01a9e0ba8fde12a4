//! Acceptance item 6: an idle cache with a sweeper returns to zero entries after
//! its TTL (tokio paused time, or a `ManualClock` with a std-thread sweeper), and
//! the sweeper holds only a weak reference and stops when the cache or its
//! handle is dropped.
//!
//! Issue 10 (items 1 and 2): a sweeper survives panics of the removal listener,
//! counts them and sweeps on, and `is_finished` says exactly whether it has
//! ended; a sweep interval under 1 ms is refused by every API that takes one,
//! with the config's message.
//!
//! No test waits for time: paused tokio time jumps, and the std-thread tests move
//! a `ManualClock` and then wait (bounded) only for the sweeper thread to act.

mod support;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::{
    Deliberate, Removals, panics_deliberately, quiet_deliberate_panics, wait_for_sweeper_threads,
    wait_until, within_patience,
};
use tenure::policy::{Hybrid, Policy, SlidingTtl};
use tenure::{
    Cache, CacheBuilder, CacheConfig, ConfigError, ManualClock, RemovalCause, SweepIntervalError,
    Sweeper, SweeperError,
};

const TTL: Duration = Duration::from_secs(60);

/// What every API says of a sweep interval under 1 ms.
const TOO_SHORT_MESSAGE: &str = "`sweep_interval` must be at least 1ms";
const TOO_SHORT: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_micros(999),
];

/// The one place this file builds a cache.
fn try_build<V, P>(builder: CacheBuilder<u32, V, P>) -> Result<Cache<u32, V, P>, ConfigError>
where
    V: Clone + Send + Sync + 'static,
    P: Policy,
{
    builder.build()
}

fn build<V, P>(builder: CacheBuilder<u32, V, P>) -> Cache<u32, V, P>
where
    V: Clone + Send + Sync + 'static,
    P: Policy,
{
    try_build(builder).expect("a valid cache")
}

fn sliding() -> CacheBuilder<u32, u32, SlidingTtl> {
    Cache::builder().policy(SlidingTtl::new(TTL).unwrap())
}

/// A listener that records each call into `removals`, then panics.
fn panicking_listener(
    removals: &Removals<u32, u32>,
) -> impl Fn(u32, u32, RemovalCause) + Send + Sync + 'static {
    quiet_deliberate_panics(&[]);
    let record = removals.listener();
    move |k, v, cause| {
        record(k, v, cause);
        std::panic::panic_any(Deliberate);
    }
}

/// Whether `op` panicked with [`Deliberate`] (any other panic fails the test).
fn assert_all_expired(removals: &Removals<u32, u32>, keys: &[u32]) {
    let expected: Vec<_> = keys
        .iter()
        .map(|&k| (k, k, RemovalCause::Expired))
        .collect();
    assert_eq!(removals.take_sorted(), expected);
}

/// Needs the `tokio` feature (for `TokioClock` and tokio sweepers).
#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;
    use tenure::TokioClock;

    const SWEEP: Duration = Duration::from_secs(10);

    #[tokio::test(start_paused = true)]
    async fn an_idle_cache_with_a_builder_sweeper_empties_after_its_ttl_under_paused_time() {
        let removals = Removals::new();
        let cache = build(
            sliding()
                .clock(TokioClock::new())
                .eviction_listener(removals.listener())
                .sweep_on_tokio_every(SWEEP),
        );
        for k in 0..3 {
            cache.insert(k, k);
        }
        tokio::time::sleep(TTL - Duration::from_secs(1)).await;
        assert_eq!(cache.len(), 3, "nothing has expired yet");
        assert!(removals.take().is_empty());
        tokio::time::sleep(SWEEP / 2 + Duration::from_secs(1)).await;
        // Only the sweeper has touched the cache since the inserts.
        assert_eq!(cache.len(), 0);
        assert_all_expired(&removals, &[0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_cache_with_a_tokio_sweeper_empties_after_its_ttl_and_max_lifetime() {
        let removals = Removals::new();
        let policy = Hybrid::new(TTL, 10)
            .unwrap()
            .with_max_lifetime(3 * TTL)
            .unwrap();
        let cache = build(
            Cache::builder()
                .policy(policy)
                .clock(TokioClock::new())
                .eviction_listener(removals.listener()),
        );
        let _sweeper = cache.start_tokio_sweeper(SWEEP).unwrap();
        cache.insert(1, 1);
        cache.insert(2, 2);
        // Key 2 is read every 30 s, so only its lifetime can end it.
        for _ in 0..4 {
            tokio::time::sleep(TTL / 2).await;
            assert_eq!(cache.get(&2), Some(2));
        }
        tokio::time::sleep(Duration::from_secs(5)).await; // 125 s: past the sweep at 120 s
        assert_all_expired(&removals, &[1]);
        assert_eq!(cache.len(), 1);
        for wait in [30, 20] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            assert_eq!(cache.get(&2), Some(2)); // at 155 s and 175 s
        }
        // 200 s: the sliding TTL would keep it to 235 s, its lifetime ends at 180 s.
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(cache.len(), 0);
        assert_all_expired(&removals, &[2]);
    }

    /// Item 1 on tokio: three rounds of expiry, each reclaimed by the sweeper
    /// task while every listener call panics; the task sweeps on.
    #[tokio::test(start_paused = true)]
    async fn a_tokio_sweeper_survives_listener_panics_and_sweeps_on() {
        let removals = Removals::new();
        let cache = build(
            sliding()
                .clock(TokioClock::new())
                .eviction_listener(panicking_listener(&removals)),
        );
        let sweeper = cache.start_tokio_sweeper(SWEEP).unwrap();
        for round in 0..3 {
            let keys: Vec<u32> = (10 * round..10 * round + 4).collect();
            // Nothing has expired yet, so these call no listener.
            for &k in &keys {
                assert_eq!(cache.insert(k, k), None);
            }
            tokio::time::sleep(TTL + SWEEP + Duration::from_secs(1)).await;
            assert_eq!(cache.len(), 0, "round {round}: the sweeper reclaimed all");
            assert_all_expired(&removals, &keys);
            let stats = cache.stats();
            assert_eq!(stats.listener_panics, 4 * u64::from(round + 1));
            assert_eq!(stats.removals.expired, 4 * u64::from(round + 1));
            assert!(!sweeper.is_finished(), "round {round}");
        }
        drop(cache);
        tokio::time::sleep(SWEEP).await;
        assert!(sweeper.is_finished());
    }

    /// Item 2 on tokio: `start_tokio_sweeper` and `sweep_on_tokio_every` refuse
    /// an interval under 1 ms with the config's message, and start no task.
    #[tokio::test(start_paused = true)]
    async fn tokio_sweep_intervals_under_a_millisecond_are_refused_with_the_same_message() {
        let metrics = tokio::runtime::Handle::current().metrics();
        let cache = build(sliding().clock(TokioClock::new()));
        let before = metrics.num_alive_tasks();
        for interval in TOO_SHORT {
            let err = cache.start_tokio_sweeper(interval).unwrap_err();
            assert_eq!(err, SweeperError::IntervalTooShort(SweepIntervalError));
            assert_eq!(err.to_string(), TOO_SHORT_MESSAGE, "{interval:?}");
            let builder = sliding()
                .clock(TokioClock::new())
                .sweep_on_tokio_every(interval);
            let refused = try_build(builder).unwrap_err();
            assert_eq!(refused, ConfigError::SweepInterval(SweepIntervalError));
            assert_eq!(refused.to_string(), TOO_SHORT_MESSAGE);
        }
        assert_eq!(metrics.num_alive_tasks(), before, "no sweeper task started");
        let _sweeper = cache.start_tokio_sweeper(Sweeper::MIN_INTERVAL).unwrap();
        assert_eq!(metrics.num_alive_tasks(), before + 1);
    }

    #[test]
    fn a_tokio_sweeper_needs_a_runtime() {
        let cache = build(sliding());
        let err = cache.start_tokio_sweeper(SWEEP).unwrap_err();
        assert_eq!(err, SweeperError::NoTokioRuntime);
        assert!(err.to_string().contains("tokio runtime"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_tokio_sweeper_holds_a_weak_reference_and_stops_when_the_cache_is_dropped() {
        let value = Arc::new(7u32);
        let cache = build(
            Cache::builder()
                .policy(SlidingTtl::new(TTL).unwrap())
                .clock(TokioClock::new()),
        );
        cache.insert(1, Arc::clone(&value));
        let sweeper = cache.start_tokio_sweeper(SWEEP).unwrap();
        tokio::time::sleep(SWEEP * 3).await; // it has run a few times
        assert!(!sweeper.is_finished());
        assert_eq!(Arc::strong_count(&value), 2);
        drop(cache);
        assert_eq!(
            Arc::strong_count(&value),
            1,
            "dropping the cache dropped its values"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(sweeper.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_a_tokio_sweeper_handle_stops_it() {
        let metrics = tokio::runtime::Handle::current().metrics();
        let cache = build(sliding().clock(TokioClock::new()));
        let before = metrics.num_alive_tasks();
        let sweeper = cache.start_tokio_sweeper(SWEEP).unwrap();
        assert_eq!(metrics.num_alive_tasks(), before + 1);
        drop(sweeper);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(metrics.num_alive_tasks(), before, "the task ended");
        // And nothing sweeps any more: an expired entry stays held until a write.
        cache.insert(1, 1);
        tokio::time::sleep(10 * TTL).await;
        assert_eq!(cache.len(), 1);
        assert!(!cache.contains_key(&1));
    }
}

// ---------------------------------------------------------------- std thread, manual clock

/// The std-thread tests count this process's sweeper threads, so they take turns.
static THREAD_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    THREAD_TESTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds a cache with `with_sweeper`, checks its sweeper thread empties it
/// after the TTL, and ends when the cache is dropped.
fn check_owned_thread_sweeper(
    with_sweeper: impl FnOnce(CacheBuilder<u32, u32, Hybrid>) -> CacheBuilder<u32, u32, Hybrid>,
) {
    let _turn = one_at_a_time();
    wait_for_sweeper_threads(0, "earlier tests' sweeper threads ended");
    let clock = ManualClock::new();
    let builder = Cache::builder()
        .policy(Hybrid::new(TTL, 10).unwrap())
        .clock(clock.clone());
    let cache = build(with_sweeper(builder));
    wait_for_sweeper_threads(1, "the sweeper thread started");
    cache.insert(1, 1);
    clock.advance(TTL);
    wait_until("the sweeper reclaimed the entry", || cache.is_empty());
    drop(cache);
    wait_for_sweeper_threads(0, "the sweeper thread ended");
}

#[test]
fn an_idle_cache_with_a_thread_sweeper_empties_after_its_ttl_on_a_manual_clock() {
    let _turn = one_at_a_time();
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache = build(
        sliding()
            .clock(clock.clone())
            .eviction_listener(removals.listener()),
    );
    let _sweeper = cache.start_sweeper(Duration::from_millis(2)).unwrap();
    for k in 0..3 {
        cache.insert(k, k);
    }
    clock.advance(TTL);
    // The listener is told after the sweeper's write ends (and `len` drops).
    wait_until("the sweeper reclaimed and reported every entry", || {
        cache.is_empty() && removals.count() == 3
    });
    assert_all_expired(&removals, &[0, 1, 2]);
}

#[test]
fn sweep_every_runs_a_thread_that_ends_with_the_cache() {
    check_owned_thread_sweeper(|b| b.sweep_every(Duration::from_millis(2)));
}

#[cfg(feature = "tokio")]
#[test]
fn sweep_on_tokio_every_outside_a_runtime_falls_back_to_a_thread() {
    check_owned_thread_sweeper(|b| b.sweep_on_tokio_every(Duration::from_millis(2)));
}

#[test]
fn a_thread_sweeper_holds_a_weak_reference_and_stops_when_the_cache_is_dropped() {
    let _turn = one_at_a_time();
    let value = Arc::new(7u32);
    let cache = build(Cache::builder().policy(SlidingTtl::new(TTL).unwrap()));
    cache.insert(1, Arc::clone(&value));
    // An interval far longer than the test: the drop itself must wake the thread.
    let sweeper = cache.start_sweeper(Duration::from_secs(3600)).unwrap();
    assert!(!sweeper.is_finished());
    assert_eq!(Arc::strong_count(&value), 2);
    drop(cache);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "dropping the cache dropped its values"
    );
    wait_until("the sweeper finished", || sweeper.is_finished());
    within_patience("joining the sweeper", move || sweeper.join());
}

#[test]
fn a_thread_sweeper_stops_when_its_handle_is_dropped() {
    let _turn = one_at_a_time();
    wait_for_sweeper_threads(0, "earlier tests' sweeper threads ended");
    let cache = build(sliding());
    let sweeper = cache.start_sweeper(Duration::from_secs(3600)).unwrap();
    wait_for_sweeper_threads(1, "the sweeper thread started");
    drop(sweeper);
    wait_for_sweeper_threads(0, "the sweeper thread ended");
    // The cache lives on without it.
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1));
}

/// Item 1: a thread sweeper whose listener panics on every call sweeps on,
/// round after round, while another thread's own calls meet the same panics;
/// every removal reaches the listener once with its cause, and `is_finished`
/// turns true only when the sweeper has really ended.
#[test]
fn a_thread_sweeper_survives_listener_panics_and_sweeps_on() {
    let _turn = one_at_a_time();
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache = build(
        sliding()
            .clock(clock.clone())
            .eviction_listener(panicking_listener(&removals)),
    );
    let sweeper = cache.start_sweeper(Duration::from_millis(2)).unwrap();

    // Round 0: the sweeper and a caller's writes race to reclaim the expired
    // entries, while the caller removes entries of its own.
    for k in 0..4 {
        assert_eq!(cache.insert(k, k), None);
    }
    clock.advance(TTL);
    let caller = {
        let cache = cache.clone();
        thread::spawn(move || {
            for k in 100..104 {
                // A write may reclaim expired entries first and so panic too;
                // the insert is done all the same.
                panics_deliberately(|| assert_eq!(cache.insert(k, k), None));
                assert_eq!(cache.get(&k), Some(k));
                // Its own removal's listener call panics in the caller, after
                // the entry is gone.
                assert!(panics_deliberately(|| {
                    cache.remove(&k);
                }));
                assert_eq!(cache.get(&k), None);
            }
        })
    };
    caller.join().expect("the caller's checks");
    // `len` drops when the sweeper's write ends; its listener calls follow,
    // once the locks are released: wait for those too.
    wait_until(
        "round 0's expired entries are reclaimed and reported",
        || cache.is_empty() && cache.stats().listener_panics == 8,
    );
    let mut expected: Vec<_> = (0..4).map(|k| (k, k, RemovalCause::Expired)).collect();
    expected.extend((100..104).map(|k| (k, k, RemovalCause::Removed)));
    assert_eq!(removals.take_sorted(), expected);
    assert_eq!(cache.stats().listener_panics, 8);

    // Rounds 1 to 3: only the sweeper writes, so every panic is its own, and
    // each round needs it alive after the last.
    for round in 1..=3 {
        let keys: Vec<u32> = (10 * round..10 * round + 4).collect();
        for &k in &keys {
            assert_eq!(cache.insert(k, k), None);
        }
        clock.advance(TTL);
        let panics = 8 + 4 * u64::from(round);
        wait_until(
            &format!("round {round}'s entries are reclaimed and reported"),
            || cache.is_empty() && cache.stats().listener_panics == panics,
        );
        assert_all_expired(&removals, &keys);
        assert_eq!(cache.stats().listener_panics, panics);
        assert!(!sweeper.is_finished(), "round {round}");
    }
    drop(cache);
    wait_until("the sweeper finished", || sweeper.is_finished());
    within_patience("joining the sweeper", move || sweeper.join());
}

/// Item 2: `start_sweeper`, `sweep_every`, `sweep_on_tokio_every` (outside a
/// runtime) and the config all refuse an interval under 1 ms, with one
/// message, and start no thread; 1 ms itself is accepted by each.
#[test]
fn sweep_intervals_under_a_millisecond_are_refused_everywhere_with_one_message() {
    let _turn = one_at_a_time();
    wait_for_sweeper_threads(0, "earlier tests' sweeper threads ended");
    let cache = build(sliding());
    let config = |interval: Duration| -> CacheConfig {
        let nanos = interval.as_nanos();
        toml::from_str(&format!(
            "policy = \"sliding-ttl\"\nttl = \"1m\"\nsweep_interval = \"{nanos}ns\""
        ))
        .unwrap()
    };
    for interval in TOO_SHORT {
        let err = cache.start_sweeper(interval).unwrap_err();
        assert_eq!(err, SweeperError::IntervalTooShort(SweepIntervalError));
        assert_eq!(err.to_string(), TOO_SHORT_MESSAGE, "{interval:?}");
        let check = |refused: ConfigError| {
            assert_eq!(refused, ConfigError::SweepInterval(SweepIntervalError));
            assert_eq!(refused.to_string(), TOO_SHORT_MESSAGE, "{interval:?}");
        };
        check(try_build(sliding().sweep_every(interval)).unwrap_err());
        check(config(interval).to_policy().unwrap_err());
        #[cfg(feature = "tokio")]
        check(try_build(sliding().sweep_on_tokio_every(interval)).unwrap_err());
    }
    wait_for_sweeper_threads(0, "no refused interval started a thread");

    assert_eq!(Sweeper::MIN_INTERVAL, Duration::from_millis(1));
    let sweeper = cache.start_sweeper(Sweeper::MIN_INTERVAL).unwrap();
    let owning = build(sliding().sweep_every(Sweeper::MIN_INTERVAL));
    config(Sweeper::MIN_INTERVAL).to_policy().unwrap();
    wait_for_sweeper_threads(2, "both accepted sweepers started");
    drop((sweeper, owning));
    wait_for_sweeper_threads(0, "both accepted sweepers ended");
}
