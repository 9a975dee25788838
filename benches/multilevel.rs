//! Multilevel (three-level CHE) fit timings, on SIMULATED data.
//!
//! * `che_reml/1500x300`: three-level REML with a sampling correlation of 0.6 within
//!   clusters (the correlated-and-hierarchical-effects working model) and one moderator,
//!   1,500 effects in 300 clusters of 5. Target: well under 5 ms (so that fit + CR2 fits
//!   in 5 ms); metafor's `rma.mv(sparse = TRUE)` needs about 1.6 s here.
//! * `che_reml_linear/{1000,10000,100000}`: the same model at cluster size 5 for growing k:
//!   the cost is a sum over clusters, so time should grow linearly in k.
//! * `che_reml/1000000x100000`: 10^6 effects in 10^5 clusters of 10. Target: <= 1 s
//!   (peak memory is measured on a CLI run, see `docs/benchmarks.md`).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::{MvModel, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// SIMULATED: `n_cl` clusters of `size` effects, `y = 0.3 + 0.1 x + u_j + w_ij + e_ij`,
/// `sigma2 = (0.05, 0.03)`, `v ~ U(0.02, 0.12)` (sampling errors drawn independently: the
/// fit assumes rho = 0.6 regardless, as an analyst would).
pub fn che_data(n_cl: usize, size: usize, seed: u64) -> Studies {
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
        .expect("valid data")
}

fn bench(c: &mut Criterion) {
    let spec = MvModel::new().rho(0.6).moderator("x");
    let mut g = c.benchmark_group("che_reml");
    g.sample_size(50);
    let s = che_data(300, 5, 1);
    g.bench_function("1500x300", |b| b.iter(|| spec.fit(&s).expect("fit")));
    g.sample_size(10);
    let big = che_data(100_000, 10, 2);
    g.bench_function("1000000x100000", |b| {
        b.iter(|| spec.fit(&big).expect("fit"))
    });
    g.finish();

    let mut g = c.benchmark_group("che_reml_linear");
    g.sample_size(10);
    for &k in &[1_000usize, 10_000, 100_000] {
        let s = che_data(k / 5, 5, 3);
        g.bench_with_input(BenchmarkId::from_parameter(k), &s, |b, s| {
            b.iter(|| spec.fit(s).expect("fit"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
