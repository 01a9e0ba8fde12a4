use std::time::Duration;

use crate::lru_bound::checked_capacity;
use crate::sliding_ttl::checked_expiry;
use crate::timed::check_rules;
use crate::{Expiry, LruBound, NewEntry, Policy, PolicyError, Slot, Timestamp};

/// Sliding TTL and LRU bound at once: an entry leaves when it has been idle for
/// `ttl` (cause `Expired`), when it is older than the optional `max_lifetime`
/// (`Expired`), or when it is the least recently used and the cache is over
/// `capacity` (`Capacity`).
///
/// The time rules are data ([`Expiry`]) that the cache enforces; the policy
/// itself keeps the LRU order, which is also its retention order
/// ([`Policy::coldest_first`]): least recently used first.
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Hybrid, NewEntry, Policy, Slot, Timestamp};
///
/// let mut p = Hybrid::new(Duration::from_secs(60), 1)?;
/// let t0 = Timestamp::ZERO;
/// p.on_insert(Slot::new(0), NewEntry::new(0), t0);
/// p.on_insert(Slot::new(1), NewEntry::new(1), t0);
/// assert_eq!(p.next_victim(), Some(Slot::new(0)));
/// assert_eq!(p.expiry().deadline(t0, t0), Some(t0 + Duration::from_secs(60)));
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hybrid {
    expiry: Expiry,
    lru: LruBound,
}

impl Hybrid {
    /// Entries expire `ttl` after their last use, and at most `capacity` are held.
    ///
    /// # Errors
    /// [`PolicyError::ZeroTtl`], [`PolicyError::ZeroCapacity`] or
    /// [`PolicyError::CapacityTooLarge`].
    pub fn new(ttl: Duration, capacity: usize) -> Result<Self, PolicyError> {
        Self::with_rules(ttl, capacity, None)
    }

    /// No sliding TTL: every entry ends `max_lifetime` after it was created,
    /// however often it is read, and at most `capacity` are held (what a cache
    /// built with `max_capacity` and `time_to_live` does).
    ///
    /// # Errors
    /// [`PolicyError::ZeroLifetime`], [`PolicyError::ZeroCapacity`] or
    /// [`PolicyError::CapacityTooLarge`].
    pub fn lifetime_only(capacity: usize, max_lifetime: Duration) -> Result<Self, PolicyError> {
        let expiry = Expiry {
            ttl: None,
            max_lifetime: Some(max_lifetime),
        };
        check_rules(expiry)?;
        Ok(Hybrid {
            expiry,
            lru: LruBound::new(checked_capacity(capacity)?)?,
        })
    }

    /// Also end every entry `max_lifetime` after it was created.
    ///
    /// # Errors
    /// [`PolicyError::MaxLifetimeShorterThanTtl`] if `max_lifetime < ttl`.
    pub fn with_max_lifetime(self, max_lifetime: Duration) -> Result<Self, PolicyError> {
        match self.expiry.ttl {
            Some(ttl) => Self::with_rules(ttl, self.capacity(), Some(max_lifetime)),
            None => Self::lifetime_only(self.capacity(), max_lifetime),
        }
    }

    fn with_rules(
        ttl: Duration,
        capacity: usize,
        max_lifetime: Option<Duration>,
    ) -> Result<Self, PolicyError> {
        let expiry = checked_expiry(ttl, max_lifetime)?;
        Ok(Hybrid {
            expiry,
            lru: LruBound::new(checked_capacity(capacity)?)?,
        })
    }

    /// The sliding TTL (`Duration::MAX` for [`lifetime_only`](Hybrid::lifetime_only)).
    pub fn ttl(&self) -> Duration {
        self.expiry.ttl.unwrap_or(Duration::MAX)
    }

    /// The absolute lifetime, if set.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.expiry.max_lifetime
    }

    /// The bound on the number of entries.
    pub fn capacity(&self) -> usize {
        self.lru.capacity()
    }
}

impl Policy for Hybrid {
    fn expiry(&self) -> Expiry {
        self.expiry
    }

    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp) {
        self.lru.on_insert(slot, entry, now);
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, now: Timestamp) {
        self.lru.on_access(slot, now);
    }

    fn on_remove(&mut self, slot: Slot) {
        self.lru.on_remove(slot);
    }

    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp) {
        self.lru.on_move(from, to, now);
    }

    fn next_victim(&mut self) -> Option<Slot> {
        self.lru.next_victim()
    }

    fn shrink_to(&mut self, slots: usize) {
        self.lru.shrink_to(slots);
    }
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        self.lru.coldest_first(marks, visit);
    }
}
