//! SIMULATED three-level data for the multilevel benchmarks (`benches/multilevel.rs`,
//! `examples/che_scale.rs`).

use metan::{MetaError, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// SIMULATED: `n_cl` clusters of `size` effects, `y = 0.3 + 0.1 x + u_j + w_ij + e_ij`,
/// `sigma2 = (0.05, 0.03)`, `v ~ U(0.02, 0.12)` (sampling errors drawn independently: the
/// fit assumes rho = 0.6 regardless, as an analyst would).
pub fn che_data(n_cl: usize, size: usize, seed: u64) -> Result<Studies, MetaError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut normal = move || {
        let a = u().max(1e-300);
        let b = u();
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let k = n_cl * size;
    let (mut y, mut v, mut x, mut cl) = (
        Vec::with_capacity(k),
        Vec::with_capacity(k),
        Vec::with_capacity(k),
        Vec::with_capacity(k),
    );
    for j in 0..n_cl {
        let uj = 0.05f64.sqrt() * normal();
        for _ in 0..size {
            let vi = 0.02 + 0.1 * (normal().abs() / 3.0).min(1.0);
            let xi = normal();
            y.push(0.3 + 0.1 * xi + uj + 0.03f64.sqrt() * normal() + vi.sqrt() * normal());
            v.push(vi);
            x.push(xi);
            cl.push(format!("c{j}"));
        }
    }
    Studies::from_variances(y, v)
        .and_then(|s| s.with_moderator("x", x))
        .and_then(|s| s.with_clusters(cl))
}
