use std::collections::VecDeque;

use crate::lru_bound::checked_capacity;
use crate::policy::visit_each;
use crate::{
    NewEntry, Policy, PolicyError, Reads, Slot, SlotList, Timestamp, Weights, ensure_slot,
};

/// The highest a frequency counter goes (two bits).
const MAX_FREQ: u8 = 3;

/// An entry leaving the small queue moves to the main queue if it was read at
/// least this many times there (the paper's `freq > 1`), else it is evicted
/// and its key remembered in the ghost queue.
const PROMOTE_AT: u8 = 2;

/// S3-FIFO (Yang et al., SOSP '23): three FIFO queues. New entries enter a
/// small queue (a tenth of the capacity) that lets most one-hit wonders go
/// quickly; entries read there are promoted to a main queue, where reads buy
/// them more rounds; a ghost queue of recently evicted keys sends a key that
/// comes back straight to the main queue.
///
/// This follows Algorithm 1 of the paper:
/// - a hit adds one to the entry's 2-bit counter (at most 3): nothing else, so
///   the cache may count hits for the policy ([`Reads::Mark`]);
/// - a new entry goes to the main queue if its key is in the ghost queue (which
///   then forgets it), else to the small queue, with its counter at 0;
/// - to make room, the small queue gives up its oldest entry if it holds at
///   least a tenth of the capacity (the entry being admitted not counted) or
///   the main queue is empty, else the main queue does; the entry being
///   admitted is proposed only when both queues are empty, whatever the
///   weights;
/// - the oldest entry of the small queue moves to the back of the main queue if
///   its counter is above 1 (counter reset; if that fills the main queue, the main
///   queue gives up an entry instead), else it is evicted and its key joins the
///   ghost queue;
/// - the oldest entry of the main queue goes back to its back with its counter
///   lowered by one if the counter is above 0, else it is evicted.
///
/// The paper's prose and some implementations promote an entry read once, and
/// keep its count in the main queue; Algorithm 1 and the authors' simulator
/// ask for two reads, as here.
///
/// As in the paper, an entry joins its queue once room has been made for it,
/// so the evictions it causes never look at it. Unlike the paper, a promotion
/// that fills the main queue does not also evict from the small queue: a policy
/// stops once the cache is within its bound.
///
/// Sizes are in weight units (entries, without a weigher). The ghost queue
/// remembers evicted keys (a 32-bit fingerprint of their hash each) up to the
/// main queue's share of the capacity in total weight. An entry heavier than
/// the whole capacity is the next victim at once.
///
/// Its retention order ([`Policy::coldest_first`]), where an entry's count
/// includes the reads the cache has counted for it and not yet handed over:
/// entries heavier than the capacity; the small queue's entries with a count
/// below 2, oldest first (those it would evict rather than promote); the main
/// queue's entries by count, lowest first, and by age within a count (the
/// order the main queue gives them up in, one lap per count, if nothing is
/// read or added); the small queue's entries it would promote, oldest first
/// (they join the main queue at the back with their count reset); the entry
/// being admitted. It is exact while victims come from one queue: the first
/// `k` named are the next `k` evicted when the small queue holds at least
/// its tenth and at least `k` entries with a count below 2 (a cache filled
/// with new keys), or when it is empty. When both queues give up entries in
/// turn, which one does depends on their weights as entries come and go, and
/// the order is the rule above, not a forecast.
///
/// ```
/// use tenure_policies::{NewEntry, Policy, S3Fifo, Slot, Timestamp};
///
/// /// Stores `key` in `slot` as a cache would; returns the victims.
/// fn write(s3: &mut S3Fifo, slot: u32, key: u64) -> Vec<Slot> {
///     s3.on_insert(Slot::new(slot), NewEntry::new(key), Timestamp::ZERO);
///     let mut victims = Vec::new();
///     while let Some(victim) = s3.next_victim() {
///         victims.push(victim);
///         s3.on_remove(victim);
///     }
///     victims
/// }
///
/// let mut s3 = S3Fifo::new(10)?;
/// for key in 0..10 {
///     assert!(write(&mut s3, key, key.into()).is_empty());
/// }
/// s3.on_access(Slot::new(1), Timestamp::ZERO);
/// s3.on_access(Slot::new(1), Timestamp::ZERO);
/// // All ten are in the small queue, over its tenth: its oldest, never read, goes.
/// assert_eq!(write(&mut s3, 10, 10), [Slot::new(0)]);
/// // Slot 1, read twice, moves to the main queue instead of going; slot 2 goes.
/// assert_eq!(write(&mut s3, 0, 11), [Slot::new(2)]);
/// # Ok::<(), tenure_policies::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct S3Fifo {
    capacity: usize,
    /// The small queue's share of `capacity` (a tenth, rounded down).
    small_share: u64,
    /// Oldest first.
    small: SlotList,
    /// Oldest first.
    main: SlotList,
    /// Total weight of the entries in `small`.
    small_weight: u64,
    /// Total weight of every entry held, in a queue or `admitting`.
    weights: Weights,
    /// Read counter, indexed by slot; reset when a slot is (re)used.
    freq: Vec<u8>,
    /// Fingerprint of each held entry's key, indexed by slot.
    fingerprints: Vec<u32>,
    /// The newest entry, held but in no queue until room has been made for it.
    admitting: Option<Slot>,
    /// The small-queue entry last proposed: its key joins `ghost` when it leaves.
    to_ghost: Option<Slot>,
    /// Entries heavier than the whole capacity, still held: victims first.
    oversized: Vec<Slot>,
    ghost: Ghost,
}

impl S3Fifo {
    /// At most `capacity` in total weight (entries, without a weigher).
    ///
    /// # Errors
    /// [`PolicyError::ZeroCapacity`] if `capacity` is zero,
    /// [`PolicyError::CapacityTooLarge`] above [`Slot::LIMIT`].
    pub fn new(capacity: usize) -> Result<Self, PolicyError> {
        let capacity = checked_capacity(capacity)?;
        let small_share = capacity as u64 / 10;
        Ok(S3Fifo {
            capacity,
            small_share,
            small: SlotList::new(),
            main: SlotList::new(),
            small_weight: 0,
            weights: Weights::new(),
            freq: Vec::new(),
            fingerprints: Vec::new(),
            admitting: None,
            to_ghost: None,
            oversized: Vec::new(),
            ghost: Ghost::new(capacity as u64 - small_share),
        })
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn main_share(&self) -> u64 {
        self.capacity as u64 - self.small_share
    }

    /// Total weight of the entries in the main queue.
    fn main_weight(&self) -> u64 {
        let admitting = self.admitting.map_or(0, |s| u64::from(self.weights.get(s)));
        self.weights.total() - self.small_weight - admitting
    }

    /// Puts the entry being admitted in its queue.
    fn admit(&mut self) {
        if let Some(slot) = self.admitting.take() {
            if self.ghost.take(self.fingerprints[slot.index()]) {
                self.main.push_back(slot);
            } else {
                self.small.push_back(slot);
                self.small_weight += u64::from(self.weights.get(slot));
            }
        }
    }

    /// Looks through the small queue from its oldest entry: promotes the read
    /// ones, and proposes the first unread one (or a main-queue victim, if a
    /// promotion filled the main queue).
    fn small_victim(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        while let Some(slot) = self.small.front() {
            self.count_marks(slot, take_marks);
            if self.freq[slot.index()] < PROMOTE_AT {
                self.to_ghost = Some(slot);
                return Some(slot);
            }
            self.freq[slot.index()] = 0;
            self.small.remove(slot);
            self.small_weight -= u64::from(self.weights.get(slot));
            self.main.push_back(slot);
            if self.main_weight() >= self.main_share() {
                return self.main_victim(take_marks);
            }
        }
        None
    }

    /// Looks through the main queue from its oldest entry: sends read ones to
    /// the back a count lower, and proposes the first with a count of zero.
    /// Ends within four laps, since every pass lowers a count.
    fn main_victim(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        while let Some(slot) = self.main.front() {
            self.count_marks(slot, take_marks);
            let freq = &mut self.freq[slot.index()];
            if *freq == 0 {
                return Some(slot);
            }
            *freq -= 1;
            self.main.move_to_back(slot);
        }
        None
    }

    /// Adds the reads the cache counted for `slot` and not yet handed over.
    #[inline]
    fn count_marks(&mut self, slot: Slot, take_marks: &mut dyn FnMut(Slot) -> u8) {
        let marks = take_marks(slot);
        if marks > 0 {
            let freq = &mut self.freq[slot.index()];
            *freq = freq.saturating_add(marks).min(MAX_FREQ);
        }
    }
}

/// Drops the per-slot values at or above `slots`.
fn release_above<T>(per_slot: &mut Vec<T>, slots: usize) {
    if per_slot.len() > slots {
        per_slot.truncate(slots);
        per_slot.shrink_to(slots + slots / 8);
    }
}

/// 64-bit finaliser (MurmurHash3's), so that weak hashes such as small
/// integers still spread over all bits.
fn fingerprint(key_hash: u64) -> u32 {
    let mut h = key_hash;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    // 0 marks an empty bucket in the ghost's index.
    ((h >> 32) as u32).max(1)
}

impl Policy for S3Fifo {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        // Normally admitted by the `next_victim` calls that follow each write.
        self.admit();
        self.weights.add(slot, entry.weight);
        ensure_slot(&mut self.freq, slot, 0);
        self.freq[slot.index()] = 0;
        ensure_slot(&mut self.fingerprints, slot, 0);
        self.fingerprints[slot.index()] = fingerprint(entry.key_hash);
        self.admitting = Some(slot);
        if u64::from(entry.weight) > self.capacity as u64 {
            self.oversized.push(slot);
        }
    }

    #[inline]
    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        // A slot not held is reset when it is reused, so counting it is harmless.
        if let Some(freq) = self.freq.get_mut(slot.index()) {
            *freq = (*freq + 1).min(MAX_FREQ);
        }
    }

    fn on_remove(&mut self, slot: Slot) {
        if self.admitting == Some(slot) {
            self.admitting = None;
        } else if self.small.remove(slot) {
            let weight = self.weights.get(slot);
            self.small_weight -= u64::from(weight);
            if self.to_ghost == Some(slot) {
                self.ghost.push(self.fingerprints[slot.index()], weight);
            }
        } else if !self.main.remove(slot) {
            return;
        }
        self.weights.remove(slot);
        if self.to_ghost == Some(slot) {
            self.to_ghost = None;
        }
        if !self.oversized.is_empty() {
            self.oversized.retain(|&s| s != slot);
        }
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        if self.admitting == Some(from) {
            self.admitting = Some(to);
        } else if self.small.contains(from) {
            self.small.move_slot(from, to);
        } else if self.main.contains(from) {
            self.main.move_slot(from, to);
        } else {
            return;
        }
        self.weights.move_slot(from, to);
        ensure_slot(&mut self.freq, to, 0);
        self.freq[to.index()] = self.freq[from.index()];
        ensure_slot(&mut self.fingerprints, to, 0);
        self.fingerprints[to.index()] = self.fingerprints[from.index()];
        if self.to_ghost == Some(from) {
            self.to_ghost = Some(to);
        }
        for s in &mut self.oversized {
            if *s == from {
                *s = to;
            }
        }
    }

    fn shrink_to(&mut self, slots: usize) {
        self.small.shrink_to(slots);
        self.main.shrink_to(slots);
        self.weights.shrink_to(slots);
        release_above(&mut self.freq, slots);
        release_above(&mut self.fingerprints, slots);
    }

    fn reads(&self) -> Reads {
        Reads::Mark
    }

    fn next_victim(&mut self) -> Option<Slot> {
        self.next_victim_marked(&mut |_| 0)
    }

    fn next_victim_marked(&mut self, take_marks: &mut dyn FnMut(Slot) -> u8) -> Option<Slot> {
        if self.weights.total() <= self.capacity as u64 {
            self.admit();
            return None;
        }
        if let Some(&slot) = self.oversized.last() {
            return Some(slot);
        }
        // The small queue gives up an entry when over its share, or when the
        // main queue has none to give. A small queue of only read entries
        // promotes them all and leaves the choice to the main queue.
        let from_small = self.small_weight >= self.small_share || self.main.is_empty();
        let victim = match from_small {
            true => self.small_victim(take_marks),
            false => None,
        };
        // The entry being admitted is proposed only once both queues are empty.
        victim
            .or_else(|| self.main_victim(take_marks))
            .or(self.admitting)
    }
    fn coldest_first(&self, marks: &dyn Fn(Slot) -> u8, visit: &mut dyn FnMut(Slot) -> bool) {
        let count = |slot: Slot| {
            self.freq[slot.index()]
                .saturating_add(marks(slot))
                .min(MAX_FREQ)
        };
        let oversized = &self.oversized;
        let small = |promoted: bool| {
            self.small
                .iter()
                .filter(move |&s| (count(s) >= PROMOTE_AT) == promoted)
        };
        let main = (0..=MAX_FREQ).flat_map(|c| self.main.iter().filter(move |&s| count(s) == c));
        let _ = visit_each(oversized.iter().rev().copied(), &[], visit)
            && visit_each(small(false), oversized, visit)
            && visit_each(main, oversized, visit)
            && visit_each(small(true), oversized, visit)
            && visit_each(self.admitting, oversized, visit);
    }
}

/// Keys recently evicted from the small queue, oldest first, up to a total weight.
///
/// A ring of (fingerprint, weight) in the order keys were remembered, and an
/// open-addressed index from each remembered fingerprint to its place in the
/// ring. A key forgotten early (it came back) leaves a dead place in the ring,
/// told apart because the index no longer points at it; the ring is rebuilt
/// without them once they are half of it. So a remembered key costs about
/// 8 bytes of ring and 8 to 16 of index, and no pointer chasing.
///
/// Keys are told apart by a 32-bit fingerprint, as before: two keys in the
/// ghost at once collide with probability about `ghost size / 2^32` each (one
/// in 4 million for a million-entry main queue), and a collision only sends a
/// new key to the main queue.
#[derive(Debug, Clone)]
struct Ghost {
    /// The most total weight remembered.
    bound: u64,
    weight: u64,
    /// Fingerprint and weight, oldest first; dead where the index does not
    /// point back.
    ring: VecDeque<(u32, u32)>,
    /// The sequence number of the front of `ring` (numbers grow toward the back).
    front: u32,
    /// (fingerprint, sequence number) of every live ring place, by linear
    /// probing from the fingerprint's low bits; fingerprint 0 marks an empty
    /// bucket. Empty, or a power of two at least twice `live`.
    index: Vec<(u32, u32)>,
    /// Live places in `ring`.
    live: usize,
}

impl Ghost {
    fn new(bound: u64) -> Self {
        Ghost {
            bound,
            weight: 0,
            ring: VecDeque::new(),
            front: 0,
            index: Vec::new(),
            live: 0,
        }
    }

    /// Remembers a key evicted with this weight, forgetting the oldest keys
    /// beyond the bound. A weight of 0 counts as 1, so the count stays bounded.
    fn push(&mut self, fingerprint: u32, weight: u32) {
        self.take(fingerprint);
        let weight = weight.max(1);
        if u64::from(weight) > self.bound {
            return;
        }
        while self.weight + u64::from(weight) > self.bound {
            let Some(&(oldest, _)) = self.ring.front() else {
                break;
            };
            if let Some(bucket) = self.live_bucket(self.front, oldest) {
                self.forget(bucket);
            }
            self.ring.pop_front();
            self.front = self.front.wrapping_add(1);
        }
        if self.ring.len() >= 2 * self.live + 16 {
            self.rebuild();
        }
        let seq = self.front.wrapping_add(self.ring.len() as u32);
        self.ring.push_back((fingerprint, weight));
        self.live += 1;
        self.weight += u64::from(weight);
        if self.index.len() < 2 * self.live {
            self.grow();
        }
        self.place(fingerprint, seq);
    }

    /// Forgets `fingerprint`; returns whether it was remembered.
    fn take(&mut self, fingerprint: u32) -> bool {
        match self.find(fingerprint) {
            Some(bucket) => {
                self.forget(bucket);
                true
            }
            None => false,
        }
    }

    fn home(&self, fingerprint: u32) -> usize {
        fingerprint as usize & (self.index.len() - 1)
    }

    /// The index bucket of `fingerprint`, if remembered.
    fn find(&self, fingerprint: u32) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut at = self.home(fingerprint);
        loop {
            match self.index[at].0 {
                0 => return None,
                f if f == fingerprint => return Some(at),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Forgets the key in index `bucket`: its weight, and its bucket (later
    /// buckets of the same run shift back, so probing still finds them).
    fn forget(&mut self, bucket: usize) {
        let seq = self.index[bucket].1;
        let place = seq.wrapping_sub(self.front) as usize;
        self.weight -= u64::from(self.ring[place].1);
        self.live -= 1;
        let mask = self.index.len() - 1;
        let mut hole = bucket;
        let mut at = bucket;
        self.index[hole] = (0, 0);
        loop {
            at = (at + 1) & mask;
            let (fingerprint, _) = self.index[at];
            if fingerprint == 0 {
                return;
            }
            // It may fill the hole if the hole lies between its home and here.
            let home = self.home(fingerprint);
            if at.wrapping_sub(home) & mask >= at.wrapping_sub(hole) & mask {
                self.index[hole] = self.index[at];
                self.index[at] = (0, 0);
                hole = at;
            }
        }
    }

    /// Files `fingerprint` (not in the index) at ring sequence number `seq`.
    fn place(&mut self, fingerprint: u32, seq: u32) {
        let mask = self.index.len() - 1;
        let mut at = self.home(fingerprint);
        while self.index[at].0 != 0 {
            at = (at + 1) & mask;
        }
        self.index[at] = (fingerprint, seq);
    }

    /// Doubles the index (at least 16 buckets) and files every live place again.
    fn grow(&mut self) {
        let buckets = (2 * self.index.len()).max(16);
        let old = std::mem::replace(&mut self.index, vec![(0, 0); buckets]);
        for (fingerprint, seq) in old {
            if fingerprint != 0 {
                self.place(fingerprint, seq);
            }
        }
    }

    /// The index bucket of the ring place numbered `seq`, if it is live.
    fn live_bucket(&self, seq: u32, fingerprint: u32) -> Option<usize> {
        self.find(fingerprint)
            .filter(|&bucket| self.index[bucket].1 == seq)
    }

    /// Drops the ring's dead places, renumbering the live ones from 0.
    fn rebuild(&mut self) {
        let ring = std::mem::take(&mut self.ring);
        let front = self.front;
        self.ring = ring
            .iter()
            .enumerate()
            .filter(|&(i, &(fingerprint, _))| {
                self.live_bucket(front.wrapping_add(i as u32), fingerprint)
                    .is_some()
            })
            .map(|(_, &place)| place)
            .collect();
        self.front = 0;
        self.index.fill((0, 0));
        for seq in 0..self.ring.len() {
            self.place(self.ring[seq].0, seq as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ghost;

    /// The ghost against a plain list: the same keys remembered, in the same
    /// order, through pushes, takes, evictions at the bound, index growth and
    /// ring rebuilds. Fingerprints come from a small range, so probe runs
    /// collide and wrap, and deletions shift them back.
    #[test]
    fn ghost_remembers_what_a_plain_fifo_would() {
        for bound in [1u64, 3, 20, 100] {
            let mut ghost = Ghost::new(bound);
            // (fingerprint, weight), oldest first.
            let mut model: Vec<(u32, u32)> = Vec::new();
            let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ bound;
            for step in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Spread over two ranges so home buckets of both ends meet.
                let fingerprint = match x % 3 {
                    0 => 1 + (x >> 8) as u32 % 40,
                    1 => u32::MAX - (x >> 8) as u32 % 40,
                    _ => 1 + (x >> 8) as u32 % 300,
                };
                if (x >> 32) % 3 == 0 {
                    let held = model.iter().position(|&(f, _)| f == fingerprint);
                    assert_eq!(ghost.take(fingerprint), held.is_some(), "step {step}");
                    if let Some(at) = held {
                        model.remove(at);
                    }
                } else {
                    let weight = 1 + (x >> 40) as u32 % 3;
                    ghost.push(fingerprint, weight);
                    model.retain(|&(f, _)| f != fingerprint);
                    if u64::from(weight) <= bound {
                        while model.iter().map(|&(_, w)| u64::from(w)).sum::<u64>()
                            + u64::from(weight)
                            > bound
                        {
                            model.remove(0);
                        }
                        model.push((fingerprint, weight));
                    }
                }
                let weight: u64 = model.iter().map(|&(_, w)| u64::from(w)).sum();
                assert_eq!(
                    (ghost.weight, ghost.live),
                    (weight, model.len()),
                    "step {step}"
                );
                assert!(ghost.ring.len() <= 2 * ghost.live + 16);
            }
            // Same keys, same order.
            let live: Vec<(u32, u32)> = (0..ghost.ring.len())
                .filter(|&i| {
                    let (f, _) = ghost.ring[i];
                    ghost
                        .live_bucket(ghost.front.wrapping_add(i as u32), f)
                        .is_some()
                })
                .map(|i| ghost.ring[i])
                .collect();
            assert_eq!(live, model);
        }
    }
}
