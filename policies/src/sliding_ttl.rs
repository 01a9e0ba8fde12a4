use std::time::Duration;

use crate::timed::check_rules;
use crate::{Expiry, NewEntry, Policy, PolicyError, Slot, Timestamp};

/// Sliding time-to-live: an entry written or read at `t` expires at `t + ttl`;
/// with [`with_max_lifetime`](SlidingTtl::with_max_lifetime), also at
/// `created + max_lifetime` however often it is read. No bound on the count.
///
/// The rules are data ([`Expiry`]): the cache enforces them, so this policy
/// keeps no per-entry state and needs no reads replayed.
/// It has no order of its own either ([`Policy::coldest_first`] names
/// nothing): a cache orders its entries by deadline instead.
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Policy, SlidingTtl, Timestamp};
///
/// let hour = Duration::from_secs(3600);
/// let p = SlidingTtl::new(hour)?.with_max_lifetime(4 * hour)?;
/// let rules = p.expiry();
/// let t0 = Timestamp::ZERO;
/// // Created at 0 and read every hour: never idle, but the lifetime ends it at 4 h.
/// assert_eq!(rules.deadline(t0, t0 + 3 * hour), Some(t0 + 4 * hour));
/// // Read once at 0: idle after an hour.
/// assert_eq!(rules.deadline(t0, t0), Some(t0 + hour));
/// assert!(!p.tracks_reads());
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SlidingTtl {
    expiry: Expiry,
}

impl SlidingTtl {
    /// Entries expire `ttl` after their last read or write.
    ///
    /// # Errors
    /// [`PolicyError::ZeroTtl`] if `ttl` is zero.
    pub fn new(ttl: Duration) -> Result<Self, PolicyError> {
        Ok(SlidingTtl {
            expiry: checked_expiry(ttl, None)?,
        })
    }

    /// No sliding TTL, only an absolute lifetime: every entry ends
    /// `max_lifetime` after it was created, however often it is read (what a
    /// cache built with `time_to_live` alone does).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tenure_policies::{Policy, SlidingTtl, Timestamp};
    ///
    /// let p = SlidingTtl::lifetime_only(Duration::from_secs(60))?;
    /// let t0 = Timestamp::ZERO;
    /// // Read a moment ago or not at all: it ends 60 s after it was made.
    /// assert_eq!(p.expiry().deadline(t0, t0 + Duration::from_secs(59)), Some(t0 + Duration::from_secs(60)));
    /// # Ok::<(), tenure_policies::PolicyError>(())
    /// ```
    ///
    /// # Errors
    /// [`PolicyError::ZeroLifetime`] if `max_lifetime` is zero.
    pub fn lifetime_only(max_lifetime: Duration) -> Result<Self, PolicyError> {
        let expiry = Expiry {
            ttl: None,
            max_lifetime: Some(max_lifetime),
        };
        check_rules(expiry)?;
        Ok(SlidingTtl { expiry })
    }

    /// Also end every entry `max_lifetime` after it was created.
    ///
    /// # Errors
    /// [`PolicyError::MaxLifetimeShorterThanTtl`] if `max_lifetime < ttl`.
    pub fn with_max_lifetime(self, max_lifetime: Duration) -> Result<Self, PolicyError> {
        match self.expiry.ttl {
            Some(ttl) => Ok(SlidingTtl {
                expiry: checked_expiry(ttl, Some(max_lifetime))?,
            }),
            None => Self::lifetime_only(max_lifetime),
        }
    }

    /// The sliding TTL (`Duration::MAX` for [`lifetime_only`](SlidingTtl::lifetime_only)).
    pub fn ttl(&self) -> Duration {
        self.expiry.ttl.unwrap_or(Duration::MAX)
    }

    /// The absolute lifetime, if set.
    pub fn max_lifetime(&self) -> Option<Duration> {
        self.expiry.max_lifetime
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
    fn expiry(&self) -> Expiry {
        self.expiry
    }

    fn tracks_reads(&self) -> bool {
        false
    }

    fn on_insert(&mut self, _slot: Slot, _entry: NewEntry, _now: Timestamp) {}

    fn on_access(&mut self, _slot: Slot, _now: Timestamp) {}

    fn on_remove(&mut self, _slot: Slot) {}

    fn on_move(&mut self, _from: Slot, _to: Slot, _now: Timestamp) {}

    fn next_victim(&mut self) -> Option<Slot> {
        None
    }
}
