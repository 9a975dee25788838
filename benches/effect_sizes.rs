//! Effect sizes from raw data (escalc OR and SMD at k = 100 and 10^4) and Mantel-Haenszel
//! pooling at k = 100. All are O(k): one pass over the studies (two for the measures with a
//! weighted mean, such as vtype AV).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use metan::data::effect_size::{
    EffectSizes, MeansMeasure, TwoByTwo, TwoByTwoMeasure, TwoGroupMeans,
};
use metan::model::{MantelHaenszel, MhMeasure};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Deterministic 2x2 tables: group sizes 20-500, event risks 2%-60% (some zero cells).
fn tables(k: usize) -> Vec<TwoByTwo> {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
    (0..k)
        .map(|_| {
            let n1 = (20.0 + 480.0 * uniform(&mut rng)).floor();
            let n2 = (20.0 + 480.0 * uniform(&mut rng)).floor();
            let p = 0.02 + 0.58 * uniform(&mut rng);
            let a = (n1 * p * 0.8).floor();
            let c = (n2 * p).floor();
            TwoByTwo::from_events(a, n1, c, n2)
        })
        .collect()
}

/// Deterministic two-group summaries.
fn means(k: usize) -> Vec<TwoGroupMeans> {
    let mut rng = ChaCha8Rng::seed_from_u64(k as u64 + 1);
    (0..k)
        .map(|_| {
            let n1 = (10.0 + 200.0 * uniform(&mut rng)).floor();
            let n2 = (10.0 + 200.0 * uniform(&mut rng)).floor();
            TwoGroupMeans::new(
                10.0 + uniform(&mut rng),
                1.0 + uniform(&mut rng),
                n1,
                10.0,
                1.0 + uniform(&mut rng),
                n2,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("escalc");
    g.sample_size(20);
    for &k in &[100usize, 10_000] {
        g.throughput(Throughput::Elements(k as u64));
        let t = tables(k);
        g.bench_with_input(BenchmarkId::new("OR", k), &t, |b, t| {
            b.iter(|| {
                EffectSizes::two_by_two(t, TwoByTwoMeasure::OR)
                    .compute()
                    .expect("valid tables")
            })
        });
        let m = means(k);
        g.bench_with_input(BenchmarkId::new("SMD", k), &m, |b, m| {
            b.iter(|| {
                EffectSizes::means(m, MeansMeasure::SMD)
                    .compute()
                    .expect("valid summaries")
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("mantel_haenszel");
    g.sample_size(20);
    let t = tables(100);
    g.throughput(Throughput::Elements(100));
    for m in [MhMeasure::OR, MhMeasure::RR, MhMeasure::RD] {
        let mh = MantelHaenszel::new(m);
        g.bench_with_input(BenchmarkId::new(m.to_string(), 100), &t, |b, t| {
            b.iter(|| mh.fit(t).expect("valid tables"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
