use crate::lru_bound::checked_capacity;
use crate::policy::visit_each;
use crate::{
    NewEntry, Policy, PolicyError, Reads, Slot, SlotList, Timestamp, Weights, ensure_slot,
};

/// SIEVE (Zhang et al., NSDI '24): one FIFO queue, a visited bit per entry and
/// a hand that sweeps from the oldest entry toward the newest.
///
/// A hit only sets the entry's bit, so the cache may keep it for the policy
/// ([`Reads::Mark`]). To make room, the hand passes over visited
/// entries, clearing their bits, and evicts the first unvisited one; it stays
/// where it stopped for the next eviction, wrapping to the oldest entry when
/// it passes the newest. An entry read since the hand last passed survives
/// one more sweep.
///
/// As in the paper, a new entry joins the queue at the newest end once room
/// has been made for it: the evictions it causes never pick it, even when the
/// hand is at the newest end.
///
/// Holds at most `capacity` in total weight; an entry heavier than the whole
/// capacity is the next victim at once.
///
/// Its retention order ([`Policy::coldest_first`]) is the order the hand
/// would evict the entries held if nothing were read or added: entries
/// heavier than the capacity first, then the unvisited entries (no visited
/// bit and no read counted by the cache) in the order the hand reaches them
/// (from where it stands to the newest, then from the oldest), then the
/// visited ones in the same order (the hand clears their bits on its first lap
/// and takes them on its second), then the entry being admitted. New entries
/// join at the newest end, so the order of the entries held is kept while new
/// ones are added until the hand passes the newest: within that, the first
/// `k` named are exactly the next `k` evicted.
///
/// ```
/// use tenure_policies::{NewEntry, Policy, Sieve, Slot, Timestamp};
///
/// let mut sieve = Sieve::new(2)?;
/// let now = Timestamp::ZERO;
/// sieve.on_insert(Slot::new(0), NewEntry::new(0), now);
/// sieve.on_insert(Slot::new(1), NewEntry::new(1), now);
/// sieve.on_access(Slot::new(0), now);
/// sieve.on_insert(Slot::new(2), NewEntry::new(2), now);
/// // The hand starts at the oldest entry, 0: visited, so it is spared.
/// assert_eq!(sieve.next_victim(), Some(Slot::new(1)));
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sieve {
    capacity: usize,
    /// Oldest entry at the front.
    order: SlotList,
    weights: Weights,
    /// Indexed by slot; meaningful only for slots in `order` (reset on insert).
    visited: Vec<bool>,
    /// The next entry the hand looks at; `None` means the front.
    hand: Option<Slot>,
    /// The newest entry, held but not in `order` until room has been made for it.
    admitting: Option<Slot>,
    /// Entries heavier than the whole capacity, still held: victims first.
    oversized: Vec<Slot>,
}

impl Sieve {
    /// At most `capacity` in total weight (entries, without a weigher).
    ///
    /// # Errors
    /// [`PolicyError::ZeroCapacity`] if `capacity` is zero,
    /// [`PolicyError::CapacityTooLarge`] above [`Slot::LIMIT`].
    pub fn new(capacity: usize) -> Result<Self, PolicyError> {
        Ok(Sieve {
            capacity: checked_capacity(capacity)?,
            order: SlotList::new(),
            weights: Weights::new(),
            visited: Vec::new(),
            hand: None,
            admitting: None,
            oversized: Vec::new(),
        })
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The queue once round, in the order the hand reaches the entries.
    fn lap(&self) -> impl Iterator<Item = Slot> + '_ {
        let start = self
            .hand
            .filter(|&hand| self.order.contains(hand))
            .or_else(|| self.order.front());
        let mut at = start;
        std::iter::from_fn(move || {
            let slot = at?;
            at = self.order.after(slot).or_else(|| self.order.front());
            if at == start {
                at = None;
            }
            Some(slot)
        })
    }

    /// Puts the entry being admitted at the newest end.
    fn admit(&mut self) {
        if let Some(slot) = self.admitting.take() {
            self.order.push_back(slot);
        }
    }
}

impl Policy for Sieve {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        // Normally admitted by the `next_victim` calls that follow each write.
        self.admit();
        self.admitting = Some(slot);
        self.weights.add(slot, entry.weight);
        ensure_slot(&mut self.visited, slot, false);
        self.visited[slot.index()] = false;
        if u64::from(entry.weight) > self.capacity as u64 {
            self.oversized.push(slot);
        }
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        // A slot not held is reset when it is reused, so marking it is harmless.
        if let Some(visited) = self.visited.get_mut(slot.index()) {
            *visited = true;
        }
    }

    fn on_remove(&mut self, slot: Slot) {
        if self.admitting == Some(slot) {
            self.admitting = None;
        } else if self.order.contains(slot) {
            if self.hand == Some(slot) {
                self.hand = self.order.after(slot);
            }
            self.order.remove(slot);
        } else {
            return;
        }
        self.weights.remove(slot);
        if !self.oversized.is_empty() {
            self.oversized.retain(|&s| s != slot);
        }
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        if self.admitting == Some(from) {
            self.admitting = Some(to);
        } else if self.order.contains(from) {
            self.order.move_slot(from, to);
        } else {
            return;
        }
        self.weights.move_slot(from, to);
        ensure_slot(&mut self.visited, to, false);
        self.visited[to.index()] = self.visited[from.index()];
        if self.hand == Some(from) {
            self.hand = Some(to);
        }
        for s in &mut self.oversized {
            if *s == from {
                *s = to;
            }
        }
    }

    fn shrink_to(&mut self, slots: usize) {
        self.order.shrink_to(slots);
        self.weights.shrink_to(slots);
        if self.visited.len() > slots {
            self.visited.truncate(slots);
            self.visited.shrink_to(slots + slots / 8);
        }
    }

    fn reads(&self) -> Reads {
        Reads::Mark
    }

    fn next_victim(&mut self) -> Option<Slot> {
        self.next_victim_marked(&mut |_| 0)
    }

    fn next_victim_marked(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        if self.weights.total() <= self.capacity as u64 {
            self.admit();
            return None;
        }
        if let Some(&slot) = self.oversized.last() {
            return Some(slot);
        }
        // Only the entry being admitted is left if the queue is empty.
        let Some(mut at) = self.hand.or_else(|| self.order.front()) else {
            return self.admitting;
        };
        // Ends within one lap: every visited entry passed is cleared, and a
        // count once taken is gone.
        while std::mem::take(&mut self.visited[at.index()]) | (take_marks(at) > 0) {
            at = self.order.after(at).or_else(|| self.order.front())?;
        }
        // `on_remove` moves the hand past the victim.
        self.hand = Some(at);
        Some(at)
    }
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        let visited = |slot: Slot| self.visited[slot.index()] || marks(slot) > 0;
        let oversized = &self.oversized;
        let _ = visit_each(oversized.iter().rev().copied(), &[], visit)
            && visit_each(self.lap().filter(|&s| !visited(s)), oversized, visit)
            && visit_each(self.lap().filter(|&s| visited(s)), oversized, visit)
            && visit_each(self.admitting, oversized, visit);
    }
}
