//! DerSimonian-Laird.

use super::{Control, Sums, Tau2Estimate, Terms, Weights, closed, done, moment_se};

/// DerSimonian-Laird (1986): the method-of-moments estimator with inverse-variance weights.
///
/// # Formula
/// `tau2 = max(0, (Q - (k - p)) / tr(P))` with `W = diag(1/v)`;
/// `SE = sqrt(2(k-p) + 4 tau2 tr(P) + 2 tau2^2 tr(PP)) / tr(P)`.
///
/// # References
/// DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
/// Clinical Trials*, 7, 177-188.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control) -> Tau2Estimate {
    let df = data.df();
    let s = data.psums(
        Weights::Inverse(0.0),
        if ctrl.se { Terms::Full } else { Terms::Q },
    );
    let (tau2, reason) = closed((s.q - df) / s.trp, ctrl.fixed);
    let se = if ctrl.se {
        moment_se(df, s.trp, s.trpp, s.trp * s.trp, tau2)
    } else {
        f64::NAN
    };
    done(tau2, se, reason).with_sums_at_zero(s)
}
