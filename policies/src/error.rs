use std::time::Duration;

/// A policy was given numbers it cannot work with.
///
/// Each message names the field as it is spelled in tenure's configuration and
/// builder (`time_to_idle`, `time_to_live`, `max_capacity`), whatever the
/// policy's constructor calls its argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The sliding TTL (`time_to_idle`) was zero: every entry would be expired
    /// as soon as it is written.
    #[error("`time_to_idle` must be greater than zero")]
    ZeroTtl,
    /// The absolute lifetime (`time_to_live`) was zero.
    #[error("`time_to_live` must be greater than zero")]
    ZeroLifetime,
    /// The capacity (`max_capacity`) was zero: the cache could hold nothing.
    #[error("`max_capacity` must be at least 1")]
    ZeroCapacity,
    /// The capacity exceeded what slot numbers can address.
    #[error("`max_capacity` must be at most {max}, got {capacity}")]
    CapacityTooLarge {
        /// The capacity asked for.
        capacity: usize,
        /// The largest capacity supported.
        max: usize,
    },
    /// The absolute lifetime (`time_to_live`) was shorter than the sliding TTL
    /// (`time_to_idle`), so the sliding TTL could never apply.
    #[error("`time_to_live` ({max_lifetime:?}) must not be shorter than `time_to_idle` ({ttl:?})")]
    MaxLifetimeShorterThanTtl {
        /// The sliding TTL.
        ttl: Duration,
        /// The absolute lifetime asked for.
        max_lifetime: Duration,
    },
}
