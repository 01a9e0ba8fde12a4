//! Single-flight creation: at most one creator per key, everyone else waits.
//!
//! A miss registers a [`Flight`] for its key in [`Flights`] and becomes the
//! creator; later callers for that key find the flight and wait on it, sync
//! (condvar) or async (wakers), both under the flight's one mutex, so no wake-up
//! can slip between a waiter's check and its sleep. The creator stores its value
//! in the cache *before* retiring the flight, so a newcomer always finds one or the
//! other. If the creator fails, panics or is dropped, the flight is retired as
//! abandoned and every waiter starts over: the first to come back becomes the new
//! creator (running its own closure), the rest wait on it.

use std::borrow::Borrow;
use std::hash::Hash;
use std::task::{Context, Poll, Waker};

use hashbrown::HashTable;

use crate::faults;
use crate::sync::{Arc, Condvar, Mutex};

enum State<V> {
    Running(Vec<Waker>),
    Done(V),
    Abandoned,
}

/// One creation in progress.
pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    finished: Condvar,
}

impl<V> Flight<V> {
    fn new() -> Self {
        Flight {
            state: Mutex::new(State::Running(Vec::new())),
            finished: Condvar::new(),
        }
    }

    /// Ends the flight: `Some(value)` hands the value to every waiter, `None`
    /// sends them back to start over.
    pub(crate) fn complete(&self, outcome: Option<V>) {
        let new = match outcome {
            Some(v) => State::Done(v),
            None => State::Abandoned,
        };
        let old = std::mem::replace(&mut *self.state.lock(), new);
        self.finished.notify_all();
        if let State::Running(wakers) = old {
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}

impl<V: Clone> Flight<V> {
    /// Blocks until the flight ends: the value, or `None` if abandoned.
    pub(crate) fn wait(&self) -> Option<V> {
        let mut state = self.state.lock();
        loop {
            match &*state {
                State::Running(_) => state = self.finished.wait(state),
                State::Done(v) => return Some(v.clone()),
                State::Abandoned => return None,
            }
        }
    }

    /// The async form of [`wait`](Flight::wait).
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Option<V>> {
        let mut state = self.state.lock();
        match &mut *state {
            State::Running(wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
            State::Done(v) => Poll::Ready(Some(v.clone())),
            State::Abandoned => Poll::Ready(None),
        }
    }
}

struct Pending<K, V> {
    hash: u64,
    key: K,
    flight: Arc<Flight<V>>,
}

type Shard<K, V> = Mutex<HashTable<Pending<K, V>>>;

/// The flights in progress, sharded like the cache's table.
pub(crate) struct Flights<K, V> {
    shards: Box<[Shard<K, V>]>,
}

/// What a caller of get-or-create must do.
pub(crate) enum Join<K, V> {
    /// A creator finished just now: here is its value.
    Found(V),
    /// Wait on someone else's creation.
    Wait(Arc<Flight<V>>),
    /// Create the value for this owned key; the flight is registered.
    Create(Arc<Flight<V>>, K),
}

impl<K, V> Flights<K, V> {
    pub(crate) fn new(shards: usize) -> Self {
        Flights {
            shards: (0..shards).map(|_| Mutex::new(HashTable::new())).collect(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// Joins the flight for `key`, or starts one. `recheck` runs under the shard
    /// lock when there is no flight, to catch a value stored by a creator that
    /// has just finished; if it finds one, no flight is started.
    /// `to_key` makes the owned key for a new flight; its error is returned
    /// before anything is registered.
    pub(crate) fn join<Q, E>(
        &self,
        key: &Q,
        hash: u64,
        shard: usize,
        recheck: impl FnOnce() -> Option<V>,
        to_key: impl FnOnce() -> Result<K, E>,
    ) -> Result<Join<K, V>, E>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mut pending = self.shards[shard].lock();
        if let Some(p) = pending.find(hash, |p| p.key.borrow() == key) {
            return Ok(Join::Wait(Arc::clone(&p.flight)));
        }
        if let Some(found) = recheck() {
            return Ok(Join::Found(found));
        }
        let owned = to_key()?;
        let flight = Arc::new(Flight::new());
        let entry = Pending {
            hash,
            key: owned.clone(),
            flight: Arc::clone(&flight),
        };
        if !faults::no_flight() {
            pending.insert_unique(hash, entry, |p| p.hash);
        }
        Ok(Join::Create(flight, owned))
    }
}

impl<K, V> Flights<K, V> {
    /// Retires `flight` (registered for `hash`) and completes it with `outcome`.
    pub(crate) fn retire(
        &self,
        hash: u64,
        shard: usize,
        flight: &Arc<Flight<V>>,
        outcome: Option<V>,
    ) {
        let mut pending = self.shards[shard].lock();
        if let Ok(entry) = pending.find_entry(hash, |p| Arc::ptr_eq(&p.flight, flight)) {
            entry.remove();
        }
        drop(pending);
        flight.complete(outcome);
    }
}
