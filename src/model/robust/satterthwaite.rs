//! Satterthwaite degrees of freedom of CR2 standard errors and the HTZ test, in
//! O(m (q p)^2) instead of clubSandwich's loop over the m^2 pairs of clusters.
//!
//! # Formula
//!
//! For a contrast `c`, the CR2 variance estimate is a quadratic form in the errors,
//! `c' V_CR2 c = sum_j (g_j' eps)^2` with `g_j = (I - H)_{j.}' A_j W_j X_j B c`. Under the
//! working model `Var(eps) = Phi` its mean and variance are those of
//! `sum_j sum_k P_jk`-weighted chi-squares, with
//!
//! ```text
//! P_jk = g_j' Phi g_k = delta_jk c'Delta_j c - (c'B K_j') B (K_k B c),   K_j = X_j' A_j W_j X_j
//! ```
//!
//! because `(I - H) Phi (I - H)' = Phi - X B X'` when `W = Phi^-1` (Pustejovsky & Tipton
//! 2018, section 3). The Satterthwaite degrees of freedom are
//! `nu = (sum_j P_jj)^2 / sum_j sum_k P_jk^2`. The double sum is what clubSandwich forms
//! as an m x m array. Writing `y_j = c' Psi_j` (a p-vector, `Psi_j = B K_j' L_B`,
//! `L_B L_B' = B`), the off-diagonal part is a Frobenius norm of a p x p sum:
//!
//! ```text
//! sum_{j != k} P_jk^2 = sum_{j,k} (y_j . y_k)^2 - sum_j |y_j|^4 = |S|_F^2 - sum_j |y_j|^4,
//! S = sum_j y_j y_j'
//! ```
//!
//! so `nu = E^2 / (sum_j (d_j - |y_j|^2)^2 + |S|_F^2 - sum_j |y_j|^4)` with
//! `d_j = c'Delta_j c` and `E = sum_j (d_j - |y_j|^2)`: one pass over the clusters.
//!
//! The HTZ test of `q` constraints `C beta = 0` (Tipton & Pustejovsky 2015) needs
//! `sum_{j,k} [tr(B_jk^2) + tr(B_jk)^2]` for the q x q blocks
//! `B_jk = Omega^{-1/2} P_jk Omega^{-1/2}`, `Omega = sum_j P_jj`. With `C~ = Omega^{-1/2} C`,
//! `Y_j = C~ Psi_j` (q x p) and `D_j = C~ Delta_j C~'`, `B_jk = delta_jk D_j - Y_j Y_k'`, and
//! with `s = sum_j vec(Y_j) vec(Y_j)'` (qp x qp)
//!
//! ```text
//! sum_{j,k} tr((Y_j Y_k')^2) = sum_{a,b,c,d} s[(a,b),(c,d)] s[(c,b),(a,d)],
//! sum_{j,k} tr(Y_j Y_k')^2   = |s|_F^2,
//! ```
//!
//! to which the diagonal blocks' `D_j` terms are added exactly. HTZ's degrees of freedom
//! are `nu = q (q + 1) / total`, its F statistic `(nu - q + 1)/(nu q) Q` on `q` and
//! `nu - q + 1` df.

use nalgebra::{DMatrix, SymmetricEigen};

use super::sandwich::Piece;

/// Satterthwaite degrees of freedom of every coefficient.
pub(crate) fn coefficient_df(pieces: &[Piece], p: usize) -> Vec<f64> {
    let mut e = vec![0.0; p];
    let mut diag = vec![0.0; p];
    let mut sub = vec![0.0; p];
    // s[i] = sum_j y_j y_j' for coefficient i (p x p each)
    let mut s = vec![DMatrix::<f64>::zeros(p, p); p];
    for pc in pieces {
        for i in 0..p {
            let y = pc.psi.row(i);
            let yy = y.norm_squared();
            let pjj = pc.delta[(i, i)] - yy;
            e[i] += pjj;
            diag[i] += pjj * pjj;
            sub[i] += yy * yy;
            let si = &mut s[i];
            for a in 0..p {
                for b in 0..p {
                    si[(a, b)] += y[a] * y[b];
                }
            }
        }
    }
    (0..p)
        .map(|i| {
            let off = (s[i].norm_squared() - sub[i]).max(0.0);
            e[i] * e[i] / (diag[i] + off)
        })
        .collect()
}

/// `Omega = C (sum_j Delta_j - sum_j Psi_j Psi_j') C'`, the expected CR2 covariance of `C beta`
/// under the working model.
pub(crate) fn omega(pieces: &[Piece], c: &DMatrix<f64>) -> DMatrix<f64> {
    let p = c.ncols();
    let mut m = DMatrix::<f64>::zeros(p, p);
    for pc in pieces {
        m += &pc.delta;
        m -= &pc.psi * pc.psi.transpose();
    }
    c * m * c.transpose()
}

/// `x^{-1/2}` of a symmetric matrix over the eigenvalues `> floor` (others mapped to 0):
/// clubSandwich's `matrix_power(x, -1/2)`.
pub(crate) fn inv_sqrt(x: &DMatrix<f64>, floor: f64) -> DMatrix<f64> {
    let n = x.nrows();
    let sym = DMatrix::from_fn(n, n, |r, c| 0.5 * (x[(r, c)] + x[(c, r)]));
    let eig = SymmetricEigen::new(sym);
    let f = eig
        .eigenvalues
        .map(|l| if l > floor { 1.0 / l.sqrt() } else { 0.0 });
    let v = &eig.eigenvectors;
    v * DMatrix::from_diagonal(&f) * v.transpose()
}

/// HTZ's degrees of freedom `nu` for the constraints `c` (q x p); `omega_floor` is the
/// eigenvalue threshold of `Omega^{-1/2}`.
pub(crate) fn htz_nu(pieces: &[Piece], c: &DMatrix<f64>, omega_floor: f64) -> f64 {
    let q = c.nrows();
    let p = c.ncols();
    let o = inv_sqrt(&omega(pieces, c), omega_floor);
    let ct = &o * c;
    let qp = q * p;
    let mut s = DMatrix::<f64>::zeros(qp, qp);
    let mut diag = 0.0;
    let mut sub = 0.0;
    for pc in pieces {
        let d = &ct * &pc.delta * ct.transpose();
        let y = &ct * &pc.psi;
        let n = &y * y.transpose();
        let bjj = &d - &n;
        diag += bjj.norm_squared() + bjj.trace().powi(2);
        sub += n.norm_squared() + n.trace().powi(2);
        // column-major vec(Y): index a + q b
        let v = y.as_slice();
        for r in 0..qp {
            let vr = v[r];
            for cc in 0..qp {
                s[(r, cc)] += vr * v[cc];
            }
        }
    }
    let idx = |a: usize, b: usize| a + q * b;
    let mut cross = 0.0;
    for a in 0..q {
        for b in 0..p {
            for cc in 0..q {
                for d in 0..p {
                    cross += s[(idx(a, b), idx(cc, d))] * s[(idx(cc, b), idx(a, d))];
                }
            }
        }
    }
    let total = diag + cross + s.norm_squared() - sub;
    (q * (q + 1)) as f64 / total
}
