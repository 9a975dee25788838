//! Hedges (unweighted method of moments).

use super::{Control, Sums, Tau2Estimate, Terms, Weights, closed, done, moment_se};

/// The raw Hedges estimate, before truncation (also the start of Fisher scoring), with the
/// unweighted sums.
pub(super) fn raw<S: Sums>(data: &S) -> (f64, crate::model::PSums) {
    let s = data.psums(Weights::Unit, Terms::V);
    ((s.q - s.trpv) / data.df(), s)
}

/// Hedges (1983): the method-of-moments estimator with ordinary least squares.
///
/// # Formula
/// `tau2 = max(0, (RSS - tr(PV)) / (k - p))` with `W = I`;
/// `SE = sqrt(2 tr(PVPV) + 4 tau2 tr(PV) + 2 tau2^2 (k-p)) / (k - p)`.
///
/// # References
/// Hedges, L. V. (1983). A random effects model for effect sizes. *Psychological
/// Bulletin*, 93, 388-395.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control) -> Tau2Estimate {
    let (raw, s) = raw(data);
    let (tau2, reason) = closed(raw, ctrl.fixed);
    let df = data.df();
    let se = if ctrl.se {
        moment_se(s.trpvpv, s.trpv, df, df * df, tau2)
    } else {
        f64::NAN
    };
    done(tau2, se, reason)
}
