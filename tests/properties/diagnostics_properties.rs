//! Issue 10 invariants for the diagnostics: leave-one-out gives one row per study, and
//! trim-and-fill that fills nothing returns the original fit.

use metan::bias::TrimFill;
use metan::sensitivity::leave_one_out;
use metan::{MetaAnalysis, Method, Studies};
use proptest::prelude::*;

const METHODS: [Method; 6] = [
    Method::EE,
    Method::DL,
    Method::REML,
    Method::ML,
    Method::PM,
    Method::SJ,
];

fn studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (3usize..30).prop_flat_map(|k| {
        (
            proptest::collection::vec(-2.0f64..2.0, k),
            proptest::collection::vec(0.01f64..1.0, k),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn leave_one_out_gives_k_rows((y, v) in studies()) {
        let s = Studies::from_variances(y, v).unwrap();
        for m in METHODS {
            let r = leave_one_out(&MetaAnalysis::new().method(m), &s).unwrap();
            prop_assert_eq!(r.rows().len(), s.k());
        }
    }

    #[test]
    fn trim_and_fill_with_k0_zero_returns_the_original_fit((y, v) in studies()) {
        let s = Studies::from_variances(y, v).unwrap();
        for m in METHODS {
            let spec = MetaAnalysis::new().method(m);
            let Ok(tf) = TrimFill::new().run(&spec, &s) else { continue };
            if tf.k0() == 0 {
                let orig = spec.fit(&s).unwrap();
                prop_assert!(tf.filled().is_empty());
                prop_assert_eq!(tf.fit().k(), orig.k());
                prop_assert!((tf.fit().estimate() - orig.estimate()).abs() <= 1e-12 * (1.0 + orig.estimate().abs()));
                prop_assert!((tf.fit().tau2() - orig.tau2()).abs() <= 1e-12 * (1.0 + orig.tau2()));
                prop_assert!((tf.fit().se() - orig.se()).abs() <= 1e-12 * orig.se());
            }
        }
    }
}
