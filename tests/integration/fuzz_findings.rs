//! Inputs found by the 10^6-case fuzz runs (tests/properties/fuzz.rs), kept as regression tests.

use metan::{MetaAnalysis, MetaError, MetaRegression, Method, Studies};

/// A subnormal Q reached statrs' gamma_ur with a zero argument, which panicked.
#[test]
fn subnormal_q_does_not_panic() {
    let s = Studies::from_variances(
        vec![1e-55, 7.831402530549393e-54],
        vec![1.0, 1.0000000000000006e217],
    )
    .unwrap();
    for m in Method::ALL {
        let mut ma = MetaAnalysis::new().method(m);
        if m == Method::GENQ {
            ma = ma.weights(vec![1.0, 1.0]);
        }
        if let Ok(f) = ma.fit(&s) {
            assert!(
                (0.0..=1.0).contains(&f.heterogeneity().q_p_value()),
                "{m}: {}",
                f.heterogeneity().q_p_value()
            );
        }
    }
}

/// A degenerate design cancelled tr(P) and reported I^2 = inf as valid; now it is a typed error.
#[test]
fn degenerate_design_is_a_typed_error_not_an_infinite_i2() {
    let s = Studies::from_variances(vec![1e-19, 1e-19], vec![1.0, 1e-17])
        .unwrap()
        .with_moderator("x", vec![1e-27, 1.0])
        .unwrap();
    let r = MetaRegression::new()
        .method(Method::DL)
        .moderator("x")
        .intercept(false)
        .fit(&s);
    match r {
        Ok(f) => assert!(
            f.heterogeneity().i2().is_finite() && (0.0..=100.0).contains(&f.heterogeneity().i2()),
            "I2 = {}",
            f.heterogeneity().i2()
        ),
        Err(e) => assert!(matches!(e, MetaError::Numerical { .. }), "{e}"),
    }
}
