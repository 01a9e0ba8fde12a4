//! A Zipf sampler over a precomputed CDF (binary search per draw).

use crate::rng::SplitMix64;

/// Why a [`Zipf`] distribution could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ZipfError {
    /// `n` was zero: there is nothing to draw from.
    #[error("zipf: the number of items must be at least 1")]
    NoItems,
    /// The exponent was negative, infinite or NaN.
    #[error("zipf: exponent must be a finite number >= 0, got {0}")]
    BadExponent(f64),
}

/// Zipf's law over ranks `0..n`: rank `k` is drawn with probability
/// proportional to `1 / (k + 1)^s`.
///
/// ```
/// use tenure_benches::{rng::SplitMix64, zipf::Zipf};
/// let zipf = Zipf::new(1_000, 1.0)?;
/// let mut rng = SplitMix64::new(42);
/// assert!(zipf.sample(&mut rng) < 1_000);
/// # Ok::<(), tenure_benches::zipf::ZipfError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` ranks with exponent `s`.
    ///
    /// # Errors
    /// [`ZipfError`] if `n == 0` or `s` is not a finite non-negative number.
    pub fn new(n: usize, s: f64) -> Result<Self, ZipfError> {
        if n == 0 {
            return Err(ZipfError::NoItems);
        }
        if !s.is_finite() || s < 0.0 {
            return Err(ZipfError::BadExponent(s));
        }
        let mut total = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|k| {
                total += (k as f64).powf(-s);
                total
            })
            .collect();
        for c in &mut cdf {
            *c /= total;
        }
        Ok(Zipf { cdf })
    }

    /// One rank in `0..n`.
    pub fn sample(&self, rng: &mut SplitMix64) -> usize {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        assert_eq!(Zipf::new(0, 1.0).unwrap_err(), ZipfError::NoItems);
        assert!(matches!(
            Zipf::new(5, f64::NAN),
            Err(ZipfError::BadExponent(_))
        ));
        assert!(matches!(Zipf::new(5, -1.0), Err(ZipfError::BadExponent(_))));
    }

    #[test]
    fn frequencies_follow_one_over_rank() {
        let zipf = Zipf::new(100, 1.0).unwrap();
        let mut rng = SplitMix64::new(3);
        let mut counts = [0u32; 100];
        for _ in 0..200_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        // Rank 0 is twice as likely as rank 1 and ten times rank 9.
        let r01 = f64::from(counts[0]) / f64::from(counts[1]);
        let r09 = f64::from(counts[0]) / f64::from(counts[9]);
        assert!((1.8..2.2).contains(&r01), "{r01}");
        assert!((8.5..11.5).contains(&r09), "{r09}");
    }

    #[test]
    fn zero_exponent_is_uniform() {
        let zipf = Zipf::new(4, 0.0).unwrap();
        let mut rng = SplitMix64::new(9);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
