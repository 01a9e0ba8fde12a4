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
mod iter;
#[cfg(feature = "metrics")]
mod metrics;
mod read_buffer;
mod removals;
mod retention;
mod shard;
mod stats;
mod sweeper;
mod sync;
mod traits;
mod writer;

pub use builder::{CacheBuilder, EvictionPolicy};
pub use cache::Cache;
#[cfg(feature = "tokio")]
pub use clock::TokioClock;
pub use clock::{Clock, CoarseClock, ManualClock, SystemClock};
pub use config::{CacheConfig, ConfigError, PolicyKind};
pub use expire::Expiry;
pub use iter::Iter;
pub use removals::EvictionListener;
pub use stats::{CacheStats, RemovalCounts};
pub use sweeper::{SweepIntervalError, Sweeper, SweeperError};
pub use tenure_policies::RemovalCause;
pub use traits::{BoxCreate, KeyedResourceCache, KeyedResourceCacheExt};

// The engine's own short paths to the policy plumbing.
pub(crate) use tenure_policies::{NewEntry, Policy, Slot, TimerWheel, Timestamp, ensure_slot};

/// Everything a policy author needs, and the built-in policies themselves: the
/// [`Policy`] trait, slots and the structures that keep their
/// order, time, and the policy types a [`Cache`] can be named with
/// (`Cache<K, V, LruBound>`). This is the `tenure-policies` crate, re-exported
/// so that one dependency is enough.
///
/// Most programs never name this module: [`Cache::builder`] picks a built-in
/// policy from `max_capacity`, `time_to_idle` and `time_to_live`. Write a
/// policy of your own against it and plug it in with
/// [`CacheBuilder::policy`] or [`Cache::new`]:
///
/// ```
/// use tenure::Cache;
/// use tenure::policy::{NewEntry, Policy, Slot, SlotList, Timestamp, Weights};
///
/// /// Evicts the oldest insertion and ignores reads.
/// struct Fifo { capacity: u64, order: SlotList, weights: Weights }
///
/// impl Policy for Fifo {
///     fn tracks_reads(&self) -> bool { false }
///     fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
///         self.order.push_back(slot);
///         self.weights.add(slot, entry.weight);
///     }
///     fn on_access(&mut self, _slot: Slot, _now: Timestamp) {}
///     fn on_remove(&mut self, slot: Slot) {
///         self.order.remove(slot);
///         self.weights.remove(slot);
///     }
///     fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
///         self.order.move_slot(from, to);
///         self.weights.move_slot(from, to);
///     }
///     fn next_victim(&mut self) -> Option<Slot> {
///         (self.weights.total() > self.capacity).then(|| self.order.front()).flatten()
///     }
/// }
///
/// let fifo = Fifo { capacity: 2, order: SlotList::new(), weights: Weights::new() };
/// let cache: Cache<&str, u32, Fifo> = Cache::builder().policy(fifo).build()?;
/// cache.insert("a", 1);
/// cache.insert("b", 2);
/// assert_eq!(cache.get("a"), Some(1)); // a read: FIFO does not care
/// cache.insert("c", 3);
/// assert!(!cache.contains_key("a")); // the first in is the first out
/// assert_eq!(cache.len(), 2);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
pub mod policy {
    pub use tenure_policies::*;
}

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

/// `docs/warm-restart.md`'s example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../docs/warm-restart.md")]
pub struct WarmRestartDoc;
