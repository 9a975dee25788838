//! Portable random draws for the IPV simulator.
//!
//! Every draw is built from `ChaCha8Rng::next_u64` with integer operations, IEEE-754 basic
//! arithmetic (exactly rounded everywhere) and the pure-Rust `libm` crate (never the
//! platform's maths library), so a seed gives the same numbers, bit for bit, on every
//! platform and compiler version.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The random stream of one simulated study.
pub(crate) struct Draws {
    rng: ChaCha8Rng,
}

impl Draws {
    /// The stream of study `index` (zero-based) under `seed`: ChaCha8 seeded from `seed`,
    /// on stream `index + 1`. Each study has its own stream, so the draws of one study do
    /// not depend on how many values the studies before it consumed.
    pub(crate) fn for_study(seed: u64, index: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index as u64 + 1);
        Draws { rng }
    }

    /// The stream that plans the data set (which evaluation gets which design), under
    /// `seed`: ChaCha8 seeded from `seed`, on stream 0 (the studies use streams 1, 2, ...).
    pub(crate) fn for_plan(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0);
        Draws { rng }
    }

    /// Shuffles `v` in place (Fisher-Yates, with [`Draws::index`]).
    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.index(i + 1);
            v.swap(i, j);
        }
    }

    /// Uniform on [0, 1): the top 53 bits of one `u64`, times 2^-53.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal by the Box-Muller transform (one value per two uniforms; the sine
    /// partner is discarded so that every call consumes exactly two `u64`s).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: the log is finite
        let u2 = self.uniform();
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
    }

    /// Bernoulli(p).
    pub(crate) fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Uniform integer on `0..n` (`n >= 1`), by rejection (no modulo bias).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.rng.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }

    /// Index drawn with probability proportional to `weights` (non-negative, positive sum).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform() * total;
        for (i, &w) in weights.iter().enumerate() {
            if u < w {
                return i;
            }
            u -= w;
        }
        weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }
}

/// The logistic function, `1 / (1 + exp(-x))`.
pub(crate) fn expit(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// The log odds, `ln(p / (1 - p))`.
pub(crate) fn logit(p: f64) -> f64 {
    libm::log(p / (1.0 - p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_in_range() {
        let mut a = Draws::for_study(7, 3);
        let mut b = Draws::for_study(7, 3);
        let mut c = Draws::for_study(7, 4);
        let xa: Vec<f64> = (0..100).map(|_| a.uniform()).collect();
        let xb: Vec<f64> = (0..100).map(|_| b.uniform()).collect();
        let xc: Vec<f64> = (0..100).map(|_| c.uniform()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        assert!(xa.iter().all(|&x| (0.0..1.0).contains(&x)));
        assert!((0..40).all(|_| !a.bernoulli(0.0) && a.bernoulli(1.0)));
        assert!((0..1000).all(|_| a.index(6) < 6));
        assert_eq!(a.weighted(&[0.0, 1.0, 0.0]), 1);
    }

    /// Moments of 20 000 draws agree with the distributions (4 standard errors).
    #[test]
    fn moments_match_distributions() {
        let mut d = Draws::for_study(20191001, 0);
        let n = 20_000.0;
        let z: Vec<f64> = (0..20_000).map(|_| d.normal()).collect();
        let mean = z.iter().sum::<f64>() / n;
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        assert!(mean.abs() < 4.0 / n.sqrt());
        assert!((var - 1.0).abs() < 4.0 * (2.0 / n).sqrt());
        let b = (0..20_000).filter(|_| d.bernoulli(0.3)).count() as f64 / n;
        assert!((b - 0.3).abs() < 4.0 * (0.3 * 0.7 / n).sqrt());
        let mut v: Vec<usize> = (0..10).collect();
        d.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }

    #[test]
    fn logit_expit_are_inverse() {
        for &p in &[0.008, 0.2, 0.5, 0.9] {
            assert!((expit(logit(p)) - p).abs() < 1e-15);
        }
    }
}
