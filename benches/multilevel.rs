//! Multilevel (three-level CHE) fit timings, on SIMULATED data.
//!
//! * `che_reml/1500x300`: three-level REML with a sampling correlation of 0.6 within
//!   clusters (the correlated-and-hierarchical-effects working model) and one moderator,
//!   1,500 effects in 300 clusters of 5, alone and with CR2 (`+CR2`: clubSandwich's
//!   coef_test with Satterthwaite df). Target for fit + CR2: <= 5 ms; metafor's
//!   `rma.mv(sparse = TRUE)` + clubSandwich need seconds (`scripts/compare_metafor.sh`).
//! * `che_reml_linear/{1000,10000,100000}`: the same model at cluster size 5 for growing k:
//!   the cost is a sum over clusters, so time should grow linearly in k.
//! * `che_reml/1000000x100000+CR2`: 10^6 effects in 10^5 clusters of 10, fit + CR2.
//!   Target: <= 1 s; peak memory <= 500 MB, measured with
//!   `/usr/bin/time -v cargo run --release --example che_scale` (the same fit + CR2).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use metan::{MvModel, RobustKind};

#[path = "../examples/shared/che.rs"]
mod che;

fn che_data(n_cl: usize, size: usize, seed: u64) -> metan::Studies {
    che::che_data(n_cl, size, seed).expect("valid SIMULATED data")
}

fn bench(c: &mut Criterion) {
    let spec = MvModel::new().rho(0.6).moderator("x");
    let mut g = c.benchmark_group("che_reml");
    g.sample_size(50);
    let s = che_data(300, 5, 1);
    g.bench_function("1500x300", |b| b.iter(|| spec.fit(&s).expect("fit")));
    g.bench_function("1500x300+CR2", |b| {
        b.iter(|| {
            let f = spec.fit(&s).expect("fit");
            f.robust(RobustKind::CR2).expect("CR2")
        })
    });
    g.sample_size(10);
    let big = che_data(100_000, 10, 2);
    g.bench_function("1000000x100000+CR2", |b| {
        b.iter(|| {
            let f = spec.fit(&big).expect("fit");
            f.robust(RobustKind::CR2).expect("CR2")
        })
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
