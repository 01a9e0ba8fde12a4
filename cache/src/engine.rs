//! The engine behind [`Cache`](crate::Cache): the sharded tables, the policy
//! core, the per-thread read buffers, and the read path. The write protocol
//! stands on it in `writer.rs`, get-or-create's in `creation.rs`; the engine
//! knows neither.
//!
//! # A hit
//!
//! A hit takes its shard's lock *shared*, checks the entry's deadline against
//! one clock read (skipped when there are no time rules), moves the entry's
//! atomic access time forward, clones the value and, for a policy that keeps
//! order, appends the entry's slot to this thread's read buffer
//! ([`read_buffer`](crate::read_buffer)) before releasing the lock. For a
//! policy that only marks read entries (S3-FIFO, SIEVE: [`Reads::Mark`]) it
//! raises the entry's read count in the table instead, and the policy takes
//! the count when it looks at the entry while choosing a victim. It counts
//! itself in the same buffer. No allocation, no exclusive lock, no shared
//! counter. When the buffer fills, the hit *tries* the policy lock to replay the
//! buffers; if the lock is busy it moves on.
//!
//! # A write
//!
//! Every write (insert, remove, a creation, a read that met an expired entry,
//! maintenance) takes the policy lock, replays the read buffers, reclaims every
//! entry whose own deadline has passed (the timer wheel asks about each due
//! entry and the entry's atomic access time answers, so the order reads were
//! replayed in does not matter), applies its change and evicts while the policy
//! is over its bound. Freed positions are reused only after the buffers have been
//! replayed once more, so a buffered read never lands on another entry. Removed
//! entries go to the listener after every lock is released.
//!
//! Lock order: the policy lock, then a table lock or a flight-registry lock
//! (a finishing creation takes its flight off the registry in its write); a
//! flight-registry lock, then a table lock (shared). Nothing waits for the
//! policy lock while holding a table lock or a registry lock.

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};

use crate::clock::Clock;
use crate::expire::Expiry as EntryExpiry;
use crate::faults;
use crate::flight::Flights;
use crate::read_buffer::{Mine, ReadBuffers, ThreadReads};
use crate::removals::EvictionListener;
use crate::shard::{Entry, Layout, Pos, Table};
use crate::stats::{CacheStats, WriteCounters};
use crate::sweeper::{Sweeper, Sweepers};
use crate::sync::{Arc, AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering, RwLock};
use crate::{Policy, Slot, TimerWheel, Timestamp};
use tenure_policies::Weights;
use tenure_policies::{Expiry, Reads};

/// The wheel's tick when only per-entry deadlines expire entries.
const PER_ENTRY_TICK: std::time::Duration = std::time::Duration::from_millis(1);

/// Weighs an entry: what it counts against a weighted capacity.
pub(crate) type Weigher<K, V> = Box<dyn Fn(&K, &V) -> u32 + Send + Sync>;

/// Everything a write changes, behind the policy lock.
pub(crate) struct Core<P> {
    /// The eviction policy: order and victims.
    pub(crate) policy: P,
    /// Every entry's deadline; present exactly when the policy has time rules.
    pub(crate) timers: Option<TimerWheel>,
    /// The read buffers of every thread that has used this cache and whose
    /// buffer has not been retired.
    pub(crate) reads: Vec<Arc<ThreadReads>>,
    /// Hits and misses counted by buffers since retired.
    pub(crate) retired: (u64, u64),
    /// The latest time a drain replayed reads at.
    pub(crate) latest: Timestamp,
    /// Per shard, positions free for a new entry, taken from the back. May also
    /// hold positions at or beyond the shard's span (dropped by compaction):
    /// skip those.
    pub(crate) free: Box<[VecDeque<Pos>]>,
    /// Scratch for a write's freed slots (see [`Writer`]), kept for its memory.
    pub(crate) freed: Vec<crate::Slot>,
    /// Per shard, entries held and positions spanned (held or free).
    pub(crate) shards: Box<[ShardSize]>,
    /// Positions spanned in all shards.
    pub(crate) span: usize,
    /// Shards being compacted.
    pub(crate) compacting: usize,
    /// The most slots in use since the policy and the wheel last gave memory
    /// back (they are told to when it halves).
    pub(crate) slots_high: usize,
    /// Entries held.
    pub(crate) len: usize,
    /// Each entry's weight and their total.
    pub(crate) weights: Weights,
}

/// How full one shard is, as the policy lock holder knows it.
#[derive(Clone, Copy, Default)]
pub(crate) struct ShardSize {
    /// Entries held.
    pub(crate) len: usize,
    /// The table's slab length: held and free positions.
    pub(crate) span: usize,
    /// Compaction is under way: the free list was sorted to fill the lowest
    /// positions first.
    pub(crate) compacting: bool,
}

/// The shared state of one cache; [`Cache`](crate::Cache) handles point at it.
pub(crate) struct Inner<K, V, P, S> {
    /// The entries, one reader-writer lock per shard.
    pub(crate) tables: Box<[RwLock<Table<K, V>>]>,
    /// How policy slots map to shards and positions.
    pub(crate) layout: Layout,
    /// Creations in progress, for single-flight get-or-create.
    pub(crate) flights: Flights<K, V>,
    /// The policy and the rest of the write-side state.
    pub(crate) core: Mutex<Core<P>>,
    /// This cache's side of the per-thread read buffers.
    pub(crate) reads: ReadBuffers,
    /// The policy's time rules, copied so that a hit can check them unlocked.
    pub(crate) expiry: Expiry,
    /// Deadlines chosen per entry, if the builder was given them.
    pub(crate) per_entry: Option<Box<dyn EntryExpiry<K, V>>>,
    /// Whether anything expires: the cache reads its clock only then.
    pub(crate) timed: bool,
    /// Entries whose own deadline a read moved earlier: the wheel must hear
    /// of it at the next write (only used with `per_entry`).
    pub(crate) rescheduled: Mutex<Vec<Slot>>,
    /// How the policy wants reads passed on, copied for the same reason.
    pub(crate) read_kind: Reads,
    /// Where time comes from.
    pub(crate) clock: Arc<dyn Clock>,
    /// Hashes keys for the tables and the flights.
    pub(crate) hasher: S,
    /// Entries held, published at the end of every write.
    pub(crate) len: AtomicUsize,
    /// Their total weight, published with `len`.
    pub(crate) weighted_size: AtomicU64,
    /// Weighs each entry as it is stored; every entry weighs 1 without one.
    pub(crate) weigher: Option<Weigher<K, V>>,
    /// Told of every removal, with no lock held.
    pub(crate) listener: Option<EvictionListener<K, V>>,
    /// Creations, failures and removals by cause.
    pub(crate) counters: WriteCounters,
    /// How to stop each sweeper started for this cache.
    pub(crate) sweepers: Sweepers,
    /// The sweeper the builder started; it lives as long as the cache.
    pub(crate) owned_sweeper: Mutex<Option<Sweeper>>,
    /// The name the stats are published under; none: they are not published.
    #[cfg(feature = "metrics")]
    pub(crate) metrics_name: Option<crate::metrics::MetricsName>,
}

impl<K, V, P, S> Drop for Inner<K, V, P, S> {
    fn drop(&mut self) {
        self.sweepers.stop_all();
    }
}

/// What a lookup found.
pub(crate) enum Lookup<V> {
    Hit(V),
    Miss,
    /// An entry past its deadline (still held until a write reclaims it).
    Expired,
}

impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    pub(crate) fn new(
        policy: P,
        shards: usize,
        clock: Arc<dyn Clock>,
        hasher: S,
        listener: Option<EvictionListener<K, V>>,
        weigher: Option<Weigher<K, V>>,
        per_entry: Option<Box<dyn EntryExpiry<K, V>>>,
    ) -> Self {
        let layout = Layout::new(shards);
        let expiry = policy.expiry();
        let timers = TimerWheel::for_rules(&expiry)
            .or_else(|| per_entry.is_some().then(|| TimerWheel::new(PER_ENTRY_TICK)));
        let read_kind = policy.reads();
        Inner {
            tables: (0..layout.shards())
                .map(|_| RwLock::new(Table::new(layout, &expiry, per_entry.is_some(), read_kind)))
                .collect(),
            layout,
            flights: Flights::new(layout.shards()),
            core: Mutex::new(Core {
                policy,
                timers,
                reads: Vec::new(),
                retired: (0, 0),
                latest: Timestamp::ZERO,
                free: (0..layout.shards()).map(|_| VecDeque::new()).collect(),
                freed: Vec::new(),
                shards: vec![ShardSize::default(); layout.shards()].into_boxed_slice(),
                span: 0,
                compacting: 0,
                slots_high: 0,
                len: 0,
                weights: Weights::new(),
            }),
            reads: ReadBuffers::new(),
            timed: expiry.uses_time() || per_entry.is_some(),
            expiry,
            per_entry,
            rescheduled: Mutex::new(Vec::new()),
            read_kind,
            clock,
            hasher,
            len: AtomicUsize::new(0),
            weighted_size: AtomicU64::new(0),
            weigher,
            listener,
            counters: WriteCounters::default(),
            sweepers: Sweepers::new(),
            owned_sweeper: Mutex::new(None),
            #[cfg(feature = "metrics")]
            metrics_name: None,
        }
    }

    pub(crate) fn table(&self, hash: u64) -> &RwLock<Table<K, V>> {
        &self.tables[self.layout.shard_of(hash)]
    }

    /// The time, if any rule needs it.
    pub(crate) fn now(&self) -> Timestamp {
        if self.timed {
            self.clock.now()
        } else {
            Timestamp::ZERO
        }
    }

    /// Runs `f` with this thread's read buffer.
    fn with_mine<R>(&self, f: impl FnOnce(Mine<'_>) -> R) -> R {
        self.reads
            .with_mine(|reads| self.core.lock().reads.push(reads), f)
    }

    pub(crate) fn count_hit(&self) {
        self.with_mine(|mine| mine.count_hit());
    }

    pub(crate) fn count_miss(&self) {
        self.with_mine(|mine| mine.count_miss());
    }

    /// The hit path. Counts hits, and misses if `count_miss` (get-or-create
    /// counts its misses only once it knows it will wait or create).
    pub(crate) fn lookup<Q>(&self, key: &Q, hash: u64, count_miss: bool) -> Lookup<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with_mine(|mine| {
            let shard = self.layout.shard_of(hash);
            let table = self.tables[shard].read();
            let miss = |found| {
                if count_miss {
                    mine.count_miss();
                }
                found
            };
            let Some((pos, entry)) = table.find(hash, key) else {
                return miss(Lookup::Miss);
            };
            // The one clock read of a hit, reused by the drain it may trigger.
            let now = self.now();
            let Some(value) = self.read_at(&table, shard, pos, entry, now) else {
                return miss(Lookup::Expired);
            };
            let table = faults::unlock_before_record(table);
            // Published before the table lock goes: see `read_buffer`.
            let full = self.read_kind == Reads::Replay && mine.record(self.layout.slot(shard, pos));
            drop(table);
            mine.count_hit();
            if full {
                if let Some(mut core) = self.core.try_lock() {
                    self.drain(&mut core, now);
                }
            }
            Lookup::Hit(value)
        })
    }

    /// A read of the entry at `pos`, under its shard's read lock: its value,
    /// with the read counted on the entry (access time, read hook, read mark),
    /// or `None` if it has expired at `now`.
    #[inline]
    fn read_at(
        &self,
        table: &Table<K, V>,
        shard: usize,
        pos: Pos,
        entry: &Entry<K, V>,
        now: Timestamp,
    ) -> Option<V> {
        if self.timed {
            if table.is_expired(pos, entry, &self.expiry, now) {
                return None;
            }
            entry.touch(now);
            if let Some(hooks) = &self.per_entry {
                self.after_read(hooks.as_ref(), table, shard, pos, now);
            }
        }
        if self.read_kind == Reads::Mark && faults::mark_reads() {
            table.mark(pos);
        }
        Some(entry.value.clone())
    }

    /// A lookup that takes no lock but its shard's and counts nothing: for
    /// get-or-create's last look under the flight registry's lock. The read
    /// reaches the entry (time, hook, mark) but not the policy's order: as a
    /// read dropped from a full buffer would.
    pub(crate) fn recheck<Q>(&self, key: &Q, hash: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shard = self.layout.shard_of(hash);
        let table = self.tables[shard].read();
        let (pos, entry) = table.find(hash, key)?;
        self.read_at(&table, shard, pos, entry, self.now())
    }

    /// Runs the read hook of a per-entry expiry on a hit at `now`, and moves
    /// the entry's own deadline if the hook says so.
    #[cold]
    fn after_read(
        &self,
        hooks: &dyn EntryExpiry<K, V>,
        table: &Table<K, V>,
        shard: usize,
        pos: Pos,
        now: Timestamp,
    ) {
        let Some(entry) = table.at(pos) else { return };
        let own = table.own_deadline(pos);
        let remaining = own.map(|d| d.saturating_duration_since(now));
        let wanted = hooks.expire_after_read(&entry.key, &entry.value, remaining);
        if wanted == remaining {
            return;
        }
        let deadline = wanted.map(|d| now + d);
        table.set_own_deadline(pos, deadline);
        // A later deadline is found when the old one comes due; an earlier
        // one must be filed before it passes.
        if deadline.is_some_and(|d| own.is_none_or(|o| d < o)) {
            self.rescheduled.lock().push(self.layout.slot(shard, pos));
        }
    }

    /// Whether `key` has a live entry; not an access.
    pub(crate) fn contains<Q>(&self, key: &Q, hash: u64) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with_live(key, hash, |_| ()).is_some()
    }

    /// `key`'s live value; not an access (for iteration).
    pub(crate) fn peek<Q>(&self, key: &Q, hash: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.with_live(key, hash, |entry| entry.value.clone())
    }

    /// `read` of `key`'s entry if it is live at a clock read taken under its
    /// shard's read lock. Not an access: no deadline, order or mark moves,
    /// no hook runs, nothing is counted.
    fn with_live<Q, R>(&self, key: &Q, hash: u64, read: impl FnOnce(&Entry<K, V>) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let table = self.table(hash).read();
        let (pos, entry) = table.find(hash, key)?;
        let expired = self.timed && table.is_expired(pos, entry, &self.expiry, self.clock.now());
        (!expired).then(|| read(entry))
    }

    /// The number of shards.
    pub(crate) fn shards(&self) -> usize {
        self.tables.len()
    }

    /// Appends the keys of `shard`'s entries live at `now` to `keys`, under
    /// the shard's read lock.
    pub(crate) fn live_keys_in(&self, shard: usize, now: Timestamp, keys: &mut Vec<K>)
    where
        K: Clone,
    {
        let table = self.tables[shard].read();
        let live = table
            .entries()
            .filter(|&(pos, e)| !table.is_expired(pos, e, &self.expiry, now));
        keys.extend(live.map(|(_, e)| e.key.clone()));
    }

    /// The keys of every live entry.
    pub(crate) fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        let now = self.now();
        let mut keys = Vec::with_capacity(self.len.load(Ordering::Acquire));
        for shard in 0..self.shards() {
            self.live_keys_in(shard, now, &mut keys);
        }
        keys
    }

    /// Takes the policy lock and replays the read buffers into the policy at
    /// a clock read taken under the lock: how every write, and every
    /// retention snapshot, begins.
    pub(crate) fn lock_drained(&self) -> (MutexGuard<'_, Core<P>>, Timestamp) {
        let mut core = self.core.lock();
        let now = self.now();
        self.drain(&mut core, now);
        (core, now)
    }

    /// Replays every thread's read buffer into the policy, and retires the
    /// buffers of threads that have ended. A hit's `now` may be older than
    /// the last write's: the policy never sees time go back.
    pub(crate) fn drain(&self, core: &mut Core<P>, now: Timestamp) {
        let Core {
            policy,
            reads,
            retired,
            latest,
            ..
        } = core;
        *latest = (*latest).max(now);
        let now = *latest;
        reads.retain(|buffer| {
            // Read first: a thread publishes its last records before it closes.
            let closed = buffer.is_closed();
            buffer.replay(|slot| policy.on_access(slot, now));
            if closed {
                retired.0 += buffer.hits();
                retired.1 += buffer.misses();
            }
            !closed
        });
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> CacheStats {
        let (mut hits, mut misses) = self.reads.homeless_counts();
        {
            let core = self.core.lock();
            hits += core.retired.0;
            misses += core.retired.1;
            for buffer in &core.reads {
                hits += buffer.hits();
                misses += buffer.misses();
            }
        }
        self.counters.snapshot(
            hits,
            misses,
            self.len.load(Ordering::Acquire),
            self.weighted_size.load(Ordering::Acquire),
        )
    }

    /// The weight of an entry about to be stored (called with no lock held).
    pub(crate) fn weigh(&self, key: &K, value: &V) -> u32 {
        self.weigher.as_ref().map_or(1, |weigh| weigh(key, value))
    }
}

impl<K, V, P, S> crate::sweeper::Maintain for Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    fn maintain(&self) {
        Inner::maintain(self);
        #[cfg(feature = "metrics")]
        self.publish_metrics();
    }
}

#[cfg(feature = "metrics")]
impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Publishes a snapshot of the counters, if the cache has a name.
    pub(crate) fn publish_metrics(&self) {
        if let Some(name) = &self.metrics_name {
            name.publish(&self.stats());
        }
    }
}
