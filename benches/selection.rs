//! Selection models (metafor's `selmodel`) at k = 100 (release, one core). Targets: the
//! 3PSM (step function, one step at 0.025) <= 1 ms, every other type <= 5 ms. metafor
//! takes 259 ms for the 3PSM and 22 s for the beta model at k = 100 on the same machine
//! (see `scripts/compare_metafor.sh`).
//!
//! Each fit is the whole analysis: the unadjusted ML model, the selection model, its
//! Hessian, and the fit with tau^2 = 0 of the heterogeneity test.
//!
//! The data are SIMULATED with publication selection: studies with
//! `y ~ N(0.15, v + 0.04)`, `v = 4/n`, `n` log-uniform on [20, 400], published with
//! probability 1 when the one-sided p <= 0.025 and 0.35 otherwise, until k are published.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::Studies;
use metan::bias::{SelectionModel, SelectionType};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// SIMULATED data with step-function selection (see the module documentation).
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

fn bench_selection(c: &mut Criterion) {
    let mut g = c.benchmark_group("selection");
    g.sample_size(20);
    let k = 100;
    let s = selected(k, 2024);
    let models = [
        (
            "3psm",
            SelectionModel::new(SelectionType::StepFunction).steps([0.025]),
        ),
        (
            "stepfun_3steps",
            SelectionModel::new(SelectionType::StepFunction).steps([0.025, 0.1, 0.5]),
        ),
        ("beta", SelectionModel::new(SelectionType::Beta)),
        ("halfnorm", SelectionModel::new(SelectionType::HalfNormal)),
        (
            "negexp",
            SelectionModel::new(SelectionType::NegativeExponential),
        ),
        ("logistic", SelectionModel::new(SelectionType::Logistic)),
        ("power", SelectionModel::new(SelectionType::Power)),
    ];
    for (name, m) in models {
        g.bench_with_input(BenchmarkId::new(name, k), &s, |b, s| {
            b.iter(|| m.fit(s).expect("selection model"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_selection);
criterion_main!(benches);
