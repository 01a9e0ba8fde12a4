//! SIEVE: hand-worked traces, and a reference model compared victim by victim
//! under random runs.

mod support;

use std::collections::VecDeque;

use proptest::prelude::*;
use support::{read, same_victims, write, write_weighing};
use tenure_policies::{NewEntry, Policy, PolicyError, Sieve, Slot, Timestamp};

#[test]
fn hand_worked_trace() {
    let mut sieve = Sieve::new(3).unwrap();
    // Keys A..H; the slot each one takes is the second argument.
    assert!(write(&mut sieve, 0, 0xA).is_empty());
    assert!(write(&mut sieve, 1, 0xB).is_empty());
    assert!(write(&mut sieve, 2, 0xC).is_empty());
    read(&mut sieve, &[0]);
    // Queue (oldest first) A* B C, hand at the oldest. A is visited: cleared,
    // spared. B is not: evicted; the hand waits at C. D joins: A C D.
    assert_eq!(write(&mut sieve, 3, 0xD), [1]);
    read(&mut sieve, &[2, 3]);
    // A C* D*, hand at C: C and D cleared, the hand wraps to A: evicted. The
    // hand waits at C. E joins: C D E.
    assert_eq!(write(&mut sieve, 1, 0xE), [0]);
    // Hand at C, cleared on the last lap: evicted; the hand waits at D. F joins: D E F.
    assert_eq!(write(&mut sieve, 0, 0xF), [2]);
    read(&mut sieve, &[1]);
    // Hand at D (cleared): evicted, though E was read since. E* F G.
    assert_eq!(write(&mut sieve, 2, 0x6), [3]);
    // Hand at E*: cleared; F evicted. E G H.
    assert_eq!(write(&mut sieve, 3, 0x8), [0]);
    // Hand at G, unread: evicted; the hand waits at H. E H I.
    assert_eq!(write(&mut sieve, 0, 0x9), [2]);
    // H, unread: evicted; the hand waits at I, the newest before J joins. E I J.
    assert_eq!(write(&mut sieve, 2, 0x10), [3]);
    // While the hand is near the newest end, new entries go quickly: I, not E.
    assert_eq!(write(&mut sieve, 3, 0x11), [0]);
}

#[test]
fn the_entry_being_written_is_never_its_own_victim() {
    let mut sieve = Sieve::new(2).unwrap();
    write(&mut sieve, 0, 0xA);
    write(&mut sieve, 1, 0xB);
    read(&mut sieve, &[0]);
    // A* B: A cleared, B evicted, the hand passes the newest end. C joins after.
    assert_eq!(write(&mut sieve, 2, 0xC), [1]);
    // The hand wraps to A (now unvisited), not to C, the newest.
    assert_eq!(write(&mut sieve, 1, 0xD), [0]);
}

#[test]
fn an_entry_heavier_than_the_capacity_is_the_first_victim() {
    let mut sieve = Sieve::new(3).unwrap();
    write(&mut sieve, 0, 0xA);
    write(&mut sieve, 1, 0xB);
    assert_eq!(write_weighing(&mut sieve, 2, 0xC, 4), [2]);
    // A and B are untouched: a third unit entry fits without eviction.
    assert!(write(&mut sieve, 2, 0xD).is_empty());
    // A weight-3 entry that fits alone pushes out the others, oldest first.
    assert_eq!(write_weighing(&mut sieve, 3, 0xE, 3), [0, 1, 2]);
}

#[test]
fn a_moved_entry_keeps_its_mark_and_the_hand() {
    let mut sieve = Sieve::new(3).unwrap();
    let now = Timestamp::ZERO;
    for slot in 0..3 {
        write(&mut sieve, slot, slot.into());
    }
    read(&mut sieve, &[0, 2]);
    // 0* 1 2*: 0 cleared, 1 evicted; the hand waits at 2. 0 2* 3.
    assert_eq!(write(&mut sieve, 3, 3), [1]);
    sieve.on_move(Slot::new(2), Slot::new(7), now);
    // The hand is at the entry now in slot 7, still visited: cleared, and 3
    // goes (a lost hand would take 0, a lost mark 7).
    assert_eq!(write(&mut sieve, 1, 4), [3]);
}

#[test]
fn removing_the_entry_under_the_hand_moves_the_hand_on() {
    let mut sieve = Sieve::new(3).unwrap();
    for slot in 0..3 {
        write(&mut sieve, slot, slot.into());
    }
    read(&mut sieve, &[0, 2]);
    // 0* 1 2*: 0 cleared, 1 evicted, the hand waits at 2.
    assert_eq!(write(&mut sieve, 3, 3), [1]);
    sieve.on_remove(Slot::new(2));
    // The hand moved on to 3, not back to the oldest (0, cleared). 0 3 4.
    assert!(write(&mut sieve, 1, 4).is_empty());
    assert_eq!(write(&mut sieve, 2, 5), [3]);
}

#[test]
fn reads_of_slots_not_held_change_nothing() {
    let mut sieve = Sieve::new(2).unwrap();
    let now = Timestamp::ZERO;
    sieve.on_access(Slot::new(40), now);
    write(&mut sieve, 0, 0xA);
    write(&mut sieve, 1, 0xB);
    assert_eq!(write(&mut sieve, 2, 0xC), [0]);
    // A late read of the evicted entry; its slot is then reused.
    sieve.on_access(Slot::new(0), now);
    assert_eq!(write(&mut sieve, 0, 0xD), [1]);
    // The new entry in slot 0 did not inherit the mark.
    assert_eq!(write(&mut sieve, 1, 0xE), [2]);
    assert_eq!(write(&mut sieve, 2, 0xF), [0]);
}

#[test]
fn capacity_is_validated() {
    assert_eq!(Sieve::new(0).unwrap_err(), PolicyError::ZeroCapacity);
    assert!(matches!(
        Sieve::new(Slot::LIMIT + 1),
        Err(PolicyError::CapacityTooLarge { .. })
    ));
    assert_eq!(Sieve::new(Slot::LIMIT).unwrap().capacity(), Slot::LIMIT);
    assert!(Sieve::new(1).unwrap().tracks_reads());
}

/// SIEVE as the paper states it, on a `VecDeque` (oldest first) with the hand
/// as an index: O(n) everywhere, nothing clever.
#[derive(Debug)]
struct Model {
    capacity: u64,
    queue: VecDeque<Entry>,
    hand: Option<usize>,
    /// Written, but not yet in the queue: room is made first.
    admitting: Option<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    slot: Slot,
    weight: u32,
    visited: bool,
}

impl Model {
    fn new(capacity: usize) -> Self {
        Model {
            capacity: capacity as u64,
            queue: VecDeque::new(),
            hand: None,
            admitting: None,
        }
    }

    fn entries(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.queue.iter_mut().chain(self.admitting.as_mut())
    }
}

impl Policy for Model {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        self.queue.extend(self.admitting.take());
        self.admitting = Some(Entry {
            slot,
            weight: entry.weight,
            visited: false,
        });
    }

    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        if let Some(e) = self.entries().find(|e| e.slot == slot) {
            e.visited = true;
        }
    }

    fn on_remove(&mut self, slot: Slot) {
        if self.admitting.is_some_and(|e| e.slot == slot) {
            self.admitting = None;
            return;
        }
        let Some(at) = self.queue.iter().position(|e| e.slot == slot) else {
            return;
        };
        self.queue.remove(at);
        // The hand keeps pointing at the same entry, or at the removed one's
        // successor; past the newest it wraps (None).
        self.hand = match self.hand {
            Some(h) if at < h => Some(h - 1),
            Some(h) if h >= self.queue.len() => None,
            hand => hand,
        };
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        if let Some(e) = self.entries().find(|e| e.slot == from) {
            e.slot = to;
        }
    }

    fn next_victim(&mut self) -> Option<Slot> {
        let total: u64 = self.entries().map(|e| u64::from(e.weight)).sum();
        if total <= self.capacity {
            self.queue.extend(self.admitting.take());
            return None;
        }
        let capacity = self.capacity;
        if let Some(e) = self.entries().find(|e| u64::from(e.weight) > capacity) {
            return Some(e.slot);
        }
        if self.queue.is_empty() {
            return self.admitting.map(|e| e.slot);
        }
        let mut at = self.hand.unwrap_or(0);
        while self.queue[at].visited {
            self.queue[at].visited = false;
            at = (at + 1) % self.queue.len();
        }
        self.hand = Some(at);
        Some(self.queue[at].slot)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn proposes_the_same_victims_as_the_reference_model((capacity, ops) in support::run()) {
        let mut sieve = Sieve::new(capacity).unwrap();
        let mut model = Model::new(capacity);
        same_victims(&mut sieve, &mut model, capacity, &ops)?;
    }
}
