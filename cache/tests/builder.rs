//! `Cache::builder()`: the policy each combination of knobs builds, checked by
//! what the cache then does on a `ManualClock`, and the errors for the
//! combinations that cannot make a sound cache.

mod support;

use std::time::Duration;

use support::Removals;
use tenure::policy::{LruBound, SlidingTtl};
use tenure::{Cache, CacheBuilder, CacheConfig, ConfigError, EvictionPolicy, ManualClock};
use tenure::{PolicyKind, RemovalCause};

const MINUTE: Duration = Duration::from_secs(60);
const NS: Duration = Duration::from_nanos(1);

/// A cache made by `knobs`, on a manual clock, with its removals recorded.
struct Built {
    cache: Cache<u32, u32>,
    clock: ManualClock,
    removals: Removals<u32, u32>,
}

fn build(knobs: impl FnOnce(CacheBuilder<u32, u32>) -> CacheBuilder<u32, u32>) -> Built {
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache = knobs(Cache::builder())
        .clock(clock.clone())
        .eviction_listener(removals.listener())
        .build()
        .expect("a valid builder");
    Built {
        cache,
        clock,
        removals,
    }
}

/// Settings applied to a fresh builder.
type Knobs = fn(CacheBuilder<u32, u32>) -> CacheBuilder<u32, u32>;

fn build_error(
    knobs: impl FnOnce(CacheBuilder<u32, u32>) -> CacheBuilder<u32, u32>,
) -> ConfigError {
    knobs(Cache::builder())
        .build()
        .expect_err("an invalid builder")
}

#[test]
fn max_capacity_alone_bounds_the_cache_by_lru_and_never_expires() {
    let b = build(|b| b.max_capacity(3));
    for k in 0..3 {
        b.cache.insert(k, k);
    }
    b.cache.get(&0); // 1 is now the least recently used
    b.cache.insert(3, 3);
    assert_eq!(b.removals.take(), vec![(1, 1, RemovalCause::Capacity)]);
    assert_eq!(b.cache.len(), 3);
    b.clock.advance(Duration::from_secs(100 * 365 * 86_400));
    assert_eq!(b.cache.get(&0), Some(0), "no time rule");
}

#[test]
fn an_explicit_lru_eviction_policy_is_the_default() {
    let b = build(|b| b.max_capacity(2).eviction_policy(EvictionPolicy::lru()));
    b.cache.insert(1, 1);
    b.cache.insert(2, 2);
    b.cache.get(&1);
    b.cache.insert(3, 3);
    assert_eq!(b.removals.take(), vec![(2, 2, RemovalCause::Capacity)]);
    assert_eq!(EvictionPolicy::default(), EvictionPolicy::lru());
}

#[test]
fn time_to_idle_alone_slides_and_has_no_bound() {
    let b = build(|b| b.time_to_idle(MINUTE));
    for k in 0..10_000 {
        b.cache.insert(k, k);
    }
    assert_eq!(b.cache.len(), 10_000, "no bound");
    assert!(b.removals.take().is_empty());
    b.clock.advance(MINUTE - NS);
    assert_eq!(b.cache.get(&7), Some(7), "a hit pushes the deadline");
    b.clock.advance(MINUTE - NS);
    assert_eq!(b.cache.get(&7), Some(7));
    assert_eq!(b.cache.get(&8), None, "idle for a minute");
    b.clock.advance(MINUTE - NS);
    assert!(b.cache.contains_key(&7));
    b.clock.advance(NS);
    assert!(
        !b.cache.contains_key(&7),
        "idle for a minute since its last hit"
    );
}

#[test]
fn time_to_live_alone_ends_entries_however_often_they_are_read() {
    let b = build(|b| b.time_to_live(MINUTE));
    b.cache.insert(1, 1);
    for _ in 0..59 {
        b.clock.advance(Duration::from_secs(1));
        assert_eq!(b.cache.get(&1), Some(1));
    }
    b.clock.advance(Duration::from_secs(1));
    assert_eq!(b.cache.get(&1), None, "reads never extend a lifetime");
    b.cache.run_maintenance();
    assert_eq!(b.removals.take(), vec![(1, 1, RemovalCause::Expired)]);
    for k in 0..5_000 {
        b.cache.insert(k, k);
    }
    assert_eq!(b.cache.len(), 5_000, "no bound");
}

#[test]
fn capacity_and_times_together_apply_every_rule() {
    let b = build(|b| {
        b.max_capacity(2)
            .time_to_idle(MINUTE)
            .time_to_live(3 * MINUTE)
    });
    b.cache.insert(1, 1);
    b.cache.insert(2, 2);
    b.cache.insert(3, 3);
    assert_eq!(b.removals.take(), vec![(1, 1, RemovalCause::Capacity)]);
    // Read 3 every 50 s: never idle, but its lifetime ends at 180 s.
    for _ in 0..3 {
        b.clock.advance(Duration::from_secs(50));
        assert_eq!(b.cache.get(&3), Some(3));
    }
    assert_eq!(b.cache.get(&2), None, "2 was idle for a minute");
    b.clock.advance(Duration::from_secs(30));
    assert_eq!(b.cache.get(&3), None, "3 lived three minutes");
    b.cache.run_maintenance();
    let mut expired = b.removals.take();
    expired.sort();
    assert_eq!(
        expired,
        vec![(2, 2, RemovalCause::Expired), (3, 3, RemovalCause::Expired)]
    );
}

#[test]
fn capacity_and_time_to_live_without_idle_works() {
    let b = build(|b| b.max_capacity(1).time_to_live(MINUTE));
    b.cache.insert(1, 1);
    b.cache.insert(2, 2);
    assert_eq!(b.removals.take(), vec![(1, 1, RemovalCause::Capacity)]);
    b.clock.advance(MINUTE - NS);
    assert_eq!(b.cache.get(&2), Some(2));
    b.clock.advance(NS);
    assert_eq!(b.cache.get(&2), None);
}

#[test]
fn a_builder_without_bound_or_expiry_is_an_error() {
    let error = build_error(|b| b);
    assert_eq!(error, ConfigError::Unbounded);
    let message = error.to_string();
    for knob in ["`max_capacity`", "`time_to_idle`", "`time_to_live`"] {
        assert!(message.contains(knob), "{message}");
    }
    // An eviction policy alone bounds nothing.
    let error = build_error(|b| b.eviction_policy(EvictionPolicy::lru()));
    assert_eq!(error, ConfigError::Unbounded);
}

#[test]
fn bad_numbers_are_errors_naming_the_knob() {
    let cases: [(&str, Knobs, &[&str]); 5] = [
        ("zero capacity", |b| b.max_capacity(0), &["`max_capacity`"]),
        (
            "zero time_to_idle",
            |b| b.time_to_idle(Duration::ZERO),
            &["`time_to_idle`"],
        ),
        (
            "zero time_to_live",
            |b| b.max_capacity(5).time_to_live(Duration::ZERO),
            &["`time_to_live`"],
        ),
        (
            "time_to_live shorter than time_to_idle",
            |b| b.time_to_idle(MINUTE).time_to_live(MINUTE - NS),
            &["`time_to_live`", "`time_to_idle`"],
        ),
        (
            "the same with a capacity",
            |b| {
                b.max_capacity(10)
                    .time_to_idle(MINUTE)
                    .time_to_live(Duration::from_secs(1))
            },
            &["`time_to_live`", "`time_to_idle`"],
        ),
    ];
    for (what, knobs, fields) in cases {
        let message = build_error(knobs).to_string();
        for field in fields {
            assert!(message.contains(field), "{what}: {message}");
        }
    }
    let equal = Cache::<u32, u32>::builder()
        .time_to_idle(MINUTE)
        .time_to_live(MINUTE)
        .build();
    assert!(equal.is_ok(), "a lifetime equal to the TTL is fine");
}

#[test]
fn a_custom_policy_takes_no_knobs() {
    let cache: Cache<u32, u32, LruBound> = Cache::builder()
        .policy(LruBound::new(1).unwrap())
        .build()
        .unwrap();
    cache.insert(1, 1);
    cache.insert(2, 2);
    assert!(!cache.contains_key(&1) && cache.contains_key(&2));

    let error = Cache::<u32, u32>::builder()
        .time_to_idle(MINUTE)
        .policy(SlidingTtl::new(MINUTE).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(
        error,
        ConfigError::CustomPolicy {
            field: "time_to_idle"
        }
    );
    assert!(error.to_string().contains("`time_to_idle`"), "{error}");
}

#[test]
fn knobs_after_from_config_replace_its_numbers() {
    let config = CacheConfig {
        policy: PolicyKind::Lru,
        max_capacity: Some(100),
        time_to_idle: None,
        time_to_live: None,
        sweep_interval: None,
    };
    let clock = ManualClock::new();
    let cache: Cache<u32, u32> = CacheBuilder::from_config(&config)
        .unwrap()
        .max_capacity(1)
        .clock(clock)
        .build()
        .unwrap();
    cache.insert(1, 1);
    cache.insert(2, 2);
    assert_eq!(cache.len(), 1, "the knob's capacity, not the config's");

    // The config's policy stays: a time knob on an `lru` config is an error.
    let error = CacheBuilder::<u32, u32>::from_config(&config)
        .unwrap()
        .time_to_idle(MINUTE)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("`time_to_idle`"), "{error}");
}
