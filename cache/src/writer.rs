//! The write protocol, owned here alone: [`Inner::write`] takes the policy
//! lock, replays the read buffers, reclaims what expired, runs the operation
//! (a [`Writer`]: what changes the tables and the policy), evicts down to the
//! bound, frees positions, publishes the length, and then, with every lock
//! released, hands the removals to the listener: the one place it is called.
//!
//! A position freed by a write is reused only by a later write. Every read of
//! the entry that was there was published to its thread's buffer before the
//! removal took the table lock, and every write replays all buffers before it
//! does anything else, so by the time the position holds a new entry no record
//! naming the old one is left to land on it.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::engine::{Core, Inner, ShardSize};
use crate::faults;
use crate::removals::Removals;
use crate::shard::{Pos, Table};
use crate::sync::{Ordering, RwLockWriteGuard};
use crate::{NewEntry, Policy, RemovalCause, Slot, Timestamp};
use tenure_policies::Reads;

/// Free positions a shard may carry beyond twice its entries before
/// compaction gives them back.
const MIN_WASTE: usize = 64;
/// Entries moved per shard per write while compacting, so no write stalls the
/// shard's readers for long.
const MOVES_PER_WRITE: usize = 64;

/// Whether a store replaces a value already present.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    Always,
    IfAbsent,
}

/// What [`Writer::store`] did.
enum Stored<V> {
    /// Stored, replacing this value if there was one.
    Replacing(Option<V>),
    /// Stored nothing: the key has this value.
    Kept(V),
}

/// Holds the policy lock (through `core`) for one write.
pub(crate) struct Writer<'a, K, V, P, S> {
    inner: &'a Inner<K, V, P, S>,
    core: &'a mut Core<P>,
    /// The time of this write, read once under the lock.
    now: Timestamp,
    /// Slots whose entries this write removed: their positions become free at
    /// its end ([`Writer::finish`]), for later writes.
    freed: Vec<Slot>,
    removed: Removals<K, V>,
}

impl<'a, K, V, P, S> Writer<'a, K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    pub(crate) fn new(inner: &'a Inner<K, V, P, S>, core: &'a mut Core<P>, now: Timestamp) -> Self {
        // The list's memory is kept between writes, so a write that frees a
        // position does not allocate.
        let freed = std::mem::take(&mut core.freed);
        Writer {
            inner,
            core,
            now,
            freed,
            removed: Removals::new(),
        }
    }

    /// Entries held right now.
    pub(crate) fn len(&self) -> usize {
        self.core.len
    }

    /// Stores `value` under `key`, weighing `weight`; returns the value it
    /// replaced. Every entry still held is live (expired ones were reclaimed
    /// first), so the replaced value is too. If an expiry hook panics, nothing
    /// has changed: the old entry stays as it was.
    pub(crate) fn insert(&mut self, key: K, hash: u64, value: V, weight: u32) -> Option<V> {
        match self.store(key, hash, value, weight, Store::Always) {
            Stored::Replacing(old) => old,
            Stored::Kept(_) => unreachable!("an insert always stores"),
        }
    }

    /// Stores a value a get-or-create creator made for `key`, unless `key`
    /// was written while the creator ran: that value stands, and the created
    /// one is dropped unstored. Returns the value `key` now has.
    pub(crate) fn create(&mut self, key: K, hash: u64, value: V, weight: u32) -> V {
        let when = match faults::overwrite_on_create() {
            false => Store::IfAbsent,
            true => Store::Always,
        };
        match self.store(key, hash, value.clone(), weight, when) {
            Stored::Kept(current) => current,
            Stored::Replacing(_) => {
                self.inner.counters.created();
                value
            }
        }
    }

    /// [`insert`](Writer::insert) and [`create`](Writer::create): one lookup
    /// of `key` decides, and stores unless `when` says to keep a present value.
    fn store(&mut self, key: K, hash: u64, value: V, weight: u32, when: Store) -> Stored<V> {
        let inner = self.inner;
        let shard = inner.layout.shard_of(hash);
        let mut table = inner.tables[shard].write();
        let found = match table.find(hash, &key) {
            Some((_, entry)) if when == Store::IfAbsent => {
                return Stored::Kept(entry.value.clone());
            }
            found => found.map(|(pos, _)| pos),
        };
        // User code first, before anything changes.
        let own = inner.per_entry.as_ref().and_then(|hooks| {
            match found {
                Some(pos) => {
                    let remaining = table
                        .own_deadline(pos)
                        .map(|d| d.saturating_duration_since(self.now));
                    hooks.expire_after_update(&key, &value, remaining)
                }
                None => hooks.expire_after_create(&key, &value),
            }
            .map(|d| self.now + d)
        });
        let old = found.and_then(|pos| {
            let old = table.take(pos, &inner.hasher);
            self.forget(inner.layout.slot(shard, pos), true);
            old
        });
        let at = self.take_free(shard);
        let pos = table.put(hash, key, value, self.now, own, at, &inner.hasher);
        let deadline = match inner.expiry.deadline(self.now, self.now) {
            Some(ruled) => Some(own.map_or(ruled, |o| o.min(ruled))),
            None => own,
        };
        drop(table);
        let size = &mut self.core.shards[shard];
        size.len += 1;
        let slot = inner.layout.slot(shard, pos);
        if at.is_none() {
            size.span += 1;
            self.core.span += 1;
            self.core.slots_high = self.core.slots_high.max(slot.index() + 1);
        }
        self.core.weights.add(slot, weight);
        let entry = NewEntry::new(hash).weighing(weight);
        self.core.policy.on_insert(slot, entry, self.now);
        if let (Some(timers), Some(deadline)) = (self.core.timers.as_mut(), deadline) {
            timers.schedule(slot, deadline);
        }
        self.core.len += 1;
        Stored::Replacing(old.map(|old| {
            self.booked(old.key, old.value.clone(), RemovalCause::Replaced);
            old.value
        }))
    }

    /// Removes `key`; returns its value (live: expired entries were reclaimed first).
    pub(crate) fn remove<Q>(&mut self, key: &Q, hash: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = self.inner;
        let shard = inner.layout.shard_of(hash);
        let mut table = inner.tables[shard].write();
        let (pos, _) = table.find(hash, key)?;
        let old = table.take(pos, &inner.hasher)?;
        drop(table);
        self.forget(inner.layout.slot(shard, pos), true);
        self.booked(old.key, old.value.clone(), RemovalCause::Removed);
        Some(old.value)
    }

    /// Removes every entry for which `predicate(key, value)` holds, with `cause`.
    pub(crate) fn remove_where(
        &mut self,
        predicate: &mut dyn FnMut(&K, &V) -> bool,
        cause: RemovalCause,
    ) -> usize {
        let inner = self.inner;
        let before = self.removed.len();
        for (shard, table) in inner.tables.iter().enumerate() {
            let mut table = table.write();
            let chosen: Vec<Pos> = table
                .entries()
                .filter(|(_, e)| predicate(&e.key, &e.value))
                .map(|(pos, _)| pos)
                .collect();
            for pos in chosen {
                if let Some(entry) = table.take(pos, &inner.hasher) {
                    self.forget(inner.layout.slot(shard, pos), true);
                    self.booked(entry.key, entry.value, cause);
                }
            }
        }
        self.removed.len() - before
    }

    /// Removes every entry whose own deadline has passed. The wheel names the
    /// entries whose *scheduled* deadline has passed; each is checked against
    /// its latest access and either reclaimed or filed again for its true
    /// deadline, so a read that never reached the policy still counts.
    pub(crate) fn reclaim_expired(&mut self) {
        // Checked first: taking the wheel out moves it whole, even when absent.
        if self.core.timers.is_none() {
            return;
        }
        let Some(mut timers) = self.core.timers.take() else {
            return;
        };
        let now = self.now;
        let mut met_live = false;
        timers.advance(now, |slot| {
            faults::reclaim_in_read_order(&mut met_live, now, || self.reclaim_if_expired(slot))
        });
        self.core.timers = Some(timers);
    }

    /// Files in the wheel the entries whose own deadline a read moved earlier
    /// (a slot reused since is filed at its new entry's deadline: harmless).
    pub(crate) fn reschedule(&mut self, slots: &mut Vec<Slot>) {
        let Some(timers) = self.core.timers.as_mut() else {
            return;
        };
        for slot in slots.drain(..) {
            let (shard, pos) = self.inner.layout.locate(slot);
            let table = self.inner.tables[shard].read();
            if let Some(deadline) = table
                .at(pos)
                .and_then(|entry| table.deadline(pos, entry, &self.inner.expiry))
            {
                timers.schedule(slot, deadline);
            }
        }
    }

    /// The timer wheel's check of the entry in `slot`: reclaims it if its own
    /// deadline has passed (`None`), or says when it is due (`Some`).
    fn reclaim_if_expired(&mut self, slot: Slot) -> Option<Timestamp> {
        let inner = self.inner;
        let (shard, pos) = inner.layout.locate(slot);
        let mut table = inner.tables[shard].write();
        let entry = table.at(pos)?;
        match table.deadline(pos, entry, &inner.expiry) {
            Some(d) if d > self.now && !faults::reclaim_trusts_policy() => Some(d),
            // A read hook lifted the entry's own deadline since it was filed:
            // it lives, and the wheel forgets it until a hook sets one again.
            None if !faults::reclaim_trusts_policy() => None,
            _ => {
                let entry = table.take(pos, &inner.hasher)?;
                drop(table);
                self.forget(slot, false);
                self.booked(entry.key, entry.value, RemovalCause::Expired);
                None
            }
        }
    }

    /// Evicts while the policy is over its bound.
    pub(crate) fn evict_over_bound(&mut self) {
        let inner = self.inner;
        // The shard last used stays locked between victims (victims cluster
        // in a few shards; the policy lock is held anyway), and a marking
        // policy reads its counts through the same lock.
        let mut held: Option<(usize, RwLockWriteGuard<'_, Table<K, V>>)> = None;
        // A correct policy stops once within bounds; the budget guards against
        // a custom one that keeps proposing.
        let mut budget = self.core.len + 2;
        while let Some(slot) = self.next_victim(&mut held) {
            budget -= 1;
            if budget == 0 {
                break;
            }
            let (shard, pos) = inner.layout.locate(slot);
            let entry = lock_shard(inner, &mut held, shard).take(pos, &inner.hasher);
            match entry {
                Some(entry) => {
                    self.forget(slot, true);
                    self.booked(entry.key, entry.value, RemovalCause::Capacity);
                }
                // A victim with no entry: the policy proposed a slot it should
                // not hold. Make it let go.
                None => self.core.policy.on_remove(slot),
            }
        }
    }

    /// The policy's next victim; a marking policy takes the read counts of
    /// the entries it looks at from the tables, through `held`.
    fn next_victim(
        &mut self,
        held: &mut Option<(usize, RwLockWriteGuard<'a, Table<K, V>>)>,
    ) -> Option<Slot> {
        if self.inner.read_kind != Reads::Mark {
            return self.core.policy.next_victim();
        }
        let inner = self.inner;
        let mut take_marks = |slot: Slot| {
            let (shard, pos) = inner.layout.locate(slot);
            lock_shard(inner, held, shard).take_marks(pos)
        };
        self.core.policy.next_victim_marked(&mut take_marks)
    }

    /// Ends the write: frees the positions it emptied, gives memory back if
    /// the cache has shrunk, and returns the removals.
    pub(crate) fn finish(mut self) -> Removals<K, V> {
        for slot in self.freed.drain(..) {
            let (shard, pos) = self.inner.layout.locate(slot);
            // A position compaction has already cut off is not free, it is gone.
            if pos.index() < self.core.shards[shard].span {
                self.core.free[shard].push_back(pos);
            }
        }
        // Keep the scratch list's memory for the next write, unless a mass
        // removal made it large.
        if self.freed.capacity() > 64 {
            self.freed.shrink_to(64);
        }
        self.core.freed = std::mem::take(&mut self.freed);
        self.compact();
        self.removed
    }

    /// A free position of `shard`, if any (skipping ones compaction dropped).
    fn take_free(&mut self, shard: usize) -> Option<Pos> {
        let span = self.core.shards[shard].span;
        let free = &mut self.core.free[shard];
        while let Some(pos) = free.pop_back() {
            if pos.index() < span {
                return Some(pos);
            }
        }
        None
    }

    /// Gives memory back once the cache holds far fewer entries than its
    /// tables have room for: moves a bounded number of entries per write from
    /// the end of a sparse shard into free positions nearer its start, drops
    /// the free tail, and lets the tables, the policy and the wheel release the
    /// memory they no longer need.
    fn compact(&mut self) {
        let shards = self.core.shards.len();
        if self.core.compacting == 0 && self.core.span <= 2 * self.core.len + MIN_WASTE * shards {
            return;
        }
        // This write may have freed positions whose old entries still have
        // buffered reads: replay them, so a moved entry never receives one.
        if self.inner.read_kind == Reads::Replay {
            self.inner.drain(self.core, self.now);
        }
        // A shard starts when it is sparse and goes on until it is dense.
        for shard in 0..shards {
            let ShardSize {
                len,
                span,
                compacting,
            } = self.core.shards[shard];
            if compacting || span > 2 * len + MIN_WASTE {
                self.compact_shard(shard, len);
            }
        }
        // Shrinking copies what is kept, so it waits for a fifth to be gone.
        let widest = self.core.shards.iter().map(|s| s.span).max().unwrap_or(0);
        let slots = self.inner.layout.slots_for(widest);
        if slots + slots / 4 < self.core.slots_high {
            self.core.policy.shrink_to(slots);
            self.core.weights.shrink_to(slots);
            if let Some(timers) = self.core.timers.as_mut() {
                timers.shrink_to(slots);
            }
            self.core.slots_high = slots;
        }
    }

    fn compact_shard(&mut self, shard: usize, len: usize) {
        let inner = self.inner;
        let layout = inner.layout;
        let mut table = inner.tables[shard].write();
        let before = self.core.shards[shard].span;
        let target = len + len / 4 + MIN_WASTE / 4;
        if !self.core.shards[shard].compacting {
            // Moves should fill the lowest holes: list them lowest last.
            self.core.free[shard] = table.free_positions().collect();
        }
        let mut moves = 0;
        let mut span = table.trim();
        while span > target && moves < MOVES_PER_WRITE {
            let Some(from) = table.last_pos() else { break };
            self.core.shards[shard].span = span;
            let Some(to) = self.take_free(shard) else {
                break;
            };
            if to.index() >= target || to >= from {
                // Part of the tail being vacated: it goes when the tail does.
                self.core.free[shard].push_front(to);
                if to >= from {
                    break;
                }
                continue;
            }
            let (source, target) = (layout.slot(shard, from), layout.slot(shard, to));
            // A position whose dead wheel node may come due too late for this
            // entry is not a target now (rare: it waits until that node is due).
            if let Some(timers) = self.core.timers.as_mut() {
                if !timers.move_slot(source, target) {
                    self.core.free[shard].push_front(to);
                    break;
                }
            }
            table.relocate(from, to, &inner.hasher);
            self.core.policy.on_move(source, target, self.now);
            self.core.weights.move_slot(source, target);
            moves += 1;
            span = table.trim();
        }
        self.core.span -= before - span;
        let size = &mut self.core.shards[shard];
        size.span = span;
        let compacting = span > target;
        if compacting != size.compacting {
            size.compacting = compacting;
            if compacting {
                self.core.compacting += 1;
            } else {
                self.core.compacting -= 1;
            }
        }
        // Positions beyond the span are skipped when popped; once they are
        // most of the list, drop them and the memory.
        let free = &mut self.core.free[shard];
        if free.capacity() > 4 * (span - len) + 16 {
            free.retain(|p| p.index() < span);
            free.shrink_to(2 * free.len());
        }
        table.release_memory(&inner.hasher);
    }

    /// Books the removal of the entry that was in `slot`: the policy (and, if
    /// `cancel`, the timer wheel) forgets it, its position is freed.
    fn forget(&mut self, slot: Slot, cancel: bool) {
        let (shard, _) = self.inner.layout.locate(slot);
        self.core.shards[shard].len -= 1;
        self.core.weights.remove(slot);
        self.core.policy.on_remove(slot);
        if cancel {
            if let Some(timers) = self.core.timers.as_mut() {
                timers.cancel(slot);
            }
        }
        self.freed.push(slot);
        self.core.len -= 1;
    }

    /// Queues a removed entry for the listener and counts it.
    fn booked(&mut self, key: K, value: V, cause: RemovalCause) {
        self.inner.counters.removed(cause);
        self.removed.push(key, value, cause);
    }
}

impl<K, V, P, S> Writer<'_, K, V, P, S> {
    /// Puts `value` in place of the last removed entry's (a test-only fault).
    pub(crate) fn replace_last_removed_value(&mut self, value: V) {
        if let Some(last) = self.removed.last_mut() {
            last.1 = value;
        }
    }
}

/// The table of `shard`, write-locked through `held` (which lets go of the
/// table it held before, if another).
fn lock_shard<'a, 'g, K, V, P, S>(
    inner: &'a Inner<K, V, P, S>,
    held: &'g mut Option<(usize, RwLockWriteGuard<'a, Table<K, V>>)>,
    shard: usize,
) -> &'g mut Table<K, V> {
    if held.as_ref().is_none_or(|(s, _)| *s != shard) {
        *held = None;
        *held = Some((shard, inner.tables[shard].write()));
    }
    let (_, table) = held.as_mut().expect("locked just now");
    table
}

impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Runs `op` as a write: under the policy lock, after replaying reads and
    /// reclaiming expired entries, followed by eviction down to the bound;
    /// then, with every lock released, hands each removal to the listener.
    ///
    /// This is the one door removals leave by. If `op` panics (user code it
    /// calls: an expiry hook, a predicate), the write still ends as any write
    /// does, every removal collected so far is delivered, and then the panic
    /// resumes; `op` must leave the write consistent where user code can
    /// panic (call it before changing anything).
    pub(crate) fn write<R>(&self, op: impl FnOnce(&mut Writer<'_, K, V, P, S>) -> R) -> R {
        self.write_then(op, |_| ())
    }

    /// [`write`](Inner::write), with `unlocked` run on `op`'s result once every
    /// lock is released and before the listener hears of any removal (so a
    /// listener that panics cannot keep it from running). Not run if `op`
    /// panicked.
    pub(crate) fn write_then<R>(
        &self,
        op: impl FnOnce(&mut Writer<'_, K, V, P, S>) -> R,
        unlocked: impl FnOnce(&R),
    ) -> R {
        let (result, removals) = {
            let (mut core, now) = self.lock_drained();
            let mut w = Writer::new(self, &mut core, now);
            if self.per_entry.is_some() {
                w.reschedule(&mut self.rescheduled.lock());
            }
            w.reclaim_expired();
            let result = catch_unwind(AssertUnwindSafe(|| op(&mut w)));
            faults::len_before_evict(|| self.len.store(w.len(), Ordering::Release));
            w.evict_over_bound();
            let removals = w.finish();
            self.weighted_size
                .store(core.weights.total(), Ordering::Release);
            self.len.store(core.len, Ordering::Release);
            (result, removals)
        };
        if let Ok(result) = &result {
            unlocked(result);
        }
        let listener_panic = removals.deliver(self.listener.as_ref(), &self.counters);
        match (result, listener_panic) {
            (Err(panic), _) | (Ok(_), Some(panic)) => resume_unwind(panic),
            (Ok(result), None) => result,
        }
    }

    /// A write that changes nothing: replays reads, reclaims what expired.
    pub(crate) fn maintain(&self) {
        self.write(|_| ());
    }
}
