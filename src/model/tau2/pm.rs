//! Paule-Mandel (PM) and its median-unbiased variant (PMM); the safeguarded Newton root
//! finder on `Q(tau2)` they share with the Q-profile interval.

use super::{Control, StopReason, Sums, Tau2Estimate};
use crate::numeric::dist::chisq_quantile;

/// Paule-Mandel (`median = false`) and its median-unbiased variant PMM (`median = true`).
///
/// # Formula
/// The `tau2 >= 0` solving `Q(tau2) = k - p` (PM) or `Q(tau2) = qchisq(0.5, k - p)` (PMM),
/// with `w = 1/(v + tau2)`; 0 when `Q(0)` is below the target. `Q` decreases in `tau2`, so
/// the root is unique and any start finds it: Newton's method ([`q_newton`]) starts from
/// `Control::warm` when given, else from 0.
/// `SE = sqrt(2k^2/(k-p)) / sum(w)`.
///
/// # References
/// Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *J Res Natl
/// Bur Stand*, 87, 377-385. Viechtbauer, W. (2021). Median-unbiased estimators for the
/// amount of heterogeneity in meta-analysis. *European Psychologist*, 26, 177-185.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control, median: bool) -> Tau2Estimate {
    let k = data.k() as f64;
    let df = data.df();
    let target = if median { chisq_quantile(0.5, df) } else { df };
    let mut centre = f64::NAN;
    let (tau2, iterations, converged, reason) = match ctrl.fixed {
        Some(t) => (t, 0, true, StopReason::Fixed),
        None => match q_root(
            data,
            target,
            ctrl.warm,
            ctrl.tol.min(1e-14),
            ctrl.max_iter.max(200),
            &mut centre,
        ) {
            Ok(None) => (0.0, 1, true, StopReason::Boundary),
            Ok(Some((t, n))) => (t, n, true, StopReason::RootFound),
            Err(r) => (f64::NAN, 0, false, r),
        },
    };
    let se = if ctrl.se && tau2.is_finite() {
        let (sw, _, _) = data.q_slope(tau2, &mut centre);
        (2.0 * k * k / df).sqrt() / sw
    } else {
        f64::NAN
    };
    Tau2Estimate {
        tau2,
        se: se.is_finite().then_some(se),
        iterations,
        converged,
        reason,
        log_sums: None,
        known: [None, None],
    }
}

/// Finds `tau2 >= 0` with `Q(tau2) = target`, where `Q(tau2) = y'P(tau2)y` decreases in
/// `tau2`, from `warm` (ignored unless positive and finite) or 0. Returns `Ok(None)` when
/// `Q(0) < target` (the boundary), and the root with the number of evaluations otherwise.
fn q_root<S: Sums>(
    data: &S,
    target: f64,
    warm: Option<f64>,
    tol: f64,
    max_eval: usize,
    centre: &mut f64,
) -> Result<Option<(f64, usize)>, StopReason> {
    let mut qs = |t: f64| {
        let (_, q, ypp) = data.q_slope(t, centre);
        (q, ypp)
    };
    let (q0, ypp0) = qs(0.0);
    let f0 = q0 - target;
    if !f0.is_finite() {
        return Err(StopReason::NonFinite);
    }
    if f0 < 0.0 {
        return Ok(None);
    }
    if f0 == 0.0 {
        return Ok(Some((0.0, 1)));
    }
    let mut evals = 1;
    // the bracket [lo, hi] of the root, and the point Newton starts from
    let (mut bracket, mut start) = ((0.0, f64::INFINITY), (0.0, q0, ypp0));
    if let Some(w) = warm.filter(|w| w.is_finite() && *w > 0.0) {
        let (qw, yw) = qs(w);
        evals += 1;
        if qw.is_finite() && yw.is_finite() {
            if qw == target {
                return Ok(Some((w, evals)));
            }
            bracket = if qw > target {
                (w, f64::INFINITY)
            } else {
                (0.0, w)
            };
            start = (w, qw, yw);
        }
    }
    match q_newton(qs, target, bracket, start, tol, max_eval) {
        Some((t, n)) => Ok(Some((t, evals + n))),
        None => Err(StopReason::MaxIterations),
    }
}

/// Solves `Q(tau2) = target` in the bracket `[lo, hi]` (`Q(lo) > target > Q(hi)`; `hi` may
/// be infinite), where `Q(tau2) = y'P(tau2)y` decreases with `Q'(tau2) = -y'PPy`, by
/// Newton's method on `1/Q(tau2) - 1/target` (nearly linear in `tau2`; exactly so when all
/// `v` are equal), safeguarded by the bracket: a step leaving it is replaced by bisection
/// (by doubling while `hi` is infinite). Each evaluation narrows the bracket.
///
/// `eval(t)` returns `(Q(t), y'PPy(t))`; `start` is the `(t, Q, y'PPy)` Newton starts from
/// (in the bracket). Stops as [`QNewton::step`] says. Returns the root and the number of
/// evaluations, or `None` on a non-finite `Q` or after `max_eval`.
///
/// # Formula
/// `t_new = t + Q (Q - target) / (target y'PPy)`.
///
/// # References
/// Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
/// meta-analysis. *Statistics in Medicine*, 26, 37-52.
pub(crate) fn q_newton(
    mut eval: impl FnMut(f64) -> (f64, f64),
    target: f64,
    bracket: (f64, f64),
    start: (f64, f64, f64),
    rtol: f64,
    max_eval: usize,
) -> Option<(f64, usize)> {
    let mut solver = QNewton::new(target, bracket, start, rtol);
    let mut evals = 0;
    loop {
        match solver.step() {
            NewtonStep::Root(t) => return Some((t, evals)),
            NewtonStep::Eval(_) if evals >= max_eval => return None,
            NewtonStep::Eval(t) => {
                let (q, ypp) = eval(t);
                evals += 1;
                match solver.update(t, q, ypp) {
                    NewtonUpdate::Continue => {}
                    NewtonUpdate::Root(t) => return Some((t, evals)),
                    NewtonUpdate::NonFinite => return None,
                }
            }
        }
    }
}

/// What [`QNewton::step`] asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NewtonStep {
    /// `Q` and `y'PPy` at this point, then [`QNewton::update`].
    Eval(f64),
    /// The root.
    Root(f64),
}

/// What [`QNewton::update`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NewtonUpdate {
    Continue,
    /// `Q` hit the target exactly here.
    Root(f64),
    NonFinite,
}

/// The state of [`q_newton`] between evaluations, for callers that interleave solves (the
/// two bounds of the Q-profile interval share each pass over the data).
#[derive(Debug, Clone, Copy)]
pub(crate) struct QNewton {
    target: f64,
    lo: f64,
    hi: f64,
    t: f64,
    q: f64,
    ypp: f64,
    /// The last Newton step taken (infinite after a bisection or at the start).
    prev_step: f64,
    rtol: f64,
}

impl QNewton {
    /// Newton's method for `Q(t) = target` in `bracket`, from `(t, Q(t), y'PPy(t))`, to the
    /// relative tolerance `rtol` (at least `2 eps`).
    pub(crate) fn new(
        target: f64,
        (lo, hi): (f64, f64),
        (t, q, ypp): (f64, f64, f64),
        rtol: f64,
    ) -> Self {
        QNewton {
            target,
            lo,
            hi,
            t,
            q,
            ypp,
            prev_step: f64::INFINITY,
            rtol: rtol.max(2.0 * f64::EPSILON),
        }
    }

    /// The next point to evaluate, or the root. With `d` the Newton step at the current
    /// point `t`, the root is:
    /// * `t` when `|d| <= rtol |t|` inside the bracket, or when `|d| <= 1e-9 |t|` no
    ///   longer shrinks (the rounding-noise floor of `Q`);
    /// * `t + d` without evaluating it when Newton's quadratic convergence puts it within
    ///   `rtol |t|` of the root: with the previous Newton step `d0`, the error of `t` is
    ///   about `|d| ~ C d0^2`, so that of `t + d` is about `C d^2 ~ |d|^3 / d0^2`
    ///   (required: `|d| <= 1e-8 |t|`, deep in the quadratic regime);
    /// * the bisected bracket once narrower than `rtol hi`.
    pub(crate) fn step(&mut self) -> NewtonStep {
        let (t, q) = (self.t, self.q);
        let newton = q * (q - self.target) / (self.target * self.ypp);
        if newton.is_finite() && newton.abs() <= self.rtol * t.abs() && t > self.lo && t < self.hi {
            return NewtonStep::Root(t);
        }
        // rounding noise: the steps stopped shrinking near the root
        if newton.is_finite()
            && newton.abs() <= 1e-9 * t.abs()
            && newton.abs() > 0.5 * self.prev_step
        {
            return NewtonStep::Root(t);
        }
        let mut next = t + newton;
        if !(next.is_finite() && next > self.lo && next < self.hi) {
            next = if self.hi.is_finite() {
                0.5 * (self.lo + self.hi)
            } else {
                2.0 * self.lo.max(t).max(1.0)
            };
            self.prev_step = f64::INFINITY;
        } else {
            let d = newton.abs();
            if d <= 1e-8 * t.abs()
                && self.prev_step.is_finite()
                && d * d * d <= self.rtol * t.abs() * self.prev_step * self.prev_step
            {
                return NewtonStep::Root(next);
            }
            self.prev_step = d;
        }
        if self.hi.is_finite() && self.hi - self.lo <= self.rtol * self.hi.abs() {
            return NewtonStep::Root(next);
        }
        NewtonStep::Eval(next)
    }

    /// Takes `Q(t)` and `y'PPy(t)` at the point `t` [`QNewton::step`] asked for.
    pub(crate) fn update(&mut self, t: f64, q: f64, ypp: f64) -> NewtonUpdate {
        if !q.is_finite() {
            return NewtonUpdate::NonFinite;
        }
        if q > self.target {
            self.lo = t;
        } else if q < self.target {
            self.hi = t;
        } else {
            return NewtonUpdate::Root(t);
        }
        (self.t, self.q, self.ypp) = (t, q, ypp);
        NewtonUpdate::Continue
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{Control, Data, estimate};
    use crate::model::Method;
    use crate::model::projection::InterceptOnly;

    /// The root does not depend on the start: from 0, from below, from above and from the
    /// root itself, PM and PMM agree to the tolerance (and on the boundary).
    #[test]
    fn warm_starts_find_the_same_root() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut u = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut boundary = 0;
        for case in 0..300 {
            let k = 2 + (u() * 60.0) as usize;
            let het = if case % 3 == 0 { 0.0 } else { u() * 0.5 };
            let v: Vec<f64> = (0..k).map(|_| 0.005 + 0.3 * u()).collect();
            let y: Vec<f64> = v
                .iter()
                .map(|vi| {
                    let z =
                        (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
                    0.3 + z * (vi + het).sqrt()
                })
                .collect();
            let model = InterceptOnly { y: &y, v: &v };
            let data = Data {
                model: &model,
                weights: None,
            };
            let mut ctrl = Control {
                fixed: None,
                max_iter: 1000,
                tol: 1e-12,
                step_adj: 1.0,
                tau2_init: None,
                warm: None,
                scoring_warm: false,
                se: true,
            };
            for m in [Method::PM, Method::PMM] {
                ctrl.warm = None;
                let cold = estimate(m, &data, &ctrl);
                assert!(cold.converged, "case {case} {m}");
                if cold.tau2 == 0.0 {
                    boundary += 1;
                }
                for w in [
                    1e-4,
                    0.5 * cold.tau2,
                    cold.tau2,
                    2.0 * cold.tau2 + 0.1,
                    50.0,
                ] {
                    ctrl.warm = Some(w);
                    let warm = estimate(m, &data, &ctrl);
                    assert!(
                        (warm.tau2 - cold.tau2).abs() <= 1e-12 * cold.tau2,
                        "case {case} {m} warm {w}: {} vs {}",
                        warm.tau2,
                        cold.tau2
                    );
                    assert_eq!(warm.se.is_some(), cold.se.is_some());
                }
            }
        }
        assert!(boundary > 20, "boundary cases: {boundary}");
    }
}
