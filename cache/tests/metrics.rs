//! The `metrics` feature: what a named cache publishes, and when.
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tenure::policy::{Hybrid, LruBound};
use tenure::{Cache, CacheStats, ManualClock, RemovalCause};

/// A published value: a counter's count or a gauge's value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Counter(u64),
    Gauge(f64),
}

/// Everything published since the last snapshot, by `name{label=value,...}`
/// with the labels sorted.
fn published(snapshotter: &Snapshotter) -> BTreeMap<String, Value> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let value = match value {
                DebugValue::Counter(n) => Value::Counter(n),
                DebugValue::Gauge(g) => Value::Gauge(g.into_inner()),
                DebugValue::Histogram(_) => panic!("no histogram is published"),
            };
            (format!("{}{{{}}}", key.name(), labels.join(",")), value)
        })
        .collect()
}

/// What `stats` should publish under `cache`, in the same form.
fn expected(cache: &str, stats: &CacheStats) -> BTreeMap<String, Value> {
    let counter = |name: &str, n| (format!("{name}{{cache={cache}}}"), Value::Counter(n));
    let mut want: BTreeMap<String, Value> = [
        counter("tenure_cache_hits_total", stats.hits),
        counter("tenure_cache_misses_total", stats.misses),
        counter("tenure_cache_creations_total", stats.creations),
        counter(
            "tenure_cache_creation_failures_total",
            stats.creation_failures,
        ),
        counter("tenure_cache_listener_panics_total", stats.listener_panics),
        (
            format!("tenure_cache_entries{{cache={cache}}}"),
            Value::Gauge(stats.len as f64),
        ),
        (
            format!("tenure_cache_weighted_size{{cache={cache}}}"),
            Value::Gauge(stats.weighted_size as f64),
        ),
    ]
    .into();
    for (label, cause) in [
        ("expired", RemovalCause::Expired),
        ("capacity", RemovalCause::Capacity),
        ("removed", RemovalCause::Removed),
        ("replaced", RemovalCause::Replaced),
        ("cleared", RemovalCause::Cleared),
    ] {
        want.insert(
            format!("tenure_cache_removals_total{{cache={cache},cause={label}}}"),
            Value::Counter(stats.removals.get(cause)),
        );
    }
    want
}

fn hybrid(name: &str, clock: &ManualClock) -> Cache<u32, u32, Hybrid> {
    Cache::builder()
        .policy(Hybrid::new(Duration::from_secs(10), 3).unwrap())
        .clock(clock.clone())
        .metrics_name(name)
        .build()
        .unwrap()
}

/// Drives `cache` through every kind of event the stats count.
fn busy_day(cache: &Cache<u32, u32, Hybrid>, clock: &ManualClock) {
    for key in 1..=5 {
        cache.get_or_create(key, || key * 10); // 2 evicted for capacity
    }
    assert_eq!(cache.get(&5), Some(50));
    assert_eq!(cache.get(&4), Some(40));
    assert_eq!(cache.get(&1), None);
    assert_eq!(
        cache.try_get_or_create(6, || Err::<u32, _>("down")),
        Err("down")
    );
    cache.insert(5, 55); // replaced
    cache.remove(&4); // removed
    clock.advance(Duration::from_secs(10));
    cache.insert(9, 90); // 3 and 5 expire
    cache.clear(); // 9 cleared
    cache.insert(10, 100);
    cache.get_or_create(11, || 110);
    assert_eq!(cache.get(&10), Some(100));
}

#[test]
fn maintenance_publishes_the_stats() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let clock = ManualClock::new();
    let cache = hybrid("sessions", &clock);
    busy_day(&cache, &clock);
    metrics::with_local_recorder(&recorder, || cache.run_maintenance());

    let stats = cache.stats();
    // Every number is exercised, so a field published from the wrong one shows.
    assert_eq!((stats.hits, stats.misses, stats.creations), (3, 8, 6));
    assert_eq!(stats.creation_failures, 1);
    let r = stats.removals;
    let removals = (r.capacity, r.replaced, r.removed, r.expired, r.cleared);
    assert_eq!(removals, (2, 1, 1, 2, 1));
    assert_eq!(stats.len, 2);
    assert_eq!(published(&snapshotter), expected("sessions", &stats));
}

#[test]
fn a_publish_sets_absolute_values() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let clock = ManualClock::new();
    let cache = hybrid("twice", &clock);
    busy_day(&cache, &clock);
    // Publishing the same snapshot twice must not add it up.
    metrics::with_local_recorder(&recorder, || {
        cache.publish_metrics();
        cache.publish_metrics();
    });
    assert_eq!(published(&snapshotter), expected("twice", &cache.stats()));
}

#[test]
fn two_caches_publish_under_their_own_names() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let build = |name: &str| -> Cache<u32, u32, LruBound> {
        Cache::builder()
            .policy(LruBound::new(2).unwrap())
            .metrics_name(name)
            .build()
            .unwrap()
    };
    let (a, b) = (build("a"), build("b"));
    a.get_or_create(1, || 1);
    a.get(&1);
    a.get(&1);
    for key in 0..3 {
        b.get_or_create(key, || key);
    }
    metrics::with_local_recorder(&recorder, || {
        a.publish_metrics();
        b.publish_metrics();
    });
    let (stats_a, stats_b) = (a.stats(), b.stats());
    assert_ne!(stats_a, stats_b);
    let mut want = expected("a", &stats_a);
    want.extend(expected("b", &stats_b));
    let got = published(&snapshotter);
    assert_eq!(got, want);
    let counter = |metric: &str, cache: &str| got[&format!("{metric}{{cache={cache}}}")];
    let hits = |cache| counter("tenure_cache_hits_total", cache);
    let misses = |cache| counter("tenure_cache_misses_total", cache);
    assert_eq!(
        (hits("a"), misses("a")),
        (Value::Counter(2), Value::Counter(1))
    );
    assert_eq!(
        (hits("b"), misses("b")),
        (Value::Counter(0), Value::Counter(3))
    );
}

#[test]
fn lookups_and_writes_publish_nothing() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let clock = ManualClock::new();
    let cache = hybrid("quiet", &clock);
    metrics::with_local_recorder(&recorder, || busy_day(&cache, &clock));
    assert_eq!(published(&snapshotter), BTreeMap::new());
}

#[test]
fn an_unnamed_cache_publishes_nothing() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let cache: Cache<u32, u32, LruBound> = Cache::new(LruBound::new(2).unwrap());
    cache.get_or_create(1, || 1);
    metrics::with_local_recorder(&recorder, || {
        cache.run_maintenance();
        cache.publish_metrics();
    });
    assert_eq!(published(&snapshotter), BTreeMap::new());
}

/// A tokio sweeper on a current-thread runtime runs on the test's thread, so
/// it sees the thread's local recorder.
#[cfg(feature = "tokio")]
#[tokio::test(start_paused = true)]
async fn each_sweeper_pass_publishes() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let cache: Cache<u32, u32, LruBound> = Cache::builder()
        .policy(LruBound::new(2).unwrap())
        .metrics_name("swept")
        .sweep_on_tokio_every(Duration::from_secs(60))
        .build()
        .unwrap();
    for key in 0..3 {
        cache.get_or_create(key, || key);
    }
    assert_eq!(published(&snapshotter), BTreeMap::new());
    tokio::time::sleep(Duration::from_secs(61)).await; // paused time: the sweeper's turn
    let first = cache.stats();
    assert_eq!(published(&snapshotter), expected("swept", &first));

    cache.get(&2);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let second = cache.stats();
    assert_eq!(second.hits, first.hits + 1);
    assert_eq!(published(&snapshotter), expected("swept", &second));
}
