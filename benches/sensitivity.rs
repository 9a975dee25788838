//! Sensitivity analyses at scale. Targets (release, 2 cores): leave-one-out plus influence
//! at k = 10^4 <= 100 ms (DL and REML); GOSH over all 2^20 - 1 subsets with DL <= 2 s.
//! metafor's `leave1out` and `influence` take 1.6-1.8 s at k = 100 on this machine.
//!
//! `cargo bench -- --test` runs each benchmark once (k = 10^4 and k = 20 still, but a
//! single iteration each).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::sensitivity::{CumulativeOrder, Gosh, cumulative, influence, leave_one_out};
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
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.3 + z * (v + 0.1f64).sqrt());
        vi.push(v);
    }
    Studies::from_variances(yi, vi).expect("valid data")
}

fn bench_deletion(c: &mut Criterion) {
    let mut g = c.benchmark_group("leave1out_plus_influence");
    g.sample_size(10);
    for &k in &[100usize, 10_000] {
        let s = data(k);
        for m in [Method::DL, Method::REML, Method::PM] {
            let spec = MetaAnalysis::new().method(m);
            g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                b.iter(|| {
                    let l = leave_one_out(&spec, s).expect("l1o");
                    let i = influence(&spec, s).expect("influence");
                    (l, i)
                })
            });
        }
    }
    g.finish();
}

/// Each analysis on its own over a grid of k: leave-one-out, influence, cumulative.
fn bench_each(c: &mut Criterion) {
    for name in ["leave1out", "influence", "cumulative"] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        for &k in &[100usize, 1_000, 10_000] {
            let s = data(k);
            for m in [Method::DL, Method::REML] {
                let spec = MetaAnalysis::new().method(m);
                g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                    b.iter(|| match name {
                        "leave1out" => leave_one_out(&spec, s).map(|r| r.rows().len()),
                        "influence" => influence(&spec, s).map(|r| r.rows().len()),
                        _ => cumulative(&spec, s, &CumulativeOrder::Input).map(|r| r.rows().len()),
                    })
                });
            }
        }
        g.finish();
    }
}

/// GOSH over all 2^k - 1 subsets, k = 10, 15, 20.
fn bench_gosh(c: &mut Criterion) {
    let mut g = c.benchmark_group("gosh_all_subsets");
    g.sample_size(10);
    for &k in &[10usize, 15, 20] {
        let s = data(k);
        for m in [Method::DL, Method::EE] {
            let spec = MetaAnalysis::new().method(m);
            g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                b.iter(|| Gosh::new().run(&spec, s).expect("gosh"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_deletion, bench_each, bench_gosh);
criterion_main!(benches);
