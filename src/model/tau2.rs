//! The tau^2 estimators, one function each, with metafor's (`rma.uni`) definitions,
//! truncation at zero and standard errors.
//!
//! Notation: `w_i` weights, `X` the k x p design (`X = 1`, `p = 1` for the intercept-only
//! model), `P = W - W X (X'WX)^-1 X'W`, `Q = y'Py`, `V = diag(v)`. Every estimator is generic
//! over [`Projector`], which supplies the summaries of `P`: O(k) for the intercept-only model,
//! O(k p^2) for a general design (see [`super::projection`]). With moderators, metafor's
//! definitions are used throughout: `k - p` degrees of freedom, and `y` centred at its mean
//! (metafor's `Ymc`) in every quadratic form.
//!
//! # References
//! * DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
//!   Clinical Trials*, 7, 177-188.
//! * Hedges, L. V. (1983). A random effects model for effect sizes. *Psychological
//!   Bulletin*, 93, 388-395.
//! * Hunter, J. E., & Schmidt, F. L. (2004). *Methods of meta-analysis* (2nd ed.). Sage.
//! * Sidik, K., & Jonkman, J. N. (2005). Simple heterogeneity variance estimation for
//!   meta-analysis. *JRSS C*, 54, 367-384.
//! * Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *J Res Natl
//!   Bur Stand*, 87, 377-385.
//! * Morris, C. N. (1983). Parametric empirical Bayes inference. *JASA*, 78, 47-55.
//! * DerSimonian, R., & Kacker, R. (2007). Random-effects model for meta-analysis of
//!   clinical trials: An update. *Contemporary Clinical Trials*, 28, 105-114.
//! * Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in
//!   the random-effects model. *JEBS*, 30, 261-293.
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *J Stat Softw*, 36(3), 1-48.

use super::projection::{PSums, Projector};
use crate::numeric::dist::chisq_quantile;
use crate::numeric::logsum::sum_ln;

/// Why an estimator stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum StopReason {
    /// A closed-form estimator (EE, DL, HE, HS, HSk, SJ, GENQ): nothing to iterate.
    ClosedForm,
    /// tau^2 was fixed by the user.
    Fixed,
    /// The relative change in tau^2 fell below the tolerance.
    Tolerance,
    /// The estimate lies on the boundary tau^2 = 0 (the estimating equation has no
    /// positive root, or the likelihood is maximal at 0).
    Boundary,
    /// A root of the estimating equation was found to the tolerance.
    RootFound,
    /// The iteration limit was reached before the tolerance.
    MaxIterations,
    /// The computation produced a non-finite value.
    NonFinite,
}

impl std::fmt::Display for StopReason {
    /// A sentence fragment for messages: "the iteration limit was reached", ...
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::ClosedForm => "closed-form estimator, nothing to iterate",
            StopReason::Fixed => "tau^2 was fixed by the user",
            StopReason::Tolerance => "the change in tau^2 fell below the tolerance",
            StopReason::Boundary => "the estimate lies on the boundary tau^2 = 0",
            StopReason::RootFound => "a root of the estimating equation was found",
            StopReason::MaxIterations => "the iteration limit was reached",
            StopReason::NonFinite => "the computation produced a non-finite value",
        })
    }
}

/// One tau^2 estimate with its bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tau2Estimate {
    pub tau2: f64,
    pub se: Option<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub reason: StopReason,
    /// The log sums the likelihood check computed, for the fit statistics to reuse.
    pub log_sums: Option<LogSums>,
}

/// `sum ln(v + tau2)` at one `tau2` and `sum ln(v)`: the O(k) logarithms of a
/// log-likelihood, computed once per fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogSums {
    tau2: f64,
    ln_v_tau2: f64,
    ln_v: f64,
}

impl LogSums {
    /// `(sum ln(v + tau2), sum ln(v))` if these sums are for `tau2`.
    pub(crate) fn at(&self, tau2: f64) -> Option<(f64, f64)> {
        if tau2 == self.tau2 {
            Some((self.ln_v_tau2, self.ln_v))
        } else if tau2 == 0.0 {
            Some((self.ln_v, self.ln_v))
        } else {
            None
        }
    }
}

/// Control of the iterative estimators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Control {
    pub max_iter: usize,
    pub tol: f64,
    pub step_adj: f64,
    pub tau2_init: Option<f64>,
}

/// What an estimator sees: the model (data and design, through its [`Projector`]),
/// optional GENQ weights and a fixed tau^2.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a, M: Projector> {
    pub model: &'a M,
    pub weights: Option<&'a [f64]>,
    pub fixed: Option<f64>,
}

impl<M: Projector> Input<'_, M> {
    fn k(&self) -> f64 {
        self.model.k() as f64
    }
    /// `k - p`.
    fn df(&self) -> f64 {
        self.model.df()
    }
    fn y(&self) -> &[f64] {
        self.model.y()
    }
    fn v(&self) -> &[f64] {
        self.model.v()
    }
}

fn closed(tau2_raw: f64, fixed: Option<f64>) -> (f64, StopReason) {
    match fixed {
        Some(t) => (t, StopReason::Fixed),
        None => (tau2_raw.max(0.0), StopReason::ClosedForm),
    }
}

fn done(tau2: f64, se: f64, reason: StopReason) -> Tau2Estimate {
    Tau2Estimate {
        tau2,
        se: se.is_finite().then_some(se),
        iterations: 0,
        converged: tau2.is_finite(),
        reason: if tau2.is_finite() {
            reason
        } else {
            StopReason::NonFinite
        },
        log_sums: None,
    }
}

/// Moment-estimator SE `sqrt((2 a + 4 t b + 2 t^2 c) / d^2)` shared by DL, HS, HE, GENQ, SJ.
fn moment_se(a: f64, b: f64, c: f64, d2: f64, tau2: f64) -> f64 {
    let t = tau2.max(0.0);
    ((2.0 * a + 4.0 * t * b + 2.0 * t * t * c) / d2).sqrt()
}

/// DerSimonian-Laird.
///
/// # Formula
/// `tau2 = max(0, (Q - (k - p)) / tr(P))` with `W = diag(1/v)`;
/// `SE = sqrt(2(k-p) + 4 tau2 tr(P) + 2 tau2^2 tr(PP)) / tr(P)`.
pub(crate) fn dl<M: Projector>(inp: &Input<M>) -> Tau2Estimate {
    let v = inp.v();
    let s = inp.model.psums(false, |i| 1.0 / v[i]);
    let (tau2, reason) = closed((s.q - inp.df()) / s.trp, inp.fixed);
    let se = moment_se(inp.df(), s.trp, s.trpp, s.trp * s.trp, tau2);
    done(tau2, se, reason)
}

/// Raw Hedges (HE) estimate, before truncation (also the start of ML/REML/EB).
fn he_raw<M: Projector>(inp: &Input<M>) -> (f64, PSums) {
    let s = inp.model.psums(true, |_| 1.0);
    ((s.q - s.trpv) / inp.df(), s)
}

/// Hedges (unweighted method of moments).
///
/// # Formula
/// `tau2 = max(0, (RSS - tr(PV)) / (k - p))` with ordinary least squares (`W = I`);
/// `SE = sqrt(2 tr(PVPV) + 4 tau2 tr(PV) + 2 tau2^2 (k-p)) / (k - p)`.
pub(crate) fn he<M: Projector>(inp: &Input<M>) -> Tau2Estimate {
    let (raw, s) = he_raw(inp);
    let (tau2, reason) = closed(raw, inp.fixed);
    let df = inp.df();
    let se = moment_se(s.trpvpv, s.trpv, df, df * df, tau2);
    done(tau2, se, reason)
}

/// Hunter-Schmidt, optionally with the `k/(k-p)` correction (HSk).
///
/// # Formula
/// `tau2 = max(0, (Q - k) / sum(w))` (HS) or `max(0, (k/(k-p) Q - k) / sum(w))` (HSk), `w = 1/v`;
/// `SE = sqrt(2(k-p) + 4 tau2 tr(P) + 2 tau2^2 tr(PP)) / sum(w)`, times `k/(k-p)` for HSk.
pub(crate) fn hs<M: Projector>(inp: &Input<M>, small_sample: bool) -> Tau2Estimate {
    let k = inp.k();
    let v = inp.v();
    let s = inp.model.psums(false, |i| 1.0 / v[i]);
    let factor = if small_sample { k / inp.df() } else { 1.0 };
    let (tau2, reason) = closed((factor * s.q - k) / s.sw, inp.fixed);
    let se = factor * moment_se(inp.df(), s.trp, s.trpp, s.sw * s.sw, tau2);
    done(tau2, se, reason)
}

/// Sidik-Jonkman.
///
/// # Formula
/// `tau2_0 = sum((y - mean(y))^2) / k` (the spread of `y` itself, also with moderators, as in
/// metafor), `w = 1/(v + tau2_0)`, `tau2 = tau2_0 Q / (k - p)`;
/// `SE = tau2_0 / (k-p) sqrt(2 tr(PVPV) + 4 tau2 sum(PV*P) + 2 tau2^2 tr(PP))`.
pub(crate) fn sj<M: Projector>(inp: &Input<M>, tau2_init: Option<f64>) -> Tau2Estimate {
    let k = inp.k();
    let y = inp.y();
    let v = inp.v();
    let tau2_0 = tau2_init.unwrap_or_else(|| {
        let mean = y.iter().sum::<f64>() / k;
        y.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / k
    });
    let s = inp.model.psums(true, |i| 1.0 / (v[i] + tau2_0));
    let (tau2, reason) = closed(tau2_0 * s.q / inp.df(), inp.fixed);
    let d = inp.df() / tau2_0;
    let se = moment_se(s.trpvpv, s.pvp, s.trpp, d * d, tau2);
    done(tau2, se, reason)
}

/// Generalized Q-statistic estimator with user weights `a`.
///
/// # Formula
/// `tau2 = max(0, (Q_a - tr(P_a V)) / tr(P_a))`;
/// `SE = sqrt(2 tr(PVPV) + 4 tau2 sum(PV*P) + 2 tau2^2 tr(PP)) / tr(P)`.
pub(crate) fn genq<M: Projector>(inp: &Input<M>, a: &[f64]) -> Tau2Estimate {
    let s = inp.model.psums(true, |i| a[i]);
    let (tau2, reason) = closed((s.q - s.trpv) / s.trp, inp.fixed);
    let se = moment_se(s.trpvpv, s.pvp, s.trpp, s.trp * s.trp, tau2);
    done(tau2, se, reason)
}

/// Which likelihood (or moment equation) Fisher scoring solves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scoring {
    Ml,
    Reml,
    Eb,
}

/// `-1/2 sum log(v + tau2) - 1/2 Q(tau2)` [- 1/2 log det(X'WX) for REML], up to constants,
/// given `logdet = sum log(v + tau2)`; the sums are centred at `centre` (see
/// [`Projector::psums_near`]).
fn loglik_kernel<M: Projector>(model: &M, tau2: f64, reml: bool, centre: f64, logdet: f64) -> f64 {
    let v = model.v();
    let (q, logdet_xwx) = model.q_logdet_near(|i| 1.0 / (v[i] + tau2), centre);
    -0.5 * logdet - 0.5 * q - if reml { 0.5 * logdet_xwx } else { 0.0 }
}

/// metafor's `ll0check` for ML (`reml = false`) and REML: whether the (restricted)
/// log-likelihood at `tau2 = 0` exceeds the one at `tau2` by more than `1e-12 (1 + |ll|)`
/// (the root is then a local maximum only, and 0 is the estimate), with the log sums it
/// computed on the way. `centre`: as in [`Projector::psums_near`].
///
/// # Formula
/// `ll(t) = -1/2 sum ln(v + t) - 1/2 y'P(t)y [- 1/2 ln det(X'W(t)X)]`; 0 wins when
/// `ll(0) - ll(tau2) > 1e-12 (1 + |ll(tau2)|)`.
pub(crate) fn zero_beats<M: Projector>(
    model: &M,
    tau2: f64,
    reml: bool,
    centre: f64,
) -> (bool, LogSums) {
    let v = model.v();
    let sums = LogSums {
        tau2,
        ln_v_tau2: sum_ln(v.iter().map(|v| v + tau2)),
        ln_v: sum_ln(v.iter().copied()),
    };
    let ll = loglik_kernel(model, tau2, reml, centre, sums.ln_v_tau2);
    let ll0 = loglik_kernel(model, 0.0, reml, centre, sums.ln_v);
    (ll0 - ll > 1e-12 * (1.0 + ll.abs()), sums)
}

/// ML, REML and EB by Fisher scoring with step halving, started (as in metafor) at the
/// truncated Hedges estimate.
///
/// # Formula
/// With `w = 1/(v + tau2)`, each step adds
/// * ML: `(y'PPy - sum(w)) / sum(w^2)`;
/// * REML: `(y'PPy - tr(P)) / tr(PP)`;
/// * EB: `(Q k/(k-p) - k) / sum(w)`;
///
/// halving it while `tau2 + step < 0`. Iteration stops when the change is below
/// `tol * tau2` (relative), when it is below `1e-9 tau2` and no smaller than the previous
/// one (the rounding-noise floor, reached before `tol` when `tau2` is small against `v`),
/// or at the boundary `tau2 = 0` when the step at 0 is not positive.
/// SE: ML `sqrt(2/sum(w^2))`, REML `sqrt(2/tr(PP))`, EB `sqrt(2k^2/(k-p))/sum(w)`.
pub(crate) fn fisher_scoring<M: Projector>(
    inp: &Input<M>,
    ctrl: &Control,
    kind: Scoring,
) -> Tau2Estimate {
    let k = inp.k();
    let df = inp.df();
    let v = inp.v();
    // each step's weighted mean centres the next step's sums (one pass instead of two)
    let mut centre = f64::NAN;
    let mut step = |tau2: f64| -> f64 {
        let (s, mean) = inp.model.psums_near(|i| 1.0 / (v[i] + tau2), centre);
        centre = mean;
        let adj = match kind {
            Scoring::Ml => (s.ypp - s.sw) / s.s2,
            Scoring::Reml => (s.ypp - s.trp) / s.trpp,
            Scoring::Eb => (s.q * k / df - k) / s.sw,
        };
        adj * ctrl.step_adj
    };
    let mut iterations = 0;
    let mut converged = false;
    let mut reason = StopReason::MaxIterations;
    let mut log_sums = None;
    let mut tau2;
    if let Some(t) = inp.fixed {
        tau2 = t;
        iterations = 1;
        converged = true;
        reason = StopReason::Fixed;
    } else {
        tau2 = match ctrl.tau2_init {
            Some(t) => t,
            None => he_raw(inp).0.max(0.0),
        };
        let mut prev_change = f64::INFINITY;
        while iterations < ctrl.max_iter {
            iterations += 1;
            let mut adj = step(tau2);
            if adj.is_nan() {
                adj = 0.0;
            }
            if !adj.is_finite() {
                reason = StopReason::NonFinite;
                break;
            }
            if tau2 + adj < 0.0 {
                // Is the maximum on the boundary? metafor halves its way towards 0 and stops
                // near 1e-15; we test the step at 0 and land exactly on it.
                let at_zero = if tau2 == 0.0 { adj } else { step(0.0) };
                if at_zero <= 0.0 {
                    tau2 = 0.0;
                    converged = true;
                    reason = StopReason::Boundary;
                    break;
                }
                while tau2 + adj < 0.0 {
                    adj /= 2.0;
                }
            }
            let new = tau2 + adj;
            let change = (new - tau2).abs();
            tau2 = new;
            // at the rounding-noise floor the steps stop shrinking (they hop between two
            // neighbours of the root): the tolerance cannot be met, the root is found
            let noise = change >= prev_change && change <= 1e-9 * tau2.abs();
            prev_change = change;
            if change <= ctrl.tol * tau2.abs() || change == 0.0 || noise {
                converged = true;
                reason = StopReason::Tolerance;
                break;
            }
        }
        // metafor's ll0check: a local maximum worse than tau2 = 0 is replaced by 0.
        if converged && tau2 > 0.0 && kind != Scoring::Eb {
            let (zero_wins, sums) = zero_beats(inp.model, tau2, kind == Scoring::Reml, centre);
            log_sums = Some(sums);
            if zero_wins {
                tau2 = 0.0;
                reason = StopReason::Boundary;
            }
        }
    }
    let (s, _) = inp.model.psums_near(|i| 1.0 / (v[i] + tau2), centre);
    let se = match kind {
        Scoring::Ml => (2.0 / s.s2).sqrt(),
        Scoring::Reml => (2.0 / s.trpp).sqrt(),
        Scoring::Eb => (2.0 * k * k / df).sqrt() / s.sw,
    };
    Tau2Estimate {
        tau2,
        se: se.is_finite().then_some(se),
        iterations,
        converged: converged && tau2.is_finite(),
        reason,
        log_sums,
    }
}

/// Solves `Q(tau2) = target` in the bracket `[lo, hi]` (`Q(lo) > target > Q(hi)`), where
/// `Q(tau2) = y'P(tau2)y` decreases with `Q'(tau2) = -y'PPy`, by Newton's method on
/// `1/Q(tau2) - 1/target` (nearly linear in `tau2`; exactly so when all `v` are equal),
/// safeguarded by the bracket: a step leaving it is replaced by bisection.
///
/// `eval(t)` returns `(Q(t), y'PPy(t))`; `start` is the `(t, Q, y'PPy)` Newton starts from
/// (one of the bracket ends). Stops when the Newton step is below `rtol |t|` (or at the
/// rounding-noise floor of `Q`), or the bracket is narrower than `rtol hi`. Returns the
/// root and the number of evaluations, or `None` on a non-finite `Q` or after `max_eval`.
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
    (mut lo, mut hi): (f64, f64),
    start: (f64, f64, f64),
    rtol: f64,
    max_eval: usize,
) -> Option<(f64, usize)> {
    let rtol = rtol.max(2.0 * f64::EPSILON);
    let (mut t, mut q, mut ypp) = start;
    let mut prev_step = f64::INFINITY;
    let mut evals = 0;
    while evals < max_eval {
        let newton = q * (q - target) / (target * ypp);
        if newton.is_finite() && newton.abs() <= rtol * t.abs() && t > lo && t < hi {
            return Some((t, evals));
        }
        // rounding noise: the steps stopped shrinking near the root
        if newton.is_finite() && newton.abs() <= 1e-9 * t.abs() && newton.abs() > 0.5 * prev_step {
            return Some((t, evals));
        }
        let mut next = t + newton;
        if !(next.is_finite() && next > lo && next < hi) {
            next = 0.5 * (lo + hi);
            prev_step = f64::INFINITY;
        } else {
            prev_step = newton.abs();
        }
        if hi - lo <= rtol * hi.abs() {
            return Some((next, evals));
        }
        let (qn, yn) = eval(next);
        evals += 1;
        if !qn.is_finite() {
            return None;
        }
        if qn > target {
            lo = next;
        } else if qn < target {
            hi = next;
        } else {
            return Some((next, evals));
        }
        (t, q, ypp) = (next, qn, yn);
    }
    None
}

/// Finds `tau2 >= 0` with `Q(tau2) = target`, where `Q(tau2) = y'P(tau2)y` decreases in
/// `tau2`. Returns `Ok(None)` when `Q(0) < target` (the boundary), and the evaluation
/// count with the root otherwise.
pub(crate) fn q_profile_root<M: Projector>(
    model: &M,
    target: f64,
    tol: f64,
    max_eval: usize,
) -> Result<Option<(f64, usize)>, StopReason> {
    let v = model.v();
    let qs = |t: f64| {
        let (_, q, ypp) = model.q_slope(|i| 1.0 / (v[i] + t));
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
    // bracket: metafor searches [0, max(100, 10 tau2)]; we widen until the sign changes
    let mut hi = 100.0_f64;
    let mut evals = 1;
    let (mut qhi, mut ypphi) = qs(hi);
    evals += 1;
    while qhi > target {
        if !qhi.is_finite() || hi > 1e300 {
            return Err(StopReason::NonFinite);
        }
        hi *= 10.0;
        (qhi, ypphi) = qs(hi);
        evals += 1;
    }
    if !qhi.is_finite() {
        return Err(StopReason::NonFinite);
    }
    if qhi == target {
        return Ok(Some((hi, evals)));
    }
    // Newton from the end nearer (in 1/Q) to the root
    let (lo, start) = if hi > 100.0 {
        let lo = hi / 10.0;
        let (ql, yl) = qs(lo);
        evals += 1;
        (lo, (lo, ql, yl))
    } else {
        (0.0, (0.0, q0, ypp0))
    };
    let _ = ypphi;
    match q_newton(qs, target, (lo, hi), start, tol, max_eval) {
        Some((t, n)) => Ok(Some((t, evals + n))),
        None => Err(StopReason::MaxIterations),
    }
}

/// Paule-Mandel (`median = false`) and its median-unbiased variant PMM (`median = true`).
///
/// # Formula
/// The `tau2 >= 0` solving `Q(tau2) = k - p` (PM) or `Q(tau2) = qchisq(0.5, k - p)` (PMM),
/// with `w = 1/(v + tau2)`; 0 when `Q(0)` is below the target.
/// `SE = sqrt(2k^2/(k-p)) / sum(w)`.
pub(crate) fn pm<M: Projector>(inp: &Input<M>, ctrl: &Control, median: bool) -> Tau2Estimate {
    let k = inp.k();
    let df = inp.df();
    let target = if median { chisq_quantile(0.5, df) } else { df };
    let (tau2, iterations, converged, reason) = match inp.fixed {
        Some(t) => (t, 0, true, StopReason::Fixed),
        None => match q_profile_root(
            inp.model,
            target,
            ctrl.tol.min(1e-14),
            ctrl.max_iter.max(200),
        ) {
            Ok(None) => (0.0, 1, true, StopReason::Boundary),
            Ok(Some((t, n))) => (t, n, true, StopReason::RootFound),
            Err(r) => (f64::NAN, 0, false, r),
        },
    };
    let se = if tau2.is_finite() {
        let v = inp.v();
        let (sw, _) = inp.model.weighted_q(|i| 1.0 / (v[i] + tau2));
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
    }
}
