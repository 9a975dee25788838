//! Rendering cost of the plots: forest, funnel (with contours) and Baujat plots of k studies
//! (Baujat includes its leave-one-out refits).

use criterion::{BenchmarkId, Criterion, black_box, criterion_group, criterion_main};
use metan::plot::{BaujatData, BaujatPlot, ForestData, ForestPlot, FunnelPlot, Transform};
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
    let mut g = c.benchmark_group("plots");
    for &k in &[10usize, 100, 500, 2_000] {
        let s = studies(k);
        let fit = MetaAnalysis::new()
            .method(Method::DL)
            .fit(&s)
            .unwrap_or_else(|e| panic!("{e}"));
        let data = ForestData::from_fit(&s, &fit).unwrap_or_else(|e| panic!("{e}"));
        g.bench_with_input(BenchmarkId::new("forest", k), &data, |b, data| {
            b.iter(|| {
                ForestPlot::new(black_box(data.clone()))
                    .transform(Transform::Exp)
                    .render()
            })
        });
        let funnel = FunnelPlot::from_fit(&s, &fit)
            .unwrap_or_else(|e| panic!("{e}"))
            .contours(true);
        g.bench_with_input(BenchmarkId::new("funnel", k), &funnel, |b, f| {
            b.iter(|| black_box(f).render())
        });
        let baujat = BaujatData::from_fit(&s, &fit).unwrap_or_else(|e| panic!("{e}"));
        g.bench_with_input(BenchmarkId::new("baujat", k), &baujat, |b, d| {
            b.iter(|| BaujatPlot::new(black_box(d.clone())).render())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
