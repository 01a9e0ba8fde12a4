use std::time::Duration;

use crate::deadlines::{Deadlines, forward_to_deadlines};
use crate::{Expiry, Policy, PolicyError, Slot};

/// Sliding time-to-live: an entry written or read at `t` expires at `t + ttl`;
/// with [`with_max_lifetime`](SlidingTtl::with_max_lifetime), also at
/// `created + max_lifetime` however often it is read. No bound on the count.
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Policy, Slot, SlidingTtl, Timestamp};
///
/// let hour = Duration::from_secs(3600);
/// let mut p = SlidingTtl::new(hour)?.with_max_lifetime(4 * hour)?;
/// let t0 = Timestamp::ZERO;
/// p.on_insert(Slot::new(0), t0);
/// for h in 1..4 {
///     p.on_access(Slot::new(0), t0 + h * hour); // read every hour, never idle
/// }
/// assert_eq!(p.next_expired(t0 + 4 * hour), Some(Slot::new(0))); // lifetime is up
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SlidingTtl {
    deadlines: Deadlines,
}

impl SlidingTtl {
    /// Entries expire `ttl` after their last read or write.
    ///
    /// # Errors
    /// [`PolicyError::ZeroTtl`] if `ttl` is zero.
    pub fn new(ttl: Duration) -> Result<Self, PolicyError> {
        Self::with_expiry(ttl, None)
    }

    /// Also end every entry `max_lifetime` after it was created.
    ///
    /// # Errors
    /// [`PolicyError::MaxLifetimeShorterThanTtl`] if `max_lifetime < ttl`.
    pub fn with_max_lifetime(self, max_lifetime: Duration) -> Result<Self, PolicyError> {
        Self::with_expiry(self.ttl(), Some(max_lifetime))
    }

    fn with_expiry(ttl: Duration, max_lifetime: Option<Duration>) -> Result<Self, PolicyError> {
        let expiry = checked_expiry(ttl, max_lifetime)?;
        Ok(SlidingTtl {
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
}

/// Validates a TTL and an optional absolute lifetime.
pub(crate) fn checked_expiry(
    ttl: Duration,
    max_lifetime: Option<Duration>,
) -> Result<Expiry, PolicyError> {
    if ttl.is_zero() {
        return Err(PolicyError::ZeroTtl);
    }
    if let Some(max_lifetime) = max_lifetime.filter(|&max| max < ttl) {
        return Err(PolicyError::MaxLifetimeShorterThanTtl { ttl, max_lifetime });
    }
    Ok(Expiry {
        ttl: Some(ttl),
        max_lifetime,
    })
}

impl Policy for SlidingTtl {
    forward_to_deadlines!();

    fn next_victim(&self) -> Option<Slot> {
        None
    }
}
