#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod cache;
mod clock;
mod config;
mod creation;
mod duration;
mod engine;
mod expire;
mod faults;
mod flight;
#[cfg(feature = "metrics")]
mod metrics;
mod read_buffer;
mod removals;
mod shard;
mod stats;
mod sweeper;
mod sync;
mod traits;
mod writer;

pub use builder::CacheBuilder;
pub use cache::Cache;
#[cfg(feature = "tokio")]
pub use clock::TokioClock;
pub use clock::{Clock, CoarseClock, ManualClock, SystemClock};
pub use config::{CacheConfig, ConfigError, PolicyKind};
pub use duration::{DurationError, HumanDuration};
pub use expire::Expiry;
pub use removals::RemovalListener;
pub use stats::{CacheStats, RemovalCounts};
pub use sweeper::{SweepIntervalError, Sweeper, SweeperError};
pub use tenure_policies::{
    AnyPolicy, Hybrid, LruBound, NewEntry, Policy, PolicyError, RemovalCause, SlidingTtl, Slot,
    SlotList, TimerWheel, Timestamp, ensure_slot,
};
pub use traits::{BoxCreate, KeyedResourceCache, KeyedResourceCacheExt};

/// The hasher a [`Cache`] uses unless [`CacheBuilder::hasher`] picks another:
/// foldhash's fast, randomly seeded hasher. It is among the fastest for short
/// keys but only minimally resistant to keys chosen to collide; for keys that
/// come from untrusted callers, pick std's [`RandomState`](std::hash::RandomState)
/// (SipHash-1-3, keyed per process), at a few nanoseconds more per lookup.
pub type DefaultHashBuilder = foldhash::fast::RandomState;

/// The workspace README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct WorkspaceReadme;
