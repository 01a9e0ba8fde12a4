use std::time::Duration;

/// A policy was given numbers it cannot work with.
///
/// Each message names the field as it is spelled in tenure's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `ttl` was zero: every entry would be expired as soon as it is written.
    #[error("`ttl` must be greater than zero")]
    ZeroTtl,
    /// `capacity` was zero: the cache could hold nothing.
    #[error("`capacity` must be at least 1")]
    ZeroCapacity,
    /// `capacity` exceeded what slot numbers can address.
    #[error("`capacity` must be at most {max}, got {capacity}")]
    CapacityTooLarge {
        /// The capacity asked for.
        capacity: usize,
        /// The largest capacity supported.
        max: usize,
    },
    /// `max_lifetime` was shorter than `ttl`, so the sliding TTL could never apply.
    #[error("`max_lifetime` ({max_lifetime:?}) must not be shorter than `ttl` ({ttl:?})")]
    MaxLifetimeShorterThanTtl {
        /// The sliding TTL.
        ttl: Duration,
        /// The absolute lifetime asked for.
        max_lifetime: Duration,
    },
}
