use crate::{Expiry, Slot, Timestamp};

/// What a policy learns about an entry when it is stored.
///
/// ```
/// use tenure_policies::NewEntry;
///
/// let entry = NewEntry::new(0x9e37_79b9).weighing(12);
/// assert_eq!((entry.key_hash, entry.weight), (0x9e37_79b9, 12));
/// assert_eq!(NewEntry::new(7).weight, 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// A hash of the entry's key: the same for every entry of that key in this
    /// cache, so a policy can remember keys it no longer holds (a frequency
    /// sketch, a ghost queue). It may be weak (the simulator passes the key
    /// number itself): mix it before relying on its bits.
    pub key_hash: u64,
    /// The entry's weight: 1 unless the cache was given a weigher.
    pub weight: u32,
}

impl NewEntry {
    /// An entry of weight 1 whose key hashes to `key_hash`.
    #[inline]
    pub const fn new(key_hash: u64) -> Self {
        NewEntry {
            key_hash,
            weight: 1,
        }
    }

    /// The same entry weighing `weight`.
    #[inline]
    pub const fn weighing(self, weight: u32) -> Self {
        NewEntry { weight, ..self }
    }
}

/// Why an entry left the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Its time ran out: not read for the TTL, or older than the maximum lifetime.
    Expired,
    /// The cache was over its capacity and this entry was chosen to make room.
    Capacity,
    /// Removed by the user (`remove`, or a predicate invalidation).
    Removed,
    /// Its key was written again with a new value.
    Replaced,
    /// The whole cache was cleared.
    Cleared,
}

impl RemovalCause {
    /// Every cause, in declaration order.
    pub const ALL: [RemovalCause; 5] = [
        RemovalCause::Expired,
        RemovalCause::Capacity,
        RemovalCause::Removed,
        RemovalCause::Replaced,
        RemovalCause::Cleared,
    ];

    /// Whether the cache chose to remove the entry (as opposed to the user).
    pub fn was_evicted(self) -> bool {
        matches!(self, RemovalCause::Expired | RemovalCause::Capacity)
    }
}

/// How a policy wants to hear of reads ([`Policy::reads`]).
///
/// A *marking* policy lets a hit skip the read buffers altogether: the cache
/// keeps a small count of reads per entry (a byte beside the entry) and hands
/// it over while the policy looks for a victim.
///
/// ```
/// use tenure_policies::{NewEntry, Policy, Reads, Sieve, Slot, Timestamp};
///
/// let mut sieve = Sieve::new(2)?;
/// assert_eq!(sieve.reads(), Reads::Mark);
/// for slot in 0..3 {
///     sieve.on_insert(Slot::new(slot), NewEntry::new(slot.into()), Timestamp::ZERO);
/// }
/// // Slot 0 was read once, and no `on_access` told the policy so: the cache
/// // hands the count over when the policy looks at slot 0.
/// let mut marks = [1, 0, 0];
/// let mut take = |slot: Slot| std::mem::take(&mut marks[slot.index()]);
/// // The hand starts at slot 0: visited, so spared; slot 1 goes.
/// assert_eq!(sieve.next_victim_marked(&mut take), Some(Slot::new(1)));
/// assert_eq!(marks, [0, 0, 0]);
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Reads do not matter: a hit records nothing for the policy.
    None,
    /// A read only raises its own entry's count, which the policy looks at
    /// only while choosing a victim. The cache counts reads per entry, up to
    /// [`Reads::MARK_LIMIT`], and the policy takes the count of an entry with
    /// [`next_victim_marked`](Policy::next_victim_marked)'s `take_marks`
    /// before it looks at or changes that entry's read state. `on_access` is
    /// then never called.
    Mark,
    /// Every read is reported with [`on_access`](Policy::on_access), in order
    /// (buffered under concurrency, see [`Policy`]).
    Replay,
}

impl Reads {
    /// The most reads a marking policy is told of at once: it must treat
    /// more reads as this many (S3-FIFO's counter stops at 3, SIEVE's bit at 1).
    pub const MARK_LIMIT: u8 = 3;
}

/// An eviction policy: a sequential state machine over slots.
///
/// The cache calls these methods under its own lock, one at a time, passing the
/// current time. A policy must not read a clock, lock, or block; it only keeps
/// order and picks victims.
///
/// Time rules are not a policy's job: the cache enforces the rules a policy
/// declares in [`expiry`](Policy::expiry) itself, for every policy, with a
/// deadline structure that checks each entry's own last access (so expiry is
/// exact whatever order reads arrive in). A policy only bounds the cache.
///
/// Contract:
/// - `on_insert` is called once for each new entry, with its key's hash and its
///   weight (1 unless the cache was given a weigher; a bounded policy holds at
///   most its capacity in total weight, and [`Weights`](crate::Weights) keeps the sums),
///   `on_remove` once when it
///   leaves (for any cause, including ones the policy itself proposed), and
///   `on_move` when the cache moves a live entry to another slot to give memory
///   back.
/// - If [`reads`](Policy::reads) is [`Reads::Replay`] (the default), reads are
///   reported with `on_access`. A single-threaded program reports every read, in
///   order, before the next write. Under concurrency reads are buffered per
///   thread: a read may be dropped (a full buffer) or reported after reads made
///   later on other threads, and `on_access` may name a slot the policy no longer
///   holds (the entry was removed since): ignore it. A reported slot is never one
///   that was reused for another entry since the read.
/// - If it is [`Reads::Mark`], reads are counted per entry instead and the cache
///   calls [`next_victim_marked`](Policy::next_victim_marked), never
///   `next_victim` or `on_access`. A single-threaded program's counts are
///   exact, so the policy chooses as if each read had been reported at once;
///   under concurrency a count may miss a read or include one made while the
///   policy was looking. The count of a reused slot starts at zero, and a moved
///   entry's count moves with it.
/// - [`next_victim`](Policy::next_victim) names an entry the policy holds; the
///   cache removes it and then calls `on_remove` before asking again. While
///   looking, the policy may reorganise itself (move entries between queues,
///   clear their marks). It must stop proposing once the removals have brought
///   it within its bound.
///
/// # Your own policy
///
/// A FIFO bound (evict the oldest insertion, ignore reads), using
/// [`SlotList`](crate::SlotList) for the order and [`Weights`](crate::Weights) for the bound:
///
/// ```
/// use tenure_policies::{NewEntry, Policy, Slot, SlotList, Timestamp, Weights};
///
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
/// let mut fifo = Fifo { capacity: 1, order: SlotList::new(), weights: Weights::new() };
/// fifo.on_insert(Slot::new(0), NewEntry::new(10), Timestamp::ZERO);
/// fifo.on_insert(Slot::new(1), NewEntry::new(11), Timestamp::ZERO);
/// fifo.on_access(Slot::new(0), Timestamp::ZERO); // FIFO ignores reads
/// assert_eq!(fifo.next_victim(), Some(Slot::new(0)));
/// ```
pub trait Policy: Send + 'static {
    /// The time rules the cache enforces for this policy's entries. Must not
    /// change over the policy's life. The default is [`Expiry::NEVER`].
    fn expiry(&self) -> Expiry {
        Expiry::NEVER
    }

    /// Whether the policy needs to hear about reads ([`on_access`](Policy::on_access)).
    /// If not, a hit records nothing for it at all. The default is `true`.
    /// A shorthand for [`reads`](Policy::reads) returning [`Reads::None`]; a
    /// replay of a trace (which reports every read at once) needs only this.
    fn tracks_reads(&self) -> bool {
        true
    }

    /// How the cache should pass reads on: the default follows
    /// [`tracks_reads`](Policy::tracks_reads) ([`Reads::Replay`] or
    /// [`Reads::None`]). Must not change over the policy's life.
    fn reads(&self) -> Reads {
        if self.tracks_reads() {
            Reads::Replay
        } else {
            Reads::None
        }
    }

    /// A new entry was stored in `slot` at `now`. A policy that bounds the
    /// cache counts `entry.weight` against its capacity; an entry heavier than
    /// the whole capacity is proposed as the next victim at once.
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, now: Timestamp);

    /// The entry in `slot` was read at or before `now`. Ignore slots you do not hold.
    fn on_access(&mut self, slot: Slot, now: Timestamp);

    /// The entry in `slot` left the cache.
    fn on_remove(&mut self, slot: Slot);

    /// The live entry in `from` now lives in `to` (a free slot): keep its
    /// place in the policy's order, and its weight. The cache moves entries to
    /// give memory back after it shrank.
    fn on_move(&mut self, from: Slot, to: Slot, now: Timestamp);

    /// The entry to evict because the policy holds more than its bound, if any.
    /// The cache calls it after every write until it returns `None`.
    fn next_victim(&mut self) -> Option<Slot>;

    /// [`next_victim`](Policy::next_victim) for a [`Reads::Mark`] policy:
    /// `take_marks(slot)` returns the reads of `slot`'s entry not yet taken
    /// (at most [`Reads::MARK_LIMIT`]) and forgets them. Take them before
    /// looking at or changing the entry's read state, and apply them as that
    /// many `on_access` calls would. The default ignores marks; a marking
    /// policy must override it.
    fn next_victim_marked(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        let _ = take_marks;
        self.next_victim()
    }

    /// No slot at or above `slots` is in use any more: per-slot memory above it
    /// may be released. The default keeps it.
    fn shrink_to(&mut self, slots: usize) {
        let _ = slots;
    }

    /// Calls `visit` on the slots the policy holds, from the entry it would
    /// evict first to the one it would keep longest, until `visit` returns
    /// `false`. Each slot held is named at most once.
    ///
    /// This is what a cache's retention snapshots (`coldest`, `hottest`) are
    /// made of. It must change nothing: no read state cleared, no entry moved,
    /// no mark taken. `marks(slot)` tells a [`Reads::Mark`] policy the reads
    /// the cache has counted for `slot` and not yet handed over, without
    /// taking them (0 for any other policy). Each built-in policy documents
    /// what its order means and how exact it is.
    ///
    /// The default names nothing: a policy without an order of its own (such
    /// as [`SlidingTtl`](crate::SlidingTtl), whose entries leave by their
    /// deadlines, which the cache knows), or one that does not say. A cache
    /// then orders its entries by deadline if they have deadlines, and its
    /// snapshots are empty otherwise.
    ///
    /// ```
    /// use tenure_policies::{LruBound, NewEntry, Policy, Slot, Timestamp};
    ///
    /// let mut lru = LruBound::new(3)?;
    /// for slot in 0..3 {
    ///     lru.on_insert(Slot::new(slot), NewEntry::new(slot.into()), Timestamp::ZERO);
    /// }
    /// lru.on_access(Slot::new(0), Timestamp::ZERO);
    /// let mut order = Vec::new();
    /// lru.coldest_first(&|_| 0, &mut |slot| {
    ///     order.push(slot.index());
    ///     true
    /// });
    /// assert_eq!(order, [1, 2, 0]);
    /// # Ok::<(), tenure_policies::PolicyError>(())
    /// ```
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        let _ = (marks, visit);
    }
}

/// Visits `slots` in order, skipping those in `skip`; `false` if `visit`
/// asked to stop. `skip` is the short list of entries a policy has already
/// named (its oversized ones).
pub(crate) fn visit_each(
    slots: impl IntoIterator<Item = Slot>,
    skip: &[Slot],
    visit: &mut dyn FnMut(Slot) -> bool,
) -> bool {
    slots
        .into_iter()
        .filter(|slot| !skip.contains(slot))
        .all(visit)
}
