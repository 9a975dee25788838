//! The generalized Q-statistic confidence interval for tau^2 (Jackson 2013), metafor's
//! `confint(type = "GENQ")` for GENQ fits.
//!
//! With user weights `a`, `Q_a = sum a_i (y_i - mu_a)^2` is, under the random-effects model
//! with heterogeneity `tau2`, distributed as `sum_j lambda_j chi^2_1`, where the `lambda_j`
//! are the eigenvalues of `S P_a S`, `S = diag(sqrt(v + tau2))`, `P_a = A - a a'/sum(a)`.
//! The interval collects the `tau2` at which the observed `Q_a` is not extreme:
//! `P(Q_a > Q_obs | lower) = alpha/2` and `P(Q_a <= Q_obs | upper) = alpha/2`.
//!
//! * `S P_a S = D - c u u'` (diagonal minus rank one, `D = diag(a (v + tau2))`,
//!   `u = a sqrt(v + tau2)`, `c = 1/sum(a)`), so the moment generating function of `Q_a`,
//!   `det(I - 2 s S P_a S)^(-1/2)`, costs O(k) by the matrix determinant lemma and no
//!   eigenvalue is computed (metafor calls `eigen()` on the k x k matrix, O(k^3), at each
//!   tau^2 tried).
//! * Distribution: Imhof's (1961) inversion integral, taken along `Re s = c` through the
//!   saddlepoint and truncated with a bounded error (`numeric::quadform`), so that it
//!   converges for any ratio of the eigenvalues. metafor calls Farebrother's AS 204
//!   (Ruben's 1962 series) through CompQuadForm instead; that series converges at the rate
//!   `1 - lambda_min/lambda_max` and needs thousands of terms once the ratio passes ~100.
//!
//! # References
//! * Jackson, D. (2013). Confidence intervals for the between-study variance in random
//!   effects meta-analysis using generalised Cochran heterogeneity statistics. *Research
//!   Synthesis Methods*, 4, 220-229.
//! * DerSimonian, R., & Kacker, R. (2007). Random-effects model for meta-analysis of
//!   clinical trials: An update. *Contemporary Clinical Trials*, 28, 105-114 (the
//!   generalized Q estimator).
//! * Imhof, J. P. (1961). Computing the distribution of quadratic forms in normal
//!   variables. *Biometrika*, 48, 419-426.
//! * Davies, R. B. (1980). Algorithm AS 155. *Applied Statistics*, 29, 323-333.
//! * Ruben, H. (1962). Probability content of regions under spherical normal distributions,
//!   IV. *Annals of Mathematical Statistics*, 33, 542-570.
//! * Farebrother, R. W. (1984). Algorithm AS 204: The distribution of a positive linear
//!   combination of chi-squared random variables. *Applied Statistics*, 33, 332-339.
//! * Golub, G. H. (1973). Some modified matrix eigenvalue problems. *SIAM Review*, 15,
//!   318-334.

use super::heterogeneity::Tau2Interval;
use super::projection::psums;
use crate::numeric::quadform::QuadForm;
#[cfg(test)]
use crate::numeric::quadform::quad_form_tails;
use crate::numeric::root::brent;

/// Relative accuracy requested of the distribution function (relative to the smaller tail).
const REL_TOL: f64 = 1e-12;

/// `Q_a` at `tau2` as a quadratic form in standard normals: `S P_a S = D - c u u'`.
/// `S P_a S` is singular (`P_a 1 = 0`): `u_i^2/d_i = a_i`, `1 - c sum a_i = 0` exactly.
fn genq_form(a: &[f64], v: &[f64], tau2: f64) -> QuadForm {
    let d: Vec<f64> = a.iter().zip(v).map(|(ai, vi)| ai * (vi + tau2)).collect();
    QuadForm::diag_minus_rank_one(&d, a, 1.0 / a.iter().sum::<f64>(), 0.0)
}

/// `P(sum_j lambda_j chi^2_1 > q)` for positive `lambda`, by Imhof's integral through the
/// saddlepoint (`numeric::quadform`), for any ratio of the eigenvalues; `None` only when
/// the integral could not be brought within its error bound.
#[cfg(test)]
pub(crate) fn quad_form_sf(lambda: &[f64], q: f64) -> Option<f64> {
    let r = quad_form_tails(lambda, q, REL_TOL);
    (r.converged || r.error <= 1e-14).then_some(r.upper)
}

/// Nonzero eigenvalues of `S P_a S` for the intercept-only model (the GENQ interval works
/// with the determinant of `I - 2 s S P_a S` instead; these check it).
#[cfg(test)]
pub(crate) fn genq_eigenvalues(a: &[f64], v: &[f64], tau2: f64) -> Vec<f64> {
    let k = a.len();
    let c = 1.0 / a.iter().sum::<f64>();
    // (d_i, u_i^2), sorted by d, with equal d merged (each merge leaves d as an
    // eigenvalue of multiplicity count - 1)
    let mut du: Vec<(f64, f64)> = (0..k)
        .map(|i| {
            let s2 = v[i] + tau2;
            (a[i] * s2, a[i] * a[i] * s2)
        })
        .collect();
    du.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    for (d, u2) in du {
        match merged.last_mut() {
            Some(last) if (d - last.0).abs() <= 1e-15 * d.abs() => {
                last.1 += u2;
                out.push(d);
            }
            _ => merged.push((d, u2)),
        }
    }
    let g = |lam: f64| merged.iter().map(|(d, u2)| u2 / (d - lam)).sum::<f64>() * c - 1.0;
    for w in merged.windows(2) {
        let (lo, hi) = (w[0].0, w[1].0);
        let eps = 1e-15 * hi;
        if let Some(r) = brent(
            g,
            lo + eps.max(f64::MIN_POSITIVE),
            hi - eps,
            1e-15,
            0.0,
            400,
        ) {
            out.push(r.x);
        }
    }
    out
}

/// `P(Q_a > q_obs | tau2)`; `None` when the integral could not be brought within its
/// error bound.
fn upper_prob(a: &[f64], v: &[f64], tau2: f64, q_obs: f64) -> Option<f64> {
    let r = genq_form(a, v, tau2).tails(q_obs, REL_TOL);
    (r.converged || r.error <= 1e-14).then_some(r.upper)
}

/// The GENQ interval, searched in `[0, tau2_max]` with metafor's boundary rules.
pub(crate) fn genq_interval(
    y: &[f64],
    v: &[f64],
    a: &[f64],
    alpha: f64,
    tau2_max: f64,
) -> Option<Tau2Interval> {
    if y.len() < 2 {
        return None;
    }
    let q_obs = psums(y, None, |i| a[i]).q;
    let p_min = upper_prob(a, v, 0.0, q_obs)?;
    let p_max = upper_prob(a, v, tau2_max, q_obs)?;
    let half = alpha / 2.0;
    let root = |target_upper: f64| -> Option<f64> {
        brent(
            |t| upper_prob(a, v, t, q_obs).unwrap_or(f64::NAN) - target_upper,
            0.0,
            tau2_max,
            1e-12,
            0.0,
            300,
        )
        .filter(|r| r.converged)
        .map(|r| r.x)
    };
    // upper bound: P(Q <= q_obs) = alpha/2, i.e. P(Q > q_obs) = 1 - alpha/2
    let (mut ub, mut ub_sign) = if p_min > 1.0 - half {
        (0.0, "<")
    } else if p_max < 1.0 - half {
        (tau2_max, ">")
    } else {
        (root(1.0 - half)?, "")
    };
    // lower bound: P(Q > q_obs) = alpha/2
    let (lb, lb_sign) = if p_max < half {
        ub = tau2_max;
        ub_sign = ">";
        (tau2_max, ">")
    } else if p_min > 1.0 - half {
        (0.0, "<")
    } else if p_min > half {
        (0.0, "")
    } else {
        (root(half)?, "")
    };
    Some(Tau2Interval {
        tau2: (lb, ub),
        signs: (lb_sign, ub_sign),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::heterogeneity::q_profile;
    use crate::model::projection::InterceptOnly;
    use crate::numeric::dist::chisq_sf;

    #[test]
    fn equal_eigenvalues_give_chi_square() {
        for (m, lam, q) in [
            (1usize, 2.0, 3.0),
            (4, 0.5, 1.0),
            (9, 3.0, 60.0),
            (30, 1.0, 10.0),
        ] {
            let l = vec![lam; m];
            let want = chisq_sf(q / lam, m as f64);
            let got = quad_form_sf(&l, q).unwrap();
            assert!(
                (got - want).abs() <= 1e-13 * want.max(1e-300),
                "m={m}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn two_eigenvalues_match_numerical_convolution() {
        // P(a X + b Y > q), X, Y ~ chi^2_1: integrate the density of a X numerically
        let (a, b, q) = (1.0, 4.0, 5.0);
        let got = quad_form_sf(&[a, b], q).unwrap();
        // P = int_0^{q/a} f1(x) S1((q - a x)/b) dx + S1(q/a)
        let n = 200_000;
        let h = (q / a) / n as f64;
        let mut integral = 0.0;
        for i in 0..n {
            // midpoint rule on x = t^2 to remove the x^{-1/2} singularity
            let t0 = (i as f64 * h).sqrt();
            let t1 = ((i + 1) as f64 * h).sqrt();
            let t = 0.5 * (t0 + t1);
            let x = t * t;
            // f1(x) dx = 2/sqrt(2 pi) exp(-x/2) dt
            integral += 2.0 / (2.0 * std::f64::consts::PI).sqrt()
                * (-x / 2.0).exp()
                * chisq_sf((q - a * x) / b, 1.0)
                * (t1 - t0);
        }
        let want = integral + chisq_sf(q / a, 1.0);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }

    #[test]
    fn eigenvalues_match_explicit_matrix_trace_identities() {
        let a = [1.0, 2.0, 0.5, 3.0];
        let v = [0.1, 0.2, 0.05, 0.3];
        let t = 0.07;
        let ev = genq_eigenvalues(&a, &v, t);
        assert_eq!(ev.len(), 3);
        // tr(S P S) = sum a s^2 - sum a^2 s^2 / sum a ; tr((SPS)^2) = sum_ij (P_ij s_i s_j)^2
        let sa: f64 = a.iter().sum();
        let s2: Vec<f64> = v.iter().map(|x| x + t).collect();
        let tr: f64 = (0..4)
            .map(|i| a[i] * s2[i] - a[i] * a[i] * s2[i] / sa)
            .sum();
        let mut tr2 = 0.0;
        for i in 0..4 {
            for j in 0..4 {
                let p = if i == j { a[i] } else { 0.0 } - a[i] * a[j] / sa;
                tr2 += (p * (s2[i] * s2[j]).sqrt()).powi(2);
            }
        }
        let s1: f64 = ev.iter().sum();
        let s2e: f64 = ev.iter().map(|x| x * x).sum();
        assert!((s1 - tr).abs() < 1e-13 * tr);
        assert!((s2e - tr2).abs() < 1e-13 * tr2);
    }

    /// The determinant form of `S P_a S` gives the distribution of its eigenvalues, also
    /// when one study dominates the weights (the largest `d` nearly cancelled by the rank-one
    /// term, so that the saddlepoint can lie beyond `1/(2 d_max)`).
    #[test]
    fn determinant_form_matches_eigenvalues() {
        let v = [
            0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073,
        ];
        for a in [
            v.map(|x: f64| 1.0 / x.sqrt()),
            [1.0, 0.5, 2.0, 1.5, 0.7, 1.1, 0.9, 1.3, 0.6, 1.8],
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 400.0, 1.0, 1.0],
        ] {
            for tau2 in [0.0, 0.05, 3.0] {
                let ev = genq_eigenvalues(&a, &v, tau2);
                let mean: f64 = ev.iter().sum();
                for f in [0.02, 0.4, 1.0, 2.5, 9.0] {
                    let q = f * mean;
                    let x = genq_form(&a, &v, tau2).tails(q, 1e-12);
                    let y = quad_form_tails(&ev, q, 1e-12);
                    assert!(
                        x.converged && y.converged,
                        "a {:?} tau2 {tau2} q {q}: {x:?} {y:?}",
                        a[7]
                    );
                    for (p1, p2) in [(x.upper, y.upper), (x.lower, y.lower)] {
                        assert!(
                            (p1 - p2).abs() <= 1e-11 * p1.min(p2) + 1e-300,
                            "tau2 {tau2} q {q}: {p1:e} vs {p2:e}"
                        );
                    }
                }
            }
        }
    }

    /// With weights `a = 1/(v + t)`, `Q_a` at `tau2 = t` is exactly chi^2(k-1), so the GENQ
    /// bound equation holds at `t` exactly where the Q-profile bound does: choosing `t` as
    /// the Q-profile lower bound must return it as the GENQ lower bound.
    #[test]
    fn reduces_to_q_profile_at_matching_weights() {
        let y = [
            -0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371,
        ];
        let v = [
            0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073,
        ];
        let qp = q_profile(&InterceptOnly { y: &y, v: &v }, 0.05, 100.0, None).unwrap();
        for (idx, t) in [(0usize, qp.tau2.0), (1, qp.tau2.1)] {
            let a: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + t)).collect();
            let g = genq_interval(&y, &v, &a, 0.05, 100.0).unwrap();
            let got = if idx == 0 { g.tau2.0 } else { g.tau2.1 };
            assert!((got - t).abs() <= 1e-9 * t, "bound {idx}: {got} vs {t}");
        }
    }
}
