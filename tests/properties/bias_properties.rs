//! Invariants of the publication-bias methods (proptest) and their typed errors.

use metan::bias::{
    Estimator, FailSafeN, PetPeese, PetPeeseChoice, Predictor, RankTest, RegModel, RegTest, Side,
    TrimFill, kendall_cdf,
};
use metan::{MetaAnalysis, MetaError, Method, Studies, TestKind};
use proptest::prelude::*;

fn data(k: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (
        prop::collection::vec(-2.0f64..2.0, k),
        prop::collection::vec(0.005f64..0.5, k),
    )
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300) || (a - b).abs() < 1e-13
}

fn negated(s: &Studies) -> Studies {
    Studies::from_variances(
        s.yi().iter().map(|y| -y).collect::<Vec<_>>(),
        s.vi().to_vec(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Kendall's null distribution is symmetric: P(T <= m) + P(T <= N - m - 1) = 1.
    #[test]
    fn kendall_cdf_is_symmetric(n in 2usize..60, frac in 0.0f64..1.0) {
        let total = n * (n - 1) / 2;
        let m = ((total as f64) * frac) as usize;
        let m = m.min(total.saturating_sub(1));
        let a = kendall_cdf(m, n);
        let b = kendall_cdf(total - m - 1, n);
        prop_assert!((a + b - 1.0).abs() < 1e-12, "n={} m={}: {} + {}", n, m, a, b);
        // non-decreasing (up to rounding)
        prop_assert!(kendall_cdf(m, n) <= kendall_cdf(m + 1, n) + 1e-14);
    }

    /// Negating the estimates negates tau and keeps the p-value.
    #[test]
    fn rank_test_is_antisymmetric((y, v) in (5usize..40).prop_flat_map(data)) {
        let s = Studies::from_variances(y, v).unwrap();
        let a = RankTest::new().run(&s).unwrap();
        let b = RankTest::new().run(&negated(&s)).unwrap();
        prop_assert!(close(a.tau(), -b.tau(), 1e-12));
        prop_assert!(close(a.p_value(), b.p_value(), 1e-9));
        prop_assert!(a.p_value() > 0.0 && a.p_value() <= 1.0);
    }

    /// The regression test: negating the estimates negates the statistic; shifting them
    /// moves only the limit estimate, by the shift.
    #[test]
    fn regression_test_equivariance(
        (y, v) in (4usize..30).prop_flat_map(data),
        shift in -3.0f64..3.0,
        model in prop_oneof![Just(RegModel::Rma), Just(RegModel::Lm)],
        method in prop_oneof![Just(Method::DL), Just(Method::EE), Just(Method::REML)],
    ) {
        let s = Studies::from_variances(y.clone(), v.clone()).unwrap();
        let spec = MetaAnalysis::new().method(method);
        let t = RegTest::new().model(model);
        let a = t.run(&spec, &s).unwrap();
        let b = t.run(&spec, &negated(&s)).unwrap();
        prop_assert!(close(a.statistic(), -b.statistic(), 1e-8));
        let sh = Studies::from_variances(y.iter().map(|x| x + shift).collect::<Vec<_>>(), v).unwrap();
        let c = t.run(&spec, &sh).unwrap();
        prop_assert!(close(a.statistic(), c.statistic(), 1e-7), "{} vs {}", a.statistic(), c.statistic());
        prop_assert!((a.limit_estimate().unwrap() + shift - c.limit_estimate().unwrap()).abs() < 1e-7);
        prop_assert!(a.p_value().is_finite());
    }

    /// Trim-and-fill mirrors: negating the estimates swaps the side and negates the filled
    /// studies; the filled studies are reflections of observed ones about one centre.
    #[test]
    fn trim_and_fill_mirrors(
        (y, v) in (5usize..40).prop_flat_map(data),
        est in prop_oneof![Just(Estimator::L0), Just(Estimator::R0)],
        method in prop_oneof![Just(Method::DL), Just(Method::EE)],
    ) {
        let s = Studies::from_variances(y, v).unwrap();
        let spec = MetaAnalysis::new().method(method);
        let tf = TrimFill::new().estimator(est);
        let (Ok(a), Ok(b)) = (tf.run(&spec, &s), tf.run(&spec, &negated(&s))) else {
            return Ok(());
        };
        prop_assert_eq!(a.k0(), b.k0());
        prop_assert_ne!(a.side(), b.side());
        for (fa, fb) in a.filled().iter().zip(b.filled()) {
            prop_assert!(close(fa.yi, -fb.yi, 1e-9));
            prop_assert_eq!(fa.vi, fb.vi);
        }
        prop_assert_eq!(a.fit().k(), s.k() + a.k0());
        // each filled study is 2 theta - y_i of an observed study with the same variance
        if let Some(f0) = a.filled().first() {
            let i = s.vi().iter().position(|&vv| vv == f0.vi).unwrap();
            let theta = (f0.yi + s.yi()[i]) / 2.0;
            for f in a.filled() {
                let j = s.vi().iter().position(|&vv| vv == f.vi).unwrap();
                prop_assert!(close((f.yi + s.yi()[j]) / 2.0, theta, 1e-9));
            }
            // filling on the left lowers the estimate, on the right raises it
            let plain = spec.fit(&s).unwrap().estimate();
            match a.side() {
                Side::Left => prop_assert!(f0.yi <= plain + 1e-12 || a.fit().estimate() <= plain + 1e-9),
                Side::Right => prop_assert!(f0.yi >= plain - 1e-12 || a.fit().estimate() >= plain - 1e-9),
            }
        }
    }

    /// Fail-safe numbers: non-negative integers; Orwin's default is k.
    #[test]
    fn fail_safe_numbers((y, v) in (1usize..40).prop_flat_map(data)) {
        let s = Studies::from_variances(y, v).unwrap();
        let f = FailSafeN::new().run(&s).unwrap();
        for n in [f.rosenthal().fsn, f.rosenberg().fsn] {
            prop_assert!(n >= 0.0 && n.fract() == 0.0);
        }
        if f.orwin().mean != 0.0 {
            prop_assert_eq!(f.orwin().fsn, s.k() as f64);
        }
        prop_assert!(f.rosenthal().p_value > 0.0 && f.rosenthal().p_value <= 0.5);
    }

    /// PET-PEESE picks PEESE exactly when PET's intercept has p < alpha.
    #[test]
    fn pet_peese_rule((y, v) in (3usize..40).prop_flat_map(data), alpha in 0.01f64..0.5) {
        let s = Studies::from_variances(y, v).unwrap();
        let p = PetPeese::new().alpha(alpha).run(&s).unwrap();
        let peese = p.pet().intercept().p_value < alpha;
        prop_assert_eq!(p.chosen(), if peese { PetPeeseChoice::Peese } else { PetPeeseChoice::Pet });
        prop_assert_eq!(p.estimate(), p.chosen_fit().intercept().estimate);
    }
}

fn too_few(e: MetaError, needed: usize, found: usize) {
    match e {
        MetaError::TooFewStudies {
            needed: n,
            found: f,
            ..
        } => assert_eq!((n, f), (needed, found)),
        other => panic!("expected TooFewStudies, got {other:?}"),
    }
}

#[test]
fn too_few_studies_are_typed_errors() {
    let two = Studies::from_variances(vec![0.1, 0.4], vec![0.01, 0.02]).unwrap();
    let one = Studies::from_variances(vec![0.1], vec![0.01]).unwrap();
    let spec = MetaAnalysis::new();
    too_few(RegTest::new().run(&spec, &two).unwrap_err(), 3, 2);
    too_few(
        RegTest::new()
            .model(RegModel::Lm)
            .run(&spec, &two)
            .unwrap_err(),
        3,
        2,
    );
    too_few(PetPeese::new().run(&two).unwrap_err(), 3, 2);
    too_few(TrimFill::new().run(&spec, &two).unwrap_err(), 3, 2);
    too_few(
        TrimFill::new()
            .side(Side::Left)
            .run(&spec, &one)
            .unwrap_err(),
        2,
        1,
    );
    too_few(RankTest::new().run(&one).unwrap_err(), 2, 1);
    // with a given side, two studies suffice (as in metafor)
    assert!(TrimFill::new().side(Side::Left).run(&spec, &two).is_ok());
    // one study still has fail-safe numbers
    let f = FailSafeN::new().run(&one).unwrap();
    assert_eq!(f.orwin().fsn, 1.0);
}

#[test]
fn degenerate_data_are_typed_errors_never_nan() {
    let spec = MetaAnalysis::new();
    // equal variances: the predictor is constant, Kendall's tau undefined
    let eq = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.2], vec![0.04; 4]).unwrap();
    assert!(matches!(
        RegTest::new().run(&spec, &eq),
        Err(MetaError::RankDeficient { ref columns }) if columns == &["sei".to_string()]
    ));
    assert!(matches!(
        PetPeese::new().run(&eq),
        Err(MetaError::RankDeficient { .. })
    ));
    assert!(matches!(
        RankTest::new().run(&eq),
        Err(MetaError::TooFewStudies { ref analysis, .. }) if analysis.contains("sampling variances")
    ));
    // a sample-size predictor without, or with bad, sample sizes
    let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.01, 0.04, 0.02]).unwrap();
    assert!(matches!(
        RegTest::new().predictor(Predictor::Ni).run(&spec, &s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        RegTest::new()
            .predictor(Predictor::SqrtNInv)
            .sample_sizes(vec![10.0, 0.0, 30.0])
            .run(&spec, &s),
        Err(MetaError::InvalidValue { ref field, .. }) if field == "ni"
    ));
    assert!(matches!(
        RegTest::new()
            .predictor(Predictor::Ni)
            .sample_sizes(vec![10.0, 20.0])
            .run(&spec, &s),
        Err(MetaError::LengthMismatch { .. })
    ));
    // a perfect weighted regression (the estimates lie on a line in sei): the residual
    // variance is rounding noise; the result is a finite statistic or a typed error
    let sei = [0.1, 0.2, 0.3, 0.4];
    let line = Studies::from_standard_errors(
        sei.iter().map(|x| 0.25 + 1.5 * x).collect::<Vec<_>>(),
        sei.to_vec(),
    )
    .unwrap();
    match RegTest::new().model(RegModel::Lm).run(&spec, &line) {
        Ok(f) => assert!(f.statistic().is_finite() && f.p_value().is_finite()),
        Err(e) => assert!(matches!(e, MetaError::Numerical { .. }), "{e:?}"),
    }
    // bad options
    assert!(matches!(
        FailSafeN::new().alpha(1.5).run(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        PetPeese::new().alpha(0.0).run(&s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        TrimFill::new().max_iter(0).run(&spec, &s),
        Err(MetaError::InvalidOption { .. })
    ));
    assert!(matches!(
        RegTest::new().run(&MetaAnalysis::new().weights(vec![1.0, 2.0, 3.0]), &s),
        Err(MetaError::InvalidOption { .. })
    ));
}

#[test]
fn rank_test_beyond_r_limits_is_finite() {
    // k = 400 without ties: R's exact Kendall p-value is NaN for k > 170; metan's is exact
    let k = 400;
    let y: Vec<f64> = (0..k).map(|i| ((i * 37 % 101) as f64) / 50.0).collect();
    let v: Vec<f64> = (0..k).map(|i| 0.01 + i as f64 * 1e-3).collect();
    let s = Studies::from_variances(y, v).unwrap();
    let exact = RankTest::new().run(&s).unwrap();
    let normal = RankTest::new().exact(false).run(&s).unwrap();
    assert!(exact.exact() && exact.p_value().is_finite());
    // at k = 400 the normal approximation is within a few percent of the exact value
    assert!(
        (exact.p_value() - normal.p_value()).abs() < 0.05 * exact.p_value().max(0.01),
        "{} vs {}",
        exact.p_value(),
        normal.p_value()
    );
}

#[test]
fn knapp_hartung_regression_test_uses_t() {
    let s = Studies::from_variances(
        vec![0.9, 0.5, 0.62, 0.2, 0.35, 0.1, 0.15],
        vec![0.20, 0.11, 0.15, 0.02, 0.05, 0.01, 0.012],
    )
    .unwrap();
    let t = RegTest::new()
        .run(
            &MetaAnalysis::new().method(Method::DL).test(TestKind::Knha),
            &s,
        )
        .unwrap();
    assert_eq!(t.df(), Some(5.0));
    assert_eq!(t.test(), Some(TestKind::Knha));
    let z = RegTest::new().run(&MetaAnalysis::new(), &s).unwrap();
    assert_eq!(z.df(), None);
}
