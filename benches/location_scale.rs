//! Location-scale model timings (metafor's `rma(yi, vi, mods = ~ x1 + x2, scale = ~ x1 +
//! x2)`): `location_scale/{REML,ML}/{100,1000}`, everything included (the Newton
//! iterations, the standard errors, the boundary analysis and the likelihood-ratio test,
//! which refits the constant-tau^2 model). Target: REML at k = 100 <= 200 us (metafor:
//! about 94 ms here). SIMULATED data.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::{LocationScale, Method, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic SIMULATED data: y = 0.2 + 0.3 x1 - 0.1 x2 + u + e with
/// ln tau2 = -3 + 0.8 x1 + 0.1 x2, v in (0.01, 0.21).
fn data(k: usize) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64 + 11);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut yi, mut vi, mut x1, mut x2) = (vec![], vec![], vec![], vec![]);
    for _ in 0..k {
        let v = 0.01 + 0.2 * u();
        let a = u();
        let b = 10.0 * u();
        let t2 = (-3.0 + 0.8 * a + 0.1 * b).exp();
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.2 + 0.3 * a - 0.1 * b + z * (v + t2).sqrt());
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
    let mut g = c.benchmark_group("location_scale");
    g.sample_size(30);
    for &k in &[100usize, 1_000] {
        let s = data(k);
        for m in [Method::REML, Method::ML] {
            let spec = LocationScale::new()
                .method(m)
                .location(["x1", "x2"])
                .scale(["x1", "x2"]);
            g.bench_with_input(BenchmarkId::new(m.name(), k), &s, |b, s| {
                b.iter(|| spec.fit(s).expect("fit"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
