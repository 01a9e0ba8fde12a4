//! One shard of the cache's table, and the numbering that ties its positions to
//! policy slots.
//!
//! Entries sit in a `Vec` (a slab) and the hash index holds only a [`Pos`] per
//! entry, so the per-entry cost is the key, the value, one atomic timestamp and
//! 4 bytes of index (plus the index's control byte and load slack, and for a
//! policy that marks reads, one byte of read count). An entry's
//! policy [`Slot`] is derived from its position and its shard's number
//! ([`Layout`]), so no slot table is kept. Which positions are free is the
//! writer's business (it knows when a freed position may be reused); a table
//! only stores what it is told.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use crate::faults;
use crate::sync::{AtomicU8, AtomicU64, Ordering};
use crate::{Slot, Timestamp, ensure_slot};
use tenure_policies::{Expiry as Rules, Reads};

/// No deadline of the entry's own. A real deadline is stored at most one
/// nanosecond short of it ([`encode_deadline`]), so none can read back as this.
const NO_DEADLINE: u64 = u64::MAX;

/// An entry's own deadline as stored. A deadline saturated to the end of time
/// (a lifetime of ~584 years or more) stays a deadline, one nanosecond
/// earlier: no clock reaches either.
fn encode_deadline(deadline: Option<Timestamp>) -> u64 {
    deadline.map_or(NO_DEADLINE, |d| d.as_nanos().min(NO_DEADLINE - 1))
}

/// A position in one shard's slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos(u32);

impl Pos {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// How slots are numbered: a slot is a position with its shard's number in the
/// low bits, so slots stay dense while every shard grows on its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// log2 of the number of shards.
    shard_bits: u32,
    /// The number of shards less one: the low bits a slot's shard takes.
    shard_mask: u32,
}

impl Layout {
    /// At most this many shards, so a shard still has 2^22 positions.
    pub(crate) const MAX_SHARDS: usize = 1 << 10;

    /// `shards` rounded up to a power of two, between 1 and [`MAX_SHARDS`](Layout::MAX_SHARDS).
    pub(crate) fn new(shards: usize) -> Self {
        let shards = shards.clamp(1, Self::MAX_SHARDS).next_power_of_two();
        Layout {
            shard_bits: shards.trailing_zeros(),
            shard_mask: shards as u32 - 1,
        }
    }

    pub(crate) fn shards(self) -> usize {
        1 << self.shard_bits
    }

    /// The shard of a key's hash. hashbrown places an entry by the hash's low
    /// bits and tags it with the top 7, so the shard comes from bits in between.
    #[inline]
    pub(crate) fn shard_of(self, hash: u64) -> usize {
        ((hash >> 40) as u32 & self.shard_mask) as usize
    }

    #[inline]
    pub(crate) fn slot(self, shard: usize, pos: Pos) -> Slot {
        Slot::new((pos.0 << self.shard_bits) | shard as u32)
    }

    /// The shard and position of `slot`.
    #[inline]
    pub(crate) fn locate(self, slot: Slot) -> (usize, Pos) {
        let raw = slot.index() as u32;
        (
            (raw & self.shard_mask) as usize,
            Pos(raw >> self.shard_bits),
        )
    }

    /// The number of slots `positions` positions in every shard make.
    pub(crate) fn slots_for(self, positions: usize) -> usize {
        positions << self.shard_bits
    }

    /// The largest number of positions a shard may use.
    fn max_positions(self) -> usize {
        (Slot::LIMIT >> self.shard_bits).min(u32::MAX as usize)
    }
}

/// A stored entry.
pub(crate) struct Entry<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// Nanoseconds of the last read or write. Hits move it forward without a
    /// lock, and only forward ([`touch`](Entry::touch)).
    last_access: AtomicU64,
}

impl<K, V> Entry<K, V> {
    #[inline]
    pub(crate) fn last_access(&self) -> Timestamp {
        Timestamp::from_nanos(self.last_access.load(Ordering::Acquire))
    }

    /// Records a read at `now`. A thread that read the clock earlier and stores
    /// later must not undo a later read, so the time only moves forward; the
    /// check first keeps a hit within the same clock tick free of a
    /// read-modify-write.
    #[inline]
    pub(crate) fn touch(&self, now: Timestamp) {
        let now = faults::store_touch(&self.last_access, now.as_nanos());
        if self.last_access.load(Ordering::Relaxed) < now {
            self.last_access.fetch_max(now, Ordering::AcqRel);
        }
    }
}

/// One shard's entries and their hash index.
pub(crate) struct Table<K, V> {
    /// Hash → position of every entry in `slab`.
    index: HashTable<Pos>,
    /// Entries by position; `None` at free positions.
    slab: Vec<Option<Entry<K, V>>>,
    /// Creation times by position; kept only if `keeps_created`.
    created: Vec<Timestamp>,
    /// Whether the rules have a maximum lifetime (and so need creation times).
    keeps_created: bool,
    /// Each entry's own deadline in nanoseconds (`NO_DEADLINE`: none), by
    /// position; kept only if the cache has a per-entry [`Expiry`](crate::Expiry).
    /// Atomic: a read may move it, under the shard's read lock.
    own: Vec<AtomicU64>,
    keeps_own: bool,
    /// Reads of each entry not yet handed to a marking policy ([`Reads::Mark`]),
    /// by position, at most [`Reads::MARK_LIMIT`]; kept only for such a policy.
    ///
    /// Relaxed is enough: a mark is a hint, set by a hit under the shard's read
    /// lock and taken by a writer under the policy lock and the shard's read
    /// lock; it is reset or moved only under the shard's write lock, which
    /// orders it after every hit on the old entry (so a mark never lands on an
    /// entry that reused the position). A hit racing a take may lose or keep
    /// one read: only the order of evictions can change, as with lossy buffers.
    marks: Vec<AtomicU8>,
    keeps_marks: bool,
    /// The most positions this shard may use (slots must fit in a `u32`).
    max_positions: usize,
}

impl<K: Hash + Eq, V> Table<K, V> {
    pub(crate) fn new(layout: Layout, expiry: &Rules, per_entry: bool, reads: Reads) -> Self {
        Table {
            index: HashTable::new(),
            slab: Vec::new(),
            created: Vec::new(),
            keeps_created: expiry.max_lifetime.is_some(),
            own: Vec::new(),
            keeps_own: per_entry,
            marks: Vec::new(),
            keeps_marks: reads == Reads::Mark,
            max_positions: layout.max_positions(),
        }
    }

    /// The entry for `key` and its position.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<(Pos, &Entry<K, V>)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slab = &self.slab;
        let &pos = self.index.find(
            hash,
            |&p| matches!(&slab[p.index()], Some(e) if e.key.borrow() == key),
        )?;
        Some((pos, slab[pos.index()].as_ref()?))
    }

    /// The entry at `pos`, if occupied.
    pub(crate) fn at(&self, pos: Pos) -> Option<&Entry<K, V>> {
        self.slab.get(pos.index())?.as_ref()
    }

    /// When the entry at `pos` expires: the earliest of its deadline under
    /// `expiry` and its own (`None`: never).
    #[inline]
    pub(crate) fn deadline(
        &self,
        pos: Pos,
        entry: &Entry<K, V>,
        expiry: &Rules,
    ) -> Option<Timestamp> {
        let created = self
            .created
            .get(pos.index())
            .copied()
            .unwrap_or(Timestamp::ZERO);
        let ruled = expiry.deadline(created, entry.last_access());
        match self.own_deadline(pos) {
            Some(own) => Some(ruled.map_or(own, |r| r.min(own))),
            None => ruled,
        }
    }

    /// The entry's own deadline, if it has one.
    #[inline]
    pub(crate) fn own_deadline(&self, pos: Pos) -> Option<Timestamp> {
        let nanos = self.own.get(pos.index())?.load(Ordering::Acquire);
        (nanos != NO_DEADLINE).then(|| Timestamp::from_nanos(nanos))
    }

    /// Sets the entry's own deadline (under the read lock: a hit may move it).
    #[inline]
    pub(crate) fn set_own_deadline(&self, pos: Pos, deadline: Option<Timestamp>) {
        if let Some(own) = self.own.get(pos.index()) {
            own.store(encode_deadline(deadline), Ordering::Release);
        }
    }

    /// Counts a read of the entry at `pos` for a marking policy (a hit, under
    /// the read lock). Writes only when the count changes, so hits on a hot
    /// entry leave its cache line shared.
    #[inline]
    pub(crate) fn mark(&self, pos: Pos) {
        if let Some(mark) = self.marks.get(pos.index()) {
            let marks = mark.load(Ordering::Relaxed);
            if marks < Reads::MARK_LIMIT {
                mark.store(marks + 1, Ordering::Relaxed);
            }
        }
    }

    /// The reads counted for the entry at `pos` since last taken; forgets them.
    #[inline]
    pub(crate) fn take_marks(&self, pos: Pos) -> u8 {
        match self.marks.get(pos.index()) {
            Some(mark) if mark.load(Ordering::Relaxed) > 0 => mark.swap(0, Ordering::Relaxed),
            _ => 0,
        }
    }

    /// The reads counted for the entry at `pos` since last taken, left in
    /// place (for a retention snapshot, which must change nothing).
    #[inline]
    pub(crate) fn peek_marks(&self, pos: Pos) -> u8 {
        self.marks
            .get(pos.index())
            .map_or(0, |mark| mark.load(Ordering::Relaxed))
    }

    /// Whether the entry at `pos` is expired at `now`.
    #[inline]
    pub(crate) fn is_expired(
        &self,
        pos: Pos,
        entry: &Entry<K, V>,
        expiry: &Rules,
        now: Timestamp,
    ) -> bool {
        self.deadline(pos, entry, expiry).is_some_and(|d| now >= d) && !faults::skip_hit_expiry()
    }

    /// Stores a new entry (its key must be absent) at the free position `at`,
    /// or at a new position at the end; returns its position.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        now: Timestamp,
        own_deadline: Option<Timestamp>,
        at: Option<Pos>,
        hasher: &impl BuildHasher,
    ) -> Pos {
        let entry = Entry {
            key,
            value,
            last_access: AtomicU64::new(now.as_nanos()),
        };
        let pos = match at {
            Some(pos) => {
                debug_assert!(
                    self.slab[pos.index()].is_none(),
                    "reused an occupied position"
                );
                self.slab[pos.index()] = Some(entry);
                pos
            }
            None => {
                assert!(
                    self.slab.len() < self.max_positions,
                    "tenure: a shard ran out of positions ({} entries); use fewer shards",
                    self.slab.len()
                );
                if self.slab.len() == self.slab.capacity() {
                    // Grow by an eighth, not double: the slab is most of a large
                    // cache's memory, and writes are rare enough to copy more often.
                    let more = (self.slab.len() / 8).max(4);
                    self.slab.reserve_exact(more);
                }
                self.slab.push(Some(entry));
                Pos((self.slab.len() - 1) as u32)
            }
        };
        if self.keeps_created {
            ensure_slot(&mut self.created, Slot::new(pos.0), Timestamp::ZERO);
            self.created[pos.index()] = now;
        }
        if self.keeps_own {
            while self.own.len() <= pos.index() {
                self.own.push(AtomicU64::new(NO_DEADLINE));
            }
            self.set_own_deadline(pos, own_deadline);
        }
        if self.keeps_marks {
            while self.marks.len() <= pos.index() {
                self.marks.push(AtomicU8::new(0));
            }
            // A new entry starts unread, whatever was read at this position before.
            self.marks[pos.index()].store(0, Ordering::Relaxed);
        }
        let slab = &self.slab;
        self.index
            .insert_unique(hash, pos, |&p| rehash(slab, p, hasher));
        pos
    }

    /// Removes and returns the entry at `pos`; the position becomes free.
    pub(crate) fn take(&mut self, pos: Pos, hasher: &impl BuildHasher) -> Option<Entry<K, V>> {
        let hash = hasher.hash_one(&self.at(pos)?.key);
        if let Ok(found) = self.index.find_entry(hash, |&p| p == pos) {
            found.remove();
        }
        self.slab[pos.index()].take()
    }

    /// Moves the entry at `from` to the free position `to`.
    pub(crate) fn relocate(&mut self, from: Pos, to: Pos, hasher: &impl BuildHasher) {
        debug_assert!(
            self.slab[to.index()].is_none(),
            "moved onto an occupied position"
        );
        let Some(entry) = self.slab[from.index()].take() else {
            return;
        };
        let hash = hasher.hash_one(&entry.key);
        if let Ok(mut found) = self.index.find_entry(hash, |&p| p == from) {
            *found.get_mut() = to;
        }
        if let Some(&created) = self.created.get(from.index()) {
            self.created[to.index()] = created;
        }
        if self.keeps_own {
            self.set_own_deadline(to, self.own_deadline(from));
        }
        if self.keeps_marks {
            let marks = self.take_marks(from);
            self.marks[to.index()].store(marks, Ordering::Relaxed);
        }
        self.slab[to.index()] = Some(entry);
    }

    /// Every free position, highest first.
    pub(crate) fn free_positions(&self) -> impl Iterator<Item = Pos> + '_ {
        self.slab
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| e.is_none())
            .map(|(pos, _)| Pos(pos as u32))
    }

    /// The last position of the slab, if it is not empty.
    pub(crate) fn last_pos(&self) -> Option<Pos> {
        self.slab.len().checked_sub(1).map(|p| Pos(p as u32))
    }

    /// Drops the free positions at the end of the slab; returns the new span.
    pub(crate) fn trim(&mut self) -> usize {
        while self.slab.last().is_some_and(Option::is_none) {
            self.slab.pop();
        }
        self.created.truncate(self.slab.len());
        self.own.truncate(self.slab.len());
        self.marks.truncate(self.slab.len());
        self.slab.len()
    }

    /// Gives back memory the slab, the creation times and the index no longer
    /// need (each at most half used), keeping an eighth of slack.
    pub(crate) fn release_memory(&mut self, hasher: &impl BuildHasher) {
        let span = self.slab.len();
        if self.slab.capacity() > 2 * span + 8 {
            self.slab.shrink_to(span + span / 8);
            self.created.shrink_to(span + span / 8);
            self.own.shrink_to(span + span / 8);
            self.marks.shrink_to(span + span / 8);
        }
        let len = self.index.len();
        if self.index.capacity() > 4 * len + 32 {
            let slab = &self.slab;
            self.index.shrink_to(2 * len, |&p| rehash(slab, p, hasher));
        }
    }

    /// Every entry, with its position.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Pos, &Entry<K, V>)> {
        self.slab
            .iter()
            .enumerate()
            .filter_map(|(pos, e)| Some((Pos(pos as u32), e.as_ref()?)))
    }
}

fn rehash<K: Hash, V>(slab: &[Option<Entry<K, V>>], pos: Pos, hasher: &impl BuildHasher) -> u64 {
    slab[pos.index()]
        .as_ref()
        .map_or(0, |e| hasher.hash_one(&e.key))
}

#[cfg(all(test, not(tenure_loom)))]
mod tests {
    use super::*;

    #[test]
    fn slots_and_places_round_trip() {
        let layout = Layout::new(8);
        for shard in 0..8 {
            for pos in [0, 1, 77, 1 << 20] {
                let slot = layout.slot(shard, Pos(pos));
                assert_eq!(layout.locate(slot), (shard, Pos(pos)));
            }
        }
    }

    #[test]
    fn any_shard_count_is_clamped_to_a_power_of_two() {
        assert_eq!(Layout::new(0).shards(), 1);
        assert_eq!(Layout::new(3).shards(), 4);
        assert_eq!(Layout::new(usize::MAX).shards(), Layout::MAX_SHARDS);
    }
}
