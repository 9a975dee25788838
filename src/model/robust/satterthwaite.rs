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
//! `d_j = c'Delta_j c` and `E = sum_j (d_j - |y_j|^2)`: one pass over the clusters. (The
//! off-diagonal sum is accumulated as `2 sum_j y_j' S_{<j} y_j` with the prefix sums
//! `S_{<j} = sum_{k<j} y_k y_k'`, which equals `|S|_F^2 - sum_j |y_j|^4` without
//! subtracting the diagonal terms: they dominate when one cluster has a leverage near 1,
//! and the subtraction would cost up to 1e-7 relative there.)
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
//! minus the `j = k` terms (again accumulated as prefix sums over `k < j`), to which the
//! diagonal blocks' `D_j` terms are added exactly. HTZ's degrees of freedom
//! are `nu = q (q + 1) / total`, its F statistic `(nu - q + 1)/(nu q) Q` on `q` and
//! `nu - q + 1` df.

use nalgebra::{DMatrix, SymmetricEigen};

use super::sandwich::Piece;

/// `y' s y` for a p-vector `y` and a symmetric p x p `s`.
fn quad(y: &[f64], s: &DMatrix<f64>) -> f64 {
    let p = y.len();
    let mut q = 0.0;
    for b in 0..p {
        let mut t = 0.0;
        for a in 0..p {
            t += s[(a, b)] * y[a];
        }
        q += t * y[b];
    }
    q
}

/// Satterthwaite degrees of freedom of every coefficient.
pub(crate) fn coefficient_df(pieces: &[Piece], p: usize) -> Vec<f64> {
    let mut e = vec![0.0; p];
    let mut diag = vec![0.0; p];
    let mut off = vec![0.0; p];
    // prefix sums s[i] = sum_{k < j} y_k y_k' for coefficient i (p x p each):
    // sum_{j != k} (y_j . y_k)^2 = 2 sum_j y_j' s_{<j} y_j, with no subtraction of the
    // diagonal terms |y_j|^4 (which dominate when one cluster has leverage near 1)
    let mut s = vec![DMatrix::<f64>::zeros(p, p); p];
    let mut y = vec![0.0; p];
    for pc in pieces {
        for i in 0..p {
            for (a, ya) in y.iter_mut().enumerate() {
                *ya = pc.psi[(i, a)];
            }
            let yy: f64 = y.iter().map(|a| a * a).sum();
            let pjj = pc.delta[(i, i)] - yy;
            e[i] += pjj;
            diag[i] += pjj * pjj;
            let si = &mut s[i];
            off[i] += 2.0 * quad(&y, si);
            for a in 0..p {
                for b in 0..p {
                    si[(a, b)] += y[a] * y[b];
                }
            }
        }
    }
    (0..p)
        .map(|i| e[i] * e[i] / (diag[i] + off[i].max(0.0)))
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
    let idx = |a: usize, b: usize| a + q * b;
    // prefix sums s = sum_{k < j} vec(Y_k) vec(Y_k)' (qp x qp), as in `coefficient_df`
    let mut s = DMatrix::<f64>::zeros(qp, qp);
    let mut diag = 0.0;
    let mut off = 0.0;
    for pc in pieces {
        let d = &ct * &pc.delta * ct.transpose();
        let y = &ct * &pc.psi;
        let n = &y * y.transpose();
        let bjj = &d - &n;
        diag += bjj.norm_squared() + bjj.trace().powi(2);
        // sum_{k < j} tr((Y_j Y_k')^2) + tr(Y_j Y_k')^2 through the prefix sum
        let v = y.as_slice();
        let mut cross = 0.0;
        let mut lin = 0.0;
        for a in 0..q {
            for b in 0..p {
                let yab = v[idx(a, b)];
                for cc in 0..q {
                    for dd in 0..p {
                        cross += yab * v[idx(cc, dd)] * s[(idx(cc, b), idx(a, dd))];
                        lin += yab * v[idx(cc, dd)] * s[(idx(a, b), idx(cc, dd))];
                    }
                }
            }
        }
        off += 2.0 * (cross + lin);
        for r in 0..qp {
            let vr = v[r];
            for c2 in 0..qp {
                s[(r, c2)] += vr * v[c2];
            }
        }
    }
    let total = diag + off;
    (q * (q + 1)) as f64 / total
}
