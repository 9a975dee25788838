//! The likelihood engine: the marginal covariance is block-diagonal by cluster,
//! `M_j = V_j + Z_j G_j(psi) Z_j'`, so the (restricted) log-likelihood, its gradient, the
//! observed and the expected information in `psi` are sums of per-cluster terms. Each
//! cluster costs one Cholesky factorisation and inverse of its `n_j x n_j` block plus
//! products with its few random-effect columns; no `k x k` matrix is formed. Clusters are
//! processed in fixed chunks (in parallel with the `parallel` feature) whose partial sums
//! are added in chunk order, so results do not depend on the number of threads.
//!
//! # Formulas
//! With `P = M^-1 - M^-1 X (X'M^-1 X)^-1 X'M^-1`, `a = P y = M^-1 (y - X beta)`,
//! `D_q = dM/dpsi_q = Z E_q Z'` and `B = (X'M^-1 X)^-1`:
//!
//! * ML: `ll = -k/2 ln 2pi - 1/2 ln|M| - 1/2 a'Ma`;
//!   REML: `ll = -(k-p)/2 ln 2pi + 1/2 ln|X'X| - 1/2 ln|M| - 1/2 ln|X'M^-1X| - 1/2 a'Ma`
//!   (metafor's `.ll.rma.mv` with `REMLf = TRUE`);
//! * gradient: `g_q = -1/2 tr(Q D_q) + 1/2 a'D_q a` with `Q = M^-1` (ML) or `P` (REML);
//! * expected information: `I_qr = 1/2 tr(Q D_q Q D_r)`;
//! * observed: `H_qr = I_qr - (a'D_q M^-1 D_r a - h_q' B h_r)`, `h_q = X'M^-1 D_q a`
//!   (the derivative of the profiled likelihood, `beta` re-estimated).
//!
//! Every term is a trace or quadratic form over the random-effect columns
//! (`S = Z'M^-1 Z`, `F = Z'M^-1 X`, `h = Z'M^-1 r`), expanded around a reference `beta_0`
//! (`r = y - X beta_0`) so that one pass over the clusters suffices.

// index loops over several parallel per-row arrays are the clearest form of this algebra
#![allow(clippy::needless_range_loop)]

use crate::numeric::dense::{chol_inverse, cholesky};

/// The within-cluster sampling covariance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VSource {
    /// `V = diag(v)`.
    Diagonal,
    /// metafor's `vcalc`: `V_ij = r_ij sqrt(v_i v_j)`.
    Vcalc {
        rho: f64,
        /// Time of each row (cluster order) and phi.
        time: Option<(Vec<f64>, f64)>,
    },
    /// Explicit blocks, concatenated in cluster order.
    Blocks { data: Vec<f64>, start: Vec<usize> },
}

/// The random part.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Re {
    /// `~ 1 | cluster/obs`: columns `[1, inner-group indicators]`.
    Multilevel,
    /// `~ outcome | cluster`: one column per outcome level present in the cluster.
    Multivariate {
        /// Number of levels.
        m: usize,
        /// The level of each row (cluster order).
        level: Vec<u32>,
    },
}

/// A model's data in cluster order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub k: usize,
    pub p: usize,
    /// Clusters (sorted names order): `start[c]..start[c + 1]` index the arrays below.
    pub start: Vec<usize>,
    /// The data row of each position.
    pub rows: Vec<usize>,
    pub y: Vec<f64>,
    /// Row-major `k x p`.
    pub x: Vec<f64>,
    pub vi: Vec<f64>,
    /// The inner group (observation) of each position, numbered from 0 within its cluster.
    pub group: Vec<u32>,
    /// Number of inner groups of each cluster.
    pub ngroups: Vec<u32>,
    pub v: VSource,
    pub re: Re,
    /// `ln |X'X|` of the `x` above.
    pub logdet_xx: f64,
    /// `R` (upper triangular, row-major `p x p`) with `X_original = x R`.
    pub r_factor: Vec<f64>,
}

impl Problem {
    pub(crate) fn nclusters(&self) -> usize {
        self.start.len() - 1
    }

    /// Coefficients and their covariance on the original design from those on `x`:
    /// `beta = R^-1 b`, `Var(beta) = R^-1 Var(b) R^-T`.
    pub(crate) fn to_original(&self, b: &[f64], vb: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let p = self.p;
        let r = &self.r_factor;
        // R^-1 (upper triangular) by back substitution
        let mut ri = vec![0.0; p * p];
        for c in 0..p {
            for i in (0..p).rev() {
                let mut s = if i == c { 1.0 } else { 0.0 };
                for l in i + 1..p {
                    s -= r[i * p + l] * ri[l * p + c];
                }
                ri[i * p + c] = s / r[i * p + i];
            }
        }
        let beta: Vec<f64> = (0..p)
            .map(|i| (i..p).map(|l| ri[i * p + l] * b[l]).sum())
            .collect();
        let mut tmp = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                tmp[i * p + j] = (i..p).map(|l| ri[i * p + l] * vb[l * p + j]).sum();
            }
        }
        let mut out = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] = (j..p).map(|l| tmp[i * p + l] * ri[j * p + l]).sum();
            }
        }
        for i in 0..p {
            for j in 0..i {
                let a = 0.5 * (out[i * p + j] + out[j * p + i]);
                out[i * p + j] = a;
                out[j * p + i] = a;
            }
        }
        (beta, out)
    }

    /// Row `i` (cluster order) of the original design, `x_i R`, appended to `out`.
    pub(crate) fn push_x_original(&self, i: usize, out: &mut Vec<f64>) {
        let p = self.p;
        out.extend((0..p).map(|j| {
            (0..=j)
                .map(|l| self.x[i * p + l] * self.r_factor[l * p + j])
                .sum::<f64>()
        }));
    }

    /// `Some(rho)` when the block of every cluster whose observations are all distinct is
    /// diagonal plus rank two, `M_j = diag(d) + U C U'` with `d_i = (1 - rho) v_i +
    /// sigma^2_2`, `U = [1, sqrt(v)]`, `C = diag(sigma^2_1, rho)`: the three-level model with
    /// `V = diag(v)` (`rho = 0`) or `vcalc`'s constant `rho >= 0` without a time lag.
    pub(crate) fn lowrank_rho(&self) -> Option<f64> {
        match (&self.re, &self.v) {
            (Re::Multilevel, VSource::Diagonal) => Some(0.0),
            (Re::Multilevel, VSource::Vcalc { rho, time: None }) if *rho >= 0.0 => Some(*rho),
            (Re::Multilevel, VSource::Vcalc { .. } | VSource::Blocks { .. })
            | (Re::Multivariate { .. }, _) => None,
        }
    }

    /// The sampling covariance `V_ab` of positions `a`, `b` of cluster `c` (local `ia`,
    /// `ib`).
    #[inline]
    fn v_entry(&self, c: usize, a: usize, b: usize, ia: usize, ib: usize, n: usize) -> f64 {
        match &self.v {
            VSource::Diagonal => {
                if a == b {
                    self.vi[a]
                } else {
                    0.0
                }
            }
            VSource::Vcalc { rho, time } => {
                if a == b {
                    return self.vi[a];
                }
                let mut r = if self.group[a] == self.group[b] {
                    1.0
                } else {
                    *rho
                };
                if let Some((t, phi)) = time {
                    if t[a] != t[b] {
                        r *= phi.powf((t[a] - t[b]).abs());
                    }
                }
                r * (self.vi[a] * self.vi[b]).sqrt()
            }
            VSource::Blocks { data, start } => data[start[c] + ia * n + ib],
        }
    }

    /// The marginal covariance block `M_c` (row-major) for `psi`, or `V_c` for `None`.
    pub(crate) fn m_block(&self, c: usize, psi: Option<&[f64]>, out: &mut Vec<f64>) {
        let s = self.start[c];
        let n = self.start[c + 1] - s;
        out.clear();
        out.resize(n * n, 0.0);
        for ia in 0..n {
            for ib in 0..=ia {
                let v = self.v_entry(c, s + ia, s + ib, ia, ib, n);
                out[ia * n + ib] = v;
                out[ib * n + ia] = v;
            }
        }
        let Some(psi) = psi else { return };
        match &self.re {
            Re::Multilevel => {
                for ia in 0..n {
                    for ib in 0..n {
                        let mut g = psi[0];
                        if self.group[s + ia] == self.group[s + ib] {
                            g += psi[1];
                        }
                        out[ia * n + ib] += g;
                    }
                }
            }
            Re::Multivariate { m, level } => {
                let m = *m;
                for ia in 0..n {
                    for ib in 0..n {
                        let (a, b) = (level[s + ia] as usize, level[s + ib] as usize);
                        let g = if a == b {
                            psi[a]
                        } else {
                            let (hi, lo) = if a > b { (a, b) } else { (b, a) };
                            psi[m + pair_index(m, hi, lo)]
                        };
                        out[ia * n + ib] += g;
                    }
                }
            }
        }
    }
}

/// Position of the pair `(a, b)`, `a > b`, in R's `lower.tri` order.
#[inline]
pub(crate) fn pair_index(m: usize, a: usize, b: usize) -> usize {
    // pairs with first column < b come first: sum_{c < b} (m - 1 - c)
    b * (2 * m - b - 1) / 2 + (a - b - 1)
}

/// Sums over clusters.
#[derive(Debug, Clone)]
pub(crate) struct Acc {
    q: usize,
    pub logdet: f64,
    pub rmr: f64,
    pub xmr: Vec<f64>,
    pub xmx: Vec<f64>,
    pub tr: Vec<f64>,
    pub heh: Vec<f64>,
    pub feh: Vec<f64>,
    pub a: Vec<f64>,
    pub t: Vec<f64>,
    pub c: Vec<f64>,
    pub w: Vec<f64>,
    pub vv: Vec<f64>,
}

impl Acc {
    fn new(q: usize, p: usize, derivs: bool) -> Self {
        let q = if derivs { q } else { 0 };
        Acc {
            q,
            logdet: 0.0,
            rmr: 0.0,
            xmr: vec![0.0; p],
            xmx: vec![0.0; p * p],
            tr: vec![0.0; q],
            heh: vec![0.0; q],
            feh: vec![0.0; q * p],
            a: vec![0.0; q * p * p],
            t: vec![0.0; q * q],
            c: vec![0.0; q * q * p * p],
            w: vec![0.0; q * q],
            vv: vec![0.0; q * q * p],
        }
    }

    fn add(&mut self, o: &Acc) {
        self.logdet += o.logdet;
        self.rmr += o.rmr;
        let add = |a: &mut Vec<f64>, b: &Vec<f64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.xmr, &o.xmr);
        add(&mut self.xmx, &o.xmx);
        add(&mut self.tr, &o.tr);
        add(&mut self.heh, &o.heh);
        add(&mut self.feh, &o.feh);
        add(&mut self.a, &o.a);
        add(&mut self.t, &o.t);
        add(&mut self.c, &o.c);
        add(&mut self.w, &o.w);
        add(&mut self.vv, &o.vv);
    }
}

/// Scratch space of one chunk.
#[derive(Default)]
struct Work {
    mb: Vec<f64>,
    mi: Vec<f64>,
    tmp: Vec<f64>,
    mix: Vec<f64>,
    mir: Vec<f64>,
    r: Vec<f64>,
    /// Random-effect columns of each row: `(first, second)` (`u32::MAX`: none).
    z: Vec<(u32, u32)>,
    s: Vec<f64>,
    f: Vec<f64>,
    h: Vec<f64>,
    /// `E_q F`, `E_q h`, `S E_q F`, `S E_q h` for every q.
    fq: Vec<f64>,
    hq: Vec<f64>,
    sfq: Vec<f64>,
    shq: Vec<f64>,
    pairs: Vec<Vec<(u32, u32)>>,
    local: Vec<u32>,
    /// The low-rank path: `1/d` per row, one row of `Y = [1, r, X]`, `Y'D^-1Y`, `U'D^-1Y`,
    /// `z_a` per column, `u'D^-2u`, `u'D^-3u`, `U'D^-2u`.
    dinv: Vec<f64>,
    vals: Vec<f64>,
    g1: Vec<f64>,
    g1u: Vec<f64>,
    g2: Vec<f64>,
    g3: Vec<f64>,
    g2u: Vec<f64>,
    zc: Vec<f64>,
}

const NONE: u32 = u32::MAX;
/// Clusters per parallel task: a constant, so the summation order is fixed.
const CHUNK: usize = 32;

/// One pass over the clusters at `psi` (`None`: `M = V`, the fixed-effects pass), with the
/// residuals taken around `b0`. `Err(c)` names a cluster whose block is not positive
/// definite.
pub(crate) fn accumulate(
    pb: &Problem,
    psi: Option<&[f64]>,
    b0: &[f64],
    nq: usize,
) -> Result<Acc, usize> {
    accumulate_with(pb, psi, b0, nq, pb.lowrank_rho())
}

/// [`accumulate`], with the low-rank path for `Some(rho)`.
fn accumulate_with(
    pb: &Problem,
    psi: Option<&[f64]>,
    b0: &[f64],
    nq: usize,
    lowrank: Option<f64>,
) -> Result<Acc, usize> {
    let ncl = pb.nclusters();
    let nchunks = ncl.div_ceil(CHUNK);
    let derivs = psi.is_some();
    let one = |ch: usize| -> Result<Acc, usize> {
        let mut acc = Acc::new(nq, pb.p, derivs);
        let mut w = Work::default();
        for c in ch * CHUNK..((ch + 1) * CHUNK).min(ncl) {
            let done =
                lowrank.is_some_and(|rho| cluster_lowrank(pb, c, psi, rho, b0, &mut acc, &mut w));
            if !done {
                cluster(pb, c, psi, b0, &mut acc, &mut w).map_err(|()| c)?;
            }
        }
        Ok(acc)
    };
    #[cfg(feature = "parallel")]
    let parts: Vec<Result<Acc, usize>> = {
        use rayon::prelude::*;
        // (a one-thread pool: the same chunks in the same order on this thread, without
        // the hand-off to the pool and back at every evaluation)
        if ncl > CHUNK && rayon::current_num_threads() > 1 {
            (0..nchunks).into_par_iter().map(one).collect()
        } else {
            (0..nchunks).map(one).collect()
        }
    };
    #[cfg(not(feature = "parallel"))]
    let parts: Vec<Result<Acc, usize>> = (0..nchunks).map(one).collect();
    let mut total = Acc::new(nq, pb.p, derivs);
    for part in parts {
        total.add(&part?);
    }
    Ok(total)
}

/// Adds cluster `c` to `acc`.
fn cluster(
    pb: &Problem,
    c: usize,
    psi: Option<&[f64]>,
    b0: &[f64],
    acc: &mut Acc,
    w: &mut Work,
) -> Result<(), ()> {
    let p = pb.p;
    let s0 = pb.start[c];
    let n = pb.start[c + 1] - s0;
    pb.m_block(c, psi, &mut w.mb);
    let logdet = cholesky(&mut w.mb, n).ok_or(())?;
    w.mi.resize(n * n, 0.0);
    w.tmp.resize(n * n, 0.0);
    chol_inverse(&w.mb, n, &mut w.mi, &mut w.tmp);
    // residuals around b0, M^-1 X, M^-1 r
    w.r.clear();
    for i in 0..n {
        let xi = &pb.x[(s0 + i) * p..(s0 + i + 1) * p];
        w.r.push(pb.y[s0 + i] - xi.iter().zip(b0).map(|(a, b)| a * b).sum::<f64>());
    }
    w.mix.clear();
    w.mix.resize(n * p, 0.0);
    w.mir.clear();
    w.mir.resize(n, 0.0);
    for i in 0..n {
        let mrow = &w.mi[i * n..(i + 1) * n];
        for (j, &mij) in mrow.iter().enumerate() {
            let xj = &pb.x[(s0 + j) * p..(s0 + j + 1) * p];
            for (dst, &xv) in w.mix[i * p..(i + 1) * p].iter_mut().zip(xj) {
                *dst += mij * xv;
            }
            w.mir[i] += mij * w.r[j];
        }
    }
    acc.logdet += logdet;
    for i in 0..n {
        let xi = &pb.x[(s0 + i) * p..(s0 + i + 1) * p];
        acc.rmr += w.r[i] * w.mir[i];
        for a in 0..p {
            acc.xmr[a] += xi[a] * w.mir[i];
            for b in 0..p {
                acc.xmx[a * p + b] += xi[a] * w.mix[i * p + b];
            }
        }
    }
    if psi.is_none() {
        return Ok(());
    }
    let nq = acc.q;
    // random-effect columns and the pattern of each psi in local coordinates
    let m = design(pb, c, n, w, nq);
    // S = Z'M^-1 Z, F = Z'M^-1 X, h = Z'M^-1 r
    w.s.clear();
    w.s.resize(m * m, 0.0);
    w.f.clear();
    w.f.resize(m * p, 0.0);
    w.h.clear();
    w.h.resize(m, 0.0);
    for i in 0..n {
        let (z1, z2) = w.z[i];
        for zi in [z1, z2] {
            if zi == NONE {
                continue;
            }
            let zi = zi as usize;
            for j in 0..n {
                let (y1, y2) = w.z[j];
                let mij = w.mi[i * n + j];
                w.s[zi * m + y1 as usize] += mij;
                if y2 != NONE {
                    w.s[zi * m + y2 as usize] += mij;
                }
            }
            for b in 0..p {
                w.f[zi * p + b] += w.mix[i * p + b];
            }
            w.h[zi] += w.mir[i];
        }
    }
    // E_q F, E_q h (E_q symmetric 0/1 patterns given as (s, t) pairs: (E_q)_st = 1)
    w.fq.clear();
    w.fq.resize(nq * m * p, 0.0);
    w.hq.clear();
    w.hq.resize(nq * m, 0.0);
    for q in 0..nq {
        for &(s, t) in &w.pairs[q] {
            let (s, t) = (s as usize, t as usize);
            for b in 0..p {
                w.fq[(q * m + s) * p + b] += w.f[t * p + b];
            }
            w.hq[q * m + s] += w.h[t];
        }
    }
    // S E_q F, S E_q h
    w.sfq.clear();
    w.sfq.resize(nq * m * p, 0.0);
    w.shq.clear();
    w.shq.resize(nq * m, 0.0);
    for q in 0..nq {
        for u in 0..m {
            let srow = &w.s[u * m..(u + 1) * m];
            let mut sh = 0.0;
            for (s, &sv) in srow.iter().enumerate() {
                if sv == 0.0 {
                    continue;
                }
                sh += sv * w.hq[q * m + s];
                for b in 0..p {
                    w.sfq[(q * m + u) * p + b] += sv * w.fq[(q * m + s) * p + b];
                }
            }
            w.shq[q * m + u] = sh;
        }
    }
    for q in 0..nq {
        let mut tr = 0.0;
        for &(s, t) in &w.pairs[q] {
            tr += w.s[t as usize * m + s as usize];
        }
        acc.tr[q] += tr;
        let fq = &w.fq[q * m * p..(q + 1) * m * p];
        let hq = &w.hq[q * m..(q + 1) * m];
        for u in 0..m {
            acc.heh[q] += w.h[u] * hq[u];
            for a in 0..p {
                let fua = w.f[u * p + a];
                acc.feh[q * p + a] += fua * hq[u];
                for b in 0..p {
                    acc.a[(q * p + a) * p + b] += fua * fq[u * p + b];
                }
            }
        }
        for r in 0..nq {
            // T_qr = tr(E_q S E_r S) = sum_{(s,t) in q} (S E_r S)_ts
            let mut t = 0.0;
            for &(s, tt) in &w.pairs[q] {
                for &(u, v) in &w.pairs[r] {
                    t += w.s[tt as usize * m + u as usize] * w.s[v as usize * m + s as usize];
                }
            }
            acc.t[q * nq + r] += t;
            let sfr = &w.sfq[r * m * p..(r + 1) * m * p];
            let shr = &w.shq[r * m..(r + 1) * m];
            let mut wq = 0.0;
            for u in 0..m {
                wq += hq[u] * shr[u];
                for a in 0..p {
                    let fa = fq[u * p + a];
                    acc.vv[(q * nq + r) * p + a] += fa * shr[u];
                    for b in 0..p {
                        acc.c[((q * nq + r) * p + a) * p + b] += fa * sfr[u * p + b];
                    }
                }
            }
            acc.w[q * nq + r] += wq;
        }
    }
    Ok(())
}

/// Adds cluster `c` to `acc` when its block is diagonal plus low rank
/// ([`Problem::lowrank_rho`]), in `O(n_j p^2)` instead of `O(n_j^3)` and without forming
/// any `n_j x n_j` matrix.
///
/// # Formulas
/// `M = D + U C U'`, `D = diag(d)`, `U = [1, sqrt(v)]` (only `1` when `rho = 0`),
/// `C = diag(sigma^2_1, rho)`. Woodbury: `M^-1 = D^-1 - D^-1 U H U'D^-1` with
/// `H = (I + C A_1)^-1 C` and `A_k = U'D^-kU`; `ln|M| = sum ln d + ln|I + C A_1|`. For the
/// columns `a, b` of `Y = [1, r, X]`, with `z_a = H U'D^-1 a` and `u_a = a - U z_a`
/// (so that `M^-1 a = D^-1 u_a`):
///
/// * `a'M^-1 b = a'D^-1 b - (U'D^-1 a)' z_b`;
/// * `a'M^-2 b = u_a' D^-2 u_b`;
/// * `a'M^-3 b = u_a' D^-3 u_b - (U'D^-2 u_a)' H (U'D^-2 u_b)`;
/// * `tr(M^-1) = sum d^-1 - tr(H A_2)`, `tr(M^-2) = sum d^-2 - 2 tr(H A_3) + tr(H A_2 H A_2)`.
///
/// With `D_1 = 11'` (cluster) and `D_2 = I` (every observation distinct), every term of
/// [`cluster`] is one of these (e.g. `tr(M^-1 D_1 M^-1 D_2) = 1'M^-2 1`,
/// `X'M^-1 D_2 M^-1 D_2 M^-1 X = X'M^-3 X`). Two passes over the rows, each adding
/// `O(p^2)` products per row.
///
/// Returns `false` (nothing added) when the cluster does not qualify (repeated observation
/// ids, some `d_i <= 0`, `|I + C A_1| <= 0`): the dense path then handles it, including the
/// positive-definiteness check.
fn cluster_lowrank(
    pb: &Problem,
    c: usize,
    psi: Option<&[f64]>,
    rho: f64,
    b0: &[f64],
    acc: &mut Acc,
    w: &mut Work,
) -> bool {
    let p = pb.p;
    let s0 = pb.start[c];
    let n = pb.start[c + 1] - s0;
    if pb.ngroups[c] as usize != n {
        return false;
    }
    let (s1, s2) = match psi {
        Some(ps) => (ps[0], ps[1]),
        None => (0.0, 0.0),
    };
    let t = if rho > 0.0 { 2 } else { 1 };
    // columns of Y: 0 = 1, 1 = r, 2 + j = x_j
    let nc = 2 + p;
    let xc = &pb.x[s0 * p..(s0 + n) * p];
    w.dinv.clear();
    w.tmp.clear();
    w.r.clear();
    w.g1.clear();
    w.g1.resize(nc * nc, 0.0);
    w.g1u.clear();
    w.g1u.resize(2 * nc, 0.0);
    w.vals.resize(nc, 0.0);
    // A_k = U'D^-kU, k = 1, 2, 3, stored as [00, 01, 11]
    let mut ak = [[0.0f64; 3]; 3];
    let (mut logsum, mut prod) = (0.0f64, 1.0f64);
    for i in 0..n {
        let v = pb.vi[s0 + i];
        let d = (1.0 - rho) * v + s2;
        if !(d > 0.0 && d.is_finite()) {
            return false;
        }
        // sum ln d with one logarithm per ~cluster (renormalised far from under/overflow)
        prod *= d;
        if !(1e-150..=1e150).contains(&prod) {
            logsum += prod.ln();
            prod = 1.0;
        }
        let di = 1.0 / d;
        let si = v.sqrt();
        let xi = &xc[i * p..(i + 1) * p];
        let ri = pb.y[s0 + i] - xi.iter().zip(b0).map(|(a, b)| a * b).sum::<f64>();
        w.dinv.push(di);
        w.tmp.push(si);
        w.r.push(ri);
        let mut dk = di;
        for a in &mut ak {
            a[0] += dk;
            a[1] += dk * si;
            a[2] += dk * v;
            dk *= di;
        }
        let vals = &mut w.vals;
        vals[0] = 1.0;
        vals[1] = ri;
        vals[2..].copy_from_slice(xi);
        for a in 0..nc {
            let da = di * vals[a];
            w.g1u[a] += da;
            w.g1u[nc + a] += da * si;
            for b in a..nc {
                w.g1[a * nc + b] += da * vals[b];
            }
        }
    }
    logsum += prod.ln();
    // K = I + C A_1, C = diag(sigma^2_1, rho); H = K^-1 C (row-major 2 x 2, symmetric)
    let (h, logdet_k) = if t == 2 {
        let k00 = 1.0 + s1 * ak[0][0];
        let k01 = s1 * ak[0][1];
        let k10 = rho * ak[0][1];
        let k11 = 1.0 + rho * ak[0][2];
        let det = k00 * k11 - k01 * k10;
        if !(det > 0.0 && det.is_finite()) {
            return false;
        }
        let h01 = -k01 / det * rho;
        ([k11 / det * s1, h01, h01, k00 / det * rho], det.ln())
    } else {
        let k = 1.0 + s1 * ak[0][0];
        if !(k > 0.0 && k.is_finite()) {
            return false;
        }
        ([s1 / k, 0.0, 0.0, 0.0], k.ln())
    };
    // z_a = H U'D^-1 a; <a, b>_1 = a'M^-1 b (upper triangle of w.g1, in place)
    w.zc.clear();
    w.zc.resize(2 * nc, 0.0);
    for a in 0..nc {
        let (u0, u1) = (w.g1u[a], w.g1u[nc + a]);
        w.zc[2 * a] = h[0] * u0 + h[1] * u1;
        w.zc[2 * a + 1] = h[2] * u0 + h[3] * u1;
    }
    for a in 0..nc {
        for b in a..nc {
            w.g1[a * nc + b] -= w.g1u[a] * w.zc[2 * b] + w.g1u[nc + a] * w.zc[2 * b + 1];
        }
    }
    let i1 = |a: usize, b: usize| w.g1[a.min(b) * nc + a.max(b)];
    acc.logdet += logsum + logdet_k;
    acc.rmr += i1(1, 1);
    for j in 0..p {
        acc.xmr[j] += i1(2 + j, 1);
        for l in 0..p {
            acc.xmx[j * p + l] += i1(2 + j, 2 + l);
        }
    }
    if psi.is_none() {
        return true;
    }
    // second pass: u_a = a - U z_a; D^-2 and D^-3 products, U'D^-2 u_a
    w.g2.clear();
    w.g2.resize(nc * nc, 0.0);
    w.g3.clear();
    w.g3.resize(nc * nc, 0.0);
    w.g2u.clear();
    w.g2u.resize(2 * nc, 0.0);
    for i in 0..n {
        let (di, si, ri) = (w.dinv[i], w.tmp[i], w.r[i]);
        let xi = &xc[i * p..(i + 1) * p];
        let u = &mut w.vals;
        u[0] = 1.0;
        u[1] = ri;
        u[2..].copy_from_slice(xi);
        for a in 0..nc {
            u[a] -= w.zc[2 * a] + si * w.zc[2 * a + 1];
        }
        let d2 = di * di;
        let d3 = d2 * di;
        for a in 0..nc {
            let ua2 = d2 * u[a];
            w.g2u[a] += ua2;
            w.g2u[nc + a] += ua2 * si;
            for b in a..nc {
                w.g2[a * nc + b] += ua2 * u[b];
            }
            if a >= 1 {
                let ua3 = d3 * u[a];
                for b in a..nc {
                    w.g3[a * nc + b] += ua3 * u[b];
                }
            }
        }
    }
    let i2 = |a: usize, b: usize| w.g2[a.min(b) * nc + a.max(b)];
    let i3 = |a: usize, b: usize| {
        let (ua0, ua1, ub0, ub1) = (w.g2u[a], w.g2u[nc + a], w.g2u[b], w.g2u[nc + b]);
        w.g3[a.min(b) * nc + a.max(b)]
            - (ua0 * (h[0] * ub0 + h[1] * ub1) + ua1 * (h[2] * ub0 + h[3] * ub1))
    };
    let sym = |m: &[f64; 3]| [m[0], m[1], m[1], m[2]];
    let mul = |x: &[f64; 4], y: &[f64; 4]| {
        [
            x[0] * y[0] + x[1] * y[2],
            x[0] * y[1] + x[1] * y[3],
            x[2] * y[0] + x[3] * y[2],
            x[2] * y[1] + x[3] * y[3],
        ]
    };
    let tr = |x: &[f64; 4]| x[0] + x[3];
    let ha2 = mul(&h, &sym(&ak[1]));
    let tr_m1 = ak[0][0] - tr(&ha2);
    let tr_m2 = ak[1][0] - 2.0 * tr(&mul(&h, &sym(&ak[2]))) + tr(&mul(&ha2, &ha2));
    let (s_g, s_r, gg, gmr) = (i1(0, 0), i1(0, 1), i2(0, 0), i2(0, 1));
    // Acc layout with nq = 2 (0 = cluster, 1 = observation): tr[q], heh[q], feh[q][p],
    // a[q][p][p], t[q][r], c[q][r][p][p], w[q][r], vv[q][r][p]
    acc.tr[0] += s_g;
    acc.tr[1] += tr_m1;
    acc.heh[0] += s_r * s_r;
    acc.heh[1] += i2(1, 1);
    acc.t[0] += s_g * s_g;
    acc.t[1] += gg;
    acc.t[2] += gg;
    acc.t[3] += tr_m2;
    acc.w[0] += s_g * s_r * s_r;
    acc.w[1] += s_r * gmr;
    acc.w[2] += s_r * gmr;
    acc.w[3] += i3(1, 1);
    for j in 0..p {
        let (xg, mg) = (i1(2 + j, 0), i2(2 + j, 0));
        acc.feh[j] += xg * s_r;
        acc.feh[p + j] += i2(2 + j, 1);
        acc.vv[j] += xg * s_g * s_r;
        acc.vv[p + j] += xg * gmr;
        acc.vv[2 * p + j] += mg * s_r;
        acc.vv[3 * p + j] += i3(2 + j, 1);
        for l in 0..p {
            let (xgl, mgl) = (i1(2 + l, 0), i2(2 + l, 0));
            acc.a[j * p + l] += xg * xgl;
            acc.a[(p + j) * p + l] += i2(2 + j, 2 + l);
            acc.c[j * p + l] += s_g * xg * xgl;
            acc.c[(p + j) * p + l] += xg * mgl;
            acc.c[(2 * p + j) * p + l] += mg * xgl;
            acc.c[(3 * p + j) * p + l] += i3(2 + j, 2 + l);
        }
    }
    true
}

/// Fills `w.z` (random-effect columns per row) and `w.pairs` (the patterns `E_q`) for
/// cluster `c`; returns the number of random-effect columns.
fn design(pb: &Problem, c: usize, n: usize, w: &mut Work, nq: usize) -> usize {
    let s0 = pb.start[c];
    w.z.clear();
    w.pairs.resize(nq, Vec::new());
    w.pairs.iter_mut().for_each(Vec::clear);
    match &pb.re {
        Re::Multilevel => {
            let g = pb.ngroups[c] as usize;
            for i in 0..n {
                w.z.push((0, 1 + pb.group[s0 + i]));
            }
            w.pairs[0].push((0, 0));
            for s in 1..=g as u32 {
                w.pairs[1].push((s, s));
            }
            1 + g
        }
        Re::Multivariate { m, level } => {
            let m = *m;
            w.local.clear();
            w.local.resize(m, NONE);
            let mut count = 0u32;
            for i in 0..n {
                let l = level[s0 + i] as usize;
                if w.local[l] == NONE {
                    w.local[l] = count;
                    count += 1;
                }
            }
            for i in 0..n {
                w.z.push((w.local[level[s0 + i] as usize], NONE));
            }
            for a in 0..m {
                if w.local[a] != NONE {
                    w.pairs[a].push((w.local[a], w.local[a]));
                }
            }
            for b in 0..m {
                for a in b + 1..m {
                    let (la, lb) = (w.local[a], w.local[b]);
                    if la != NONE && lb != NONE {
                        let q = m + pair_index(m, a, b);
                        w.pairs[q].push((la, lb));
                        w.pairs[q].push((lb, la));
                    }
                }
            }
            count as usize
        }
    }
}

/// The log-likelihoods, estimates and derivatives at one `psi`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Eval {
    pub ll_ml: f64,
    pub ll_reml: f64,
    pub beta: Vec<f64>,
    /// `(X'M^-1X)^-1`, row-major.
    pub vb: Vec<f64>,
    /// `(y - X beta)' M^-1 (y - X beta)`.
    pub rss: f64,
    /// `ln |M|`.
    pub logdet: f64,
    /// Gradient, observed Hessian and expected information in `psi` for the method's
    /// likelihood (empty for the fixed-effects pass).
    pub grad: Vec<f64>,
    pub hess: Vec<f64>,
    pub info: Vec<f64>,
}

/// Evaluates the model at `psi` (`None`: `M = V`). `Err(Some(c))`: the block of cluster
/// `c` is not positive definite; `Err(None)`: `X'M^-1X` is singular.
pub(crate) fn evaluate(
    pb: &Problem,
    psi: Option<&[f64]>,
    b0: &[f64],
    nq: usize,
    reml: bool,
) -> Result<Eval, Option<usize>> {
    let acc = accumulate(pb, psi, b0, nq).map_err(Some)?;
    let p = pb.p;
    let k = pb.k as f64;
    let mut l = acc.xmx.clone();
    let logdet_xmx = cholesky(&mut l, p).ok_or(None)?;
    let mut vb = vec![0.0; p * p];
    let mut tmp = vec![0.0; p * p];
    chol_inverse(&l, p, &mut vb, &mut tmp);
    let d: Vec<f64> = (0..p)
        .map(|a| (0..p).map(|b| vb[a * p + b] * acc.xmr[b]).sum())
        .collect();
    let beta: Vec<f64> = b0.iter().zip(&d).map(|(a, b)| a + b).collect();
    let rss = (acc.rmr - d.iter().zip(&acc.xmr).map(|(a, b)| a * b).sum::<f64>()).max(0.0);
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let ll_ml = -0.5 * k * ln2pi - 0.5 * acc.logdet - 0.5 * rss;
    let ll_reml = -0.5 * (k - p as f64) * ln2pi + 0.5 * pb.logdet_xx
        - 0.5 * acc.logdet
        - 0.5 * logdet_xmx
        - 0.5 * rss;
    let mut ev = Eval {
        ll_ml,
        ll_reml,
        beta,
        vb,
        rss,
        logdet: acc.logdet,
        grad: Vec::new(),
        hess: Vec::new(),
        info: Vec::new(),
    };
    if psi.is_none() {
        return Ok(ev);
    }
    let q = nq;
    let bm = &ev.vb;
    let quad = |m: &[f64], x: &[f64], y: &[f64]| -> f64 {
        let mut s = 0.0;
        for a in 0..p {
            for b in 0..p {
                s += x[a] * m[a * p + b] * y[b];
            }
        }
        s
    };
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    // tr(B X) for p x p X
    let trb = |x: &[f64]| -> f64 {
        let mut s = 0.0;
        for a in 0..p {
            for b in 0..p {
                s += bm[a * p + b] * x[b * p + a];
            }
        }
        s
    };
    // BA_q = B A_q
    let mut ba = vec![0.0; q * p * p];
    for qq in 0..q {
        let aq = &acc.a[qq * p * p..(qq + 1) * p * p];
        for a in 0..p {
            for b in 0..p {
                ba[qq * p * p + a * p + b] = (0..p).map(|s| bm[a * p + s] * aq[s * p + b]).sum();
            }
        }
    }
    let mut grad = vec![0.0; q];
    let mut hvec: Vec<Vec<f64>> = Vec::with_capacity(q);
    for qq in 0..q {
        let aq = &acc.a[qq * p * p..(qq + 1) * p * p];
        let feh = &acc.feh[qq * p..(qq + 1) * p];
        let ada = acc.heh[qq] - 2.0 * dot(&d, feh) + quad(aq, &d, &d);
        let trq = if reml {
            acc.tr[qq] - trb(aq)
        } else {
            acc.tr[qq]
        };
        grad[qq] = -0.5 * trq + 0.5 * ada;
        // h_q = X'M^-1 D_q a = feh - A_q d
        hvec.push(
            (0..p)
                .map(|a| feh[a] - (0..p).map(|b| aq[a * p + b] * d[b]).sum::<f64>())
                .collect(),
        );
    }
    let mut info = vec![0.0; q * q];
    let mut hess = vec![0.0; q * q];
    for qq in 0..q {
        for r in 0..q {
            let idx = qq * q + r;
            let cqr = &acc.c[idx * p * p..(idx + 1) * p * p];
            let mut tt = acc.t[idx];
            if reml {
                let bq = &ba[qq * p * p..(qq + 1) * p * p];
                let br = &ba[r * p * p..(r + 1) * p * p];
                let mut tr2 = 0.0;
                for a in 0..p {
                    for b in 0..p {
                        tr2 += bq[a * p + b] * br[b * p + a];
                    }
                }
                tt += -2.0 * trb(cqr) + tr2;
            }
            info[idx] = 0.5 * tt;
            let vqr = &acc.vv[idx * p..(idx + 1) * p];
            let vrq = &acc.vv[(r * q + qq) * p..(r * q + qq + 1) * p];
            let adma = acc.w[idx] - dot(&d, vqr) - dot(&d, vrq) + quad(cqr, &d, &d);
            let hbh = quad(bm, &hvec[qq], &hvec[r]);
            hess[idx] = info[idx] - (adma - hbh);
        }
    }
    // symmetrise (the sums are symmetric up to rounding)
    for a in 0..q {
        for b in 0..a {
            let (x, y) = (hess[a * q + b], hess[b * q + a]);
            hess[a * q + b] = 0.5 * (x + y);
            hess[b * q + a] = 0.5 * (x + y);
            let (x, y) = (info[a * q + b], info[b * q + a]);
            info[a * q + b] = 0.5 * (x + y);
            info[b * q + a] = 0.5 * (x + y);
        }
    }
    ev.grad = grad;
    ev.hess = hess;
    ev.info = info;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A small three-level problem with correlated sampling errors and a moderator.
    fn problem(reml_p: usize) -> Problem {
        let y = vec![0.1, 0.4, -0.2, 0.3, 0.8, 0.5, 0.0, 0.2, 0.6];
        let vi = vec![0.04, 0.05, 0.03, 0.06, 0.02, 0.05, 0.04, 0.03, 0.07];
        let xmod = [1.0, 2.0, 1.5, 3.0, 2.5, 0.5, 1.0, 2.0, 4.0];
        let p = reml_p;
        let mut x = Vec::new();
        for &xm in &xmod {
            x.push(1.0);
            if p == 2 {
                x.push(xm);
            }
        }
        let xm = nalgebra::DMatrix::from_row_slice(9, p, &x);
        Problem {
            k: 9,
            p,
            start: vec![0, 3, 5, 9],
            rows: (0..9).collect(),
            y,
            x,
            vi,
            group: vec![0, 1, 1, 0, 1, 0, 1, 2, 3],
            ngroups: vec![2, 2, 4],
            v: VSource::Vcalc {
                rho: 0.4,
                time: None,
            },
            re: Re::Multilevel,
            logdet_xx: (xm.transpose() * &xm).determinant().ln(),
            r_factor: (0..p * p)
                .map(|a| if a % (p + 1) == 0 { 1.0 } else { 0.0 })
                .collect(),
        }
    }

    /// The full k x k computation, for checking the per-cluster sums.
    fn dense_ll(pb: &Problem, psi: &[f64], reml: bool) -> f64 {
        let k = pb.k;
        let mut m = nalgebra::DMatrix::zeros(k, k);
        let mut blk = Vec::new();
        for c in 0..pb.nclusters() {
            pb.m_block(c, Some(psi), &mut blk);
            let s = pb.start[c];
            let n = pb.start[c + 1] - s;
            for a in 0..n {
                for b in 0..n {
                    m[(s + a, s + b)] = blk[a * n + b];
                }
            }
        }
        let x = nalgebra::DMatrix::from_row_slice(k, pb.p, &pb.x);
        let y = nalgebra::DVector::from_vec(pb.y.clone());
        let mi = m.clone().try_inverse().unwrap();
        let xmx = x.transpose() * &mi * &x;
        let b = xmx.clone().try_inverse().unwrap() * x.transpose() * &mi * &y;
        let e = &y - &x * b;
        let rss = (e.transpose() * &mi * &e)[(0, 0)];
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        if reml {
            -0.5 * (k - pb.p) as f64 * ln2pi + 0.5 * pb.logdet_xx
                - 0.5 * m.determinant().ln()
                - 0.5 * xmx.determinant().ln()
                - 0.5 * rss
        } else {
            -0.5 * k as f64 * ln2pi - 0.5 * m.determinant().ln() - 0.5 * rss
        }
    }

    /// The low-rank (Woodbury) path gives every per-cluster sum of the dense path: three
    /// clusters of distinct observations, `V = diag(v)` and `vcalc` with `rho = 0.4`, the
    /// fixed-effects pass and a point with both components, one and two coefficients.
    #[test]
    fn lowrank_path_equals_dense_path() {
        for p in [1, 2] {
            for v in [
                VSource::Diagonal,
                VSource::Vcalc {
                    rho: 0.4,
                    time: None,
                },
            ] {
                let mut pb = problem(p);
                pb.group = vec![0, 1, 2, 0, 1, 0, 1, 2, 3];
                pb.ngroups = vec![3, 2, 4];
                pb.v = v;
                let rho = pb.lowrank_rho().unwrap();
                for psi in [None, Some(&[0.07, 0.03][..]), Some(&[0.0, 0.2][..])] {
                    let b0 = vec![0.05; p];
                    let fast = accumulate_with(&pb, psi, &b0, 2, Some(rho)).unwrap();
                    let dense = accumulate_with(&pb, psi, &b0, 2, None).unwrap();
                    let pairs: [(&str, &[f64], &[f64]); 12] = [
                        ("logdet", &[fast.logdet], &[dense.logdet]),
                        ("rmr", &[fast.rmr], &[dense.rmr]),
                        ("xmr", &fast.xmr, &dense.xmr),
                        ("xmx", &fast.xmx, &dense.xmx),
                        ("tr", &fast.tr, &dense.tr),
                        ("heh", &fast.heh, &dense.heh),
                        ("feh", &fast.feh, &dense.feh),
                        ("a", &fast.a, &dense.a),
                        ("t", &fast.t, &dense.t),
                        ("c", &fast.c, &dense.c),
                        ("w", &fast.w, &dense.w),
                        ("vv", &fast.vv, &dense.vv),
                    ];
                    for (name, x, y) in pairs {
                        assert_eq!(x.len(), y.len(), "{name}");
                        for (a, b) in x.iter().zip(y) {
                            assert!(
                                (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0),
                                "{name} (p {p}, {:?}, psi {psi:?}): {a} vs {b}",
                                pb.v
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn likelihood_and_derivatives_match_dense_and_finite_differences() {
        for p in [1, 2] {
            let pb = problem(p);
            for reml in [false, true] {
                let psi = [0.07, 0.03];
                let b0 = vec![0.05; p];
                let ev = evaluate(&pb, Some(&psi), &b0, 2, reml).unwrap();
                let ll = if reml { ev.ll_reml } else { ev.ll_ml };
                assert!((ll - dense_ll(&pb, &psi, reml)).abs() < 1e-12);
                let h = 1e-5;
                for q in 0..2 {
                    let mut pp = psi;
                    pp[q] += h;
                    let mut pm = psi;
                    pm[q] -= h;
                    let fd = (dense_ll(&pb, &pp, reml) - dense_ll(&pb, &pm, reml)) / (2.0 * h);
                    assert!(
                        (fd - ev.grad[q]).abs() < 1e-7 * (1.0 + fd.abs()),
                        "grad {q}: {fd} {}",
                        ev.grad[q]
                    );
                    let ep = evaluate(&pb, Some(&pp), &b0, 2, reml).unwrap();
                    let em = evaluate(&pb, Some(&pm), &b0, 2, reml).unwrap();
                    for r in 0..2 {
                        let fd = (ep.grad[r] - em.grad[r]) / (2.0 * h);
                        assert!(
                            (fd - ev.hess[q * 2 + r]).abs() < 1e-5 * (1.0 + fd.abs()),
                            "hess {q}{r}: {fd} {}",
                            ev.hess[q * 2 + r]
                        );
                    }
                }
                // beta does not depend on the expansion point
                let ev2 = evaluate(&pb, Some(&psi), &vec![-3.0; p], 2, reml).unwrap();
                for (a, b) in ev.beta.iter().zip(&ev2.beta) {
                    assert!((a - b).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn pair_index_is_lower_tri_order() {
        let pairs = super::super::params::lower_pairs(4);
        for (i, &(a, b)) in pairs.iter().enumerate() {
            assert_eq!(pair_index(4, a, b), i);
        }
    }
}
