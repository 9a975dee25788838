//! Minimisation of a smooth function with an analytic gradient and Hessian under box
//! constraints: a projected Newton method (Bertsekas 1982) with Levenberg-Marquardt
//! damping and a backtracking line search.
//!
//! # Algorithm
//! At `x`, a variable sitting on a bound with the gradient pushing it outwards is held
//! there (the *active* set); on the other (*free*) variables the Newton step `d` solves
//! `(H_FF + lambda D) d = -g_F`, with `lambda = 0` when `H_FF` is positive definite and
//! otherwise the smallest of `1e-8, 1e-7, ...` (times `D = max |diag H_FF|`) that makes
//! it so. The step is projected onto the box, `x+ = clamp(x + alpha d)`, and `alpha = 1,
//! 1/2, 1/4, ...` until the Armijo condition `f(x+) <= f(x) + 1e-4 g'(x+ - x)` holds.
//!
//! # Convergence
//! Newton's method converges quadratically near a solution, so the size of the step is
//! the size of the error. The iteration stops, converged, when every free step is below
//! `step_tol` in units of `1/sqrt(H_jj)` (the standard error of that variable when `f` is
//! a negative log-likelihood), or one evaluation after an undamped full step below
//! `sqrt(step_tol)` in those units (its error is then of the order of its square), or
//! when every variable is held at a bound. It stops without converging after `max_iter`
//! iterations, on a non-finite value, or when the line search cannot decrease `f` from a
//! point that does not meet the tolerance above.
//!
//! # References
//! * Bertsekas, D. P. (1982). Projected Newton methods for optimization problems with
//!   simple constraints. *SIAM Journal on Control and Optimization*, 20, 221-246.
//! * Nocedal, J., & Wright, S. J. (2006). *Numerical optimization* (2nd ed.). Springer.

use nalgebra::{DMatrix, DVector};

/// Why the iteration stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The Newton step fell below the tolerance.
    StepTolerance,
    /// Every variable is held at one of its bounds.
    AllAtBounds,
    /// The line search could not decrease the function.
    NoProgress,
    /// The iteration limit was reached.
    MaxIterations,
    /// The function, gradient or Hessian was not finite at the starting point.
    NonFinite,
}

/// A function value with its gradient and Hessian.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Eval {
    pub f: f64,
    pub grad: DVector<f64>,
    pub hess: DMatrix<f64>,
}

/// What to minimise: the value alone (for the line search) and the value with
/// derivatives. Non-finite values mean "outside the domain".
pub(crate) trait Objective {
    fn value(&mut self, x: &[f64]) -> f64;
    fn eval(&mut self, x: &[f64]) -> Option<Eval>;
    /// Called when the point of the last [`Objective::eval`] becomes the iterate (the
    /// start, or a point the line search accepted): what that evaluation built up (a
    /// refined quadrature) may then be kept for the next ones.
    fn accept(&mut self) {}
}

/// The result: the last point, its evaluation and the bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub eval: Option<Eval>,
    pub iterations: usize,
    pub evaluations: usize,
    pub converged: bool,
    pub stop: Stop,
}

/// Options of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Options {
    pub max_iter: usize,
    pub step_tol: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 200,
            step_tol: 1e-10,
        }
    }
}

/// Minimises `obj` over the box `lo <= x <= hi` from `x0` (clamped into the box). A
/// variable with `lo == hi` is fixed.
pub(crate) fn minimize(
    obj: &mut impl Objective,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    opts: Options,
) -> Minimum {
    let n = x0.len();
    let mut x: Vec<f64> = (0..n).map(|j| x0[j].clamp(lo[j], hi[j])).collect();
    let mut evaluations = 0;
    let mut small_full_step = false;
    // the full evaluation at the accepted point of the last line search, when it had one
    let mut carried: Option<Eval> = None;
    for iter in 0..opts.max_iter {
        let got = match carried.take() {
            Some(e) => Some(e),
            None => {
                evaluations += 1;
                let e = obj.eval(&x);
                obj.accept();
                e
            }
        };
        let ev = match got {
            Some(e) if finite(&e) => e,
            other => {
                return Minimum {
                    x,
                    eval: other,
                    iterations: iter,
                    evaluations,
                    converged: false,
                    stop: Stop::NonFinite,
                };
            }
        };
        let done =
            |x: Vec<f64>, ev: Eval, stop: Stop, converged: bool, evaluations: usize| Minimum {
                x,
                eval: Some(ev),
                iterations: iter,
                evaluations,
                converged,
                stop,
            };
        if small_full_step {
            return done(x, ev, Stop::StepTolerance, true, evaluations);
        }
        let free: Vec<usize> = (0..n)
            .filter(|&j| {
                lo[j] < hi[j]
                    && !(x[j] <= lo[j] && ev.grad[j] > 0.0)
                    && !(x[j] >= hi[j] && ev.grad[j] < 0.0)
            })
            .collect();
        if free.is_empty() {
            return done(x, ev, Stop::AllAtBounds, true, evaluations);
        }
        let (d, damped) = newton_step(&ev, &free);
        let scaled = free
            .iter()
            .zip(d.iter())
            .map(|(&j, dj)| dj.abs() * ev.hess[(j, j)].abs().sqrt())
            .fold(0.0f64, f64::max);
        if !damped && scaled <= opts.step_tol {
            return done(x, ev, Stop::StepTolerance, true, evaluations);
        }
        // projected backtracking line search; in the region of quadratic convergence the
        // full step is taken (f cannot resolve the decrease there)
        let mut alpha = 1.0;
        let mut accepted = None;
        let quadratic = !damped && scaled <= opts.step_tol.sqrt();
        for attempt in 0..60 {
            let mut xn = x.clone();
            for (&j, dj) in free.iter().zip(d.iter()) {
                xn[j] = (x[j] + alpha * dj).clamp(lo[j], hi[j]);
            }
            let decrease: f64 = (0..n).map(|j| ev.grad[j] * (xn[j] - x[j])).sum();
            // the full step is tried with a full evaluation, which the next iteration
            // reuses when the step is accepted (it usually is)
            evaluations += 1;
            let (fnew, full) = if attempt == 0 {
                match obj.eval(&xn) {
                    Some(e) if finite(&e) => (e.f, Some(e)),
                    _ => (f64::NAN, None),
                }
            } else {
                (obj.value(&xn), None)
            };
            if fnew.is_finite() && (quadratic || fnew <= ev.f + 1e-4 * decrease) {
                // the next iteration needs the derivatives there: a point whose value is
                // finite but whose gradient or Hessian is not (an integral of a derivative
                // overflowing) is rejected like one that does not decrease f, instead of
                // ending the minimisation at the next iteration
                let full = match full {
                    Some(e) => Some(e),
                    None => {
                        evaluations += 1;
                        obj.eval(&xn).filter(finite)
                    }
                };
                if full.is_some() {
                    obj.accept();
                    accepted = Some(xn);
                    carried = full;
                    break;
                }
            }
            alpha *= 0.5;
        }
        match accepted {
            Some(xn) => {
                small_full_step = !damped && alpha == 1.0 && scaled <= opts.step_tol.sqrt();
                x = xn;
            }
            None => {
                // no decrease: at the noise floor of f if the step is already tiny
                let converged = !damped && scaled <= opts.step_tol.sqrt();
                return done(x, ev, Stop::NoProgress, converged, evaluations);
            }
        }
    }
    let ev = match carried {
        Some(e) => Some(e),
        None => {
            evaluations += 1;
            obj.eval(&x)
        }
    };
    let converged = small_full_step && ev.as_ref().is_some_and(finite);
    Minimum {
        x,
        eval: ev,
        iterations: opts.max_iter,
        evaluations,
        converged,
        stop: if converged {
            Stop::StepTolerance
        } else {
            Stop::MaxIterations
        },
    }
}

fn finite(e: &Eval) -> bool {
    e.f.is_finite() && e.grad.iter().all(|g| g.is_finite()) && e.hess.iter().all(|h| h.is_finite())
}

/// The (damped, if needed) Newton step on the free variables; `true` when damped.
fn newton_step(ev: &Eval, free: &[usize]) -> (Vec<f64>, bool) {
    let m = free.len();
    let h = DMatrix::from_fn(m, m, |a, b| ev.hess[(free[a], free[b])]);
    let g = DVector::from_fn(m, |a, _| ev.grad[free[a]]);
    let scale = (0..m)
        .map(|a| h[(a, a)].abs())
        .fold(0.0f64, f64::max)
        .max(1e-300);
    let mut lambda = 0.0;
    for _ in 0..40 {
        let mut hl = h.clone();
        for a in 0..m {
            hl[(a, a)] += lambda * scale;
        }
        if let Some(ch) = hl.cholesky() {
            let d = ch.solve(&(-&g));
            if d.iter().all(|v| v.is_finite()) {
                return (d.iter().copied().collect(), lambda > 0.0);
            }
        }
        lambda = if lambda == 0.0 { 1e-8 } else { lambda * 10.0 };
    }
    // steepest descent, scaled
    (g.iter().map(|v| -v / scale).collect(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's function with its derivatives.
    struct Rosen;
    impl Objective for Rosen {
        fn value(&mut self, x: &[f64]) -> f64 {
            100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2)
        }
        fn eval(&mut self, x: &[f64]) -> Option<Eval> {
            let (a, b) = (x[0], x[1]);
            let f = self.value(x);
            let grad = DVector::from_vec(vec![
                -400.0 * a * (b - a * a) - 2.0 * (1.0 - a),
                200.0 * (b - a * a),
            ]);
            let hess = DMatrix::from_row_slice(
                2,
                2,
                &[
                    1200.0 * a * a - 400.0 * b + 2.0,
                    -400.0 * a,
                    -400.0 * a,
                    200.0,
                ],
            );
            Some(Eval { f, grad, hess })
        }
    }

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let inf = f64::INFINITY;
        let m = minimize(
            &mut Rosen,
            &[-1.2, 1.0],
            &[-inf, -inf],
            &[inf, inf],
            Options::default(),
        );
        assert!(m.converged, "{m:?}");
        assert!(
            (m.x[0] - 1.0).abs() < 1e-12 && (m.x[1] - 1.0).abs() < 1e-12,
            "{:?}",
            m.x
        );
    }

    #[test]
    fn a_bound_that_cuts_off_the_minimum_is_held() {
        // with x0 <= 0.5, the minimum is on the bound: x0 = 0.5, x1 = 0.25
        let inf = f64::INFINITY;
        let m = minimize(
            &mut Rosen,
            &[-1.2, 1.0],
            &[-inf, -inf],
            &[0.5, inf],
            Options::default(),
        );
        assert!(m.converged, "{m:?}");
        assert_eq!(m.x[0], 0.5);
        assert!((m.x[1] - 0.25).abs() < 1e-12);
    }

    #[test]
    fn a_fixed_variable_stays_fixed() {
        let inf = f64::INFINITY;
        let m = minimize(
            &mut Rosen,
            &[2.0, 1.0],
            &[2.0, -inf],
            &[2.0, inf],
            Options::default(),
        );
        assert_eq!(m.x[0], 2.0);
        assert!((m.x[1] - 4.0).abs() < 1e-12);
        assert!(m.converged);
    }
}
