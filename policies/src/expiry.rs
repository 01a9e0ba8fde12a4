use std::time::Duration;

use crate::Timestamp;

/// The time rules of a policy: a sliding TTL and an absolute lifetime, either optional.
///
/// The cache copies a policy's `Expiry` once, at construction, so that a read can
/// decide whether an entry is still alive without locking the policy. The same
/// function decides for the policy, so the two can never disagree.
///
/// An entry last read (or written) at `last_access` and created at `created`
/// expires at the earlier of `last_access + ttl` and `created + max_lifetime`; a
/// read at or after that instant is a miss.
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Expiry, Timestamp};
///
/// let rules = Expiry { ttl: Some(Duration::from_secs(10)), max_lifetime: Some(Duration::from_secs(25)) };
/// let t = |s: u64| Timestamp::from_nanos(s * 1_000_000_000);
/// // Created at 0, last read at 20: the lifetime (25) ends it before the TTL (30) would.
/// assert_eq!(rules.deadline(t(0), t(20)), Some(t(25)));
/// assert!(!rules.is_expired(t(0), t(20), Timestamp::from_nanos(t(25).as_nanos() - 1)));
/// assert!(rules.is_expired(t(0), t(20), t(25)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expiry {
    /// An entry not read for this long expires.
    pub ttl: Option<Duration>,
    /// An entry this old expires, however often it is read.
    pub max_lifetime: Option<Duration>,
}

impl Expiry {
    /// No time rule: entries never expire.
    pub const NEVER: Expiry = Expiry {
        ttl: None,
        max_lifetime: None,
    };

    /// Whether any rule depends on time (if not, the cache never reads its clock).
    #[inline]
    pub fn uses_time(&self) -> bool {
        self.ttl.is_some() || self.max_lifetime.is_some()
    }

    /// The first instant at which the entry is expired, or `None` if it never expires.
    #[inline]
    pub fn deadline(&self, created: Timestamp, last_access: Timestamp) -> Option<Timestamp> {
        let idle = self.ttl.map(|ttl| last_access + ttl);
        let aged = self.max_lifetime.map(|max| created + max);
        match (idle, aged) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the entry is expired at `now`.
    #[inline]
    pub fn is_expired(&self, created: Timestamp, last_access: Timestamp, now: Timestamp) -> bool {
        self.deadline(created, last_access)
            .is_some_and(|d| now >= d)
    }
}
