//! The hand-off between a get-or-create caller that won the right to create
//! and the cache: store the value, then wake the waiters; or, if the creator
//! fails, panics or is dropped, let a waiter take over.

use std::hash::{BuildHasher, Hash};

use crate::Policy;
use crate::engine::Inner;
use crate::faults;
use crate::flight::Flight;
use crate::sync::Arc;

/// The right, and duty, to create the value for a key. Dropping it unfinished
/// (error, panic, cancellation) abandons the flight so a waiter can take over.
pub(crate) struct Creation<'a, K, V, P, S> {
    inner: &'a Inner<K, V, P, S>,
    hash: u64,
    /// The key being created; taken when the value is stored.
    key: Option<K>,
    /// The flight waiters wait on; taken when it is retired.
    flight: Option<Arc<Flight<V>>>,
}

impl<'a, K, V, P, S> Creation<'a, K, V, P, S>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    pub(crate) fn new(
        inner: &'a Inner<K, V, P, S>,
        hash: u64,
        key: K,
        flight: Arc<Flight<V>>,
    ) -> Self {
        Creation {
            inner,
            hash,
            key: Some(key),
            flight: Some(flight),
        }
    }

    /// The key being created.
    pub(crate) fn key(&self) -> &K {
        self.key
            .as_ref()
            .expect("a creation holds its key until it finishes")
    }

    /// The flight this creation will complete.
    pub(crate) fn flight(&self) -> &Flight<V> {
        self.flight
            .as_deref()
            .expect("a creation holds its flight until it finishes")
    }

    /// Stores `value`, hands it to the waiters, then runs the listener. The
    /// value is stored before the flight is retired, so a newcomer always finds
    /// one or the other.
    pub(crate) fn finish(mut self, value: V) -> V {
        let inner = self.inner;
        let hash = self.hash;
        let key = self.key.take().expect("a creation finishes once");
        let weight = inner.weigh(&key, &value);
        let (_, removals) = inner.write(|w| {
            w.count_creation();
            w.insert(key, hash, value.clone(), weight)
        });
        if let Some(flight) = self.flight.take() {
            let shard = inner.layout.shard_of(hash);
            inner
                .flights
                .retire(hash, shard, &flight, Some(value.clone()));
        }
        inner.notify(removals);
        value
    }
}

impl<K, V, P, S> Drop for Creation<'_, K, V, P, S> {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            self.inner.counters.creation_failed();
            let shard = self.inner.layout.shard_of(self.hash);
            faults::keep_abandoned(|| self.inner.flights.retire(self.hash, shard, &flight, None));
        }
    }
}
