//! Single-flight creation: at most one creator per key, everyone else waits.
//!
//! A miss registers a [`Flight`] for its key in [`Flights`] and becomes the
//! creator; later callers for that key find the flight and wait on it, sync
//! (condvar) or async (wakers), both under the flight's one mutex, so no wake-up
//! can slip between a waiter's check and its sleep. One write of the
//! creator both stores its value in the cache and takes the flight off the
//! registry, under the policy lock: a newcomer finds one or the other, and no
//! call after that write (a `remove` of the value, say) can still join the
//! flight. Waiters are woken after the write, with no lock held. If the
//! creator fails, panics or is dropped, the flight is retired as abandoned and every waiter starts over: the first to come back becomes the new
//! creator (running its own closure), the rest wait on it.
//!
//! Two faults are caught here rather than left to hang:
//! - A creator that asks for its own key would wait for itself forever. While a
//!   creator runs (a sync closure, or one poll of an async creator), its flight
//!   records the thread it runs on; a wait on that flight *from* that thread can
//!   only come from inside the creator, so it panics naming the misuse. The
//!   creator then unwinds and abandons the flight as any panicking creator does.
//!   Two async callers for one key polled side by side in one task (`join!`)
//!   are not nested, and wait as usual.
//! - An async waiter owns a slot in its flight's waker list and empties it when
//!   dropped, so cancelled waiters leave nothing behind: a flight holds at most
//!   as many wakers as it has had waiters alive at once.

use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use hashbrown::HashTable;

use crate::faults;
use crate::sync::{Arc, Condvar, Mutex, ThreadKey, thread_key};

enum State<V> {
    Running(Running),
    Done(V),
    Abandoned,
}

/// A flight's bookkeeping while its creator works.
#[derive(Default)]
struct Running {
    /// The thread the creator is running on right now, if it is running (not
    /// between two polls of an async creator).
    creating_on: Option<ThreadKey>,
    /// Async waiters' wakers; each [`Waiting`] owns one slot, `None` when free.
    wakers: Vec<Option<Waker>>,
    /// Free slots of `wakers`, reused before it grows.
    free: Vec<usize>,
}

impl Running {
    /// Whether a wait from this thread would be the creator waiting on itself.
    fn is_creating_here(&self) -> bool {
        self.creating_on
            .is_some_and(|creator| creator == thread_key())
    }

    /// Stores `waker` in `slot`, taking a slot first if the waiter has none.
    fn register(&mut self, slot: &mut Option<usize>, waker: &Waker) {
        match *slot {
            Some(i) => match &mut self.wakers[i] {
                Some(held) if held.will_wake(waker) => {}
                held => *held = Some(waker.clone()),
            },
            None => {
                let waker = Some(waker.clone());
                *slot = Some(match self.free.pop() {
                    Some(i) => {
                        self.wakers[i] = waker;
                        i
                    }
                    None => {
                        self.wakers.push(waker);
                        self.wakers.len() - 1
                    }
                });
            }
        }
    }

    fn unregister(&mut self, slot: usize) {
        self.wakers[slot] = None;
        self.free.push(slot);
    }
}

/// The panic for a creator that asked for its own key.
#[cold]
fn creator_waits_on_itself() -> ! {
    panic!(
        "tenure: the creator for this key asked for the same key; \
         a get-or-create called from inside its own key's creator would wait for itself forever"
    )
}

/// One creation in progress.
pub(crate) struct Flight<V> {
    state: Mutex<State<V>>,
    finished: Condvar,
}

impl<V> Flight<V> {
    /// A flight whose creator runs on `creating_on` until the flight ends (a
    /// sync creator), or `None` (an async creator, marked poll by poll).
    fn new(creating_on: Option<ThreadKey>) -> Self {
        Flight {
            state: Mutex::new(State::Running(Running {
                creating_on,
                ..Running::default()
            })),
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
        if let State::Running(running) = old {
            running.wakers.into_iter().flatten().for_each(Waker::wake);
        }
    }

    /// Runs `create`, one poll of this flight's async creator, with the flight
    /// marked as being created on this thread.
    fn run_creator<R>(&self, create: impl FnOnce() -> R) -> R {
        /// Clears the mark however `create` ends, panics included.
        struct Unmark<'a, V>(&'a Flight<V>);
        impl<V> Drop for Unmark<'_, V> {
            fn drop(&mut self) {
                self.0.mark_creating(None);
            }
        }
        self.mark_creating(Some(thread_key()));
        let _unmark = Unmark(self);
        create()
    }

    /// Drives this flight's async creator, each poll under
    /// [`run_creator`](Flight::run_creator).
    pub(crate) async fn poll_creator<F: Future>(&self, creator: F) -> F::Output {
        let mut creator = pin!(creator);
        std::future::poll_fn(|cx| self.run_creator(|| creator.as_mut().poll(cx))).await
    }

    fn mark_creating(&self, on: Option<ThreadKey>) {
        if let State::Running(running) = &mut *self.state.lock() {
            running.creating_on = on;
        }
    }

    /// An async wait for the flight to end; see [`Waiting`].
    pub(crate) fn wait_async(&self) -> Waiting<'_, V> {
        Waiting {
            flight: self,
            slot: None,
        }
    }
}

impl<V: Clone> Flight<V> {
    /// Blocks until the flight ends: the value, or `None` if abandoned.
    ///
    /// # Panics
    /// If called from inside this flight's own creator.
    pub(crate) fn wait(&self) -> Option<V> {
        let mut state = self.state.lock();
        loop {
            match &*state {
                State::Running(running) if running.is_creating_here() => {
                    drop(state);
                    creator_waits_on_itself()
                }
                State::Running(_) => state = self.finished.wait(state),
                State::Done(v) => return Some(v.clone()),
                State::Abandoned => return None,
            }
        }
    }
}

/// The async form of [`Flight::wait`]. Dropping it (a cancelled waiter)
/// withdraws its waker from the flight.
pub(crate) struct Waiting<'a, V> {
    flight: &'a Flight<V>,
    /// The slot this waiter holds in the flight's waker list, once polled.
    slot: Option<usize>,
}

impl<V: Clone> Future for Waiting<'_, V> {
    type Output = Option<V>;

    /// # Panics
    /// If polled from inside this flight's own creator.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<V>> {
        let this = &mut *self;
        let mut state = this.flight.state.lock();
        let outcome = match &mut *state {
            State::Running(running) if running.is_creating_here() => {
                drop(state);
                creator_waits_on_itself()
            }
            State::Running(running) => {
                running.register(&mut this.slot, cx.waker());
                return Poll::Pending;
            }
            State::Done(v) => Some(v.clone()),
            State::Abandoned => None,
        };
        // `complete` has taken the waker list, and this waiter's slot with it.
        this.slot = None;
        Poll::Ready(outcome)
    }
}

impl<V> Drop for Waiting<'_, V> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            if let State::Running(running) = &mut *self.flight.state.lock() {
                running.unregister(slot);
            }
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
    /// Joins the flight for `key`, or starts one with the owned key `owned`.
    /// `recheck` runs under the registry's shard lock when there is no flight,
    /// to catch a value stored by a creator that has just finished; if it finds
    /// one, no flight is started. A `sync` creator runs on this thread until
    /// the flight ends, and the flight says so from the start.
    ///
    /// Nothing here may wait for the policy lock: a finishing creation takes
    /// a registry lock under it.
    pub(crate) fn join<Q>(
        &self,
        key: &Q,
        hash: u64,
        shard: usize,
        recheck: impl FnOnce() -> Option<V>,
        owned: K,
        sync: bool,
    ) -> Join<K, V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mut pending = self.shards[shard].lock();
        if let Some(p) = pending.find(hash, |p| p.key.borrow() == key) {
            return Join::Wait(Arc::clone(&p.flight));
        }
        if let Some(found) = recheck() {
            return Join::Found(found);
        }
        let flight = Arc::new(Flight::new(sync.then(thread_key)));
        let entry = Pending {
            hash,
            key: owned.clone(),
            flight: Arc::clone(&flight),
        };
        faults::no_flight(|| {
            pending.insert_unique(hash, entry, |p| p.hash);
        });
        Join::Create(flight, owned)
    }
}

impl<K, V> Flights<K, V> {
    /// Takes `flight` (registered for `hash`) off the registry: later callers
    /// no longer find it. Its waiters still wait until it is
    /// [completed](Flight::complete).
    pub(crate) fn unregister(&self, hash: u64, shard: usize, flight: &Arc<Flight<V>>) {
        let mut pending = self.shards[shard].lock();
        if let Ok(entry) = pending.find_entry(hash, |p| Arc::ptr_eq(&p.flight, flight)) {
            entry.remove();
        }
    }
}
