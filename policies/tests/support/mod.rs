//! Drives a policy and a reference model of it side by side, as a cache would,
//! and checks that they propose the same victims.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tenure_policies::{NewEntry, Policy, Slot, Timestamp};

/// One step of a run. Indices into the held entries are taken modulo their count.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Store `key` (replacing it if held) in the lowest free slot, then evict
    /// while over the bound.
    Write { key: u64, weight: u32 },
    /// A read of the n-th held entry.
    Hit(usize),
    /// A read naming any slot, held or not (a late read of a removed entry).
    StaleRead(u32),
    /// The user removes the n-th held entry.
    Remove(usize),
    /// The cache moves the n-th held entry to the lowest free slot.
    Move(usize),
    /// The cache gives back per-slot memory above the highest held slot.
    Shrink,
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let weight = prop_oneof![12 => Just(1u32), 3 => 0..5u32, 1 => 0..64u32];
    prop_oneof![
        8 => (0..40u64, weight).prop_map(|(key, weight)| Op::Write { key, weight }),
        6 => any::<usize>().prop_map(Op::Hit),
        1 => (0..48u32).prop_map(Op::StaleRead),
        1 => any::<usize>().prop_map(Op::Remove),
        1 => any::<usize>().prop_map(Op::Move),
        1 => Just(Op::Shrink),
    ]
}

/// A run: a capacity and what happens.
pub(crate) fn run() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (1..40usize, proptest::collection::vec(op(), 0..400))
}

/// What the cache knows: which slot holds which key, and its weight.
#[derive(Default)]
struct Held {
    slots: BTreeMap<u32, (u64, u32)>,
}

impl Held {
    fn lowest_free(&self) -> u32 {
        (0..)
            .find(|s| !self.slots.contains_key(s))
            .expect("a free slot")
    }

    fn nth(&self, n: usize) -> Option<u32> {
        let len = self.slots.len();
        (len > 0).then(|| *self.slots.keys().nth(n % len).expect("in range"))
    }

    fn weight(&self) -> u64 {
        self.slots.values().map(|&(_, w)| u64::from(w)).sum()
    }
}

/// Runs `ops` through `policy` and `model`; fails at the first victim they
/// disagree on, a victim not held, an oversized entry not proposed at once, or
/// a total weight above `capacity` once the victims stop.
pub(crate) fn same_victims<P: Policy, M: Policy>(
    policy: &mut P,
    model: &mut M,
    capacity: usize,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let now = Timestamp::ZERO;
    let mut held = Held::default();
    for op in ops {
        match *op {
            Op::Write { key, weight } => {
                let old = held
                    .slots
                    .iter()
                    .find(|&(_, &(k, _))| k == key)
                    .map(|(&s, _)| s);
                if let Some(old) = old {
                    held.slots.remove(&old);
                    policy.on_remove(Slot::new(old));
                    model.on_remove(Slot::new(old));
                }
                let slot = held.lowest_free();
                held.slots.insert(slot, (key, weight));
                let entry = NewEntry::new(key).weighing(weight);
                policy.on_insert(Slot::new(slot), entry, now);
                model.on_insert(Slot::new(slot), entry, now);
                let mut first = true;
                loop {
                    let victim = policy.next_victim();
                    prop_assert_eq!(victim, model.next_victim(), "victim after writing {}", key);
                    if first && weight as usize > capacity {
                        prop_assert_eq!(victim, Some(Slot::new(slot)), "oversized not first");
                    }
                    first = false;
                    let Some(victim) = victim else { break };
                    let index = victim.index() as u32;
                    prop_assert!(
                        held.slots.remove(&index).is_some(),
                        "{victim:?} is not held"
                    );
                    policy.on_remove(victim);
                    model.on_remove(victim);
                }
                prop_assert!(held.weight() <= capacity as u64, "over the bound");
            }
            Op::Hit(n) => {
                if let Some(slot) = held.nth(n) {
                    policy.on_access(Slot::new(slot), now);
                    model.on_access(Slot::new(slot), now);
                }
            }
            Op::StaleRead(slot) => {
                if !held.slots.contains_key(&slot) {
                    policy.on_access(Slot::new(slot), now);
                    model.on_access(Slot::new(slot), now);
                }
            }
            Op::Remove(n) => {
                if let Some(slot) = held.nth(n) {
                    held.slots.remove(&slot);
                    policy.on_remove(Slot::new(slot));
                    model.on_remove(Slot::new(slot));
                }
            }
            Op::Move(n) => {
                if let Some(from) = held.nth(n) {
                    let to = held.lowest_free();
                    let entry = held.slots.remove(&from).expect("held");
                    held.slots.insert(to, entry);
                    policy.on_move(Slot::new(from), Slot::new(to), now);
                    model.on_move(Slot::new(from), Slot::new(to), now);
                }
            }
            Op::Shrink => {
                let slots = held.slots.keys().next_back().map_or(0, |&s| s as usize + 1);
                policy.shrink_to(slots);
                model.shrink_to(slots);
            }
        }
    }
    Ok(())
}

/// Stores `key` in `slot` as a cache does: insert, then evict (and remove)
/// while the policy proposes victims. Returns the victims.
pub(crate) fn write<P: Policy>(policy: &mut P, slot: u32, key: u64) -> Vec<u32> {
    write_weighing(policy, slot, key, 1)
}

/// [`write`] with a weight.
pub(crate) fn write_weighing<P: Policy>(
    policy: &mut P,
    slot: u32,
    key: u64,
    weight: u32,
) -> Vec<u32> {
    policy.on_insert(
        Slot::new(slot),
        NewEntry::new(key).weighing(weight),
        Timestamp::ZERO,
    );
    let mut victims = Vec::new();
    while let Some(victim) = policy.next_victim() {
        victims.push(victim.index() as u32);
        policy.on_remove(victim);
    }
    victims
}

/// Reads the entries in `slots`, in order.
pub(crate) fn read<P: Policy>(policy: &mut P, slots: &[u32]) {
    for &slot in slots {
        policy.on_access(Slot::new(slot), Timestamp::ZERO);
    }
}
