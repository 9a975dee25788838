//! Meta-regression and permutation-test timings.
//!
//! * `meta_regression/{REML,DL}/{100,1000,10000}`: a fit with k studies and p = 3 coefficients
//!   (intercept + two numeric moderators), everything included (R^2, which refits the
//!   intercept-only model, and the Q-profile interval of tau^2).
//! * `permutest/REML/{20,100}`: a random permutation test with 10^4 permutations at k = 100,
//!   p = 3 (each permutation refits the REML model). Target: <= 1 s on 2 cores; metafor's
//!   `permutest()` needs about 18 s for 1,000 permutations here.
//!
//! In test mode (`cargo bench -- --test`) the permutation test runs 1,000 permutations.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::{MetaRegression, Method, PermutationTest, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic data: y = 0.2 + 0.3 x1 - 0.1 x2 + u + e, tau^2 = 0.05, v in (0.01, 0.21).
fn data(k: usize) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64 + 7);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    let mut x1 = Vec::with_capacity(k);
    let mut x2 = Vec::with_capacity(k);
    for _ in 0..k {
        let v = 0.01 + 0.2 * u();
        let a = u();
        let b = 10.0 * u();
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.2 + 0.3 * a - 0.1 * b + z * (v + 0.05f64).sqrt());
        vi.push(v);
        x1.push(a);
        x2.push(b);
    }
    Studies::from_variances(yi, vi)
        .and_then(|s| s.with_moderator("x1", x1))
        .and_then(|s| s.with_moderator("x2", x2))
        .expect("valid data")
}

fn bench(c: &mut Criterion) {
    let quick = std::env::args().any(|a| a == "--test");
    let mut g = c.benchmark_group("meta_regression");
    g.sample_size(20);
    for &k in &[100usize, 1_000, 10_000] {
        let s = data(k);
        for m in [Method::REML, Method::DL] {
            let spec = MetaRegression::new().method(m).moderators(["x1", "x2"]);
            g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                b.iter(|| spec.fit(s).expect("fit"))
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("permutest");
    g.sample_size(10);
    let iter = if quick { 1_000 } else { 10_000 };
    let spec = MetaRegression::new().moderators(["x1", "x2"]);
    let pt = PermutationTest::new().iter(iter).seed(1);
    for &k in &[20usize, 100] {
        let s = data(k);
        g.bench_with_input(BenchmarkId::new("REML", k), &s, |b, s| {
            b.iter(|| pt.run(&spec, s).expect("permutest"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
