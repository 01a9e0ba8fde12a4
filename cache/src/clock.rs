//! Where the cache gets the time.
//!
//! A read that must check a deadline costs one [`Clock::now`] call; policies
//! without time rules (such as [`LruBound`](crate::LruBound)) never call it.
//! The default, [`CoarseClock`], costs a few nanoseconds where a precise
//! monotonic read costs tens (on the project's 2-core VM, in one run: ~7–10 ns
//! against ~26–30 ns, median ratio 3.7×; reproduce with
//! `cargo run --release -p tenure --example clock_cost`), at a resolution of a
//! few milliseconds: ample for TTLs of seconds and up. For sub-second TTLs,
//! build the cache with [`SystemClock`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::Timestamp;
use crate::sync::{Arc, AtomicU64, Ordering};

/// A monotonic source of [`Timestamp`]s.
///
/// Implement it to drive a cache from your own notion of time. It must never go
/// backwards.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The process's precise monotonic clock ([`Instant`]), counted from when the
/// clock was made. Nanosecond resolution, but each read costs tens of nanoseconds.
#[derive(Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SystemClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemClock").finish_non_exhaustive()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(saturating_nanos(self.origin.elapsed()))
    }
}

fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The operating system's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE` on
/// Linux): a read costs a few nanoseconds, the resolution is the kernel tick
/// (typically 1–4 ms). The default clock of a [`Cache`](crate::Cache).
///
/// ```
/// use tenure::{Clock, CoarseClock};
///
/// let clock = CoarseClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Clone, Copy)]
pub struct CoarseClock {
    origin: coarsetime::Instant,
}

impl CoarseClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        CoarseClock {
            origin: coarsetime::Instant::now_without_cache_update(),
        }
    }
}

impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CoarseClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoarseClock").finish_non_exhaustive()
    }
}

impl Clock for CoarseClock {
    #[inline]
    fn now(&self) -> Timestamp {
        // `now_without_cache_update` skips coarsetime's process-wide cached
        // instant, a shared store that would bounce between cores on every read.
        let elapsed = coarsetime::Instant::now_without_cache_update().duration_since(self.origin);
        Timestamp::from_nanos(elapsed.as_nanos())
    }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// Clones share the same time, so a test keeps one and hands another to the cache.
///
/// ```
/// use std::time::Duration;
/// use tenure::policy::Timestamp;
/// use tenure::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), Timestamp::ZERO + Duration::from_secs(90));
/// ```
#[derive(Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at [`Timestamp::ZERO`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (saturating at [`Timestamp::MAX`]).
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        let mut cur = self.nanos.load(Ordering::Acquire);
        while let Err(seen) = self.nanos.compare_exchange_weak(
            cur,
            cur.saturating_add(by),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            cur = seen;
        }
    }

    /// Sets the clock to `to`, if that is not earlier than now (a clock never goes back).
    pub fn set(&self, to: Timestamp) {
        self.nanos.fetch_max(to.as_nanos(), Ordering::AcqRel);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

/// tokio's clock ([`tokio::time::Instant`]), which stands still and jumps under
/// paused time (`#[tokio::test(start_paused = true)]`, `tokio::time::pause`), so a
/// test can move a cache an hour forward with `tokio::time::advance`.
#[cfg(feature = "tokio")]
#[derive(Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

#[cfg(feature = "tokio")]
impl TokioClock {
    /// A clock whose origin is tokio's now.
    pub fn new() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

#[cfg(feature = "tokio")]
impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "tokio")]
impl fmt::Debug for TokioClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioClock").finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(saturating_nanos(self.origin.elapsed()))
    }
}
