use crate::{Expiry, NewEntry, Policy, PolicyError, Reads, Slot, Timestamp};

/// Any bounding policy with time rules added: the cache enforces `expiry` for
/// its entries, while `policy` keeps its order and picks its victims.
///
/// This is how sliding TTL and a maximum lifetime combine with every bounded
/// policy ([`Hybrid`](crate::Hybrid) is the LRU case, kept under its own name).
///
/// ```
/// use std::time::Duration;
/// use tenure_policies::{Expiry, LruBound, Policy, Timed};
///
/// let rules = Expiry { ttl: Some(Duration::from_secs(60)), max_lifetime: None };
/// let timed = Timed::new(LruBound::new(100)?, rules)?;
/// assert_eq!(timed.expiry(), rules);
///
/// let no_ttl = Expiry { ttl: Some(Duration::ZERO), max_lifetime: None };
/// assert!(Timed::new(LruBound::new(100)?, no_ttl).is_err());
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Timed<P> {
    expiry: Expiry,
    policy: P,
}

impl<P: Policy> Timed<P> {
    /// `policy` under the time rules `expiry` (which replace any the policy declares).
    ///
    /// # Errors
    /// [`PolicyError::ZeroTtl`] or [`PolicyError::ZeroLifetime`] for a zero TTL or lifetime,
    /// [`PolicyError::MaxLifetimeShorterThanTtl`] if the lifetime would cut
    /// every sliding TTL short.
    pub fn new(policy: P, expiry: Expiry) -> Result<Self, PolicyError> {
        check_rules(expiry)?;
        Ok(Timed { expiry, policy })
    }

    /// `policy` with no time rule.
    pub fn untimed(policy: P) -> Self {
        Timed {
            expiry: Expiry::NEVER,
            policy,
        }
    }

    /// The bounding policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }
}

/// Validates time rules: nothing zero, and no lifetime shorter than the TTL.
pub(crate) fn check_rules(expiry: Expiry) -> Result<(), PolicyError> {
    if expiry.ttl.is_some_and(|t| t.is_zero()) {
        return Err(PolicyError::ZeroTtl);
    }
    if expiry.max_lifetime.is_some_and(|t| t.is_zero()) {
        return Err(PolicyError::ZeroLifetime);
    }
    if let (Some(ttl), Some(max_lifetime)) = (expiry.ttl, expiry.max_lifetime) {
        if max_lifetime < ttl {
            return Err(PolicyError::MaxLifetimeShorterThanTtl { ttl, max_lifetime });
        }
    }
    Ok(())
}

impl<P: Policy> Policy for Timed<P> {
    fn expiry(&self) -> Expiry {
        self.expiry
    }

    fn tracks_reads(&self) -> bool {
        self.policy.tracks_reads()
    }

    // Expiry reads the entry's own access time, so reads matter here only as
    // much as they do to the policy.
    fn reads(&self) -> Reads {
        self.policy.reads()
    }

    #[inline]
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp) {
        self.policy.on_insert(slot, entry, now);
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, now: Timestamp) {
        self.policy.on_access(slot, now);
    }

    #[inline]
    fn on_remove(&mut self, slot: Slot) {
        self.policy.on_remove(slot);
    }

    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp) {
        self.policy.on_move(from, to, now);
    }

    #[inline]
    fn next_victim(&mut self) -> Option<Slot> {
        self.policy.next_victim()
    }

    #[inline]
    fn next_victim_marked(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        self.policy.next_victim_marked(take_marks)
    }

    fn shrink_to(&mut self, slots: usize) {
        self.policy.shrink_to(slots);
    }
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        self.policy.coldest_first(marks, visit);
    }
}
