use crate::policy::visit_each;
use crate::{NewEntry, Policy, PolicyError, Slot, SlotList, Timestamp, Weights};

/// Least-recently-used bound: holds at most `capacity` entries (or total
/// weight, with a weigher); going over evicts the entries read or written
/// longest ago. Entries never expire.
///
/// Its retention order ([`Policy::coldest_first`]) is its eviction order,
/// exactly: least recently used first (an entry heavier than the whole
/// capacity first of all).
///
/// ```
/// use tenure_policies::{LruBound, NewEntry, Policy, Slot, Timestamp};
///
/// let mut lru = LruBound::new(2)?;
/// let now = Timestamp::ZERO;
/// lru.on_insert(Slot::new(0), NewEntry::new(0), now);
/// lru.on_insert(Slot::new(1), NewEntry::new(1), now);
/// lru.on_access(Slot::new(0), now);
/// lru.on_insert(Slot::new(2), NewEntry::new(2), now);
/// assert_eq!(lru.next_victim(), Some(Slot::new(1)));
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LruBound {
    capacity: usize,
    order: SlotList,
    weights: Weights,
}

impl LruBound {
    /// At most `capacity` entries.
    ///
    /// # Errors
    /// [`PolicyError::ZeroCapacity`] if `capacity` is zero,
    /// [`PolicyError::CapacityTooLarge`] above [`Slot::LIMIT`].
    pub fn new(capacity: usize) -> Result<Self, PolicyError> {
        Ok(LruBound {
            capacity: checked_capacity(capacity)?,
            order: SlotList::new(),
            weights: Weights::new(),
        })
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Validates a capacity.
pub(crate) fn checked_capacity(capacity: usize) -> Result<usize, PolicyError> {
    match capacity {
        0 => Err(PolicyError::ZeroCapacity),
        c if c > Slot::LIMIT => Err(PolicyError::CapacityTooLarge {
            capacity,
            max: Slot::LIMIT,
        }),
        c => Ok(c),
    }
}

impl Policy for LruBound {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        // An entry heavier than the bound goes first, alone.
        if u64::from(entry.weight) > self.capacity as u64 {
            self.order.push_front(slot);
        } else {
            self.order.push_back(slot);
        }
        self.weights.add(slot, entry.weight);
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        self.order.move_to_back(slot);
    }

    fn on_remove(&mut self, slot: Slot) {
        self.order.remove(slot);
        self.weights.remove(slot);
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        self.order.move_slot(from, to);
        self.weights.move_slot(from, to);
    }

    fn shrink_to(&mut self, slots: usize) {
        self.order.shrink_to(slots);
        self.weights.shrink_to(slots);
    }

    fn next_victim(&mut self) -> Option<Slot> {
        (self.weights.total() > self.capacity as u64)
            .then(|| self.order.front())
            .flatten()
    }
    fn coldest_first(&self, _marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        visit_each(self.order.iter(), &[], visit);
    }
}
