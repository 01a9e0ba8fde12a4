//! Stress: 8 threads run random operations against each policy for a fixed
//! number of iterations, while one of them also moves a shared `ManualClock`.
//!
//! Checked after every operation: `len() <= capacity` (bounded policies), and no
//! value returned by a lookup that started after the value's maximum lifetime had
//! surely passed. Checked whenever all workers are parked at a barrier, and at the
//! end: listener removals plus held entries equal values stored; and at the end,
//! after a `clear`, every value stored was passed to the listener exactly once. A
//! watchdog fails the test if no operation completes for 60 s (a deadlock).

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tenure::{Cache, Clock, Hybrid, LruBound, ManualClock, Policy, SlidingTtl, Timestamp};

const THREADS: usize = 8;
const ROUNDS: usize = 8;
const OPS_PER_ROUND: usize = 20_000;
const KEYS: u64 = 32;
const CAPACITY: usize = 12;
/// One clock step; the clock moves one tick per operation of worker 0.
const TICK: Duration = Duration::from_millis(1);
const TTL: Duration = Duration::from_millis(40);
const LIFETIME: Duration = Duration::from_millis(150);
const WATCHDOG: Duration = Duration::from_secs(60);
/// Ids of values: each stored value gets a fresh one.
const MAX_IDS: usize = THREADS * ROUNDS * OPS_PER_ROUND + 1;

/// What the workers share, besides the cache.
struct Ledger {
    clock: ManualClock,
    next_id: AtomicU64,
    /// Per id: 1 + the clock's nanos read just after the value was stored (an
    /// upper bound on its creation time), 0 until then.
    stored_by: Vec<AtomicU64>,
    /// Per id: how many times the listener received it.
    removals: Vec<AtomicU8>,
    removed_total: AtomicU64,
    stored_total: AtomicU64,
    /// Completed operations, for the watchdog.
    progress: AtomicU64,
    /// Lookups whose value's lifetime deadline was known, so could be checked.
    lifetime_checks: AtomicU64,
    violations: std::sync::Mutex<Vec<String>>,
}

impl Ledger {
    fn new(clock: ManualClock) -> Self {
        Ledger {
            clock,
            next_id: AtomicU64::new(1),
            stored_by: (0..MAX_IDS).map(|_| AtomicU64::new(0)).collect(),
            removals: (0..MAX_IDS).map(|_| AtomicU8::new(0)).collect(),
            removed_total: AtomicU64::new(0),
            stored_total: AtomicU64::new(0),
            progress: AtomicU64::new(0),
            lifetime_checks: AtomicU64::new(0),
            violations: std::sync::Mutex::default(),
        }
    }

    fn violation(&self, what: String) {
        self.violations.lock().expect("violations").push(what);
    }

    fn fresh_id(&self) -> u64 {
        self.stored_total.fetch_add(1, Ordering::Relaxed);
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn stored(&self, id: u64) {
        let after = self.clock.now().as_nanos() + 1;
        self.stored_by[id as usize].fetch_max(after, Ordering::Relaxed);
    }

    /// `id` was returned by a lookup that started at `start`: it must not have
    /// outlived the maximum lifetime by then.
    fn returned(&self, id: u64, start: Timestamp, lifetime: Option<Duration>) {
        let Some(lifetime) = lifetime else { return };
        let stored_by = self.stored_by[id as usize].load(Ordering::Relaxed);
        if stored_by == 0 {
            return; // stored by a thread that has not yet recorded when
        }
        self.lifetime_checks.fetch_add(1, Ordering::Relaxed);
        let deadline = Timestamp::from_nanos(stored_by - 1) + lifetime;
        if start >= deadline {
            self.violation(format!(
                "value {id} returned by a lookup at {start:?}, past its lifetime deadline {deadline:?}"
            ));
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

fn worker<P: Policy>(
    index: usize,
    cache: Cache<u64, u64, P>,
    ledger: Arc<Ledger>,
    barrier: Arc<Barrier>,
    capacity: Option<usize>,
    lifetime: Option<Duration>,
) {
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    for round in 0..ROUNDS {
        for _ in 0..OPS_PER_ROUND {
            if index == 0 {
                ledger.clock.advance(TICK);
            }
            let key = rng.below(KEYS);
            let start = ledger.clock.now();
            match rng.below(1000) {
                0..300 => {
                    if let Some(id) = cache.get(&key) {
                        ledger.returned(id, start, lifetime);
                    }
                }
                300..500 => {
                    let id = ledger.fresh_id();
                    cache.insert(key, id);
                    ledger.stored(id);
                }
                500..600 => {
                    cache.remove(&key);
                }
                600..980 => {
                    let mut mine = None;
                    let id = cache.get_or_create(key, || {
                        let id = ledger.fresh_id();
                        mine = Some(id);
                        id
                    });
                    if mine == Some(id) {
                        ledger.stored(id);
                    } else {
                        ledger.returned(id, start, lifetime);
                    }
                }
                980..990 => cache.run_maintenance(),
                990..998 => {
                    cache.contains(&key);
                }
                _ => cache.clear(),
            }
            if let Some(capacity) = capacity {
                let len = cache.len();
                if len > capacity {
                    ledger.violation(format!("len {len} > capacity {capacity}"));
                }
            }
            ledger.progress.fetch_add(1, Ordering::Relaxed);
        }
        // Quiescent point: every worker has finished its round.
        if barrier.wait().is_leader() {
            check_balance(&cache, &ledger, &format!("after round {round}"));
        }
        barrier.wait();
    }
}

/// Removals plus held entries must equal stored values (no worker is running).
fn check_balance<P: Policy>(cache: &Cache<u64, u64, P>, ledger: &Ledger, when: &str) {
    let removed = ledger.removed_total.load(Ordering::Relaxed);
    let stored = ledger.stored_total.load(Ordering::Relaxed);
    let held = cache.len() as u64;
    if removed + held != stored {
        ledger.violation(format!(
            "{when}: {removed} removed + {held} held != {stored} stored"
        ));
    }
}

fn stress<P: Policy>(name: &str, policy: P, capacity: Option<usize>, lifetime: Option<Duration>) {
    let clock = ManualClock::new();
    let ledger = Arc::new(Ledger::new(clock.clone()));
    let log = Arc::clone(&ledger);
    let cache: Cache<u64, u64, P> = Cache::builder(policy)
        .clock(clock)
        .shards(4)
        .listener(move |_key, id, _cause| {
            log.removals[id as usize].fetch_add(1, Ordering::Relaxed);
            log.removed_total.fetch_add(1, Ordering::Relaxed);
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
                worker(i, cache, ledger, barrier, capacity, lifetime);
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
    cache.clear();
    assert_eq!(cache.len(), 0);
    let stored = ledger.next_id.load(Ordering::Relaxed);
    for id in 1..stored {
        let n = ledger.removals[id as usize].load(Ordering::Relaxed);
        if n != 1 {
            ledger.violation(format!("value {id} reached the listener {n} times"));
        }
    }
    let violations = ledger.violations.lock().expect("violations");
    assert!(
        violations.is_empty(),
        "{name}: {} violations, first: {:#?}",
        violations.len(),
        &violations[..violations.len().min(10)]
    );
    let stats = cache.stats();
    let checks = ledger.lifetime_checks.load(Ordering::Relaxed);
    eprintln!("{name}: {checks} lifetime checks, {stats:?}");
    assert!(stats.hits > 0 && stats.misses > 0 && stats.creations > 0);
    assert!(
        stats.removals.expired > 0 || lifetime.is_none(),
        "{name}: the clock never expired anything"
    );
    assert!(
        lifetime.is_none() || checks > 1_000,
        "{name}: only {checks} lookups could be checked against a lifetime"
    );
}

#[test]
fn stress_sliding_ttl() {
    let policy = SlidingTtl::new(TTL)
        .and_then(|p| p.with_max_lifetime(LIFETIME))
        .expect("policy");
    stress("sliding-ttl", policy, None, Some(LIFETIME));
}

#[test]
fn stress_lru() {
    stress(
        "lru",
        LruBound::new(CAPACITY).expect("policy"),
        Some(CAPACITY),
        None,
    );
}

#[test]
fn stress_hybrid() {
    let policy = Hybrid::new(TTL, CAPACITY)
        .and_then(|p| p.with_max_lifetime(LIFETIME))
        .expect("policy");
    stress("hybrid", policy, Some(CAPACITY), Some(LIFETIME));
}
