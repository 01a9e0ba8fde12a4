//! Retention snapshots ([`Cache::coldest`](crate::Cache::coldest),
//! [`Cache::hottest`](crate::Cache::hottest)): the keys a cache would evict
//! first or keep longest, read under the policy lock after the read buffers
//! are replayed, so no write interleaves and, single-threaded, every read
//! counts. Nothing is reclaimed, evicted, moved or reported: it is not a write
//! and not an access.

use std::hash::{BuildHasher, Hash};

use crate::Policy;
use crate::Slot;
use crate::Timestamp;
use crate::engine::Inner;
use tenure_policies::Reads;

/// Which end of the retention order a snapshot starts from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// What the cache would evict first.
    Coldest,
    /// What it would keep longest.
    Hottest,
}

impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Up to `n` live keys from `end` of the retention order: the policy's
    /// order ([`Policy::coldest_first`]) if it has one, else by deadline.
    pub(crate) fn retention(&self, n: usize, end: End) -> Vec<K> {
        if n == 0 {
            return Vec::new();
        }
        let (core, now) = self.lock_drained();
        // Holding the policy lock, no table changes: every write holds it.
        let marks = |slot: Slot| match self.read_kind {
            Reads::Mark => {
                let (shard, pos) = self.layout.locate(slot);
                self.tables[shard].read().peek_marks(pos)
            }
            _ => 0,
        };
        let mut keys = Vec::with_capacity(n.min(core.len));
        let mut named = 0;
        match end {
            End::Coldest => core.policy.coldest_first(&marks, &mut |slot| {
                named += 1;
                keys.extend(self.live_key(slot, now));
                keys.len() < n
            }),
            End::Hottest => {
                let mut slots = Vec::with_capacity(core.len);
                core.policy.coldest_first(&marks, &mut |slot| {
                    slots.push(slot);
                    true
                });
                named = slots.len();
                let live = slots
                    .into_iter()
                    .rev()
                    .filter_map(|s| self.live_key(s, now));
                keys.extend(live.take(n));
            }
        }
        if named == 0 && self.timed {
            keys = self.by_deadline(n, end, now);
        }
        keys
    }

    /// The key of the entry in `slot`, unless the slot is empty or the entry
    /// expired at `now`.
    fn live_key(&self, slot: Slot, now: Timestamp) -> Option<K> {
        let (shard, pos) = self.layout.locate(slot);
        let table = self.tables[shard].read();
        let entry = table.at(pos)?;
        let expired = self.timed && table.is_expired(pos, entry, &self.expiry, now);
        (!expired).then(|| entry.key.clone())
    }

    /// Up to `n` live keys by deadline: earliest first from the cold end,
    /// latest from the hot end, an entry that never expires hottest of all.
    /// Ties keep table order.
    fn by_deadline(&self, n: usize, end: End, now: Timestamp) -> Vec<K> {
        let mut dated: Vec<(Option<Timestamp>, &K)> = Vec::new();
        let tables: Vec<_> = self.tables.iter().map(|table| table.read()).collect();
        for table in &tables {
            for (pos, entry) in table.entries() {
                let deadline = table.deadline(pos, entry, &self.expiry);
                if deadline.is_none_or(|d| now < d) {
                    dated.push((deadline, &entry.key));
                }
            }
        }
        dated.sort_by_key(|&(deadline, _)| (deadline.is_none(), deadline));
        if end == End::Hottest {
            dated.reverse();
        }
        dated
            .into_iter()
            .take(n)
            .map(|(_, key)| key.clone())
            .collect()
    }
}
