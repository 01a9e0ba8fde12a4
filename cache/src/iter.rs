//! [`Iter`]: a walk over a cache's live entries that holds no lock between
//! steps. It takes one shard's live keys at a time under that shard's read
//! lock, then looks each key up again just before yielding it, so what it
//! yields is what the cache holds at that instant.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::iter::FusedIterator;

use crate::DefaultHashBuilder;
use crate::engine::Inner;
use crate::policy::{AnyPolicy, Policy};

/// An iterator over a [`Cache`](crate::Cache)'s live entries, yielding
/// `(key, value)` clones in no particular order; made by
/// [`Cache::iter`](crate::Cache::iter) or by `for (k, v) in &cache`.
///
/// It is weakly consistent: writes go on while it runs, and what it may see
/// of them is listed at [`Cache::iter`](crate::Cache::iter). It holds no lock
/// between calls to [`next`](Iterator::next), so the loop body may call any
/// method of the cache. It holds the keys of at most one shard at a time.
///
/// ```
/// use tenure::Cache;
///
/// let cache: Cache<u32, &str> = Cache::builder().max_capacity(10).build()?;
/// cache.insert(1, "one");
/// let mut entries = cache.iter();
/// assert_eq!(entries.next(), Some((1, "one")));
/// assert_eq!(entries.next(), None);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
pub struct Iter<'a, K, V, P = AnyPolicy, S = DefaultHashBuilder> {
    inner: &'a Inner<K, V, P, S>,
    /// The next shard whose keys to take.
    next_shard: usize,
    /// Keys taken from the last shard and not yet looked up; its memory is
    /// reused for every shard.
    keys: Vec<K>,
}

impl<'a, K, V, P, S> Iter<'a, K, V, P, S> {
    pub(crate) fn new(inner: &'a Inner<K, V, P, S>) -> Self {
        Iter {
            inner,
            next_shard: 0,
            keys: Vec::new(),
        }
    }
}

impl<K, V, P, S> Iterator for Iter<'_, K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        let inner = self.inner;
        loop {
            while let Some(key) = self.keys.pop() {
                // Looked up again, not taken from the snapshot: a value removed
                // or expired since is never yielded.
                if let Some(value) = inner.peek(&key, inner.hasher.hash_one(&key)) {
                    return Some((key, value));
                }
            }
            if self.next_shard == inner.shards() {
                return None;
            }
            inner.live_keys_in(self.next_shard, inner.now(), &mut self.keys);
            self.next_shard += 1;
        }
    }
}

impl<K, V, P, S> FusedIterator for Iter<'_, K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
}

impl<K, V, P, S> fmt::Debug for Iter<'_, K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("next_shard", &self.next_shard)
            .field("keys_pending", &self.keys.len())
            .finish_non_exhaustive()
    }
}
