//! A hit reads the clock at most once, including the hit that fills its
//! thread's read buffer and drains every buffer into the policy.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tenure::policy::Timestamp;
use tenure::{Cache, Clock, ManualClock};

/// A manual clock that counts its reads.
#[derive(Clone, Default)]
struct CountingClock {
    time: ManualClock,
    reads: Arc<AtomicU64>,
}

impl Clock for CountingClock {
    fn now(&self) -> Timestamp {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.time.now()
    }
}

/// Hits on a warm cache: `reads` clock reads per hit, over enough hits to
/// fill the read buffer many times.
fn clock_reads_per_hit(builder: impl FnOnce(CountingClock) -> Cache<u32, u32>) -> f64 {
    const HITS: u64 = 10_000;
    let clock = CountingClock::default();
    let cache = builder(clock.clone());
    for key in 0..100 {
        cache.insert(key, key);
    }
    let before = clock.reads.load(Ordering::Relaxed);
    for i in 0..HITS {
        let key = (i % 100) as u32;
        assert_eq!(cache.get(&key), Some(key));
        clock.time.advance(Duration::from_millis(1));
    }
    (clock.reads.load(Ordering::Relaxed) - before) as f64 / HITS as f64
}

/// Builds a cache with a time rule of the given length on the given clock.
type Build = fn(Duration, CountingClock) -> Cache<u32, u32>;

#[test]
fn a_hit_reads_the_clock_once_under_every_time_rule() {
    let ttl = Duration::from_secs(3600);
    let builds: [(&str, Build); 4] = [
        ("sliding ttl", |ttl, clock| {
            Cache::builder()
                .time_to_idle(ttl)
                .clock(clock)
                .build()
                .unwrap()
        }),
        ("hybrid", |ttl, clock| {
            Cache::builder()
                .time_to_idle(ttl)
                .max_capacity(1_000)
                .clock(clock)
                .build()
                .unwrap()
        }),
        ("hybrid with a lifetime", |ttl, clock| {
            Cache::builder()
                .time_to_idle(ttl)
                .time_to_live(4 * ttl)
                .max_capacity(1_000)
                .clock(clock)
                .build()
                .unwrap()
        }),
        ("tinylfu with a ttl", |ttl, clock| {
            Cache::builder()
                .time_to_idle(ttl)
                .max_capacity(1_000)
                .eviction_policy(tenure::EvictionPolicy::tiny_lfu())
                .clock(clock)
                .build()
                .unwrap()
        }),
    ];
    for (name, build) in builds {
        let per_hit = clock_reads_per_hit(|clock| build(ttl, clock));
        assert_eq!(per_hit, 1.0, "{name}: {per_hit} clock reads per hit");
    }
}

#[test]
fn a_hit_without_time_rules_reads_no_clock() {
    let per_hit = clock_reads_per_hit(|clock| {
        Cache::builder()
            .max_capacity(1_000)
            .clock(clock)
            .build()
            .unwrap()
    });
    assert_eq!(per_hit, 0.0);
}
