//! Publication-bias methods at k = 100 (release, one core). Targets: trim-and-fill, the
//! regression test and the rank correlation test each <= 100 us. metafor takes 151 ms
//! (`trimfill`), 38 ms (`regtest`) and 53 ms (`ranktest`, exact) on the same machine.
//!
//! The data have a small-study effect (so trim-and-fill fills studies) and no ties (so
//! the rank test computes the exact Kendall distribution, its slowest path).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::bias::{FailSafeN, PetPeese, RankTest, RegModel, RegTest, TrimFill};
use metan::{MetaAnalysis, Method, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic data with funnel asymmetry: tau^2 = 0.05, v in (0.005, 0.2),
/// y = 0.2 + 0.8 sqrt(v) + N(0, v + tau^2).
fn data(k: usize) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(7 + k as u64);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for _ in 0..k {
        let v = 0.005 + 0.195 * u();
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.2 + 0.8 * v.sqrt() + z * (v + 0.05f64).sqrt());
        vi.push(v);
    }
    Studies::from_variances(yi, vi).expect("valid data")
}

fn bench_bias(c: &mut Criterion) {
    let mut g = c.benchmark_group("bias");
    g.sample_size(30);
    for &k in &[100usize, 1000] {
        let s = data(k);
        for m in [Method::REML, Method::DL, Method::EE] {
            let spec = MetaAnalysis::new().method(m);
            g.bench_with_input(BenchmarkId::new(format!("trimfill_{m}"), k), &s, |b, s| {
                b.iter(|| TrimFill::new().run(&spec, s).expect("trimfill"))
            });
            g.bench_with_input(BenchmarkId::new(format!("regtest_{m}"), k), &s, |b, s| {
                b.iter(|| RegTest::new().run(&spec, s).expect("regtest"))
            });
        }
        g.bench_with_input(BenchmarkId::new("regtest_lm", k), &s, |b, s| {
            let spec = MetaAnalysis::new();
            b.iter(|| {
                RegTest::new()
                    .model(RegModel::Lm)
                    .run(&spec, s)
                    .expect("regtest")
            })
        });
        g.bench_with_input(BenchmarkId::new("ranktest_exact", k), &s, |b, s| {
            b.iter(|| RankTest::new().run(s).expect("ranktest"))
        });
        g.bench_with_input(BenchmarkId::new("ranktest_normal", k), &s, |b, s| {
            b.iter(|| RankTest::new().exact(false).run(s).expect("ranktest"))
        });
        g.bench_with_input(BenchmarkId::new("fsn", k), &s, |b, s| {
            b.iter(|| FailSafeN::new().run(s).expect("fsn"))
        });
        g.bench_with_input(BenchmarkId::new("pet_peese", k), &s, |b, s| {
            b.iter(|| PetPeese::new().run(s).expect("pet-peese"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_bias);
criterion_main!(benches);
