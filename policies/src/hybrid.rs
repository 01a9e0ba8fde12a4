use std::time::Duration;

use crate::deadlines::{Deadlines, forward_to_deadlines};
use crate::lru_bound::checked_capacity;
use crate::sliding_ttl::checked_expiry;
use crate::{Policy, PolicyError, Slot};

/// Sliding TTL and LRU bound at once: an entry leaves when it has been idle for
/// `ttl` (cause `Expired`), when it is older than the optional `max_lifetime`
/// (`Expired`), or when it is the least recently used and the cache is over
/// `capacity` (`Capacity`).
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Hybrid, Policy, Slot, Timestamp};
///
/// let mut p = Hybrid::new(Duration::from_secs(60), 1)?;
/// let t0 = Timestamp::ZERO;
/// p.on_insert(Slot::new(0), t0);
/// p.on_insert(Slot::new(1), t0);
/// assert_eq!(p.next_victim(), Some(Slot::new(0)));
/// p.on_remove(Slot::new(0));
/// assert_eq!(p.next_expired(t0 + Duration::from_secs(60)), Some(Slot::new(1)));
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hybrid {
    capacity: usize,
    deadlines: Deadlines,
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

    /// Also end every entry `max_lifetime` after it was created.
    ///
    /// # Errors
    /// [`PolicyError::MaxLifetimeShorterThanTtl`] if `max_lifetime < ttl`.
    pub fn with_max_lifetime(self, max_lifetime: Duration) -> Result<Self, PolicyError> {
        Self::with_rules(self.ttl(), self.capacity, Some(max_lifetime))
    }

    fn with_rules(
        ttl: Duration,
        capacity: usize,
        max_lifetime: Option<Duration>,
    ) -> Result<Self, PolicyError> {
        let expiry = checked_expiry(ttl, max_lifetime)?;
        Ok(Hybrid {
            capacity: checked_capacity(capacity)?,
            deadlines: Deadlines::new(expiry),
        })
    }

    /// The sliding TTL.
    pub fn ttl(&self) -> Duration {
        self.deadlines.expiry().ttl.unwrap_or(Duration::MAX)
    }

    /// The absolute lifetime, if set.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.deadlines.expiry().max_lifetime
    }

    /// The bound on the number of entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Policy for Hybrid {
    forward_to_deadlines!();

    fn next_victim(&self) -> Option<Slot> {
        (self.deadlines.len() > self.capacity)
            .then(|| self.deadlines.least_recent())
            .flatten()
    }
}
