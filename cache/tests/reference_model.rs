//! Acceptance item 2: random operation sequences with clock advances, run against
//! a naive reference model (a `BTreeMap` and a logical "last touched" counter).
//! After every operation the returned value, the removals it caused (key, value,
//! cause; as a multiset), the stats and `len()` must be identical.
//!
//! The model spells out the write rule of DESIGN.md: every write first reclaims
//! *all* expired entries (`Expired`), then applies its change, then evicts the
//! least recently touched entries while over capacity (`Capacity`). A `get` that
//! meets an expired entry is a miss that runs such a write; `contains` touches
//! nothing; `len` counts expired entries not yet reclaimed.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use support::Removals;
use tenure::policy::{Hybrid, LruBound, Policy, SlidingTtl, Timestamp};
use tenure::{Cache, Clock, ManualClock, RemovalCause};

/// Nanosecond-sized rules, so that random advances land on deadlines often.
const TTL: u64 = 10;
const LIFETIME: u64 = 25;
const KEYS: u8 = 6;

type Event = (u8, u32, RemovalCause);

#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Contains(u8),
    Insert(u8),
    Remove(u8),
    GetOrCreate(u8),
    /// `invalidate_if` on odd values.
    InvalidateOdd,
    Clear,
    Maintain,
    Keys,
    /// Moves the clock forward this many nanoseconds.
    Advance(u64),
    /// Moves the clock to the deadline of `key`'s entry plus an offset of -1, 0
    /// or +1 ns, if the model holds that key and the instant is not in the past.
    ToDeadline(u8, i8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS).prop_map(Op::Get),
        2 => (0..KEYS).prop_map(Op::Contains),
        4 => (0..KEYS).prop_map(Op::Insert),
        2 => (0..KEYS).prop_map(Op::Remove),
        4 => (0..KEYS).prop_map(Op::GetOrCreate),
        1 => Just(Op::InvalidateOdd),
        1 => Just(Op::Clear),
        1 => Just(Op::Maintain),
        1 => Just(Op::Keys),
        4 => (0..=2 * TTL).prop_map(Op::Advance),
        3 => (0..KEYS, -1i8..=1).prop_map(|(k, off)| Op::ToDeadline(k, off)),
    ]
}

/// What an operation returned.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Value(Option<u32>),
    Flag(bool),
    Count(usize),
    Keys(Vec<u8>),
    Nothing,
}

/// The counters the model keeps, compared with `CacheStats`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    hits: u64,
    misses: u64,
    creations: u64,
    removals: [u64; 5],
    len: usize,
    weighted_size: u64,
}

#[derive(Debug, Clone, Copy)]
struct Rules {
    ttl: Option<u64>,
    max_lifetime: Option<u64>,
    capacity: Option<usize>,
    /// Entries weigh `value % 5` instead of 1.
    weighted: bool,
}

impl Rules {
    fn weight(&self, value: u32) -> u64 {
        if self.weighted {
            u64::from(value % 5)
        } else {
            1
        }
    }
}

#[derive(Debug)]
struct ModelEntry {
    value: u32,
    created: u64,
    last_access: u64,
    /// Logical time of the last insert or hit: the smallest is least recently used.
    last_touch: u64,
}

#[derive(Debug)]
struct Model {
    rules: Rules,
    now: u64,
    touches: u64,
    entries: BTreeMap<u8, ModelEntry>,
    counts: Counts,
}

impl Model {
    fn new(rules: Rules) -> Self {
        Model {
            rules,
            now: 0,
            touches: 0,
            entries: BTreeMap::new(),
            counts: Counts::default(),
        }
    }

    fn deadline(&self, e: &ModelEntry) -> Option<u64> {
        let idle = self.rules.ttl.map(|ttl| e.last_access + ttl);
        let aged = self.rules.max_lifetime.map(|max| e.created + max);
        idle.into_iter().chain(aged).min()
    }

    fn live(&self, key: u8) -> Option<u32> {
        let e = self.entries.get(&key)?;
        self.deadline(e)
            .is_none_or(|d| self.now < d)
            .then_some(e.value)
    }

    fn touch(&mut self, key: u8) {
        self.touches += 1;
        let e = self.entries.get_mut(&key).expect("touching a held key");
        e.last_access = self.now;
        e.last_touch = self.touches;
    }

    fn put(&mut self, key: u8, value: u32) {
        self.touches += 1;
        let entry = ModelEntry {
            value,
            created: self.now,
            last_access: self.now,
            last_touch: self.touches,
        };
        assert!(
            self.entries.insert(key, entry).is_none(),
            "put over a held key"
        );
    }

    fn take(&mut self, key: u8, cause: RemovalCause, events: &mut Vec<Event>) -> Option<u32> {
        let e = self.entries.remove(&key)?;
        events.push((key, e.value, cause));
        Some(e.value)
    }

    /// Reclaim expired, apply `change`, evict over capacity.
    fn write<R>(
        &mut self,
        events: &mut Vec<Event>,
        change: impl FnOnce(&mut Self, &mut Vec<Event>) -> R,
    ) -> R {
        let expired: Vec<u8> = self
            .entries
            .keys()
            .copied()
            .filter(|&k| self.live(k).is_none())
            .collect();
        for key in expired {
            self.take(key, RemovalCause::Expired, events);
        }
        let result = change(self, events);
        while let Some(cap) = self
            .rules
            .capacity
            .filter(|&cap| self.weight() > cap as u64)
        {
            let rules = self.rules;
            let victim = self
                .entries
                .iter()
                .min_by_key(|(_, e)| (rules.weight(e.value) <= cap as u64, e.last_touch))
                .map(|(&k, _)| k)
                .expect("over capacity, so not empty");
            self.take(victim, RemovalCause::Capacity, events);
        }
        result
    }

    /// The total weight held.
    fn weight(&self) -> u64 {
        self.entries
            .values()
            .map(|e| self.rules.weight(e.value))
            .sum()
    }

    /// A lookup: a hit touches; a miss on an expired entry runs a write.
    fn lookup(&mut self, key: u8, events: &mut Vec<Event>) -> Option<u32> {
        match self.live(key) {
            Some(v) => {
                self.counts.hits += 1;
                self.touch(key);
                Some(v)
            }
            None => {
                self.counts.misses += 1;
                if self.entries.contains_key(&key) {
                    self.write(events, |_, _| ());
                }
                None
            }
        }
    }

    fn apply(&mut self, op: &Op, value: u32, events: &mut Vec<Event>) -> Outcome {
        use RemovalCause::{Cleared, Removed, Replaced};
        let outcome = match *op {
            Op::Get(k) => Outcome::Value(self.lookup(k, events)),
            Op::Contains(k) => Outcome::Flag(self.live(k).is_some()),
            Op::Insert(k) => Outcome::Value(self.write(events, |m, ev| {
                let old = m.take(k, Replaced, ev);
                m.put(k, value);
                old
            })),
            Op::Remove(k) => Outcome::Value(self.write(events, |m, ev| m.take(k, Removed, ev))),
            Op::GetOrCreate(k) => Outcome::Value(Some(match self.lookup(k, events) {
                Some(v) => v,
                None => {
                    self.counts.creations += 1;
                    self.write(events, |m, _| m.put(k, value));
                    value
                }
            })),
            Op::InvalidateOdd => Outcome::Count(self.write(events, |m, ev| {
                let odd: Vec<u8> = m
                    .entries
                    .iter()
                    .filter(|(_, e)| e.value % 2 == 1)
                    .map(|(&k, _)| k)
                    .collect();
                odd.iter().filter_map(|&k| m.take(k, Removed, ev)).count()
            })),
            Op::Clear => {
                self.write(events, |m, ev| {
                    let all: Vec<u8> = m.entries.keys().copied().collect();
                    for k in all {
                        m.take(k, Cleared, ev);
                    }
                });
                Outcome::Nothing
            }
            Op::Maintain => {
                self.write(events, |_, _| ());
                Outcome::Nothing
            }
            Op::Keys => Outcome::Keys((0..KEYS).filter(|&k| self.live(k).is_some()).collect()),
            Op::Advance(by) => {
                self.now += by;
                Outcome::Nothing
            }
            Op::ToDeadline(k, offset) => {
                let target = self
                    .entries
                    .get(&k)
                    .and_then(|e| self.deadline(e))
                    .and_then(|d| d.checked_add_signed(i64::from(offset)))
                    .filter(|&t| t >= self.now);
                if let Some(t) = target {
                    self.now = t;
                }
                Outcome::Nothing
            }
        };
        for &(_, _, cause) in events.iter() {
            let i = RemovalCause::ALL.iter().position(|&c| c == cause).unwrap();
            self.counts.removals[i] += 1;
        }
        self.counts.len = self.entries.len();
        self.counts.weighted_size = self.weight();
        outcome
    }
}

/// The cache under test, driven the same way.
struct Real<P> {
    cache: Cache<u8, u32, P>,
    clock: ManualClock,
    removals: Removals<u8, u32>,
}

impl<P: Policy> Real<P> {
    fn new(policy: P, shards: usize, weighted: bool) -> Self {
        let clock = ManualClock::new();
        let removals = Removals::new();
        let mut builder = Cache::builder()
            .policy(policy)
            .shards(shards)
            .clock(clock.clone())
            .eviction_listener(removals.listener());
        if weighted {
            builder = builder.weigher(|_, value| value % 5);
        }
        let cache = builder.build().expect("a valid cache");
        Real {
            cache,
            clock,
            removals,
        }
    }

    /// `model_now` is where the model's clock stands after the op.
    fn apply(&self, op: &Op, value: u32, model_now: u64) -> Outcome {
        let c = &self.cache;
        match *op {
            Op::Get(k) => Outcome::Value(c.get(&k)),
            Op::Contains(k) => Outcome::Flag(c.contains_key(&k)),
            Op::Insert(k) => Outcome::Value(c.insert(k, value)),
            Op::Remove(k) => Outcome::Value(c.remove(&k)),
            Op::GetOrCreate(k) => Outcome::Value(Some(c.get_or_create(k, || value))),
            Op::InvalidateOdd => Outcome::Count(c.invalidate_if(|_, v| v % 2 == 1)),
            Op::Clear => {
                c.clear();
                Outcome::Nothing
            }
            Op::Maintain => {
                c.run_maintenance();
                Outcome::Nothing
            }
            Op::Keys => {
                let mut keys = c.keys();
                keys.sort();
                Outcome::Keys(keys)
            }
            Op::Advance(by) => {
                self.clock.advance(Duration::from_nanos(by));
                Outcome::Nothing
            }
            Op::ToDeadline(..) => {
                self.clock.set(Timestamp::from_nanos(model_now));
                Outcome::Nothing
            }
        }
    }

    fn counts(&self) -> Counts {
        let s = self.cache.stats();
        Counts {
            hits: s.hits,
            misses: s.misses,
            creations: s.creations,
            removals: RemovalCause::ALL.map(|c| s.removals.get(c)),
            len: s.len,
            weighted_size: s.weighted_size,
        }
    }
}

fn check<P: Policy>(policy: P, rules: Rules, case: &Case) -> Result<(), TestCaseError> {
    let real = Real::new(policy, case.shards, rules.weighted);
    let mut model = Model::new(rules);
    for (step, op) in case.ops.iter().enumerate() {
        // Unique values, so a stale or wrong value cannot pass unnoticed.
        let value = step as u32;
        let mut expected_events = Vec::new();
        let expected = model.apply(op, value, &mut expected_events);
        let got = real.apply(op, value, model.now);
        expected_events.sort();
        prop_assert_eq!(&got, &expected, "step {}: {:?} returned", step, op);
        prop_assert_eq!(
            real.removals.take_sorted(),
            expected_events,
            "step {}: {:?} removed",
            step,
            op
        );
        prop_assert_eq!(
            &real.counts(),
            &model.counts,
            "step {}: stats after {:?}",
            step,
            op
        );
        prop_assert_eq!(real.clock.now(), Timestamp::from_nanos(model.now));
        if let Some(cap) = rules.capacity {
            prop_assert!(real.cache.stats().weighted_size <= cap as u64);
        }
    }
    Ok(())
}

/// A run: the operations, and the table shards to spread them over (the
/// observable results must not depend on it).
#[derive(Debug)]
struct Case {
    shards: usize,
    ops: Vec<Op>,
}

fn case() -> impl Strategy<Value = Case> {
    let shards = prop_oneof![Just(1), Just(2), Just(8)];
    (shards, proptest::collection::vec(op(), 1..80)).prop_map(|(shards, ops)| Case { shards, ops })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

const fn rules(ttl: Option<u64>, max_lifetime: Option<u64>, capacity: Option<usize>) -> Rules {
    Rules {
        ttl,
        max_lifetime,
        capacity,
        weighted: false,
    }
}

const fn weighted(rules: Rules) -> Rules {
    Rules {
        weighted: true,
        ..rules
    }
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sliding_ttl_matches_the_model(case in case()) {
        check(SlidingTtl::new(ns(TTL)).unwrap(), rules(Some(TTL), None, None), &case)?;
    }

    #[test]
    fn sliding_ttl_with_max_lifetime_matches_the_model(case in case()) {
        let policy = SlidingTtl::new(ns(TTL)).unwrap().with_max_lifetime(ns(LIFETIME)).unwrap();
        check(policy, rules(Some(TTL), Some(LIFETIME), None), &case)?;
    }

    #[test]
    fn lru_bound_matches_the_model(capacity in 1usize..=4, case in case()) {
        check(LruBound::new(capacity).unwrap(), rules(None, None, Some(capacity)), &case)?;
    }

    #[test]
    fn hybrid_matches_the_model(capacity in 1usize..=4, case in case()) {
        check(Hybrid::new(ns(TTL), capacity).unwrap(), rules(Some(TTL), None, Some(capacity)), &case)?;
    }

    #[test]
    fn weighted_lru_bound_matches_the_model(capacity in 1usize..=8, case in case()) {
        check(LruBound::new(capacity).unwrap(), weighted(rules(None, None, Some(capacity))), &case)?;
    }

    #[test]
    fn weighted_hybrid_with_max_lifetime_matches_the_model(capacity in 1usize..=8, case in case()) {
        let policy = Hybrid::new(ns(TTL), capacity).unwrap().with_max_lifetime(ns(LIFETIME)).unwrap();
        check(policy, weighted(rules(Some(TTL), Some(LIFETIME), Some(capacity))), &case)?;
    }

    #[test]
    fn hybrid_with_max_lifetime_matches_the_model(capacity in 1usize..=4, case in case()) {
        let policy = Hybrid::new(ns(TTL), capacity).unwrap().with_max_lifetime(ns(LIFETIME)).unwrap();
        check(policy, rules(Some(TTL), Some(LIFETIME), Some(capacity)), &case)?;
    }
}
