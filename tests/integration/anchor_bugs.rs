//! The anchor bugs of issue 10 (fixed one at a time in metafor, meta, PyMARE and
//! statsmodels): each test shows metan does not have it. Table: docs/reliability.md.

use metan::data::effect_size::{
    EffectSizes, MeansMeasure, TwoByTwo, TwoByTwoMeasure, TwoGroupMeans,
};
use metan::{MetaAnalysis, MetaError, Method, Studies};

/// Hedges' J through ln-gamma: no factorial overflow above n = 343. With `d = 1` the SMD
/// is `J(m)`, `m = n1 + n2 - 2`; compared with the asymptotic `1 - 3/(4m - 1)`, whose own
/// error is `O(m^-2)`.
#[test]
fn hedges_j_has_no_factorial_overflow() {
    for n in [200.0, 1e3, 1e5, 1e7] {
        let g = TwoGroupMeans::new(1.0, 1.0, n / 2.0 + 1.0, 0.0, 1.0, n / 2.0 + 1.0);
        let es = EffectSizes::means(&[g], MeansMeasure::SMD)
            .compute()
            .unwrap();
        let j = es.yi()[0].unwrap();
        let m = n;
        let asym = 1.0 - 3.0 / (4.0 * m - 1.0);
        assert!(j.is_finite() && j < 1.0, "n = {n}: J = {j}");
        // ln-gamma differences of size m ln m lose m ln m * eps absolute
        let tol = 1.0 / (m * m) + 4.0 * m * m.ln() * f64::EPSILON;
        assert!(
            (j - asym).abs() <= tol,
            "n = {n}: J = {j}, asymptotic {asym}"
        );
    }
}

/// p-values are not printed as 0 beyond |z| of about 37: the tail is exact to the
/// smallest doubles, and its log is offered once it underflows (R: `log(2) +
/// pnorm(z, lower = FALSE, log.p = TRUE)`).
#[test]
fn p_values_beyond_z_37_are_not_zero() {
    let fit = |z: f64| {
        MetaAnalysis::new()
            .method(Method::EE)
            .fit(&Studies::from_variances(vec![z], vec![1.0]).unwrap())
            .unwrap()
    };
    // z = 37.5: 2 P(Z > 37.5) = 9.2e-308 (R: 2*pnorm(37.5, lower=FALSE))
    let f = fit(37.5);
    assert!(f.p_value() > 0.0 && f.p_value() < 1e-306);
    assert!((f.log_p_value() - f.p_value().ln()).abs() < 1e-12 * f.p_value().ln().abs());
    // z = 40 and 100 underflow; R's log p-values -803.91529483319391 and -5004.8310615136452
    assert_eq!(fit(40.0).p_value(), 0.0);
    assert!((fit(40.0).log_p_value() - (-803.915_294_833_193_9)).abs() < 1e-10 * 804.0);
    assert!((fit(100.0).log_p_value() - (-5_004.831_061_513_645)).abs() < 1e-10 * 5005.0);
}

/// Homogeneous data (Q < k - 1): the Q-profile interval for tau^2 never goes negative,
/// and DL is truncated at 0.
fn homogeneous() -> Studies {
    Studies::from_variances(
        vec![0.10, 0.11, 0.09, 0.10, 0.105],
        vec![0.05, 0.04, 0.06, 0.05, 0.05],
    )
    .unwrap()
}

#[test]
fn q_profile_tau2_is_never_negative() {
    for m in [
        Method::DL,
        Method::REML,
        Method::ML,
        Method::PM,
        Method::HE,
        Method::SJ,
    ] {
        let f = MetaAnalysis::new().method(m).fit(&homogeneous()).unwrap();
        let (lo, hi) = f.heterogeneity().tau2_ci().unwrap();
        assert_eq!(lo, 0.0, "{m}");
        assert!(hi >= 0.0, "{m}");
        let (i2lo, _) = f.heterogeneity().i2_ci().unwrap();
        assert!(i2lo >= 0.0, "{m}");
    }
}

#[test]
fn dl_is_truncated_at_zero() {
    let f = MetaAnalysis::new()
        .method(Method::DL)
        .fit(&homogeneous())
        .unwrap();
    assert!(f.heterogeneity().q() < f.heterogeneity().q_df());
    assert_eq!(f.tau2(), 0.0);
    assert_eq!(f.heterogeneity().i2(), 0.0);
    for m in [Method::HE, Method::HS, Method::HSk] {
        assert_eq!(
            MetaAnalysis::new()
                .method(m)
                .fit(&homogeneous())
                .unwrap()
                .tau2(),
            0.0,
            "{m}"
        );
    }
}

/// REML non-convergence is data, not a crash: the fit is returned marked not converged,
/// and a fallback chain moves on (see also tests/integration/convergence.rs).
#[test]
fn reml_non_convergence_does_not_crash() {
    let s = Studies::from_variances(
        vec![
            -0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012,
        ],
        vec![0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004],
    )
    .unwrap();
    let f = MetaAnalysis::new()
        .method(Method::REML)
        .max_iter(1)
        .fit(&s)
        .unwrap();
    assert!(!f.converged());
    assert!(f.estimate().is_finite());
    let chain = MetaAnalysis::new()
        .methods([Method::REML, Method::DL])
        .max_iter(1)
        .fit(&s)
        .unwrap();
    assert_eq!(chain.method(), Method::DL);
    assert!(chain.converged());
}

/// Boundary inputs give a typed error or NA, never a silent Inf/NaN reported as valid.
#[test]
fn no_silent_inf_or_nan_at_boundaries() {
    // overflowing weights: 1/v = 1e300, w y = inf: caught by the range check before any
    // arithmetic, naming the study and the field (src/error.rs, "Numerical range")
    let s = Studies::from_variances(vec![1e300, -1e300], vec![1e-300, 1e-300]).unwrap();
    match MetaAnalysis::new().method(Method::EE).fit(&s) {
        Err(MetaError::InvalidValue { study, field, .. }) => {
            assert_eq!((study.index, field.as_str()), (0, "yi"));
        }
        other => panic!("expected a range error, got {other:?}"),
    }
    // NaN and infinite inputs are rejected with the study named
    assert!(matches!(
        Studies::from_variances(vec![f64::NAN], vec![1.0]),
        Err(MetaError::InvalidValue { .. })
    ));
    assert!(matches!(
        Studies::from_variances(vec![0.0], vec![f64::INFINITY]),
        Err(MetaError::InvalidValue { .. })
    ));
    // a 2x2 table with two zero cells in one group and no correction: NA, not Inf
    let t = [TwoByTwo::new(0.0, 10.0, 0.0, 10.0)];
    let es = EffectSizes::two_by_two(&t, TwoByTwoMeasure::OR)
        .add(0.0)
        .compute()
        .unwrap();
    assert_eq!(es.yi()[0], None);
    // counts of 1e15 are overflow-safe: ln OR of (1e15, 1e15, 1e15, 1e15) is 0 with
    // variance 4e-15
    let big = [TwoByTwo::new(1e15, 1e15, 1e15, 1e15)];
    let es = EffectSizes::two_by_two(&big, TwoByTwoMeasure::OR)
        .compute()
        .unwrap();
    assert_eq!(es.yi()[0], Some(0.0));
    assert!((es.vi()[0].unwrap() - 4e-15).abs() < 1e-28);
}

/// Extreme variance ratios (1e-12 to 1e12) get metafor's warning, in the fit and on the
/// CLI's stderr.
#[test]
fn extreme_variance_ratio_is_warned() {
    const W: &str = "Ratio of largest to smallest sampling variance extremely large";
    let s = Studies::from_variances(vec![0.1, 0.3, -0.2], vec![1e-12, 1.0, 1e12]).unwrap();
    let f = MetaAnalysis::new().fit(&s).unwrap();
    assert!(f.warnings().iter().any(|w| w.contains(W)));
    let path = std::env::temp_dir().join(format!("metan_anchor_{}.csv", std::process::id()));
    std::fs::write(&path, "yi,vi\n0.1,1e-12\n0.3,1\n-0.2,1e12\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(["fit", path.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("metan: warning: {W}")), "{err}");
}
