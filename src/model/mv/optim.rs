//! Maximising the (restricted) likelihood over the variance components: Newton's method
//! with the analytic observed information (Fisher scoring where the observed information
//! is not positive definite), a step-halving line search that never lets the likelihood
//! decrease, and an active set for parameters on their bounds (variances at 0,
//! correlations at -1 or 1): a component whose likelihood is maximal on the boundary is
//! reported exactly there, with the stop reason [`StopReason::Boundary`].

use super::engine::{Eval, Problem, evaluate};
use super::params::{Kind, Param};
use crate::model::StopReason;

/// Convergence controls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Relative change of every free parameter at which the iteration stops.
    pub tol: f64,
    pub max_iter: usize,
}

/// The maximum found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Optimum {
    pub theta: Vec<f64>,
    pub eval: Eval,
    pub iterations: usize,
    pub converged: bool,
    pub reason: StopReason,
}

/// Why no optimum was found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OptError {
    /// The block of this cluster is not positive definite at the starting values.
    NotPd(usize),
    /// `X'M^-1X` singular or another non-finite result.
    Numerical,
}

pub(crate) fn ll_of(ev: &Eval, reml: bool) -> f64 {
    if reml { ev.ll_reml } else { ev.ll_ml }
}

/// Evaluates at `theta`.
pub(crate) fn eval_theta(
    pb: &Problem,
    param: &Param,
    theta: &[f64],
    b0: &[f64],
    reml: bool,
) -> Result<Eval, OptError> {
    let psi = param.psi(theta);
    match evaluate(pb, Some(&psi), b0, param.npsi(), reml) {
        Ok(ev) if ll_of(&ev, reml).is_finite() && ev.beta.iter().all(|b| b.is_finite()) => Ok(ev),
        Ok(_) | Err(None) => Err(OptError::Numerical),
        Err(Some(c)) => Err(OptError::NotPd(c)),
    }
}

/// Gradient, observed Hessian and expected information in `theta` (chain rule).
pub(crate) fn theta_derivs(
    param: &Param,
    theta: &[f64],
    ev: &Eval,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let nt = param.ntheta();
    let q = param.npsi();
    let jac = param.jacobian(theta);
    let j = &jac.j;
    let mut g = vec![0.0; nt];
    let mut h = vec![0.0; nt * nt];
    let mut info = vec![0.0; nt * nt];
    for i in 0..nt {
        g[i] = (0..q).map(|a| j[a * nt + i] * ev.grad[a]).sum();
        for l in 0..nt {
            let mut sh = 0.0;
            let mut si = 0.0;
            for a in 0..q {
                let ja = j[a * nt + i];
                if ja == 0.0 {
                    continue;
                }
                for b in 0..q {
                    let jb = j[b * nt + l];
                    sh += ja * ev.hess[a * q + b] * jb;
                    si += ja * ev.info[a * q + b] * jb;
                }
            }
            h[i * nt + l] = sh;
            info[i * nt + l] = si;
        }
    }
    for &(a, i, l, v) in &jac.second {
        h[i * nt + l] += v * ev.grad[a];
        if i != l {
            h[l * nt + i] += v * ev.grad[a];
        }
    }
    (g, h, info)
}

fn bounds(param: &Param, i: usize) -> (f64, f64) {
    match param.kind(i) {
        Kind::Variance | Kind::Sd => (0.0, f64::INFINITY),
        Kind::Correlation => (-1.0, 1.0),
    }
}

/// Solves `A x = b` for symmetric positive definite `A` (`n x n`); `None` if not PD.
fn spd_solve(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = a.to_vec();
    crate::numeric::dense::cholesky(&mut l, n)?;
    let mut x = b.to_vec();
    crate::numeric::dense::chol_solve(&l, n, &mut x, 1);
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Maximises the likelihood from `theta0`; coordinates with `fixed[i]` stay at their
/// starting value. `scale` is the typical size of a variance (for the relative tolerance
/// of components near 0).
#[allow(clippy::too_many_arguments)]
pub(crate) fn maximize(
    pb: &Problem,
    param: &Param,
    reml: bool,
    theta0: &[f64],
    fixed: &[bool],
    b0: &[f64],
    scale: f64,
    settings: Settings,
) -> Result<Optimum, OptError> {
    let nt = param.ntheta();
    let mut theta: Vec<f64> = theta0
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let (lo, hi) = bounds(param, i);
            t.clamp(lo, hi)
        })
        .collect();
    let mut ev = eval_theta(pb, param, &theta, b0, reml)?;
    let mut ll = ll_of(&ev, reml);
    let floor = |i: usize| match param.kind(i) {
        Kind::Variance => 1e-8 * scale,
        Kind::Sd => 1e-8 * scale.sqrt(),
        Kind::Correlation => 1e-8,
    };
    let mut iterations = 0;
    let mut converged = false;
    let mut reason = StopReason::MaxIterations;
    while iterations < settings.max_iter {
        iterations += 1;
        let (g, h, info) = theta_derivs(param, &theta, &ev);
        let free: Vec<usize> = (0..nt)
            .filter(|&i| {
                let (lo, hi) = bounds(param, i);
                !fixed[i]
                    && !(theta[i] <= lo && g[i] <= 0.0)
                    && !(theta[i] >= hi && g[i] >= 0.0)
                    && info[i * nt + i]
                        > 1e-14 * (1.0 + info.iter().fold(0.0f64, |a, b| a.max(b.abs())))
            })
            .collect();
        if free.is_empty() {
            converged = true;
            reason = StopReason::Boundary;
            break;
        }
        let nf = free.len();
        let sub = |m: &[f64], sign: f64| -> Vec<f64> {
            let mut o = vec![0.0; nf * nf];
            for (a, &i) in free.iter().enumerate() {
                for (b, &l) in free.iter().enumerate() {
                    o[a * nf + b] = sign * m[i * nt + l];
                }
            }
            o
        };
        let gf: Vec<f64> = free.iter().map(|&i| g[i]).collect();
        let newton = spd_solve(&sub(&h, -1.0), &gf, nf);
        let fisher = spd_solve(&sub(&info, 1.0), &gf, nf);
        let mut accepted = None;
        for dir in [newton, fisher].into_iter().flatten() {
            let mut t = 1.0;
            for _ in 0..60 {
                let mut cand = theta.clone();
                for (a, &i) in free.iter().enumerate() {
                    let (lo, hi) = bounds(param, i);
                    cand[i] = (theta[i] + t * dir[a]).clamp(lo, hi);
                }
                if param.feasible(&cand) {
                    if let Ok(e) = eval_theta(pb, param, &cand, &ev.beta, reml) {
                        let lc = ll_of(&e, reml);
                        if lc >= ll - 1e-13 * (1.0 + ll.abs()) {
                            accepted = Some((cand, e, lc));
                            break;
                        }
                    }
                }
                t *= 0.5;
            }
            if accepted.is_some() {
                break;
            }
        }
        let Some((cand, e, lc)) = accepted else {
            // no ascent in any direction: the current point is the maximum to rounding
            converged = true;
            reason = StopReason::Tolerance;
            break;
        };
        let change = (0..nt)
            .map(|i| (cand[i] - theta[i]).abs() / theta[i].abs().max(floor(i)))
            .fold(0.0, f64::max);
        theta = cand;
        ev = e;
        ll = lc;
        if change <= settings.tol {
            converged = true;
            reason = StopReason::Tolerance;
            break;
        }
    }
    if converged && reason == StopReason::Tolerance {
        let (g, _, _) = theta_derivs(param, &theta, &ev);
        let on_bound = (0..nt).any(|i| {
            let (lo, hi) = bounds(param, i);
            !fixed[i] && ((theta[i] <= lo && g[i] <= 0.0) || (theta[i] >= hi && g[i] >= 0.0))
        });
        if on_bound {
            reason = StopReason::Boundary;
        }
    }
    Ok(Optimum {
        theta,
        eval: ev,
        iterations,
        converged,
        reason,
    })
}
