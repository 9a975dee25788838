//! Weighted least squares through the QR decomposition of `sqrt(W) X` (nalgebra's
//! Householder QR), as metafor's `.invcalc` does with `qr.solve`.
//!
//! With `sqrt(W) X = Q R` (`Q` k x p with orthonormal columns, `R` p x p upper triangular):
//!
//! * `(X'WX)^-1 = R^-1 R^-T`;
//! * `beta = R^-1 Q' sqrt(W) y`;
//! * the leverages (diagonal of the hat matrix `W^1/2 X (X'WX)^-1 X' W^1/2`) are the squared
//!   row norms of `Q`;
//! * `ln det(X'WX) = 2 sum ln |R_jj|`.
//!
//! Everything is O(k p^2); no k x k matrix is formed.
//!
//! # References
//! Golub, G. H., & Van Loan, C. F. (2013). *Matrix computations* (4th ed.), ch. 5.
//! Johns Hopkins University Press.

use nalgebra::{DMatrix, DVector};

/// The QR decomposition of `sqrt(W) X`.
#[derive(Debug, Clone)]
pub(crate) struct WlsQr {
    q: DMatrix<f64>,
    r: DMatrix<f64>,
    sqrt_w: Vec<f64>,
}

impl WlsQr {
    /// Decomposes `sqrt(W) X` for weights `w(i) > 0`. `None` when `X` has no columns, more
    /// columns than rows, or `R` is (numerically) singular or not finite.
    pub(crate) fn new(x: &DMatrix<f64>, w: impl Fn(usize) -> f64) -> Option<Self> {
        let (k, p) = x.shape();
        if p == 0 || p > k {
            return None;
        }
        let sqrt_w: Vec<f64> = (0..k).map(|i| w(i).sqrt()).collect();
        let m = DMatrix::from_fn(k, p, |i, j| sqrt_w[i] * x[(i, j)]);
        let qr = m.qr();
        let r = qr.r();
        let q = qr.q();
        let rmax = (0..p).map(|j| r[(j, j)].abs()).fold(0.0, f64::max);
        if !(rmax.is_finite() && rmax > 0.0) {
            return None;
        }
        if (0..p).any(|j| !(r[(j, j)].abs() > rmax * 1e-14)) {
            return None;
        }
        Some(WlsQr { q, r, sqrt_w })
    }

    /// Number of columns `p`.
    pub(crate) fn p(&self) -> usize {
        self.q.ncols()
    }

    /// The thin `Q` factor (k x p).
    pub(crate) fn q(&self) -> &DMatrix<f64> {
        &self.q
    }

    /// `Q' sqrt(W) y` (length p).
    pub(crate) fn qtz(&self, y: &[f64]) -> DVector<f64> {
        let p = self.p();
        let mut c = DVector::zeros(p);
        for j in 0..p {
            let col = self.q.column(j);
            let mut s = 0.0;
            for (i, &yi) in y.iter().enumerate() {
                s += col[i] * self.sqrt_w[i] * yi;
            }
            c[j] = s;
        }
        c
    }

    /// Solves `R b = c` by back substitution.
    fn back_solve(&self, c: &DVector<f64>) -> DVector<f64> {
        let p = self.p();
        let mut b = c.clone();
        for j in (0..p).rev() {
            let mut s = b[j];
            for l in j + 1..p {
                s -= self.r[(j, l)] * b[l];
            }
            b[j] = s / self.r[(j, j)];
        }
        b
    }

    /// The WLS coefficients `beta = (X'WX)^-1 X'W y`.
    pub(crate) fn coefficients(&self, y: &[f64]) -> DVector<f64> {
        self.back_solve(&self.qtz(y))
    }

    /// `sqrt(w_i) (y_i - x_i' beta)`: the weighted residuals, computed as `(I - QQ') sqrt(W) y`.
    pub(crate) fn weighted_residuals(&self, y: &[f64]) -> Vec<f64> {
        let c = self.qtz(y);
        let p = self.p();
        y.iter()
            .enumerate()
            .map(|(i, &yi)| {
                let mut fit = 0.0;
                for j in 0..p {
                    fit += self.q[(i, j)] * c[j];
                }
                self.sqrt_w[i] * yi - fit
            })
            .collect()
    }

    /// `(X'WX)^-1 = R^-1 R^-T`.
    pub(crate) fn cov_unscaled(&self) -> DMatrix<f64> {
        let p = self.p();
        // R^-1 column by column
        let mut rinv = DMatrix::zeros(p, p);
        for j in 0..p {
            let mut e = DVector::zeros(p);
            e[j] = 1.0;
            let col = self.back_solve(&e);
            rinv.set_column(j, &col);
        }
        &rinv * rinv.transpose()
    }

    /// The leverage `h_i = ||Q_i||^2` (diagonal of the weighted hat matrix).
    pub(crate) fn leverage(&self, i: usize) -> f64 {
        let mut h = 0.0;
        for j in 0..self.p() {
            let q = self.q[(i, j)];
            h += q * q;
        }
        h
    }

    /// `ln det(X'WX) = 2 sum ln |R_jj|`.
    pub(crate) fn logdet(&self) -> f64 {
        (0..self.p())
            .map(|j| self.r[(j, j)].abs().ln())
            .sum::<f64>()
            * 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_normal_equations() {
        let x = DMatrix::from_row_slice(5, 2, &[1.0, 2.0, 1.0, 3.5, 1.0, -1.0, 1.0, 0.0, 1.0, 7.0]);
        let w = [1.0, 2.0, 0.5, 4.0, 3.0];
        let y = [0.3, 0.9, -0.4, 0.1, 1.7];
        let qr = WlsQr::new(&x, |i| w[i]).unwrap();
        // normal equations by hand
        let wm = DMatrix::from_diagonal(&DVector::from_row_slice(&w));
        let xtwx = x.transpose() * &wm * &x;
        let inv = xtwx.clone().try_inverse().unwrap();
        let beta = &inv * x.transpose() * &wm * DVector::from_row_slice(&y);
        let b = qr.coefficients(&y);
        for j in 0..2 {
            assert!((b[j] - beta[j]).abs() < 1e-13);
        }
        let a = qr.cov_unscaled();
        for i in 0..2 {
            for j in 0..2 {
                assert!((a[(i, j)] - inv[(i, j)]).abs() < 1e-13 * inv[(i, j)].abs().max(1.0));
            }
        }
        assert!((qr.logdet() - xtwx.determinant().ln()).abs() < 1e-12);
        let h = &x * &inv * x.transpose() * &wm;
        for i in 0..5 {
            assert!((qr.leverage(i) - h[(i, i)]).abs() < 1e-13);
        }
        let r = qr.weighted_residuals(&y);
        for i in 0..5 {
            let fit: f64 = (0..2).map(|j| x[(i, j)] * beta[j]).sum();
            assert!((r[i] - w[i].sqrt() * (y[i] - fit)).abs() < 1e-13);
        }
    }

    #[test]
    fn singular_design_is_rejected() {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        assert!(WlsQr::new(&x, |_| 1.0).is_none());
        let x = DMatrix::from_row_slice(1, 2, &[1.0, 2.0]);
        assert!(WlsQr::new(&x, |_| 1.0).is_none());
    }
}
