//! A tiny seeded PRNG and a key scrambler, so workloads are reproducible without
//! a heavy random-number dependency.

/// SplitMix64: fast, seedable, and good enough to drive benchmarks.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 random bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

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
        let sum: f64 = (0..10_000).map(|_| rng.next_f64()).sum();
        assert!((4_700.0..5_300.0).contains(&sum), "{sum}");
    }
}
