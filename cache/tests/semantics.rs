//! Acceptance item 1: every bullet of DESIGN.md "Semantics" that a single thread
//! can observe, checked exactly with a `ManualClock` for each built-in policy (and
//! their `max_lifetime` forms), plus a user-defined FIFO policy plugged into `Cache`.

mod support;

use std::time::Duration;

use support::Removals;
use tenure::policy::{Hybrid, LruBound, NewEntry, Policy, SlidingTtl, Slot, SlotList, Timestamp};
use tenure::{Cache, CacheBuilder, ManualClock, RemovalCause};

use RemovalCause::{Capacity, Cleared, Expired, Removed, Replaced};

type Key = &'static str;

const TTL: Duration = Duration::from_secs(60);
const NS: Duration = Duration::from_nanos(1);
const MINUTE: Duration = Duration::from_secs(60);
/// Far beyond any test's horizon: the max-lifetime forms must behave like the plain ones.
const FAR: Duration = Duration::from_secs(1_000_000);

/// A cache on a manual clock that starts at an odd instant (not zero, not round).
struct Fixture<P> {
    cache: Cache<Key, u32, P>,
    clock: ManualClock,
    removals: Removals<Key, u32>,
}

fn fixture<P: Policy>(policy: P) -> Fixture<P> {
    fixture_with(policy, |b| b)
}

/// [`fixture`], with more settings made by `settings`.
fn fixture_with<P: Policy>(
    policy: P,
    settings: impl FnOnce(CacheBuilder<Key, u32, P>) -> CacheBuilder<Key, u32, P>,
) -> Fixture<P> {
    let clock = ManualClock::new();
    clock.advance(Duration::from_nanos(7_000_000_003));
    let removals = Removals::new();
    let cache = settings(Cache::builder().policy(policy))
        .clock(clock.clone())
        .eviction_listener(removals.listener())
        .build()
        .expect("a valid cache");
    Fixture {
        cache,
        clock,
        removals,
    }
}

/// Runs `$check(name, fixture)` for every policy with a sliding TTL of [`TTL`]
/// (bounded ones with room to spare, so only time removes entries).
macro_rules! for_each_ttl_policy {
    ($check:ident) => {
        $check("SlidingTtl", fixture(SlidingTtl::new(TTL).unwrap()));
        $check(
            "SlidingTtl+max_lifetime",
            fixture(
                SlidingTtl::new(TTL)
                    .unwrap()
                    .with_max_lifetime(FAR)
                    .unwrap(),
            ),
        );
        $check("Hybrid", fixture(Hybrid::new(TTL, 100).unwrap()));
        $check(
            "Hybrid+max_lifetime",
            fixture(
                Hybrid::new(TTL, 100)
                    .unwrap()
                    .with_max_lifetime(FAR)
                    .unwrap(),
            ),
        );
    };
}

/// Runs `$check(name, fixture)` for every policy with an LRU bound of 3 (TTL ones
/// with a TTL no test reaches, so only the bound removes entries).
macro_rules! for_each_bounded_policy {
    ($check:ident) => {
        $check("LruBound", fixture(LruBound::new(3).unwrap()));
        $check("Hybrid", fixture(Hybrid::new(FAR, 3).unwrap()));
        $check(
            "Hybrid+max_lifetime",
            fixture(
                Hybrid::new(FAR, 3)
                    .unwrap()
                    .with_max_lifetime(2 * FAR)
                    .unwrap(),
            ),
        );
    };
}

/// Runs `$check(name, fixture)` for every built-in policy.
macro_rules! for_each_policy {
    ($check:ident) => {
        for_each_ttl_policy!($check);
        $check("LruBound", fixture(LruBound::new(3).unwrap()));
    };
}

// ---------------------------------------------------------------- sliding TTL

fn read_at_deadline_misses<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("a", 1);
    f.clock.advance(TTL - NS);
    assert!(f.cache.contains_key("a"), "{name}: alive 1ns before t+ttl");
    f.clock.advance(NS);
    assert!(!f.cache.contains_key("a"), "{name}: expired at t+ttl");
    assert_eq!(f.cache.len(), 1, "{name}: held until reclaimed");
    assert!(
        f.removals.take().is_empty(),
        "{name}: not reclaimed by reads that do not meet it"
    );
    assert_eq!(f.cache.get("a"), None, "{name}: read at exactly t+ttl");
    assert_eq!(f.removals.take(), [("a", 1, Expired)], "{name}");
    assert_eq!(f.cache.len(), 0, "{name}: the read removed it");
    let stats = f.cache.stats();
    assert_eq!((stats.hits, stats.misses), (0, 1), "{name}");
    assert_eq!(stats.removals.expired, 1, "{name}");
    assert_eq!(stats.removals.total(), 1, "{name}");
}

#[test]
fn a_read_at_exactly_t_plus_ttl_is_a_miss_that_removes_the_entry() {
    for_each_ttl_policy!(read_at_deadline_misses);
}

fn read_before_deadline_slides<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("a", 1);
    f.clock.advance(TTL - NS);
    assert_eq!(f.cache.get("a"), Some(1), "{name}: read at t+ttl-1ns");
    // The deadline is now exactly (t+ttl-1ns)+ttl.
    f.clock.advance(TTL - NS);
    assert!(
        f.cache.contains_key("a"),
        "{name}: alive 1ns before the new deadline"
    );
    f.clock.advance(NS);
    assert!(
        !f.cache.contains_key("a"),
        "{name}: expired at the new deadline"
    );
    assert_eq!(f.cache.get("a"), None, "{name}");
    assert_eq!(f.removals.take(), [("a", 1, Expired)], "{name}");

    // A get_or_create hit is an access too.
    assert_eq!(f.cache.get_or_create("b", || 2), 2);
    f.clock.advance(TTL - NS);
    assert_eq!(
        f.cache.get_or_create("b", || 3),
        2,
        "{name}: hit at t+ttl-1ns"
    );
    f.clock.advance(TTL - NS);
    assert!(f.cache.contains_key("b"), "{name}");
    f.clock.advance(NS);
    assert!(!f.cache.contains_key("b"), "{name}");
    let stats = f.cache.stats();
    assert_eq!((stats.hits, stats.misses), (2, 2), "{name}");
}

#[test]
fn a_read_at_t_plus_ttl_minus_1ns_hits_and_moves_the_deadline_to_now_plus_ttl() {
    for_each_ttl_policy!(read_before_deadline_slides);
}

fn get_or_create_recreates_expired<P: Policy>(name: &str, f: Fixture<P>) {
    assert_eq!(f.cache.get_or_create("a", || 1), 1);
    f.clock.advance(TTL);
    assert_eq!(f.cache.get_or_create("a", || 2), 2, "{name}: made again");
    assert_eq!(f.removals.take(), [("a", 1, Expired)], "{name}");
    assert_eq!(f.cache.len(), 1, "{name}");
    // The new value's life counts from its creation.
    f.clock.advance(TTL - NS);
    assert!(f.cache.contains_key("a"), "{name}");
    f.clock.advance(NS);
    assert!(!f.cache.contains_key("a"), "{name}");
    let stats = f.cache.stats();
    assert_eq!(
        (stats.creations, stats.hits, stats.misses),
        (2, 0, 2),
        "{name}"
    );
}

#[test]
fn get_or_create_on_an_expired_entry_creates_again() {
    for_each_ttl_policy!(get_or_create_recreates_expired);
}

fn never_returns_expired<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("a", 1);
    f.cache.insert("b", 2);
    f.clock.advance(TTL);
    // No write has run since: both are still held, yet none is visible.
    assert_eq!(f.cache.len(), 2, "{name}");
    assert!(
        !f.cache.contains_key("a") && !f.cache.contains_key("b"),
        "{name}"
    );
    assert!(
        f.cache.keys().is_empty(),
        "{name}: keys() lists only live keys"
    );
    let failed: Result<u32, &str> = f.cache.try_get_or_create("a", || Err("no"));
    assert_eq!(
        failed,
        Err("no"),
        "{name}: the creator ran instead of returning the old value"
    );
    assert_eq!(f.cache.get("b"), None, "{name}");
    assert_eq!(
        f.removals.take_sorted(),
        [("a", 1, Expired), ("b", 2, Expired)],
        "{name}"
    );
    assert_eq!(f.cache.len(), 0, "{name}");
}

#[test]
fn an_expired_value_is_never_returned_even_without_maintenance() {
    for_each_ttl_policy!(never_returns_expired);
}

fn keys_and_writes_skip_expired<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("old", 1);
    f.clock.advance(TTL / 2);
    f.cache.insert("new", 2);
    f.clock.advance(TTL / 2);
    assert_eq!(f.cache.keys(), ["new"], "{name}");
    assert_eq!(f.cache.len(), 2, "{name}");
    // Every write reclaims what has expired first: "old" is Expired, not Removed.
    assert_eq!(f.cache.invalidate_if(|_, _| true), 1, "{name}");
    assert_eq!(
        f.removals.take_sorted(),
        [("new", 2, Removed), ("old", 1, Expired)],
        "{name}"
    );
    f.cache.insert("x", 3);
    f.clock.advance(TTL / 2);
    f.cache.insert("y", 4);
    f.clock.advance(TTL / 2);
    f.cache.clear();
    assert_eq!(
        f.removals.take_sorted(),
        [("x", 3, Expired), ("y", 4, Cleared)],
        "{name}"
    );
    f.cache.insert("z", 5);
    f.clock.advance(TTL);
    assert_eq!(
        f.cache.remove("z"),
        None,
        "{name}: an expired value is not returned"
    );
    assert_eq!(f.removals.take(), [("z", 5, Expired)], "{name}");
    f.cache.insert("w", 6);
    f.clock.advance(TTL);
    assert_eq!(
        f.cache.insert("w", 7),
        None,
        "{name}: replaced nothing live"
    );
    assert_eq!(f.removals.take(), [("w", 6, Expired)], "{name}");
}

#[test]
fn writes_reclaim_expired_entries_first_and_keys_lists_only_live_ones() {
    for_each_ttl_policy!(keys_and_writes_skip_expired);
}

// ---------------------------------------------------------------- max lifetime

const LONG_TTL: Duration = Duration::from_secs(5 * 60);
const LIFETIME: Duration = Duration::from_secs(3600);

/// Reads `key` every minute for just under `LIFETIME` after `created_at`, then
/// checks it ends exactly at `created_at + LIFETIME`.
fn read_every_minute_until_lifetime_ends<P: Policy>(name: &str, f: &Fixture<P>, value: u32) {
    for minute in 1..60 {
        f.clock.advance(MINUTE);
        assert_eq!(
            f.cache.get("a"),
            Some(value),
            "{name}: read at minute {minute}"
        );
    }
    f.clock.advance(MINUTE - NS);
    assert_eq!(
        f.cache.get("a"),
        Some(value),
        "{name}: 1ns before created+max_lifetime"
    );
    f.clock.advance(NS);
    assert_eq!(f.cache.get("a"), None, "{name}: at created+max_lifetime");
    assert_eq!(f.removals.take(), [("a", value, Expired)], "{name}");
}

fn max_lifetime_ends_hot_entry<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("a", 1);
    read_every_minute_until_lifetime_ends(name, &f, 1);
    // A new life starts at creation.
    assert_eq!(f.cache.get_or_create("a", || 2), 2);
    read_every_minute_until_lifetime_ends(name, &f, 2);
    // `insert` over a live entry starts a new life too.
    f.cache.insert("a", 3);
    for _ in 0..30 {
        f.clock.advance(MINUTE);
        assert_eq!(f.cache.get("a"), Some(3), "{name}");
    }
    assert_eq!(f.cache.insert("a", 4), Some(3));
    assert_eq!(f.removals.take(), [("a", 3, Replaced)], "{name}");
    read_every_minute_until_lifetime_ends(name, &f, 4);
    assert_eq!(f.cache.stats().removals.expired, 3, "{name}");
}

#[test]
fn max_lifetime_ends_an_entry_read_every_minute_exactly_at_created_plus_max_lifetime() {
    max_lifetime_ends_hot_entry(
        "SlidingTtl",
        fixture(
            SlidingTtl::new(LONG_TTL)
                .unwrap()
                .with_max_lifetime(LIFETIME)
                .unwrap(),
        ),
    );
    max_lifetime_ends_hot_entry(
        "Hybrid",
        fixture(
            Hybrid::new(LONG_TTL, 10)
                .unwrap()
                .with_max_lifetime(LIFETIME)
                .unwrap(),
        ),
    );
}

#[test]
fn max_lifetime_equal_to_ttl_is_allowed_and_the_idle_ttl_still_applies() {
    let f = fixture(
        SlidingTtl::new(LONG_TTL)
            .unwrap()
            .with_max_lifetime(LIFETIME)
            .unwrap(),
    );
    f.cache.insert("a", 1);
    f.clock.advance(LONG_TTL);
    assert_eq!(
        f.cache.get("a"),
        None,
        "idle for the TTL, long before the lifetime"
    );
    assert_eq!(f.removals.take(), [("a", 1, Expired)]);

    let f = fixture(Hybrid::new(TTL, 2).unwrap().with_max_lifetime(TTL).unwrap());
    f.cache.insert("a", 1);
    f.clock.advance(TTL / 2);
    assert_eq!(f.cache.get("a"), Some(1));
    f.clock.advance(TTL / 2);
    assert_eq!(
        f.cache.get("a"),
        None,
        "the lifetime ends it despite the read"
    );
    assert_eq!(f.removals.take(), [("a", 1, Expired)]);
}

// ---------------------------------------------------------------- LRU bound

const KEYS: [Key; 12] = [
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11",
];

fn lru_order<P: Policy>(name: &str, f: Fixture<P>) {
    let step = |what: &str, expect: &[(Key, u32, RemovalCause)]| {
        assert!(
            f.cache.len() <= 3,
            "{name}: len {} after {what}",
            f.cache.len()
        );
        assert_eq!(f.removals.take(), expect, "{name}: after {what}");
    };
    f.cache.insert("a", 1);
    f.cache.insert("b", 2);
    f.cache.insert("c", 3);
    step("filling", &[]);
    f.cache.insert("d", 4);
    step("insert d", &[("a", 1, Capacity)]); // order now b c d
    assert_eq!(f.cache.get("b"), Some(2)); // c d b
    assert!(f.cache.contains_key("c")); // not an access
    f.cache.insert("e", 5);
    step("insert e", &[("c", 3, Capacity)]); // d b e
    assert_eq!(f.cache.get_or_create("d", || 40), 4); // b e d
    f.cache.insert("f", 6);
    step("insert f", &[("b", 2, Capacity)]); // e d f
    assert_eq!(f.cache.insert("e", 50), Some(5)); // d f e: a new life is recent
    step("replace e", &[("e", 5, Replaced)]);
    assert_eq!(f.cache.get_or_create("g", || 7), 7); // f e g
    step("create g", &[("d", 4, Capacity)]);
    assert_eq!(f.cache.get("zz"), None); // a miss changes no order
    f.cache.insert("h", 8);
    step("insert h", &[("f", 6, Capacity)]);
    let mut keys = f.cache.keys();
    keys.sort();
    assert_eq!(keys, ["e", "g", "h"], "{name}");
    assert_eq!(f.cache.stats().removals.capacity, 5, "{name}");

    // A long run of inserts: the bound holds after every call and the oldest goes.
    f.cache.clear();
    f.removals.take();
    for (i, &key) in KEYS.iter().enumerate() {
        f.cache.insert(key, i as u32);
        assert!(f.cache.len() <= 3, "{name}");
        let evicted: Vec<_> = i
            .checked_sub(3)
            .map(|j| (KEYS[j], j as u32, Capacity))
            .into_iter()
            .collect();
        assert_eq!(f.removals.take(), evicted, "{name}: inserting {key}");
    }
    assert_eq!(f.cache.len(), 3, "{name}");
}

#[test]
fn the_lru_bound_evicts_the_least_recently_used_and_get_refreshes_but_contains_does_not() {
    for_each_bounded_policy!(lru_order);
}

#[test]
fn an_lru_bound_of_one_keeps_only_the_latest_entry() {
    let f = fixture(LruBound::new(1).unwrap());
    f.cache.insert("a", 1);
    assert_eq!(f.cache.get_or_create("b", || 2), 2);
    assert_eq!(f.removals.take(), [("a", 1, Capacity)]);
    assert_eq!(f.cache.get("b"), Some(2));
    assert_eq!(f.cache.insert("b", 3), Some(2));
    assert_eq!(f.removals.take(), [("b", 2, Replaced)]);
    assert_eq!(f.cache.len(), 1);
}

// ---------------------------------------------------------------- hybrid

#[test]
fn hybrid_applies_both_rules_and_reports_each_removal_with_its_true_cause() {
    let f = fixture(Hybrid::new(TTL, 2).unwrap());
    let secs = Duration::from_secs;
    f.cache.insert("a", 1); // t0
    f.clock.advance(secs(30));
    f.cache.insert("b", 2); // t0+30
    f.clock.advance(secs(10));
    f.cache.insert("c", 3); // t0+40: over the bound, a is still live
    assert_eq!(f.removals.take(), [("a", 1, Capacity)]);
    f.clock.advance(secs(50)); // t0+90: b's deadline exactly, c lives until t0+100
    f.cache.insert("d", 4);
    // b expires first, so no live entry has to make room.
    assert_eq!(f.removals.take(), [("b", 2, Expired)]);
    assert_eq!(f.cache.len(), 2);
    f.cache.insert("e", 5);
    assert_eq!(f.removals.take(), [("c", 3, Capacity)]);
    // A read keeps d both alive and recent: e is evicted next.
    f.clock.advance(secs(59));
    assert_eq!(f.cache.get("d"), Some(4));
    assert_eq!(f.cache.get_or_create("f", || 6), 6); // t0+149: e's deadline is t0+150
    assert_eq!(f.removals.take(), [("e", 5, Capacity)]);
    f.clock.advance(TTL);
    f.cache.clear();
    assert_eq!(
        f.removals.take_sorted(),
        [("d", 4, Expired), ("f", 6, Expired)]
    );
    let removals = f.cache.stats().removals;
    assert_eq!(
        (removals.expired, removals.capacity, removals.cleared),
        (3, 3, 0)
    );
}

// ---------------------------------------------------------------- writes and stats

fn writes_report_causes<P: Policy>(name: &str, f: Fixture<P>) {
    assert_eq!(f.cache.insert("a", 1), None, "{name}");
    assert!(f.removals.take().is_empty(), "{name}");
    assert_eq!(
        f.cache.insert("a", 2),
        Some(1),
        "{name}: insert returns the replaced value"
    );
    assert_eq!(f.removals.take(), [("a", 1, Replaced)], "{name}");
    assert_eq!(f.cache.get("a"), Some(2), "{name}");
    assert_eq!(f.cache.remove("a"), Some(2), "{name}");
    assert_eq!(f.removals.take(), [("a", 2, Removed)], "{name}");
    assert_eq!(f.cache.remove("a"), None, "{name}");
    assert!(
        f.removals.take().is_empty(),
        "{name}: nothing to remove, nothing reported"
    );
    assert_eq!(f.cache.get("a"), None, "{name}");

    for (key, value) in [("a", 1), ("b", 2), ("c", 3)] {
        f.cache.insert(key, value);
    }
    assert_eq!(f.cache.invalidate_if(|_, v| v % 2 == 1), 2, "{name}");
    assert_eq!(
        f.removals.take_sorted(),
        [("a", 1, Removed), ("c", 3, Removed)],
        "{name}"
    );
    assert_eq!(f.cache.invalidate_if(|k, _| *k == "nope"), 0, "{name}");
    assert_eq!(f.cache.keys(), ["b"], "{name}");
    f.cache.insert("d", 4);
    f.cache.clear();
    assert_eq!(
        f.removals.take_sorted(),
        [("b", 2, Cleared), ("d", 4, Cleared)],
        "{name}"
    );
    assert!(f.cache.is_empty(), "{name}");
    assert!(f.cache.keys().is_empty(), "{name}");
    f.cache.clear();
    assert!(f.removals.take().is_empty(), "{name}");

    let removals = f.cache.stats().removals;
    assert_eq!(
        (
            removals.replaced,
            removals.removed,
            removals.cleared,
            removals.expired,
            removals.capacity
        ),
        (1, 3, 2, 0, 0),
        "{name}"
    );
    assert_eq!(removals.get(Replaced), 1, "{name}");
    assert_eq!(removals.get(Removed), 3, "{name}");
    assert_eq!(removals.get(Cleared), 2, "{name}");
    assert_eq!(removals.total(), 6, "{name}");
}

#[test]
fn insert_remove_clear_and_invalidate_if_return_and_report_the_right_things() {
    for_each_policy!(writes_report_causes);
}

fn stats_count<P: Policy>(name: &str, f: Fixture<P>) {
    assert_eq!(f.cache.get_or_create("a", || 1), 1); // miss, creation
    assert_eq!(f.cache.get_or_create("a", || 9), 1); // hit
    assert_eq!(f.cache.get("a"), Some(1)); // hit
    assert_eq!(f.cache.get("zz"), None); // miss
    let failed: Result<u32, &str> = f.cache.try_get_or_create("b", || Err("no")); // miss, failure
    assert_eq!(failed, Err("no"));
    assert_eq!(f.cache.try_get_or_create("b", || Ok::<_, &str>(2)), Ok(2)); // miss, creation
    assert!(f.cache.contains_key("a")); // counts nowhere
    assert_eq!(f.cache.remove("a"), Some(1));
    f.cache.insert("c", 3); // no lookup
    let stats = f.cache.stats();
    assert_eq!(stats.hits, 2, "{name}");
    assert_eq!(stats.misses, 4, "{name}");
    assert_eq!(stats.creations, 2, "{name}");
    assert_eq!(stats.creation_failures, 1, "{name}");
    assert_eq!(stats.removals.removed, 1, "{name}");
    assert_eq!(stats.removals.total(), 1, "{name}");
    assert_eq!(stats.len, 2, "{name}");
    assert_eq!(stats.hit_ratio(), 2.0 / 6.0, "{name}");
    let json = serde_json::to_value(stats).unwrap();
    assert_eq!(json["hits"], 2, "{name}");
    assert_eq!(json["removals"]["removed"], 1, "{name}");
}

#[test]
fn stats_count_hits_misses_creations_failures_removals_and_len() {
    for_each_policy!(stats_count);
}

// ---------------------------------------------------------------- a user's own policy

/// First in, first out: evicts the oldest insertion; reads change nothing.
struct Fifo {
    capacity: usize,
    order: SlotList,
}

impl Policy for Fifo {
    fn on_insert(&mut self, slot: Slot, _entry: NewEntry, _now: Timestamp) {
        self.order.push_back(slot);
    }
    fn on_access(&mut self, _slot: Slot, _now: Timestamp) {}
    fn on_remove(&mut self, slot: Slot) {
        self.order.remove(slot);
    }
    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        self.order.move_slot(from, to);
    }
    fn next_victim(&mut self) -> Option<Slot> {
        (self.order.len() > self.capacity)
            .then(|| self.order.front())
            .flatten()
    }
}

#[test]
fn a_user_defined_fifo_policy_plugged_into_cache_behaves_as_fifo() {
    let f = fixture(Fifo {
        capacity: 2,
        order: SlotList::new(),
    });
    f.cache.insert("a", 1);
    f.cache.insert("b", 2);
    // Read "a" many times (more than a read buffer holds): FIFO ignores reads.
    for _ in 0..40 {
        assert_eq!(f.cache.get("a"), Some(1));
    }
    f.cache.insert("c", 3);
    assert_eq!(
        f.removals.take(),
        [("a", 1, Capacity)],
        "LRU would have evicted b"
    );
    assert_eq!(f.cache.get_or_create("d", || 4), 4);
    assert_eq!(f.removals.take(), [("b", 2, Capacity)]);
    // Re-inserting a key is a new insertion: it goes to the back.
    assert_eq!(f.cache.insert("c", 30), Some(3));
    f.cache.insert("e", 5);
    assert_eq!(f.removals.take(), [("c", 3, Replaced), ("d", 4, Capacity)]);
    assert_eq!(f.cache.len(), 2);
    // No time rule: entries never expire.
    f.clock.advance(FAR);
    assert_eq!(f.cache.get("c"), Some(30));
}

// ---------------------------------------------------------------- expired entries met by a write

fn expired_entries_are_reclaimed_before_a_write_sees_them<P: Policy>(name: &str, f: Fixture<P>) {
    f.cache.insert("a", 1);
    f.cache.insert("b", 2);
    f.clock.advance(TTL);
    // `remove` meets an expired entry: it is reclaimed as Expired, and the call
    // returns no value.
    assert_eq!(f.cache.remove("a"), None, "{name}");
    // `insert` over an expired entry replaces nothing: the old one left as Expired.
    assert_eq!(f.cache.insert("b", 20), None, "{name}");
    let mut seen = f.removals.take();
    seen.sort();
    assert_eq!(seen, [("a", 1, Expired), ("b", 2, Expired)], "{name}");
    assert_eq!(f.cache.len(), 1, "{name}");
    assert_eq!(f.cache.get("b"), Some(20), "{name}");
    let stats = f.cache.stats();
    assert_eq!(
        (
            stats.removals.expired,
            stats.removals.removed,
            stats.removals.replaced
        ),
        (2, 0, 0),
        "{name}"
    );
}

#[test]
fn remove_and_insert_never_hand_out_or_replace_an_expired_value() {
    for_each_ttl_policy!(expired_entries_are_reclaimed_before_a_write_sees_them);
}

// ---------------------------------------------------------------- a user's policy with time rules

/// FIFO bounded at 2 that declares a sliding TTL: the cache enforces the rules
/// for any policy, with its own deadline structure.
struct TimedFifo {
    fifo: Fifo,
    expiry: tenure::policy::Expiry,
}

impl Policy for TimedFifo {
    fn expiry(&self) -> tenure::policy::Expiry {
        self.expiry
    }
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp) {
        self.fifo.on_insert(slot, entry, now);
    }
    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp) {
        self.fifo.on_move(from, to, now);
    }
    fn on_access(&mut self, slot: Slot, now: Timestamp) {
        self.fifo.on_access(slot, now);
    }
    fn on_remove(&mut self, slot: Slot) {
        self.fifo.on_remove(slot);
    }
    fn next_victim(&mut self) -> Option<Slot> {
        self.fifo.next_victim()
    }
}

#[test]
fn a_user_policy_gets_its_declared_time_rules_enforced_by_the_cache() {
    let f = fixture(TimedFifo {
        fifo: Fifo {
            capacity: 2,
            order: SlotList::new(),
        },
        expiry: tenure::policy::Expiry {
            ttl: Some(TTL),
            max_lifetime: None,
        },
    });
    f.cache.insert("a", 1);
    f.clock.advance(TTL - NS);
    assert_eq!(f.cache.get("a"), Some(1)); // read: the deadline slides to now + TTL
    f.cache.insert("b", 2);
    f.clock.advance(TTL - NS);
    f.cache.run_maintenance();
    assert_eq!(
        f.removals.take(),
        [],
        "a was read, b was written, TTL - 1 ns ago"
    );
    f.clock.advance(NS);
    f.cache.run_maintenance();
    let mut seen = f.removals.take();
    seen.sort();
    assert_eq!(seen, [("a", 1, Expired), ("b", 2, Expired)]);
    assert!(f.cache.is_empty());
}

// ---------------------------------------------------------------- shard counts

#[test]
fn any_shard_count_builds_a_working_cache() {
    for shards in [0, 1, 3, 64, 1024, 1025, usize::MAX / 2 + 2, usize::MAX] {
        let f = fixture_with(LruBound::new(100).unwrap(), |b| b.shards(shards));
        for k in ["a", "b", "c"] {
            f.cache.insert(k, 1);
        }
        assert_eq!(f.cache.get("b"), Some(1), "shards({shards})");
        assert_eq!(f.cache.remove("c"), Some(1), "shards({shards})");
        assert_eq!(f.cache.len(), 2, "shards({shards})");
    }
}
