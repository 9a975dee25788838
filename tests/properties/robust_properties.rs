//! Invariants of cluster-robust inference, robu and aggregation (proptest), and the typed
//! errors of bad input.

use metan::data::Aggregate;
use metan::{
    MetaAnalysis, MetaError, MetaRegression, Robu, RobuWeights, RobustFit, RobustKind, Studies,
};
use proptest::prelude::*;

/// Clustered data: `sizes[j]` effects in cluster j, a numeric moderator.
fn data(sizes: &[usize], vals: &[(f64, f64, f64)]) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<String>) {
    let mut y = Vec::new();
    let mut v = Vec::new();
    let mut x = Vec::new();
    let mut c = Vec::new();
    let mut i = 0;
    for (j, &n) in sizes.iter().enumerate() {
        for _ in 0..n {
            let (a, b, d) = vals[i % vals.len()];
            y.push(a + 0.3 * j as f64 * d);
            v.push(0.01 + b);
            x.push(d * 4.0 + (i % 3) as f64);
            c.push(format!("k{j}"));
            i += 1;
        }
    }
    (y, v, x, c)
}

fn studies(y: &[f64], v: &[f64], x: &[f64], c: &[String]) -> Studies {
    Studies::from_variances(y.to_vec(), v.to_vec())
        .unwrap()
        .with_moderator("x", x.to_vec())
        .unwrap()
        .with_clusters(c)
        .unwrap()
}

fn robust(s: &Studies, kind: RobustKind, mods: bool) -> RobustFit {
    if mods {
        MetaRegression::new()
            .moderator("x")
            .fit(s)
            .unwrap()
            .robust(s, kind)
            .unwrap()
    } else {
        MetaAnalysis::new().fit(s).unwrap().robust(s, kind).unwrap()
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn arb() -> impl Strategy<Value = (Vec<usize>, Vec<(f64, f64, f64)>, bool)> {
    (
        prop::collection::vec(1usize..5, 4..9),
        prop::collection::vec((-1.0f64..1.0, 0.0f64..0.2, 0.0f64..1.0), 5..20),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Permuting the rows (and renaming the clusters) changes nothing.
    #[test]
    fn permutation_invariance((sizes, vals, mods) in arb(), seed in 0u64..1000) {
        let (y, v, x, c) = data(&sizes, &vals);
        let k = y.len();
        let mut perm: Vec<usize> = (0..k).collect();
        let mut s = seed + 1;
        for i in (1..k).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let pick = |a: &[f64]| perm.iter().map(|&i| a[i]).collect::<Vec<_>>();
        let c2: Vec<String> = perm.iter().map(|&i| format!("z{}", c[i])).collect();
        let s1 = studies(&y, &v, &x, &c);
        let s2 = studies(&pick(&y), &pick(&v), &pick(&x), &c2);
        for kind in [RobustKind::CR2, RobustKind::CR1] {
            let (a, b) = (robust(&s1, kind, mods), robust(&s2, kind, mods));
            prop_assert_eq!(a.coefficients().len(), b.coefficients().len());
            for (p, q) in a.coefficients().iter().zip(b.coefficients()) {
                prop_assert!(close(p.se, q.se, 1e-8), "{} vs {}", p.se, q.se);
                prop_assert!(close(p.df.unwrap(), q.df.unwrap(), 1e-8));
                prop_assert!(close(p.p_value, q.p_value, 1e-7));
            }
        }
        for w in [RobuWeights::Corr, RobuWeights::Hier] {
            let r1 = Robu::new().weights(w).fit(&s1);
            let r2 = Robu::new().weights(w).fit(&s2);
            if let (Ok(r1), Ok(r2)) = (r1, r2) {
                prop_assert!(close(r1.tau2(), r2.tau2(), 1e-8) || (r1.tau2() - r2.tau2()).abs() < 1e-12);
                prop_assert!(close(r1.coefficients()[0].se, r2.coefficients()[0].se, 1e-8));
            }
        }
        let a1 = Aggregate::compound_symmetry(0.5).apply(&s1).unwrap();
        let a2 = Aggregate::compound_symmetry(0.5).apply(&s2).unwrap();
        for (i, l) in a1.labels().iter().enumerate() {
            let j = a2.labels().iter().position(|m| *m == format!("z{l}")).unwrap();
            prop_assert!(close(a1.yi()[i], a2.yi()[j], 1e-10) || (a1.yi()[i] - a2.yi()[j]).abs() < 1e-14);
            prop_assert!(close(a1.vi()[i], a2.vi()[j], 1e-10));
        }
    }

    /// y -> a y, v -> a^2 v: estimates and SEs scale by a, the robust covariance by a^2, the
    /// degrees of freedom do not change; y -> y + c shifts the intercept only.
    #[test]
    fn scale_and_location_equivariance((sizes, vals, mods) in arb(), a in 0.01f64..50.0, shift in -5.0f64..5.0) {
        let (y, v, x, c) = data(&sizes, &vals);
        let s1 = studies(&y, &v, &x, &c);
        let ys: Vec<f64> = y.iter().map(|t| a * t).collect();
        let vs: Vec<f64> = v.iter().map(|t| a * a * t).collect();
        let s2 = studies(&ys, &vs, &x, &c);
        let yl: Vec<f64> = y.iter().map(|t| t + shift).collect();
        let s3 = studies(&yl, &v, &x, &c);
        for kind in [RobustKind::CR2, RobustKind::CR1] {
            let (f1, f2, f3) = (robust(&s1, kind, mods), robust(&s2, kind, mods), robust(&s3, kind, mods));
            for ((p, q), r) in f1.coefficients().iter().zip(f2.coefficients()).zip(f3.coefficients()) {
                prop_assert!(close(a * p.se, q.se, 1e-7), "{} {}", a * p.se, q.se);
                prop_assert!(close(p.df.unwrap(), q.df.unwrap(), 1e-7));
                prop_assert!(close(p.se, r.se, 1e-7));
                prop_assert!(close(p.df.unwrap(), r.df.unwrap(), 1e-7));
            }
            let i0 = &f1.coefficients()[0];
            let i3 = &f3.coefficients()[0];
            prop_assert!((i3.estimate - i0.estimate - shift).abs() < 1e-8 * (1.0 + shift.abs()));
            for (r1, r2) in f1.vcov().iter().zip(f2.vcov()) {
                for (u, w) in r1.iter().zip(r2) {
                    prop_assert!(close(a * a * u, *w, 1e-7) || (a * a * u - w).abs() < 1e-12 * a * a);
                }
            }
        }
    }

    /// Degrees of freedom in (0, m], p-values in (0, 1], CIs around the estimate; robu's
    /// variance components are >= 0.
    #[test]
    fn df_positive_and_ci_contains_estimate((sizes, vals, mods) in arb(), rho in 0.0f64..=1.0) {
        let (y, v, x, c) = data(&sizes, &vals);
        let s = studies(&y, &v, &x, &c);
        let m = sizes.len() as f64;
        for kind in [RobustKind::CR2, RobustKind::CR1] {
            let f = robust(&s, kind, mods);
            for co in f.coefficients() {
                let df = co.df.unwrap();
                prop_assert!(df > 0.0 && df <= m + 1e-9, "df {}", df);
                prop_assert!(co.p_value > 0.0 && co.p_value <= 1.0);
                prop_assert!(co.ci_lower < co.estimate && co.estimate < co.ci_upper);
            }
        }
        for w in [RobuWeights::Corr, RobuWeights::Hier] {
            let spec = Robu::new().weights(w).rho(rho);
            let spec = if mods { spec.moderator("x") } else { spec };
            if let Ok(r) = spec.fit(&s) {
                prop_assert!(r.tau2() >= 0.0);
                prop_assert!(r.omega2().unwrap_or(0.0) >= 0.0);
                for co in r.coefficients() {
                    prop_assert!(co.df.unwrap() > 0.0);
                    prop_assert!(co.ci_lower < co.estimate && co.estimate < co.ci_upper);
                }
            }
        }
    }
}

// ---- bad input: typed errors naming the row / cluster / option ------------------------

fn small() -> Studies {
    Studies::from_variances(
        vec![0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.2],
        vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05],
    )
    .unwrap()
    .with_moderator("x", vec![1., 2., 1., 3., 2., 3., 1.])
    .unwrap()
}

#[test]
fn missing_cluster_value_names_the_row() {
    let e = small()
        .with_clusters(["a", "a", "b", "", "c", "c", "d"])
        .unwrap_err();
    assert!(
        matches!(&e, MetaError::InvalidValue { study, field, .. } if study.index == 3 && field == "cluster"),
        "{e:?}"
    );
}

#[test]
fn robust_without_clusters_is_an_error() {
    let s = small();
    let fit = MetaAnalysis::new().fit(&s).unwrap();
    let e = fit.robust(&s, RobustKind::CR2).unwrap_err();
    assert!(matches!(&e, MetaError::InvalidOption { option, .. } if option == "cluster"));
    let e = Robu::new().fit(&s).unwrap_err();
    assert!(matches!(&e, MetaError::InvalidOption { option, .. } if option == "cluster"));
    let e = Aggregate::compound_symmetry(0.5).apply(&s).unwrap_err();
    assert!(matches!(&e, MetaError::InvalidOption { option, .. } if option == "cluster"));
}

#[test]
fn too_few_clusters_for_cr2_names_the_need() {
    let s = small()
        .with_clusters(["a", "a", "a", "b", "b", "b", "b"])
        .unwrap();
    let fit = MetaRegression::new().moderator("x").fit(&s).unwrap();
    assert_eq!(
        fit.robust(&s, RobustKind::CR2).unwrap_err(),
        MetaError::TooFewClusters {
            analysis: "cluster-robust inference (CR2) with 2 coefficients".into(),
            needed: 3,
            found: 2
        }
    );
    assert!(matches!(
        Robu::new().moderator("x").fit(&s).unwrap_err(),
        MetaError::TooFewClusters {
            needed: 3,
            found: 2,
            ..
        }
    ));
}

#[test]
fn rho_out_of_range() {
    let s = small()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap();
    for rho in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            Robu::new().rho(rho).fit(&s).unwrap_err(),
            MetaError::InvalidOption { ref option, .. } if option == "rho"
        ));
    }
    for rho in [-1.5, 1.01, f64::NAN] {
        assert!(matches!(
            Aggregate::compound_symmetry(rho).apply(&s).unwrap_err(),
            MetaError::InvalidOption { ref option, .. } if option == "rho"
        ));
    }
}

/// A negative rho below -1/(n - 1) makes a cluster's compound-symmetric block indefinite
/// (metafor: "Cannot aggregate estimates with a non-positive-definite 'V' matrix").
#[test]
fn aggregate_non_pd_block_names_the_cluster() {
    let s = small()
        .with_clusters(["a", "a", "b", "b", "b", "c", "d"])
        .unwrap();
    let e = Aggregate::compound_symmetry(-0.6).apply(&s).unwrap_err();
    assert!(
        matches!(&e, MetaError::InvalidCluster { cluster, .. } if cluster == "b"),
        "{e:?}"
    );
    // -0.6 is fine for clusters of two
    let s2 = small()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap();
    assert!(Aggregate::compound_symmetry(-0.6).apply(&s2).is_ok());
}

/// A cluster of one effect: rho plays no part (metafor's aggregate keeps the effect,
/// robumeta's CORR weights are 1/v for it); not an error.
#[test]
fn singleton_clusters_with_rho() {
    let s = small()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap();
    let a = Aggregate::compound_symmetry(0.9).apply(&s).unwrap();
    let d = a.labels().iter().position(|l| l == "d").unwrap();
    assert_eq!((a.yi()[d], a.vi()[d]), (0.2, 0.05));
    assert!(Robu::new().rho(0.9).fit(&s).is_ok());
}

/// Hierarchical weights with every cluster of one effect: omega^2 and tau^2 are not
/// identifiable (robumeta stops with a singular system).
#[test]
fn hier_with_only_singletons() {
    let s = small()
        .with_clusters(["a", "b", "c", "d", "e", "f", "g"])
        .unwrap();
    assert!(matches!(
        Robu::new().weights(RobuWeights::Hier).fit(&s).unwrap_err(),
        MetaError::InvalidOption { ref option, .. } if option == "weights"
    ));
    // correlated effects are fine (every cluster gets 1/v)
    assert!(Robu::new().fit(&s).is_ok());
}

/// A moderator constant within every cluster (a cluster-level covariate) is no error: CR2
/// handles a singular I - H_jj by the generalized inverse, as clubSandwich and robumeta.
#[test]
fn cluster_level_moderator_is_fine() {
    let s = small()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap()
        .with_moderator("level", vec![1., 1., 2., 2., 0., 0., 5.])
        .unwrap();
    let fit = MetaRegression::new().moderator("level").fit(&s).unwrap();
    let r = fit.robust(&s, RobustKind::CR2).unwrap();
    assert!(
        r.coefficients()
            .iter()
            .all(|c| c.df.unwrap() > 0.0 && c.se > 0.0)
    );
    let h = Robu::new()
        .weights(RobuWeights::Hier)
        .moderator("level")
        .fit(&s)
        .unwrap();
    assert!(h.coefficients().iter().all(|c| c.se.is_finite()));
}

#[test]
fn robust_with_other_studies_is_an_error() {
    let s = small()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap();
    let fit = MetaAnalysis::new().fit(&s).unwrap();
    let other = Studies::from_variances(vec![1.0; 7], vec![0.1; 7])
        .unwrap()
        .with_clusters(["a", "a", "b", "b", "c", "c", "d"])
        .unwrap();
    assert!(matches!(
        fit.robust(&other, RobustKind::CR2).unwrap_err(),
        MetaError::InvalidOption { ref option, .. } if option == "studies"
    ));
    let w = MetaAnalysis::new()
        .weights(vec![1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 1.0])
        .fit(&s)
        .unwrap();
    assert!(matches!(
        w.robust(&s, RobustKind::CR1).unwrap_err(),
        MetaError::InvalidOption { ref option, .. } if option == "studies"
    ));
}

/// Given covariance blocks equal to the compound-symmetric ones give the same aggregate;
/// a block of the wrong shape or an asymmetric one is an error naming it.
#[test]
fn aggregate_with_given_covariance() {
    let s = small()
        .with_clusters(["b", "a", "b", "a", "c", "c", "b"])
        .unwrap();
    let c = s.clusters().unwrap();
    let v = s.vi();
    let rho = 0.4;
    let blocks: Vec<Vec<Vec<f64>>> = (0..c.len())
        .map(|j| {
            let r = c.members(j);
            r.iter()
                .map(|&a| {
                    r.iter()
                        .map(|&b| {
                            if a == b {
                                v[a]
                            } else {
                                rho * (v[a] * v[b]).sqrt()
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let given = Aggregate::covariance(blocks.clone()).apply(&s).unwrap();
    let cs = Aggregate::compound_symmetry(rho).apply(&s).unwrap();
    assert_eq!(given.labels(), cs.labels());
    assert_eq!(given.labels(), ["b", "a", "c"]); // order of first appearance
    for (x, y) in given.yi().iter().zip(cs.yi()) {
        assert!((x - y).abs() < 1e-15);
    }
    for (x, y) in given.vi().iter().zip(cs.vi()) {
        assert!((x - y).abs() < 1e-15);
    }
    let mut bad = blocks.clone();
    bad[1][0][1] += 0.001;
    assert!(matches!(
        Aggregate::covariance(bad).apply(&s).unwrap_err(),
        MetaError::InvalidCluster { ref cluster, .. } if cluster == "b"
    ));
    assert!(matches!(
        Aggregate::covariance(blocks[..2].to_vec()).apply(&s).unwrap_err(),
        MetaError::InvalidOption { ref option, .. } if option == "covariance"
    ));
}
