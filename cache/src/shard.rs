//! One shard of the cache's table.
//!
//! Entries sit in a `Vec` (freed positions are reused), and the hash index holds
//! only a `u32` position per entry, so the per-entry cost is the key, the value,
//! one atomic timestamp and 4 bytes of index (plus the index's control byte and
//! slack). An entry's policy slot is derived from its position and the shard's
//! number, so no slot table is kept.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use crate::sync::{AtomicU64, Ordering};
use crate::{Expiry, Slot, Timestamp, ensure_slot};

/// A stored entry.
pub(crate) struct Entry<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// Nanoseconds of the last read or write; hits store to it without a lock.
    last_access: AtomicU64,
}

impl<K, V> Entry<K, V> {
    pub(crate) fn last_access(&self) -> Timestamp {
        Timestamp::from_nanos(self.last_access.load(Ordering::Relaxed))
    }

    pub(crate) fn touch(&self, now: Timestamp) {
        self.last_access.store(now.as_nanos(), Ordering::Relaxed);
    }
}

#[derive(Default)]
pub(crate) struct Shard<K, V> {
    index: HashTable<u32>,
    entries: Vec<Option<Entry<K, V>>>,
    /// Creation times by position; kept only for policies with a maximum lifetime.
    created: Vec<Timestamp>,
    free: Vec<u32>,
}

impl<K: Hash + Eq, V> Shard<K, V> {
    pub(crate) fn new() -> Self {
        Shard {
            index: HashTable::new(),
            entries: Vec::new(),
            created: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The entry for `key` and its position.
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<(u32, &Entry<K, V>)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = &self.entries;
        let &pos = self.index.find(
            hash,
            |&p| matches!(&entries[p as usize], Some(e) if e.key.borrow() == key),
        )?;
        Some((pos, entries[pos as usize].as_ref()?))
    }

    /// The entry at `pos`, if occupied.
    pub(crate) fn at(&self, pos: u32) -> Option<&Entry<K, V>> {
        self.entries.get(pos as usize)?.as_ref()
    }

    /// Whether the entry at `pos` is expired at `now`.
    pub(crate) fn is_expired(
        &self,
        pos: u32,
        entry: &Entry<K, V>,
        expiry: &Expiry,
        now: Timestamp,
    ) -> bool {
        let created = self
            .created
            .get(pos as usize)
            .copied()
            .unwrap_or(Timestamp::ZERO);
        expiry.is_expired(created, entry.last_access(), now)
    }

    /// Stores a new entry (the key must be absent) and returns its position.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        now: Timestamp,
        expiry: &Expiry,
        hasher: &impl BuildHasher,
    ) -> u32 {
        let entry = Entry {
            key,
            value,
            last_access: AtomicU64::new(now.as_nanos()),
        };
        let pos = match self.free.pop() {
            Some(pos) => {
                self.entries[pos as usize] = Some(entry);
                pos
            }
            None => {
                if self.entries.len() == self.entries.capacity() {
                    // Grow by a quarter, not double: the slab is most of a large
                    // cache's memory, and writes are rare enough to copy more often.
                    let more = (self.entries.len() / 4).max(4);
                    self.entries.reserve_exact(more);
                }
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as u32
            }
        };
        if expiry.max_lifetime.is_some() {
            ensure_slot(&mut self.created, Slot::new(pos), Timestamp::ZERO);
            self.created[pos as usize] = now;
        }
        let entries = &self.entries;
        self.index
            .insert_unique(hash, pos, |&p| rehash(entries, p, hasher));
        pos
    }

    /// Removes and returns the entry at `pos`.
    pub(crate) fn take(&mut self, pos: u32, hasher: &impl BuildHasher) -> Option<Entry<K, V>> {
        let hash = hasher.hash_one(&self.at(pos)?.key);
        if let Ok(found) = self.index.find_entry(hash, |&p| p == pos) {
            found.remove();
        }
        self.free.push(pos);
        self.entries[pos as usize].take()
    }

    /// The positions of every entry.
    pub(crate) fn positions(&self) -> impl Iterator<Item = (u32, &Entry<K, V>)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(pos, e)| Some((pos as u32, e.as_ref()?)))
    }

    /// The number of positions ever used (occupied or free).
    pub(crate) fn span(&self) -> usize {
        self.entries.len()
    }
}

fn rehash<K: Hash, V>(entries: &[Option<Entry<K, V>>], pos: u32, hasher: &impl BuildHasher) -> u64 {
    entries[pos as usize]
        .as_ref()
        .map_or(0, |e| hasher.hash_one(&e.key))
}
