//! Per-thread buffers of reads, replayed into the policy under its lock.
//!
//! A hit must not take the policy lock, yet an order-keeping policy (LRU) must
//! learn about the read. So each thread that uses a cache gets its own buffer
//! for that cache ([`ThreadReads`], found through a thread-local list): a hit
//! appends the entry's slot with plain stores (one writer, no read-modify-write),
//! and whoever next holds the policy lock replays every thread's buffer before
//! deciding anything. The same buffer counts the thread's hits and misses, so
//! a hit costs no shared counter either.
//!
//! What a buffered read can and cannot do:
//! - A single thread replays its reads in order before its next write, so a
//!   single-threaded program sees exact LRU.
//! - With several threads, buffers are replayed one thread after another, so a
//!   read can reach the policy after a later read from another thread; and a
//!   full buffer whose owner cannot get the policy lock at once drops the read.
//!   Only the policy's order is affected: expiry reads each entry's own atomic
//!   access time, never the buffers.
//! - A record never touches another entry: a hit publishes its record before it
//!   releases its shard's read lock, and a position freed by a write is reused
//!   only after that write has drained every buffer again. So by the time a
//!   position holds a new entry, every record naming the old one has been
//!   replayed (and ignored: the policy no longer holds that slot).

use std::cell::RefCell;

use crate::Slot;
use crate::sync::{Arc, AtomicU32, AtomicU64, AtomicUsize, ExitFlag, Ordering, Weak};

/// Reads a buffer holds before it must be drained.
#[cfg(not(tenure_loom))]
pub(crate) const RING: usize = 64;
/// Small under loom, so models reach a full buffer.
#[cfg(tenure_loom)]
pub(crate) const RING: usize = 2;

/// One thread's reads of one cache. Only the owning thread stores `records`,
/// `tail`, `hits` and `misses`; only the policy-lock holder stores `head`.
pub(crate) struct ThreadReads {
    /// Slots read, in order, between `head` and `tail` (modulo [`RING`]).
    records: [AtomicU32; RING],
    /// Records published.
    tail: AtomicUsize,
    /// Records replayed.
    head: AtomicUsize,
    /// Hits on this thread, every one (recorded or not).
    hits: AtomicU64,
    /// Misses on this thread.
    misses: AtomicU64,
    /// The owning thread has ended: replay what is left, keep the counts, drop it.
    closed: ExitFlag,
}

impl ThreadReads {
    fn new() -> Self {
        ThreadReads {
            records: std::array::from_fn(|_| AtomicU32::new(0)),
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            closed: ExitFlag::new(false),
        }
    }

    /// Appends a read of `slot`; returns whether the buffer is now full (time to
    /// drain). A read that finds the buffer full is dropped.
    #[inline]
    pub(crate) fn record(&self, slot: Slot) -> bool {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        let used = tail.wrapping_sub(head);
        if used >= RING {
            return true;
        }
        self.records[tail % RING].store(slot.index() as u32, Ordering::Relaxed);
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        used + 1 == RING
    }

    #[inline]
    pub(crate) fn count_hit(&self) {
        bump_owned(&self.hits);
    }

    #[inline]
    pub(crate) fn count_miss(&self) {
        bump_owned(&self.misses);
    }

    /// Hands every published record, oldest first, to `apply`. Only the
    /// policy-lock holder calls this.
    pub(crate) fn replay(&self, mut apply: impl FnMut(Slot)) {
        let tail = self.tail.load(Ordering::Acquire);
        let mut head = self.head.load(Ordering::Relaxed);
        while head != tail {
            apply(Slot::new(self.records[head % RING].load(Ordering::Relaxed)));
            head = head.wrapping_add(1);
        }
        self.head.store(head, Ordering::Release);
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Whether the owning thread has ended (read it before the last replay).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Counts one on a counter only this thread writes: a load and a store, no
/// read-modify-write.
#[inline]
fn bump_owned(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// One cache's entry in a thread's list.
struct Registered {
    /// The cache's [`ReadBuffers::id`].
    cache: u64,
    /// Alive while the cache is: lets the list forget caches that are gone.
    alive: Weak<()>,
    reads: Arc<ThreadReads>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        // The thread has ended (or the cache is gone): the next drain replays
        // what is left, keeps the counts and lets the buffer go.
        self.reads.closed.store(true, Ordering::Release);
    }
}

#[cfg(not(tenure_loom))]
crate::sync::thread_local! {
    /// This thread's buffers, one per cache it has used.
    static MINE: RefCell<Vec<Registered>> = const { RefCell::new(Vec::new()) };
}

// loom's thread-local macro takes no `const` initialiser.
#[cfg(tenure_loom)]
crate::sync::thread_local! {
    static MINE: RefCell<Vec<Registered>> = RefCell::new(Vec::new());
}

/// A cache's side of the per-thread buffers.
pub(crate) struct ReadBuffers {
    /// Tells this cache's buffers apart in a thread's list (never reused).
    id: u64,
    /// Dropped with the cache.
    alive: Arc<()>,
    /// Hits and misses of threads that could not use a buffer (their
    /// thread-local storage was already torn down).
    homeless_hits: AtomicU64,
    homeless_misses: AtomicU64,
}

/// A thread's view of its buffer for one cache, for one call.
pub(crate) enum Mine<'a> {
    Buffer(&'a ThreadReads),
    /// The thread is ending and has no buffer: count on the cache, record nothing.
    Homeless(&'a ReadBuffers),
}

impl Mine<'_> {
    #[inline]
    pub(crate) fn count_hit(&self) {
        match self {
            Mine::Buffer(reads) => reads.count_hit(),
            Mine::Homeless(cache) => {
                cache.homeless_hits.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    #[inline]
    pub(crate) fn count_miss(&self) {
        match self {
            Mine::Buffer(reads) => reads.count_miss(),
            Mine::Homeless(cache) => {
                cache.homeless_misses.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records a read of `slot`; returns whether the buffer should be drained.
    #[inline]
    pub(crate) fn record(&self, slot: Slot) -> bool {
        match self {
            Mine::Buffer(reads) => reads.record(slot),
            Mine::Homeless(_) => false,
        }
    }
}

impl ReadBuffers {
    pub(crate) fn new() -> Self {
        ReadBuffers {
            id: crate::sync::next_cache_id(),
            alive: Arc::new(()),
            homeless_hits: AtomicU64::new(0),
            homeless_misses: AtomicU64::new(0),
        }
    }

    /// Runs `f` with this thread's buffer for this cache, first making one and
    /// handing it to `register` (which must not touch this thread's list) if
    /// the thread has none yet.
    #[inline]
    pub(crate) fn with_mine<R>(
        &self,
        register: impl FnOnce(Arc<ThreadReads>),
        f: impl FnOnce(Mine<'_>) -> R,
    ) -> R {
        let mut f = Some(f);
        let found = MINE.try_with(|mine| {
            let list = mine.try_borrow().ok()?;
            let entry = list.iter().find(|r| r.cache == self.id)?;
            let f = f.take()?;
            Some(f(Mine::Buffer(&entry.reads)))
        });
        match (found, f) {
            (Ok(Some(result)), _) => result,
            (_, Some(f)) => self.with_new(register, f),
            (_, None) => unreachable!("`f` ran and returned"),
        }
    }

    /// [`with_mine`](ReadBuffers::with_mine) for a thread that has no buffer
    /// for this cache yet (or can no longer have one).
    #[cold]
    fn with_new<R>(
        &self,
        register: impl FnOnce(Arc<ThreadReads>),
        f: impl FnOnce(Mine<'_>) -> R,
    ) -> R {
        let reads = MINE.try_with(|mine| {
            let mut list = mine.try_borrow_mut().ok()?;
            list.retain(|r| r.alive.strong_count() > 0);
            let reads = Arc::new(ThreadReads::new());
            list.push(Registered {
                cache: self.id,
                alive: Arc::downgrade(&self.alive),
                reads: Arc::clone(&reads),
            });
            Some(reads)
        });
        match reads {
            Ok(Some(reads)) => {
                register(Arc::clone(&reads));
                f(Mine::Buffer(&reads))
            }
            _ => f(Mine::Homeless(self)),
        }
    }

    /// Hits and misses counted outside any buffer.
    pub(crate) fn homeless_counts(&self) -> (u64, u64) {
        (
            self.homeless_hits.load(Ordering::Relaxed),
            self.homeless_misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(all(test, not(tenure_loom)))]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_reports_full_and_drops_when_full() {
        let reads = ThreadReads::new();
        for i in 0..RING as u32 - 1 {
            assert!(!reads.record(Slot::new(i)));
        }
        assert!(reads.record(Slot::new(99)));
        assert!(reads.record(Slot::new(100))); // dropped
        let mut seen = Vec::new();
        reads.replay(|slot| seen.push(slot.index()));
        assert_eq!(seen.len(), RING);
        assert_eq!(seen[0], 0);
        assert_eq!(seen[RING - 1], 99);
        for round in 0..3 {
            assert!(!reads.record(Slot::new(round)));
            let mut got = Vec::new();
            reads.replay(|slot| got.push(slot.index() as u32));
            assert_eq!(got, [round]);
        }
    }

    #[test]
    fn a_thread_registers_once_per_cache_and_closes_its_buffer_when_it_ends() {
        use crate::sync::{Mutex, thread};

        let cache = Arc::new(ReadBuffers::new());
        let registered = Arc::new(Mutex::new(Vec::new()));
        let spawn = |reads: u64, misses: u64| {
            let (cache, registered) = (Arc::clone(&cache), Arc::clone(&registered));
            thread::spawn(move || {
                for _ in 0..reads {
                    cache.with_mine(|r| registered.lock().push(r), |mine| mine.count_hit());
                }
                for _ in 0..misses {
                    cache.with_mine(|r| registered.lock().push(r), |mine| mine.count_miss());
                }
            })
        };
        // Joining (unlike the end of a thread scope) waits for the thread's
        // thread-local destructors, which close its buffers.
        for handle in [spawn(3, 0), spawn(0, 1)] {
            handle.join().expect("the thread ran");
        }
        let registered = std::mem::take(&mut *registered.lock());
        assert_eq!(registered.len(), 2);
        assert!(registered.iter().all(|r| r.is_closed()));
        let hits: u64 = registered.iter().map(|r| r.hits()).sum();
        let misses: u64 = registered.iter().map(|r| r.misses()).sum();
        assert_eq!((hits, misses), (3, 1));
    }
}
