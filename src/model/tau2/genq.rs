//! The generalized Q-statistic estimator with user weights.

use super::{Control, StopReason, Sums, Tau2Estimate, Terms, Weights, closed, done, moment_se};

/// DerSimonian-Kacker (2007): the method of moments with the user weights `a` (NaN without
/// them; the settings reject GENQ without weights).
///
/// # Formula
/// `tau2 = max(0, (Q_a - tr(P_a V)) / tr(P_a))`;
/// `SE = sqrt(2 tr(PVPV) + 4 tau2 sum(PV*P) + 2 tau2^2 tr(PP)) / tr(P)`.
///
/// # References
/// DerSimonian, R., & Kacker, R. (2007). Random-effects model for meta-analysis of
/// clinical trials: An update. *Contemporary Clinical Trials*, 28, 105-114.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control) -> Tau2Estimate {
    let s = data.psums(Weights::User, Terms::V);
    if !s.sw.is_finite() {
        // no user weights
        return done(f64::NAN, f64::NAN, StopReason::NonFinite);
    }
    let (tau2, reason) = closed((s.q - s.trpv) / s.trp, ctrl.fixed);
    let se = if ctrl.se {
        moment_se(s.trpvpv, s.pvp, s.trpp, s.trp * s.trp, tau2)
    } else {
        f64::NAN
    };
    done(tau2, se, reason)
}
