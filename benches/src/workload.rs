//! The workloads W1–W3: key streams, cache preparation and the operation loops.

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

use crate::contenders::{Contender, Setup, Value};

/// Resident keys in W1.
pub const W1_KEYS: u64 = 10_000;
/// Distinct keys in W2's Zipf distribution.
pub const W2_KEYS: usize = 1_000_000;
/// Capacity in W2 and W3.
pub const BOUNDED_CAPACITY: usize = 10_000;
/// TTL for time-bounded caches: long enough that nothing expires during a run.
pub const LONG_TTL: Duration = Duration::from_secs(3600);
/// Length of a precomputed key stream (a power of two, so wrapping is a mask).
pub const STREAM_LEN: usize = 1 << 20;

/// Marks a key in a W2 stream as a get-or-create rather than a get.
const CREATE_FLAG: u64 = 1 << 63;

/// The generator behind every stream and key: rand's portable Xoshiro256++,
/// whose output for a seed is the same on every platform and rand release, so
/// every cache and every run sees the same keys.
type StreamRng = Xoshiro256PlusPlus;

/// The cache key for item number `i`: scrambled so that neighbouring items do not
/// get neighbouring keys (which would flatter weak hashers), and below `2^63` so
/// that a workload can use the top bit as a flag.
///
/// ```
/// use tenure_benches::workload::key_of;
/// assert_ne!(key_of(1), key_of(2));
/// assert!(key_of(7) < 1 << 63);
/// ```
pub fn key_of(i: u64) -> u64 {
    // Seeding mixes `i` thoroughly: nearby seeds give unrelated first outputs.
    StreamRng::seed_from_u64(i).next_u64() >> 1
}

/// A workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Get hits, uniform over [`W1_KEYS`] resident keys, on `threads` threads.
    W1 {
        /// Threads running the loop at once.
        threads: usize,
    },
    /// Zipf(1.0) over [`W2_KEYS`] keys, capacity [`BOUNDED_CAPACITY`]:
    /// 90% get, 10% get-or-create.
    W2a,
    /// As [`Workload::W2a`], but every operation is a get-or-create.
    W2b,
    /// Inserts of fresh keys into a full cache: every operation evicts.
    W3,
}

impl Workload {
    /// The workloads `compare` runs by default.
    pub const ALL: [Workload; 5] = [
        Workload::W1 { threads: 1 },
        Workload::W1 { threads: 2 },
        Workload::W2a,
        Workload::W2b,
        Workload::W3,
    ];

    /// A short label, as used on the command line (`w1`, `w1x2`, `w2a`, `w2b`, `w3`).
    pub fn label(self) -> String {
        match self {
            Workload::W1 { threads: 1 } => "w1".to_string(),
            Workload::W1 { threads } => format!("w1x{threads}"),
            Workload::W2a => "w2a".to_string(),
            Workload::W2b => "w2b".to_string(),
            Workload::W3 => "w3".to_string(),
        }
    }

    /// A one-line description for table headings.
    pub fn title(self) -> String {
        match self {
            Workload::W1 { threads } => format!(
                "W1: get hits, uniform over 10k resident keys, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            Workload::W2a => {
                "W2a: zipf(1.0) over 1M keys, capacity 10k, 90% get / 10% get-or-create".to_string()
            }
            Workload::W2b => {
                "W2b: zipf(1.0) over 1M keys, capacity 10k, 100% get-or-create".to_string()
            }
            Workload::W3 => {
                "W3: insert of a fresh key into a full cache (capacity 10k): every op evicts"
                    .to_string()
            }
        }
    }

    /// Parses a [`label`](Workload::label).
    pub fn from_label(label: &str) -> Option<Workload> {
        match label {
            "w2a" => Some(Workload::W2a),
            "w2b" => Some(Workload::W2b),
            "w3" => Some(Workload::W3),
            "w1" => Some(Workload::W1 { threads: 1 }),
            other => {
                let threads = other.strip_prefix("w1x")?.parse().ok()?;
                (threads >= 1).then_some(Workload::W1 { threads })
            }
        }
    }

    /// Threads the workload runs on.
    pub fn threads(self) -> usize {
        match self {
            Workload::W1 { threads } => threads,
            _ => 1,
        }
    }

    /// How caches are built for this workload.
    pub fn setup(self) -> Setup {
        match self {
            // Room for twice the resident keys, so no bounded cache evicts one.
            Workload::W1 { .. } => Setup {
                capacity: 2 * W1_KEYS as usize,
                ttl: LONG_TTL,
                ticks_as_ttl: false,
            },
            Workload::W2a | Workload::W2b | Workload::W3 => Setup {
                capacity: BOUNDED_CAPACITY,
                ttl: LONG_TTL,
                ticks_as_ttl: true,
            },
        }
    }

    /// The precomputed key stream (same seed for every cache).
    pub fn stream(self) -> Arc<[u64]> {
        let mut rng = StreamRng::seed_from_u64(0x5EED);
        match self {
            Workload::W1 { .. } => (0..STREAM_LEN)
                .map(|_| key_of(rng.random_range(0..W1_KEYS)))
                .collect(),
            Workload::W2a | Workload::W2b => {
                let zipf = Zipf::new(W2_KEYS as f64, 1.0).expect("valid constants");
                (0..STREAM_LEN)
                    .map(|_| {
                        // Ranks are drawn as whole floats in 1..=W2_KEYS; item 0 is rank 1.
                        let key = key_of(zipf.sample(&mut rng) as u64 - 1);
                        if self == Workload::W2b || rng.random_ratio(1, 10) {
                            key | CREATE_FLAG
                        } else {
                            key
                        }
                    })
                    .collect()
            }
            // W3 makes fresh keys as it goes.
            Workload::W3 => Arc::from([]),
        }
    }

    /// Fills a new cache so measuring starts in steady state: W1's resident
    /// keys, W3's full cache, or one pass of W2's stream.
    pub fn prepare<C: Contender>(self, cache: &C, stream: &[u64], cursor: &mut Cursor) {
        match self {
            Workload::W1 { .. } => {
                for i in 0..W1_KEYS {
                    cache.insert(key_of(i), Arc::new(i));
                }
            }
            Workload::W2a | Workload::W2b => {
                self.run(cache, stream, cursor, stream.len());
            }
            Workload::W3 => {
                self.run(cache, stream, cursor, BOUNDED_CAPACITY);
            }
        }
        cache.settled_len();
    }

    /// Runs `ops` operations from `cursor` on; returns how many were hits
    /// (W3 counts none).
    pub fn run<C: Contender>(
        self,
        cache: &C,
        stream: &[u64],
        cursor: &mut Cursor,
        ops: usize,
    ) -> u64 {
        let mut hits = 0;
        match self {
            Workload::W1 { .. } => {
                let mask = stream.len() - 1;
                for _ in 0..ops {
                    hits += u64::from(cache.get(stream[cursor.pos & mask]).is_some());
                    cursor.pos = cursor.pos.wrapping_add(1);
                }
            }
            Workload::W2a | Workload::W2b => {
                let mask = stream.len() - 1;
                for _ in 0..ops {
                    let entry = stream[cursor.pos & mask];
                    cursor.pos = cursor.pos.wrapping_add(1);
                    cache.tick();
                    let hit = if entry & CREATE_FLAG != 0 {
                        cache.get_or_create(entry & !CREATE_FLAG, &cursor.value)
                    } else {
                        cache.get(entry).is_some()
                    };
                    hits += u64::from(hit);
                }
            }
            Workload::W3 => {
                for _ in 0..ops {
                    cache.tick();
                    // Keys of W3 start far from W1/W2's, so every one is new.
                    cache.insert(key_of(cursor.fresh | 1 << 62), Arc::clone(&cursor.value));
                    cursor.fresh += 1;
                }
            }
        }
        hits
    }
}

/// Where a thread is in a workload.
#[derive(Debug, Clone)]
pub struct Cursor {
    /// Next index into the stream.
    pub pos: usize,
    /// Next fresh key number (W3).
    pub fresh: u64,
    /// The value get-or-create and W3 store.
    pub value: Value,
}

impl Cursor {
    /// A cursor starting at stream position `pos`.
    pub fn at(pos: usize) -> Self {
        Cursor {
            pos,
            fresh: 0,
            value: Arc::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contenders::{Kind, Visit};

    struct HitRatio(Workload);
    impl Visit for HitRatio {
        type Output = (f64, usize);
        fn visit<C: Contender>(self, cache: C) -> Self::Output {
            let stream: Vec<u64> = self.0.stream().iter().copied().take(1 << 16).collect();
            let mut cursor = Cursor::at(0);
            self.0.prepare(&cache, &stream, &mut cursor);
            let hits = self.0.run(&cache, &stream, &mut cursor, 50_000);
            (hits as f64 / 50_000.0, cache.settled_len())
        }
    }

    #[test]
    fn w1_only_hits() {
        let w = Workload::W1 { threads: 1 };
        for kind in [Kind::FloorFoldHash, Kind::TenureHybrid, Kind::QuickCache] {
            let (ratio, len) = kind.build(&w.setup(), HitRatio(w)).unwrap();
            assert_eq!(ratio, 1.0, "{}", kind.name());
            assert_eq!(len, W1_KEYS as usize, "{}", kind.name());
        }
    }

    #[test]
    fn w3_keeps_the_cache_full() {
        for kind in [
            Kind::FloorFoldHash,
            Kind::TenureLruBound,
            Kind::TenureSlidingTtl,
        ] {
            let (ratio, len) = kind
                .build(&Workload::W3.setup(), HitRatio(Workload::W3))
                .unwrap();
            assert_eq!(ratio, 0.0);
            assert_eq!(len, BOUNDED_CAPACITY, "{}", kind.name());
        }
    }

    /// The W2 stream follows Zipf(1.0) over its items: item 0 (rank 1) takes
    /// `1 / H(W2_KEYS)` of the draws (H the harmonic number, ~6.9 %), twice as
    /// many as item 1 and ten times as many as item 9; about a tenth are
    /// get-or-creates in W2a and all in W2b.
    #[test]
    fn w2_streams_are_zipf_with_the_advertised_mix() {
        let stream = Workload::W2a.stream();
        let count = |item: u64| {
            let key = key_of(item);
            stream.iter().filter(|&&k| k & !CREATE_FLAG == key).count() as f64
        };
        let n = stream.len() as f64;
        let harmonic: f64 = (1..=W2_KEYS).map(|k| 1.0 / k as f64).sum();
        let share = count(0) / n;
        assert!((share * harmonic - 1.0).abs() < 0.03, "item 0: {share}");
        let (r01, r09) = (count(0) / count(1), count(0) / count(9));
        assert!((1.9..2.1).contains(&r01), "{r01}");
        assert!((9.0..11.0).contains(&r09), "{r09}");
        let creates = stream.iter().filter(|&&k| k & CREATE_FLAG != 0).count() as f64;
        assert!((creates / n - 0.1).abs() < 0.005, "{}", creates / n);
        let w2b = Workload::W2b.stream();
        assert!(w2b.iter().all(|&k| k & CREATE_FLAG != 0));
    }

    #[test]
    fn key_of_scrambles_and_leaves_the_flag_bit_free() {
        let keys: std::collections::HashSet<u64> = (0..100_000).map(key_of).collect();
        assert_eq!(keys.len(), 100_000);
        assert!(keys.iter().all(|&k| k & CREATE_FLAG == 0));
        // Neighbouring items land far apart.
        assert!((0..1000).all(|i| key_of(i).abs_diff(key_of(i + 1)) > 1 << 32));
    }

    #[test]
    fn labels_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::from_label(&w.label()), Some(w));
        }
        assert_eq!(Workload::from_label("w1x0"), None);
        assert_eq!(Workload::from_label("w9"), None);
    }
}
