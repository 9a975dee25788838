//! Cluster-robust inference timings (fit included).
//!
//! * `robust/cr2/{1500x300,1000000x100000}`: CR2 with Satterthwaite df per coefficient and
//!   the HTZ test of the moderator (`MetaRegressionFit::robust`) of a REML meta-regression
//!   (intercept and one moderator) of k effects in m clusters of k/m, the fit done once
//!   outside the loop. Targets: 10^6 / 10^5 well under 1 s. clubSandwich's CR2 on the
//!   1,500 / 300 case takes about 5 s here (its Satterthwaite df loop over pairs of
//!   clusters); metan's df are O(m p^3).
//! * `robust/fit+cr2/1500x300`: the fit and CR2 together (target well under 5 ms).
//! * `robust/cr1/...`, `robust/fit+cr1/...`: the same with metafor's CR1.
//! * `robust/robu/{CORR,HIER}/...`: robumeta's `robu()` with the small-sample corrections.
//!
//! The multilevel (rma.mv) fits feed the same code with dense blocks; their end-to-end
//! benchmark belongs to `benches/multilevel.rs`.
//!
//! In test mode (`cargo bench -- --test`) the 10^6 case is replaced by 10^4 / 10^3.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::{MetaRegression, Robu, RobuWeights, RobustKind, Studies};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic clustered data: y = 0.2 + 0.1 x + u_cluster + e, v in (0.01, 0.21).
fn data(k: usize, m: usize) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64((k + m) as u64);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut normal = move || {
        let a = u().max(1e-300);
        let b = u();
        (
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos(),
            b,
        )
    };
    let n = k / m;
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    let mut x = Vec::with_capacity(k);
    let mut cl = Vec::with_capacity(k);
    for j in 0..m {
        let (uc, _) = normal();
        for _ in 0..n {
            let (z, w) = normal();
            let v = 0.01 + 0.2 * w;
            let xi = 10.0 * w;
            yi.push(0.2 + 0.1 * xi + 0.3 * uc + z * v.sqrt());
            vi.push(v);
            x.push(xi);
            cl.push(format!("c{j}"));
        }
    }
    Studies::from_variances(yi, vi)
        .and_then(|s| s.with_moderator("x", x))
        .and_then(|s| s.with_clusters(cl))
        .expect("valid data")
}

fn bench(c: &mut Criterion) {
    let quick = std::env::args().any(|a| a == "--test");
    let sizes: Vec<(usize, usize)> = if quick {
        vec![(1_500, 300), (10_000, 1_000)]
    } else {
        vec![(1_500, 300), (1_000_000, 100_000)]
    };
    let mut g = c.benchmark_group("robust");
    g.sample_size(10);
    for &(k, m) in &sizes {
        let s = data(k, m);
        let size = format!("{k}x{m}");
        let spec = MetaRegression::new().moderator("x").confint(false);
        let fit = spec.fit(&s).expect("fit");
        for kind in [RobustKind::CR2, RobustKind::CR1] {
            let name = kind.to_string().to_lowercase();
            // the robust step alone (the fit is the multilevel engine's business)
            g.bench_with_input(BenchmarkId::new(&name, &size), &s, |b, s| {
                b.iter(|| fit.robust(s, kind).expect("robust"))
            });
            if k <= 10_000 {
                g.bench_with_input(
                    BenchmarkId::new(format!("fit+{name}"), &size),
                    &s,
                    |b, s| b.iter(|| spec.fit(s).expect("fit").robust(s, kind).expect("robust")),
                );
            }
        }
        for w in [RobuWeights::Corr, RobuWeights::Hier] {
            let r = Robu::new().weights(w).moderator("x");
            g.bench_with_input(BenchmarkId::new(format!("robu/{w}"), &size), &s, |b, s| {
                b.iter(|| r.fit(s).expect("robu"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
