//! Acceptance item 6: an idle cache with a sweeper returns to zero entries after
//! its TTL (tokio paused time, or a `ManualClock` with a std-thread sweeper), and
//! the sweeper holds only a weak reference and stops when the cache or its
//! handle is dropped.
//!
//! No test waits for time: paused tokio time jumps, and the std-thread tests move
//! a `ManualClock` and then wait (bounded) only for the sweeper thread to act.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{Removals, wait_until, within_patience};
use tenure::{Cache, CacheBuilder, Hybrid, ManualClock, RemovalCause, SlidingTtl};

const TTL: Duration = Duration::from_secs(60);

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
        let cache: Cache<u32, u32, SlidingTtl> = Cache::builder(SlidingTtl::new(TTL).unwrap())
            .clock(TokioClock::new())
            .listener(removals.listener())
            .sweep_on_tokio_every(SWEEP)
            .build()
            .expect("a valid cache");
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
        let cache: Cache<u32, u32, Hybrid> = Cache::builder(policy)
            .clock(TokioClock::new())
            .listener(removals.listener())
            .build()
            .expect("a valid cache");
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

    #[test]
    fn a_tokio_sweeper_needs_a_runtime() {
        let cache: Cache<u32, u32, SlidingTtl> = Cache::new(SlidingTtl::new(TTL).unwrap());
        let err = cache.start_tokio_sweeper(SWEEP).unwrap_err();
        assert!(err.to_string().contains("tokio runtime"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_tokio_sweeper_holds_a_weak_reference_and_stops_when_the_cache_is_dropped() {
        let value = Arc::new(7u32);
        let cache: Cache<u32, Arc<u32>, SlidingTtl> = Cache::builder(SlidingTtl::new(TTL).unwrap())
            .clock(TokioClock::new())
            .build()
            .expect("a valid cache");
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
        let cache: Cache<u32, u32, SlidingTtl> = Cache::builder(SlidingTtl::new(TTL).unwrap())
            .clock(TokioClock::new())
            .build()
            .expect("a valid cache");
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
        assert!(!cache.contains(&1));
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

/// Waits until this process has `n` threads named as the sweeper names its
/// thread (on Linux, where `/proc` tells; elsewhere this checks nothing).
fn wait_for_sweeper_threads(n: usize, what: &str) {
    #[cfg(target_os = "linux")]
    wait_until(what, || {
        let tasks = std::fs::read_dir("/proc/self/task").expect("read /proc/self/task");
        tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim_end() == "tenure-sweeper")
            .count()
            == n
    });
    let _ = (n, what);
}

/// Builds a cache with `with_sweeper`, checks its sweeper thread empties it
/// after the TTL, and ends when the cache is dropped.
fn check_owned_thread_sweeper(
    with_sweeper: impl FnOnce(CacheBuilder<u32, u32, Hybrid>) -> CacheBuilder<u32, u32, Hybrid>,
) {
    let _turn = one_at_a_time();
    wait_for_sweeper_threads(0, "earlier tests' sweeper threads ended");
    let clock = ManualClock::new();
    let builder = Cache::builder(Hybrid::new(TTL, 10).unwrap()).clock(clock.clone());
    let cache = with_sweeper(builder).build().expect("a valid cache");
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
    let cache: Cache<u32, u32, SlidingTtl> = Cache::builder(SlidingTtl::new(TTL).unwrap())
        .clock(clock.clone())
        .listener(removals.listener())
        .build()
        .expect("a valid cache");
    let _sweeper = cache.start_sweeper(Duration::from_millis(2));
    for k in 0..3 {
        cache.insert(k, k);
    }
    clock.advance(TTL);
    wait_until("the sweeper reclaimed every entry", || cache.is_empty());
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
    let cache: Cache<u32, Arc<u32>, SlidingTtl> = Cache::new(SlidingTtl::new(TTL).unwrap());
    cache.insert(1, Arc::clone(&value));
    // An interval far longer than the test: the drop itself must wake the thread.
    let sweeper = cache.start_sweeper(Duration::from_secs(3600));
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
    let cache: Cache<u32, u32, SlidingTtl> = Cache::new(SlidingTtl::new(TTL).unwrap());
    let sweeper = cache.start_sweeper(Duration::from_secs(3600));
    wait_for_sweeper_threads(1, "the sweeper thread started");
    drop(sweeper);
    wait_for_sweeper_threads(0, "the sweeper thread ended");
    // The cache lives on without it.
    cache.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1));
}
