//! SIMULATED data with publication selection for the selection-model benchmarks
//! (`benches/selection.rs`, `benches/gate.rs`).

use metan::Studies;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// SIMULATED data with step-function selection: studies with `y ~ N(0.15, v + 0.04)`,
/// `v = 4/n`, `n` log-uniform on [20, 400], published with probability 1 when the
/// one-sided p <= 0.025 and 0.35 otherwise, until `k` are published.
pub fn selected(k: usize, seed: u64) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut y, mut v) = (Vec::with_capacity(k), Vec::with_capacity(k));
    while y.len() < k {
        let n = (20f64.ln() + u() * (400f64.ln() - 20f64.ln()))
            .exp()
            .round();
        let vi = 4.0 / n;
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
        let yi = 0.15 + z * (vi + 0.04f64).sqrt();
        let p = 0.5 * libm::erfc(yi / vi.sqrt() / std::f64::consts::SQRT_2);
        if p <= 0.025 || u() < 0.35 {
            y.push(yi);
            v.push(vi);
        }
    }
    Studies::from_variances(y, v).expect("valid data")
}
