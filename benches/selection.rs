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
use metan::bias::{SelectionModel, SelectionType};

#[path = "../examples/shared/selected.rs"]
mod selected;
use selected::selected;

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
