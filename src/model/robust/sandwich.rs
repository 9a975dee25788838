//! Each cluster's share of the sandwich: the CR2 adjustment `A_j` and the p x p
//! summaries from which the variance, the Satterthwaite and the HTZ degrees of freedom
//! follow.
//!
//! # Formula
//!
//! With `L_j` the lower Cholesky factor of the working covariance `Phi_j` (so `R_j = L_j'`
//! satisfies `R_j' R_j = Phi_j`), the matrix whose inverse square root CR2 needs is
//!
//! ```text
//! G_j = L_j' (I - H_jj) Phi_j L_j = (L_j' L_j)^2 - Y_j Y_j',   Y_j = L_j' X_j L_B
//! ```
//!
//! (using `W_j Phi_j = I`), symmetric by construction. With `G_j = V diag(lambda) V'`,
//! `A_j = Z Z'` where `Z = L_j V diag(f(lambda)^{1/2})`, `f(lambda) = lambda^{-1/2}` for an
//! eigenvalue above the reference package's threshold and 0 otherwise. The result does not
//! depend on which square root of `Phi_j` is used (any `R` with `R'R = Phi` gives the same
//! `A_j`), so it equals clubSandwich's (which takes `chol(Theta)`) and robumeta's (which
//! takes `Phi^{1/2}` of its diagonal working model).
//!
//! The cluster then contributes `t_j = X_j' W_j A_j e_j` to the meat and, for the degrees
//! of freedom (module `satterthwaite`),
//!
//! ```text
//! Delta_j = B X_j' W_j A_j Phi_j A_j W_j X_j B     (p x p)
//! Psi_j   = B X_j' W_j A_j X_j L_B                 (p x p),   L_B L_B' = B.
//! ```

use nalgebra::{DMatrix, DVector};

use super::ClusterBlock;
use crate::error::{MetaError, Result};
use crate::numeric::dense::{cholesky, forward_solve};
use crate::numeric::symeig::{Workspace, sym_eigen};

/// Which eigenvalues of `G_j` count as zero: the reference package's rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EigenFloor {
    /// clubSandwich's `matrix_power(G, -1/2)`: eigenvalues `<= 1e-12` of its `G`, which is
    /// `w_scale^2` times this `G_j` (it normalises the weights of `rma.uni` fits by their
    /// mean `w_scale`; 1 for `rma.mv`).
    ClubSandwich(f64),
    /// robumeta's `robu(small = TRUE)`: eigenvalues `< 1e-10` of its matrix, which is this
    /// `G_j` times the given per-cluster factor (`r_j^2` for correlated-effects weights
    /// `r_j`, where robumeta decomposes `I - H_jj`; 1 for hierarchical weights).
    Robumeta(Vec<f64>),
}

impl EigenFloor {
    /// Whether eigenvalue `lambda` of cluster `j`'s `G_j` is kept (not treated as zero).
    fn keeps(&self, j: usize, lambda: f64) -> bool {
        match self {
            EigenFloor::ClubSandwich(ws) => lambda * ws * ws > 1e-12,
            EigenFloor::Robumeta(scale) => lambda * scale[j] >= 1e-10,
        }
    }
}

/// One cluster's share.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    /// `X_j' W_j A_j e_j` (`A_j = I` for CR0/CR1).
    pub t: DVector<f64>,
    /// `Delta_j` (CR2 only; empty otherwise).
    pub delta: DMatrix<f64>,
    /// `Psi_j` (CR2 only; empty otherwise).
    pub psi: DMatrix<f64>,
}

fn not_pd(name: &str) -> MetaError {
    MetaError::InvalidCluster {
        cluster: name.to_string(),
        reason: "the working covariance block is not positive definite".into(),
    }
}

/// CR0's share: `t_j = X_j' W_j e_j`.
pub(crate) fn cr0_piece(b: &ClusterBlock) -> Piece {
    let we = &b.w * &b.e;
    Piece {
        t: b.x.tr_mul(&we),
        delta: DMatrix::zeros(0, 0),
        psi: DMatrix::zeros(0, 0),
    }
}

/// CR2's share of cluster `j` (named `name` in errors). `bread` is `B`, `bread_l` its
/// lower Cholesky factor.
pub(crate) fn cr2_piece(
    b: &ClusterBlock,
    j: usize,
    name: &str,
    bread: &DMatrix<f64>,
    bread_l: &DMatrix<f64>,
    floor: &EigenFloor,
) -> Result<Piece> {
    let n = b.rows.len();
    // a diagonal Phi (univariate fits, robumeta) needs no factorisation and no n^3 products
    let diag = is_diagonal(&b.working);
    let (l, sq) = if diag {
        let mut sq = DVector::zeros(n);
        for i in 0..n {
            let d = b.working[(i, i)];
            if !(d > 0.0 && d.is_finite()) {
                return Err(not_pd(name));
            }
            sq[i] = d.sqrt();
        }
        (None, sq)
    } else {
        let l = b
            .working
            .clone()
            .cholesky()
            .ok_or_else(|| not_pd(name))?
            .l();
        (Some(l), DVector::zeros(0))
    };
    // G = (L'L)^2 - Y Y', Y = L'X L_B
    let (mut g, y) = match &l {
        None => {
            let y = DMatrix::from_fn(n, b.x.ncols(), |r, c| sq[r] * b.x[(r, c)]) * bread_l;
            let g = DMatrix::from_fn(n, n, |r, c| {
                if r == c {
                    b.working[(r, r)] * b.working[(r, r)]
                } else {
                    0.0
                }
            });
            (g, y)
        }
        Some(l) => {
            let ltl = l.tr_mul(l);
            (&ltl * &ltl, l.tr_mul(&b.x) * bread_l)
        }
    };
    g -= &y * y.transpose();
    if !g.iter().all(|x| x.is_finite()) {
        return Err(MetaError::Numerical {
            context: format!("CR2 adjustment of cluster `{name}`"),
        });
    }
    // symmetric: only the lower triangle is read
    let (lambda, vecs) = sym_eigen(&g);
    // Z = L V diag(lambda^{-1/4}) over the kept eigenvalues: A = Z Z'
    let kept: Vec<usize> = (0..n).filter(|&i| floor.keeps(j, lambda[i])).collect();
    let z = match &l {
        None => DMatrix::from_fn(n, kept.len(), |r, c| {
            let i = kept[c];
            sq[r] * vecs[(r, i)] / lambda[i].sqrt().sqrt()
        }),
        Some(l) => {
            let lv = l * &vecs;
            DMatrix::from_fn(n, kept.len(), |r, c| {
                let i = kept[c];
                lv[(r, i)] / lambda[i].sqrt().sqrt()
            })
        }
    };
    let wx = if is_diagonal(&b.w) {
        DMatrix::from_fn(n, b.x.ncols(), |r, c| b.w[(r, r)] * b.x[(r, c)])
    } else {
        &b.w * &b.x
    };
    // A e and A W X through Z
    let ae = &z * z.tr_mul(&b.e);
    let awx = &z * z.tr_mul(&wx);
    let t = wx.tr_mul(&ae);
    // X_j' W_j A_j X_j = (A_j W_j X_j)' X_j
    let xwax = awx.tr_mul(&b.x);
    // X_j' W_j A_j Phi_j A_j W_j X_j
    let phi_awx = if diag {
        DMatrix::from_fn(n, awx.ncols(), |r, c| b.working[(r, r)] * awx[(r, c)])
    } else {
        &b.working * &awx
    };
    let q = awx.tr_mul(&phi_awx);
    let delta = bread * q * bread;
    let psi = bread * xwax * bread_l;
    Ok(Piece { t, delta, psi })
}

fn is_diagonal(m: &DMatrix<f64>) -> bool {
    let n = m.nrows();
    (0..n).all(|r| (0..n).all(|c| r == c || m[(r, c)] == 0.0))
}

/// A cluster of a model with diagonal blocks, as views into the whole data: its rows, the
/// full design, weights and residuals.
pub(crate) struct DiagonalView<'a> {
    pub rows: &'a [usize],
    pub x: &'a DMatrix<f64>,
    pub w: &'a [f64],
    pub e: &'a [f64],
}

/// Per-thread buffers of [`cr2_piece_diagonal`] and [`cr2_piece_dense`].
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    eig: Workspace,
    y: Vec<f64>,
    z: Vec<f64>,
    /// The cluster a [`super::Source`] writes for the dense path.
    pub dense: DenseBlock,
    l: Vec<f64>,
    nn: Vec<f64>,
    g: Vec<f64>,
    u: Vec<f64>,
    tx: Vec<f64>,
}

/// One cluster whose weights are the inverse of its working covariance (`W_j = Phi_j^-1`,
/// inverse-variance weighting by the marginal covariance), in flat row-major buffers that
/// are reused from cluster to cluster.
#[derive(Debug, Default)]
pub(crate) struct DenseBlock {
    /// The number of rows `n_j`.
    pub n: usize,
    /// `Phi_j`, `n x n` (both triangles).
    pub phi: Vec<f64>,
    /// `X_j`, `n x p`.
    pub x: Vec<f64>,
    /// Residuals `e_j`.
    pub e: Vec<f64>,
}

/// CR0's share of a diagonal cluster: `t_j = sum_i w_i e_i x_i`.
pub(crate) fn cr0_piece_diagonal(v: &DiagonalView<'_>) -> Piece {
    let p = v.x.ncols();
    let mut t = DVector::zeros(p);
    for &i in v.rows {
        let we = v.w[i] * v.e[i];
        for a in 0..p {
            t[a] += we * v.x[(i, a)];
        }
    }
    Piece {
        t,
        delta: DMatrix::zeros(0, 0),
        psi: DMatrix::zeros(0, 0),
    }
}

/// [`cr2_piece`] for a diagonal cluster (`W = diag(w)`, `Phi = diag(1/w)`), without any
/// n x n product or per-cluster allocation besides the result: with `s_i = sqrt(phi_i)`,
/// `G = diag(phi^2) - Y Y'` (`Y = diag(s) X_j L_B`), `Z = diag(s) V diag(lambda^{-1/4})`,
/// and every output from `Z'e`, `Z'WX`, `Z'X` and `Z' Phi Z`.
pub(crate) fn cr2_piece_diagonal(
    v: &DiagonalView<'_>,
    j: usize,
    name: &str,
    bread: &DMatrix<f64>,
    bread_l: &DMatrix<f64>,
    floor: &EigenFloor,
    sc: &mut Scratch,
) -> Result<Piece> {
    let n = v.rows.len();
    let p = v.x.ncols();
    let rows = v.rows;
    for &i in rows {
        let w = v.w[i];
        if !(w > 0.0 && w.is_finite() && (1.0 / w).is_finite()) {
            return Err(not_pd(name));
        }
    }
    let phi = |r: usize| 1.0 / v.w[rows[r]];
    // Y (n x p, row-major): y_r = s_r x_r' L_B
    sc.y.clear();
    sc.y.resize(n * p, 0.0);
    for (r, &i) in rows.iter().enumerate() {
        let s = (1.0 / v.w[i]).sqrt();
        for b in 0..p {
            let mut acc = 0.0;
            for a in b..p {
                acc += v.x[(i, a)] * bread_l[(a, b)];
            }
            sc.y[r * p + b] = s * acc;
        }
    }
    if !sc.y.iter().all(|a| a.is_finite()) || !(0..n).all(|r| (phi(r) * phi(r)).is_finite()) {
        return Err(MetaError::Numerical {
            context: format!("CR2 adjustment of cluster `{name}`"),
        });
    }
    let y = &sc.y;
    sc.eig.load(n, |r, c| {
        let dot: f64 = (0..p).map(|a| y[r * p + a] * y[c * p + a]).sum();
        if r == c { phi(r) * phi(r) - dot } else { -dot }
    });
    sc.eig.solve();
    let lambda = &sc.eig.values;
    let vecs = &sc.eig.vectors;
    // Z (n x r, column-major) over the kept eigenvalues
    sc.z.clear();
    let mut kept = 0;
    for c in 0..n {
        let l = lambda[c];
        if !floor.keeps(j, l) {
            continue;
        }
        let f = 1.0 / l.sqrt().sqrt();
        for r in 0..n {
            sc.z.push(phi(r).sqrt() * vecs[r + c * n] * f);
        }
        kept += 1;
    }
    let z = &sc.z;
    let zc = |c: usize, r: usize| z[c * n + r];
    let mut zte = DVector::<f64>::zeros(kept);
    let mut ztwx = DMatrix::<f64>::zeros(kept, p);
    let mut ztx = DMatrix::<f64>::zeros(kept, p);
    let mut ztphiz = DMatrix::<f64>::zeros(kept, kept);
    for c in 0..kept {
        for (r, &i) in rows.iter().enumerate() {
            let zr = zc(c, r);
            zte[c] += zr * v.e[i];
            let zw = zr * v.w[i];
            for a in 0..p {
                ztwx[(c, a)] += zw * v.x[(i, a)];
                ztx[(c, a)] += zr * v.x[(i, a)];
            }
        }
        for d in 0..=c {
            let mut acc = 0.0;
            for r in 0..n {
                acc += zc(c, r) * phi(r) * zc(d, r);
            }
            ztphiz[(c, d)] = acc;
            ztphiz[(d, c)] = acc;
        }
    }
    let t = ztwx.tr_mul(&zte);
    let xwax = ztwx.tr_mul(&ztx);
    let q = ztwx.tr_mul(&(&ztphiz * &ztwx));
    let delta = bread * q * bread;
    let psi = bread * xwax * bread_l;
    Ok(Piece { t, delta, psi })
}

/// CR0's share of a dense cluster with `W = Phi^-1`: `t_j = X_j' Phi_j^-1 e_j`, through the
/// Cholesky factor of `Phi_j` (never its inverse).
pub(crate) fn cr0_piece_dense(name: &str, p: usize, sc: &mut Scratch) -> Result<Piece> {
    let Scratch { dense, l, u, .. } = sc;
    let n = dense.n;
    l.clear();
    l.extend_from_slice(&dense.phi);
    cholesky(l, n).ok_or_else(|| not_pd(name))?;
    // u = L^-1 [X e] (n x (p + 1))
    let r = p + 1;
    u.clear();
    for i in 0..n {
        u.extend_from_slice(&dense.x[i * p..i * p + p]);
        u.push(dense.e[i]);
    }
    forward_solve(l, n, u, r);
    let t = DVector::from_fn(p, |a, _| (0..n).map(|i| u[i * r + a] * u[i * r + p]).sum());
    Ok(Piece {
        t,
        delta: DMatrix::zeros(0, 0),
        psi: DMatrix::zeros(0, 0),
    })
}

/// [`cr2_piece`] for a dense cluster with `W = Phi^-1` (the cluster in `sc.dense`), in
/// O(n^3) with no allocation besides the result and no inverse of `Phi_j`.
///
/// # Formula
/// With `Phi_j = L L'`, `N = L'L`, `T = L'X_j`, `Y = T L_B` and `U = L^-1 X_j` (so that
/// `L'W_j X_j = U` and `X_j'W_j L = U'`): `G_j = N^2 - Y Y'` as in [`cr2_piece`], and with
/// `G_j = V diag(lambda) V'`, `S = V diag(f) V'` (`f = lambda^{-1/2}` over the kept
/// eigenvalues, 0 otherwise) the adjustment is `A_j = L S L'`. Every output is a product
/// of `V'` with the `1 + 2p` vectors `L'e`, `U`, `T` (written `~`), which the
/// eigen-decomposition transforms directly without forming `V`:
///
/// ```text
/// t_j            = X'W A e       = U~' diag(f) e~
/// X'W A X        = U'S T         = U~' diag(f) T~
/// X'W A Phi A W X = U'S N^2 S U   = sum_{i kept} u~_i u~_i' + (U~' diag(f) Y~)(U~' diag(f) Y~)'
/// ```
///
/// (`N^2 = G_j + Y Y'` and `f_i^2 lambda_i = 1` on the kept eigenvalues), `Y~ = T~ L_B`.
pub(crate) fn cr2_piece_dense(
    j: usize,
    name: &str,
    bread: &DMatrix<f64>,
    bread_l: &DMatrix<f64>,
    floor: &EigenFloor,
    sc: &mut Scratch,
) -> Result<Piece> {
    let p = bread.nrows();
    let Scratch {
        eig,
        y,
        z,
        dense,
        l,
        nn,
        g,
        u,
        tx,
    } = sc;
    let n = dense.n;
    let x = &dense.x;
    l.clear();
    l.extend_from_slice(&dense.phi);
    cholesky(l, n).ok_or_else(|| not_pd(name))?;
    // U = L^-1 X, T = L'X, Y = T L_B (n x p each)
    u.clear();
    u.extend_from_slice(&x[..n * p]);
    forward_solve(l, n, u, p);
    tx.clear();
    tx.resize(n * p, 0.0);
    y.clear();
    y.resize(n * p, 0.0);
    for i in 0..n {
        for a in 0..p {
            let mut acc = 0.0;
            for k in i..n {
                acc += l[k * n + i] * x[k * p + a];
            }
            tx[i * p + a] = acc;
        }
        for b in 0..p {
            let mut acc = 0.0;
            for a in b..p {
                acc += tx[i * p + a] * bread_l[(a, b)];
            }
            y[i * p + b] = acc;
        }
    }
    // N = L'L (symmetric: rows of N are its columns), G = N^2 - Y Y' (lower triangle);
    // `g` holds L' (row-major) first
    g.clear();
    g.resize(n * n, 0.0);
    for k in 0..n {
        for i in 0..=k {
            g[i * n + k] = l[k * n + i];
        }
    }
    nn.clear();
    nn.resize(n * n, 0.0);
    for i in 0..n {
        let li = &g[i * n + i..i * n + n];
        for c in 0..=i {
            let acc: f64 = li
                .iter()
                .zip(&g[c * n + i..c * n + n])
                .map(|(a, b)| a * b)
                .sum();
            nn[i * n + c] = acc;
            nn[c * n + i] = acc;
        }
    }
    for r in 0..n {
        let nr = &nn[r * n..r * n + n];
        let yr = &y[r * p..r * p + p];
        for c in 0..=r {
            let mut acc: f64 = nr
                .iter()
                .zip(&nn[c * n..c * n + n])
                .map(|(a, b)| a * b)
                .sum();
            for (ya, yb) in yr.iter().zip(&y[c * p..c * p + p]) {
                acc -= ya * yb;
            }
            g[r * n + c] = acc;
        }
    }
    if !g.iter().all(|v| v.is_finite()) {
        return Err(MetaError::Numerical {
            context: format!("CR2 adjustment of cluster `{name}`"),
        });
    }
    // the 1 + 2p vectors L'e, U, T, component by component
    let r = 1 + 2 * p;
    z.clear();
    z.resize(n * r, 0.0);
    for i in 0..n {
        let mut acc = 0.0;
        for k in i..n {
            acc += l[k * n + i] * dense.e[k];
        }
        z[i * r] = acc;
        for a in 0..p {
            z[i * r + 1 + a] = u[i * p + a];
            z[i * r + 1 + p + a] = tx[i * p + a];
        }
    }
    eig.load(n, |rr, c| g[rr * n + c]);
    eig.solve_applied(z, r);
    let lambda = &eig.values;
    // p x p accumulators (row-major) in `u`: X'WAX, U~' diag(f) Y~, and the kept u~ u~'
    u.clear();
    u.resize(3 * p * p, 0.0);
    let (xwax, rest) = u.split_at_mut(p * p);
    let (ay, q) = rest.split_at_mut(p * p);
    let mut t = DVector::<f64>::zeros(p);
    for i in 0..n {
        if !floor.keeps(j, lambda[i]) {
            continue;
        }
        let f = 1.0 / lambda[i].sqrt();
        let zi = &z[i * r..i * r + r];
        let (ui, ti) = (&zi[1..=p], &zi[1 + p..]);
        // Y~_i = T~_i L_B
        let yi = &mut y[..p];
        for b in 0..p {
            yi[b] = (b..p).map(|c| ti[c] * bread_l[(c, b)]).sum();
        }
        for a in 0..p {
            let fu = f * ui[a];
            t[a] += fu * zi[0];
            for b in 0..p {
                xwax[a * p + b] += fu * ti[b];
                ay[a * p + b] += fu * yi[b];
                q[a * p + b] += ui[a] * ui[b];
            }
        }
    }
    // q += (U~' diag(f) Y~)(U~' diag(f) Y~)'
    for a in 0..p {
        for b in 0..p {
            q[a * p + b] += (0..p).map(|c| ay[a * p + c] * ay[b * p + c]).sum::<f64>();
        }
    }
    // Delta = B q B, Psi = B X'WAX L_B (through tx as p x p scratch)
    if tx.len() < p * p {
        tx.resize(p * p, 0.0);
    }
    let bq = &mut tx[..p * p];
    for a in 0..p {
        for b in 0..p {
            bq[a * p + b] = (0..p).map(|c| bread[(a, c)] * q[c * p + b]).sum();
        }
    }
    let delta = DMatrix::from_fn(p, p, |a, b| {
        (0..p).map(|c| bq[a * p + c] * bread[(c, b)]).sum()
    });
    for a in 0..p {
        for b in 0..p {
            bq[a * p + b] = (0..p).map(|c| bread[(a, c)] * xwax[c * p + b]).sum();
        }
    }
    let psi = DMatrix::from_fn(p, p, |a, b| {
        (b..p).map(|c| bq[a * p + c] * bread_l[(c, b)]).sum()
    });
    Ok(Piece { t, delta, psi })
}
