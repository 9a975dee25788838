//! Convergence is data: forced non-convergence, the fallback chain, and no panics on
//! hostile input.

use metan::{MetaAnalysis, MetaError, Method, StopReason, Studies, TestKind};
use proptest::prelude::*;

fn bcg_like() -> Studies {
    Studies::from_variances(
        vec![
            -0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371, -0.339,
            0.446, -0.017,
        ],
        vec![
            0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.533,
            0.071,
        ],
    )
    .unwrap()
}

#[test]
fn one_iteration_is_reported_as_not_converged() {
    let fit = MetaAnalysis::new()
        .method(Method::REML)
        .max_iter(1)
        .fit(&bcg_like())
        .unwrap();
    assert!(!fit.converged());
    assert_eq!(fit.iterations(), 1);
    assert_eq!(fit.convergence().reason, StopReason::MaxIterations);
    assert_eq!(fit.method(), Method::REML);
    assert!(
        fit.warnings()
            .iter()
            .any(|w| w.contains("did not converge"))
    );
}

#[test]
fn fallback_chain_moves_to_the_next_estimator() {
    let fit = MetaAnalysis::new()
        .methods([Method::REML, Method::ML, Method::DL])
        .max_iter(1)
        .fit(&bcg_like())
        .unwrap();
    assert!(fit.converged());
    assert_eq!(fit.method(), Method::DL);
    let a = &fit.convergence().attempts;
    assert_eq!(a.len(), 3);
    assert_eq!((a[0].method, a[0].converged), (Method::REML, false));
    assert_eq!((a[1].method, a[1].converged), (Method::ML, false));
    assert_eq!(
        (a[2].method, a[2].converged, a[2].reason),
        (Method::DL, true, StopReason::ClosedForm)
    );
    // and the DL fit is the plain DL fit
    let dl = MetaAnalysis::new()
        .method(Method::DL)
        .fit(&bcg_like())
        .unwrap();
    assert_eq!(fit.tau2(), dl.tau2());
    assert_eq!(fit.estimate(), dl.estimate());
}

#[test]
fn chain_of_only_failures_returns_the_last_iterate_marked() {
    let fit = MetaAnalysis::new()
        .methods([Method::REML, Method::EB])
        .max_iter(1)
        .fit(&bcg_like())
        .unwrap();
    assert!(!fit.converged());
    assert_eq!(fit.convergence().attempts.len(), 2);
}

#[test]
fn invalid_options_are_typed_errors() {
    let s = bcg_like();
    assert!(matches!(
        MetaAnalysis::new().level(0.0).fit(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        MetaAnalysis::new().methods([]).fit(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        MetaAnalysis::new().max_iter(0).fit(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        MetaAnalysis::new().method(Method::GENQ).fit(&s),
        Err(MetaError::InvalidOption { ref option, .. }) if option == "weights"
    ));
    assert!(matches!(
        MetaAnalysis::new()
            .method(Method::GENQ)
            .weights(vec![1.0; 3])
            .fit(&s),
        Err(MetaError::LengthMismatch {
            expected: 13,
            found: 3,
            ..
        })
    ));
    let mut w = vec![1.0; 13];
    w[4] = -1.0;
    assert!(matches!(
        MetaAnalysis::new().method(Method::GENQ).weights(w).fit(&s),
        Err(MetaError::InvalidValue { ref study, .. }) if study.index == 4
    ));
}

#[test]
fn single_study_behaves_as_metafor() {
    // metafor: tau^2 = 0, Q = 0 (p = 1), I^2 = 0, H^2 = 1, and t/knha switch to z
    let s = Studies::from_variances(vec![0.4], vec![0.05]).unwrap();
    for m in [Method::EE, Method::DL, Method::REML, Method::PM] {
        let f = MetaAnalysis::new()
            .method(m)
            .test(TestKind::Knha)
            .fit(&s)
            .unwrap();
        assert_eq!(f.tau2(), 0.0);
        assert_eq!(
            (
                f.heterogeneity().q(),
                f.heterogeneity().q_p_value(),
                f.heterogeneity().i2(),
                f.heterogeneity().h2()
            ),
            (0.0, 1.0, 0.0, 1.0)
        );
        assert_eq!(f.test(), TestKind::Z);
        assert_eq!(f.estimate(), 0.4);
        assert!(f.heterogeneity().tau2_ci().is_none());
    }
}

fn hostile() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (1usize..12).prop_flat_map(|k| {
        (
            proptest::collection::vec(
                prop_oneof![-1e150f64..1e150, -1e-150f64..1e-150, Just(0.0)],
                k,
            ),
            proptest::collection::vec(
                prop_oneof![1e-150f64..1e-100, 1e-10f64..1e10, 1e100f64..1e150],
                k,
            ),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Extreme magnitudes and variance ratios: a typed error or a fit, never a panic, and a
    /// fit that reports converged has a finite estimate and tau^2.
    #[test]
    fn never_panics_on_extreme_input((y, v) in hostile()) {
        let s = Studies::from_variances(y, v).unwrap();
        let k = s.k();
        for m in Method::ALL {
            for t in [TestKind::Z, TestKind::Knha] {
                let mut ma = MetaAnalysis::new().method(m).test(t);
                if m == Method::GENQ {
                    ma = ma.weights(vec![1.0; k]);
                }
                if let Ok(f) = ma.fit(&s) {
                    if f.converged() {
                        prop_assert!(f.tau2() >= 0.0);
                        prop_assert!(!f.tau2().is_nan());
                    }
                }
            }
        }
    }
}
