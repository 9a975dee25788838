//! Rendering cost of the plots: a forest and a funnel plot of 500 studies.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use metan::plot::{ForestData, ForestPlot, FunnelPlot, Transform};
use metan::{MetaAnalysis, Method, Studies};

fn studies(k: usize) -> Studies {
    // deterministic, study-like values (no RNG needed for a timing)
    let yi: Vec<f64> = (0..k)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 40.0)
        .collect();
    let vi: Vec<f64> = (0..k)
        .map(|i| 0.01 + (i * 53 % 97) as f64 / 200.0)
        .collect();
    Studies::from_variances(yi, vi).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let s = studies(500);
    let fit = MetaAnalysis::new()
        .method(Method::DL)
        .fit(&s)
        .unwrap_or_else(|e| panic!("{e}"));
    let data = ForestData::from_fit(&s, &fit).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("forest_k500", |b| {
        b.iter(|| {
            ForestPlot::new(black_box(data.clone()))
                .transform(Transform::Exp)
                .render()
        })
    });
    let funnel = FunnelPlot::from_fit(&s, &fit)
        .unwrap_or_else(|e| panic!("{e}"))
        .contours(true);
    c.bench_function("funnel_k500", |b| b.iter(|| black_box(&funnel).render()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
