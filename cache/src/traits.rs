//! The object-safe cache interface, for `Arc<dyn KeyedResourceCache<K, V>>`.

use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::pin::Pin;

use async_trait::async_trait;

use crate::policy::Policy;
use crate::{Cache, CacheStats};

/// A boxed creator future for the object-safe async method.
pub type BoxCreate<'a, V> = Pin<Box<dyn Future<Output = Option<V>> + Send + 'a>>;

/// A keyed cache of resources, usable as a trait object.
///
/// Every method takes object-safe arguments, so `Arc<dyn KeyedResourceCache<K, V>>`
/// works; the closure-taking conveniences (`get_or_create`,
/// `try_get_or_create`, and their async forms) come from
/// [`KeyedResourceCacheExt`], implemented for every `KeyedResourceCache`
/// including `dyn` ones. [`Cache`] implements both, and its own generic methods of
/// the same names need no boxing.
///
/// ```
/// use std::sync::Arc;
/// use tenure::{Cache, KeyedResourceCache, KeyedResourceCacheExt};
///
/// let cache: Arc<dyn KeyedResourceCache<String, u32>> =
///     Arc::new(Cache::builder().max_capacity(100).build()?);
/// assert_eq!(cache.get_or_create("a".into(), || 1), 1);
/// let failed: Result<u32, &str> = cache.try_get_or_create("b".into(), || Err("no"));
/// assert_eq!(failed, Err("no"));
/// assert_eq!(cache.len(), 1);
/// # Ok::<(), tenure::ConfigError>(())
/// ```
#[async_trait]
pub trait KeyedResourceCache<K, V>: Send + Sync {
    /// The live value for `key`; a hit refreshes the entry.
    fn get(&self, key: &K) -> Option<V>;
    /// Stores a value, returning the live one it replaced.
    fn insert(&self, key: K, value: V) -> Option<V>;
    /// Removes `key`, returning its live value.
    fn remove(&self, key: &K) -> Option<V>;
    /// Whether `key` has a live entry (not an access).
    fn contains_key(&self, key: &K) -> bool;
    /// Entries held (expired ones count until reclaimed).
    fn len(&self) -> usize;
    /// Whether `len` is zero.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Removes every entry.
    fn clear(&self);
    /// Removes live entries matching `predicate`; returns how many.
    fn invalidate_if(&self, predicate: &mut (dyn FnMut(&K, &V) -> bool + Send)) -> usize;
    /// The keys of live entries.
    fn keys(&self) -> Vec<K>;
    /// A snapshot of the counters.
    fn stats(&self) -> CacheStats;
    /// Replays buffered reads and reclaims expired entries now.
    fn run_maintenance(&self);
    /// Single-flight get-or-create with an object-safe creator; `None` from the
    /// creator means it failed (nothing is cached) and is returned as `None`.
    fn get_or_create_dyn(
        &self,
        key: K,
        create: &mut (dyn FnMut() -> Option<V> + Send),
    ) -> Option<V>;
    /// The async form of [`get_or_create_dyn`](KeyedResourceCache::get_or_create_dyn).
    async fn get_or_create_async_dyn(&self, key: K, create: BoxCreate<'_, V>) -> Option<V>
    where
        K: 'async_trait;
}

/// Closure-taking conveniences for any [`KeyedResourceCache`], `dyn` included.
pub trait KeyedResourceCacheExt<K: Send, V: Send>: KeyedResourceCache<K, V> {
    /// The value for `key`, made by `create` if absent (single-flight).
    fn get_or_create(&self, key: K, create: impl FnOnce() -> V + Send) -> V {
        let mut create = Some(create);
        self.get_or_create_dyn(key, &mut || create.take().map(|f| f()))
            .expect("an infallible creator produced no value")
    }

    /// Like `get_or_create`, with a fallible creator whose error is returned, not cached.
    ///
    /// # Errors
    /// Whatever `create` returned.
    fn try_get_or_create<E: Send>(
        &self,
        key: K,
        create: impl FnOnce() -> Result<V, E> + Send,
    ) -> Result<V, E> {
        let mut create = Some(create);
        let mut error = None;
        let value = self.get_or_create_dyn(key, &mut || match create.take()?() {
            Ok(v) => Some(v),
            Err(e) => {
                error = Some(e);
                None
            }
        });
        value.ok_or_else(|| error.take().expect("a failed creator left its error"))
    }

    /// The async form of `get_or_create`.
    fn get_or_create_async<'a, F>(
        &'a self,
        key: K,
        create: impl FnOnce() -> F + Send + 'a,
    ) -> impl Future<Output = V> + Send + 'a
    where
        F: Future<Output = V> + Send + 'a,
        K: 'a,
        V: 'a,
    {
        async move {
            let create = Box::pin(async move { Some(create().await) });
            self.get_or_create_async_dyn(key, create)
                .await
                .expect("an infallible creator produced no value")
        }
    }

    /// The async form of `try_get_or_create`.
    ///
    /// # Errors
    /// Whatever `create`'s future returned.
    fn try_get_or_create_async<'a, F, E>(
        &'a self,
        key: K,
        create: impl FnOnce() -> F + Send + 'a,
    ) -> impl Future<Output = Result<V, E>> + Send + 'a
    where
        F: Future<Output = Result<V, E>> + Send + 'a,
        E: Send + 'a,
        K: 'a,
        V: 'a,
    {
        async move {
            let mut error = None;
            let slot = &mut error;
            let create = Box::pin(async move {
                match create().await {
                    Ok(v) => Some(v),
                    Err(e) => {
                        *slot = Some(e);
                        None
                    }
                }
            });
            let value = self.get_or_create_async_dyn(key, create).await;
            value.ok_or_else(|| error.take().expect("a failed creator left its error"))
        }
    }
}

impl<K: Send, V: Send, T: KeyedResourceCache<K, V> + ?Sized> KeyedResourceCacheExt<K, V> for T {}

#[async_trait]
impl<K, V, P, S> KeyedResourceCache<K, V> for Cache<K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    fn get(&self, key: &K) -> Option<V> {
        Cache::get(self, key)
    }
    fn insert(&self, key: K, value: V) -> Option<V> {
        Cache::insert(self, key, value)
    }
    fn remove(&self, key: &K) -> Option<V> {
        Cache::remove(self, key)
    }
    fn contains_key(&self, key: &K) -> bool {
        Cache::contains_key(self, key)
    }
    fn len(&self) -> usize {
        Cache::len(self)
    }
    fn clear(&self) {
        Cache::clear(self)
    }
    fn invalidate_if(&self, predicate: &mut (dyn FnMut(&K, &V) -> bool + Send)) -> usize {
        Cache::invalidate_if(self, predicate)
    }
    fn keys(&self) -> Vec<K> {
        Cache::keys(self)
    }
    fn stats(&self) -> CacheStats {
        Cache::stats(self)
    }
    fn run_maintenance(&self) {
        Cache::run_maintenance(self)
    }
    fn get_or_create_dyn(
        &self,
        key: K,
        create: &mut (dyn FnMut() -> Option<V> + Send),
    ) -> Option<V> {
        Cache::try_get_or_create(self, key, || create().ok_or(())).ok()
    }
    async fn get_or_create_async_dyn(&self, key: K, create: BoxCreate<'_, V>) -> Option<V>
    where
        K: 'async_trait,
    {
        Cache::try_get_or_create_async(self, key, || async { create.await.ok_or(()) })
            .await
            .ok()
    }
}
