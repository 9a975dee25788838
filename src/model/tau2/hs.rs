//! Hunter-Schmidt (HS) and its small-sample variant (HSk).

use super::{Control, Sums, Tau2Estimate, Terms, Weights, closed, done, moment_se};

/// Hunter-Schmidt (2004), with the `k/(k-p)` correction when `small_sample` (HSk).
///
/// # Formula
/// `tau2 = max(0, (Q - k) / sum(w))` (HS) or `max(0, (k/(k-p) Q - k) / sum(w))` (HSk), `w = 1/v`;
/// `SE = sqrt(2(k-p) + 4 tau2 tr(P) + 2 tau2^2 tr(PP)) / sum(w)`, times `k/(k-p)` for HSk.
///
/// # References
/// Hunter, J. E., & Schmidt, F. L. (2004). *Methods of meta-analysis* (2nd ed.). Sage.
pub(super) fn estimate<S: Sums>(data: &S, ctrl: &Control, small_sample: bool) -> Tau2Estimate {
    let k = data.k() as f64;
    let df = data.df();
    let s = data.psums(
        Weights::Inverse(0.0),
        if ctrl.se { Terms::Full } else { Terms::Q },
    );
    let factor = if small_sample { k / df } else { 1.0 };
    let (tau2, reason) = closed((factor * s.q - k) / s.sw, ctrl.fixed);
    let se = if ctrl.se {
        factor * moment_se(df, s.trp, s.trpp, s.sw * s.sw, tau2)
    } else {
        f64::NAN
    };
    done(tau2, se, reason).with_sums_at_zero(s)
}
