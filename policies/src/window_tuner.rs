//! Sizes W-TinyLFU's window by simulating a few window sizes side by side on
//! a sample of the keys (miniature simulations).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Slot;
use crate::frequency_sketch::FrequencySketch;
use crate::tinylfu::Regions;

/// The window shares the miniatures try.
const SHARES: [f64; 5] = [0.01, 0.1, 0.3, 0.6, 0.9];
/// Entries a miniature holds at most.
const MINI_ENTRIES: f64 = 1024.0;
/// Entries a miniature holds at least (all of the capacity, below this): a
/// smaller one decides by too few keys.
const LEAST_MINI_ENTRIES: f64 = 128.0;
/// The bits of a key's hash that decide whether it is sampled: fine enough
/// that even a cache of billions of entries gets miniatures of about
/// `MINI_ENTRIES`.
const SAMPLE_BITS: u32 = 24;
/// The most keys sampled: one in 64, so that the miniatures cost a mid-sized
/// cache little.
const MOST_SAMPLED: u32 = 1 << (SAMPLE_BITS - 6);
/// Sampled lookups between decisions.
const SAMPLED_PER_DECISION: f64 = 1024.0;
/// How much better (in hit ratio) another share's miniature must do before the
/// window moves toward it: moving costs hits while the regions refill, so
/// noise should not move it.
const MARGIN: f64 = 0.005;
/// The most the window moves in one decision, as a share of the capacity.
const MOST_MOVED: f64 = 0.05;

/// Each miniature is a W-TinyLFU with a fixed window share, scaled down to the
/// sampled keys' share of the capacity, and sees every lookup of a key whose
/// hash falls in the sample. They share one map from sampled key to slot (a
/// key keeps its slot while any miniature holds it) and the policy's sketch.
/// Hit ratios are kept as decaying sums (each decision halves them), so the
/// choice follows the workload's phases.
#[derive(Debug, Clone)]
pub(crate) struct WindowTuner {
    minis: Vec<Mini>,
    /// The slot of each sampled key some miniature holds.
    slots: HashMap<u32, Slot, BuildHasherDefault<Spread>>,
    /// Per slot: its key's hash, and which miniatures hold it (a bit each).
    held: Vec<(u32, u8)>,
    free: Vec<Slot>,
    /// A key is sampled if the low `SAMPLE_BITS` of its hash are below this.
    sample_below: u32,
    /// Lookups (sampled or not) between decisions.
    period: u64,
    lookups: u64,
    /// The miniature whose share the window is moving to.
    best: usize,
    capacity: u64,
}

impl WindowTuner {
    /// A tuner for a policy bounded at `capacity` (at least 1).
    pub(crate) fn new(capacity: u64, seed: u64) -> Self {
        let scale = f64::from(1u32 << SAMPLE_BITS);
        let wanted = (MINI_ENTRIES / capacity as f64 * scale).ceil() as u32;
        let floor = ((LEAST_MINI_ENTRIES / capacity as f64).min(1.0) * scale).ceil() as u32;
        let sample_below = wanted.clamp(1, MOST_SAMPLED).max(floor);
        let rate = f64::from(sample_below) / scale;
        let mini_capacity = ((capacity as f64 * rate).round() as u64).max(1);
        WindowTuner {
            minis: SHARES
                .iter()
                .map(|&share| Mini {
                    regions: Regions::new(mini_capacity, share, seed),
                    hits: 0.0,
                    lookups: 0.0,
                })
                .collect(),
            slots: HashMap::default(),
            held: Vec::new(),
            free: Vec::new(),
            sample_below,
            period: (SAMPLED_PER_DECISION / rate).ceil() as u64,
            lookups: 0,
            best: 0,
            capacity,
        }
    }

    /// Counts a lookup of the key with `hash` (of `weight()`, asked only if
    /// the key is sampled) while the window holds `window`; at the end of a
    /// period, the window's new size if it should change.
    #[inline]
    pub(crate) fn record(
        &mut self,
        hash: u32,
        weight: impl FnOnce() -> u32,
        window: u64,
        sketch: &FrequencySketch,
    ) -> Option<u64> {
        if hash & ((1 << SAMPLE_BITS) - 1) < self.sample_below {
            self.request(hash, weight(), sketch);
        }
        self.lookups += 1;
        if self.lookups < self.period {
            return None;
        }
        self.lookups = 0;
        self.decide();
        let target = (self.capacity as f64 * SHARES[self.best]).max(1.0);
        let most = self.capacity as f64 * MOST_MOVED;
        let now = window as f64;
        let next = (now + (target - now).clamp(-most, most)) as u64;
        (next != window).then_some(next.max(1))
    }

    /// A lookup of a sampled key in every miniature, stored where it missed.
    fn request(&mut self, hash: u32, weight: u32, sketch: &FrequencySketch) {
        let slot = match self.slots.get(&hash) {
            Some(&slot) => slot,
            None => {
                let slot = self.free.pop().unwrap_or_else(|| {
                    self.held.push((0, 0));
                    Slot::new(self.held.len() as u32 - 1)
                });
                self.held[slot.index()] = (hash, 0);
                self.slots.insert(hash, slot);
                slot
            }
        };
        for (i, mini) in self.minis.iter_mut().enumerate() {
            let bit = 1 << i;
            mini.lookups += 1.0;
            if self.held[slot.index()].1 & bit != 0 {
                mini.hits += 1.0;
                mini.regions.access(slot);
                continue;
            }
            self.held[slot.index()].1 |= bit;
            mini.regions.insert(slot, hash, weight);
            while let Some(victim) = mini.regions.next_victim(sketch) {
                mini.regions.remove(victim);
                let (key, holders) = &mut self.held[victim.index()];
                *holders &= !bit;
                // The key being looked up keeps its slot until every
                // miniature has seen it.
                if *holders == 0 && victim != slot {
                    self.slots.remove(key);
                    self.free.push(victim);
                }
            }
        }
        if self.held[slot.index()].1 == 0 {
            self.slots.remove(&hash);
            self.free.push(slot);
        }
    }

    /// Picks the share to move to, and ages every miniature's counts.
    fn decide(&mut self) {
        let mut best_ratio = self.minis[self.best].hit_ratio() + MARGIN;
        for (i, mini) in self.minis.iter().enumerate() {
            if mini.hit_ratio() > best_ratio {
                self.best = i;
                best_ratio = mini.hit_ratio();
            }
        }
        for mini in &mut self.minis {
            mini.hits /= 2.0;
            mini.lookups /= 2.0;
        }
    }
}

/// One miniature: its regions and its (decaying) counts.
#[derive(Debug, Clone)]
struct Mini {
    regions: Regions,
    hits: f64,
    lookups: f64,
}

impl Mini {
    fn hit_ratio(&self) -> f64 {
        if self.lookups == 0.0 {
            0.0
        } else {
            self.hits / self.lookups
        }
    }
}

/// A hasher for keys that are already well-mixed hashes: it carries their
/// bits to the top, where the map looks first.
#[derive(Debug, Clone, Copy, Default)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
