//! Invariants of location-scale models (proptest): permutation of the studies, location and
//! scale equivariance, tau^2 >= 0 and confidence intervals that contain the estimates, and a
//! log-likelihood never below that of the constant-tau^2 model.

use metan::{LocationScale, Method, Studies};
use proptest::prelude::*;

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

/// k in 12..40 SIMULATED studies with a numeric moderator and a 2-level factor.
fn data() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<usize>)> {
    (12usize..40).prop_flat_map(|k| {
        (
            proptest::collection::vec(-2.0f64..2.0, k),
            proptest::collection::vec(0.01f64..0.5, k),
            proptest::collection::vec(-3.0f64..3.0, k),
            proptest::collection::vec(0usize..2, k - 4),
        )
            .prop_map(|(y, v, x, mut g)| {
                g.extend([0, 0, 1, 1]);
                (y, v, x, g)
            })
    })
}

fn studies(y: &[f64], v: &[f64], x: &[f64], g: &[usize]) -> Studies {
    Studies::from_variances(y.to_vec(), v.to_vec())
        .unwrap()
        .with_moderator("x", x.to_vec())
        .unwrap()
        .with_attribute("g", g.iter().map(|i| ["a", "b"][*i]).collect::<Vec<_>>())
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn invariants((y, v, x, g) in data(), reml in any::<bool>(), shift in -2.0f64..2.0, c in 0.2f64..5.0) {
        let method = if reml { Method::REML } else { Method::ML };
        let spec = LocationScale::new().method(method).location(["x"]).scale(["x", "g"]);
        let s = studies(&y, &v, &x, &g);
        let fit = spec.fit(&s).unwrap();
        prop_assert!(fit.converged());
        prop_assert!(fit.tau2().iter().all(|t| *t >= 0.0 && t.is_finite()));
        for co in fit.coefficients() {
            prop_assert!(co.ci_lower <= co.estimate && co.estimate <= co.ci_upper);
        }
        for sc in fit.scale_coefficients() {
            if let (Some(e), Some(lo), Some(hi)) = (sc.estimate, sc.ci_lower, sc.ci_upper) {
                prop_assert!(lo <= e && e <= hi);
            }
        }
        // never below the constant-tau^2 model (nested)
        let l = fit.lrt().unwrap();
        prop_assert!(fit.loglik() >= l.loglik_reduced - 1e-9 * l.loglik_reduced.abs().max(1.0));
        let boundary = fit.scale_coefficients().iter().any(|c| c.boundary.is_some());

        // permutation of the studies
        let k = y.len();
        let perm: Vec<usize> = (0..k).rev().collect();
        let pick = |a: &[f64]| perm.iter().map(|&i| a[i]).collect::<Vec<_>>();
        let gp: Vec<usize> = perm.iter().map(|&i| g[i]).collect();
        let fp = spec.fit(&studies(&pick(&y), &pick(&v), &pick(&x), &gp)).unwrap();
        prop_assert!(close(fit.loglik(), fp.loglik(), 1e-10, 1e-10));
        // location shift and scale: y -> c (y + shift), v -> c^2 v gives beta -> c (beta +
        // shift e_1), ln tau2 -> ln tau2 + 2 ln c (the scale intercept), the same loglik up
        // to the Jacobian -k ln c (ML) or -(k - p) ln c (REML)
        let ys: Vec<f64> = y.iter().map(|a| c * (a + shift)).collect();
        let vs: Vec<f64> = v.iter().map(|a| c * c * a).collect();
        let fs = spec.fit(&studies(&ys, &vs, &x, &g)).unwrap();
        let m = if reml { (k - 2) as f64 } else { k as f64 };
        prop_assert!(close(fs.loglik(), fit.loglik() - m * c.ln(), 1e-8, 1e-8),
            "{} vs {}", fs.loglik(), fit.loglik() - m * c.ln());
        if !boundary {
            let (a, b) = (&fit.coefficients()[1], &fs.coefficients()[1]);
            prop_assert!(close(b.estimate, c * a.estimate, 1e-6, 1e-9));
            prop_assert!(close(b.se, c * a.se, 1e-6, 1e-9));
            let (a0, b0) = (fit.scale_coefficients()[0].estimate.unwrap(), fs.scale_coefficients()[0].estimate.unwrap());
            prop_assert!(close(b0, a0 + 2.0 * c.ln(), 1e-6, 1e-6), "{b0} vs {}", a0 + 2.0 * c.ln());
            let (a1, b1) = (fit.scale_coefficients()[1].estimate.unwrap(), fs.scale_coefficients()[1].estimate.unwrap());
            prop_assert!(close(a1, b1, 1e-6, 1e-6));
            prop_assert!(close(fp.scale_coefficients()[1].estimate.unwrap(), a1, 1e-6, 1e-6));
        }
    }
}
