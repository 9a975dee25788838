//! Invariants of the multilevel and multivariate models ([`MvModel`]): permuting the
//! clusters or the rows within clusters changes nothing, the fit is equivariant under
//! location and scale changes of the effects, variance components are never negative,
//! and every interval contains its estimate.

use metan::{MvFit, MvModel, Structure, Studies};
use proptest::prelude::*;

/// Random clustered data: 3-8 clusters of 1-4 effects (the first has at least 2), each
/// effect with an outcome label alternating within its cluster.
fn data() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<usize>, Vec<f64>)> {
    prop::collection::vec(1usize..=4, 3..=8).prop_flat_map(|mut sizes| {
        sizes[0] = sizes[0].max(2);
        let k: usize = sizes.iter().sum();
        let cl: Vec<usize> = sizes
            .iter()
            .enumerate()
            .flat_map(|(c, &n)| std::iter::repeat_n(c, n))
            .collect();
        (
            prop::collection::vec(-1.0f64..1.0, k),
            prop::collection::vec(0.01f64..0.2, k),
            Just(cl),
            prop::collection::vec(0.0f64..10.0, k),
        )
    })
}

fn studies(y: &[f64], v: &[f64], cl: &[usize], x: &[f64]) -> Studies {
    let mut pos = vec![0usize; cl.len()];
    let mut seen = std::collections::HashMap::new();
    for (i, &c) in cl.iter().enumerate() {
        let e = seen.entry(c).or_insert(0usize);
        pos[i] = *e;
        *e += 1;
    }
    Studies::from_variances(y.to_vec(), v.to_vec())
        .unwrap()
        .with_clusters(cl.iter().map(|c| format!("c{c}")))
        .unwrap()
        .with_moderator("x", x.to_vec())
        .unwrap()
        .with_attribute(
            "outcome",
            pos.iter()
                .map(|p| if p % 2 == 0 { "official" } else { "partner" }),
        )
        .unwrap()
}

fn close(a: f64, b: f64, tol: f64, scale: f64) -> bool {
    (a - b).abs() <= tol * (a.abs().max(b.abs()) + scale)
}

fn same(a: &MvFit, b: &MvFit, tol: f64) -> Result<(), TestCaseError> {
    let (ta, tb) = (
        [a.sigma2(), a.tau2(), a.rho()].concat(),
        [b.sigma2(), b.tau2(), b.rho()].concat(),
    );
    prop_assert_eq!(ta.len(), tb.len());
    for (x, y) in ta.iter().zip(&tb) {
        prop_assert!(close(*x, *y, tol, 1e-6), "components {ta:?} vs {tb:?}");
    }
    let (ba, bb) = (a.beta(), b.beta());
    prop_assert_eq!(ba.len(), bb.len());
    for (x, y) in ba.iter().zip(&bb) {
        prop_assert!(close(*x, *y, tol, 1e-6), "beta {ba:?} vs {bb:?}");
    }
    prop_assert!(close(a.loglik(), b.loglik(), 1e-10, 0.0));
    Ok(())
}

fn models() -> Vec<MvModel> {
    vec![
        MvModel::new(),
        MvModel::new().rho(0.6).moderator("x"),
        MvModel::new().rho(0.5).outcome("outcome", Structure::CS),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn permutations_leave_the_fit_unchanged(
        (y, v, cl, x) in data(),
        seed in any::<u64>(),
    ) {
        let s = studies(&y, &v, &cl, &x);
        // a permutation of the rows: shuffles clusters and rows within clusters
        let k = y.len();
        let mut perm: Vec<usize> = (0..k).collect();
        let mut st = seed | 1;
        for i in (1..k).rev() {
            st ^= st << 13; st ^= st >> 7; st ^= st << 17;
            perm.swap(i, (st % (i as u64 + 1)) as usize);
        }
        let sp = s.subset(&perm).unwrap();
        for m in models() {
            let (a, b) = (m.fit(&s).unwrap(), m.fit(&sp).unwrap());
            same(&a, &b, 1e-7)?;
        }
    }

    #[test]
    fn location_and_scale_equivariance(
        (y, v, cl, x) in data(),
        shift in -5.0f64..5.0,
        scale in 0.2f64..5.0,
    ) {
        let s = studies(&y, &v, &cl, &x);
        let y2: Vec<f64> = y.iter().map(|a| scale * a + shift).collect();
        let v2: Vec<f64> = v.iter().map(|a| scale * scale * a).collect();
        let s2 = studies(&y2, &v2, &cl, &x);
        for m in [MvModel::new(), MvModel::new().rho(0.6)] {
            let (a, b) = (m.fit(&s).unwrap(), m.fit(&s2).unwrap());
            prop_assert!(close(b.beta()[0], scale * a.beta()[0] + shift, 1e-7, scale));
            prop_assert!(close(b.coefficients()[0].se, scale * a.coefficients()[0].se, 1e-7, 1e-6));
            for (p, q) in a.sigma2().iter().zip(b.sigma2()) {
                prop_assert!(close(*q, scale * scale * p, 1e-6, 1e-6 * scale * scale),
                    "sigma2 {:?} vs {:?}", a.sigma2(), b.sigma2());
            }
        }
    }

    #[test]
    fn components_nonnegative_and_intervals_contain_estimates((y, v, cl, x) in data()) {
        let s = studies(&y, &v, &cl, &x);
        for m in models() {
            let f = m.fit(&s).unwrap();
            prop_assert!(f.converged());
            prop_assert!(f.sigma2().iter().chain(f.tau2()).all(|&t| t >= 0.0));
            prop_assert!(f.rho().iter().all(|&r| (-1.0..=1.0).contains(&r)));
            for c in f.coefficients() {
                prop_assert!(c.ci_lower <= c.estimate && c.estimate <= c.ci_upper);
                prop_assert!(c.se > 0.0 && c.p_value.is_finite());
            }
            if let Some(i2) = f.i2() {
                prop_assert!((0.0..=100.0).contains(&i2.total));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn profile_intervals_contain_the_estimates((y, v, cl, x) in data()) {
        let s = studies(&y, &v, &cl, &x);
        let f = MvModel::new().rho(0.5).fit(&s).unwrap();
        let ci = f.profile_ci().unwrap();
        for c in ci {
            prop_assert!(c.ci_lower <= c.estimate + 1e-12 && c.estimate <= c.ci_upper + 1e-12,
                "{c:?}");
            prop_assert!(c.ci_lower >= 0.0);
        }
    }
}

/// The multilevel engine sums its per-cluster pieces in cluster order whatever the thread
/// pool: a CHE fit with CR2 on 1 thread (computed on the calling thread) and on 2 threads
/// (chunks in the pool) give the same bits. 120 clusters of 1-4 effects (more than the
/// engine's chunk of 32), SIMULATED by a fixed linear congruential sequence.
#[cfg(feature = "parallel")]
#[test]
fn multilevel_fit_and_cr2_are_the_same_on_one_or_two_threads() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut unit = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut y, mut v, mut cl, mut x) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in 0..120 {
        let u = unit() - 0.5;
        let xc = 10.0 * unit();
        for _ in 0..1 + (4.0 * unit()) as usize {
            v.push(0.01 + 0.19 * unit());
            y.push(0.2 + 0.03 * xc + 0.6 * u + 0.4 * (unit() - 0.5));
            cl.push(c);
            x.push(xc);
        }
    }
    let s = studies(&y, &v, &cl, &x);
    let m = MvModel::new().rho(0.6).moderator("x");
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let f = m.fit(&s).unwrap();
                let r = f.robust(metan::RobustKind::CR2).unwrap();
                (f, r.vcov().to_vec(), r.coefficients().to_vec())
            })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    assert_eq!(one.2, two.2);
}
