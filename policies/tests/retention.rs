//! `Policy::coldest_first` for every built-in policy under random runs: it
//! names each held entry exactly once, stops when asked, changes nothing,
//! and for LRU and SIEVE its first entry is the next victim of a new key.

use std::collections::BTreeSet;

use proptest::prelude::*;
use tenure_policies::{
    AnyPolicy, Hybrid, LruBound, NewEntry, Policy, S3Fifo, Sieve, SlidingTtl, Slot, Timestamp,
    TinyLfu,
};

const NOW: Timestamp = Timestamp::ZERO;

/// Every slot `policy` names, cold end first.
fn order(policy: &impl Policy) -> Vec<u32> {
    let mut named = Vec::new();
    policy.coldest_first(&|_| 0, &mut |slot| {
        named.push(slot.index() as u32);
        true
    });
    named
}

/// A run as a cache would make it: writes of new keys into the lowest free
/// slot (evicting while over the bound), reads and removals of held entries.
/// Returns the slots held.
fn drive(policy: &mut impl Policy, ops: &[(u8, usize)]) -> BTreeSet<u32> {
    let mut held = BTreeSet::new();
    for (key, &(op, n)) in ops.iter().enumerate() {
        let nth = (!held.is_empty()).then(|| *held.iter().nth(n % held.len()).unwrap());
        match (op % 4, nth) {
            (0 | 1, _) | (_, None) => {
                let slot = (0..).find(|s| !held.contains(s)).unwrap();
                policy.on_insert(Slot::new(slot), NewEntry::new(key as u64), NOW);
                held.insert(slot);
                while let Some(victim) = policy.next_victim() {
                    assert!(held.remove(&(victim.index() as u32)));
                    policy.on_remove(victim);
                }
            }
            (2, Some(slot)) => policy.on_access(Slot::new(slot), NOW),
            (_, Some(slot)) => {
                held.remove(&slot);
                policy.on_remove(Slot::new(slot));
            }
        }
    }
    held
}

fn policies(capacity: usize) -> Vec<(&'static str, AnyPolicy)> {
    let ttl = std::time::Duration::from_secs(1);
    vec![
        ("lru", LruBound::new(capacity).unwrap().into()),
        ("hybrid", Hybrid::new(ttl, capacity).unwrap().into()),
        ("s3-fifo", S3Fifo::new(capacity).unwrap().into()),
        ("sieve", Sieve::new(capacity).unwrap().into()),
        ("tiny-lfu", TinyLfu::new(capacity).unwrap().into()),
    ]
}

fn ops() -> impl Strategy<Value = (usize, Vec<(u8, usize)>)> {
    (
        1..30usize,
        proptest::collection::vec((any::<u8>(), any::<usize>()), 0..300),
    )
}

proptest! {
    #[test]
    fn names_each_held_entry_once_and_changes_nothing((capacity, ops) in ops()) {
        for (name, mut policy) in policies(capacity) {
            let held = drive(&mut policy, &ops);
            let named = order(&policy);
            prop_assert_eq!(named.len(), held.len(), "{}", name);
            prop_assert_eq!(named.iter().copied().collect::<BTreeSet<_>>(), held, "{}", name);
            // Asked again: the same order (nothing was cleared or moved).
            prop_assert_eq!(order(&policy), named.clone(), "{}", name);
            // Stopping after m: the first m.
            let m = named.len() / 2;
            let mut first = Vec::new();
            if m > 0 {
                policy.coldest_first(&|_| 0, &mut |slot| {
                    first.push(slot.index() as u32);
                    first.len() < m
                });
            }
            prop_assert_eq!(&first[..], &named[..m], "{}", name);
        }
    }

    #[test]
    fn lru_and_sieve_name_the_next_victim_first((capacity, ops) in ops()) {
        for (name, mut policy) in policies(capacity) {
            if !["lru", "hybrid", "sieve"].contains(&name) {
                continue;
            }
            let held = drive(&mut policy, &ops);
            if held.len() < capacity {
                continue;
            }
            let first = order(&policy)[0];
            let fresh = (0..).find(|s| !held.contains(s)).unwrap();
            policy.on_insert(Slot::new(fresh), NewEntry::new(u64::MAX), NOW);
            prop_assert_eq!(policy.next_victim(), Some(Slot::new(first)), "{}", name);
        }
    }
}

/// A marking policy ranks the reads the cache still holds for it: SIEVE
/// spares an entry with a mark as if it had been visited.
#[test]
fn marks_count_as_reads() {
    let mut sieve = Sieve::new(3).unwrap();
    for slot in 0..3 {
        sieve.on_insert(Slot::new(slot), NewEntry::new(slot.into()), NOW);
        assert_eq!(sieve.next_victim(), None);
    }
    let mut named = Vec::new();
    sieve.coldest_first(&|slot| u8::from(slot.index() == 0), &mut |slot| {
        named.push(slot.index());
        true
    });
    assert_eq!(named, [1, 2, 0]);
}

#[test]
fn time_rules_alone_name_nothing() {
    let mut ttl = SlidingTtl::new(std::time::Duration::from_secs(1)).unwrap();
    ttl.on_insert(Slot::new(0), NewEntry::new(0), NOW);
    assert!(order(&ttl).is_empty());
}
