use crate::{
    Expiry, Hybrid, LruBound, NewEntry, Policy, Reads, S3Fifo, Sieve, SlidingTtl, Slot, Timed,
    Timestamp, TinyLfu,
};

/// One of the built-in policies, chosen at run time (for example from a config
/// file), as a single type callers can name: `Cache<K, V, AnyPolicy>`.
///
/// ```
/// use tenure_policies::{AnyPolicy, LruBound, Policy};
///
/// let policy: AnyPolicy = LruBound::new(100)?.into();
/// assert!(!policy.expiry().uses_time());
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum AnyPolicy {
    /// See [`SlidingTtl`].
    SlidingTtl(SlidingTtl),
    /// See [`LruBound`].
    LruBound(LruBound),
    /// See [`Hybrid`].
    Hybrid(Hybrid),
    /// See [`S3Fifo`]; time rules optional.
    S3Fifo(Timed<S3Fifo>),
    /// See [`Sieve`]; time rules optional.
    Sieve(Timed<Sieve>),
    /// See [`TinyLfu`]; with time rules if any were given.
    TinyLfu(Timed<TinyLfu>),
}

macro_rules! each {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            AnyPolicy::SlidingTtl($p) => $body,
            AnyPolicy::LruBound($p) => $body,
            AnyPolicy::Hybrid($p) => $body,
            AnyPolicy::S3Fifo($p) => $body,
            AnyPolicy::Sieve($p) => $body,
            AnyPolicy::TinyLfu($p) => $body,
        }
    };
}

impl Policy for AnyPolicy {
    fn expiry(&self) -> Expiry {
        each!(self, p => p.expiry())
    }

    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp) {
        each!(self, p => p.on_insert(slot, entry, now))
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, now: Timestamp) {
        each!(self, p => p.on_access(slot, now))
    }

    fn on_remove(&mut self, slot: Slot) {
        each!(self, p => p.on_remove(slot))
    }

    fn tracks_reads(&self) -> bool {
        each!(self, p => p.tracks_reads())
    }

    fn reads(&self) -> Reads {
        each!(self, p => p.reads())
    }

    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp) {
        each!(self, p => p.on_move(from, to, now))
    }

    fn next_victim(&mut self) -> Option<Slot> {
        each!(self, p => p.next_victim())
    }

    fn next_victim_marked(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        each!(self, p => p.next_victim_marked(take_marks))
    }

    fn shrink_to(&mut self, slots: usize) {
        each!(self, p => p.shrink_to(slots))
    }
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        each!(self, p => p.coldest_first(marks, visit))
    }
}

impl From<SlidingTtl> for AnyPolicy {
    fn from(p: SlidingTtl) -> Self {
        AnyPolicy::SlidingTtl(p)
    }
}

impl From<LruBound> for AnyPolicy {
    fn from(p: LruBound) -> Self {
        AnyPolicy::LruBound(p)
    }
}

impl From<Hybrid> for AnyPolicy {
    fn from(p: Hybrid) -> Self {
        AnyPolicy::Hybrid(p)
    }
}

impl From<S3Fifo> for AnyPolicy {
    fn from(p: S3Fifo) -> Self {
        AnyPolicy::S3Fifo(Timed::untimed(p))
    }
}

impl From<Timed<S3Fifo>> for AnyPolicy {
    fn from(p: Timed<S3Fifo>) -> Self {
        AnyPolicy::S3Fifo(p)
    }
}

impl From<Sieve> for AnyPolicy {
    fn from(p: Sieve) -> Self {
        AnyPolicy::Sieve(Timed::untimed(p))
    }
}

impl From<Timed<Sieve>> for AnyPolicy {
    fn from(p: Timed<Sieve>) -> Self {
        AnyPolicy::Sieve(p)
    }
}

impl From<TinyLfu> for AnyPolicy {
    fn from(p: TinyLfu) -> Self {
        AnyPolicy::TinyLfu(Timed::untimed(p))
    }
}

impl From<Timed<TinyLfu>> for AnyPolicy {
    fn from(p: Timed<TinyLfu>) -> Self {
        AnyPolicy::TinyLfu(p)
    }
}
