//! Per-entry expiry (`CacheBuilder::expire_after`): each entry's own deadline,
//! combined with the cache-wide rules, exact at the boundary, on the manual clock.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use support::Removals;
use tenure::policy::{Hybrid, LruBound};
use tenure::{Cache, Expiry, ManualClock, RemovalCause};

const NS: Duration = Duration::from_nanos(1);

/// The value is the entry's lifetime in nanoseconds.
struct OwnLifetime;

impl Expiry<&'static str, u64> for OwnLifetime {
    fn expire_after_create(&self, _: &&'static str, value: &u64) -> Option<Duration> {
        (*value > 0).then(|| Duration::from_nanos(*value))
    }
}

/// A lifetime of 100 ns from creation; each read shortens what is left by half;
/// an update grants 1,000 ns from now.
struct Halving;

impl Expiry<&'static str, u64> for Halving {
    fn expire_after_create(&self, _: &&'static str, _: &u64) -> Option<Duration> {
        Some(100 * NS)
    }
    fn expire_after_read(
        &self,
        _: &&'static str,
        _: &u64,
        left: Option<Duration>,
    ) -> Option<Duration> {
        left.map(|d| d / 2)
    }
    fn expire_after_update(
        &self,
        _: &&'static str,
        _: &u64,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(1_000 * NS)
    }
}

struct Fixture<P: tenure::policy::Policy> {
    cache: Cache<&'static str, u64, P>,
    clock: ManualClock,
    removals: Removals<&'static str, u64>,
}

fn fixture<P: tenure::policy::Policy>(
    policy: P,
    expiry: impl Expiry<&'static str, u64>,
) -> Fixture<P> {
    let clock = ManualClock::new();
    let removals = Removals::new();
    let cache = Cache::builder()
        .policy(policy)
        .expire_after(expiry)
        .clock(clock.clone())
        .eviction_listener(removals.listener())
        .build()
        .unwrap();
    Fixture {
        cache,
        clock,
        removals,
    }
}

#[test]
fn an_entry_expires_exactly_at_its_own_deadline_and_maintenance_reclaims_it_there() {
    let f = fixture(LruBound::new(10).unwrap(), OwnLifetime);
    f.cache.insert("short", 50);
    f.cache.insert("long", 5_000);
    f.cache.insert("forever", 0);
    f.clock.advance(49 * NS);
    assert_eq!(f.cache.get("short"), Some(50));
    f.cache.run_maintenance();
    assert_eq!(f.cache.len(), 3);
    f.clock.advance(NS);
    assert!(!f.cache.keys().contains(&"short"));
    assert_eq!(f.cache.get("short"), None);
    assert_eq!(
        f.removals.take(),
        vec![("short", 50, RemovalCause::Expired)]
    );
    f.clock.advance(4_950 * NS);
    f.cache.run_maintenance();
    assert_eq!(
        f.removals.take(),
        vec![("long", 5_000, RemovalCause::Expired)]
    );
    f.clock.advance(Duration::from_secs(1_000_000));
    assert_eq!(f.cache.get("forever"), Some(0));
}

#[test]
fn the_read_hook_moves_the_deadline_and_an_earlier_one_is_reclaimed_on_time() {
    let f = fixture(LruBound::new(10).unwrap(), Halving);
    f.cache.insert("k", 1);
    f.clock.advance(20 * NS); // 80 left
    assert_eq!(f.cache.get("k"), Some(1)); // 40 left: deadline 60
    f.clock.advance(39 * NS);
    f.cache.run_maintenance();
    assert!(
        f.removals.take().is_empty(),
        "alive 1 ns before its new deadline"
    );
    f.clock.advance(NS);
    // No read meets it: the sweep alone must find the earlier deadline.
    f.cache.run_maintenance();
    assert_eq!(f.removals.take(), vec![("k", 1, RemovalCause::Expired)]);
    assert_eq!(f.cache.len(), 0);
}

#[test]
fn the_update_hook_decides_the_deadline_of_a_replaced_entry() {
    let f = fixture(LruBound::new(10).unwrap(), Halving);
    f.cache.insert("k", 1);
    f.clock.advance(90 * NS);
    assert_eq!(f.cache.insert("k", 2), Some(1)); // 1,000 from now: deadline 1,090
    f.clock.advance(999 * NS);
    f.cache.run_maintenance();
    assert_eq!(f.removals.take(), vec![("k", 1, RemovalCause::Replaced)]);
    f.clock.advance(NS);
    f.cache.run_maintenance();
    assert_eq!(f.removals.take(), vec![("k", 2, RemovalCause::Expired)]);
}

/// The default update hook keeps what was left; a key absent or expired gets
/// the create hook.
#[test]
fn by_default_an_update_keeps_the_remaining_time() {
    let f = fixture(LruBound::new(10).unwrap(), OwnLifetime);
    f.cache.insert("k", 100);
    f.clock.advance(60 * NS);
    f.cache.insert("k", 7); // 40 left, kept
    f.clock.advance(39 * NS);
    assert_eq!(f.cache.get("k"), Some(7));
    f.clock.advance(NS);
    assert_eq!(f.cache.get("k"), None);
    f.cache.insert("k", 10); // created anew: 10 from now
    f.clock.advance(9 * NS);
    assert_eq!(f.cache.get("k"), Some(10));
}

#[test]
fn the_earlier_of_the_own_and_the_cache_wide_deadline_wins() {
    // TTL 100 ns of idleness, lifetime 300 ns; entries choose their own too.
    let policy = Hybrid::new(100 * NS, 10)
        .unwrap()
        .with_max_lifetime(300 * NS)
        .unwrap();
    let f = fixture(policy, OwnLifetime);
    f.cache.insert("own-first", 50);
    f.cache.insert("idle-first", 1_000);
    f.cache.insert("lifetime-first", 10_000);
    let at = |t: u64| f.clock.set(tenure::policy::Timestamp::from_nanos(t));
    at(49);
    assert_eq!(f.cache.get("own-first"), Some(50)); // idle deadline now 149, own still 50
    at(50);
    assert_eq!(f.cache.get("own-first"), None);
    assert_eq!(
        f.removals.take(),
        vec![("own-first", 50, RemovalCause::Expired)]
    );
    assert_eq!(f.cache.get("lifetime-first"), Some(10_000)); // idle deadline 150
    at(99);
    assert_eq!(f.cache.get("idle-first"), Some(1_000)); // idle deadline 199
    at(140);
    assert_eq!(f.cache.get("lifetime-first"), Some(10_000)); // 240
    at(199);
    assert_eq!(f.cache.get("idle-first"), None, "idle for exactly the TTL");
    at(230);
    assert_eq!(f.cache.get("lifetime-first"), Some(10_000)); // 330, but the lifetime is 300
    at(299);
    assert_eq!(f.cache.get("lifetime-first"), Some(10_000));
    at(300);
    assert_eq!(
        f.cache.get("lifetime-first"),
        None,
        "older than the lifetime"
    );
    let mut causes = f.removals.take();
    causes.sort();
    assert_eq!(
        causes,
        vec![
            ("idle-first", 1_000, RemovalCause::Expired),
            ("lifetime-first", 10_000, RemovalCause::Expired),
        ]
    );
}

/// Two threads read one entry whose read hook grants 100 ns from each read,
/// while the clock moves in steps: every read before the deadline the reads
/// have set hits, every read at or after it misses, and the entry is removed
/// exactly once.
#[test]
fn two_threads_reading_an_entry_with_its_own_sliding_deadline_see_the_same_boundary() {
    struct Slide;
    impl Expiry<&'static str, u64> for Slide {
        fn expire_after_create(&self, _: &&'static str, _: &u64) -> Option<Duration> {
            Some(100 * NS)
        }
        fn expire_after_read(
            &self,
            _: &&'static str,
            _: &u64,
            _: Option<Duration>,
        ) -> Option<Duration> {
            Some(100 * NS)
        }
    }
    let f = fixture(LruBound::new(10).unwrap(), Slide);
    f.cache.insert("k", 1);
    let reads = AtomicUsize::new(0);
    for round in 0..50u64 {
        // Each round both threads read at the same instant, then the clock
        // moves 99 ns (alive) — until the last round, which moves 100 ns.
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    barrier.wait();
                    assert_eq!(f.cache.get("k"), Some(1), "round {round}");
                    reads.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        f.clock.advance(99 * NS);
    }
    f.clock.advance(NS); // exactly 100 ns after the last reads
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert_eq!(f.cache.get("k"), None));
        }
    });
    f.cache.run_maintenance();
    assert_eq!(reads.load(Ordering::Relaxed), 100);
    assert_eq!(f.removals.take(), vec![("k", 1, RemovalCause::Expired)]);
    let stats = f.cache.stats();
    assert_eq!((stats.hits, stats.misses), (100, 2));
}

// ---------------------------------------------------------------- lifted and endless deadlines

/// A 10 s lifetime from creation; a read lifts the entry's own deadline.
struct LiftedOnRead;

impl Expiry<&'static str, u64> for LiftedOnRead {
    fn expire_after_create(&self, _: &&'static str, _: &u64) -> Option<Duration> {
        Some(Duration::from_secs(10))
    }
    fn expire_after_read(
        &self,
        _: &&'static str,
        _: &u64,
        _: Option<Duration>,
    ) -> Option<Duration> {
        None
    }
}

#[test]
fn a_read_hook_returning_none_lifts_the_deadline_for_maintenance_too() {
    let f = fixture(LruBound::new(10).unwrap(), LiftedOnRead);
    f.cache.insert("lifted", 1);
    f.clock.advance(Duration::from_secs(5));
    assert_eq!(f.cache.get("lifted"), Some(1));
    f.clock.advance(Duration::from_secs(15));
    assert_eq!(f.cache.get("lifted"), Some(1));
    // The wheel still holds the old 10 s deadline: it must not decide alone.
    f.cache.run_maintenance();
    assert_eq!(
        f.cache.get("lifted"),
        Some(1),
        "reclaimed though its deadline was lifted"
    );
    assert_eq!(f.removals.take(), []);
    assert_eq!((f.cache.len(), f.cache.stats().removals.expired), (1, 0));
}

/// Lifetimes too long for the clock: `Duration::MAX`, and the first that
/// saturates a nanosecond timestamp.
struct Endless(Duration);

impl Expiry<&'static str, u64> for Endless {
    fn expire_after_create(&self, _: &&'static str, _: &u64) -> Option<Duration> {
        Some(self.0)
    }
    fn expire_after_read(
        &self,
        _: &&'static str,
        _: &u64,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.0)
    }
}

#[test]
fn a_lifetime_past_the_end_of_time_never_expires() {
    let saturating = Duration::from_nanos(u64::MAX);
    for lifetime in [Duration::MAX, saturating, saturating - NS] {
        let f = fixture(LruBound::new(10).unwrap(), Endless(lifetime));
        f.cache.insert("forever", 1);
        f.cache.insert("read", 2);
        // A year, a day at a time, with maintenance each day.
        for day in 0..365 {
            f.clock.advance(Duration::from_secs(86_400));
            f.cache.run_maintenance();
            assert_eq!(f.cache.get("read"), Some(2), "{lifetime:?}: day {day}");
            assert!(f.cache.contains_key("forever"), "{lifetime:?}: day {day}");
        }
        assert_eq!(f.removals.take(), [], "{lifetime:?}");
        assert_eq!(f.cache.len(), 2, "{lifetime:?}");
    }
}

// ---------------------------------------------------------------- panicking hooks

/// A 10 ns lifetime; each hook panics while its switch is on.
#[derive(Clone, Default)]
struct Panicky {
    on_create: Arc<AtomicBool>,
    on_update: Arc<AtomicBool>,
}

impl Expiry<&'static str, u64> for Panicky {
    fn expire_after_create(&self, _: &&'static str, _: &u64) -> Option<Duration> {
        assert!(
            !self.on_create.load(Ordering::Relaxed),
            "create hook panics"
        );
        Some(10 * NS)
    }
    fn expire_after_update(
        &self,
        _: &&'static str,
        _: &u64,
        _: Option<Duration>,
    ) -> Option<Duration> {
        assert!(
            !self.on_update.load(Ordering::Relaxed),
            "update hook panics"
        );
        Some(10 * NS)
    }
}

fn panics(op: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)).is_err()
}

#[test]
fn a_panicking_update_hook_leaves_the_old_entry_as_it_was() {
    let hooks = Panicky::default();
    let f = fixture(LruBound::new(10).unwrap(), hooks.clone());
    assert_eq!(f.cache.insert("k", 1), None);
    hooks.on_update.store(true, Ordering::Relaxed);
    assert!(panics(|| {
        f.cache.insert("k", 2);
    }));
    assert_eq!(f.cache.get("k"), Some(1), "the live entry was lost");
    assert_eq!(f.removals.take(), []);
    assert_eq!(f.cache.len(), 1);
    hooks.on_update.store(false, Ordering::Relaxed);
    assert_eq!(f.cache.insert("k", 3), Some(1));
    assert_eq!(f.removals.take(), [("k", 1, RemovalCause::Replaced)]);
    assert_eq!(f.cache.len(), 1);
}

#[test]
fn a_panicking_create_hook_still_reports_what_its_write_reclaimed() {
    let hooks = Panicky::default();
    let f = fixture(LruBound::new(10).unwrap(), hooks.clone());
    f.cache.insert("old", 1);
    f.clock.advance(20 * NS);
    hooks.on_create.store(true, Ordering::Relaxed);
    // The write reclaims "old" first, then the hook panics.
    assert!(panics(|| {
        f.cache.insert("new", 2);
    }));
    assert_eq!(f.removals.take(), [("old", 1, RemovalCause::Expired)]);
    assert_eq!(f.cache.stats().removals.expired, 1);
    assert_eq!((f.cache.len(), f.cache.get("new")), (0, None));
    // A get-or-create whose hook panics hands over and leaves nothing behind.
    assert!(panics(|| {
        f.cache.get_or_create("new", || 3);
    }));
    hooks.on_create.store(false, Ordering::Relaxed);
    assert_eq!(f.cache.get_or_create("new", || 4), 4);
    let stats = f.cache.stats();
    assert_eq!(
        (stats.creations, stats.creation_failures, stats.len),
        (1, 1, 1)
    );
}
