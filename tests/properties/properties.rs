//! Invariants of the fit, for every estimator (proptest).

use metan::{MetaAnalysis, Method, Studies, TestKind};
use proptest::prelude::*;

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

fn spec(m: Method, k: usize) -> MetaAnalysis {
    let ma = MetaAnalysis::new().method(m);
    if m == Method::GENQ {
        ma.weights(vec![1.0; k])
    } else {
        ma
    }
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

/// k in 2..40 studies: effects in (-3, 3), variances in (0.001, 2).
fn studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..40).prop_flat_map(|k| {
        (
            proptest::collection::vec(-3.0f64..3.0, k),
            proptest::collection::vec(0.001f64..2.0, k),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn permutation_invariance((y, v) in studies(), rot in 0usize..40) {
        let k = y.len();
        let r = rot % k;
        let mut y2 = y.clone();
        let mut v2 = v.clone();
        y2.rotate_left(r);
        v2.rotate_left(r);
        y2.reverse();
        v2.reverse();
        let a = Studies::from_variances(y, v).unwrap();
        let b = Studies::from_variances(y2, v2).unwrap();
        for m in METHODS {
            let fa = spec(m, k).fit(&a).unwrap();
            let fb = spec(m, k).fit(&b).unwrap();
            prop_assert!(close(fa.estimate(), fb.estimate(), 1e-9, 1e-12), "{m}: {} vs {}", fa.estimate(), fb.estimate());
            prop_assert!(close(fa.tau2(), fb.tau2(), 1e-8, 1e-12), "{m}: tau2 {} vs {}", fa.tau2(), fb.tau2());
            prop_assert!(close(fa.se(), fb.se(), 1e-9, 1e-12));
            prop_assert!(close(fa.heterogeneity().q(), fb.heterogeneity().q(), 1e-9, 1e-12));
        }
    }

    #[test]
    fn location_and_scale_equivariance((y, v) in studies(), shift in -1e3f64..1e3, log_scale in -8.0f64..8.0) {
        let k = y.len();
        let c = 10f64.powf(log_scale);
        let base = Studies::from_variances(y.clone(), v.clone()).unwrap();
        let moved = Studies::from_variances(
            y.iter().map(|x| c * (x + shift)).collect::<Vec<_>>(),
            v.iter().map(|x| c * c * x).collect::<Vec<_>>(),
        ).unwrap();
        for m in METHODS {
            let f0 = spec(m, k).fit(&base).unwrap();
            let f1 = spec(m, k).fit(&moved).unwrap();
            // the shift is in units of the data, so representing the moved data costs
            // ~eps * |shift| / spread relative: up to ~1e-13 here
            let expect = c * (f0.estimate() + shift);
            prop_assert!(close(f1.estimate(), expect, 1e-10, 1e-12 * c * (1.0 + shift.abs())),
                "{m}: {} vs {}", f1.estimate(), expect);
            prop_assert!(close(f1.tau2(), c * c * f0.tau2(), 1e-8, 1e-12 * c * c),
                "{m}: tau2 {} vs {}", f1.tau2(), c * c * f0.tau2());
            prop_assert!(close(f1.se(), c * f0.se(), 1e-8, 0.0), "{m}: se");
            prop_assert!(close(f1.heterogeneity().i2(), f0.heterogeneity().i2(), 1e-8, 1e-9), "{m}: I2");
        }
    }

    #[test]
    fn tau2_nonnegative_and_ci_contains_estimate((y, v) in studies()) {
        let k = y.len();
        let s = Studies::from_variances(y, v).unwrap();
        for m in METHODS {
            for t in [TestKind::Z, TestKind::T, TestKind::Knha, TestKind::Adhoc] {
                let f = spec(m, k).test(t).fit(&s).unwrap();
                prop_assert!(f.tau2() >= 0.0, "{m}: tau2 {}", f.tau2());
                let (lo, hi) = f.ci();
                prop_assert!(lo <= f.estimate() && f.estimate() <= hi, "{m} {t}: {lo} {} {hi}", f.estimate());
                if let Some((a, b)) = f.pi() {
                    prop_assert!(a <= lo + 1e-12 && hi <= b + 1e-12, "{m} {t}: PI inside CI");
                }
                prop_assert!((0.0..100.0).contains(&f.heterogeneity().i2()), "{m}: I2 {}", f.heterogeneity().i2());
                if let Some((a, b)) = f.heterogeneity().tau2_ci() {
                    prop_assert!(0.0 <= a && a <= b);
                }
                let wsum: f64 = f.weights().iter().sum();
                prop_assert!((wsum - 100.0).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn random_effects_ci_at_least_as_wide_as_equal_effects((y, v) in studies()) {
        let s = Studies::from_variances(y, v).unwrap();
        let ee = MetaAnalysis::new().method(Method::EE).fit(&s).unwrap();
        for m in METHODS.into_iter().filter(|m| *m != Method::EE && *m != Method::GENQ) {
            let re = MetaAnalysis::new().method(m).fit(&s).unwrap();
            if re.tau2() > 0.0 {
                let w_re = re.ci().1 - re.ci().0;
                let w_ee = ee.ci().1 - ee.ci().0;
                prop_assert!(w_re >= w_ee * (1.0 - 1e-12), "{m}: {w_re} < {w_ee}");
            }
        }
    }
}

#[test]
fn adhoc_never_narrower_than_t() {
    let s =
        Studies::from_variances(vec![0.10, 0.11, 0.12, 0.09], vec![0.5, 0.4, 0.6, 0.3]).unwrap();
    let t = MetaAnalysis::new().test(TestKind::T).fit(&s).unwrap();
    let knha = MetaAnalysis::new().test(TestKind::Knha).fit(&s).unwrap();
    let adhoc = MetaAnalysis::new().test(TestKind::Adhoc).fit(&s).unwrap();
    // homogeneous data: the Knapp-Hartung factor is < 1, so knha is narrower than t,
    // and adhoc (factor max(1, s2)) equals t exactly
    assert!(knha.se() < t.se());
    assert_eq!(adhoc.se(), t.se());
}
