//! Issue 17, acceptance item 2: user code that panics never loses or doubles a
//! value. Random sequences of inserts, reads, get-or-creates, removes, clock
//! advances and maintenance run on a manual clock, while any user code the
//! cache calls (weigher, the three `expire_after` hooks, creator, listener)
//! panics when the step says so. After every step:
//!
//! - every value ever stored is either live in the cache or was passed to the
//!   listener exactly once (a panicking listener call counts as delivered);
//! - a write whose hook panicked leaves the entry it was writing as it was, or
//!   removes it with one listener call, and still delivers every removal it
//!   collected before the panic; the panic reaches the caller;
//! - what each call returned, `contains_key`, `keys`, `len` and every stat
//!   agree with a reference model, and no expired value is ever returned.
//!
//! The model reclaims every expired entry at the start of each write, as
//! DESIGN.md's write rule says. For LRU and hybrid it also knows the eviction
//! order (exact LRU, heavier-than-capacity entries first); for TinyLfu, S3-FIFO
//! and SIEVE, whose victims it cannot predict, it checks that each eviction was
//! needed (over the bound when made), that an entry heavier than the capacity
//! goes first, and that every call returns within the bound.
//!
//! Where the documentation leaves a panic's outcome open, the model accepts
//! each allowed outcome and learns which one happened from what it can observe
//! without side effects (listener calls, `contains_key`, later returns):
//! - a panicking read hook may or may not count as an access (last access
//!   time, LRU position, a hit or a miss in the stats);
//! - a panicking update hook may keep the old entry exactly as it was
//!   (value, deadlines, LRU position), or remove it as `Replaced` or `Removed`;
//! - a get-or-create whose value was not stored (weigher or create hook
//!   panicked) may or may not count as a creation failure; it is never a
//!   creation (`CacheStats::creations` counts values "made and stored").

mod support;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::BuildHasherDefault;
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use support::{Deliberate, panic_message};
use tenure::policy::{AnyPolicy, Timestamp};
use tenure::{Cache, Clock, EvictionPolicy, Expiry, ManualClock, RemovalCause};

/// Keys `0..KEYS`: few, so that steps meet each other's entries.
const KEYS: u8 = 4;
/// Nanosecond-sized rules, so that advances land on deadlines often.
const TIME_TO_IDLE: u64 = 10;
const TIME_TO_LIVE: u64 = 25;

/// A fixed hasher: the same case takes the same paths (shards, TinyLfu's
/// sketch) in every run, so failures replay and shrink.
type Fixed = BuildHasherDefault<DefaultHasher>;
type Tested = Cache<u8, u64, AnyPolicy, Fixed>;

// ---- the user code under test: hooks that record each call and may panic ---

/// User code the cache calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hook {
    Weigher,
    Create,
    Read,
    Update,
    Creator,
    Listener(RemovalCause),
}

/// One call of user code, in the order the cache made them.
#[derive(Clone, Copy, Debug)]
struct Call {
    hook: Hook,
    key: u8,
    value: u64,
    panicked: bool,
}

/// Which user code panics during one step.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Panics {
    weigher: bool,
    create: bool,
    read: bool,
    update: bool,
    creator: bool,
    /// Bit `i`: the listener's `i`-th call in the step panics (the 8th and
    /// later calls follow bit 7).
    listener: u8,
}

impl Panics {
    fn fires(&self, hook: Hook, listener_calls: u32) -> bool {
        match hook {
            Hook::Weigher => self.weigher,
            Hook::Create => self.create,
            Hook::Read => self.read,
            Hook::Update => self.update,
            Hook::Creator => self.creator,
            Hook::Listener(_) => self.listener & (1 << listener_calls.min(7)) != 0,
        }
    }
}

impl fmt::Debug for Panics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named = [
            ("weigher", self.weigher),
            ("create", self.create),
            ("read", self.read),
            ("update", self.update),
            ("creator", self.creator),
        ];
        let mut list = f.debug_set();
        for (name, on) in named {
            if on {
                list.entry(&format_args!("{name}"));
            }
        }
        if self.listener != 0 {
            list.entry(&format_args!("listener {:#b}", self.listener));
        }
        list.finish()
    }
}

/// What the hooks share with the test: this step's panics and the calls made.
#[derive(Default)]
struct Journal {
    panics: Panics,
    calls: Vec<Call>,
    listener_calls: u32,
}

/// Every piece of user code given to the cache, recording into one journal.
#[derive(Clone)]
struct Hooks {
    journal: Arc<Mutex<Journal>>,
    /// The weight of a `Shape::HEAVY` value: more than the whole capacity.
    heavy: u64,
}

impl Hooks {
    /// Records a call, then panics if this step says `hook` panics.
    fn call(&self, hook: Hook, key: u8, value: u64) {
        let panicked = {
            let mut journal = self.journal.lock().unwrap();
            let panicked = journal.panics.fires(hook, journal.listener_calls);
            if let Hook::Listener(_) = hook {
                journal.listener_calls += 1;
            }
            journal.calls.push(Call {
                hook,
                key,
                value,
                panicked,
            });
            panicked
        };
        if panicked {
            panic_any(Deliberate);
        }
    }

    /// Starts a step in which `panics` fire.
    fn begin(&self, panics: Panics) {
        *self.journal.lock().unwrap() = Journal {
            panics,
            ..Journal::default()
        };
    }

    /// The calls made since [`begin`](Hooks::begin).
    fn calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.journal.lock().unwrap().calls)
    }
}

impl Expiry<u8, u64> for Hooks {
    fn expire_after_create(&self, key: &u8, value: &u64) -> Option<Duration> {
        self.call(Hook::Create, *key, *value);
        Shape::of(*value).on_create().map(Duration::from_nanos)
    }

    fn expire_after_read(
        &self,
        key: &u8,
        value: &u64,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        self.call(Hook::Read, *key, *value);
        Shape::of(*value)
            .on_read(remaining.map(nanos))
            .map(Duration::from_nanos)
    }

    fn expire_after_update(
        &self,
        key: &u8,
        value: &u64,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        self.call(Hook::Update, *key, *value);
        Shape::of(*value)
            .on_update(remaining.map(nanos))
            .map(Duration::from_nanos)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).expect("short durations")
}

/// What a value makes its hooks answer: its weight and its own lifetimes.
/// Kept in the value's low bits, so shrinking a run keeps each value's shape.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// An index into [`Shape::WEIGHTS`].
    weight: u8,
    /// An index into [`Shape::CREATE`].
    create: u8,
    /// An index into [`Shape::READ`].
    read: u8,
    /// An index into [`Shape::UPDATE`].
    update: u8,
}

impl Shape {
    /// `HEAVY` stands for more than the whole capacity.
    const WEIGHTS: [u64; 5] = [1, 0, 2, 3, Shape::HEAVY];
    const HEAVY: u64 = u64::MAX;
    /// The create hook's lifetime (ns).
    const CREATE: [Option<u64>; 5] = [None, Some(3), Some(7), Some(15), Some(40)];
    /// The read hook's answer; `None` here keeps what remained.
    const READ: [Option<Option<u64>>; 4] = [None, Some(Some(4)), Some(None), Some(Some(20))];
    /// The update hook's answer; `None` here keeps what remained.
    const UPDATE: [Option<Option<u64>>; 4] = [None, Some(Some(6)), Some(None), Some(Some(30))];
    const BITS: u32 = 16;

    fn of(value: u64) -> Shape {
        Shape {
            weight: (value & 7) as u8,
            create: ((value >> 3) & 7) as u8,
            read: ((value >> 6) & 3) as u8,
            update: ((value >> 8) & 3) as u8,
        }
    }

    /// The value stored by step `step` with this shape.
    fn value(self, step: usize) -> u64 {
        let bits = u64::from(self.weight)
            | u64::from(self.create) << 3
            | u64::from(self.read) << 6
            | u64::from(self.update) << 8;
        (step as u64) << Shape::BITS | bits
    }

    fn weight(self, heavy: u64) -> u64 {
        match Shape::WEIGHTS[usize::from(self.weight)] {
            Shape::HEAVY => heavy,
            w => w,
        }
    }

    fn on_create(self) -> Option<u64> {
        Shape::CREATE[usize::from(self.create)]
    }

    fn on_read(self, remaining: Option<u64>) -> Option<u64> {
        Shape::READ[usize::from(self.read)].unwrap_or(remaining)
    }

    fn on_update(self, remaining: Option<u64>) -> Option<u64> {
        Shape::UPDATE[usize::from(self.update)].unwrap_or(remaining)
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answer = |a: Option<Option<u64>>| match a {
            None => "keep".to_string(),
            Some(None) => "none".to_string(),
            Some(Some(ns)) => ns.to_string(),
        };
        let weight = match Shape::WEIGHTS[usize::from(self.weight)] {
            Shape::HEAVY => "heavy".to_string(),
            w => w.to_string(),
        };
        let create =
            Shape::CREATE[usize::from(self.create)].map_or("none".into(), |n| n.to_string());
        write!(
            f,
            "Shape(w={weight} create={create} read={} update={})",
            answer(Shape::READ[usize::from(self.read)]),
            answer(Shape::UPDATE[usize::from(self.update)]),
        )
    }
}

/// A value as messages name it: the step that stored it.
fn v(value: u64) -> String {
    format!("v{}", value >> Shape::BITS)
}

// ---- the generated runs ----------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    SlidingTtl,
    Lru,
    Hybrid,
    TinyLfu,
    S3Fifo,
    Sieve,
}

impl Kind {
    /// Whether the model knows the eviction order exactly.
    fn exact_lru(self) -> bool {
        matches!(self, Kind::Lru | Kind::Hybrid)
    }

    fn eviction_policy(self) -> Option<EvictionPolicy> {
        match self {
            Kind::SlidingTtl => None,
            Kind::Lru | Kind::Hybrid => Some(EvictionPolicy::lru()),
            Kind::TinyLfu => Some(EvictionPolicy::tiny_lfu()),
            Kind::S3Fifo => Some(EvictionPolicy::s3_fifo()),
            Kind::Sieve => Some(EvictionPolicy::sieve()),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, Shape),
    Get(u8),
    GetOrCreate(u8, Shape),
    Remove(u8),
    Maintain,
    /// Moves the clock forward this many nanoseconds.
    Advance(u64),
    /// Moves the clock to the earliest deadline `key`'s entry may have, plus
    /// -1, 0 or +1 ns, if the model holds the key and that is not in the past.
    ToDeadline(u8, i8),
}

#[derive(Clone, Debug)]
struct Step {
    op: Op,
    panics: Panics,
}

#[derive(Clone, Debug)]
struct Case {
    kind: Kind,
    weighted: bool,
    shards: usize,
    capacity: Option<u64>,
    time_to_idle: Option<u64>,
    time_to_live: Option<u64>,
    steps: Vec<Step>,
}

impl Case {
    /// What a `Shape::HEAVY` value weighs: more than the whole capacity.
    fn heavy(&self) -> u64 {
        self.capacity.map_or(9, |c| c + 1)
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    (0..5u8, 0..5u8, 0..4u8, 0..4u8).prop_map(|(weight, create, read, update)| Shape {
        weight,
        create,
        read,
        update,
    })
}

fn op() -> impl Strategy<Value = Op> {
    let key = || 0..KEYS;
    prop_oneof![
        5 => (key(), shape()).prop_map(|(k, s)| Op::Insert(k, s)),
        4 => key().prop_map(Op::Get),
        3 => (key(), shape()).prop_map(|(k, s)| Op::GetOrCreate(k, s)),
        2 => key().prop_map(Op::Remove),
        1 => Just(Op::Maintain),
        3 => (0..=2 * TIME_TO_IDLE).prop_map(Op::Advance),
        2 => (key(), -1i8..=1).prop_map(|(k, off)| Op::ToDeadline(k, off)),
    ]
}

fn panics() -> impl Strategy<Value = Panics> {
    let one = (0..6u8).prop_map(|hook| Panics {
        weigher: hook == 0,
        create: hook == 1,
        read: hook == 2,
        update: hook == 3,
        creator: hook == 4,
        listener: u8::from(hook == 5),
    });
    let any = (any::<[bool; 5]>(), any::<u8>()).prop_map(|(h, listener)| Panics {
        weigher: h[0],
        create: h[1],
        read: h[2],
        update: h[3],
        creator: h[4],
        listener,
    });
    prop_oneof![6 => Just(Panics::default()), 4 => one, 1 => any]
}

fn case(kind: Kind, weighted: bool) -> impl Strategy<Value = Case> {
    let shards = prop_oneof![Just(1usize), Just(2), Just(8)];
    // Weighted, an entry weighs up to 3: leave room for a few.
    let capacity = if weighted { 2..=8u64 } else { 1..=4u64 };
    let step = (op(), panics()).prop_map(|(op, panics)| Step { op, panics });
    (
        shards,
        capacity,
        any::<(bool, bool)>(),
        proptest::collection::vec(step, 1..60),
    )
        .prop_map(move |(shards, capacity, (idle, live), steps)| {
            let (idle, live) = match kind {
                // These need a time rule; at least one of the two.
                Kind::SlidingTtl | Kind::Hybrid => (idle || !live, live),
                Kind::Lru => (false, false),
                Kind::TinyLfu | Kind::S3Fifo | Kind::Sieve => (idle, live),
            };
            Case {
                kind,
                weighted,
                shards,
                capacity: (kind != Kind::SlidingTtl).then_some(capacity),
                time_to_idle: idle.then_some(TIME_TO_IDLE),
                time_to_live: live.then_some(TIME_TO_LIVE),
                steps,
            }
        })
}

// ---- the cache under test ----------------------------------------------------

/// How a call ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Returned(Option<u64>),
    /// A panic from the test's own user code reached the caller.
    Panicked,
}

struct Real {
    cache: Tested,
    clock: ManualClock,
    hooks: Hooks,
}

impl Real {
    fn new(case: &Case) -> Real {
        let clock = ManualClock::new();
        let hooks = Hooks {
            journal: Arc::default(),
            heavy: case.heavy(),
        };
        let listener = hooks.clone();
        let mut builder = Cache::builder()
            .hasher(Fixed::default())
            .shards(case.shards)
            .clock(clock.clone())
            .expire_after(hooks.clone())
            .eviction_listener(move |k, v, cause| listener.call(Hook::Listener(cause), k, v));
        if let (Some(capacity), Some(policy)) = (case.capacity, case.kind.eviction_policy()) {
            builder = builder.max_capacity(capacity).eviction_policy(policy);
        }
        if let Some(idle) = case.time_to_idle {
            builder = builder.time_to_idle(Duration::from_nanos(idle));
        }
        if let Some(live) = case.time_to_live {
            builder = builder.time_to_live(Duration::from_nanos(live));
        }
        if case.weighted {
            let weigher = hooks.clone();
            builder = builder.weigher(move |k, v| {
                weigher.call(Hook::Weigher, *k, *v);
                u32::try_from(Shape::of(*v).weight(weigher.heavy)).expect("small weights")
            });
        }
        let cache = builder.build().expect("a valid cache");
        Real {
            cache,
            clock,
            hooks,
        }
    }

    /// Runs a cache call; a panic from anything but the test's own user code
    /// fails the test. (The clock ops are the model's: see [`check`].)
    fn run(&self, op: &Op, value: u64) -> Result<Outcome, String> {
        let c = &self.cache;
        let creator = |key| {
            move || {
                self.hooks.call(Hook::Creator, key, value);
                value
            }
        };
        let ran = catch_unwind(AssertUnwindSafe(|| match *op {
            Op::Insert(k, _) => c.insert(k, value),
            Op::Get(k) => c.get(&k),
            Op::GetOrCreate(k, _) => Some(c.get_or_create(k, creator(k))),
            Op::Remove(k) => c.remove(&k),
            Op::Maintain => {
                c.run_maintenance();
                None
            }
            Op::Advance(_) | Op::ToDeadline(..) => unreachable!("the model moves the clock"),
        }));
        match ran {
            Ok(returned) => Ok(Outcome::Returned(returned)),
            Err(payload) if payload.is::<Deliberate>() => Ok(Outcome::Panicked),
            Err(payload) => Err(format!(
                "the cache panicked by itself: {:?}",
                panic_message(payload.as_ref())
            )),
        }
    }
}

// ---- the reference model -----------------------------------------------------

/// The rules the model applies.
#[derive(Clone, Copy, Debug)]
struct Rules {
    time_to_idle: Option<u64>,
    time_to_live: Option<u64>,
    capacity: Option<u64>,
    weighted: bool,
    heavy: u64,
    exact_lru: bool,
}

#[derive(Clone, Debug)]
struct Entry {
    value: u64,
    weight: u64,
    created: u64,
    /// The entry's own deadline, from its hooks.
    own: Option<u64>,
    /// Every last access time the entry may have: more than one only after
    /// a read whose hook panicked, until an observation tells which.
    access: BTreeSet<u64>,
    /// Every LRU position (a logical touch time) it may have, likewise.
    recency: BTreeSet<u64>,
}

/// What the model knows of an entry's expiry now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Liveness {
    Live,
    Expired,
    /// Depends on which of its possible access times is the real one.
    Unsure,
}

/// A stat the model predicts up to `slack` (outcomes the docs leave open).
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    expected: u64,
    slack: u64,
}

impl Counter {
    fn add(&mut self, n: u64) {
        self.expected += n;
    }

    /// Checks `actual` and takes it as the truth.
    fn check(&mut self, name: &str, actual: u64) -> Result<(), String> {
        let (lo, hi) = (self.expected, self.expected + self.slack);
        *self = Counter {
            expected: actual,
            slack: 0,
        };
        if (lo..=hi).contains(&actual) {
            Ok(())
        } else if lo == hi {
            Err(format!("stats.{name} is {actual}, expected {lo}"))
        } else {
            Err(format!("stats.{name} is {actual}, expected {lo}..={hi}"))
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    hits: Counter,
    misses: Counter,
    creations: Counter,
    creation_failures: Counter,
    listener_panics: Counter,
    removals: [Counter; 5],
}

/// The calls a step made, consumed in order as the model explains them.
struct Calls<'a> {
    all: &'a [Call],
    at: usize,
    /// Whether a call consumed so far panicked.
    panicked: bool,
}

impl<'a> Calls<'a> {
    fn new(all: &'a [Call]) -> Self {
        Calls {
            all,
            at: 0,
            panicked: false,
        }
    }

    fn peek(&self) -> Option<&Call> {
        self.all.get(self.at)
    }

    fn take(&mut self) -> Call {
        let call = self.all[self.at];
        self.at += 1;
        self.panicked |= call.panicked;
        call
    }

    /// Consumes the next call, which must be `hook` for `key` and `value`;
    /// returns whether it panicked.
    fn expect(&mut self, hook: Hook, key: u8, value: u64, why: &str) -> Result<bool, String> {
        match self.peek() {
            Some(c) if c.hook == hook && c.key == key && c.value == value => {
                Ok(self.take().panicked)
            }
            other => Err(format!(
                "expected a call of the {hook:?} hook for {key} = {} ({why}), got {}",
                v(value),
                describe(other)
            )),
        }
    }

    /// Consumes the listener calls that come next: one write's removals.
    fn deliveries(&mut self) -> Vec<Call> {
        let mut got = Vec::new();
        while self
            .peek()
            .is_some_and(|c| matches!(c.hook, Hook::Listener(_)))
        {
            got.push(self.take());
        }
        got
    }
}

fn describe(call: Option<&Call>) -> String {
    match call {
        None => "no further call".to_string(),
        Some(c) => format!(
            "{:?}({} = {}){}",
            c.hook,
            c.key,
            v(c.value),
            if c.panicked { ", panicking" } else { "" }
        ),
    }
}

/// What a write does after reclaiming expired entries.
#[derive(Clone, Copy, Debug)]
enum Change {
    Nothing,
    Insert { key: u8, value: u64 },
    Remove { key: u8 },
    Clear,
}

/// What a write did.
#[derive(Debug, Default)]
struct Written {
    /// The value an insert replaced or a remove removed.
    returned: Option<u64>,
    /// The per-entry hook of an insert panicked: nothing was stored.
    hook_panicked: bool,
}

/// A removal the listener heard and the model has not yet explained.
type Heard = Vec<(u8, u64, RemovalCause)>;

struct Model {
    rules: Rules,
    now: u64,
    /// The last logical touch time handed out (LRU order).
    touches: u64,
    entries: BTreeMap<u8, Entry>,
    /// Every value ever stored, and the cause it was reported with, if it was.
    ledger: BTreeMap<u64, Option<RemovalCause>>,
    counts: Counters,
}

impl Model {
    fn new(case: &Case) -> Model {
        Model {
            rules: Rules {
                time_to_idle: case.time_to_idle,
                time_to_live: case.time_to_live,
                capacity: case.capacity,
                weighted: case.weighted,
                heavy: case.heavy(),
                exact_lru: case.kind.exact_lru(),
            },
            now: 0,
            touches: 0,
            entries: BTreeMap::new(),
            ledger: BTreeMap::new(),
            counts: Counters::default(),
        }
    }

    fn weight_of(&self, value: u64) -> u64 {
        match self.rules.weighted {
            true => Shape::of(value).weight(self.rules.heavy),
            false => 1,
        }
    }

    fn total_weight(&self) -> u64 {
        self.entries.values().map(|e| e.weight).sum()
    }

    fn touch(&mut self) -> u64 {
        self.touches += 1;
        self.touches
    }

    /// The entry's deadline if its last access was `access`.
    fn deadline(&self, e: &Entry, access: u64) -> Option<u64> {
        let idle = self.rules.time_to_idle.map(|t| access + t);
        let live = self.rules.time_to_live.map(|t| e.created + t);
        [idle, live, e.own].into_iter().flatten().min()
    }

    /// The earliest deadline the entry may have.
    fn earliest_deadline(&self, e: &Entry) -> Option<u64> {
        e.access.iter().filter_map(|&a| self.deadline(e, a)).min()
    }

    fn liveness(&self, e: &Entry) -> Liveness {
        let expired = |a: &u64| self.deadline(e, *a).is_some_and(|d| self.now >= d);
        match (e.access.iter().all(expired), e.access.iter().any(expired)) {
            (true, _) => Liveness::Expired,
            (false, false) => Liveness::Live,
            (false, true) => Liveness::Unsure,
        }
    }

    /// Learns whether `key`'s entry has expired by now.
    fn settle(&mut self, key: u8, expired: bool) {
        let e = &self.entries[&key];
        let keep: BTreeSet<u64> = e
            .access
            .iter()
            .copied()
            .filter(|&a| self.deadline(e, a).is_some_and(|d| self.now >= d) == expired)
            .collect();
        assert!(!keep.is_empty(), "settled only when unsure");
        self.entries.get_mut(&key).expect("held").access = keep;
    }

    fn describe(&self, key: u8) -> String {
        match self.entries.get(&key) {
            None => format!("key {key} is absent"),
            Some(e) => format!(
                "key {key} = {} (weight {}, created {}, last access {:?}, own deadline {:?}, \
                 earliest deadline {:?}, now {})",
                v(e.value),
                e.weight,
                e.created,
                e.access,
                e.own,
                self.earliest_deadline(e),
                self.now
            ),
        }
    }

    fn stored(&mut self, key: u8, value: u64, own: Option<u64>) {
        let touch = self.touch();
        let entry = Entry {
            value,
            weight: self.weight_of(value),
            created: self.now,
            own,
            access: BTreeSet::from([self.now]),
            recency: BTreeSet::from([touch]),
        };
        assert!(
            self.entries.insert(key, entry).is_none(),
            "stored over a held key"
        );
        assert!(
            self.ledger.insert(value, None).is_none(),
            "values are unique"
        );
    }

    /// Takes `key`'s entry out as reported with `cause` (found in `heard`).
    fn reported(&mut self, key: u8, cause: RemovalCause) {
        let e = self
            .entries
            .remove(&key)
            .expect("reported entries are held");
        let fate = self
            .ledger
            .get_mut(&e.value)
            .expect("held values are in the ledger");
        assert!(fate.is_none(), "held values were not reported");
        *fate = Some(cause);
    }

    /// Explains one step's calls; returns the outcome the caller must see.
    fn apply(&mut self, op: &Op, value: u64, calls: &[Call]) -> Result<Outcome, String> {
        let mut c = Calls::new(calls);
        let returned = self.apply_op(op, value, &mut c)?;
        if let Some(extra) = c.peek() {
            return Err(format!(
                "an unexpected call: {}; the step made {}",
                describe(Some(extra)),
                list(calls)
            ));
        }
        Ok(match c.panicked {
            true => Outcome::Panicked,
            false => Outcome::Returned(returned),
        })
    }

    fn apply_op(&mut self, op: &Op, value: u64, c: &mut Calls<'_>) -> Result<Option<u64>, String> {
        Ok(match *op {
            Op::Insert(key, _) => {
                if self.rules.weighted && c.expect(Hook::Weigher, key, value, "insert")? {
                    return Ok(None);
                }
                self.write(c, Change::Insert { key, value })?.returned
            }
            Op::Remove(key) => self.write(c, Change::Remove { key })?.returned,
            Op::Maintain => {
                self.write(c, Change::Nothing)?;
                None
            }
            Op::Get(key) => match self.lookup(c, key)? {
                Found::Hit(v) => {
                    self.counts.hits.add(1);
                    Some(v)
                }
                Found::ReadPanicked => None,
                Found::Expired => {
                    self.counts.misses.add(1);
                    self.write(c, Change::Nothing)?;
                    None
                }
                Found::Absent => {
                    self.counts.misses.add(1);
                    None
                }
            },
            Op::GetOrCreate(key, _) => self.get_or_create(c, key, value)?,
            Op::Advance(by) => {
                self.now += by;
                None
            }
            Op::ToDeadline(key, offset) => {
                let target = self
                    .entries
                    .get(&key)
                    .and_then(|e| self.earliest_deadline(e))
                    .and_then(|d| d.checked_add_signed(i64::from(offset)))
                    .filter(|&t| t >= self.now);
                if let Some(t) = target {
                    self.now = t;
                }
                None
            }
        })
    }

    /// `get_or_create`: a lookup, then on a miss the creator, the weigher
    /// and a write that stores the value.
    fn get_or_create(
        &mut self,
        c: &mut Calls<'_>,
        key: u8,
        value: u64,
    ) -> Result<Option<u64>, String> {
        match self.lookup(c, key)? {
            Found::Hit(v) => {
                self.counts.hits.add(1);
                return Ok(Some(v));
            }
            Found::ReadPanicked => return Ok(None),
            Found::Expired => {
                self.write(c, Change::Nothing)?;
                if c.panicked {
                    // The listener's panic ended the call: a miss, or not.
                    self.counts.misses.slack += 1;
                    return Ok(None);
                }
            }
            Found::Absent => {}
        }
        self.counts.misses.add(1);
        if c.expect(Hook::Creator, key, value, "get_or_create missed")? {
            self.counts.creation_failures.add(1);
            return Ok(None);
        }
        let why = "get_or_create made a value";
        if self.rules.weighted && c.expect(Hook::Weigher, key, value, why)? {
            self.counts.creation_failures.slack += 1;
            return Ok(None);
        }
        if self.entries.contains_key(&key) {
            return Err(format!("get_or_create missed but {}", self.describe(key)));
        }
        if self.write(c, Change::Insert { key, value })?.hook_panicked {
            // Made but not stored: not a creation; a failure, or not.
            self.counts.creation_failures.slack += 1;
            return Ok(None);
        }
        self.counts.creations.add(1);
        Ok(Some(value))
    }

    /// A lookup of `key` (`get`, or get-or-create's first look).
    fn lookup(&mut self, c: &mut Calls<'_>, key: u8) -> Result<Found, String> {
        let Some(e) = self.entries.get(&key) else {
            return Ok(Found::Absent);
        };
        let liveness = self.liveness(e);
        let live = match liveness {
            Liveness::Live => true,
            Liveness::Expired => false,
            // A hit runs the read hook; an expired entry does not.
            Liveness::Unsure => c
                .peek()
                .is_some_and(|call| call.hook == Hook::Read && call.key == key),
        };
        if liveness == Liveness::Unsure {
            self.settle(key, !live);
        }
        if !live {
            return Ok(Found::Expired);
        }
        let e = &self.entries[&key];
        let (value, own) = (e.value, e.own);
        let why = format!("a hit on {}", self.describe(key));
        let panicked = c.expect(Hook::Read, key, value, &why)?;
        let (now, touch) = (self.now, self.touch());
        let e = self.entries.get_mut(&key).expect("held");
        if panicked {
            // Not said whether a read whose hook panicked is an access, a
            // hit or a miss: allow both.
            e.access.insert(now);
            e.recency.insert(touch);
            self.counts.hits.slack += 1;
            self.counts.misses.slack += 1;
            return Ok(Found::ReadPanicked);
        }
        e.access = BTreeSet::from([now]);
        e.recency = BTreeSet::from([touch]);
        let remaining = own.map(|d| d.saturating_sub(now));
        let wanted = Shape::of(value).on_read(remaining);
        if wanted != remaining {
            e.own = wanted.map(|d| now + d);
        }
        Ok(Found::Hit(value))
    }

    /// A write: reclaims every expired entry, applies `change`, evicts while
    /// over the bound; then the listener hears every removal.
    fn write(&mut self, c: &mut Calls<'_>, change: Change) -> Result<Written, String> {
        // The insert's per-entry hook runs under the write; the listener after it.
        let hook = match change {
            Change::Insert { key, value } => match c.peek() {
                Some(call)
                    if matches!(call.hook, Hook::Create | Hook::Update)
                        && (call.key, call.value) == (key, value) =>
                {
                    Some(c.take())
                }
                other => {
                    return Err(format!(
                        "expected the create or update hook for {key} = {}, got {}",
                        v(value),
                        describe(other)
                    ));
                }
            },
            _ => None,
        };
        let mut heard = self.hear(c.deliveries(), change)?;
        let all_heard = heard.clone();
        self.reclaim(&mut heard, hook.as_ref())?;
        let mut written = Written::default();
        match change {
            Change::Nothing => {}
            Change::Remove { key } => {
                if let Some(old) = self.entries.get(&key).map(|e| e.value) {
                    if !take(&mut heard, key, old, &[RemovalCause::Removed]) {
                        return Err(format!(
                            "remove took {key} = {} but the listener did not hear it as \
                             Removed (heard {all_heard:?})",
                            v(old)
                        ));
                    }
                    self.reported(key, RemovalCause::Removed);
                    written.returned = Some(old);
                }
            }
            Change::Clear => {
                let held: Vec<(u8, u64)> =
                    self.entries.iter().map(|(&k, e)| (k, e.value)).collect();
                for (key, value) in held {
                    if !take(&mut heard, key, value, &[RemovalCause::Cleared]) {
                        return Err(format!(
                            "clear did not report {key} = {} as Cleared (heard {all_heard:?})",
                            v(value)
                        ));
                    }
                    self.reported(key, RemovalCause::Cleared);
                }
            }
            Change::Insert { key, value } => {
                let hook = hook.expect("an insert ran a hook");
                written = self.insert(&mut heard, hook, key, value)?;
            }
        }
        self.evict(&mut heard, &all_heard)?;
        if let Some(cap) = self.rules.capacity {
            let total = self.total_weight();
            if total > cap {
                return Err(format!(
                    "the write left weight {total} held, over the capacity {cap}"
                ));
            }
        }
        Ok(written)
    }

    /// Counts one write's listener calls and checks each value was held
    /// (or is the one being stored) and not reported before.
    fn hear(&mut self, delivered: Vec<Call>, change: Change) -> Result<Heard, String> {
        let mut heard = Heard::new();
        for call in delivered {
            let Hook::Listener(cause) = call.hook else {
                unreachable!("deliveries are listener calls")
            };
            let i = RemovalCause::ALL.iter().position(|&x| x == cause).unwrap();
            self.counts.removals[i].add(1);
            self.counts.listener_panics.add(u64::from(call.panicked));
            let storing = matches!(change, Change::Insert { value, .. } if value == call.value);
            match self.ledger.get(&call.value) {
                None if !storing => {
                    return Err(format!(
                        "the listener heard {} = {} ({cause:?}), a value never stored",
                        call.key,
                        v(call.value)
                    ));
                }
                Some(Some(first)) => {
                    return Err(format!(
                        "the listener heard {} = {} twice: as {first:?}, then as {cause:?}",
                        call.key,
                        v(call.value)
                    ));
                }
                _ => heard.push((call.key, call.value, cause)),
            }
        }
        Ok(heard)
    }

    /// The write's first act: every entry past its deadline leaves as `Expired`.
    fn reclaim(&mut self, heard: &mut Heard, hook: Option<&Call>) -> Result<(), String> {
        let held: Vec<u8> = self.entries.keys().copied().collect();
        for key in held {
            let e = &self.entries[&key];
            let value = e.value;
            let reported = take(heard, key, value, &[RemovalCause::Expired]);
            match self.liveness(e) {
                Liveness::Expired if !reported => {
                    let hook = hook.map_or(String::new(), |h| {
                        format!(" (the write's {:?} hook panicked: {})", h.hook, h.panicked)
                    });
                    return Err(format!(
                        "a write did not reclaim {} = {} as Expired{hook}: {}",
                        key,
                        v(value),
                        self.describe(key)
                    ));
                }
                Liveness::Live if reported => {
                    return Err(format!(
                        "a write reported a live entry as Expired: {}",
                        self.describe(key)
                    ));
                }
                Liveness::Unsure => self.settle(key, reported),
                _ => {}
            }
            if reported {
                self.reported(key, RemovalCause::Expired);
            }
        }
        Ok(())
    }

    /// An insert's change, after reclaiming: the hook decided the new entry's
    /// own deadline, or panicked.
    fn insert(
        &mut self,
        heard: &mut Heard,
        hook: Call,
        key: u8,
        value: u64,
    ) -> Result<Written, String> {
        let old = self.entries.get(&key).map(|e| (e.value, e.own));
        let wanted = if old.is_some() {
            Hook::Update
        } else {
            Hook::Create
        };
        if hook.hook != wanted {
            return Err(format!(
                "storing {key} = {} ran the {:?} hook, but {}",
                v(value),
                hook.hook,
                self.describe(key)
            ));
        }
        if hook.panicked {
            // The entry stays as it was, or leaves with one listener call.
            if let Some((old, _)) = old {
                let causes = [RemovalCause::Replaced, RemovalCause::Removed];
                if let Some(cause) = take_cause(heard, key, old, &causes) {
                    self.reported(key, cause);
                }
            }
            return Ok(Written {
                returned: None,
                hook_panicked: true,
            });
        }
        let now = self.now;
        let own = match old {
            Some((old, own)) => {
                if !take(heard, key, old, &[RemovalCause::Replaced]) {
                    return Err(format!(
                        "insert replaced {key} = {} but the listener did not hear it as Replaced",
                        v(old)
                    ));
                }
                self.reported(key, RemovalCause::Replaced);
                Shape::of(value).on_update(own.map(|d| d.saturating_sub(now)))
            }
            None => Shape::of(value).on_create(),
        };
        self.stored(key, value, own.map(|d| now + d));
        Ok(Written {
            returned: old.map(|(old, _)| old),
            hook_panicked: false,
        })
    }

    /// The write's last act: evictions while over the bound, in the order the
    /// listener heard them. Every other removal was explained before.
    fn evict(&mut self, heard: &mut Heard, all_heard: &Heard) -> Result<(), String> {
        for (key, value, cause) in std::mem::take(heard) {
            if cause != RemovalCause::Capacity {
                return Err(format!(
                    "the listener heard {key} = {} as {cause:?}, which the model cannot \
                     explain: {} (the write's removals: {all_heard:?})",
                    v(value),
                    self.describe(key)
                ));
            }
            let Some(cap) = self.rules.capacity else {
                return Err(format!(
                    "{key} = {} evicted by an unbounded cache",
                    v(value)
                ));
            };
            let total = self.total_weight();
            if total <= cap {
                return Err(format!(
                    "{key} = {} evicted (Capacity) while within the bound: weight {total} <= {cap}",
                    v(value)
                ));
            }
            let Some(victim) = self.entries.get(&key).filter(|e| e.value == value) else {
                return Err(format!(
                    "{key} = {} evicted (Capacity) but not held: {}",
                    v(value),
                    self.describe(key)
                ));
            };
            if let Some((&heavy, _)) = self.entries.iter().find(|(_, e)| e.weight > cap) {
                if heavy != key {
                    return Err(format!(
                        "{key} = {} evicted while {} weighs more than the capacity {cap} \
                         (it must go first, alone)",
                        v(value),
                        self.describe(heavy)
                    ));
                }
            } else if self.rules.exact_lru {
                let newest = victim.recency.first().copied().unwrap_or(0);
                let older = self
                    .entries
                    .iter()
                    .find(|&(&k, e)| k != key && e.recency.last().is_some_and(|&r| r < newest));
                if let Some((&older, _)) = older {
                    return Err(format!(
                        "LRU evicted {key} = {} but {older} was used less recently \
                         (touches {:?} against {:?})",
                        v(value),
                        self.entries[&older].recency,
                        victim.recency
                    ));
                }
            }
            self.reported(key, RemovalCause::Capacity);
        }
        Ok(())
    }

    /// Compares what can be seen without side effects with the model, and
    /// learns from it which of the allowed outcomes happened.
    fn observe(&mut self, real: &Real) -> Result<(), String> {
        let cache = &real.cache;
        let mut live = Vec::new();
        for key in 0..KEYS {
            let contained = cache.contains_key(&key);
            if contained {
                live.push(key);
            }
            let Some(e) = self.entries.get(&key) else {
                if contained {
                    return Err(format!(
                        "contains_key({key}) is true, but the model holds nothing there \
                         (a value whose storing call panicked was kept?)"
                    ));
                }
                continue;
            };
            match (self.liveness(e), contained) {
                (Liveness::Live, false) => {
                    return Err(format!(
                        "contains_key({key}) is false, but the value is live and was never \
                         reported to the listener: {}",
                        self.describe(key)
                    ));
                }
                (Liveness::Expired, true) => {
                    return Err(format!(
                        "contains_key({key}) is true for an expired entry: {}",
                        self.describe(key)
                    ));
                }
                (Liveness::Unsure, contained) => self.settle(key, !contained),
                _ => {}
            }
        }
        let mut keys = cache.keys();
        keys.sort_unstable();
        if keys != live {
            return Err(format!("keys() is {keys:?}, contains_key says {live:?}"));
        }
        let held = self.entries.len();
        if cache.len() != held {
            return Err(format!(
                "len() is {}, the model holds {held} entries (live or expired): {:?}",
                cache.len(),
                self.entries.keys().collect::<Vec<_>>()
            ));
        }
        let stats = cache.stats();
        let weight = self.total_weight();
        if (stats.len, stats.weighted_size) != (held, weight) {
            return Err(format!(
                "stats (len {}, weighted_size {}), expected ({held}, {weight})",
                stats.len, stats.weighted_size
            ));
        }
        let counts = &mut self.counts;
        counts.hits.check("hits", stats.hits)?;
        counts.misses.check("misses", stats.misses)?;
        counts.creations.check("creations", stats.creations)?;
        counts
            .creation_failures
            .check("creation_failures", stats.creation_failures)?;
        counts
            .listener_panics
            .check("listener_panics", stats.listener_panics)?;
        for (i, cause) in RemovalCause::ALL.iter().enumerate() {
            let name = format!("removals.{cause:?} (listener calls heard)");
            counts.removals[i].check(&name, stats.removals.get(*cause))?;
        }
        // Every value ever stored is live or was reported exactly once.
        for (&value, fate) in &self.ledger {
            let held = self.entries.values().any(|e| e.value == value);
            if held == fate.is_some() {
                return Err(format!("{} is held: {held}, reported: {fate:?}", v(value)));
            }
        }
        Ok(())
    }
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Hit(u64),
    ReadPanicked,
    Expired,
    Absent,
}

/// Removes `(key, value)` with one of `causes` from `heard`; whether it was there.
fn take(heard: &mut Heard, key: u8, value: u64, causes: &[RemovalCause]) -> bool {
    take_cause(heard, key, value, causes).is_some()
}

fn take_cause(
    heard: &mut Heard,
    key: u8,
    value: u64,
    causes: &[RemovalCause],
) -> Option<RemovalCause> {
    let i = heard
        .iter()
        .position(|&(k, v, c)| (k, v) == (key, value) && causes.contains(&c))?;
    Some(heard.remove(i).2)
}

fn list(calls: &[Call]) -> String {
    let all: Vec<String> = calls.iter().map(|c| describe(Some(c))).collect();
    format!("[{}]", all.join(", "))
}

// ---- the run -------------------------------------------------------------------

/// Runs `case` on a thread of its own: a flight left stuck by a panic would
/// make a later `get_or_create` wait forever, which must fail, not hang.
fn check(case: &Case) -> Result<(), TestCaseError> {
    support::quiet_deliberate_panics(&[]);
    let case = case.clone();
    support::within_patience("a run of cache calls", move || check_on_this_thread(&case))
}

fn check_on_this_thread(case: &Case) -> Result<(), TestCaseError> {
    let real = Real::new(case);
    let mut model = Model::new(case);
    let fail = |step: usize, what: &dyn fmt::Debug, why: String| {
        TestCaseError::fail(format!("step {step} ({what:?}): {why}"))
    };
    for (i, step) in case.steps.iter().enumerate() {
        let shape = match step.op {
            Op::Insert(_, s) | Op::GetOrCreate(_, s) => s,
            _ => Shape::of(0),
        };
        let value = shape.value(i + 1);
        if let Op::Advance(_) | Op::ToDeadline(..) = step.op {
            // The model knows where a deadline is; the cache's clock follows it.
            model
                .apply(&step.op, value, &[])
                .map_err(|why| fail(i + 1, step, why))?;
            real.clock.set(Timestamp::from_nanos(model.now));
        } else {
            real.hooks.begin(step.panics);
            let got = real
                .run(&step.op, value)
                .map_err(|why| fail(i + 1, step, why))?;
            let calls = real.hooks.calls();
            let expected = model
                .apply(&step.op, value, &calls)
                .map_err(|why| fail(i + 1, step, why))?;
            if got != expected {
                let why = format!(
                    "returned {got:?}, expected {expected:?}; calls {}",
                    list(&calls)
                );
                return Err(fail(i + 1, step, why));
            }
        }
        prop_assert_eq!(real.clock.now(), Timestamp::from_nanos(model.now));
        model.observe(&real).map_err(|why| fail(i + 1, step, why))?;
    }
    // Last, a clear with no panics: every value still held must now be
    // reported, so each value ever stored was reported exactly once.
    real.hooks.begin(Panics::default());
    real.cache.clear();
    let calls = real.hooks.calls();
    let mut c = Calls::new(&calls);
    let end = case.steps.len() + 1;
    model
        .write(&mut c, Change::Clear)
        .map_err(|why| fail(end, &"final clear", why))?;
    prop_assert!(c.peek().is_none(), "clear made {}", list(&calls));
    model
        .observe(&real)
        .map_err(|why| fail(end, &"final clear", why))?;
    prop_assert_eq!(real.cache.len(), 0);
    let unreported: Vec<String> = model
        .ledger
        .iter()
        .filter(|(_, fate)| fate.is_none())
        .map(|(&value, _)| v(value))
        .collect();
    prop_assert!(unreported.is_empty(), "never reported: {:?}", unreported);
    Ok(())
}

/// The cases each property runs: `PROPTEST_CASES` if set, else 512 (about a
/// second for all twelve in a debug build).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        // Next to this file, as `reference_model.proptest-regressions` is.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ---- the failures first found, by name -------------------------------------

/// A case of `kind` with capacity 2 (if bounded), one shard, unweighted.
fn named(kind: Kind, time_to_idle: Option<u64>, steps: &[(Op, Panics)]) -> Case {
    Case {
        kind,
        weighted: false,
        shards: 1,
        capacity: (kind != Kind::SlidingTtl).then_some(2),
        time_to_idle,
        time_to_live: None,
        steps: steps
            .iter()
            .map(|(op, panics)| Step {
                op: op.clone(),
                panics: *panics,
            })
            .collect(),
    }
}

/// Weighs 1, has no own deadline, and its hooks keep what remains.
const PLAIN: Shape = Shape {
    weight: 0,
    create: 0,
    read: 0,
    update: 0,
};
const CALM: Panics = Panics {
    weigher: false,
    create: false,
    read: false,
    update: false,
    creator: false,
    listener: 0,
};

fn run_named(case: &Case) {
    if let Err(failure) = check(case) {
        panic!("{failure}");
    }
}

/// Replacing a live entry whose update hook panics must keep the old entry
/// or report it; on 0d06853 it vanished unreported and `len()` still
/// counted it.
#[test]
fn a_panicking_update_hook_keeps_or_reports_the_live_entry() {
    let update = Panics {
        update: true,
        ..CALM
    };
    run_named(&named(
        Kind::Lru,
        None,
        &[(Op::Insert(1, PLAIN), CALM), (Op::Insert(1, PLAIN), update)],
    ));
}

/// A write reclaims expired entries before its create hook runs; when the
/// hook panics, the listener must still hear them (on 0d06853 the stats
/// counted them, the listener heard nothing).
#[test]
fn a_panicking_create_hook_still_delivers_its_writes_expirations() {
    let create = Panics {
        create: true,
        ..CALM
    };
    run_named(&named(
        Kind::SlidingTtl,
        Some(TIME_TO_IDLE),
        &[
            (Op::Insert(0, PLAIN), CALM),
            (Op::Advance(TIME_TO_IDLE), CALM),
            (Op::Insert(1, PLAIN), create),
        ],
    ));
}

/// A get-or-create whose create hook panics stored nothing, so it is no
/// creation (`CacheStats::creations`: "made by a creator and stored"); on
/// 0d06853 it counted one.
#[test]
fn a_get_or_create_whose_create_hook_panics_counts_no_creation() {
    let create = Panics {
        create: true,
        ..CALM
    };
    run_named(&named(
        Kind::Lru,
        None,
        &[(Op::GetOrCreate(0, PLAIN), create)],
    ));
}

/// No panic here, but found by the properties above: a read hook that
/// answers `None` takes the entry's own deadline away. Without time rules
/// the entry then has no deadline at all, yet on 0d06853 maintenance at
/// its old deadline reclaimed it as `Expired` (while `contains_key` said
/// it was live).
#[test]
fn a_read_hook_that_drops_the_deadline_keeps_the_entry_live() {
    let short_then_none = Shape {
        create: 1, // 3 ns
        read: 2,   // then no deadline
        ..PLAIN
    };
    run_named(&named(
        Kind::Lru,
        None,
        &[
            (Op::Insert(2, short_then_none), CALM),
            (Op::Get(2), CALM),
            (Op::Advance(5), CALM),
            (Op::Maintain, CALM),
        ],
    ));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sliding_ttl_accounts_for_every_value_when_user_code_panics(case in case(Kind::SlidingTtl, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_sliding_ttl_accounts_for_every_value_when_user_code_panics(case in case(Kind::SlidingTtl, true)) {
        check(&case)?;
    }

    #[test]
    fn lru_bound_accounts_for_every_value_when_user_code_panics(case in case(Kind::Lru, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_lru_bound_accounts_for_every_value_when_user_code_panics(case in case(Kind::Lru, true)) {
        check(&case)?;
    }

    #[test]
    fn hybrid_accounts_for_every_value_when_user_code_panics(case in case(Kind::Hybrid, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_hybrid_accounts_for_every_value_when_user_code_panics(case in case(Kind::Hybrid, true)) {
        check(&case)?;
    }

    #[test]
    fn tiny_lfu_accounts_for_every_value_when_user_code_panics(case in case(Kind::TinyLfu, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_tiny_lfu_accounts_for_every_value_when_user_code_panics(case in case(Kind::TinyLfu, true)) {
        check(&case)?;
    }

    #[test]
    fn s3_fifo_accounts_for_every_value_when_user_code_panics(case in case(Kind::S3Fifo, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_s3_fifo_accounts_for_every_value_when_user_code_panics(case in case(Kind::S3Fifo, true)) {
        check(&case)?;
    }

    #[test]
    fn sieve_accounts_for_every_value_when_user_code_panics(case in case(Kind::Sieve, false)) {
        check(&case)?;
    }

    #[test]
    fn weighted_sieve_accounts_for_every_value_when_user_code_panics(case in case(Kind::Sieve, true)) {
        check(&case)?;
    }
}
