//! `TinyLfu` under the `Policy` contract: the bound holds, victims are held
//! slots, choices are reproducible, and frequency wins over recency.

use std::collections::HashMap;

use proptest::prelude::*;
use tenure_policies::{LruBound, NewEntry, Policy, Slot, Timestamp, TinyLfu};

const NOW: Timestamp = Timestamp::ZERO;

/// A cache around a policy, as the real one drives it: keys in slots, a
/// miss inserts, every write is followed by evictions until the policy is
/// within its bound.
struct Harness<P> {
    policy: P,
    /// Key and weight of each slot's entry, if any.
    slots: Vec<Option<(u64, u32)>>,
    index: HashMap<u64, Slot>,
    /// Every victim proposed, as the key it held.
    victims: Vec<u64>,
}

impl<P: Policy> Harness<P> {
    fn new(policy: P) -> Self {
        Harness {
            policy,
            slots: Vec::new(),
            index: HashMap::new(),
            victims: Vec::new(),
        }
    }

    fn total_weight(&self) -> u64 {
        self.slots
            .iter()
            .flatten()
            .map(|&(_, w)| u64::from(w))
            .sum()
    }

    fn contains(&self, key: u64) -> bool {
        self.index.contains_key(&key)
    }

    /// The lowest free slot.
    fn free_slot(&self) -> Slot {
        let i = self
            .slots
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.slots.len());
        Slot::new(i as u32)
    }

    fn put(&mut self, slot: Slot, entry: Option<(u64, u32)>) {
        if self.slots.len() <= slot.index() {
            self.slots.resize(slot.index() + 1, None);
        }
        self.slots[slot.index()] = entry;
    }

    /// Looks `key` up; a miss inserts it with `weight`. Returns whether it hit.
    fn access(&mut self, key: u64, weight: u32) -> bool {
        if let Some(&slot) = self.index.get(&key) {
            self.policy.on_access(slot, NOW);
            return true;
        }
        let slot = self.free_slot();
        self.put(slot, Some((key, weight)));
        self.index.insert(key, slot);
        self.policy
            .on_insert(slot, NewEntry::new(key).weighing(weight), NOW);
        self.evict();
        false
    }

    fn evict(&mut self) {
        while let Some(victim) = self.policy.next_victim() {
            let (key, _) = self
                .slots
                .get(victim.index())
                .copied()
                .flatten()
                .unwrap_or_else(|| panic!("victim {victim:?} is not a held slot"));
            self.victims.push(key);
            self.remove(key);
        }
    }

    fn remove(&mut self, key: u64) {
        if let Some(slot) = self.index.remove(&key) {
            self.put(slot, None);
            self.policy.on_remove(slot);
        }
    }

    /// Moves `key`'s entry to a fresh slot above every one in use.
    fn relocate(&mut self, key: u64) {
        if let Some(&from) = self.index.get(&key) {
            let to = Slot::new(self.slots.len() as u32);
            let entry = self.slots[from.index()];
            self.put(to, entry);
            self.put(from, None);
            self.index.insert(key, to);
            self.policy.on_move(from, to, NOW);
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Access(u64, u32),
    Remove(u64),
    Move(u64),
    StaleRead(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..40, prop_oneof![9 => Just(1u32), 1 => 1u32..12]).prop_map(|(k, w)| Op::Access(k, w)),
        1 => (0u64..40).prop_map(Op::Remove),
        1 => (0u64..40).prop_map(Op::Move),
        1 => (0u32..64).prop_map(Op::StaleRead),
    ]
}

/// Runs `ops` through a TinyLfu of `capacity`, checking the bound after
/// every write; returns the victims' keys.
fn run(capacity: usize, seed: u64, ops: &[Op]) -> Vec<u64> {
    let mut cache = Harness::new(TinyLfu::with_seed(capacity, seed).expect("a valid capacity"));
    for op in ops {
        match *op {
            Op::Access(key, weight) => {
                cache.access(key, weight);
            }
            Op::Remove(key) => cache.remove(key),
            Op::Move(key) => cache.relocate(key),
            // A read reported late, for a slot that may be free by now.
            Op::StaleRead(slot) => {
                let slot = Slot::new(slot);
                if cache.slots.get(slot.index()).copied().flatten().is_none() {
                    cache.policy.on_access(slot, NOW);
                }
            }
        }
        assert!(
            cache.total_weight() <= capacity as u64,
            "total weight {} over capacity {capacity} after {op:?}",
            cache.total_weight()
        );
    }
    cache.victims
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random inserts (some heavier than the whole capacity), reads, removals,
    /// moves and stale reads: the harness panics on a victim it does not hold,
    /// and `run` on a total weight over the bound once eviction has stopped.
    #[test]
    fn stays_within_its_bound_and_proposes_only_held_slots(
        capacity in 1usize..24,
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 0..400),
    ) {
        run(capacity, seed, &ops);
    }

    #[test]
    fn the_same_seed_and_calls_make_the_same_choices(
        capacity in 1usize..24,
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 0..400),
    ) {
        prop_assert_eq!(run(capacity, seed, &ops), run(capacity, seed, &ops));
    }
}

#[test]
fn an_entry_heavier_than_the_capacity_is_proposed_at_once() {
    let mut lfu = TinyLfu::new(10).unwrap();
    for i in 0..5 {
        lfu.on_insert(Slot::new(i), NewEntry::new(u64::from(i)), NOW);
    }
    assert_eq!(lfu.next_victim(), None);
    lfu.on_insert(Slot::new(5), NewEntry::new(5).weighing(11), NOW);
    assert_eq!(lfu.next_victim(), Some(Slot::new(5)));
    lfu.on_remove(Slot::new(5));
    assert_eq!(lfu.next_victim(), None, "the others still fit");
}

/// A hot set read often, then a long scan of keys read once: an LRU of the
/// same size loses the whole hot set; TinyLfu keeps it.
#[test]
fn frequent_keys_survive_a_scan_that_flushes_an_lru() {
    const CAPACITY: usize = 100;
    const HOT: u64 = 80;
    fn hot_survivors<P: Policy>(policy: P) -> usize {
        let mut cache = Harness::new(policy);
        for _ in 0..5 {
            for key in 0..HOT {
                cache.access(key, 1);
            }
        }
        for key in 1_000..3_000 {
            cache.access(key, 1);
        }
        (0..HOT).filter(|&k| cache.contains(k)).count()
    }
    let lru = hot_survivors(LruBound::new(CAPACITY).unwrap());
    let tinylfu = hot_survivors(TinyLfu::new(CAPACITY).unwrap());
    assert_eq!(lru, 0, "the scan flushes an LRU");
    assert!(
        tinylfu >= 75,
        "only {tinylfu} of {HOT} hot keys survived the scan"
    );
}

/// Two policies given the same calls, one of whose entries were moved to other
/// slots part-way: they go on to choose the same keys.
#[test]
fn moving_entries_keeps_their_place_and_weight() {
    let trace: Vec<(u64, u32)> = (0..3_000u64)
        .map(|i| {
            let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58; // 64 keys
            (x % 7 * (x % 5) + x / 9, 1 + (x % 3) as u32)
        })
        .collect();
    let mut still = Harness::new(TinyLfu::with_seed(30, 7).unwrap());
    let mut moved = Harness::new(TinyLfu::with_seed(30, 7).unwrap());
    for (step, &(key, weight)) in trace.iter().enumerate() {
        let hit = still.access(key, weight);
        assert_eq!(moved.access(key, weight), hit, "step {step}");
        if step % 97 == 0 {
            // Move every entry to a fresh slot, so none keeps its number.
            let keys: Vec<u64> = moved.index.keys().copied().collect();
            for key in keys {
                moved.relocate(key);
            }
        }
    }
    assert!(!still.victims.is_empty());
    assert_eq!(still.victims, moved.victims);
}

/// A small deterministic generator for the workloads below.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Hit ratio (%) of `keys` replayed through `policy`, over the second half
/// (after the tuner has had time to move the window), and the policy.
fn replay<P: Policy>(policy: P, keys: &[u64]) -> (f64, Harness<P>) {
    let mut cache = Harness::new(policy);
    let half = keys.len() / 2;
    let mut hits = 0;
    for (i, &key) in keys.iter().enumerate() {
        if cache.access(key, 1) && i >= half {
            hits += 1;
        }
    }
    (100.0 * hits as f64 / (keys.len() - half) as f64, cache)
}

/// A working set that drifts (each key is wanted for a while and never
/// again) favours recency: the tuner grows the window, and TinyLfu comes
/// close to an LRU, where a 1 % window would turn the newcomers away for the
/// old keys' higher counts.
#[test]
fn the_window_grows_for_a_drifting_working_set() {
    const CAPACITY: usize = 2_000;
    let mut state = 7;
    let keys: Vec<u64> = (0..400_000u64)
        .map(|t| t / 20 + xorshift(&mut state) % 1_500)
        .collect();
    let (lru, _) = replay(LruBound::new(CAPACITY).unwrap(), &keys);
    let (tinylfu, cache) = replay(TinyLfu::new(CAPACITY).unwrap(), &keys);
    let window = cache.policy.window_capacity();
    assert!(window >= CAPACITY / 4, "window {window} of {CAPACITY}");
    assert!(
        tinylfu >= lru - 3.0,
        "tinylfu {tinylfu:.2} %, lru {lru:.2} %"
    );
}

/// A loop over more keys than fit favours frequency: the window stays small
/// and TinyLfu keeps most of a fixed set, where an LRU hits nothing.
#[test]
fn the_window_stays_small_for_a_loop() {
    const CAPACITY: usize = 2_000;
    let keys: Vec<u64> = (0..400_000u64).map(|t| t % 3_000).collect();
    let (lru, _) = replay(LruBound::new(CAPACITY).unwrap(), &keys);
    let (tinylfu, cache) = replay(TinyLfu::new(CAPACITY).unwrap(), &keys);
    let window = cache.policy.window_capacity();
    assert_eq!(lru, 0.0);
    assert!(window <= CAPACITY / 10, "window {window} of {CAPACITY}");
    assert!(tinylfu >= 60.0, "tinylfu {tinylfu:.2} % (at most 66.7 %)");
}
