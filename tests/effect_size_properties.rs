//! Invariants of the effect-size conversions, back-transformations, measures and pooling
//! methods (proptest).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metan::data::effect_size::{
    Correlation, CorrelationMeasure, EffectSizes, MeansMeasure, Proportion, ProportionMeasure,
    Transform, TwoByTwo, TwoByTwoMeasure, TwoGroupMeans, d_to_log_odds_ratio, log_odds_ratio_to_d,
    r_to_z, se_from_ci, se_from_p, se_from_t, var_d_to_log_odds_ratio, var_log_odds_ratio_to_d,
    z_to_r,
};
use metan::model::{MantelHaenszel, MhMeasure, Peto};
use metan::{MetaAnalysis, Method, Studies};
use proptest::prelude::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

fn one(t: TwoByTwo, m: TwoByTwoMeasure) -> (f64, f64) {
    let es = EffectSizes::two_by_two(&[t], m).compute().unwrap();
    (es.yi()[0].unwrap(), es.vi()[0].unwrap())
}

/// Cell counts without zeros (1..500, non-integer allowed).
fn cell() -> impl Strategy<Value = f64> {
    (1.0f64..500.0).prop_map(|x| (x * 4.0).round() / 4.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn d_log_or_round_trip(d in -5.0f64..5.0, v in 0.001f64..2.0) {
        prop_assert!(close(log_odds_ratio_to_d(d_to_log_odds_ratio(d)), d, 1e-14));
        prop_assert!(close(var_log_odds_ratio_to_d(var_d_to_log_odds_ratio(v)), v, 1e-14));
        // Hasselblad-Hedges: ln OR = d pi / sqrt(3)
        prop_assert!(close(d_to_log_odds_ratio(d), d * std::f64::consts::PI / 3f64.sqrt(), 1e-15));
    }

    #[test]
    fn r_z_round_trip(r in -0.999f64..0.999) {
        prop_assert!((z_to_r(r_to_z(r)) - r).abs() <= 1e-15);
        // metafor's formula ln((1+r)/(1-r))/2. Its conditioning: rounding r costs up to
        // eps/2 in 1 - |r|, i.e. a relative error eps/(2(1-|r|)) there and an absolute error
        // of about eps/(1-|r|) in z; allow 4x that plus a few ulps of z.
        let bound = 4.0 * f64::EPSILON / (1.0 - r.abs()) + 4.0 * f64::EPSILON * r.atanh().abs().max(0.1);
        prop_assert!((r_to_z(r) - r.atanh()).abs() <= bound, "r = {r}");
        prop_assert!((Transform::Tanh.apply(r_to_z(r)) - r).abs() <= 1e-15);
    }

    #[test]
    fn se_from_ci_round_trip(est in -5.0f64..5.0, se in 0.001f64..3.0, level in 50.0f64..99.9) {
        // the Wald interval of a fit with one study of variance se^2
        let s = Studies::from_standard_errors(vec![est], vec![se]).unwrap();
        let fit = MetaAnalysis::new().method(Method::EE).level(level).fit(&s).unwrap();
        let (lo, hi) = fit.ci();
        prop_assert!(close(se_from_ci(lo, hi, level).unwrap(), se, 1e-10));
        prop_assert!(close(se_from_t(est, fit.statistic()).unwrap(), se, 1e-14));
        if fit.p_value() > 1e-300 && fit.p_value() < 1.0 && est != 0.0 {
            prop_assert!(close(se_from_p(est, fit.p_value()).unwrap(), se, 1e-9));
        }
    }

    #[test]
    fn back_transforms_invert(x in -20.0f64..20.0, p in 0.001f64..0.999) {
        prop_assert!(close(Transform::Exp.apply(x.exp().ln()), x.exp(), 1e-14));
        prop_assert!(close(Transform::ILogit.apply((p / (1.0 - p)).ln()), p, 1e-13));
        prop_assert!(close(Transform::IArcsin.apply(p.sqrt().asin()), p, 1e-13));
        prop_assert_eq!(Transform::Identity.apply(x), x);
    }

    #[test]
    fn freeman_tukey_inverts(n in 5u32..1000, frac in 0.02f64..0.98) {
        let n = n as f64;
        let x = (frac * n).round();
        let es = EffectSizes::proportions(&[Proportion::new(x, n)], ProportionMeasure::PFT)
            .compute()
            .unwrap();
        let t = es.back_transform();
        let Transform::IPftHm { harmonic_n } = t else { panic!("not ipft_hm: {t:?}") };
        prop_assert!(close(harmonic_n, n, 1e-15)); // 1/(1/n), as metafor
        prop_assert!((t.apply(es.yi()[0].unwrap()) - x / n).abs() < 1e-9);
    }

    #[test]
    fn swapping_groups_negates(a in cell(), b in cell(), c in cell(), d in cell()) {
        for m in [TwoByTwoMeasure::OR, TwoByTwoMeasure::RR, TwoByTwoMeasure::RD,
                  TwoByTwoMeasure::AS, TwoByTwoMeasure::PETO] {
            let (y, v) = one(TwoByTwo::new(a, b, c, d), m);
            let (ys, vs) = one(TwoByTwo::new(c, d, a, b), m);
            prop_assert!((y + ys).abs() <= 1e-12 * y.abs().max(1.0), "{:?}", m);
            prop_assert!(close(v, vs, 1e-12), "{:?}", m);
        }
        // events <-> non-events: the log odds ratio changes sign
        let (y, v) = one(TwoByTwo::new(a, b, c, d), TwoByTwoMeasure::OR);
        let (ys, vs) = one(TwoByTwo::new(b, a, d, c), TwoByTwoMeasure::OR);
        prop_assert!((y + ys).abs() <= 1e-12 * y.abs().max(1.0));
        prop_assert!(close(v, vs, 1e-14));
        // a table given as events and group sizes is the same table
        let (ye, ve) = one(TwoByTwo::from_events(a, a + b, c, c + d), TwoByTwoMeasure::OR);
        prop_assert!(close(ye, y, 1e-12) || (ye - y).abs() < 1e-13);
        prop_assert!(close(ve, v, 1e-12));
    }

    #[test]
    fn one_table_pools_to_itself(a in cell(), b in cell(), c in cell(), d in cell()) {
        let t = [TwoByTwo::new(a, b, c, d)];
        for (mh, m) in [(MhMeasure::OR, TwoByTwoMeasure::OR), (MhMeasure::RR, TwoByTwoMeasure::RR),
                        (MhMeasure::RD, TwoByTwoMeasure::RD)] {
            let fit = MantelHaenszel::new(mh).fit(&t).unwrap();
            let (y, v) = one(t[0], m);
            prop_assert!((fit.estimate() - y).abs() <= 1e-12 * y.abs().max(1e-3), "{:?}", mh);
            // one stratum: the RBG, GR and Sato variances reduce to the usual ones
            prop_assert!(close(fit.se() * fit.se(), v, 1e-10), "{:?}: {} vs {}", mh, fit.se() * fit.se(), v);
            prop_assert_eq!(fit.q(), 0.0);
        }
        let peto = Peto::new().fit(&t).unwrap();
        let (y, v) = one(t[0], TwoByTwoMeasure::PETO);
        prop_assert!((peto.estimate() - y).abs() <= 1e-12 * y.abs().max(1e-3));
        prop_assert!(close(peto.se() * peto.se(), v, 1e-12));
    }

    #[test]
    fn means_and_correlations_are_antisymmetric(
        m1 in 1.0f64..100.0, m2 in 1.0f64..100.0, s1 in 0.1f64..30.0, s2 in 0.1f64..30.0,
        n1 in 2u32..500, n2 in 2u32..500, r in -0.99f64..0.99, n in 4u32..5000,
    ) {
        let (n1, n2) = (n1 as f64, n2 as f64);
        for m in [MeansMeasure::MD, MeansMeasure::SMD, MeansMeasure::SMDH, MeansMeasure::ROM] {
            let f = EffectSizes::means(&[TwoGroupMeans::new(m1, s1, n1, m2, s2, n2)], m).compute().unwrap();
            let g = EffectSizes::means(&[TwoGroupMeans::new(m2, s2, n2, m1, s1, n1)], m).compute().unwrap();
            let (y, ys) = (f.yi()[0].unwrap(), g.yi()[0].unwrap());
            prop_assert!((y + ys).abs() <= 1e-12 * y.abs().max(1e-12), "{:?}", m);
            prop_assert!(close(f.vi()[0].unwrap(), g.vi()[0].unwrap(), 1e-12), "{:?}", m);
        }
        // Hedges' g shrinks d towards 0 by c(m) < 1
        let sp = (((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / (n1 + n2 - 2.0)).sqrt();
        let d = (m1 - m2) / sp;
        let g = EffectSizes::means(&[TwoGroupMeans::new(m1, s1, n1, m2, s2, n2)], MeansMeasure::SMD)
            .compute().unwrap().yi()[0].unwrap();
        prop_assert!(g.abs() <= d.abs() && (g == 0.0 || g.signum() == d.signum()));
        for m in [CorrelationMeasure::COR, CorrelationMeasure::ZCOR] {
            let f = EffectSizes::correlations(&[Correlation::new(r, n as f64)], m).compute().unwrap();
            let g = EffectSizes::correlations(&[Correlation::new(-r, n as f64)], m).compute().unwrap();
            prop_assert!((f.yi()[0].unwrap() + g.yi()[0].unwrap()).abs() <= 1e-15);
        }
    }
}
