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
//!
//! The estimators see `P` only through the [`Projector`] trait, implemented by the O(k)
//! intercept-only code ([`InterceptOnly`]) and by a general design matrix
//! ([`DesignProjector`], O(k p^2) with p x p algebra only).
//!
//! # General design
//! With `sqrt(W) X = Q R` (thin QR), `h_i = ||q_i||^2` (the leverages), `e = y - X beta`,
//! `M = Q' W Q = sum_i w_i q_i q_i'` and `N = Q' W V Q = sum_i w_i v_i q_i q_i'`
//! (both p x p), `P_ii = w_i (1 - h_i)` and `P_ij = -sqrt(w_i w_j) q_i'q_j`, so that
//!
//! * `y'Py = sum w_i e_i^2`, `y'PPy = sum w_i^2 e_i^2`;
//! * `tr(P) = sum w_i (1 - h_i)`, `tr(PV) = sum w_i (1 - h_i) v_i`;
//! * `tr(PP) = sum w_i^2 (1 - h_i)^2 + (||M||_F^2 - sum w_i^2 h_i^2)`;
//! * `sum(PV * P) = sum w_i^2 (1 - h_i)^2 v_i + (<M, N>_F - sum w_i^2 v_i h_i^2)`;
//! * `tr(PVPV) = sum w_i^2 (1 - h_i)^2 v_i^2 + (||N||_F^2 - sum w_i^2 v_i^2 h_i^2)`;
//!
//! the brackets being the (non-negative) off-diagonal sums `sum_{i != j} P_ij^2 (...)`.
//! These equal `sum w^2 - 2 sum w_i^2 h_i + tr(ABAB)` etc. with `A = (X'WX)^-1`,
//! `B = X'W^2X`, since `tr(ABAB) = ||M||_F^2`.

use nalgebra::DMatrix;

use crate::numeric::wls::WlsQr;

/// What the tau^2 estimators need from a model: the data and the summaries of
/// `P = W - W X (X'WX)^-1 X'W` for given weights.
pub(crate) trait Projector {
    /// Number of studies.
    fn k(&self) -> usize;
    /// Number of fixed-effect coefficients.
    fn p(&self) -> usize;
    /// Estimates (metafor's centred `Ymc` for a general design; the quadratic forms in `P`
    /// are the same for `y` and `Ymc` whenever the design has an intercept).
    fn y(&self) -> &[f64];
    /// Sampling variances.
    fn v(&self) -> &[f64];
    /// All summaries of `P` for weights `w(i)`; the `V` terms only when `with_v`.
    fn psums(&self, with_v: bool, w: impl Fn(usize) -> f64) -> PSums;
    /// `(sum(w), y'Py)`.
    fn weighted_q(&self, w: impl Fn(usize) -> f64) -> (f64, f64);
    /// `(sum(w), y'Py, y'PPy)`: `Q(tau2)` and minus its derivative when `w = 1/(v + tau2)`.
    fn q_slope(&self, w: impl Fn(usize) -> f64) -> (f64, f64, f64);
    /// `(y'Py, ln det(X'WX))`.
    fn q_logdet(&self, w: impl Fn(usize) -> f64) -> (f64, f64);
    /// Residual degrees of freedom `k - p`.
    fn df(&self) -> f64 {
        self.k() as f64 - self.p() as f64
    }
}

/// The intercept-only model `X = 1`: O(k), no allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InterceptOnly<'a> {
    pub y: &'a [f64],
    pub v: &'a [f64],
}

impl Projector for InterceptOnly<'_> {
    fn k(&self) -> usize {
        self.y.len()
    }
    fn p(&self) -> usize {
        1
    }
    fn y(&self) -> &[f64] {
        self.y
    }
    fn v(&self) -> &[f64] {
        self.v
    }
    #[inline]
    fn psums(&self, with_v: bool, w: impl Fn(usize) -> f64) -> PSums {
        psums(self.y, with_v.then_some(self.v), w)
    }
    #[inline]
    fn weighted_q(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let (_, sw, q) = weighted_q(self.y, w);
        (sw, q)
    }
    #[inline]
    fn q_slope(&self, w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
        q_slope(self.y, w)
    }
    #[inline]
    fn q_logdet(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let (_, sw, q) = weighted_q(self.y, w);
        (q, sw.ln())
    }
}

/// A general full-rank design matrix `X` (k x p): O(k p^2) per evaluation through the QR
/// of `sqrt(W) X`.
#[derive(Debug, Clone)]
pub(crate) struct DesignProjector<'a> {
    y: Vec<f64>,
    v: &'a [f64],
    x: &'a DMatrix<f64>,
}

impl<'a> DesignProjector<'a> {
    /// `y` as given (for metafor's Q-profile, which uses the raw `yi`).
    pub(crate) fn new(y: Vec<f64>, v: &'a [f64], x: &'a DMatrix<f64>) -> Self {
        DesignProjector { y, v, x }
    }

    /// `y` centred at its mean (metafor's `Ymc`, used by every tau^2 estimator and QE).
    pub(crate) fn centred(y: &[f64], v: &'a [f64], x: &'a DMatrix<f64>) -> Self {
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        Self::new(y.iter().map(|a| a - mean).collect(), v, x)
    }

    fn qr(&self, w: impl Fn(usize) -> f64) -> Option<WlsQr> {
        WlsQr::new(self.x, w)
    }
}

const NAN_SUMS: PSums = PSums {
    sw: f64::NAN,
    s2: f64::NAN,
    q: f64::NAN,
    ypp: f64::NAN,
    trp: f64::NAN,
    trpp: f64::NAN,
    trpv: f64::NAN,
    trpvpv: f64::NAN,
    pvp: f64::NAN,
};

impl Projector for DesignProjector<'_> {
    fn k(&self) -> usize {
        self.y.len()
    }
    fn p(&self) -> usize {
        self.x.ncols()
    }
    fn y(&self) -> &[f64] {
        &self.y
    }
    fn v(&self) -> &[f64] {
        self.v
    }

    fn psums(&self, with_v: bool, w: impl Fn(usize) -> f64) -> PSums {
        let Some(qr) = self.qr(&w) else {
            return NAN_SUMS;
        };
        let k = self.k();
        let p = self.p();
        let q = qr.q();
        let r = qr.weighted_residuals(&self.y);
        let mut m = DMatrix::<f64>::zeros(p, p);
        let mut n = DMatrix::<f64>::zeros(p, p);
        let mut out = PSums::default();
        let mut diag_pp = 0.0; // sum w^2 h^2
        let mut diag_pvp = 0.0; // sum w^2 v h^2
        let mut diag_pvpv = 0.0; // sum w^2 v^2 h^2
        for i in 0..k {
            let wi = w(i);
            let wi2 = wi * wi;
            let h = qr.leverage(i);
            let one_h = 1.0 - h;
            out.sw += wi;
            out.s2 += wi2;
            out.q += r[i] * r[i];
            out.ypp += wi * r[i] * r[i];
            out.trp += wi * one_h;
            out.trpp += wi2 * one_h * one_h;
            diag_pp += wi2 * h * h;
            for a in 0..p {
                let qa = q[(i, a)];
                for b in 0..=a {
                    m[(a, b)] += wi * qa * q[(i, b)];
                }
            }
            if with_v {
                let vi = self.v[i];
                out.trpv += wi * one_h * vi;
                out.pvp += wi2 * one_h * one_h * vi;
                out.trpvpv += wi2 * one_h * one_h * vi * vi;
                diag_pvp += wi2 * vi * h * h;
                diag_pvpv += wi2 * vi * vi * h * h;
                for a in 0..p {
                    let qa = q[(i, a)];
                    for b in 0..=a {
                        n[(a, b)] += wi * vi * qa * q[(i, b)];
                    }
                }
            }
        }
        // Frobenius products of the symmetric M, N from their lower triangles
        let (mut mm, mut mn, mut nn) = (0.0, 0.0, 0.0);
        for a in 0..p {
            for b in 0..=a {
                let f = if a == b { 1.0 } else { 2.0 };
                mm += f * m[(a, b)] * m[(a, b)];
                mn += f * m[(a, b)] * n[(a, b)];
                nn += f * n[(a, b)] * n[(a, b)];
            }
        }
        out.trpp += (mm - diag_pp).max(0.0);
        if with_v {
            out.pvp += (mn - diag_pvp).max(0.0);
            out.trpvpv += (nn - diag_pvpv).max(0.0);
        }
        out
    }

    fn weighted_q(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let Some(qr) = self.qr(&w) else {
            return (f64::NAN, f64::NAN);
        };
        let sw = (0..self.k()).map(&w).sum();
        let q = qr.weighted_residuals(&self.y).iter().map(|r| r * r).sum();
        (sw, q)
    }

    fn q_slope(&self, w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
        let Some(qr) = self.qr(&w) else {
            return (f64::NAN, f64::NAN, f64::NAN);
        };
        let r = qr.weighted_residuals(&self.y);
        let (mut sw, mut q, mut ypp) = (0.0, 0.0, 0.0);
        for (i, ri) in r.iter().enumerate() {
            let wi = w(i);
            sw += wi;
            q += ri * ri;
            ypp += wi * ri * ri;
        }
        (sw, q, ypp)
    }

    fn q_logdet(&self, w: impl Fn(usize) -> f64) -> (f64, f64) {
        let Some(qr) = self.qr(&w) else {
            return (f64::NAN, f64::NAN);
        };
        let q = qr.weighted_residuals(&self.y).iter().map(|r| r * r).sum();
        (q, qr.logdet())
    }
}

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

/// `(sum(w), y'Py, y'PPy)` in two passes, no allocation (each `w(i)` is evaluated twice).
pub(crate) fn q_slope(y: &[f64], w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
    let mut sw = 0.0;
    let mut swy = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let wi = w(i);
        sw += wi;
        swy += wi * yi;
    }
    let mean = swy / sw;
    let mut q = 0.0;
    let mut ypp = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let e = yi - mean;
        let we2 = w(i) * e * e;
        q += we2;
        ypp += w(i) * we2;
    }
    (sw, q, ypp)
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

    /// Brute-force k x k `P` for a general design, against every closed form of
    /// [`DesignProjector`]; and the design `X = 1` against [`InterceptOnly`].
    #[test]
    fn general_design_matches_explicit_matrix() {
        use nalgebra::DVector;
        let k = 7;
        let y = [0.3, -0.1, 0.8, 0.25, 1.1, -0.6, 0.05];
        let v = [0.02, 0.1, 0.05, 0.3, 0.07, 0.2, 0.01];
        let w = [3.0, 1.5, 7.0, 0.4, 2.2, 0.9, 12.0];
        let x = DMatrix::from_row_slice(
            k,
            3,
            &[
                1.0, 13.0, 0.0, 1.0, 44.0, 1.0, 1.0, 27.0, 0.0, 1.0, 52.0, 1.0, 1.0, 19.0, 1.0,
                1.0, 33.0, 0.0, 1.0, 42.0, 0.0,
            ],
        );
        let wm = DMatrix::from_diagonal(&DVector::from_row_slice(&w));
        let vm = DMatrix::from_diagonal(&DVector::from_row_slice(&v));
        let inv = (x.transpose() * &wm * &x).try_inverse().unwrap();
        let p = &wm - &wm * &x * &inv * x.transpose() * &wm;
        let yv = DVector::from_row_slice(&y);
        let py = &p * &yv;
        let pp = &p * &p;
        let pv = &p * &vm;
        let pvpv = &pv * &pv;
        let expect = [
            ("q", yv.dot(&py)),
            ("ypp", py.dot(&py)),
            ("trp", p.trace()),
            ("trpp", pp.trace()),
            ("trpv", pv.trace()),
            ("pvp", pv.component_mul(&p).sum()),
            ("trpvpv", pvpv.trace()),
        ];
        let proj = DesignProjector::new(y.to_vec(), &v, &x);
        let s = proj.psums(true, |i| w[i]);
        let got = [s.q, s.ypp, s.trp, s.trpp, s.trpv, s.pvp, s.trpvpv];
        for ((name, e), g) in expect.iter().zip(got) {
            assert!((g - e).abs() <= 1e-12 * e.abs(), "{name}: {g} vs {e}");
        }
        assert!((s.sw - w.iter().sum::<f64>()).abs() < 1e-12);
        let (_, q) = proj.weighted_q(|i| w[i]);
        assert!((q - s.q).abs() <= 1e-12 * s.q);
        let (_, ld) = proj.q_logdet(|i| w[i]);
        let det = (x.transpose() * &wm * &x).determinant();
        assert!((ld - det.ln()).abs() < 1e-12);

        // X = 1 through the general code equals the O(k) code
        let ones = DMatrix::from_element(k, 1, 1.0);
        let g = DesignProjector::new(y.to_vec(), &v, &ones).psums(true, |i| w[i]);
        let o = InterceptOnly { y: &y, v: &v }.psums(true, |i| w[i]);
        for (a, b) in [
            (g.q, o.q),
            (g.ypp, o.ypp),
            (g.trp, o.trp),
            (g.trpp, o.trpp),
            (g.trpv, o.trpv),
            (g.pvp, o.pvp),
            (g.trpvpv, o.trpvpv),
        ] {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        // centring does not change the quadratic forms when X has an intercept
        let c = DesignProjector::centred(&y, &v, &x).psums(false, |i| w[i]);
        assert!((c.q - s.q).abs() <= 1e-12 * s.q);
    }
}
