//! Fit time by estimator and k. Targets (release, one core): REML k = 100 <= 25 us,
//! k = 10^6 <= 100 ms. metafor takes 25 ms at k = 100 and 4.9 s at k = 1000 here.
//!
//! `full` is the default fit (with the Q-profile intervals for tau^2, I^2 and H^2);
//! `no_confint` skips those, like metafor's `rma()` which leaves them to `confint()`.
//! `fit_by_estimator` times every tau^2 estimator at k = 100 and 10^4.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use metan::{MetaAnalysis, Method, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic random-effects data: tau^2 = 0.1, v in (0.01, 0.21).
fn data(k: usize) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for _ in 0..k {
        let v = 0.01 + 0.2 * u();
        // Box-Muller normal
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.3 + z * (v + 0.1f64).sqrt());
        vi.push(v);
    }
    Studies::from_variances(yi, vi).expect("valid data")
}

fn bench_fit(c: &mut Criterion) {
    for (name, confint) in [("full", true), ("no_confint", false)] {
        let mut g = c.benchmark_group(format!("fit_{name}"));
        g.sample_size(20);
        for &k in &[10usize, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let s = data(k);
            g.throughput(Throughput::Elements(k as u64));
            for m in [Method::DL, Method::REML, Method::PM] {
                let ma = MetaAnalysis::new().method(m).confint(confint);
                g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                    b.iter(|| ma.fit(s).expect("fit"))
                });
            }
        }
        g.finish();
    }
}

/// Every estimator (full default fit, with the tau^2 CI: Q-profile, or generalized Q for
/// GENQ with inverse-variance weights) at k = 100 and 10^4.
fn bench_estimators(c: &mut Criterion) {
    let mut g = c.benchmark_group("fit_by_estimator");
    g.sample_size(20);
    for &k in &[100usize, 10_000] {
        let s = data(k);
        g.throughput(Throughput::Elements(k as u64));
        let w: Vec<f64> = s.vi().iter().map(|v| 1.0 / v).collect();
        for m in [
            Method::EE,
            Method::DL,
            Method::HE,
            Method::HS,
            Method::HSk,
            Method::SJ,
            Method::ML,
            Method::REML,
            Method::EB,
            Method::PM,
            Method::PMM,
            Method::GENQ,
        ] {
            let mut ma = MetaAnalysis::new().method(m);
            if m == Method::GENQ {
                ma = ma.weights(w.clone());
            }
            g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                b.iter(|| ma.fit(s).expect("fit"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_fit, bench_estimators);
criterion_main!(benches);
