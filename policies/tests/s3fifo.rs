//! S3-FIFO: hand-worked traces, and a reference model compared victim by
//! victim under random runs.

mod support;

use std::collections::VecDeque;

use proptest::prelude::*;
use support::{read, same_victims, write, write_weighing};
use tenure_policies::{NewEntry, Policy, PolicyError, S3Fifo, Slot, Timestamp};

/// Capacity 10: the small queue's share is 1, the main queue's (and the ghost
/// queue's) 9. Key `100 + n` is written to slot `n` at first.
#[test]
fn hand_worked_trace() {
    let mut s3 = S3Fifo::new(10).unwrap();
    for slot in 0..10 {
        assert!(write(&mut s3, slot, 100 + u64::from(slot)).is_empty());
    }
    // small: 0..9, main: empty. Counters: 0:2 1:3 2:1 3..8:2 9:0.
    read(
        &mut s3,
        &[0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8],
    );
    // Key 110: small is over its share. 0 (read twice) and 1 move to main with
    // their counters reset; 2, read once, is evicted (key 102 to the ghost).
    // small: 3..9 110, main: 0 1.
    assert_eq!(write(&mut s3, 10, 110), [2]);
    // Key 111: 3..8 move to main (8 entries, under its share of 9); 9 is evicted.
    // small: 110 111, main: 0 1 3 4 5 6 7 8. Ghost: 102 109.
    assert_eq!(write(&mut s3, 2, 111), [9]);
    read(&mut s3, &[10, 10, 0, 3, 3]);
    // Key 112: 110 (slot 10) moves to main, which fills it: main looks for a
    // victim. 0 (count 1) goes to the back with 0; 1 (reset on its move, not
    // read since) is evicted. small: 111 112, main: 3 4 5 6 7 8 110 0.
    assert_eq!(write(&mut s3, 9, 112), [1]);
    // Key 109 is in the ghost. Room first: 111 (slot 2, unread) is evicted
    // from small; then 109 joins main. small: 112, main: ... 0 109.
    assert_eq!(write(&mut s3, 1, 109), [2]);
    // Key 113: 112 (slot 9) evicted from small. Ghost: 102 111 112.
    assert_eq!(write(&mut s3, 2, 113), [9]);
    // Key 111, from the ghost: 113 (slot 2) evicted, small is now empty; 111
    // joins main, which holds all 10: main: 3 4 5 6 7 8 110 0 109 111.
    assert_eq!(write(&mut s3, 9, 111), [2]);
    // Key 114: small is under its share, so main gives: 3 (count 2) to the
    // back with 1, then 4 (count 0) evicted. 114 joins small.
    assert_eq!(write(&mut s3, 2, 114), [4]);
    // Key 115: small holds 114 (its share): 114, unread, is evicted.
    assert_eq!(write(&mut s3, 4, 115), [2]);
    // Key 102 is still in the ghost (5 keys remembered, up to 9): 115 (slot 4)
    // makes room, and 102 joins main. small: empty.
    assert_eq!(write(&mut s3, 2, 102), [4]);
    // So main gives the next victim: 5, the oldest there, never read.
    assert_eq!(write(&mut s3, 4, 116), [5]);
}

/// The small queue under its share and the main queue empty: room is still
/// made from the small queue, never by turning away a newcomer that fits.
#[test]
fn a_heavy_newcomer_that_fits_evicts_the_small_queue_not_itself() {
    for capacity in [100, Slot::LIMIT] {
        let mut s3 = S3Fifo::new(capacity).unwrap();
        assert!(write_weighing(&mut s3, 0, 1, 5).is_empty());
        let heavy = u32::try_from(capacity - 4).unwrap();
        assert_eq!(write_weighing(&mut s3, 1, 2, heavy), [0], "at {capacity}");
        // A small queue of read entries promotes them, then main gives.
        let mut s3 = S3Fifo::new(capacity).unwrap();
        assert!(write_weighing(&mut s3, 0, 1, 5).is_empty());
        read(&mut s3, &[0, 0]);
        assert_eq!(write_weighing(&mut s3, 1, 2, heavy), [0], "at {capacity}");
    }
}

#[test]
fn an_entry_heavier_than_the_capacity_is_the_first_victim() {
    let mut s3 = S3Fifo::new(10).unwrap();
    for slot in 0..3 {
        write(&mut s3, slot, slot.into());
    }
    assert_eq!(write_weighing(&mut s3, 3, 3, 11), [3]);
    // The others are untouched; one weighing the whole capacity evicts them all,
    // oldest first, and stays.
    assert_eq!(write_weighing(&mut s3, 3, 4, 10), [0, 1, 2]);
    assert_eq!(write(&mut s3, 0, 5), [3]);
}

#[test]
fn a_moved_entry_keeps_its_place_and_count() {
    let mut s3 = S3Fifo::new(10).unwrap();
    for slot in 0..10 {
        write(&mut s3, slot, slot.into());
    }
    read(&mut s3, &[0, 0]);
    s3.on_move(Slot::new(0), Slot::new(15), Timestamp::ZERO);
    // Slot 15 is still the oldest in small, read twice: it moves to main, and
    // the next oldest goes.
    assert_eq!(write(&mut s3, 0, 10), [1]);
}

#[test]
fn reads_of_slots_not_held_change_nothing() {
    let mut s3 = S3Fifo::new(10).unwrap();
    s3.on_access(Slot::new(99), Timestamp::ZERO);
    for slot in 0..10 {
        write(&mut s3, slot, slot.into());
    }
    assert_eq!(write(&mut s3, 10, 10), [0]);
    // Late reads of the evicted entry; its slot is then reused for key 11.
    read(&mut s3, &[0, 0, 0]);
    assert_eq!(write(&mut s3, 0, 11), [1]);
    // Unread entries leave small in order: 2..9, then 10, then key 11 (slot 0),
    // which did not inherit the reads (it would have moved to main).
    let mut free = 1;
    let mut victims = Vec::new();
    for key in 12..=21 {
        let evicted = write(&mut s3, free, key);
        assert_eq!(evicted.len(), 1);
        free = evicted[0];
        victims.push(free);
    }
    assert_eq!(victims, [2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
}

#[test]
fn capacity_is_validated() {
    assert_eq!(S3Fifo::new(0).unwrap_err(), PolicyError::ZeroCapacity);
    assert!(matches!(
        S3Fifo::new(Slot::LIMIT + 1),
        Err(PolicyError::CapacityTooLarge { .. })
    ));
    assert_eq!(S3Fifo::new(Slot::LIMIT).unwrap().capacity(), Slot::LIMIT);
    assert!(S3Fifo::new(1).unwrap().tracks_reads());
}

/// S3-FIFO as Algorithm 1 of the paper states it, on `VecDeque`s (oldest
/// first) with sizes summed when needed and the ghost searched linearly.
#[derive(Debug)]
struct Model {
    capacity: u64,
    small_share: u64,
    small: VecDeque<Entry>,
    main: VecDeque<Entry>,
    /// Written, but in no queue yet: room is made first.
    admitting: Option<Entry>,
    /// Keys and weights, oldest first.
    ghost: VecDeque<(u64, u32)>,
    /// The small-queue entry proposed last: its key joins the ghost when it leaves.
    to_ghost: Option<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    slot: Slot,
    key: u64,
    weight: u32,
    freq: u8,
}

fn weight(queue: &VecDeque<Entry>) -> u64 {
    queue.iter().map(|e| u64::from(e.weight)).sum()
}

impl Model {
    fn new(capacity: usize) -> Self {
        Model {
            capacity: capacity as u64,
            small_share: capacity as u64 / 10,
            small: VecDeque::new(),
            main: VecDeque::new(),
            admitting: None,
            ghost: VecDeque::new(),
            to_ghost: None,
        }
    }

    fn main_share(&self) -> u64 {
        self.capacity - self.small_share
    }

    fn entries(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.small
            .iter_mut()
            .chain(self.main.iter_mut())
            .chain(self.admitting.as_mut())
    }

    fn admit(&mut self) {
        if let Some(e) = self.admitting.take() {
            match self.ghost.iter().position(|&(key, _)| key == e.key) {
                Some(at) => {
                    self.ghost.remove(at);
                    self.main.push_back(e);
                }
                None => self.small.push_back(e),
            }
        }
    }

    fn remember(&mut self, key: u64, weight: u32) {
        self.ghost.retain(|&(k, _)| k != key);
        let weight = weight.max(1);
        let bound = self.main_share();
        if u64::from(weight) > bound {
            return;
        }
        while self.ghost.iter().map(|&(_, w)| u64::from(w)).sum::<u64>() + u64::from(weight) > bound
        {
            self.ghost.pop_front();
        }
        self.ghost.push_back((key, weight));
    }

    fn main_victim(&mut self) -> Option<Slot> {
        loop {
            let front = self.main.front_mut()?;
            if front.freq == 0 {
                return Some(front.slot);
            }
            front.freq -= 1;
            let e = self.main.pop_front().expect("front");
            self.main.push_back(e);
        }
    }
}

impl Policy for Model {
    fn on_insert(&mut self, slot: Slot, entry: NewEntry, _now: Timestamp) {
        self.admit();
        self.admitting = Some(Entry {
            slot,
            key: entry.key_hash,
            weight: entry.weight,
            freq: 0,
        });
    }

    fn on_access(&mut self, slot: Slot, _now: Timestamp) {
        if let Some(e) = self.entries().find(|e| e.slot == slot) {
            e.freq = (e.freq + 1).min(3);
        }
    }

    fn on_remove(&mut self, slot: Slot) {
        if self.admitting.is_some_and(|e| e.slot == slot) {
            self.admitting = None;
        } else if let Some(at) = self.small.iter().position(|e| e.slot == slot) {
            let e = self.small.remove(at).expect("found");
            if self.to_ghost == Some(slot) {
                self.remember(e.key, e.weight);
            }
        } else if let Some(at) = self.main.iter().position(|e| e.slot == slot) {
            self.main.remove(at);
        }
        if self.to_ghost == Some(slot) {
            self.to_ghost = None;
        }
    }

    fn on_move(&mut self, from: Slot, to: Slot, _now: Timestamp) {
        if let Some(e) = self.entries().find(|e| e.slot == from) {
            e.slot = to;
        }
        if self.to_ghost == Some(from) {
            self.to_ghost = Some(to);
        }
    }

    fn next_victim(&mut self) -> Option<Slot> {
        let total: u64 = self.entries().map(|e| u64::from(e.weight)).sum();
        if total <= self.capacity {
            self.admit();
            return None;
        }
        let capacity = self.capacity;
        if let Some(e) = self.entries().find(|e| u64::from(e.weight) > capacity) {
            return Some(e.slot);
        }
        if weight(&self.small) >= self.small_share || self.main.is_empty() {
            while let Some(mut e) = self.small.pop_front() {
                if e.freq <= 1 {
                    self.small.push_front(e);
                    self.to_ghost = Some(e.slot);
                    return Some(e.slot);
                }
                e.freq = 0;
                self.main.push_back(e);
                if weight(&self.main) >= self.main_share() {
                    return self.main_victim();
                }
            }
        }
        self.main_victim().or(self.admitting.map(|e| e.slot))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn proposes_the_same_victims_as_the_reference_model((capacity, ops) in support::run()) {
        let mut s3 = S3Fifo::new(capacity).unwrap();
        let mut model = Model::new(capacity);
        same_victims(&mut s3, &mut model, capacity, &ops)?;
    }
}
