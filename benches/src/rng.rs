//! The seeded PRNG (the simulator's) and a key scrambler, so workloads are
//! reproducible without a heavy random-number dependency.

pub use tenure_sim::SplitMix64;

/// The cache key for item number `i`: scrambled so that neighbouring items do not
/// get neighbouring keys (which would flatter weak hashers), and below `2^63` so
/// that a workload can use the top bit as a flag.
///
/// ```
/// use tenure_benches::rng::key_of;
/// assert_ne!(key_of(1), key_of(2));
/// assert!(key_of(7) < 1 << 63);
/// ```
pub fn key_of(i: u64) -> u64 {
    SplitMix64::new(i).next_u64() >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_spreads() {
        let mut rng = SplitMix64::new(7);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let x = rng.below(10);
            assert!(x < 10);
            seen[x as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn floats_are_in_unit_interval() {
        let mut rng = SplitMix64::new(1);
        let sum: f64 = (0..10_000).map(|_| rng.unit()).sum();
        assert!((4_700.0..5_300.0).contains(&sum), "{sum}");
    }
}
