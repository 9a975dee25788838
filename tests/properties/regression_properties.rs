//! Invariants of meta-regression, subgroup analysis and permutation tests (proptest), and
//! the typed errors of bad input.

use metan::{
    MetaAnalysis, MetaError, MetaRegression, Method, PermutationTest, Studies, TestKind, anova,
    subgroup_analysis,
};
use proptest::prelude::*;

const METHODS: [Method; 11] = [
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
];

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

/// k in 8..30 studies with a numeric moderator and a 3-level factor (every level present).
fn data() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>)> {
    (8usize..30).prop_flat_map(|k| {
        (
            proptest::collection::vec(-3.0f64..3.0, k),
            proptest::collection::vec(0.001f64..2.0, k),
            proptest::collection::vec(-10.0f64..10.0, k),
            proptest::collection::vec(0usize..3, k - 3),
        )
            .prop_map(|(y, v, x, mut g)| {
                g.extend([0, 1, 2]);
                (y, v, x, g)
            })
    })
}

fn studies(y: &[f64], v: &[f64], x: &[f64], g: &[usize]) -> Studies {
    Studies::from_variances(y.to_vec(), v.to_vec())
        .unwrap()
        .with_moderator("x", x.to_vec())
        .unwrap()
        .with_attribute("g", g.iter().map(|i| ["a", "b", "c"][*i]))
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Reordering the studies changes nothing.
    #[test]
    fn study_order_invariance((y, v, x, g) in data(), rot in 0usize..30) {
        let k = y.len();
        let r = rot % k;
        let idx: Vec<usize> = (0..k).map(|i| (i + r) % k).rev().collect();
        let pick = |a: &[f64]| idx.iter().map(|&i| a[i]).collect::<Vec<_>>();
        let gi: Vec<usize> = idx.iter().map(|&i| g[i]).collect();
        let s1 = studies(&y, &v, &x, &g);
        let s2 = studies(&pick(&y), &pick(&v), &pick(&x), &gi);
        for m in METHODS {
            let spec = MetaRegression::new().method(m).moderators(["x", "g"]);
            let a = spec.fit(&s1).unwrap();
            let b = spec.fit(&s2).unwrap();
            prop_assert!(close(a.tau2(), b.tau2(), 1e-8, 1e-12), "{m}: tau2 {} vs {}", a.tau2(), b.tau2());
            for (ca, cb) in a.coefficients().iter().zip(b.coefficients()) {
                prop_assert!(close(ca.estimate, cb.estimate, 1e-8, 1e-10), "{m} {}", ca.name);
                prop_assert!(close(ca.se, cb.se, 1e-8, 1e-12));
            }
            prop_assert!(close(a.heterogeneity().q(), b.heterogeneity().q(), 1e-9, 1e-12));
            prop_assert!(close(a.qm(), b.qm(), 1e-7, 1e-10), "{m}: QM {} vs {}", a.qm(), b.qm());
        }
    }

    /// Without moderators, the regression is the intercept-only model of `MetaAnalysis`.
    #[test]
    fn intercept_only_regression_is_meta_analysis((y, v, x, g) in data()) {
        let s = studies(&y, &v, &x, &g);
        for m in METHODS {
            for t in [TestKind::Z, TestKind::Knha] {
                let r = MetaRegression::new().method(m).test(t).fit(&s).unwrap();
                let a = MetaAnalysis::new().method(m).test(t).fit(&s).unwrap();
                let c = &r.coefficients()[0];
                prop_assert!(r.intercept_only());
                prop_assert_eq!(r.tau2(), a.tau2());
                prop_assert!(close(c.estimate, a.estimate(), 1e-12, 1e-14), "{m} {t}");
                prop_assert!(close(c.se, a.se(), 1e-12, 0.0));
                prop_assert!(close(c.ci_lower, a.ci().0, 1e-12, 1e-14));
                prop_assert!(close(r.heterogeneity().q(), a.heterogeneity().q(), 1e-13, 0.0));
                prop_assert!(close(r.heterogeneity().i2(), a.heterogeneity().i2(), 1e-12, 1e-12));
                prop_assert!(close(r.fit_stats().ll_reml, a.fit_stats().ll_reml, 1e-12, 1e-12));
                prop_assert!(close(r.qm(), c.statistic * c.statistic, 1e-12, 0.0));
            }
        }
    }

    /// A factor with or without intercept is the same model: same tau^2, QE and fitted
    /// values; the no-intercept estimates are the intercept plus the dummies; the hat
    /// values sum to p.
    #[test]
    fn factor_parametrisations_agree((y, v, x, g) in data()) {
        let s = studies(&y, &v, &x, &g);
        for m in METHODS {
            let with = MetaRegression::new().method(m).moderator("g").fit(&s).unwrap();
            let without = MetaRegression::new().method(m).moderator("g").intercept(false).fit(&s).unwrap();
            prop_assert!(close(with.tau2(), without.tau2(), 1e-8, 1e-12), "{m}");
            prop_assert!(close(with.heterogeneity().q(), without.heterogeneity().q(), 1e-9, 1e-12));
            for (a, b) in with.fitted().iter().zip(without.fitted()) {
                prop_assert!(close(*a, *b, 1e-8, 1e-10));
            }
            let bw = with.beta();
            let bo = without.beta();
            prop_assert!(close(bo[0], bw[0], 1e-8, 1e-10));
            prop_assert!(close(bo[1], bw[0] + bw[1], 1e-8, 1e-10));
            prop_assert!(close(bo[2], bw[0] + bw[2], 1e-8, 1e-10));
            let h: f64 = with.hat().iter().sum();
            prop_assert!(close(h, 3.0, 1e-10, 0.0), "sum of hat values {h}");
            prop_assert!(with.heterogeneity().r2().is_some() && without.heterogeneity().r2().is_none());
            // predictions at a study's own moderator values are its fitted values
            let p = with.predict(&with.x_row(0)[1..]).unwrap();
            prop_assert!(close(p.pred, with.fitted()[0], 1e-12, 1e-13));
        }
    }

    /// Subgroup estimates are the intercept-only fits of the subsets, and the common-tau^2
    /// estimates are the factor model without intercept.
    #[test]
    fn subgroups_are_subset_fits((y, v, x, g) in data()) {
        let s = studies(&y, &v, &x, &g);
        let ma = MetaAnalysis::new().method(Method::DL);
        let sg = subgroup_analysis(&s, "g", &ma).unwrap();
        prop_assert_eq!(sg.groups().len(), 3);
        for (j, grp) in sg.groups().iter().enumerate() {
            let sub = s.filter(|i| g[i] == j).unwrap();
            let f = ma.fit(&sub).unwrap();
            prop_assert_eq!(grp.fit().estimate(), f.estimate());
        }
        prop_assert!(sg.separate().q >= 0.0 && sg.separate().df == 2.0);
        let fac = MetaRegression::new().method(Method::DL).moderator("g").intercept(false).fit(&s).unwrap();
        let common = sg.common().unwrap();
        for (a, b) in common.estimates().iter().zip(fac.coefficients()) {
            prop_assert_eq!(a.estimate, b.estimate);
        }
    }
}

fn bcg() -> Studies {
    Studies::from_variances(
        vec![
            -0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120, -0.4694,
            -1.3713, -0.3394, 0.4459, -0.0173,
        ],
        vec![
            0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124,
            0.5325, 0.0714,
        ],
    )
    .unwrap()
    .with_moderator(
        "ablat",
        vec![
            44., 55., 42., 52., 13., 44., 19., 13., 27., 42., 18., 33., 33.,
        ],
    )
    .unwrap()
    .with_attribute(
        "alloc",
        [
            "random",
            "random",
            "random",
            "random",
            "alternate",
            "alternate",
            "random",
            "random",
            "systematic",
            "systematic",
            "systematic",
            "systematic",
            "random",
        ],
    )
    .unwrap()
}

#[test]
fn permutation_test_is_reproducible_and_thread_count_free() {
    let s = bcg();
    let spec = MetaRegression::new().moderator("ablat");
    let pt = PermutationTest::new().iter(500).seed(42);
    let a = pt.run(&spec, &s).unwrap();
    let b = pt.run(&spec, &s).unwrap();
    assert_eq!(a, b);
    assert!(!a.exact());
    assert_eq!(a.permutations(), 500);
    #[cfg(feature = "parallel")]
    {
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| pt.run(&spec, &s).unwrap());
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| pt.run(&spec, &s).unwrap());
        assert_eq!(one, a);
        assert_eq!(three, a);
    }
    let c = pt.clone().seed(43).run(&spec, &s).unwrap();
    assert_ne!(c.p_values(), a.p_values());
    // the observed data are one of the permutations: p >= 1/iter
    assert!(a.p_values().iter().all(|&p| p >= 1.0 / 500.0));
}

#[test]
fn exact_sign_flip_test_of_intercept_only_model() {
    let s = bcg().subset(&[0, 1, 2, 3, 4, 5]).unwrap();
    let r = PermutationTest::new()
        .iter(100)
        .run_analysis(&MetaAnalysis::new(), &s)
        .unwrap();
    assert!(r.exact());
    assert_eq!(r.permutations(), 64);
    // flipping every sign gives the mirror image: p is a multiple of 2/64
    let p = r.p_values()[0];
    assert!(((p * 64.0) / 2.0).fract() == 0.0, "{p}");
}

#[test]
fn typed_errors() {
    let s = bcg()
        .with_moderator(
            "ablat2",
            vec![
                88., 110., 84., 104., 26., 88., 38., 26., 54., 84., 36., 66., 66.,
            ],
        )
        .unwrap();
    assert_eq!(
        MetaRegression::new()
            .moderators(["ablat", "ablat2"])
            .fit(&s)
            .unwrap_err(),
        MetaError::RankDeficient {
            columns: vec!["ablat2".into()]
        }
    );
    let small = s.subset(&[0, 1]).unwrap();
    assert!(matches!(
        MetaRegression::new().moderator("ablat").fit(&small),
        Err(MetaError::TooFewStudies {
            needed: 3,
            found: 2,
            ..
        })
    ));
    assert!(matches!(
        MetaRegression::new().moderator("latitude").fit(&s),
        Err(MetaError::UnknownName { ref name, ref kind, .. }) if name == "latitude" && kind == "moderator"
    ));
    assert!(matches!(
        MetaRegression::new().moderator("alloc").reference("alloc", "blinded").fit(&s),
        Err(MetaError::UnknownName { ref name, .. }) if name == "blinded"
    ));
    assert!(matches!(
        MetaRegression::new().moderator("ablat").btt([3]).fit(&s),
        Err(MetaError::InvalidOption { ref option, .. }) if option == "btt"
    ));
    assert!(matches!(
        MetaRegression::new()
            .moderator("ablat")
            .method(Method::GENQ)
            .fit(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    let mut alloc: Vec<String> = s.attribute("alloc").unwrap().to_vec();
    alloc[4] = "NA".into();
    let na = s.clone().with_attribute("alloc", alloc).unwrap();
    match MetaRegression::new().moderator("alloc").fit(&na) {
        Err(MetaError::InvalidValue { study, field, .. }) => {
            assert_eq!(study.index, 4);
            assert_eq!(field, "alloc");
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    let fit = MetaRegression::new().moderator("ablat").fit(&s).unwrap();
    assert!(matches!(
        fit.predict(&[1.0, 2.0]),
        Err(MetaError::LengthMismatch {
            expected: 1,
            found: 2,
            ..
        })
    ));
    // anova: same number of parameters, and different data
    let other = MetaRegression::new().moderator("ablat2").fit(&s).unwrap();
    assert!(matches!(
        anova(&fit, &other),
        Err(MetaError::InvalidOption { .. })
    ));
    let reduced = MetaRegression::new()
        .fit(&s.subset(&(0..12).collect::<Vec<_>>()).unwrap())
        .unwrap();
    assert!(matches!(
        anova(&fit, &reduced),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        PermutationTest::new().iter(1).run(&MetaRegression::new(), &s),
        Err(MetaError::InvalidOption { ref option, .. }) if option == "iter"
    ));
}

#[test]
fn json_has_the_documented_fields() {
    let fit = MetaRegression::new()
        .moderator("alloc")
        .fit(&bcg())
        .unwrap();
    let v = serde_json::to_value(&fit).unwrap();
    for key in [
        "coefficients",
        "qm",
        "qm_df",
        "qm_p_value",
        "r2",
        "q",
        "q_df",
        "q_p_value",
        "tau2",
        "i2",
        "h2",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let c = &v["coefficients"][1];
    for key in [
        "name",
        "estimate",
        "se",
        "statistic",
        "df",
        "p_value",
        "ci_lower",
        "ci_upper",
    ] {
        assert!(c.get(key).is_some(), "coefficient missing {key}");
    }
    assert_eq!(c["name"], "allocrandom");
}
