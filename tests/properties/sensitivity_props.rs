//! Invariants of the sensitivity analyses: every refit equals `MetaAnalysis::fit` on the
//! same subset (for every estimator, on data large enough for the series shortcut of the
//! leave-one-out engine to be used, and on random small data), and GOSH's sampling is
//! reproducible and independent of the thread count.

use metan::sensitivity::{CumulativeOrder, Gosh, cumulative, influence, leave_one_out};
use metan::{MetaAnalysis, MetaFit, Method, Studies, TestKind};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn data(k: usize, seed: u64, tau2: f64) -> Studies {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut yi = Vec::new();
    let mut vi = Vec::new();
    for _ in 0..k {
        let v = 0.01 + 0.2 * u();
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos();
        yi.push(0.3 + z * (v + tau2).sqrt());
        vi.push(v);
    }
    Studies::from_variances(yi, vi).unwrap()
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    let ok = (a - b).abs() <= rel * b.abs() || (b.abs() < 1e-9 && (a - b).abs() < 1e-11);
    assert!(ok, "{what}: {a:e} vs {b:e}");
}

fn same(row: &metan::sensitivity::RefitRow, fit: &MetaFit, rel: f64, what: &str) {
    assert_eq!(row.k, fit.k(), "{what}");
    // Fisher scoring need not converge (REML, k = 8, seed 308, tau2 0.266: 1000 iterations
    // cycling between tau^2 0.0067 and 0.0149, and metafor 3.8-1's rma() stops with "Fisher
    // scoring algorithm did not converge" on the same data, at its default control too).
    // Then both must say so; their numbers are wherever the iteration stopped.
    assert_eq!(
        row.converged,
        fit.convergence().converged,
        "{what}: converged (refit row vs direct fit)"
    );
    if !row.converged {
        return;
    }
    close(
        row.estimate,
        fit.estimate(),
        rel,
        &format!("{what} estimate"),
    );
    close(row.se, fit.se(), rel, &format!("{what} se"));
    close(row.p_value, fit.p_value(), rel, &format!("{what} p"));
    close(row.ci_lower, fit.ci().0, rel, &format!("{what} ci"));
    close(row.tau2, fit.tau2(), rel, &format!("{what} tau2"));
    close(row.q, fit.heterogeneity().q(), rel, &format!("{what} q"));
    close(row.i2, fit.heterogeneity().i2(), rel, &format!("{what} i2"));
    close(row.h2, fit.heterogeneity().h2(), rel, &format!("{what} h2"));
}

const METHODS: [Method; 12] = [
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
];

fn spec(m: Method, test: TestKind, s: &Studies) -> MetaAnalysis {
    let mut spec = MetaAnalysis::new().method(m).test(test).confint(false);
    if m == Method::GENQ {
        spec = spec.weights(s.vi().iter().map(|v| 1.0 / v.sqrt()).collect::<Vec<_>>());
    }
    spec
}

/// At k = 400 the left-out fits come from the moment series; they equal direct fits.
#[test]
fn leave_one_out_equals_refit_at_large_k() {
    let s = data(400, 7, 0.1);
    for m in METHODS {
        for test in [TestKind::Z, TestKind::Knha] {
            let sp = spec(m, test, &s);
            let l1o = leave_one_out(&sp, &s).unwrap();
            for i in [0usize, 1, 57, 200, 399] {
                let keep: Vec<usize> = (0..s.k()).filter(|&j| j != i).collect();
                let sub = s.subset(&keep).unwrap();
                let sp_sub = match m {
                    Method::GENQ => spec(m, test, &sub),
                    _ => sp.clone(),
                };
                let fit = sp_sub.fit(&sub).unwrap();
                same(
                    &l1o.rows()[i],
                    &fit,
                    1e-10,
                    &format!("{m} {test} without {i}"),
                );
            }
        }
    }
}

/// A homogeneous data set: many left-out fits sit on the tau^2 = 0 boundary.
#[test]
fn leave_one_out_equals_refit_near_boundary() {
    let s = data(300, 11, 0.0);
    for m in METHODS {
        let sp = spec(m, TestKind::Z, &s);
        let l1o = leave_one_out(&sp, &s).unwrap();
        for i in [0usize, 99, 299] {
            let keep: Vec<usize> = (0..s.k()).filter(|&j| j != i).collect();
            let sub = s.subset(&keep).unwrap();
            let sp_sub = match m {
                Method::GENQ => spec(m, TestKind::Z, &sub),
                _ => sp.clone(),
            };
            let fit = sp_sub.fit(&sub).unwrap();
            same(
                &l1o.rows()[i],
                &fit,
                1e-10,
                &format!("{m} boundary without {i}"),
            );
        }
    }
}

/// Influence statistics obey their definitions: Cook's distance is the squared change of
/// the estimate over its variance, COVRATIO the ratio of variances, weights add to 100.
#[test]
fn influence_identities() {
    let s = data(60, 3, 0.05);
    // the diagnostics iterate REML to a relative change of 1e-14 (see `influence`)
    let sp = MetaAnalysis::new().method(Method::REML).tol(1e-14);
    let fit = sp.fit(&s).unwrap();
    let inf = influence(&sp, &s).unwrap();
    let l1o = leave_one_out(&sp, &s).unwrap();
    let w: f64 = inf.rows().iter().map(|r| r.weight).sum();
    close(w, 100.0, 1e-12, "weights");
    let vb = fit.se() * fit.se();
    for (r, l) in inf.rows().iter().zip(l1o.rows()) {
        let d = fit.estimate() - l.estimate;
        close(r.cook_d, d * d / vb, 1e-12, "cook");
        close(r.cov_r, l.se * l.se / vb, 1e-12, "covratio");
        close(r.tau2_del, l.tau2, 1e-12, "tau2_del");
        close(r.q_del, l.q, 1e-12, "q_del");
    }
}

/// GOSH with random subsets: the same seed gives the same subsets on 1 or 2 threads.
#[cfg(feature = "parallel")]
#[test]
fn gosh_sampling_is_reproducible_across_threads() {
    let s = data(30, 5, 0.1);
    let sp = MetaAnalysis::new().method(Method::DL);
    let g = Gosh::new().max_subsets(5000).seed(42);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| g.run(&sp, &s).unwrap());
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| g.run(&sp, &s).unwrap());
    assert!(!one.is_exhaustive());
    assert_eq!(one, two);
    let other = Gosh::new().max_subsets(5000).seed(43).run(&sp, &s).unwrap();
    assert_ne!(one.estimates(), other.estimates());
    // each study is in about half of the subsets
    let n0 = (0..one.len()).filter(|&i| one.contains(i, 0)).count() as f64;
    assert!((n0 / 5000.0 - 0.5).abs() < 0.05, "{n0}");
    // a sampled subset's fit equals the direct fit on its members
    let sub = one.subset(17);
    let fit = sp.fit(&s.subset(&sub.members).unwrap()).unwrap();
    close(sub.estimate, fit.estimate(), 1e-12, "gosh estimate");
    close(sub.tau2, fit.tau2(), 1e-12, "gosh tau2");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// On random small data, every leave-one-out and cumulative row equals a direct fit.
    #[test]
    fn refits_equal_direct_fits(
        k in 2usize..9,
        seed in 0u64..1000,
        tau2 in prop_oneof![Just(0.0), 0.0..0.5f64],
        mi in 0usize..12,
        knha in any::<bool>(),
    ) {
        let s = data(k, seed, tau2);
        let m = METHODS[mi];
        let test = if knha { TestKind::Knha } else { TestKind::Z };
        let sp = spec(m, test, &s);
        let l1o = leave_one_out(&sp, &s).unwrap();
        let cu = cumulative(&sp, &s, &CumulativeOrder::Input).unwrap();
        for i in 0..k {
            let keep: Vec<usize> = (0..k).filter(|&j| j != i).collect();
            let sub = s.subset(&keep).unwrap();
            let fit = match m { Method::GENQ => spec(m, test, &sub), _ => sp.clone() }.fit(&sub).unwrap();
            same(&l1o.rows()[i], &fit, 1e-9, &format!("{m} k={k} without {i}"));
            let pre: Vec<usize> = (0..=i).collect();
            let sub = s.subset(&pre).unwrap();
            let fit = match m { Method::GENQ => spec(m, test, &sub), _ => sp.clone() }.fit(&sub).unwrap();
            same(&cu.rows()[i], &fit, 1e-9, &format!("{m} k={k} prefix {i}"));
        }
    }
}
