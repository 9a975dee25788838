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
    /// [`Projector::psums`] without the `V` terms, for weights close to those of an earlier
    /// call whose weighted mean was `centre` (NaN when there is none), and the weighted mean
    /// of this call (NaN when the model has none to offer). Iterations pass the mean of one
    /// step as the centre of the next; the intercept-only model then needs one pass over
    /// the data instead of two.
    fn psums_near(&self, w: impl Fn(usize) -> f64, centre: f64) -> (PSums, f64) {
        let _ = centre;
        (self.psums(false, w), f64::NAN)
    }
    /// [`Projector::psums_near`] and `ln det(X'WX)`: `(sums, weighted mean, ln det)`, from
    /// one pass where the model allows.
    fn psums_near_logdet(&self, w: impl Fn(usize) -> f64, centre: f64) -> (PSums, f64, f64) {
        let (s, mean) = self.psums_near(&w, centre);
        (s, mean, self.q_logdet(w).1)
    }
    /// [`Projector::q_slope`] with a centre, as [`Projector::psums_near`]:
    /// `((sum(w), y'Py, y'PPy), weighted mean)`.
    fn q_slope_near(&self, w: impl Fn(usize) -> f64, centre: f64) -> ((f64, f64, f64), f64) {
        let _ = centre;
        (self.q_slope(w), f64::NAN)
    }
    /// `(y'Py, tr(PV), mean)` for unit weights (ordinary least squares): Hedges' sums, and
    /// the plain mean of `y` (NaN when the model has none to offer).
    fn unit_q_trpv(&self) -> (f64, f64, f64) {
        let s = self.psums(true, |_| 1.0);
        (s.q, s.trpv, f64::NAN)
    }
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
    #[inline]
    fn psums_near(&self, w: impl Fn(usize) -> f64, centre: f64) -> (PSums, f64) {
        psums_near(self.y, w, centre)
    }
    #[inline]
    fn q_slope_near(&self, w: impl Fn(usize) -> f64, centre: f64) -> ((f64, f64, f64), f64) {
        q_slope_near(self.y, w, centre)
    }
    #[inline]
    fn psums_near_logdet(&self, w: impl Fn(usize) -> f64, centre: f64) -> (PSums, f64, f64) {
        let (s, mean) = psums_near(self.y, w, centre);
        (s, mean, s.sw.ln())
    }
    /// Two lean passes (the default computes every summary of `P`): the same lanes and
    /// operations as [`psums`] with `w = 1` for these three, so the same values to the bit.
    fn unit_q_trpv(&self) -> (f64, f64, f64) {
        let (y, v) = (self.y, self.v);
        let k = y.len();
        let [sw, swy] = lane_sums(k, |i, a: &mut [f64; 2]| {
            a[0] += 1.0;
            a[1] += y[i];
        });
        let mean = swy / sw;
        let one_h = 1.0 - 1.0 / sw;
        let [q, trpv] = lane_sums(k, |i, a: &mut [f64; 2]| {
            let e = y[i] - mean;
            a[0] += e * e;
            a[1] += one_h * v[i];
        });
        (q, trpv, mean)
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

impl PSums {
    /// All fields NaN: the sums of a model that cannot supply them.
    pub(crate) fn nan() -> Self {
        NAN_SUMS
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
        match self.qr(&w) {
            Some(qr) => self.psums_qr(&qr, with_v, w),
            None => NAN_SUMS,
        }
    }

    fn psums_near_logdet(&self, w: impl Fn(usize) -> f64, _centre: f64) -> (PSums, f64, f64) {
        match self.qr(&w) {
            Some(qr) => (self.psums_qr(&qr, false, w), f64::NAN, qr.logdet()),
            None => (NAN_SUMS, f64::NAN, f64::NAN),
        }
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

impl DesignProjector<'_> {
    /// [`Projector::psums`] through the QR of `sqrt(W) X`.
    fn psums_qr(&self, qr: &WlsQr, with_v: bool, w: impl Fn(usize) -> f64) -> PSums {
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
}

/// Everything the tau^2 estimators and their standard errors need from `P`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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

/// Number of independent accumulators in the O(k) kernels. Floating-point addition is not
/// associative, so the compiler keeps one running sum in order, bound by the adder's latency;
/// four interleaved partial sums (study `i` goes to lane `i mod 4`, the lanes are added
/// pairwise at the end) run four times as fast and round no worse. The order is fixed, so
/// the results are the same on every run and thread count.
const LANES: usize = 4;

/// `N` sums over `i in 0..k` of `f(i, acc)`, accumulated in [`LANES`] interleaved lanes.
#[inline(always)]
fn lane_sums<const N: usize>(k: usize, f: impl Fn(usize, &mut [f64; N])) -> [f64; N] {
    let mut acc = [[0.0f64; N]; LANES];
    let full = k - k % LANES;
    let mut i = 0;
    while i < full {
        let mut t = [[0.0f64; N]; LANES];
        for (l, a) in t.iter_mut().enumerate() {
            f(i + l, a);
        }
        for n in 0..N {
            for l in 0..LANES {
                acc[l][n] += t[l][n];
            }
        }
        i += LANES;
    }
    for (l, j) in (full..k).enumerate() {
        f(j, &mut acc[l]);
    }
    let mut out = [0.0f64; N];
    for (n, o) in out.iter_mut().enumerate() {
        *o = (acc[0][n] + acc[1][n]) + (acc[2][n] + acc[3][n]);
    }
    out
}

/// Weighted mean and `Q = y'Py` only (two passes, no allocation).
pub(crate) fn weighted_q(y: &[f64], w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
    let [sw, swy] = lane_sums(y.len(), |i, a: &mut [f64; 2]| {
        let wi = w(i);
        a[0] += wi;
        a[1] += wi * y[i];
    });
    let mean = swy / sw;
    let [q] = lane_sums(y.len(), |i, a: &mut [f64; 1]| {
        let e = y[i] - mean;
        a[0] += w(i) * e * e;
    });
    (mean, sw, q)
}

/// `(sum(w), y'Py, y'PPy)` in two passes, no allocation.
pub(crate) fn q_slope(y: &[f64], w: impl Fn(usize) -> f64) -> (f64, f64, f64) {
    let (_, sw, q, ypp) = q_slope_mean(y, w);
    (sw, q, ypp)
}

/// `(mean, sum(w), y'Py, y'PPy)` in two passes.
fn q_slope_mean(y: &[f64], w: impl Fn(usize) -> f64) -> (f64, f64, f64, f64) {
    let [sw, swy] = lane_sums(y.len(), |i, a: &mut [f64; 2]| {
        let wi = w(i);
        a[0] += wi;
        a[1] += wi * y[i];
    });
    let mean = swy / sw;
    let [q, ypp] = lane_sums(y.len(), |i, a: &mut [f64; 2]| {
        let e = y[i] - mean;
        let wi = w(i);
        let we2 = wi * e * e;
        a[0] += we2;
        a[1] += wi * we2;
    });
    (mean, sw, q, ypp)
}

/// Whether sums about a centre `c` keep the precision of sums about the weighted mean:
/// `sum w (y - mean)^2 = sum w d^2 - sum(w d)^2 / sum(w)` with `d = y - c` loses at most one
/// bit while the subtracted term is at most half the first.
#[inline]
fn well_centred(total: f64, correction: f64) -> bool {
    total.is_finite() && correction.is_finite() && correction.abs() <= 0.5 * total
}

/// `((sum(w), y'Py, y'PPy), mean)` in one pass when `centre` is near the weighted mean,
/// two otherwise (a `centre` that is NaN is replaced by the plain mean of `y`).
///
/// # Formula
/// With `d = y - centre`, `S_j = sum w d^j`, `T_j = sum w^2 d^j` and `delta = S_1 / S_0`
/// (the mean is `centre + delta`): `y'Py = S_2 - delta S_1`,
/// `y'PPy = T_2 - delta (2 T_1 - delta T_0)`.
pub(crate) fn q_slope_near(
    y: &[f64],
    w: impl Fn(usize) -> f64,
    centre: f64,
) -> ((f64, f64, f64), f64) {
    q_slope_one_pass(y, &w, or_plain_mean(y, centre)).unwrap_or_else(|| {
        let (mean, sw, q, ypp) = q_slope_mean(y, w);
        ((sw, q, ypp), mean)
    })
}

/// The one pass of [`q_slope_near`], or `None` when `centre` would cost precision.
fn q_slope_one_pass(
    y: &[f64],
    w: impl Fn(usize) -> f64,
    centre: f64,
) -> Option<((f64, f64, f64), f64)> {
    if !centre.is_finite() {
        return None;
    }
    {
        let [s0, s1, s2, t0, t1, t2] = lane_sums(y.len(), |i, a: &mut [f64; 6]| {
            let wi = w(i);
            let d = y[i] - centre;
            let wd = wi * d;
            a[0] += wi;
            a[1] += wd;
            a[2] += wd * d;
            a[3] += wi * wi;
            a[4] += wi * wd;
            a[5] += wi * wd * d;
        });
        let delta = s1 / s0;
        let cq = delta * s1;
        let cy = delta * (2.0 * t1 - delta * t0);
        (well_centred(s2, cq) && well_centred(t2, cy))
            .then_some(((s0, s2 - cq, t2 - cy), centre + delta))
    }
}

/// [`psums`] without the `V` terms and the weighted mean, in one pass when `centre` is near
/// that mean, two otherwise (a `centre` that is NaN is replaced by the plain mean of `y`).
///
/// # Formula
/// As [`q_slope_near`] for `y'Py` and `y'PPy`; with `U = sum w^3`,
/// `tr(P) = S_0 - T_0 / S_0` and `tr(PP) = T_0 - 2 U / S_0 + (T_0 / S_0)^2`, used while no
/// weight exceeds half their sum (`T_0 <= S_0^2 / 4`).
pub(crate) fn psums_near(y: &[f64], w: impl Fn(usize) -> f64, centre: f64) -> (PSums, f64) {
    psums_one_pass(y, &w, or_plain_mean(y, centre)).unwrap_or_else(|| psums_mean(y, None, w))
}

/// `centre`, or when it is not finite (no earlier weighted mean), the plain mean of `y`: a
/// pass without divisions (the weights cost one each) that usually lets the weighted sums
/// take one pass instead of two.
#[inline]
fn or_plain_mean(y: &[f64], centre: f64) -> f64 {
    if centre.is_finite() {
        return centre;
    }
    let [s] = lane_sums(y.len(), |i, a: &mut [f64; 1]| a[0] += y[i]);
    s / y.len() as f64
}

/// The one pass of [`psums_near`], or `None` when `centre` or the weights would cost
/// precision.
fn psums_one_pass(y: &[f64], w: impl Fn(usize) -> f64, centre: f64) -> Option<(PSums, f64)> {
    if !centre.is_finite() {
        return None;
    }
    {
        let [s0, s1, s2, t0, t1, t2, u] = lane_sums(y.len(), |i, a: &mut [f64; 7]| {
            let wi = w(i);
            let d = y[i] - centre;
            let wd = wi * d;
            let w2 = wi * wi;
            a[0] += wi;
            a[1] += wd;
            a[2] += wd * d;
            a[3] += w2;
            a[4] += wi * wd;
            a[5] += wi * wd * d;
            a[6] += w2 * wi;
        });
        let delta = s1 / s0;
        let cq = delta * s1;
        let cy = delta * (2.0 * t1 - delta * t0);
        // The one-pass tr(PP) cancels to second order in 1 - max(h) as one weight comes to
        // dominate (h = w / sum w); sum h^2 <= 1/4 keeps every h <= 1/2, where the three
        // terms are at most 12 times the result.
        let spread_weights = t0 <= 0.25 * s0 * s0;
        if !(spread_weights && well_centred(s2, cq) && well_centred(t2, cy)) {
            return None;
        }
        let h2 = t0 / s0; // sum w^2 / sum w
        let sums = PSums {
            sw: s0,
            s2: t0,
            q: s2 - cq,
            ypp: t2 - cy,
            trp: s0 - h2,
            trpp: t0 - 2.0 * u / s0 + h2 * h2,
            ..PSums::default()
        };
        Some((sums, centre + delta))
    }
}

/// All summaries of `P` for weights `w(i)`; the `V` terms (`trpv`, `trpvpv`, `pvp`) only
/// when `v` is given (they stay 0 otherwise).
pub(crate) fn psums(y: &[f64], v: Option<&[f64]>, w: impl Fn(usize) -> f64) -> PSums {
    psums_mean(y, v, w).0
}

/// [`psums`] and the weighted mean.
fn psums_mean(y: &[f64], v: Option<&[f64]>, w: impl Fn(usize) -> f64) -> (PSums, f64) {
    let k = y.len();
    let first = |i: usize, a: &mut [f64; 3]| {
        let wi = w(i);
        a[0] += wi;
        a[1] += wi * y[i];
        a[2] += wi * wi;
    };
    let (sw, swy, s2, s2v) = match v {
        None => {
            let [sw, swy, s2] = lane_sums(k, first);
            (sw, swy, s2, 0.0)
        }
        Some(v) => {
            let [sw, swy, s2, s2v] = lane_sums(k, |i, a: &mut [f64; 4]| {
                let wi = w(i);
                a[0] += wi;
                a[1] += wi * y[i];
                a[2] += wi * wi;
                a[3] += wi * wi * v[i]; // sum w^2 v
            });
            (sw, swy, s2, s2v)
        }
    };
    let mean = swy / sw;
    // reciprocals: a multiplication per study instead of a division
    let inv_sw = 1.0 / sw;
    let inv_sw2 = inv_sw * inv_sw;
    let mut out = PSums {
        sw,
        s2,
        ..PSums::default()
    };
    // per study: the diagonal term of P plus the off-diagonal ones, sum_{j != i} P_ij^2 (...)
    let second = |i: usize, a: &mut [f64; 4]| {
        let wi = w(i);
        let e = y[i] - mean;
        let one_h = 1.0 - wi * inv_sw;
        let wi2 = wi * wi;
        a[0] += wi * e * e;
        a[1] += wi2 * e * e;
        a[2] += wi * one_h;
        let off = (s2 - wi2) * inv_sw2; // sum_{j != i} w_j^2 / sw^2
        a[3] += wi2 * (one_h * one_h + off);
    };
    match v {
        None => {
            [out.q, out.ypp, out.trp, out.trpp] = lane_sums(k, second);
        }
        Some(v) => {
            [
                out.q, out.ypp, out.trp, out.trpp, out.trpv, out.pvp, out.trpvpv,
            ] = lane_sums(k, |i, a: &mut [f64; 7]| {
                let wi = w(i);
                let e = y[i] - mean;
                let one_h = 1.0 - wi * inv_sw;
                let wi2 = wi * wi;
                a[0] += wi * e * e;
                a[1] += wi2 * e * e;
                a[2] += wi * one_h;
                let off = (s2 - wi2) * inv_sw2;
                a[3] += wi2 * (one_h * one_h + off);
                let vi = v[i];
                a[4] += wi * one_h * vi;
                // sum_j P_ij^2 v_j (for sum(PV * P)) and sum_j P_ij^2 v_i v_j (for tr(PVPV))
                let off_v = (s2v - wi2 * vi) * inv_sw2; // sum_{j != i} w_j^2 v_j / sw^2
                a[5] += wi2 * (one_h * one_h * vi + off_v);
                a[6] += wi2 * vi * (one_h * one_h * vi + off_v);
            });
        }
    }
    (out, mean)
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

    /// The one-pass centred sums equal the two-pass ones, from a good centre (one pass), a
    /// poor one (the fallback) and none, on spread-out data with a dominant study.
    #[test]
    fn centred_sums_equal_two_pass_sums() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut u = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for &(k, shift) in &[
            (2usize, 0.0),
            (5, 1e3),
            (37, -2.0),
            (1000, 1e6),
            (4001, 0.5),
        ] {
            let y: Vec<f64> = (0..k).map(|_| shift + 3.0 * (u() - 0.5)).collect();
            let mut v: Vec<f64> = (0..k).map(|_| 0.01 + u()).collect();
            for (dominant, tau2) in [
                (false, 0.0),
                (false, 0.3),
                (true, 0.0),
                (true, 0.3),
                (true, 50.0),
            ] {
                if dominant {
                    v[k / 2] = 1e-6;
                }
                let w = |i: usize| 1.0 / (v[i] + tau2);
                // the reference: two passes over y - shift (exact by Sterbenz's lemma), so
                // that its mean carries no rounding of order ulp(shift)
                let ys: Vec<f64> = y.iter().map(|a| a - shift).collect();
                let exact = psums(&ys, None, w);
                let sw: f64 = (0..k).map(w).sum();
                let mean = shift + (0..k).map(|i| w(i) * ys[i]).sum::<f64>() / sw;
                let spread = y.iter().map(|a| (a - mean).abs()).fold(0.0, f64::max);
                // which path runs: one pass from a good centre with spread-out weights, the
                // fallback from a poor centre (the dominant study also forces it at tau2 = 0)
                let good = mean + 1e-3 * spread;
                if !dominant && k >= 5 {
                    assert!(psums_one_pass(&y, w, good).is_some(), "k {k} tau2 {tau2}");
                    assert!(q_slope_one_pass(&y, w, good).is_some(), "k {k} tau2 {tau2}");
                }
                if dominant && tau2 == 0.0 {
                    assert!(psums_one_pass(&y, w, good).is_none());
                }
                assert!(psums_one_pass(&y, w, mean + 40.0 * spread).is_none());
                assert!(q_slope_one_pass(&y, w, mean + 40.0 * spread).is_none());
                for centre in [good, mean + 40.0 * spread, f64::NAN] {
                    let (s, m) = psums_near(&y, w, centre);
                    let ((sw2, q2, ypp2), m2) = q_slope_near(&y, w, centre);
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
                    // y'PPy moves at first order with the mean (by -2 sum w^2 e), and any
                    // mean of y stored in f64 is off by up to ulp(mean): that much more
                    // is allowed (the dominant study makes it 1e-9 relative at shift 1e3)
                    let slope: f64 = (0..k).map(|i| w(i) * w(i) * (ys[i] - (mean - shift))).sum();
                    let ypp_tol = 1e-12 * exact.ypp + 4.0 * slope.abs() * f64::EPSILON * mean.abs();
                    for (name, a, b) in [
                        ("sw", s.sw, exact.sw),
                        ("s2", s.s2, exact.s2),
                        ("q", s.q, exact.q),
                        ("trp", s.trp, exact.trp),
                        ("trpp", s.trpp, exact.trpp),
                        ("q (slope)", q2, exact.q),
                        ("sw (slope)", sw2, exact.sw),
                    ] {
                        assert!(
                            close(a, b),
                            "k {k} tau2 {tau2} c {centre} {name}: {a} vs {b}"
                        );
                    }
                    for (name, a) in [("ypp", s.ypp), ("ypp (slope)", ypp2)] {
                        assert!(
                            (a - exact.ypp).abs() <= ypp_tol,
                            "k {k} tau2 {tau2} c {centre} {name}: {a} vs {} (tol {ypp_tol})",
                            exact.ypp
                        );
                    }
                    let tol = 1e-12 * (mean.abs() + spread);
                    assert!((m - mean).abs() <= tol && (m2 - mean).abs() <= tol);
                }
            }
        }
    }
}
