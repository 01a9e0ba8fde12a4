//! Stress: 8 threads (3 that only read, 5 that also write) run random operations
//! against each policy in phases. Between phases, while every worker is parked at
//! a barrier, the clock moves one to three steps; so every call in a phase sees
//! the same time, and the test knows every value's deadline exactly (it was
//! stored and last read at phase times). Each phase's keys come mostly from a
//! window that moves at random, so keys go idle and expire at many times.
//!
//! Checked after every operation: `len() <= capacity` (bounded policies); no
//! value returned by `get` or `get_or_create`, returned by `remove`, or replaced
//! by `insert` is past its deadline. Checked for every removal the listener
//! sees: its cause is true (`Expired` only past the deadline; `Capacity` only
//! during an insert into a bounded cache, of a live value; `Removed` only from
//! `remove`/`invalidate_if` and `Replaced` only from an insert, of live values;
//! `Cleared` only from `clear`). Checked whenever all workers are parked at a
//! barrier, and at the end: listener removals plus held entries equal values
//! stored. After the last phase, `run_maintenance()` must leave no entry past its
//! deadline (`len() == keys().len()`, and each listed key is live by the test's
//! own account). Then a read-order epilogue (the shape of issue 9's repro): every
//! thread reads "old" keys at one time and "new" keys at a later one, so the
//! reads reach the policy from several buffers in no time order; maintenance at a
//! time between the two deadlines must reclaim exactly the old keys, after which
//! a bounded cache takes as many other keys without evicting. At the end, after a
//! `clear`, every value stored was passed to the listener exactly once. A
//! watchdog fails the test if no operation completes for 60 s (a deadlock).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tenure::policy::{Expiry, Hybrid, LruBound, Policy, SlidingTtl, Timestamp};
use tenure::{Cache, Clock, ManualClock, RemovalCause};

const THREADS: usize = 8;
/// Threads `0..READERS` only read (`get`, `contains`).
const READERS: usize = 3;
const PHASES: usize = 640;
const OPS_PER_PHASE: usize = 250;
const KEYS: u64 = 32;
/// Most operations of a phase use this many keys, starting at a random one.
const WINDOW: u64 = 6;
/// Half the phases use more keys than a bounded cache holds, so it evicts.
const WIDE_WINDOW: u64 = 16;
/// One operation in this many uses any key, so that idle keys are met again.
const OFF_WINDOW: u64 = 1_000;
const CAPACITY: usize = 12;
/// The clock moves one to three of these between phases (TTL is four).
const STEP: Duration = Duration::from_millis(10);
const TTL: Duration = Duration::from_millis(40);
const LIFETIME: Duration = Duration::from_millis(150);
const WATCHDOG: Duration = Duration::from_secs(60);
/// Ids of values: each stored value gets a fresh one (the epilogue adds a few).
const MAX_IDS: usize = THREADS * PHASES * OPS_PER_PHASE + 2 * KEYS as usize + 1;

/// The call a worker is in, so the listener (which runs on the calling thread,
/// before the call returns) can tell whether a removal's cause fits the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Other,
    Get,
    Insert,
    Remove,
    InvalidateIf,
    GetOrCreate,
    Maintenance,
    Clear,
}

thread_local! {
    static CALL: Cell<Call> = const { Cell::new(Call::Other) };
    /// `Capacity` removals reported during the current call.
    static EVICTED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` as `call`, for the listener's checks.
fn during<R>(call: Call, f: impl FnOnce() -> R) -> R {
    CALL.set(call);
    EVICTED.set(0);
    let result = f();
    CALL.set(Call::Other);
    result
}

/// What the workers share, besides the cache.
struct Ledger {
    clock: ManualClock,
    expiry: Expiry,
    capacity: Option<usize>,
    next_id: AtomicU64,
    /// Per id: 1 + the time the value was stored (a phase's time), 0 until the
    /// storing thread has recorded it (so, if 0, it was stored in this phase).
    stored_at: Vec<AtomicU64>,
    /// Per id: 1 + the latest phase time at which a lookup returned it.
    read_at: Vec<AtomicU64>,
    /// Per key: 1 + the latest phase time at which one of its values was stored
    /// or returned. A held entry is the key's latest, so these are its times.
    key_stored_at: Vec<AtomicU64>,
    key_read_at: Vec<AtomicU64>,
    /// Per id: how many times the listener received it.
    removals: Vec<AtomicU8>,
    /// Per id: made by a creator that yielded to a value written meanwhile,
    /// so never stored (and never to reach the listener).
    dropped: Vec<AtomicBool>,
    removed_total: AtomicU64,
    stored_total: AtomicU64,
    /// Completed operations, for the watchdog.
    progress: AtomicU64,
    /// Values returned, removed or replaced whose deadline was checked.
    deadline_checks: AtomicU64,
    /// Violations by kind: how many, and the first few messages.
    violations: std::sync::Mutex<BTreeMap<&'static str, (usize, Vec<String>)>>,
}

fn atomics(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn plus_one(t: Timestamp) -> u64 {
    t.as_nanos() + 1
}

impl Ledger {
    fn new(clock: ManualClock, expiry: Expiry, capacity: Option<usize>) -> Self {
        Ledger {
            clock,
            expiry,
            capacity,
            next_id: AtomicU64::new(1),
            stored_at: atomics(MAX_IDS),
            read_at: atomics(MAX_IDS),
            key_stored_at: atomics(KEYS as usize),
            key_read_at: atomics(KEYS as usize),
            removals: (0..MAX_IDS).map(|_| AtomicU8::new(0)).collect(),
            dropped: (0..MAX_IDS).map(|_| AtomicBool::new(false)).collect(),
            removed_total: AtomicU64::new(0),
            stored_total: AtomicU64::new(0),
            progress: AtomicU64::new(0),
            deadline_checks: AtomicU64::new(0),
            violations: std::sync::Mutex::default(),
        }
    }

    fn violation(&self, kind: &'static str, what: String) {
        let mut violations = self.violations.lock().expect("violations");
        let (count, first) = violations.entry(kind).or_default();
        *count += 1;
        if first.len() < 3 {
            first.push(what);
        }
    }

    fn fresh_id(&self) -> u64 {
        self.stored_total.fetch_add(1, Ordering::Relaxed);
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// `id` was made by a creator and dropped unstored: the key was written
    /// while the creator ran, and that value stood.
    fn unstored(&self, id: u64) {
        self.stored_total.fetch_sub(1, Ordering::Relaxed);
        self.dropped[id as usize].store(true, Ordering::Relaxed);
    }

    /// `id` was stored under `key` in this phase.
    fn stored(&self, key: u64, id: u64) {
        let now = plus_one(self.clock.now());
        self.stored_at[id as usize].store(now, Ordering::Relaxed);
        self.key_stored_at[key as usize].fetch_max(now, Ordering::Relaxed);
    }

    /// A lookup of `key` returned `id` in this phase: it must be live, and it was
    /// just read.
    fn returned(&self, key: u64, id: u64) {
        self.check_live(key, id, "expired value returned by a lookup");
        let now = plus_one(self.clock.now());
        self.read_at[id as usize].fetch_max(now, Ordering::Relaxed);
        self.key_read_at[key as usize].fetch_max(now, Ordering::Relaxed);
    }

    /// When `id` expires; `None` if never, or if it was stored in this phase and
    /// not yet recorded (then it is live: the clock has not moved since). Reads
    /// of `id` in this phase may not be recorded yet either, but they can only
    /// have happened if it was live at this phase's time, so reads in earlier
    /// phases decide whether it is.
    fn deadline(&self, id: u64) -> Option<Timestamp> {
        let stored = self.stored_at[id as usize].load(Ordering::Relaxed);
        if stored == 0 {
            return None;
        }
        let read = self.read_at[id as usize]
            .load(Ordering::Relaxed)
            .max(stored);
        let at = |t: u64| Timestamp::from_nanos(t - 1);
        self.expiry.deadline(at(stored), at(read))
    }

    fn is_expired(&self, id: u64, now: Timestamp) -> bool {
        self.deadline(id).is_some_and(|d| now >= d)
    }

    /// `id` was handed out (or reported as live) now: it must not be past its
    /// deadline.
    fn check_live(&self, key: u64, id: u64, kind: &'static str) {
        if !self.expiry.uses_time() {
            return;
        }
        self.deadline_checks.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now();
        if let Some(deadline) = self.deadline(id).filter(|&d| now >= d) {
            self.violation(
                kind,
                format!("key {key} value {id} at {now:?}, past its deadline {deadline:?}"),
            );
        }
    }

    /// The listener's check that `cause` is true for `id` and the current call.
    fn check_cause(&self, key: u64, id: u64, cause: RemovalCause) {
        let now = self.clock.now();
        let call = CALL.get();
        let expired = self.is_expired(id, now);
        let false_cause = |why: &str| {
            self.violation(
                "untrue removal cause",
                format!(
                    "key {key} value {id} left for {cause:?} during {call:?} at {now:?} (deadline {:?}): {why}",
                    self.deadline(id)
                ),
            );
        };
        match cause {
            RemovalCause::Expired if !expired => false_cause("not expired"),
            RemovalCause::Expired => {}
            RemovalCause::Capacity => {
                if self.capacity.is_none() {
                    false_cause("the cache has no bound");
                }
                if !matches!(call, Call::Insert | Call::GetOrCreate) {
                    false_cause("only an insert can put the cache over its bound");
                }
                if expired {
                    false_cause("an expired value must leave as Expired");
                }
                EVICTED.set(EVICTED.get() + 1);
            }
            RemovalCause::Removed | RemovalCause::Replaced => {
                let from = match cause {
                    RemovalCause::Removed => [Call::Remove, Call::InvalidateIf],
                    _ => [Call::Insert, Call::GetOrCreate],
                };
                if !from.contains(&call) {
                    false_cause("not from a call that removes or replaces");
                }
                if expired {
                    false_cause("an expired value must leave as Expired");
                }
            }
            RemovalCause::Cleared if call != Call::Clear => false_cause("not from clear"),
            _ => {}
        }
    }
}

/// A small deterministic generator (xorshift64*), one per worker.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % n
    }
}

/// A number drawn from `phase` alone, the same for every worker.
fn phase_hash(phase: usize) -> u64 {
    (phase as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32
}

/// A key for an operation in `phase`: mostly from the phase's window.
fn pick_key(rng: &mut Rng, phase: usize) -> u64 {
    if rng.below(OFF_WINDOW) == 0 {
        return rng.below(KEYS);
    }
    let window = if phase_hash(phase) & 0x100_0000 == 0 {
        WINDOW
    } else {
        WIDE_WINDOW
    };
    (phase_hash(phase) + rng.below(window)) % KEYS
}

/// How far the clock moves after `phase`: one to three steps, so that keys
/// last read a phase apart expire a phase apart or at once.
fn step_after(phase: usize) -> Duration {
    STEP * (1 + (phase_hash(phase) >> 8) % 3) as u32
}

fn worker<P: Policy>(
    index: usize,
    cache: Cache<u64, u64, P>,
    ledger: Arc<Ledger>,
    barrier: Arc<Barrier>,
) {
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    for phase in 0..PHASES {
        for _ in 0..OPS_PER_PHASE {
            let key = pick_key(&mut rng, phase);
            if index < READERS {
                read(&cache, &ledger, &mut rng, key);
            } else {
                write(&cache, &ledger, &mut rng, key);
            }
            if let Some(capacity) = ledger.capacity {
                let len = cache.len();
                if len > capacity {
                    ledger.violation(
                        "len over capacity",
                        format!("len {len} > capacity {capacity}"),
                    );
                }
            }
            ledger.progress.fetch_add(1, Ordering::Relaxed);
        }
        // Quiescent point: every worker has finished the phase. The clock moves
        // only here, so each phase has one time.
        if barrier.wait().is_leader() {
            check_balance(&cache, &ledger, &format!("after phase {phase}"));
            ledger.clock.advance(step_after(phase));
        }
        barrier.wait();
    }
    if barrier.wait().is_leader() {
        check_reclaimed(&cache, &ledger);
    }
    barrier.wait();
    if ledger.expiry.ttl.is_some() {
        read_order_epilogue(index, &cache, &ledger, &barrier);
    }
}

fn read<P: Policy>(cache: &Cache<u64, u64, P>, ledger: &Ledger, rng: &mut Rng, key: u64) {
    if rng.below(20) == 0 {
        cache.contains_key(&key);
    } else if let Some(id) = during(Call::Get, || cache.get(&key)) {
        ledger.returned(key, id);
    }
}

fn write<P: Policy>(cache: &Cache<u64, u64, P>, ledger: &Ledger, rng: &mut Rng, key: u64) {
    match rng.below(100_000) {
        0..30_000 => {
            if let Some(id) = during(Call::Get, || cache.get(&key)) {
                ledger.returned(key, id);
            }
        }
        30_000..50_000 => {
            let id = ledger.fresh_id();
            let replaced = during(Call::Insert, || cache.insert(key, id));
            ledger.stored(key, id);
            if let Some(old) = replaced {
                ledger.check_live(key, old, "expired value replaced by insert");
            }
        }
        50_000..59_000 => {
            if let Some(id) = during(Call::Remove, || cache.remove(&key)) {
                ledger.check_live(key, id, "expired value returned by remove");
            }
        }
        59_000..60_000 => {
            during(Call::InvalidateIf, || cache.invalidate_if(|&k, _| k == key));
        }
        60_000..98_000 => {
            let mut mine = None;
            let id = during(Call::GetOrCreate, || {
                cache.get_or_create(key, || {
                    let id = ledger.fresh_id();
                    mine = Some(id);
                    id
                })
            });
            if mine == Some(id) {
                ledger.stored(key, id);
            } else {
                if let Some(dropped) = mine {
                    ledger.unstored(dropped);
                }
                ledger.returned(key, id);
            }
        }
        98_000..99_000 => during(Call::Maintenance, || cache.run_maintenance()),
        99_000..99_995 => {
            cache.contains_key(&key);
        }
        // Rare, so that entries live long enough to expire.
        _ => during(Call::Clear, || cache.clear()),
    }
}

/// Removals plus held entries must equal stored values (no worker is running).
fn check_balance<P: Policy>(cache: &Cache<u64, u64, P>, ledger: &Ledger, when: &str) {
    let removed = ledger.removed_total.load(Ordering::Relaxed);
    let stored = ledger.stored_total.load(Ordering::Relaxed);
    let held = cache.len() as u64;
    if removed + held != stored {
        ledger.violation(
            "balance",
            format!("{when}: {removed} removed + {held} held != {stored} stored"),
        );
    }
}

/// After `run_maintenance()` no held entry is past its deadline: every held
/// entry is listed by `keys()`, and the test's own account says each is live.
fn check_reclaimed<P: Policy>(cache: &Cache<u64, u64, P>, ledger: &Ledger) {
    let now = ledger.clock.now();
    during(Call::Maintenance, || cache.run_maintenance());
    let (held, live) = (cache.len(), cache.keys());
    if held != live.len() {
        ledger.violation(
            "entries past their deadline after run_maintenance",
            format!("at {now:?}: len {held}, but only {} live keys", live.len()),
        );
    }
    let at = |times: &[AtomicU64], key: u64| {
        Timestamp::from_nanos(
            times[key as usize]
                .load(Ordering::Relaxed)
                .saturating_sub(1),
        )
    };
    for key in live {
        let stored = at(&ledger.key_stored_at, key);
        let read = at(&ledger.key_read_at, key).max(stored);
        if let Some(deadline) = ledger.expiry.deadline(stored, read).filter(|&d| now >= d) {
            ledger.violation(
                "entries past their deadline after run_maintenance",
                format!("at {now:?}: keys() lists {key}, stored at {stored:?}, read at {read:?}, deadline {deadline:?}"),
            );
        }
    }
}

/// The keys the epilogue uses (all fit in a bounded cache); the first half are
/// read early ("old"), the second half later ("new").
fn epilogue_keys(ledger: &Ledger) -> (Vec<u64>, Vec<u64>) {
    let n = ledger.capacity.map_or(KEYS, |c| c as u64).min(KEYS) / 2 * 2;
    ((0..n / 2).collect(), (n / 2..n).collect())
}

/// Thread `index` reads its share of `keys`: every key is read by some thread,
/// and every thread reads at least one key, so every thread's read buffer holds
/// reads of both phases.
fn read_share<P: Policy>(index: usize, cache: &Cache<u64, u64, P>, ledger: &Ledger, keys: &[u64]) {
    let n = keys.len();
    for j in (0..n.max(THREADS)).filter(|j| j % THREADS == index) {
        let key = keys[j % n];
        match during(Call::Get, || cache.get(&key)) {
            Some(id) => ledger.returned(key, id),
            None => ledger.violation(
                "live value lost",
                format!("epilogue: key {key} missed at {:?}", ledger.clock.now()),
            ),
        }
    }
}

/// Every thread reads the old keys at `t1`, then the new ones at a later `t2`.
/// At `t1 + TTL` the old keys are past their deadline and the new ones are not,
/// whatever order the reads reach the policy in: maintenance must reclaim exactly
/// the old ones (as `Expired`), and a bounded cache then has room for as many
/// other keys without evicting.
fn read_order_epilogue<P: Policy>(
    index: usize,
    cache: &Cache<u64, u64, P>,
    ledger: &Ledger,
    barrier: &Barrier,
) {
    let (old, new) = epilogue_keys(ledger);
    let t1 = ledger.clock.now() + STEP;
    let t2 = t1 + STEP;
    if barrier.wait().is_leader() {
        during(Call::Clear, || cache.clear());
        for &key in old.iter().chain(&new) {
            let id = ledger.fresh_id();
            during(Call::Insert, || cache.insert(key, id));
            ledger.stored(key, id);
        }
        ledger.clock.set(t1);
    }
    barrier.wait();
    read_share(index, cache, ledger, &old);
    if barrier.wait().is_leader() {
        ledger.clock.set(t2);
    }
    barrier.wait();
    read_share(index, cache, ledger, &new);
    if !barrier.wait().is_leader() {
        barrier.wait();
        return;
    }
    let now = t1 + TTL;
    ledger.clock.set(now);
    during(Call::Maintenance, || cache.run_maintenance());
    if cache.len() != new.len() {
        ledger.violation(
            "entries past their deadline after run_maintenance",
            format!(
                "epilogue: at {now:?}, {} keys read at {t1:?} and {} at {t2:?} (TTL {TTL:?}), len {} after run_maintenance",
                old.len(),
                new.len(),
                cache.len()
            ),
        );
    }
    if ledger.capacity.is_some() {
        // As many fresh keys as were reclaimed: the cache is at its bound, not over.
        for key in KEYS - old.len() as u64..KEYS {
            let id = ledger.fresh_id();
            let evicted = during(Call::Insert, || {
                cache.insert(key, id);
                EVICTED.get()
            });
            ledger.stored(key, id);
            if evicted > 0 {
                ledger.violation(
                    "untrue removal cause",
                    format!("epilogue: insert of key {key} at {now:?} evicted for Capacity though only the {} keys read at {t2:?} were live", new.len()),
                );
            }
        }
    }
    for &key in &old {
        if let Some(id) = during(Call::Remove, || cache.remove(&key)) {
            ledger.check_live(key, id, "expired value returned by remove");
        }
    }
    barrier.wait();
}

fn stress<P: Policy>(name: &str, policy: P, capacity: Option<usize>) {
    let clock = ManualClock::new();
    let ledger = Arc::new(Ledger::new(clock.clone(), policy.expiry(), capacity));
    let log = Arc::clone(&ledger);
    let cache: Cache<u64, u64, P> = Cache::builder()
        .policy(policy)
        .clock(clock)
        .shards(4)
        .eviction_listener(move |key, id, cause| {
            log.removals[id as usize].fetch_add(1, Ordering::Relaxed);
            log.removed_total.fetch_add(1, Ordering::Relaxed);
            log.check_cause(key, id, cause);
        })
        .build()
        .expect("a valid cache");
    let barrier = Arc::new(Barrier::new(THREADS));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let (cache, ledger, barrier) =
                (cache.clone(), Arc::clone(&ledger), Arc::clone(&barrier));
            let done = done_tx.clone();
            thread::spawn(move || {
                worker(i, cache, ledger, barrier);
                drop(done);
            })
        })
        .collect();
    drop(done_tx);

    // Watchdog: the channel closes when every worker is done; until then some
    // operation must complete at least once every WATCHDOG.
    let mut last = (0, Instant::now());
    while let Err(mpsc::RecvTimeoutError::Timeout) =
        done_rx.recv_timeout(Duration::from_millis(200))
    {
        let progress = ledger.progress.load(Ordering::Relaxed);
        if progress != last.0 {
            last = (progress, Instant::now());
        }
        assert!(
            last.1.elapsed() < WATCHDOG,
            "{name}: no progress for {WATCHDOG:?} at {progress} operations: deadlock?"
        );
    }
    for w in workers {
        w.join().expect("worker panicked");
    }

    check_balance(&cache, &ledger, "at the end");
    during(Call::Clear, || cache.clear());
    assert_eq!(cache.len(), 0);
    let stored = ledger.next_id.load(Ordering::Relaxed);
    for id in 1..stored {
        let n = ledger.removals[id as usize].load(Ordering::Relaxed);
        let expected = u8::from(!ledger.dropped[id as usize].load(Ordering::Relaxed));
        if n != expected {
            ledger.violation(
                "listener count",
                format!("value {id} reached the listener {n} times"),
            );
        }
    }
    let stats = cache.stats();
    let checks = ledger.deadline_checks.load(Ordering::Relaxed);
    eprintln!("{name}: {checks} deadline checks, {stats:?}");
    let violations = ledger.violations.lock().expect("violations");
    assert!(
        violations.is_empty(),
        "{name}: violations (kind: count, first ones): {violations:#?}"
    );
    assert!(stats.hits > 0 && stats.misses > 0 && stats.creations > 0);
    let timed = ledger.expiry.uses_time();
    assert!(
        stats.removals.expired > 200 || !timed,
        "{name}: the clock expired only {} entries",
        stats.removals.expired
    );
    assert!(
        checks > 100_000 || !timed,
        "{name}: only {checks} values could be checked against their deadline"
    );
}

#[test]
fn stress_sliding_ttl() {
    let policy = SlidingTtl::new(TTL)
        .and_then(|p| p.with_max_lifetime(LIFETIME))
        .expect("policy");
    stress("sliding-ttl", policy, None);
}

#[test]
fn stress_lru() {
    stress(
        "lru",
        LruBound::new(CAPACITY).expect("policy"),
        Some(CAPACITY),
    );
}

#[test]
fn stress_hybrid() {
    let policy = Hybrid::new(TTL, CAPACITY)
        .and_then(|p| p.with_max_lifetime(LIFETIME))
        .expect("policy");
    stress("hybrid", policy, Some(CAPACITY));
}
