//! Get-or-create on top of the engine: find the value, a flight to wait on,
//! or the right to create ([`Inner::join`]); and the hand-off between the
//! caller that won that right and the cache: store the value, then wake the
//! waiters; or, if the creator fails, panics or is dropped, let a waiter take
//! over.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use crate::Policy;
use crate::engine::{Inner, Lookup};
use crate::faults;
use crate::flight::{Flight, Join};
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
    pub(crate) fn flight(&self) -> &Arc<Flight<V>> {
        self.flight
            .as_ref()
            .expect("a creation holds its flight until it finishes")
    }

    /// Stores `value` and hands it to the waiters; returns it. If the key was
    /// written while the creator ran, that value stands instead: it is what
    /// this caller and the waiters get, and `value` is dropped unstored.
    ///
    /// One write both stores the value and takes the flight off the registry,
    /// so no call that comes after it, a `remove` included, can still join
    /// the flight: a removed value is never handed out again. If user code
    /// panics (the weigher, an expiry hook), the creation is dropped
    /// unfinished and a waiter takes over.
    pub(crate) fn finish(mut self, value: V) -> V {
        let inner = self.inner;
        let hash = self.hash;
        let key = self.key.take().expect("a creation finishes once");
        let weight = inner.weigh(&key, &value);
        // `self` keeps the flight until the value is stored: a panic before
        // then (an expiry hook's) drops the creation, which abandons it.
        let flight = Arc::clone(self.flight());
        let shard = inner.layout.shard_of(hash);
        inner.write_then(
            |w| {
                let stored = w.create(key, hash, value, weight);
                if !faults::unregister_after_write() {
                    inner.flights.unregister(hash, shard, &flight);
                }
                stored
            },
            // Waiters are woken with no lock held (a waker is user code), and
            // before the listener runs: a listener's panic comes after the
            // value is theirs.
            |stored| {
                if faults::unregister_after_write() {
                    inner.flights.unregister(hash, shard, &flight);
                }
                self.flight = None;
                flight.complete(Some(stored.clone()));
            },
        )
    }
}

impl<K, V, P, S> Drop for Creation<'_, K, V, P, S> {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            self.inner.counters.creation_failed();
            let shard = self.inner.layout.shard_of(self.hash);
            faults::keep_abandoned(|| {
                self.inner.flights.unregister(self.hash, shard, &flight);
                flight.complete(None);
            });
        }
    }
}

/// What [`Inner::join`] found.
pub(crate) enum Joined<'a, K, V, P, S> {
    Hit(V),
    Wait(Arc<Flight<V>>),
    Create(Creation<'a, K, V, P, S>),
}

impl<K, V, P, S> Inner<K, V, P, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    P: Policy,
    S: BuildHasher + Send + Sync + 'static,
{
    /// Finds the value for `key`, a flight to wait on, or the right to create
    /// (with the owned key `to_key` makes), for a `sync` or an async caller.
    pub(crate) fn join<Q, E>(
        &self,
        key: &Q,
        to_key: impl FnOnce() -> Result<K, E>,
        sync: bool,
    ) -> Result<Joined<'_, K, V, P, S>, E>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        match self.lookup(key, hash, false) {
            Lookup::Hit(v) => return Ok(Joined::Hit(v)),
            Lookup::Expired => self.maintain(),
            Lookup::Miss => {}
        }
        // User code, so before the registry's lock (see `Flights::join`).
        let owned = to_key()?;
        let shard = self.layout.shard_of(hash);
        let recheck = || self.recheck(key, hash);
        Ok(
            match self.flights.join(key, hash, shard, recheck, owned, sync) {
                Join::Found(v) => {
                    self.count_hit();
                    Joined::Hit(v)
                }
                Join::Wait(flight) => {
                    self.count_miss();
                    Joined::Wait(flight)
                }
                Join::Create(flight, key) => {
                    self.count_miss();
                    Joined::Create(Creation::new(self, hash, key, flight))
                }
            },
        )
    }
}
