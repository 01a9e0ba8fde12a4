use crate::frequency_sketch::FrequencySketch;
use crate::lru_bound::checked_capacity;
use crate::policy::visit_each;
use crate::window_tuner::WindowTuner;
use crate::{NewEntry, Policy, PolicyError, Slot, Timestamp, Weights, ensure_slot};

/// The window's first share of the capacity; the tuner moves it.
const INITIAL_WINDOW: f64 = 0.01;
/// The protected segment's share of the main space.
const PROTECTED_SHARE: f64 = 0.8;
/// A candidate at least this popular may be let in against a more popular
/// victim, one time in `JITTER_ODDS`.
const WARM: u32 = 6;
const JITTER_ODDS: u64 = 1024;

/// W-TinyLFU: a bound by total weight that admits a new entry into its main
/// space only if the key has been wanted more often lately than the entry it
/// would push out, with a recency window in front whose size adapts to the
/// workload.
///
/// New entries go to a small LRU *window*. When the window overflows, its
/// oldest entry becomes a candidate for the *main* space, a segmented LRU
/// (entries read again there are *protected*, the rest on *probation*): a
/// count-min sketch of recent key frequencies decides whether the candidate or
/// main's oldest probationary entry is evicted. The sketch remembers keys the
/// cache no longer holds, so a popular key that was evicted wins its way back
/// in, while a one-off scan cannot flush the main space.
///
/// The window starts at 1 % of the capacity and is sized by *miniature
/// simulations*: five scaled-down copies of this policy, with windows of 1,
/// 10, 30, 60 and 90 % of their capacity, see only the keys whose hash falls
/// in a fixed sample (1,024 entries' worth and at most one key in 64, but at
/// least 128 entries' worth: every key in a cache of up to 128).
/// Every 1,024 sampled lookups the window moves toward the share whose
/// miniature hit most lately, by at most 5 % of the capacity a time and only
/// if that share beats the current one by half a point: recency-heavy
/// workloads get a large window (LRU-like), frequency-heavy ones a small one.
/// Reads (hits) and inserts (misses, in a cache that stores what it missed)
/// are both counted as lookups of the key.
///
/// Per entry it keeps 12 bytes (list links, region and a 30-bit key hash),
/// plus a sketch of 9 bytes per entry held (its size rounded up to a power of
/// two, and at most the capacity's). The miniatures add a bounded cost: five
/// sets of regions of at most 1,024 entries at 12 bytes each,
/// sharing the policy's sketch, one map from sampled key to slot and a table
/// of those keys (together at most about 190 KB, whatever the capacity).
///
/// Its retention order ([`Policy::coldest_first`]): an entry heavier than
/// the capacity; then two sequences merged: the window, oldest first, and the
/// main space as it gives up victims (probation oldest first, then protected
/// oldest first), taking at each step the one whose key the sketch counts
/// less often, the window's on a tie (admission lets a candidate in only if
/// it is counted more often than the victim). The first entry named is
/// exactly the one a new key stored in a full cache evicts, when the window
/// holds its full share (the usual case: every write refills it), except for
/// the one time in 1,024 that a candidate counted at least 6 times is let in
/// against a more popular
/// victim. Past the first, it is an approximation: an admitted candidate
/// joins probation at its back, new keys join the window and raise their
/// counts, demotions move protected entries to probation, and the window's
/// size adapts; so "evicted first" means "most likely evicted first".
///
/// ```
/// use tenure_policies::{NewEntry, Policy, Slot, Timestamp, TinyLfu};
///
/// /// Stores key `n` in slot `n`; returns the slots evicted to make room.
/// fn insert(lfu: &mut TinyLfu, n: u32) -> Vec<u32> {
///     lfu.on_insert(Slot::new(n), NewEntry::new(n.into()), Timestamp::ZERO);
///     let mut evicted = Vec::new();
///     while let Some(victim) = lfu.next_victim() {
///         lfu.on_remove(victim);
///         evicted.push(victim.index() as u32);
///     }
///     evicted
/// }
///
/// let mut lfu = TinyLfu::new(100)?;
/// // 100 keys, each read a few times.
/// for n in 0..100 {
///     assert!(insert(&mut lfu, n).is_empty());
/// }
/// for _ in 0..3 {
///     for n in 0..100 {
///         lfu.on_access(Slot::new(n), Timestamp::ZERO);
///     }
/// }
/// // A scan of 500 keys seen once pushes out at most the window's one
/// // popular entry; an LRU would have lost all 100.
/// let evicted: Vec<u32> = (100..600).flat_map(|n| insert(&mut lfu, n)).collect();
/// assert!(evicted.iter().filter(|&&n| n < 100).count() <= 1);
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TinyLfu {
    seed: u64,
    regions: Regions,
    sketch: FrequencySketch,
    /// Sizes the window.
    tuner: Box<WindowTuner>,
}

/// The window, probation and protected regions and their rules: everything
/// of W-TinyLFU but the frequency sketch, which the caller lends for
/// admission. The policy has one; each of its tuner's miniatures has another,
/// and they share the policy's sketch (a key's frequency does not depend on
/// which keys are sampled).
#[derive(Debug, Clone)]
pub(crate) struct Regions {
    capacity: u64,
    entries: Entries,
    weights: Weights,
    /// The window's share of the capacity, in weight.
    window_max: u64,
    /// The protected segment's share of the capacity, in weight.
    protected_max: u64,
    /// An entry heavier than the whole capacity, to be evicted at once.
    oversized: Option<Slot>,
    /// State of a small xorshift generator, for the rare random admission.
    random: u64,
}

/// Where an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Window = 0,
    Probation = 1,
    Protected = 2,
}

impl Region {
    const ALL: [Region; 3] = [Region::Window, Region::Probation, Region::Protected];
}

impl TinyLfu {
    /// At most `capacity` in total weight (entries, without a weigher).
    ///
    /// # Errors
    /// [`PolicyError::ZeroCapacity`] if `capacity` is zero,
    /// [`PolicyError::CapacityTooLarge`] above [`Slot::LIMIT`].
    pub fn new(capacity: usize) -> Result<Self, PolicyError> {
        Self::with_seed(capacity, 0)
    }

    /// Like [`new`](Self::new), with `seed` mixed into key hashes and the rare
    /// random admission: two policies with the same seed, given the same calls,
    /// make the same choices.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_seed(capacity: usize, seed: u64) -> Result<Self, PolicyError> {
        let capacity = checked_capacity(capacity)? as u64;
        Ok(TinyLfu {
            seed: mix(seed ^ 0x5eed_7e4e_c0de_cafe),
            regions: Regions::new(capacity, INITIAL_WINDOW, seed),
            sketch: FrequencySketch::new(capacity as usize),
            tuner: Box::new(WindowTuner::new(capacity, seed)),
        })
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.regions.capacity as usize
    }

    /// The weight the recency window may hold now (it adapts to the workload).
    pub fn window_capacity(&self) -> usize {
        self.regions.window_max as usize
    }

    /// The hash the sketch knows a key by: 30 well-mixed bits, kept per entry.
    #[inline]
    fn key_hash(&self, key_hash: u64) -> u32 {
        (mix(key_hash ^ self.seed) >> 34) as u32
    }

    /// Counts a lookup of the key with `hash`, held in `slot`, for the tuner
    /// and, when it decides, resizes the window.
    #[inline]
    fn record(&mut self, hash: u32, slot: Slot) {
        let window = self.regions.window_max;
        let weights = &self.regions.weights;
        let weight = || weights.get(slot);
        if let Some(window) = self.tuner.record(hash, weight, window, &self.sketch) {
            self.regions.set_window(window);
        }
    }
}

impl Regions {
    /// Empty regions bounded at `capacity` (at least 1), `share` of it the
    /// window's.
    pub(crate) fn new(capacity: u64, share: f64, seed: u64) -> Self {
        let mut regions = Regions {
            capacity,
            entries: Entries::default(),
            weights: Weights::new(),
            window_max: 0,
            protected_max: 0,
            oversized: None,
            random: mix(seed) | 1,
        };
        regions.set_window(((capacity as f64 * share) as u64).max(1));
        regions
    }

    /// Resizes the window, and the protected segment with it.
    pub(crate) fn set_window(&mut self, window_max: u64) {
        self.window_max = window_max.min(self.capacity);
        let main = self.capacity - self.window_max;
        self.protected_max = (main as f64 * PROTECTED_SHARE) as u64;
    }

    /// Whether `slot` is held.
    #[inline]
    pub(crate) fn holds(&self, slot: Slot) -> bool {
        self.entries.region(slot).is_some()
    }

    /// True one time in [`JITTER_ODDS`].
    fn rare_chance(&mut self) -> bool {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        x % JITTER_ODDS == 0
    }

    /// Whether `candidate` should take the place of `victim` in the main space.
    fn admit(&mut self, candidate: Slot, victim: Slot, sketch: &FrequencySketch) -> bool {
        let candidate = sketch.frequency(spread(self.entries.hash(candidate)));
        let victim = sketch.frequency(spread(self.entries.hash(victim)));
        // A popular candidate facing a victim that looks more popular still is
        // let in now and then, so keys crafted to inflate the victim's counts
        // in the sketch cannot keep it out for good. Ties keep the victim:
        // among equals (a loop) churning only costs hits.
        candidate > victim || (victim > candidate && candidate >= WARM && self.rare_chance())
    }

    /// The main space's eviction candidate: its oldest probationary entry, or
    /// its oldest protected one.
    fn main_victim(&self) -> Option<Slot> {
        self.entries
            .front(Region::Probation)
            .or_else(|| self.entries.front(Region::Protected))
    }

    /// Moves a little of any overflow of the window and the protected segment
    /// to probation (a few entries a call keep every call O(1)).
    fn rebalance(&mut self) {
        self.spill_to_probation(Region::Window, self.window_max);
        self.demote_protected();
    }

    /// Moves protected entries to probation while the segment is over its share.
    fn demote_protected(&mut self) {
        self.spill_to_probation(Region::Protected, self.protected_max);
    }

    /// Moves up to `REBALANCE_STEPS` of `region`'s oldest entries to probation
    /// while it holds more than `limit`.
    fn spill_to_probation(&mut self, region: Region, limit: u64) {
        for _ in 0..REBALANCE_STEPS {
            if self.entries.weight(region) <= limit {
                break;
            }
            let Some(oldest) = self.entries.front(region) else {
                break;
            };
            let weight = self.weights.get(oldest);
            self.entries.relink(oldest, Region::Probation, weight);
        }
    }

    /// Adds a new entry (its slot not held) with sketch hash `hash` to the
    /// window.
    pub(crate) fn insert(&mut self, slot: Slot, hash: u32, weight: u32) {
        self.weights.add(slot, weight);
        self.entries.push_back(slot, Region::Window, hash, weight);
        if u64::from(weight) > self.capacity {
            self.oversized = Some(slot);
        }
    }

    /// A read of a held entry; returns `false` if `slot` is not held.
    #[inline]
    pub(crate) fn access(&mut self, slot: Slot) -> bool {
        let Some(region) = self.entries.region(slot) else {
            return false;
        };
        match region {
            Region::Window | Region::Protected => self.entries.move_to_back(slot, region),
            Region::Probation => {
                let weight = self.weights.get(slot);
                self.entries.relink(slot, Region::Protected, weight);
                self.demote_protected();
            }
        }
        true
    }

    pub(crate) fn remove(&mut self, slot: Slot) {
        if self.entries.region(slot).is_none() {
            return;
        }
        let weight = self.weights.remove(slot);
        self.entries.remove(slot, weight);
        if self.oversized == Some(slot) {
            self.oversized = None;
        }
    }

    /// The entry to evict next, if over the bound; may first move the window's
    /// oldest entry into main, if the sketch admits it.
    pub(crate) fn next_victim(&mut self, sketch: &FrequencySketch) -> Option<Slot> {
        if let Some(slot) = self.oversized {
            return Some(slot);
        }
        if self.weights.total() <= self.capacity {
            self.rebalance();
            return None;
        }
        if self.entries.weight(Region::Window) <= self.window_max {
            return self
                .main_victim()
                .or_else(|| self.entries.front(Region::Window));
        }
        let candidate = self.entries.front(Region::Window)?;
        let Some(victim) = self.main_victim() else {
            return Some(candidate);
        };
        if self.admit(candidate, victim, sketch) {
            let weight = self.weights.get(candidate);
            self.entries.relink(candidate, Region::Probation, weight);
            Some(victim)
        } else {
            Some(candidate)
        }
    }
}

/// Entries moved between regions per call at most, beyond the one a write adds.
const REBALANCE_STEPS: usize = 4;

impl Policy for TinyLfu {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        if self.regions.holds(slot) {
            self.regions.remove(slot);
        }
        let hash = self.key_hash(entry.key_hash);
        self.sketch.ensure_room(self.regions.entries.len() + 1);
        self.sketch.increment(spread(hash));
        self.regions.insert(slot, hash, entry.weight);
        self.record(hash, slot);
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        if self.regions.access(slot) {
            let hash = self.regions.entries.hash(slot);
            self.sketch.increment(spread(hash));
            self.record(hash, slot);
        }
    }

    fn on_remove(&mut self, slot: Slot) {
        self.regions.remove(slot);
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        let regions = &mut self.regions;
        if regions.entries.region(from).is_none() || regions.entries.region(to).is_some() {
            return;
        }
        regions.entries.move_slot(from, to);
        regions.weights.move_slot(from, to);
        if regions.oversized == Some(from) {
            regions.oversized = Some(to);
        }
    }

    fn shrink_to(&mut self, slots: usize) {
        self.regions.entries.shrink_to(slots);
        self.regions.weights.shrink_to(slots);
    }

    fn next_victim(&mut self) -> Option<Slot> {
        self.regions.next_victim(&self.sketch)
    }
    fn coldest_first(&self, _marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        let entries = &self.regions.entries;
        let frequency = |slot: Slot| self.sketch.frequency(spread(entries.hash(slot)));
        let mut window = entries.iter(Region::Window).peekable();
        // Main's victims in turn: probation's oldest, then protected's.
        let main = entries.iter(Region::Probation);
        let mut main = main.chain(entries.iter(Region::Protected)).peekable();
        // A window candidate against main's victim: the less often counted
        // goes, the candidate on a tie.
        let merged = std::iter::from_fn(|| match (window.peek(), main.peek()) {
            (Some(&w), Some(&m)) if frequency(w) > frequency(m) => main.next(),
            (Some(_), _) => window.next(),
            (None, _) => main.next(),
        });
        let oversized: &[Slot] = self.regions.oversized.as_slice();
        let _ = visit_each(oversized.iter().copied(), &[], visit)
            && visit_each(merged, oversized, visit);
    }
}

/// A 64-bit mixer (the SplitMix64 finaliser): every input bit moves every
/// output bit, so weak key hashes (small integers) spread out.
#[inline]
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The sketch's 64-bit hash of an entry's 30-bit key hash.
#[inline]
fn spread(hash: u32) -> u64 {
    mix(u64::from(hash))
}

/// End of a list.
const NIL: u32 = u32::MAX;
/// Not held: the top bits of an entry's `meta`.
const ABSENT: u32 = 3 << 30;
const HASH_BITS: u32 = (1 << 30) - 1;

/// A slot's list links and its `meta`: the region in the top two bits
/// (`ABSENT` if not held), the key hash below. One 12-byte record, so a read
/// touches one place for both.
#[derive(Debug, Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    meta: u32,
}

/// A slot not held.
const FREE: Node = Node {
    prev: NIL,
    next: NIL,
    meta: ABSENT,
};

#[derive(Debug, Clone, Copy)]
struct Queue {
    head: u32,
    tail: u32,
    weight: u64,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            head: NIL,
            tail: NIL,
            weight: 0,
        }
    }
}

/// Three LRU lists (window, probation, protected) sharing one array of
/// nodes, which also hold each entry's region and key hash: 12 bytes a slot.
#[derive(Debug, Clone, Default)]
struct Entries {
    nodes: Vec<Node>,
    queues: [Queue; 3],
    len: usize,
}

impl Entries {
    #[inline]
    fn region(&self, slot: Slot) -> Option<Region> {
        let meta = self.nodes.get(slot.index())?.meta;
        Region::ALL.get((meta >> 30) as usize).copied()
    }

    #[inline]
    fn hash(&self, slot: Slot) -> u32 {
        self.nodes[slot.index()].meta & HASH_BITS
    }

    fn len(&self) -> usize {
        self.len
    }

    fn weight(&self, region: Region) -> u64 {
        self.queues[region as usize].weight
    }

    fn front(&self, region: Region) -> Option<Slot> {
        let head = self.queues[region as usize].head;
        (head != NIL).then(|| Slot::new(head))
    }

    /// The slots of `region`, oldest first.
    fn iter(&self, region: Region) -> impl Iterator<Item = Slot> + '_ {
        let mut at = self.queues[region as usize].head;
        std::iter::from_fn(move || {
            (at != NIL).then(|| {
                let slot = Slot::new(at);
                at = self.nodes[at as usize].next;
                slot
            })
        })
    }

    /// Adds a slot not held to the back of `region`.
    fn push_back(&mut self, slot: Slot, region: Region, hash: u32, weight: u32) {
        ensure_slot(&mut self.nodes, slot, FREE);
        self.nodes[slot.index()].meta = (region as u32) << 30 | (hash & HASH_BITS);
        self.link_back(slot, region, weight);
        self.len += 1;
    }

    #[inline]
    fn link_back(&mut self, slot: Slot, region: Region, weight: u32) {
        let i = slot.index() as u32;
        let queue = &mut self.queues[region as usize];
        let node = &mut self.nodes[slot.index()];
        node.prev = queue.tail;
        node.next = NIL;
        match queue.tail {
            NIL => queue.head = i,
            tail => self.nodes[tail as usize].next = i,
        }
        queue.tail = i;
        queue.weight += u64::from(weight);
    }

    #[inline]
    fn unlink(&mut self, slot: Slot, region: Region, weight: u32) {
        let Node { prev, next, .. } = self.nodes[slot.index()];
        let queue = &mut self.queues[region as usize];
        match prev {
            NIL => queue.head = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => queue.tail = prev,
            n => self.nodes[n as usize].prev = prev,
        }
        queue.weight -= u64::from(weight);
    }

    /// Moves a held slot to the back of its own region.
    #[inline]
    fn move_to_back(&mut self, slot: Slot, region: Region) {
        if self.queues[region as usize].tail != slot.index() as u32 {
            self.unlink(slot, region, 0);
            self.link_back(slot, region, 0);
        }
    }

    /// Moves a held slot to the back of `to`.
    fn relink(&mut self, slot: Slot, to: Region, weight: u32) {
        let Some(from) = self.region(slot) else {
            return;
        };
        self.unlink(slot, from, weight);
        self.link_back(slot, to, weight);
        let meta = &mut self.nodes[slot.index()].meta;
        *meta = (to as u32) << 30 | (*meta & HASH_BITS);
    }

    /// Takes a held slot out.
    fn remove(&mut self, slot: Slot, weight: u32) {
        if let Some(region) = self.region(slot) {
            self.unlink(slot, region, weight);
            self.nodes[slot.index()] = FREE;
            self.len -= 1;
        }
    }

    /// Puts the held slot `from` in its place as `to` (not held).
    fn move_slot(&mut self, from: Slot, to: Slot) {
        let Some(region) = self.region(from) else {
            return;
        };
        ensure_slot(&mut self.nodes, to, FREE);
        let node = self.nodes[from.index()];
        self.nodes[to.index()] = node;
        self.nodes[from.index()] = FREE;
        let t = to.index() as u32;
        let queue = &mut self.queues[region as usize];
        match node.prev {
            NIL => queue.head = t,
            p => self.nodes[p as usize].next = t,
        }
        match node.next {
            NIL => queue.tail = t,
            n => self.nodes[n as usize].prev = t,
        }
    }

    fn shrink_to(&mut self, slots: usize) {
        if self.nodes.len() > slots {
            debug_assert!(self.nodes[slots..].iter().all(|n| n.meta == ABSENT));
            self.nodes.truncate(slots);
            self.nodes.shrink_to(slots + slots / 8);
        }
    }
}
