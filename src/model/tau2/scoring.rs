//! Maximum likelihood, restricted maximum likelihood and empirical Bayes, by Fisher scoring.

use super::{AtTau2, Control, LogSums, StopReason, Sums, Tau2Estimate};

/// Which likelihood (or moment equation) Fisher scoring solves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scoring {
    Ml,
    Reml,
    Eb,
}

/// ML, REML and EB by Fisher scoring with step halving, started (as in metafor) at the
/// truncated Hedges estimate, or at `tau2_init` (or at `warm` when `scoring_warm`).
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
/// or at the boundary `tau2 = 0` when the step at 0 is not positive. For ML and REML,
/// metafor's `ll0check` follows: a root whose likelihood is below the one at 0 is replaced
/// by 0 (see [`zero_beats`]).
/// SE: ML `sqrt(2/sum(w^2))`, REML `sqrt(2/tr(PP))`, EB `sqrt(2k^2/(k-p))/sum(w)`.
///
/// # References
/// Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
/// random-effects model. *JEBS*, 30, 261-293. Morris, C. N. (1983). Parametric empirical
/// Bayes inference. *JASA*, 78, 47-55.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control, kind: Scoring) -> Tau2Estimate {
    let k = data.k() as f64;
    let df = data.df();
    // each step's weighted mean centres the next step's sums (one pass instead of two)
    let mut centre = f64::NAN;
    let step = |tau2: f64, centre: &mut f64| -> f64 {
        let s = data.near(tau2, centre);
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
    let mut known = [None, None];
    let mut tau2;
    if let Some(t) = ctrl.fixed {
        tau2 = t;
        iterations = 1;
        converged = true;
        reason = StopReason::Fixed;
    } else {
        let warm = ctrl
            .warm
            .filter(|w| ctrl.scoring_warm && w.is_finite() && *w >= 0.0);
        tau2 = match ctrl.tau2_init.or(warm) {
            Some(t) => t,
            None => {
                let (raw, mean) = data.hedges_start();
                centre = mean;
                raw.max(0.0)
            }
        };
        let mut prev_change = f64::INFINITY;
        while iterations < ctrl.max_iter {
            iterations += 1;
            let mut adj = step(tau2, &mut centre);
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
                let at_zero = if tau2 == 0.0 {
                    adj
                } else {
                    step(0.0, &mut centre)
                };
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
        let likelihood = match kind {
            Scoring::Ml => Some(false),
            Scoring::Reml => Some(true),
            Scoring::Eb => None,
        };
        if let (true, Some(reml)) = (converged && tau2 > 0.0, likelihood) {
            // the sums at the root and at 0 serve the check here and the rest of the fit
            let at = data.near_logdet(tau2, &mut centre);
            let mut c0 = centre;
            let zero = data.near_logdet(0.0, &mut c0);
            let (zero_wins, sums) = zero_beats(data, &at, &zero, reml);
            log_sums = Some(sums);
            known = [Some(at), Some(zero)];
            if zero_wins {
                tau2 = 0.0;
                reason = StopReason::Boundary;
            }
        }
    }
    let se = if ctrl.se {
        let s = match known.iter().flatten().find(|a| a.tau2 == tau2) {
            Some(a) => a.sums,
            None => {
                let a = data.near_logdet(tau2, &mut centre);
                known[0] = Some(a);
                a.sums
            }
        };
        match kind {
            Scoring::Ml => (2.0 / s.s2).sqrt(),
            Scoring::Reml => (2.0 / s.trpp).sqrt(),
            Scoring::Eb => (2.0 * k * k / df).sqrt() / s.sw,
        }
    } else {
        f64::NAN
    };
    Tau2Estimate {
        tau2,
        se: se.is_finite().then_some(se),
        iterations,
        converged: converged && tau2.is_finite(),
        reason,
        log_sums,
        known,
    }
}

/// metafor's `ll0check` for ML (`reml = false`) and REML: whether the (restricted)
/// log-likelihood at `tau2 = 0` exceeds the one at `tau2` by more than `1e-12 (1 + |ll|)`
/// (the root is then a local maximum only, and 0 is the estimate), from the sums at the
/// root (`at`) and at 0 (`zero`), with the log sums it computed on the way.
///
/// # Formula
/// `ll(t) = -1/2 sum ln(v + t) - 1/2 y'P(t)y [- 1/2 ln det(X'W(t)X)]`; 0 wins when
/// `ll(0) - ll(tau2) > 1e-12 (1 + |ll(tau2)|)`.
fn zero_beats<S: Sums>(data: &S, at: &AtTau2, zero: &AtTau2, reml: bool) -> (bool, LogSums) {
    let (ln_v_tau2, ln_v) = data.ln_det_v_pair(at.tau2);
    let sums = LogSums {
        tau2: at.tau2,
        ln_v_tau2,
        ln_v,
    };
    let kernel = |a: &AtTau2, logdet: f64| {
        -0.5 * logdet - 0.5 * a.sums.q - if reml { 0.5 * a.logdet } else { 0.0 }
    };
    let ll = kernel(at, sums.ln_v_tau2);
    let ll0 = kernel(zero, sums.ln_v);
    (ll0 - ll > 1e-12 * (1.0 + ll.abs()), sums)
}
