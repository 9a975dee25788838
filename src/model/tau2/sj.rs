//! Sidik-Jonkman.

use super::{Control, Sums, Tau2Estimate, Terms, Weights, closed, done, moment_se};

/// Sidik-Jonkman (2005): two steps from the spread of the estimates.
///
/// # Formula
/// `tau2_0 = sum((y - mean(y))^2) / k` (the spread of `y` itself, also with moderators, as in
/// metafor; or the user's start), `w = 1/(v + tau2_0)`, `tau2 = tau2_0 Q / (k - p)`;
/// `SE = tau2_0 / (k-p) sqrt(2 tr(PVPV) + 4 tau2 sum(PV*P) + 2 tau2^2 tr(PP))`.
///
/// # References
/// Sidik, K., & Jonkman, J. N. (2005). Simple heterogeneity variance estimation for
/// meta-analysis. *JRSS C*, 54, 367-384.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control) -> Tau2Estimate {
    let df = data.df();
    let tau2_0 = ctrl.tau2_init.unwrap_or_else(|| data.spread());
    let s = data.psums(
        Weights::Inverse(tau2_0),
        if ctrl.se { Terms::V } else { Terms::Q },
    );
    let (tau2, reason) = closed(tau2_0 * s.q / df, ctrl.fixed);
    let se = if ctrl.se {
        let d = df / tau2_0;
        moment_se(s.trpvpv, s.pvp, s.trpp, d * d, tau2)
    } else {
        f64::NAN
    };
    done(tau2, se, reason)
}
