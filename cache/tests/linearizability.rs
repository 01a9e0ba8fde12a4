//! Linearizability: every concurrent history of `Cache`'s per-key calls must be
//! explained by some sequential order of those calls on a plain map.
//!
//! Two or three threads each make three to five calls (`get`, `insert`,
//! `remove`, `contains_key`, `len`, and get-or-create with a creator that
//! succeeds, returns an error or panics) on two or three keys of a fresh cache.
//! Every call takes a ticket from one atomic counter just before it starts and
//! another just after it returns, so call A *precedes* call B when A's return
//! ticket is below B's start ticket. Once the threads have joined, the test
//! reads every key and `len()` (calls that follow all others).
//!
//! A history is linearizable if some order of its calls that keeps every
//! precedence, replayed on a plain map, gives back every result the threads
//! saw. The checker searches for one depth first (Wing & Gong): it tries, as
//! the next call, each one that no other remaining call precedes, applies it to
//! the map if its result matches, and backtracks otherwise; a set of (calls
//! already placed, map) pairs that led nowhere keeps the search from exploring
//! the same situation twice. Every value written is unique within a history,
//! so a result names the write it came from.
//!
//! The caches here neither evict (capacity 1,000 for three keys) nor expire
//! (a one-hour idle TTL on a `ManualClock` that never moves), so the plain map
//! is the whole specification:
//! - `get` returns the current value; `insert` and `remove` the previous one;
//!   `contains_key` whether there is one;
//! - get-or-create returns the current value if there is one (its creator may
//!   have run, but its value is then dropped), else stores its creator's value
//!   and returns it;
//! - a creator that returns an error or panics changes nothing: its call
//!   returns the error or the panic, which a map without the key explains.
//!
//! `len()` is left out of the search: its documentation promises the number
//! of entries held, not a place in the order of other calls (it may lag a write
//! another call has already seen). So a `len()` made while threads run is only
//! checked against what it can never exceed (the number of keys), and the one
//! made after they have joined must equal the number of keys that hold a value.
//!
//! The listener is checked on the values alone: each value stored (by an
//! `insert`, or by a get-or-create that returned its own creator's value) that
//! is not held at the end must have been reported once, as `Removed` if a
//! `remove` returned it and as `Replaced` otherwise; nothing else may be.
//!
//! To widen the windows in which calls overlap, nothing sleeps: creators
//! yield a few times, calls sometimes yield before they start, and a quarter
//! of the creators make every clone of a value on their thread slow for the
//! rest of their call (see [`Held`]), so that other threads' calls land
//! between the steps by which the cache stores a created value and hands it
//! out. Two shaped tests steer the threads into the overlaps of two defects
//! found by the random histories (a creation storing its value over an insert
//! made while its creator ran; a removed value handed to a later get-or-create
//! that joined the creation which had stored it), and the checker itself is
//! tested on hand-written histories and on wrappers around `Cache` with
//! deliberate bugs, which it must report.

mod support;

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Duration;

use support::{Deliberate, Removals};
use tenure::{Cache, ManualClock, RemovalCause};

type Key = u32;
type Value = u32;
type Removal = (Key, Value, RemovalCause);

/// At most this many keys in a history (`k0`, `k1`, `k2`).
const MAX_KEYS: usize = 3;
/// Random histories per cache kind in each test run.
const HISTORIES: u64 = 4_000;
/// Histories a shaped test runs before it concludes the defect is absent.
const SHAPED_HISTORIES: u64 = 1_000;
/// The most yields any wait in a history makes before it gives up (a wait
/// that gives up only makes the history less interesting, never wrong).
const PATIENT_YIELDS: u32 = 5_000;
/// Varies the random histories; the threads' interleaving varies anyway.
const SEED: u64 = 0x6c69_6e65_6172;

// ---- calls and results -----------------------------------------------------------

/// One call on the cache. Values are unique within a history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get(Key),
    Insert(Key, Value),
    Remove(Key),
    ContainsKey(Key),
    /// `get_or_create`, whose creator returns the value.
    GetOrCreate(Key, Value),
    /// `try_get_or_create`, whose creator returns `Ok(value)`.
    TryGetOrCreate(Key, Value),
    /// `try_get_or_create`, whose creator returns `Err(Refused)`.
    RefusedCreate(Key),
    /// `get_or_create`, whose creator panics.
    PanickingCreate(Key),
    Len,
}

/// What a call returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// `get`, `insert`, `remove`.
    Value(Option<Value>),
    /// `contains_key`.
    Present(bool),
    /// A get-or-create's value (its own creator's, or one it found).
    Got(Value),
    /// The creator's error.
    Refused,
    /// The creator's panic.
    Panicked,
    Len(usize),
}

/// The error a refusing creator returns.
#[derive(Debug, PartialEq, Eq)]
struct Refused;

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Get(k) => write!(f, "get(k{k})"),
            Op::Insert(k, v) => write!(f, "insert(k{k}, {v})"),
            Op::Remove(k) => write!(f, "remove(k{k})"),
            Op::ContainsKey(k) => write!(f, "contains_key(k{k})"),
            Op::GetOrCreate(k, v) => write!(f, "get_or_create(k{k}, || {v})"),
            Op::TryGetOrCreate(k, v) => write!(f, "try_get_or_create(k{k}, || Ok({v}))"),
            Op::RefusedCreate(k) => write!(f, "try_get_or_create(k{k}, || Err)"),
            Op::PanickingCreate(k) => write!(f, "get_or_create(k{k}, || panic)"),
            Op::Len => write!(f, "len()"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Value(Some(v)) => write!(f, "Some({v})"),
            Outcome::Value(None) => write!(f, "None"),
            Outcome::Present(p) => write!(f, "{p}"),
            Outcome::Got(v) => write!(f, "{v}"),
            Outcome::Refused => write!(f, "Err(Refused)"),
            Outcome::Panicked => write!(f, "panicked"),
            Outcome::Len(n) => write!(f, "{n}"),
        }
    }
}

// ---- the sequential specification ---------------------------------------------------

/// The plain map every history must be explained by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Map([Option<Value>; MAX_KEYS]);

impl Map {
    /// What `op` returns on this map, and the map after it. `len` is not part
    /// of the search (see the file header).
    fn step(mut self, op: Op) -> (Outcome, Map) {
        let slot = |k: Key| k as usize;
        let outcome = match op {
            Op::Get(k) => Outcome::Value(self.0[slot(k)]),
            Op::Insert(k, v) => Outcome::Value(self.0[slot(k)].replace(v)),
            Op::Remove(k) => Outcome::Value(self.0[slot(k)].take()),
            Op::ContainsKey(k) => Outcome::Present(self.0[slot(k)].is_some()),
            Op::GetOrCreate(k, v) | Op::TryGetOrCreate(k, v) => {
                Outcome::Got(*self.0[slot(k)].get_or_insert(v))
            }
            Op::RefusedCreate(k) => self.0[slot(k)].map_or(Outcome::Refused, Outcome::Got),
            Op::PanickingCreate(k) => self.0[slot(k)].map_or(Outcome::Panicked, Outcome::Got),
            Op::Len => unreachable!("len() is checked apart from the search"),
        };
        (outcome, self)
    }
}

// ---- histories ----------------------------------------------------------------------

/// Who made a call: a history's thread, or the test after every thread joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Thread(usize),
    AfterJoin,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Thread(t) => write!(f, "t{t}"),
            Caller::AfterJoin => write!(f, "end"),
        }
    }
}

/// One call as it happened: `start` and `end` are tickets from the history's
/// counter, taken just before the call and just after it returned.
#[derive(Clone, Debug)]
struct Event {
    caller: Caller,
    op: Op,
    outcome: Outcome,
    start: u64,
    end: u64,
}

/// What a history's calls returned, with what the listener saw.
struct History {
    /// How it was made, for the report: the cache kind and history number.
    name: String,
    keys: usize,
    events: Vec<Event>,
    /// Everything the listener received, if the subject has one.
    removals: Option<Vec<Removal>>,
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threads = self
            .events
            .iter()
            .filter_map(|e| match e.caller {
                Caller::Thread(t) => Some(t + 1),
                Caller::AfterJoin => None,
            })
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "history {} ({threads} threads, keys k0..k{}), calls by start ticket:",
            self.name,
            self.keys - 1
        )?;
        let mut events: Vec<&Event> = self.events.iter().collect();
        events.sort_by_key(|e| e.start);
        for e in events {
            writeln!(
                f,
                "  [{:>3}, {:>3}]  {:<3}  {:<36} -> {}",
                e.start,
                e.end,
                e.caller.to_string(),
                e.op.to_string(),
                e.outcome
            )?;
        }
        if let Some(removals) = &self.removals {
            writeln!(f, "  listener: {removals:?}")?;
        }
        Ok(())
    }
}

// ---- the checker --------------------------------------------------------------------

/// A sequential order of `events` (indices into it) that keeps every
/// precedence and explains every result on a [`Map`] that starts empty; or,
/// if there is none, the longest prefix of such an order that any branch of
/// the search explained.
fn linearize(events: &[Event]) -> Result<Vec<usize>, Vec<usize>> {
    assert!(events.len() <= 64, "the search tracks calls in a u64");
    let mut search = Search {
        events,
        dead_ends: HashSet::new(),
        order: Vec::with_capacity(events.len()),
        longest: Vec::new(),
    };
    let all = if events.len() == 64 {
        u64::MAX
    } else {
        (1 << events.len()) - 1
    };
    if search.explore(0, all, Map::default()) {
        Ok(search.order)
    } else {
        Err(search.longest)
    }
}

struct Search<'a> {
    events: &'a [Event],
    /// (calls placed, map) pairs from which no order explains the rest.
    dead_ends: HashSet<(u64, Map)>,
    /// The order being built.
    order: Vec<usize>,
    /// The longest order built so far, for the report.
    longest: Vec<usize>,
}

impl Search<'_> {
    fn explore(&mut self, placed: u64, all: u64, map: Map) -> bool {
        if placed == all {
            return true;
        }
        if !self.dead_ends.insert((placed, map)) {
            return false;
        }
        let remaining = || (0..self.events.len()).filter(move |&i| placed & (1 << i) == 0);
        // A remaining call can come next only if no remaining call returned
        // before it started.
        let horizon = remaining()
            .map(|i| self.events[i].end)
            .min()
            .expect("a call remains");
        let candidates: Vec<usize> = remaining()
            .filter(|&i| self.events[i].start < horizon)
            .collect();
        for i in candidates {
            let (outcome, next) = map.step(self.events[i].op);
            if outcome != self.events[i].outcome {
                continue;
            }
            self.order.push(i);
            if self.order.len() > self.longest.len() {
                self.longest.clone_from(&self.order);
            }
            if self.explore(placed | (1 << i), all, next) {
                return true;
            }
            self.order.pop();
        }
        false
    }
}

/// Checks `history`: linearizability of its map calls, then `len()`, then
/// the listener. The error reports the whole history.
fn check(history: &History) -> Result<(), String> {
    let calls: Vec<Event> = history
        .events
        .iter()
        .filter(|e| e.op != Op::Len)
        .cloned()
        .collect();
    let fault = match linearize(&calls) {
        Err(longest) => Some(format!(
            "not linearizable: no sequential order explains more than {} of its {} map calls; \
             one that explains that many: {}",
            longest.len(),
            calls.len(),
            describe_order(&calls, &longest)
        )),
        Ok(_) => check_len(history)
            .err()
            .or_else(|| check_listener(history).err()),
    };
    match fault {
        None => Ok(()),
        Some(fault) => Err(format!("{fault}\n{history}")),
    }
}

fn describe_order(calls: &[Event], order: &[usize]) -> String {
    let steps: Vec<String> = order
        .iter()
        .map(|&i| {
            format!(
                "{} {} -> {}",
                calls[i].caller, calls[i].op, calls[i].outcome
            )
        })
        .collect();
    if steps.is_empty() {
        "none".to_owned()
    } else {
        steps.join("; ")
    }
}

/// The values each key holds once every thread has joined.
fn final_values(history: &History) -> Vec<(Key, Value)> {
    history
        .events
        .iter()
        .filter(|e| e.caller == Caller::AfterJoin)
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Get(k), Outcome::Value(Some(v))) => Some((k, v)),
            _ => None,
        })
        .collect()
}

fn check_len(history: &History) -> Result<(), String> {
    let held = final_values(history).len();
    for e in &history.events {
        let Outcome::Len(len) = e.outcome else {
            continue;
        };
        if e.caller == Caller::AfterJoin && len != held {
            return Err(format!(
                "len() is {len} after every thread joined, but {held} keys hold a value"
            ));
        }
        if len > history.keys {
            return Err(format!(
                "{} len() returned {len}, more entries than the history has keys ({})",
                e.caller, history.keys
            ));
        }
    }
    Ok(())
}

/// The listener must have received each stored value that is no longer held,
/// once, with its true cause, and nothing else (see the file header).
fn check_listener(history: &History) -> Result<(), String> {
    let Some(seen) = &history.removals else {
        return Ok(());
    };
    let held = final_values(history);
    let removed: Vec<Value> = history
        .events
        .iter()
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Remove(_), Outcome::Value(Some(v))) => Some(v),
            _ => None,
        })
        .collect();
    let mut expected: Vec<Removal> = history
        .events
        .iter()
        .filter_map(|e| match (e.op, e.outcome) {
            (Op::Insert(k, v), _) => Some((k, v)),
            (Op::GetOrCreate(k, v) | Op::TryGetOrCreate(k, v), Outcome::Got(got)) if got == v => {
                Some((k, v))
            }
            _ => None,
        })
        .filter(|stored| !held.contains(stored))
        .map(|(k, v)| {
            let cause = if removed.contains(&v) {
                RemovalCause::Removed
            } else {
                RemovalCause::Replaced
            };
            (k, v, cause)
        })
        .collect();
    expected.sort_unstable_by_key(|&(k, v, _)| (k, v));
    let mut seen = seen.clone();
    seen.sort_unstable_by_key(|&(k, v, _)| (k, v));
    if seen == expected {
        Ok(())
    } else {
        Err(format!(
            "the listener saw {seen:?}; the values stored and gone call for {expected:?}"
        ))
    }
}

// ---- running a history ----------------------------------------------------------------

/// What a thread waits for before a call.
#[derive(Clone, Copy, Debug)]
enum Before {
    /// Nothing but this many yields.
    Yields(u32),
    /// Until some creator of the history has started.
    CreatorStarted,
    /// Until `contains_key` sees the key. Those polls are not recorded: a
    /// history stripped of read-only calls is linearizable if the whole one
    /// was, so a fault found without them is a fault.
    Present(Key),
}

/// What a creator does besides returning its value, error or panic.
#[derive(Clone, Copy, Debug, Default)]
struct Creator {
    /// Yields this many times first.
    yields: u32,
    /// Then yields until this many calls of the history have returned.
    await_returns: usize,
    /// Once it has returned, each clone of a value on its thread yields this
    /// many times, until its call returns (see [`Held`]).
    slow_clones: u32,
}

#[derive(Clone, Copy, Debug)]
struct Call {
    before: Before,
    op: Op,
    creator: Creator,
}

impl Call {
    fn new(op: Op) -> Self {
        Call {
            before: Before::Yields(0),
            op,
            creator: Creator::default(),
        }
    }

    fn after(mut self, before: Before) -> Self {
        self.before = before;
        self
    }

    fn creating(mut self, creator: Creator) -> Self {
        self.creator = creator;
        self
    }
}

/// The calls each thread of a history makes, in order.
#[derive(Clone, Debug)]
struct Plan {
    keys: usize,
    threads: Vec<Vec<Call>>,
}

/// What the threads of one history share: the ticket counter and the signals
/// the waits in [`Before`] and [`Creator`] read.
#[derive(Default)]
struct Shared {
    tickets: AtomicU64,
    returned: AtomicUsize,
    creator_started: AtomicBool,
}

impl Shared {
    /// What every creator does, on its thread, before it returns.
    fn create(&self, creator: Creator) {
        self.creator_started.store(true, Ordering::SeqCst);
        yield_times(creator.yields);
        yield_until(|| self.returned.load(Ordering::SeqCst) >= creator.await_returns);
        SLOW_CLONES.set(creator.slow_clones);
    }
}

fn yield_times(n: u32) {
    for _ in 0..n {
        thread::yield_now();
    }
}

/// Yields until `done` holds, or [`PATIENT_YIELDS`] times.
fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..PATIENT_YIELDS {
        if done() {
            return;
        }
        thread::yield_now();
    }
}

thread_local! {
    /// How many times each clone of a [`Held`] on this thread yields.
    static SLOW_CLONES: Cell<u32> = const { Cell::new(0) };
}

/// What the caches hold: a value whose clone yields [`SLOW_CLONES`] times.
///
/// A creator may set that count for the rest of its call: the cache then
/// takes longer over every step between the creator's return and the call's
/// (storing the value, handing it to waiters and to the caller), and other
/// threads' calls fall into those steps. A clone may take any time: nothing
/// here relies on which clones the cache makes, only on the delay.
#[derive(Debug, PartialEq, Eq)]
struct Held(Value);

impl Clone for Held {
    fn clone(&self) -> Self {
        yield_times(SLOW_CLONES.get());
        Held(self.0)
    }
}

type Tested = Cache<Key, Held>;

/// Something the harness can call: the cache, or a wrapper with a bug.
trait Subject: Sync {
    /// Makes `op`; a creator runs `shared.create(creator)` first.
    fn perform(&self, op: Op, shared: &Shared, creator: Creator) -> Outcome;
    /// Everything the listener received so far, if there is a listener.
    fn removals(&self) -> Option<Vec<Removal>>;
}

/// The cache under test, with a listener that records every removal.
struct Recorded {
    cache: Tested,
    removals: Removals<Key, Held>,
}

/// The kinds of cache a plain map must explain.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A capacity far above the number of keys: nothing is ever evicted.
    Bounded,
    /// A sliding TTL on a clock that never moves, with one shard (all keys
    /// then share one table lock and one flight lock).
    IdleOneShard,
}

impl Recorded {
    fn new(kind: Kind) -> Self {
        let removals = Removals::new();
        let builder = Cache::builder().eviction_listener(removals.listener());
        let builder = match kind {
            Kind::Bounded => builder.max_capacity(1_000),
            Kind::IdleOneShard => builder
                .time_to_idle(Duration::from_secs(3_600))
                .clock(ManualClock::new())
                .shards(1),
        };
        Recorded {
            cache: builder.build().expect("a valid cache"),
            removals,
        }
    }
}

/// Makes `op` on a real cache.
fn perform(cache: &Tested, op: Op, shared: &Shared, creator: Creator) -> Outcome {
    let create = |v: Value| {
        move || {
            shared.create(creator);
            Held(v)
        }
    };
    let refuse = || {
        shared.create(creator);
        Err(Refused)
    };
    let value = |held: Option<Held>| Outcome::Value(held.map(|h| h.0));
    let got = |r: Result<Held, Refused>| r.map_or(Outcome::Refused, |h| Outcome::Got(h.0));
    match op {
        Op::Get(k) => value(cache.get(&k)),
        Op::Insert(k, v) => value(cache.insert(k, Held(v))),
        Op::Remove(k) => value(cache.remove(&k)),
        Op::ContainsKey(k) => Outcome::Present(cache.contains_key(&k)),
        Op::GetOrCreate(k, v) => Outcome::Got(cache.get_or_create(k, create(v)).0),
        Op::TryGetOrCreate(k, v) => got(cache.try_get_or_create(k, || Ok(create(v)()))),
        Op::RefusedCreate(k) => got(cache.try_get_or_create(k, refuse)),
        Op::PanickingCreate(k) => Outcome::Got(
            cache
                .get_or_create(k, || {
                    shared.create(creator);
                    std::panic::panic_any(Deliberate)
                })
                .0,
        ),
        Op::Len => Outcome::Len(cache.len()),
    }
}

impl Subject for Recorded {
    fn perform(&self, op: Op, shared: &Shared, creator: Creator) -> Outcome {
        perform(&self.cache, op, shared, creator)
    }

    fn removals(&self) -> Option<Vec<Removal>> {
        let removals = self.removals.take().into_iter();
        Some(
            removals
                .map(|(k, held, cause)| (k, held.0, cause))
                .collect(),
        )
    }
}

/// Makes `call`, stamped with tickets; a deliberate panic is its result.
fn record(subject: &impl Subject, shared: &Shared, caller: Caller, call: &Call) -> Event {
    let start = shared.tickets.fetch_add(1, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        subject.perform(call.op, shared, call.creator)
    }));
    SLOW_CLONES.set(0);
    let outcome = outcome.unwrap_or_else(|panic| {
        if !panic.is::<Deliberate>() {
            resume_unwind(panic)
        }
        Outcome::Panicked
    });
    let end = shared.tickets.fetch_add(1, Ordering::SeqCst);
    shared.returned.fetch_add(1, Ordering::SeqCst);
    Event {
        caller,
        op: call.op,
        outcome,
        start,
        end,
    }
}

/// Runs `plan` on `subject`: its threads start together; once they have all
/// joined, every key and `len()` are read.
fn run(subject: &impl Subject, plan: &Plan, name: String) -> History {
    support::quiet_deliberate_panics(&[]);
    let shared = Shared::default();
    let start = Barrier::new(plan.threads.len());
    let mut events: Vec<Event> = thread::scope(|s| {
        let threads: Vec<_> = plan
            .threads
            .iter()
            .enumerate()
            .map(|(t, calls)| {
                let (shared, start) = (&shared, &start);
                s.spawn(move || {
                    start.wait();
                    let mut events = Vec::with_capacity(calls.len());
                    for call in calls {
                        match call.before {
                            Before::Yields(n) => yield_times(n),
                            Before::CreatorStarted => {
                                yield_until(|| shared.creator_started.load(Ordering::SeqCst));
                            }
                            Before::Present(k) => yield_until(|| {
                                subject.perform(Op::ContainsKey(k), shared, Creator::default())
                                    == Outcome::Present(true)
                            }),
                        }
                        events.push(record(subject, shared, Caller::Thread(t), call));
                    }
                    events
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|panic| resume_unwind(panic)))
            .collect()
    });
    let keys = (0..plan.keys as Key).map(Op::Get).chain([Op::Len]);
    for op in keys {
        events.push(record(subject, &shared, Caller::AfterJoin, &Call::new(op)));
    }
    History {
        name,
        keys: plan.keys,
        events,
        removals: subject.removals(),
    }
}

// ---- random histories -----------------------------------------------------------------

/// SplitMix64: enough randomness for plans, with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn small(&mut self, n: u64) -> u32 {
        u32::try_from(self.below(n)).expect("small")
    }
}

/// Two or three threads of three to five calls on two or three keys; with
/// get-or-create calls, or only `get`, `insert`, `remove` and `contains_key`.
fn random_plan(rng: &mut Rng, with_creations: bool) -> Plan {
    let keys = 2 + rng.below(2);
    let threads = 2 + rng.below(2);
    let mut next_value = 0;
    let mut fresh = || {
        next_value += 1;
        next_value
    };
    let threads = (0..threads)
        .map(|_| {
            (0..3 + rng.below(3))
                .map(|_| {
                    let k = rng.small(keys);
                    // Weights: reads 5, writes 5, get-or-create forms 8, len 1.
                    let op = match rng.below(if with_creations { 19 } else { 10 }) {
                        0..=2 => Op::Get(k),
                        3..=5 => Op::Insert(k, fresh()),
                        6..=7 => Op::Remove(k),
                        8..=9 => Op::ContainsKey(k),
                        10..=12 => Op::GetOrCreate(k, fresh()),
                        13..=14 => Op::TryGetOrCreate(k, fresh()),
                        15 => Op::RefusedCreate(k),
                        16..=17 => Op::PanickingCreate(k),
                        _ => Op::Len,
                    };
                    Call::new(op)
                        .after(Before::Yields(rng.small(3)))
                        .creating(Creator {
                            yields: rng.small(5),
                            await_returns: 0,
                            slow_clones: [0, 0, 0, 20][rng.small(4) as usize],
                        })
                })
                .collect()
        })
        .collect();
    Plan {
        keys: usize::try_from(keys).expect("small"),
        threads,
    }
}

/// Runs `histories` random histories on fresh caches of `kind`; panics with
/// the first that fails its check.
fn random_histories(kind: Kind, histories: u64) {
    let mut rng = Rng(SEED ^ kind as u64);
    for n in 0..histories {
        let plan = random_plan(&mut rng, true);
        let history = run(&Recorded::new(kind), &plan, format!("{kind:?} #{n}"));
        if let Err(fault) = check(&history) {
            panic!("{fault}");
        }
    }
}

#[test]
fn random_histories_on_a_bounded_cache_are_linearizable() {
    random_histories(Kind::Bounded, HISTORIES);
}

#[test]
fn random_histories_on_an_idle_ttl_cache_are_linearizable() {
    random_histories(Kind::IdleOneShard, HISTORIES);
}

// ---- shaped histories -------------------------------------------------------------------

/// Runs `plan` on fresh caches of both kinds, alternately, up to
/// [`SHAPED_HISTORIES`] times; panics with the first history that fails.
fn shaped(what: &str, plan: &Plan) {
    for n in 0..SHAPED_HISTORIES {
        let kind = [Kind::Bounded, Kind::IdleOneShard][n as usize % 2];
        let history = run(&Recorded::new(kind), plan, format!("{kind:?} #{n}"));
        if let Err(fault) = check(&history) {
            panic!("{what}: {fault}");
        }
    }
}

/// t1's creator runs until t0's `insert(k0, 1)` has returned; t0 then writes
/// again, which shows what the key held. The creation must either have found
/// the key empty and stored 3 before the insert (which then returns
/// `Some(3)`), or yield to the insert (returning 1, storing nothing).
#[test]
fn a_creation_does_not_overwrite_an_insert_made_while_its_creator_ran() {
    let plan = Plan {
        keys: 1,
        threads: vec![
            vec![
                Call::new(Op::Insert(0, 1)).after(Before::CreatorStarted),
                Call::new(Op::Insert(0, 4)),
            ],
            vec![Call::new(Op::GetOrCreate(0, 3)).creating(Creator {
                await_returns: 1,
                ..Creator::default()
            })],
        ],
    };
    shaped("a creation racing an insert", &plan);
}

/// t0 creates 1; as soon as t1 sees the key held, it removes it and asks for
/// it again. If its `remove` returned 1, its get-or-create must not: that
/// value is gone, so it finds the key empty (or holding a later value).
#[test]
fn a_removed_value_is_not_handed_out_again() {
    let plan = Plan {
        keys: 1,
        threads: vec![
            vec![Call::new(Op::GetOrCreate(0, 1)).creating(Creator {
                yields: 2,
                slow_clones: 20,
                ..Creator::default()
            })],
            vec![
                Call::new(Op::Remove(0)).after(Before::Present(0)),
                Call::new(Op::GetOrCreate(0, 3)),
            ],
        ],
    };
    shaped("a removal racing the end of a creation", &plan);
}

// ---- the checker has teeth ----------------------------------------------------------------

/// An event for a hand-written history.
fn event(caller: usize, op: Op, outcome: Outcome, start: u64, end: u64) -> Event {
    Event {
        caller: Caller::Thread(caller),
        op,
        outcome,
        start,
        end,
    }
}

fn hand_written(events: Vec<Event>) -> History {
    History {
        name: "hand-written".to_owned(),
        keys: 1,
        events,
        removals: None,
    }
}

/// Overlapping calls may take effect in an order other than their start
/// order; the checker must find it.
#[test]
fn checker_accepts_a_linearizable_history() {
    use Outcome::{Got, Panicked, Present, Value};
    let history = hand_written(vec![
        // t0's get starts first but sees t1's insert, which overlaps it.
        event(0, Op::Get(0), Value(Some(1)), 0, 5),
        event(1, Op::Insert(0, 1), Value(None), 1, 3),
        // t2's creation overlaps both and finds 1 (it ran after the insert).
        event(2, Op::GetOrCreate(0, 2), Got(1), 2, 9),
        // A panicking creator overlapping the remove: it ran after it.
        event(0, Op::PanickingCreate(0), Panicked, 6, 12),
        event(1, Op::Remove(0), Value(Some(1)), 4, 7),
        event(1, Op::ContainsKey(0), Present(false), 13, 14),
    ]);
    let calls = history.events.clone();
    let order = linearize(&calls).unwrap_or_else(|longest| {
        panic!(
            "rejected; it explained only {}",
            describe_order(&calls, &longest)
        )
    });
    // Only t1's insert explains t0's get and t2's creation: it comes first.
    assert_eq!((order.len(), order[0]), (6, 1), "{order:?}");
    check(&history).expect("linearizable");
}

/// Item 8's shape: a creation that stored its value over an insert that had
/// already returned `None`.
#[test]
fn checker_rejects_a_creation_that_overwrote_an_insert() {
    use Outcome::{Got, Value};
    let history = hand_written(vec![
        event(1, Op::GetOrCreate(0, 3), Got(3), 0, 7),
        event(0, Op::Insert(0, 1), Value(None), 1, 2),
        event(0, Op::Insert(0, 4), Value(Some(3)), 3, 4),
    ]);
    let fault = check(&history).expect_err("must be rejected");
    assert!(fault.starts_with("not linearizable"), "{fault}");
    // Either of the first two calls alone is explicable, but not after the other.
    assert!(fault.contains("more than 1 of its 3"), "{fault}");
}

/// A read that misses a write which returned before the read started: fine
/// sequentially (read first), wrong in real time.
#[test]
fn checker_rejects_a_read_that_misses_a_finished_write() {
    use Outcome::Value;
    let history = hand_written(vec![
        event(0, Op::Insert(0, 1), Value(None), 0, 1),
        event(1, Op::Get(0), Value(None), 2, 3),
    ]);
    let fault = check(&history).expect_err("must be rejected");
    assert!(fault.starts_with("not linearizable"), "{fault}");
}

#[test]
fn checker_rejects_len_and_listener_mismatches() {
    use Outcome::{Len, Value};
    let mut history = hand_written(vec![
        event(0, Op::Insert(0, 1), Value(None), 0, 1),
        event(0, Op::Insert(0, 2), Value(Some(1)), 2, 3),
        Event {
            caller: Caller::AfterJoin,
            op: Op::Get(0),
            outcome: Value(Some(2)),
            start: 4,
            end: 5,
        },
        Event {
            caller: Caller::AfterJoin,
            op: Op::Len,
            outcome: Len(1),
            start: 6,
            end: 7,
        },
    ]);
    history.removals = Some(vec![(0, 1, RemovalCause::Replaced)]);
    check(&history).expect("consistent");

    history.removals = Some(vec![(0, 1, RemovalCause::Removed)]);
    let fault = check(&history).expect_err("wrong cause");
    assert!(fault.starts_with("the listener saw"), "{fault}");

    history.removals = Some(vec![]);
    assert!(check(&history).is_err(), "a lost removal");

    history.removals = None;
    history.events[3].outcome = Len(2);
    let fault = check(&history).expect_err("len off");
    assert!(fault.starts_with("len() is 2"), "{fault}");
}

/// A cache whose `insert` reports the last value this wrapper saw for the key
/// (written, found or removed) instead of the value the cache replaced.
struct StaleInsert {
    cache: Tested,
    last_seen: Mutex<Map>,
}

impl Subject for StaleInsert {
    fn perform(&self, op: Op, shared: &Shared, creator: Creator) -> Outcome {
        let outcome = perform(&self.cache, op, shared, creator);
        let mut last_seen = self.last_seen.lock().expect("last seen");
        let key = match op {
            Op::Get(k)
            | Op::Insert(k, _)
            | Op::Remove(k)
            | Op::ContainsKey(k)
            | Op::GetOrCreate(k, _)
            | Op::TryGetOrCreate(k, _)
            | Op::RefusedCreate(k)
            | Op::PanickingCreate(k) => k as usize,
            Op::Len => return outcome,
        };
        match (op, outcome) {
            (Op::Insert(_, v), _) => Outcome::Value(last_seen.0[key].replace(v)),
            (_, Outcome::Value(Some(v)) | Outcome::Got(v)) => {
                last_seen.0[key] = Some(v);
                outcome
            }
            _ => outcome,
        }
    }

    fn removals(&self) -> Option<Vec<Removal>> {
        None
    }
}

/// Every get-or-create form made of a `get` and, on a miss, the creator and
/// an `insert`: two creators, or a creator and an insert, can both write. (It
/// never uses the cache's own get-or-create, so what the checker reports is
/// this wrapper's fault.)
struct CheckThenInsert {
    cache: Tested,
}

impl Subject for CheckThenInsert {
    fn perform(&self, op: Op, shared: &Shared, creator: Creator) -> Outcome {
        let (k, made) = match op {
            Op::GetOrCreate(k, v) | Op::TryGetOrCreate(k, v) => (k, Some(v)),
            Op::RefusedCreate(k) | Op::PanickingCreate(k) => (k, None),
            _ => return perform(&self.cache, op, shared, creator),
        };
        if let Some(found) = self.cache.get(&k) {
            return Outcome::Got(found.0);
        }
        shared.create(creator);
        match (op, made) {
            (_, Some(v)) => {
                self.cache.insert(k, Held(v));
                Outcome::Got(v)
            }
            (Op::PanickingCreate(_), None) => std::panic::panic_any(Deliberate),
            _ => Outcome::Refused,
        }
    }

    fn removals(&self) -> Option<Vec<Removal>> {
        None
    }
}

/// Random histories on `subject()` until the checker reports one, which it
/// returns, or `None` after `histories`.
fn first_fault<S: Subject>(
    subject: impl Fn() -> S,
    with_creations: bool,
    histories: u64,
) -> Option<String> {
    let mut rng = Rng(SEED);
    (0..histories).find_map(|n| {
        let plan = random_plan(&mut rng, with_creations);
        check(&run(&subject(), &plan, format!("#{n}"))).err()
    })
}

fn bounded_cache() -> Tested {
    Cache::builder()
        .max_capacity(1_000)
        .build()
        .expect("a valid cache")
}

#[test]
fn checker_reports_an_insert_that_returns_a_stale_value() {
    let fault = first_fault(
        || StaleInsert {
            cache: bounded_cache(),
            last_seen: Mutex::default(),
        },
        // Only calls that no version of the cache got wrong, so the fault
        // reported is the wrapper's.
        false,
        HISTORIES,
    )
    .expect("the stale insert went unnoticed");
    assert!(fault.starts_with("not linearizable"), "{fault}");
    eprintln!("stale insert, as reported: {fault}");
}

#[test]
fn checker_reports_a_get_or_create_that_checks_then_inserts() {
    let fault = first_fault(
        || CheckThenInsert {
            cache: bounded_cache(),
        },
        true,
        HISTORIES,
    )
    .expect("the check-then-insert race went unnoticed");
    assert!(fault.starts_with("not linearizable"), "{fault}");
    eprintln!("check-then-insert, as reported: {fault}");
}
