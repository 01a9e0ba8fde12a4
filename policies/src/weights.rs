use crate::{Slot, ensure_slot};

/// The weight of every entry a policy holds, and their total: what a bounded
/// policy compares with its capacity.
///
/// Free while every entry weighs 1 (the cache without a weigher): per-slot
/// storage starts with the first entry of another weight.
///
/// ```
/// use tenure_policies::{Slot, Weights};
///
/// let mut weights = Weights::new();
/// weights.add(Slot::new(0), 1);
/// weights.add(Slot::new(1), 40);
/// assert_eq!(weights.total(), 41);
/// assert_eq!(weights.remove(Slot::new(1)), 40);
/// assert_eq!(weights.total(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Weights {
    total: u64,
    /// Empty while every weight is 1; past its end a slot weighs 1.
    per_slot: Vec<u32>,
}

impl Weights {
    /// No entries.
    pub const fn new() -> Self {
        Weights {
            total: 0,
            per_slot: Vec::new(),
        }
    }

    /// The sum of the weights of the entries held.
    #[inline]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The weight of the entry in `slot` (1 for a slot never given another).
    #[inline]
    pub fn get(&self, slot: Slot) -> u32 {
        self.per_slot.get(slot.index()).copied().unwrap_or(1)
    }

    /// A new entry weighing `weight` is in `slot`.
    #[inline]
    pub fn add(&mut self, slot: Slot, weight: u32) {
        if weight != 1 || slot.index() < self.per_slot.len() {
            ensure_slot(&mut self.per_slot, slot, 1);
            self.per_slot[slot.index()] = weight;
        }
        self.total += u64::from(weight);
    }

    /// The entry in `slot` left; returns its weight.
    #[inline]
    pub fn remove(&mut self, slot: Slot) -> u32 {
        let weight = self.get(slot);
        self.total -= u64::from(weight);
        weight
    }

    /// The entry in `from` now lives in `to`.
    pub fn move_slot(&mut self, from: Slot, to: Slot) {
        if !self.per_slot.is_empty() {
            let weight = self.get(from);
            ensure_slot(&mut self.per_slot, to, 1);
            self.per_slot[to.index()] = weight;
        }
    }

    /// No slot at or above `slots` is in use: release their storage.
    pub fn shrink_to(&mut self, slots: usize) {
        if self.per_slot.len() > slots {
            self.per_slot.truncate(slots);
            self.per_slot.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_keep_no_per_slot_storage_and_others_are_remembered_across_moves() {
        let mut w = Weights::new();
        for i in 0..100 {
            w.add(Slot::new(i), 1);
        }
        assert!(w.per_slot.is_empty());
        assert_eq!(w.total(), 100);
        w.add(Slot::new(100), 7);
        w.move_slot(Slot::new(100), Slot::new(3));
        assert_eq!(w.get(Slot::new(3)), 7);
        assert_eq!(w.remove(Slot::new(5)), 1);
        assert_eq!(w.total(), 106);
        w.add(Slot::new(200), 1);
        assert_eq!(w.get(Slot::new(200)), 1);
        assert_eq!(w.remove(Slot::new(3)), 7);
        assert_eq!(w.total(), 100);
    }
}
