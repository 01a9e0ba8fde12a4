use crate::{Expiry, Slot, Timestamp};

/// Why an entry left the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Its time ran out: not read for the TTL, or older than the maximum lifetime.
    Expired,
    /// The cache was over its capacity and this entry was chosen to make room.
    Capacity,
    /// Removed by the user (`remove`, or a predicate invalidation).
    Removed,
    /// Its key was written again with a new value.
    Replaced,
    /// The whole cache was cleared.
    Cleared,
}

impl RemovalCause {
    /// Every cause, in declaration order.
    pub const ALL: [RemovalCause; 5] = [
        RemovalCause::Expired,
        RemovalCause::Capacity,
        RemovalCause::Removed,
        RemovalCause::Replaced,
        RemovalCause::Cleared,
    ];

    /// Whether the cache chose to remove the entry (as opposed to the user).
    pub fn was_evicted(self) -> bool {
        matches!(self, RemovalCause::Expired | RemovalCause::Capacity)
    }
}

/// An eviction policy: a sequential state machine over slots.
///
/// The cache calls these methods under its own lock, one at a time, passing the
/// current time. A policy must not read a clock, lock, or block; it only keeps order.
///
/// Contract:
/// - `on_insert` is called once for each new entry, `on_remove` once when it leaves
///   (for any cause, including ones the policy itself proposed).
/// - `on_access` may name a slot the policy does not hold (a buffered read of an
///   entry removed since): ignore it. Under concurrency, accesses may arrive
///   slightly late and out of order (the cache buffers them); in a
///   single-threaded program they arrive in order before any other call.
/// - [`next_victim`](Policy::next_victim) and [`next_expired`](Policy::next_expired)
///   only *propose*; the cache removes the entry and then calls `on_remove`. They
///   must stop proposing once the removal has brought the policy within its bounds.
///
/// # Your own policy
///
/// A FIFO bound (evict the oldest insertion, ignore reads), using [`SlotList`](crate::SlotList):
///
/// ```
/// use tenure_policies::{Policy, Slot, SlotList, Timestamp};
///
/// struct Fifo { capacity: usize, order: SlotList }
///
/// impl Policy for Fifo {
///     fn on_insert(&mut self, slot: Slot, _now: Timestamp) { self.order.push_back(slot); }
///     fn on_access(&mut self, _slot: Slot, _now: Timestamp) {}
///     fn on_remove(&mut self, slot: Slot) { self.order.remove(slot); }
///     fn next_victim(&self) -> Option<Slot> {
///         (self.order.len() > self.capacity).then(|| self.order.front()).flatten()
///     }
/// }
///
/// let mut fifo = Fifo { capacity: 1, order: SlotList::new() };
/// fifo.on_insert(Slot::new(0), Timestamp::ZERO);
/// fifo.on_insert(Slot::new(1), Timestamp::ZERO);
/// fifo.on_access(Slot::new(0), Timestamp::ZERO); // FIFO ignores reads
/// assert_eq!(fifo.next_victim(), Some(Slot::new(0)));
/// ```
pub trait Policy: Send + 'static {
    /// The time rules the cache checks on every read. Must not change over the
    /// policy's life. The default is [`Expiry::NEVER`].
    fn expiry(&self) -> Expiry {
        Expiry::NEVER
    }

    /// A new entry was stored in `slot` at `now`.
    fn on_insert(&mut self, slot: Slot, now: Timestamp);

    /// The entry in `slot` was read at `now`. Ignore slots you do not hold.
    fn on_access(&mut self, slot: Slot, now: Timestamp);

    /// The entry in `slot` left the cache.
    fn on_remove(&mut self, slot: Slot);

    /// The entry to evict because the policy holds more than its bound, if any.
    fn next_victim(&self) -> Option<Slot>;

    /// An entry that is expired at `now` by the policy's own bookkeeping, if any.
    ///
    /// The cache double-checks against the entry's latest read before removing it;
    /// if the entry is in fact alive, it reports that read with `on_access` instead.
    fn next_expired(&self, now: Timestamp) -> Option<Slot> {
        let _ = now;
        None
    }
}
