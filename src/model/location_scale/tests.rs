//! Unit tests of the location-scale likelihood: the analytic gradient and Hessian against
//! finite differences, and invariances.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use nalgebra::{DMatrix, DVector};

use super::LocationScale;
use super::fit::Profile;
use crate::data::Studies;
use crate::model::method::Method;
use crate::numeric::wls::WlsQr;

fn data() -> (Vec<f64>, Vec<f64>, DMatrix<f64>, DMatrix<f64>) {
    let y = vec![
        -0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371, -0.339,
        0.446, -0.017,
    ];
    let v = vec![
        0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.533, 0.071,
    ];
    let lat = [
        44., 55., 42., 52., 13., 44., 19., 13., 27., 42., 18., 33., 33.,
    ];
    let g = [1., 0., 1., 0., 0., 1., 1., 0., 0., 1., 0., 1., 0.];
    let x = DMatrix::from_fn(13, 2, |i, j| if j == 0 { 1.0 } else { lat[i] });
    let z = DMatrix::from_fn(13, 3, |i, j| match j {
        0 => 1.0,
        1 => (lat[i] - 33.0) / 10.0,
        _ => g[i],
    });
    (y, v, x, z)
}

#[test]
fn derivatives_match_finite_differences() {
    let (y, v, x, z) = data();
    let logdet_xx = WlsQr::new(&x, |_| 1.0).unwrap().logdet();
    for reml in [false, true] {
        let prof = Profile {
            y: &y,
            v: &v,
            x: &x,
            z: &z,
            reml,
            logdet_xx,
        };
        let a = DVector::from_vec(vec![-2.0, 0.3, 0.7]);
        let ev = prof.eval(&a).unwrap();
        let h = 1e-5;
        for j in 0..3 {
            let mut ap = a.clone();
            let mut am = a.clone();
            ap[j] += h;
            am[j] -= h;
            let gp = prof.eval(&ap).unwrap();
            let gm = prof.eval(&am).unwrap();
            let g_fd = (gp.ll - gm.ll) / (2.0 * h);
            assert!(
                (g_fd - ev.grad[j]).abs() < 1e-8 * (1.0 + g_fd.abs()),
                "reml {reml} grad {j}: {g_fd} vs {}",
                ev.grad[j]
            );
            for l in 0..3 {
                let h_fd = (gp.grad[l] - gm.grad[l]) / (2.0 * h);
                assert!(
                    (h_fd - ev.hess[(j, l)]).abs() < 1e-7 * (1.0 + h_fd.abs()),
                    "reml {reml} hess {j},{l}: {h_fd} vs {}",
                    ev.hess[(j, l)]
                );
            }
        }
    }
}

fn studies() -> Studies {
    let (y, v, _, _) = data();
    Studies::from_variances(y, v)
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
                "a", "b", "a", "b", "b", "a", "a", "b", "b", "a", "b", "a", "b",
            ],
        )
        .unwrap()
}

/// Shifting a numeric scale moderator changes only the scale intercept; the fit, the
/// slope and its SE stay (location-scale equivariance of the scale part).
#[test]
fn scale_moderator_shift_is_absorbed_by_the_intercept() {
    let s = studies();
    let shifted = s
        .clone()
        .with_moderator(
            "lat2",
            s.moderator("ablat")
                .unwrap()
                .iter()
                .map(|a| a + 100.0)
                .collect::<Vec<_>>(),
        )
        .unwrap();
    for m in [Method::ML, Method::REML] {
        let a = LocationScale::new()
            .scale(["ablat"])
            .method(m)
            .fit(&s)
            .unwrap();
        let b = LocationScale::new()
            .scale(["lat2"])
            .method(m)
            .fit(&shifted)
            .unwrap();
        assert!(a.converged() && b.converged());
        assert!((a.loglik() - b.loglik()).abs() < 1e-10);
        let (sa, sb) = (&a.scale_coefficients()[1], &b.scale_coefficients()[1]);
        assert!((sa.estimate.unwrap() - sb.estimate.unwrap()).abs() < 1e-8);
        assert!((sa.se.unwrap() - sb.se.unwrap()).abs() < 1e-7);
        let i0 = a.scale_coefficients()[0].estimate.unwrap();
        let i1 = b.scale_coefficients()[0].estimate.unwrap();
        assert!((i0 - (i1 + 100.0 * sb.estimate.unwrap())).abs() < 1e-7);
    }
}

/// With an intercept-only scale the model is the random-effects model: ML/REML tau^2.
#[test]
fn constant_scale_is_the_random_effects_model() {
    let s = studies();
    for m in [Method::ML, Method::REML] {
        let ls = LocationScale::new()
            .location(["ablat"])
            .method(m)
            .fit(&s)
            .unwrap();
        let re = crate::MetaRegression::new()
            .moderator("ablat")
            .method(m)
            .fit(&s)
            .unwrap();
        let t = ls.tau2()[0];
        assert!(
            (t - re.tau2()).abs() < 1e-9 * re.tau2(),
            "{m}: {t} vs {}",
            re.tau2()
        );
        assert!((ls.coefficients()[1].estimate - re.coefficients()[1].estimate).abs() < 1e-9);
        assert!(ls.lrt().is_none());
    }
}
