//! Expiry chosen per entry: [`Expiry`], given to [`CacheBuilder::expire_after`](crate::CacheBuilder::expire_after).

use std::time::Duration;

/// How long each entry lives, decided by the entry itself: an OAuth token or
/// a presigned credential that dies at a time the server chose.
///
/// Each hook returns how long from now the entry may live (`None`: no
/// deadline of its own). The cache-wide rules (sliding TTL, maximum
/// lifetime) still apply: an entry expires at the earliest of its deadlines,
/// with cause [`Expired`](crate::RemovalCause::Expired) either way, and
/// exactly there: a read at the deadline is a miss, a read a nanosecond
/// before is a hit. The same timer structure as the sliding TTL reclaims
/// expired entries; there is no timer task per entry.
///
/// The hooks run while the cache holds a lock (the shard's, and on writes
/// the policy's): keep them short, and do not call the cache from them.
///
/// A hook that panics makes the call that ran it panic, and changes nothing
/// it was asked about: on an insert the old entry stays as it was (an update
/// hook's panic) or no entry is stored (a create hook's; a get-or-create is
/// then abandoned and a waiter takes over); the write still reports to the
/// eviction listener, once each, whatever it had already reclaimed or
/// evicted. A read hook's panic comes after the read refreshed the entry's
/// sliding deadline, which stays refreshed.
///
/// ```
/// use std::time::Duration;
/// use tenure::policy::LruBound;
/// use tenure::{Cache, Expiry, ManualClock};
///
/// /// A token lives until the expiry the server gave it.
/// #[derive(Clone)]
/// struct Token { secret: String, lifetime: Duration }
///
/// struct ServerChosen;
///
/// impl Expiry<String, Token> for ServerChosen {
///     fn expire_after_create(&self, _key: &String, token: &Token) -> Option<Duration> {
///         Some(token.lifetime)
///     }
/// }
///
/// let clock = ManualClock::new();
/// let cache: Cache<String, Token, LruBound> = Cache::builder().policy(LruBound::new(100)?)
///     .expire_after(ServerChosen)
///     .clock(clock.clone())
///     .build()?;
/// let token = Token { secret: "t0k3n".into(), lifetime: Duration::from_secs(300) };
/// cache.insert("tenant-a".into(), token);
/// clock.advance(Duration::from_secs(299));
/// assert!(cache.get("tenant-a").is_some());
/// clock.advance(Duration::from_secs(1));
/// assert!(cache.get("tenant-a").is_none()); // exactly at its own deadline
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Expiry<K, V>: Send + Sync + 'static {
    /// A new entry for `key` (absent or expired before) was stored.
    fn expire_after_create(&self, key: &K, value: &V) -> Option<Duration>;

    /// `value` was read; `remaining` is what was left of the entry's own
    /// deadline. The default keeps it.
    fn expire_after_read(
        &self,
        key: &K,
        value: &V,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        let _ = (key, value);
        remaining
    }

    /// A live entry for `key` was replaced by `value`; `remaining` is what
    /// was left of the old entry's own deadline. The default keeps it.
    fn expire_after_update(
        &self,
        key: &K,
        value: &V,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        let _ = (key, value);
        remaining
    }
}
