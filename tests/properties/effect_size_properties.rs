//! Invariants of the effect-size conversions, back-transformations, measures and pooling
//! methods (proptest).

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
            // plus an absolute 1e-15: ln(m1/m2) of two close means has an absolute rounding
            // error of about eps (that of the ratio), far above 1e-12 |y| when y ~ 1e-5
            prop_assert!((y + ys).abs() <= 1e-12 * y.abs() + 1e-15, "{:?}", m);
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

// ---------------------------------------------------------------------------------------
// Issue 18: conversions between scales, measures across outcome types
// ---------------------------------------------------------------------------------------

mod across_outcome_types {
    use super::{cell, close, one};
    use metan::data::effect_size::scale::{D, Effect, LogOr, R, Z};
    use metan::data::effect_size::{
        Ci, Direction, EffectScale, EffectSizes, Measure, MixedEffectSizes, MixedStudy,
        OddsRatioMethod, PartialCorrelation, PartialMeasure, PrePost, PrePostMeasure, Reported,
        StatisticMeasure, StudyData, TwoByTwo, TwoByTwoMeasure, TwoGroupStatistic,
    };
    use proptest::prelude::*;

    const METHODS: [OddsRatioMethod; 2] = [OddsRatioMethod::Logistic, OddsRatioMethod::Normal];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// OR -> d -> OR (and d -> OR -> d) are the identity on (yi, vi), for both methods,
        /// and the table's OR2DL/OR2DN are its OR converted.
        #[test]
        fn or_d_or_round_trips(a in cell(), b in cell(), c in cell(), d in cell()) {
            let (y, v) = one(TwoByTwo::new(a, b, c, d), TwoByTwoMeasure::OR);
            let lor = Effect::<LogOr>::new(y, v).unwrap();
            for (m, direct) in METHODS.into_iter().zip([TwoByTwoMeasure::OR2DL, TwoByTwoMeasure::OR2DN]) {
                let dd = lor.to_d(m);
                let back = dd.to_log_or(m);
                prop_assert!(close(back.yi(), y, 1e-14) && close(back.vi(), v, 1e-14));
                let (yd, vd) = one(TwoByTwo::new(a, b, c, d), direct);
                prop_assert!(close(dd.yi(), yd, 1e-15) && close(dd.vi(), vd, 1e-15));
                prop_assert!(dd.vi() > 0.0 && back.vi() > 0.0);
            }
        }

        /// Swapping the groups negates every 2x2 measure of issue 18 and keeps its variance.
        #[test]
        fn two_by_two_sign_symmetry(a in cell(), b in cell(), c in cell(), d in cell()) {
            for m in [TwoByTwoMeasure::PBIT, TwoByTwoMeasure::OR2DN, TwoByTwoMeasure::OR2DL] {
                let (y, v) = one(TwoByTwo::new(a, b, c, d), m);
                let (ys, vs) = one(TwoByTwo::new(c, d, a, b), m);
                prop_assert!((y + ys).abs() <= 1e-12 * y.abs().max(1e-12), "{:?}", m);
                prop_assert!(close(v, vs, 1e-12) && v > 0.0, "{:?}", m);
            }
        }

        /// A reported t and its two-sided p (signed, or with the direction) give the same
        /// SMD; -t gives -SMD; every variance is > 0. (p from statrs' t distribution, an
        /// independent implementation, hence the loose tolerance.)
        #[test]
        fn smd_from_t_and_p_agree(t in 0.05f64..6.0, neg in any::<bool>(), n1 in 3u32..400, n2 in 3u32..400) {
            use statrs::distribution::{ContinuousCDF, StudentsT};
            let t = if neg { -t } else { t };
            let (n1, n2) = (n1 as f64, n2 as f64);
            let p = 2.0 * StudentsT::new(0.0, 1.0, n1 + n2 - 2.0).unwrap().cdf(-t.abs());
            let dir = if t < 0.0 { Direction::Negative } else { Direction::Positive };
            for m in [StatisticMeasure::SMD, StatisticMeasure::D2ORN, StatisticMeasure::D2ORL] {
                let es = EffectSizes::statistics(&[
                    TwoGroupStatistic::t(t, n1, n2),
                    TwoGroupStatistic::p(p.copysign(t), n1, n2),
                    TwoGroupStatistic::p(p, n1, n2).direction(dir),
                    TwoGroupStatistic::t(-t, n1, n2),
                ], m).compute().unwrap();
                let y: Vec<f64> = es.yi().iter().map(|y| y.unwrap()).collect();
                prop_assert!(close(y[0], y[1], 1e-6), "{:?}: {} vs {}", m, y[0], y[1]);
                prop_assert_eq!(y[1], y[2]);
                prop_assert!((y[0] + y[3]).abs() <= 1e-14 * y[0].abs().max(1e-14));
                prop_assert!(es.vi().iter().all(|v| v.unwrap() > 0.0));
            }
        }

        /// Pre-post measures: swapping the occasions negates MC/SMCC (and ROMC), the
        /// variances are > 0, and a higher pre-post correlation shrinks the variance of
        /// SMCR and MC.
        #[test]
        fn pre_post_invariants(
            m1 in 1.0f64..50.0, m2 in 1.0f64..50.0, s1 in 0.5f64..10.0, s2 in 0.5f64..10.0,
            n in 3u32..500, r in -0.95f64..0.95,
        ) {
            let n = n as f64;
            for m in [PrePostMeasure::MC, PrePostMeasure::SMCC, PrePostMeasure::ROMC] {
                let f = EffectSizes::pre_post(&[PrePost::new(m1, s1, m2, s2, n, r)], m).compute().unwrap();
                let g = EffectSizes::pre_post(&[PrePost::new(m2, s2, m1, s1, n, r)], m).compute().unwrap();
                let (y, ys) = (f.yi()[0].unwrap(), g.yi()[0].unwrap());
                // absolute 1e-15 for ROMC's ln(m1/m2) of close means, as for ROM above
                prop_assert!((y + ys).abs() <= 1e-12 * y.abs() + 1e-15, "{:?}", m);
                prop_assert!(close(f.vi()[0].unwrap(), g.vi()[0].unwrap(), 1e-12), "{:?}", m);
            }
            for m in [PrePostMeasure::MC, PrePostMeasure::SMCC, PrePostMeasure::SMCR,
                      PrePostMeasure::SMCRH, PrePostMeasure::ROMC] {
                let es = EffectSizes::pre_post(&[PrePost::new(m1, s1, m2, s2, n, r)], m).compute().unwrap();
                prop_assert!(es.vi()[0].is_some_and(|v| v > 0.0), "{:?}", m);
            }
            let lo = (r - 0.04).max(-0.99);
            for m in [PrePostMeasure::MC, PrePostMeasure::SMCR] {
                let hi_r = EffectSizes::pre_post(&[PrePost::new(m1, s1, m2, s2, n, r)], m).compute().unwrap();
                let lo_r = EffectSizes::pre_post(&[PrePost::new(m1, s1, m2, s2, n, lo)], m).compute().unwrap();
                prop_assert!(hi_r.vi()[0].unwrap() <= lo_r.vi()[0].unwrap(), "{:?}", m);
            }
        }

        /// Partial correlations lie in (-1, 1), are odd in t, and ZPCOR is atanh(PCOR).
        #[test]
        fn partial_correlation_invariants(t in -20.0f64..20.0, n in 10u32..2000, k in 0u32..8, r2 in 0.0f64..0.99) {
            let (n, k) = (n as f64, k as f64);
            let row = |t: f64| PartialCorrelation::new(t, n, k).r2(r2);
            let p = EffectSizes::partial_correlations(&[row(t), row(-t)], PartialMeasure::PCOR).compute().unwrap();
            let z = EffectSizes::partial_correlations(&[row(t)], PartialMeasure::ZPCOR).compute().unwrap();
            let s = EffectSizes::partial_correlations(&[row(t)], PartialMeasure::SPCOR).compute().unwrap();
            let y = p.yi()[0].unwrap();
            prop_assert!(y.abs() < 1.0 && (y + p.yi()[1].unwrap()).abs() <= 1e-15);
            prop_assert!(close(z.yi()[0].unwrap().tanh(), y, 1e-12) || y.abs() < 1e-300);
            prop_assert!(p.vi()[0].unwrap() > 0.0 && z.vi()[0].unwrap() > 0.0);
            // the semi-partial correlation is never larger than the partial one, for
            // consistent data (sr^2 = t^2 (1 - R^2)/df <= R^2, so that pr^2 = sr^2/(1 - R^2 + sr^2) >= sr^2)
            if t * t * (1.0 - r2) / (n - k - 1.0) <= r2 {
                prop_assert!(s.yi()[0].unwrap().abs() <= y.abs() * (1.0 + 1e-14));
            }
        }

        /// r -> z -> r and r -> d -> r (equal groups) are the identity; d -> log OR -> d too.
        #[test]
        fn scale_round_trips(r in -0.98f64..0.98, v in 1e-4f64..0.2, n in 4u32..1000) {
            let e = Effect::<R>::new(r, v).unwrap();
            let rz = e.to_z().to_r();
            // absolute: metafor's ln((1+r)/(1-r))/2 loses relative digits near r = 0
            prop_assert!((rz.yi() - r).abs() <= 1e-15, "{} vs {}", rz.yi(), r);
            prop_assert!(close(rz.vi(), v, 1e-12));
            let n = n as f64;
            let rd = e.to_d().to_r(n, n).unwrap();
            prop_assert!((rd.yi() - r).abs() <= 1e-15, "{} vs {}", rd.yi(), r);
            prop_assert!(close(rd.vi(), v, 1e-12));
            let d = Effect::<D>::new(2.0 * r, v).unwrap();
            for m in METHODS {
                let back = d.to_log_or(m).to_d(m);
                prop_assert!(close(back.yi(), 2.0 * r, 1e-14) || r == 0.0);
                prop_assert!(close(back.vi(), v, 1e-14));
            }
            let z = Effect::<Z>::new(r, v).unwrap();
            prop_assert!(z.to_d().vi() > 0.0);
        }

        /// From a Wald CI on the log scale: the CI of the result is the reported one, and
        /// the estimate, its CI and its p-value give the same variance.
        #[test]
        fn wald_conversions_are_consistent(y in -3.0f64..3.0, se in 0.01f64..2.0) {
            prop_assume!(y.abs() > 1e-3);
            let z = 1.959963984540054;
            let (lo, hi) = ((y - z * se).exp(), (y + z * se).exp());
            let from_ci = Effect::<LogOr>::from_reported(y.exp(), Reported::Ci(Ci::new(lo, hi))).unwrap();
            prop_assert!(close(from_ci.se(), se, 1e-9));
            let zval = y / se;
            let from_z = Effect::<LogOr>::from_reported(y.exp(), Reported::Z(zval)).unwrap();
            prop_assert!(close(from_z.vi(), se * se, 1e-12));
            prop_assert!(Effect::<LogOr>::from_reported(y.exp(), Reported::Z(-zval)).is_err());
            let f = Effect::<LogOr>::from_reported(y.exp(), Reported::F(zval * zval)).unwrap();
            prop_assert!(close(f.vi(), se * se, 1e-12));
        }

        /// The mixed workflow converts each row exactly as the typed methods do, and a table
        /// of one measure equals that measure's own computation.
        #[test]
        fn mixed_rows_equal_their_measures(a in cell(), b in cell(), c in cell(), d in cell()) {
            let t = TwoByTwo::new(a, b, c, d);
            let studies = [
                MixedStudy::new(Measure::OR, StudyData::TwoByTwo(t)),
                MixedStudy::new(Measure::PBIT, StudyData::TwoByTwo(t)),
            ];
            for m in METHODS {
                let tab = MixedEffectSizes::new(&studies).convert_to(EffectScale::D).method(m).compute().unwrap();
                let (y, v) = one(t, TwoByTwoMeasure::OR);
                let e = Effect::<LogOr>::new(y, v).unwrap().to_d(m);
                prop_assert_eq!(tab.rows()[0].yi, Some(e.yi()));
                prop_assert_eq!(tab.rows()[0].vi, Some(e.vi()));
                let (yp, vp) = one(t, TwoByTwoMeasure::PBIT);
                prop_assert_eq!(tab.rows()[1].yi, Some(yp));
                prop_assert_eq!(tab.rows()[1].vi, Some(vp));
                prop_assert!(tab.rows().iter().all(|r| r.vi.unwrap() > 0.0));
            }
        }
    }
}
