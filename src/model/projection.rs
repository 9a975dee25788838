//! Summaries of the residual-maker `P = W - W X (X'WX)^{-1} X'W` for the intercept-only
//! model (`X = 1`), in O(k) time and O(1) extra memory: no k x k matrix is ever formed.
//!
//! With `h_i = w_i / sum(w)`:
//!
//! * `P_ii = w_i (1 - h_i)` and `P_ij = -w_i w_j / sum(w)` for `i != j`;
//! * `P y = w_i e_i` with `e_i = y_i - sum(w y)/sum(w)`, so `y'Py = sum w_i e_i^2` and
//!   `y'PPy = sum w_i^2 e_i^2`;
//! * `tr(P) = sum w_i (1 - h_i)`;
//! * `tr(PP) = sum_ij P_ij^2 = sum_i w_i^2 [(1 - h_i)^2 + (S2 - w_i^2) / sum(w)^2]`, `S2 = sum w^2`;
//! * `tr(PV) = sum w_i (1 - h_i) v_i`;
//! * `tr(PVPV) = sum_ij P_ij^2 v_i v_j`, `sum(PV * P) = sum_ij P_ij^2 v_j`, expanded the same way.

/// Everything the tau^2 estimators and their standard errors need from `P`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PSums {
    /// `sum(w)`
    pub sw: f64,
    /// `sum(w^2)`
    pub s2: f64,
    /// `y'Py`, the weighted residual sum of squares (Cochran's Q for `w = 1/v`).
    pub q: f64,
    /// `y'PPy`
    pub ypp: f64,
    /// `tr(P)`
    pub trp: f64,
    /// `tr(PP) = sum(P * P)`
    pub trpp: f64,
    /// `tr(PV)`
    pub trpv: f64,
    /// `tr(PVPV) = sum(PV * t(PV))`
    pub trpvpv: f64,
    /// `sum(PV * P)`
    pub pvp: f64,
}

/// Weighted mean and `Q = y'Py` only (two passes, no allocation).
pub(crate) fn weighted_q(y: &[f64], w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
    let mut sw = 0.0;
    let mut swy = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let wi = w(i);
        sw += wi;
        swy += wi * yi;
    }
    let mean = swy / sw;
    let mut q = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let e = yi - mean;
        q += w(i) * e * e;
    }
    (mean, sw, q)
}

/// All summaries of `P` for weights `w(i)`; the `V` terms (`trpv`, `trpvpv`, `pvp`) only
/// when `v` is given (they stay 0 otherwise).
pub(crate) fn psums(y: &[f64], v: Option<&[f64]>, w: impl Fn(usize) -> f64) -> PSums {
    let mut sw = 0.0;
    let mut swy = 0.0;
    let mut s2 = 0.0;
    let mut s2v = 0.0; // sum w^2 v
    for (i, &yi) in y.iter().enumerate() {
        let wi = w(i);
        sw += wi;
        swy += wi * yi;
        s2 += wi * wi;
        if let Some(v) = v {
            s2v += wi * wi * v[i];
        }
    }
    let mean = swy / sw;
    let sw2 = sw * sw;
    let mut out = PSums {
        sw,
        s2,
        ..PSums::default()
    };
    for (i, &yi) in y.iter().enumerate() {
        let wi = w(i);
        let e = yi - mean;
        let one_h = 1.0 - wi / sw;
        let wi2 = wi * wi;
        out.q += wi * e * e;
        out.ypp += wi2 * e * e;
        out.trp += wi * one_h;
        // sum_j P_ij^2 over j: the diagonal term plus the off-diagonal ones
        let off = (s2 - wi2) / sw2; // sum_{j != i} w_j^2 / sw^2
        out.trpp += wi2 * (one_h * one_h + off);
        if let Some(v) = v {
            let vi = v[i];
            out.trpv += wi * one_h * vi;
            // sum_j P_ij^2 v_j (for sum(PV * P)) and sum_j P_ij^2 v_i v_j (for tr(PVPV))
            let off_v = (s2v - wi2 * vi) / sw2; // sum_{j != i} w_j^2 v_j / sw^2
            out.pvp += wi2 * (one_h * one_h * vi + off_v);
            out.trpvpv += wi2 * vi * (one_h * one_h * vi + off_v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force P for a small example, to check every closed form.
    #[test]
    fn closed_forms_match_explicit_matrix() {
        let y = [0.3, -0.1, 0.8, 0.25];
        let v = [0.02, 0.1, 0.05, 0.3];
        let w = [3.0, 1.5, 7.0, 0.4];
        let k = 4;
        let sw: f64 = w.iter().sum();
        let mut p = [[0.0; 4]; 4];
        for i in 0..k {
            for j in 0..k {
                p[i][j] = if i == j { w[i] } else { 0.0 } - w[i] * w[j] / sw;
            }
        }
        let py: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| p[i][j] * y[j]).sum())
            .collect();
        let q: f64 = (0..k).map(|i| y[i] * py[i]).sum();
        let ypp: f64 = py.iter().map(|a| a * a).sum();
        let trp: f64 = (0..k).map(|i| p[i][i]).sum();
        let mut trpp = 0.0;
        let mut pvp = 0.0;
        let mut trpvpv = 0.0;
        for i in 0..k {
            for j in 0..k {
                trpp += p[i][j] * p[i][j];
                pvp += p[i][j] * v[j] * p[i][j];
                trpvpv += p[i][j] * v[j] * p[j][i] * v[i];
            }
        }
        let trpv: f64 = (0..k).map(|i| p[i][i] * v[i]).sum();
        let s = psums(&y, Some(&v), |i| w[i]);
        for (a, b) in [
            (s.q, q),
            (s.ypp, ypp),
            (s.trp, trp),
            (s.trpp, trpp),
            (s.trpv, trpv),
            (s.pvp, pvp),
            (s.trpvpv, trpvpv),
        ] {
            assert!((a - b).abs() <= 1e-13 * b.abs(), "{a} vs {b}");
        }
        let (_, _, q2) = weighted_q(&y, |i| w[i]);
        assert!((q2 - q).abs() <= 1e-13 * q);
    }
}
