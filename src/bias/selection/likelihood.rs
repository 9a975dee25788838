//! The log-likelihood of a selection model with its gradient and Hessian in
//! `theta = (beta, tau^2, free deltas)`, summed over the studies in O(k).
//!
//! Study `i` contributes `ln w(p_i) + ln phi(y_i; mu_i, s_i^2) - ln A_i`, with
//! `mu_i = x_i' beta`, `s_i^2 = v_i + tau^2` and the normalising constant
//! `A_i = int w(p(y)) phi(y; mu_i, s_i^2) dy`. Writing `z = (y - mu_i)/s_i` and
//! `He_n` for the probabilists' Hermite polynomials, every derivative of `A_i` in
//! `(mu, tau^2)` is a moment `J_n = int w phi(z) He_n(z) dz`:
//!
//! `dA/dmu = J_1/s`, `d2A/dmu2 = J_2/s^2`, `dA/dtau2 = J_2/(2 s^2)`,
//! `d2A/(dmu dtau2) = J_3/(2 s^3)`, `d2A/dtau2^2 = J_4/(4 s^4)`
//!
//! (the heat equation: `d/d(s^2) = (1/2) d^2/dmu^2` on a normal density), and the
//! derivatives in delta are the same moments of `dw/ddelta` and `d2w/ddelta2`.
//!
//! * Step function: `w` is constant on each step interval, and the moments over an
//!   interval `(a, b)` of `z` are closed forms: `Phi(b) - Phi(a)` for `n = 0` and
//!   `phi(a) He_(n-1)(a) - phi(b) He_(n-1)(b)` for `n >= 1`.
//! * Continuous types: on the line of `t = y/sqrt(v_i)`, `w(p(t))` is constant outside
//!   a finite interval `[lo, hi]` ([`WeightFn::t_domain`]); the two outer pieces are the
//!   closed forms above and `[lo, hi]` is integrated by Gauss-Kronrod quadrature
//!   ([`crate::numeric::integrate`]) on one partition shared by all studies (cut at the kinks
//!   of `w(p(t))`, pieces at most [`PIECE_WIDTH`] wide), so that `p(t)` and `w` are
//!   evaluated once per node for all studies. Each study's integrals carry the error
//!   bound of [`crate::numeric::integrate`] (`|K21 - G10|` plus rounding, summed over the
//!   pieces); while one exceeds [`QUAD_REL_TOL`] (relative to the integral of the
//!   absolute integrand) the piece contributing most to it is bisected (in the shared
//!   partition) and the integrals of the studies that failed are computed again. Pieces
//!   on which a study's normal density is below `phi(12)` (`1.8e-33` times its peak)
//!   everywhere are skipped for that study, unless the selection function there is so
//!   much larger than where the normal mass is that they are not negligible
//!   (`far_negligible`: the power type at large delta, whose `w` spans `1e-5^delta .. 1`).
//! * The partition an evaluation starts from is refined only at points the optimiser
//!   accepts ([`Objective::accept`]): a rejected trial step into a region that needs a
//!   finer partition leaves the later evaluations on the coarser one.

use nalgebra::{DMatrix, DVector};

use super::kind::SelectionType;
use super::weight::{WDerivs, WeightFn};
use crate::numeric::dist::{norm_pdf, norm_sf};
use crate::numeric::integrate::{NODES, Partition, gauss_error, kronrod_weight};
use crate::numeric::optim::{Eval, Objective};

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Relative error bound required of each normalising constant `A_i` and of its fourth
/// Hermite moment (the bound is the Gauss rule's error, pessimistic for the Kronrod value
/// returned: the error actually achieved is below 1e-13, see the tests, and agrees with
/// R's `integrate()` between the same kinks to 1e-15).
pub(crate) const QUAD_REL_TOL: f64 = 1e-10;
/// The widest piece of the initial partition of the `t` line.
pub(crate) const PIECE_WIDTH: f64 = 3.0;
/// The most pieces the shared partition may be refined to.
const QUAD_MAX_PIECES: usize = 400;
/// A study skips a piece where its standardized `|z|` exceeds this everywhere, unless the
/// selection function is so much larger there than where the normal mass is that the
/// piece is not negligible ([`far_negligible`]).
const Z_SKIP: f64 = 12.0;
/// A far piece is skipped when the bound of [`far_negligible`] on its contribution to each
/// moment is below this, relative to `A_i` from the outer and the near pieces.
const SKIP_REL: f64 = 1e-16;
/// Components of the integrand whose error estimates are checked: `J_0` (the value `A_i`)
/// and `J_4`, whose Hermite weight `z^4 - 6 z^2 + 3` makes it the least smooth of the
/// moments; the moments of the delta derivatives of `w` share the smoothness of `w`.
const CHECKED: [usize; 2] = [0, 4];
/// Components of the integrand of the full evaluation: `J_0..J_4`, the moments `n = 0..2`
/// of `dw/ddelta_1` and `dw/ddelta_2`, and the three second derivatives of `w`.
const NC: usize = 14;

/// A selection-model likelihood over fixed data: the studies, the design (possibly
/// rescaled), the selection function and the observed p-values.
#[derive(Debug, Clone)]
pub(crate) struct Likelihood {
    pub y: Vec<f64>,
    pub v: Vec<f64>,
    sv: Vec<f64>,
    /// k x p design.
    pub x: DMatrix<f64>,
    pub weight: WeightFn,
    /// Observed p-values, clamped.
    pub pvals: Vec<f64>,
    /// Step intervals on the t line (step function only).
    pieces: Vec<Vec<(f64, f64)>>,
    /// The integration domain of the continuous types.
    domain: (f64, f64, Vec<f64>),
    /// The full delta vector; the free entries are overwritten from theta.
    pub delta_fixed: Vec<f64>,
    /// The estimated deltas (indices into the full delta vector).
    pub free: Vec<usize>,
    /// Fixed tau^2 (the heterogeneity test), or None.
    pub tau2_fixed: Option<f64>,
    /// Quadrature statistics of the last evaluation: integrals not meeting the tolerance.
    pub quad_failures: usize,
    /// Largest relative error estimate of an `A_i` in the last evaluation.
    pub quad_worst: f64,
    /// Integrand evaluations (node x study) since construction.
    pub quad_evals: usize,
    /// The relative error bound required of each integral ([`QUAD_REL_TOL`]).
    quad_tol: f64,
    /// The shared partition of `[lo, hi]` (continuous types) with `p(t)` clamped at its
    /// nodes.
    grid: Option<(Partition, Vec<f64>)>,
    /// The partition every evaluation starts from: the initial one, refined only at the
    /// points the optimiser accepted ([`Objective::accept`]), so that a trial step into a
    /// region needing a finer partition (a line-search point then rejected) does not make
    /// every later evaluation pay for it.
    committed: Option<(Partition, Vec<f64>)>,
    /// Per-study moments of the last evaluation (a buffer reused between evaluations).
    moments: Vec<Moments>,
}

/// The moments of one study: `J_0..J_4`, per free delta `(K_0, K_1, K_2)`, and the
/// second-derivative moments `L` (row-major, `q x q`).
#[derive(Debug, Clone, Default)]
struct Moments {
    j: [f64; 5],
    k: Vec<[f64; 3]>,
    l: Vec<f64>,
}

impl Likelihood {
    pub(crate) fn new(
        y: &[f64],
        v: &[f64],
        x: DMatrix<f64>,
        weight: WeightFn,
        delta: Vec<f64>,
    ) -> Self {
        let pvals = y
            .iter()
            .zip(v)
            .map(|(yi, vi)| weight.clamp(weight.p_of_t(yi / vi.sqrt())))
            .collect();
        let pieces = match weight.kind {
            SelectionType::StepFunction => weight.step_pieces(),
            _ => Vec::new(),
        };
        let domain = weight.t_domain();
        let grid = weight.kind.is_continuous().then(|| {
            let (lo, hi, kinks) = &domain;
            let mut breaks = vec![*lo];
            breaks.extend(kinks.iter().copied().filter(|k| k > lo && k < hi));
            breaks.push(*hi);
            let part = Partition::new(&breaks, PIECE_WIDTH);
            let pc = part
                .nodes()
                .iter()
                .map(|&t| weight.clamp(weight.p_of_t(t)))
                .collect();
            (part, pc)
        });
        let free = weight.free().collect();
        Likelihood {
            y: y.to_vec(),
            v: v.to_vec(),
            sv: v.iter().map(|vi| vi.sqrt()).collect(),
            x,
            weight,
            pvals,
            pieces,
            domain,
            delta_fixed: delta,
            free,
            tau2_fixed: None,
            quad_failures: 0,
            quad_worst: 0.0,
            quad_evals: 0,
            quad_tol: QUAD_REL_TOL,
            committed: grid.clone(),
            grid,
            moments: Vec::new(),
        }
    }

    /// Number of parameters: p coefficients, tau^2, the free deltas.
    #[allow(dead_code)]
    pub(crate) fn n_par(&self) -> usize {
        self.x.ncols() + 1 + self.free.len()
    }

    /// `(beta, tau2, full delta)` of a parameter vector.
    pub(crate) fn unpack<'t>(&self, theta: &'t [f64]) -> (&'t [f64], f64, Vec<f64>) {
        let p = self.x.ncols();
        let mut delta = self.delta_fixed.clone();
        for (n, &j) in self.free.iter().enumerate() {
            delta[j] = theta[p + 1 + n];
        }
        let tau2 = self.tau2_fixed.unwrap_or(theta[p]);
        (&theta[..p], tau2, delta)
    }

    fn mu(&self, i: usize, beta: &[f64]) -> f64 {
        (0..beta.len()).map(|a| self.x[(i, a)] * beta[a]).sum()
    }

    /// Bisects the pieces of the shared partition that some study's error estimate
    /// asked for; false when nothing can be refined any more.
    fn refine(&mut self, pieces: &mut Vec<usize>) -> bool {
        pieces.sort_unstable();
        pieces.dedup();
        match &mut self.grid {
            Some((part, pc)) if part.pieces().len() + pieces.len() <= QUAD_MAX_PIECES => {
                if !part.bisect(pieces) {
                    return false;
                }
                *pc = part
                    .nodes()
                    .iter()
                    .map(|&t| self.weight.clamp(self.weight.p_of_t(t)))
                    .collect();
                true
            }
            _ => false,
        }
    }

    /// Back to the committed partition.
    fn reset_grid(&mut self) {
        copy_partition(&self.committed, &mut self.grid);
    }

    /// `(mu_i, s_i^2, s_i)` at `(beta, tau2)`.
    fn location(&self, i: usize, beta: &[f64], tau2: f64) -> (f64, f64, f64) {
        let s2 = self.v[i] + tau2;
        (self.mu(i, beta), s2, s2.sqrt())
    }

    /// Runs `study` (which integrates study `i` on the current partition and returns its
    /// relative error estimate and the piece to bisect, if the estimate is too large) on
    /// every study, then, while some fail, bisects the pieces they asked for and runs it
    /// again on those studies only (the others' integrals already meet the tolerance).
    /// Records the quadrature statistics of the final integrals.
    fn integrate_all<T>(
        &mut self,
        delta: &[f64],
        at_node: impl Fn(&WeightFn, f64, &[f64]) -> T,
        mut study: impl FnMut(&mut Self, usize, &[T]) -> (f64, Option<usize>),
    ) {
        let k = self.y.len();
        let mut rel = vec![0.0; k];
        let mut failed = vec![false; k];
        let mut todo: Vec<usize> = (0..k).collect();
        loop {
            let nodes: Vec<T> = match &self.grid {
                Some((_, pc)) => pc
                    .iter()
                    .map(|&p| at_node(&self.weight, p, delta))
                    .collect(),
                None => Vec::new(),
            };
            let mut pieces = Vec::new();
            let mut again = Vec::new();
            for &i in &todo {
                let (r, bad) = study(self, i, &nodes);
                rel[i] = r;
                failed[i] = bad.is_some();
                if let Some(j) = bad {
                    pieces.push(j);
                    again.push(i);
                }
            }
            if again.is_empty() || !self.refine(&mut pieces) {
                break;
            }
            todo = again;
        }
        self.quad_failures = failed.iter().filter(|&&f| f).count();
        self.quad_worst = rel.iter().copied().fold(0.0, f64::max);
    }

    /// The log-likelihood at `theta` (NaN outside the domain).
    pub(crate) fn loglik(&mut self, theta: &[f64]) -> f64 {
        self.reset_grid();
        let (beta, tau2, delta) = self.unpack(theta);
        if !(tau2 >= 0.0) || delta.iter().any(|d| !(*d >= 0.0)) {
            return f64::NAN;
        }
        let k = self.y.len();
        let mut a = vec![0.0; k];
        self.quad_failures = 0;
        self.quad_worst = 0.0;
        match self.weight.kind {
            SelectionType::StepFunction => {
                for (i, ai) in a.iter_mut().enumerate() {
                    let (mu, _, s) = self.location(i, beta, tau2);
                    *ai = self.step_a(i, mu, s, &delta);
                }
            }
            _ => {
                let tails = self.weight.tails(&delta);
                self.integrate_all(&delta, WeightFn::w, |lik, i, nodes| {
                    let (mu, _, s) = lik.location(i, beta, tau2);
                    let (ai, rel, bad) = lik.cont_a(i, mu, s, nodes, &tails);
                    a[i] = ai;
                    (rel, bad)
                });
            }
        }
        let mut ll = 0.0;
        for (i, ai) in a.iter().enumerate() {
            let (mu, s2, _) = self.location(i, beta, tau2);
            let (lw, _, _) = self.weight.log_w_derivs(self.pvals[i], &delta);
            let e = self.y[i] - mu;
            ll += lw - LN_SQRT_2PI - 0.5 * s2.ln() - 0.5 * e * e / s2 - ai.ln();
        }
        ll
    }

    /// The log-likelihood with its gradient and Hessian in theta (the free parameters; the
    /// row and column of a fixed tau^2 are zero).
    pub(crate) fn loglik_derivs(
        &mut self,
        theta: &[f64],
    ) -> Option<(f64, DVector<f64>, DMatrix<f64>)> {
        self.reset_grid();
        let (beta, tau2, delta) = self.unpack(theta);
        if !(tau2 >= 0.0) || delta.iter().any(|d| !(*d >= 0.0)) {
            return None;
        }
        let q = self.free.len();
        let free = self.free.clone();
        let k = self.y.len();
        // the moments of every study first (the continuous types refine the partition
        // for the studies that need it), then the sums
        let mut ms = std::mem::take(&mut self.moments);
        if ms.len() != k || ms.first().is_some_and(|m| m.k.len() != q) {
            ms = vec![
                Moments {
                    j: [0.0; 5],
                    k: vec![[0.0; 3]; q],
                    l: vec![0.0; q * q],
                };
                k
            ];
        }
        self.quad_failures = 0;
        self.quad_worst = 0.0;
        match self.weight.kind {
            SelectionType::StepFunction => {
                for (i, m) in ms.iter_mut().enumerate() {
                    let (mu, _, s) = self.location(i, beta, tau2);
                    self.step_moments(i, mu, s, &delta, &free, m);
                }
            }
            _ => {
                let tails = self.weight.tails(&delta);
                self.integrate_all(&delta, WeightFn::w_derivs, |lik, i, nodes| {
                    let (mu, _, s) = lik.location(i, beta, tau2);
                    lik.cont_moments(i, mu, s, nodes, &tails, &mut ms[i])
                });
            }
        }
        let r = self.sums(beta, tau2, &delta, &ms);
        self.moments = ms;
        r
    }

    /// The log-likelihood with its gradient and Hessian from the studies' moments.
    #[allow(clippy::type_complexity)]
    fn sums(
        &self,
        beta: &[f64],
        tau2: f64,
        delta: &[f64],
        ms: &[Moments],
    ) -> Option<(f64, DVector<f64>, DMatrix<f64>)> {
        let p = self.x.ncols();
        let free = &self.free;
        let q = free.len();
        let n = p + 1 + q;
        let nl = 2 + q;
        let mut ll = 0.0;
        let mut grad = DVector::zeros(n);
        let mut hess = DMatrix::zeros(n, n);
        let mut gl = vec![0.0; nl];
        let mut hl = vec![0.0; nl * nl];
        let mut da = vec![0.0; nl];
        let mut dda = vec![0.0; nl * nl];
        for (i, m) in ms.iter().enumerate() {
            let (mu, s2, s) = self.location(i, beta, tau2);
            let a = m.j[0];
            if !(a > 0.0 && a.is_finite()) {
                return None;
            }
            // derivatives of A in (mu, tau2, delta_free)
            da[0] = m.j[1] / s;
            da[1] = m.j[2] / (2.0 * s2);
            for f in 0..q {
                da[2 + f] = m.k[f][0];
            }
            dda[0] = m.j[2] / s2;
            dda[1] = m.j[3] / (2.0 * s2 * s);
            dda[nl] = dda[1];
            dda[nl + 1] = m.j[4] / (4.0 * s2 * s2);
            for f in 0..q {
                let (r0, r1) = (m.k[f][1] / s, m.k[f][2] / (2.0 * s2));
                dda[2 + f] = r0;
                dda[(2 + f) * nl] = r0;
                dda[nl + 2 + f] = r1;
                dda[(2 + f) * nl + 1] = r1;
                for g in 0..q {
                    dda[(2 + f) * nl + 2 + g] = m.l[f * q + g];
                }
            }
            // observed part: ln w(p_i) + ln phi(y_i; mu, s2)
            let e = self.y[i] - mu;
            let (lw, lwd, lwdd) = self.obs_log_w(i, delta, free);
            ll += lw - LN_SQRT_2PI - 0.5 * s2.ln() - 0.5 * e * e / s2 - a.ln();
            gl.iter_mut().for_each(|g| *g = 0.0);
            hl.iter_mut().for_each(|h| *h = 0.0);
            gl[0] = e / s2;
            gl[1] = -0.5 / s2 + 0.5 * e * e / (s2 * s2);
            hl[0] = -1.0 / s2;
            hl[1] = -e / (s2 * s2);
            hl[nl] = hl[1];
            hl[nl + 1] = 0.5 / (s2 * s2) - e * e / (s2 * s2 * s2);
            for f in 0..q {
                gl[2 + f] = lwd[f];
                for g in 0..q {
                    hl[(2 + f) * nl + 2 + g] = lwdd[f * q + g];
                }
            }
            for r in 0..nl {
                gl[r] -= da[r] / a;
                for c in 0..nl {
                    hl[r * nl + c] -= dda[r * nl + c] / a - da[r] * da[c] / (a * a);
                }
            }
            // scatter: local index 0 -> beta (times x_i), 1 -> tau2, 2.. -> deltas
            let glob = |r: usize| -> (usize, usize) {
                match r {
                    0 => (0, p),
                    1 => (p, p + 1),
                    _ => (p + 1 + r - 2, p + 2 + r - 2),
                }
            };
            let xw =
                |i: usize, r: usize, a: usize| -> f64 { if r == 0 { self.x[(i, a)] } else { 1.0 } };
            for r in 0..nl {
                let (r0, r1) = glob(r);
                for gr in r0..r1 {
                    let wr = xw(i, r, gr);
                    grad[gr] += wr * gl[r];
                    for c in 0..nl {
                        let h = hl[r * nl + c];
                        if h != 0.0 {
                            let (c0, c1) = glob(c);
                            for gc in c0..c1 {
                                hess[(gr, gc)] += wr * xw(i, c, gc) * h;
                            }
                        }
                    }
                }
            }
        }
        if self.tau2_fixed.is_some() {
            for j in 0..n {
                hess[(p, j)] = 0.0;
                hess[(j, p)] = 0.0;
            }
            grad[p] = 0.0;
        }
        Some((ll, grad, hess))
    }

    /// `ln w(p_i)` with derivatives in the free deltas (`q x q` Hessian, row-major).
    fn obs_log_w(&self, i: usize, delta: &[f64], free: &[usize]) -> (f64, Vec<f64>, Vec<f64>) {
        let q = free.len();
        let mut d = vec![0.0; q];
        let mut dd = vec![0.0; q * q];
        let p = self.pvals[i];
        match self.weight.kind {
            SelectionType::StepFunction => {
                let g = self.weight.group(p);
                if let Some(f) = free.iter().position(|&j| j == g) {
                    d[f] = 1.0 / delta[g];
                    dd[f * q + f] = -1.0 / (delta[g] * delta[g]);
                }
                (delta[g].ln(), d, dd)
            }
            _ => {
                // packed [00, 01, 11] by delta index
                let (lw, ld, ldd) = self.weight.log_w_derivs(p, delta);
                for (f, &j) in free.iter().enumerate() {
                    d[f] = ld[j];
                    for (g, &l) in free.iter().enumerate() {
                        dd[f * q + g] = ldd[j + l];
                    }
                }
                (lw, d, dd)
            }
        }
    }

    /// `A_i` of the step function.
    fn step_a(&self, i: usize, mu: f64, s: f64, delta: &[f64]) -> f64 {
        let sv = self.sv[i];
        let mut a = 0.0;
        for (j, pcs) in self.pieces.iter().enumerate() {
            for &(lo, hi) in pcs {
                a += delta[j] * prob((sv * lo - mu) / s, (sv * hi - mu) / s);
            }
        }
        a
    }

    fn step_moments(
        &self,
        i: usize,
        mu: f64,
        s: f64,
        delta: &[f64],
        free: &[usize],
        m: &mut Moments,
    ) {
        let sv = self.sv[i];
        m.j = [0.0; 5];
        for (j, pcs) in self.pieces.iter().enumerate() {
            let mut mom = [0.0; 5];
            for &(lo, hi) in pcs {
                let r = interval_moments((sv * lo - mu) / s, (sv * hi - mu) / s);
                for (a, b) in mom.iter_mut().zip(r) {
                    *a += b;
                }
            }
            for (a, b) in m.j.iter_mut().zip(mom) {
                *a += delta[j] * b;
            }
            if let Some(f) = free.iter().position(|&g| g == j) {
                m.k[f] = [mom[0], mom[1], mom[2]];
            }
        }
        m.l.iter_mut().for_each(|l| *l = 0.0);
    }

    /// `A_i` of a continuous type, its relative error estimate, and the piece to bisect
    /// when that is too large.
    fn cont_a(
        &mut self,
        i: usize,
        mu: f64,
        s: f64,
        w_nodes: &[f64],
        tails: &(WDerivs, WDerivs),
    ) -> (f64, f64, Option<usize>) {
        let sv = self.sv[i];
        let (lo, hi, _) = self.domain;
        let zlo = (sv * lo - mu) / s;
        let zhi = (sv * hi - mu) / s;
        let outer = tails.0.w * prob(f64::NEG_INFINITY, zlo) + tails.1.w * prob(zhi, f64::INFINITY);
        let Some((part, _)) = &self.grid else {
            return (outer, 0.0, None);
        };
        let jac = sv / s;
        let (mut value, mut error, mut resabs) = (0.0, 0.0, 0.0);
        let mut worst = (0.0, None);
        let mut evals = 0;
        let nodes = part.nodes();
        for (j, d) in near_then_far(part.pieces(), |t| (sv * t - mu) / s) {
            let wn = &w_nodes[NODES * j..NODES * (j + 1)];
            let wmax = wn.iter().fold(0.0f64, |m, w| m.max(w.abs()));
            if d > Z_SKIP && far_negligible(d, wmax, value + outer.abs()) {
                continue;
            }
            let (a, b) = part.pieces()[j];
            let mut f = [0.0; NODES];
            for n in 0..NODES {
                let z = (sv * nodes[NODES * j + n] - mu) / s;
                f[n] = wn[n] * norm_pdf(z) * jac;
            }
            evals += NODES;
            let (k, e, r) = gauss_error(&f, 0.5 * (b - a));
            value += k;
            error += e;
            resabs += r;
            if e > worst.0 {
                worst = (e, Some(j));
            }
        }
        self.quad_evals += evals;
        let target = self.quad_tol * (resabs + outer.abs());
        let ok = error <= target || error == 0.0;
        let rel = if error == 0.0 {
            0.0
        } else {
            error / (resabs + outer.abs())
        };
        (value + outer, rel, if ok { None } else { worst.1 })
    }

    /// The moments of a continuous type, with the largest relative error estimate and the
    /// piece to bisect when that is too large.
    fn cont_moments(
        &mut self,
        i: usize,
        mu: f64,
        s: f64,
        g: &[WDerivs],
        tails: &(WDerivs, WDerivs),
        m: &mut Moments,
    ) -> (f64, Option<usize>) {
        let sv = self.sv[i];
        let (lo, hi, _) = self.domain;
        let zlo = (sv * lo - mu) / s;
        let zhi = (sv * hi - mu) / s;
        let left = interval_moments(f64::NEG_INFINITY, zlo);
        let right = interval_moments(zhi, f64::INFINITY);
        let q = self.free.len();
        let mut tot = [0.0; NC];
        for n in 0..5 {
            tot[n] = tails.0.w * left[n] + tails.1.w * right[n];
        }
        for j in 0..self.weight.n_delta().min(2) {
            for n in 0..3 {
                tot[5 + 3 * j + n] = tails.0.d[j] * left[n] + tails.1.d[j] * right[n];
            }
        }
        for c in 0..3 {
            tot[11 + c] = tails.0.dd[c] * left[0] + tails.1.dd[c] * right[0];
        }
        let outer: [f64; 2] = std::array::from_fn(|c| tot[CHECKED[c]].abs());
        let mut error = [0.0; 2];
        let mut resabs = [0.0; 2];
        let mut worst = (0.0, None);
        let mut evals = 0;
        let two = self.weight.n_delta() >= 2;
        if let Some((part, _)) = &self.grid {
            let jac = sv / s;
            let (za_t, zb_t) = (sv / s, -mu / s);
            let nodes = part.nodes();
            for (j, d) in near_then_far(part.pieces(), |t| za_t * t + zb_t) {
                let (a, b) = part.pieces()[j];
                let h = 0.5 * (b - a);
                let base = NODES * j;
                if d > Z_SKIP {
                    // the largest |w| and |derivative of w| at the piece's nodes
                    let gmax = g[base..base + NODES].iter().fold(0.0f64, |m, wd| {
                        let x = wd.w.abs().max(wd.d[0].abs()).max(wd.d[1].abs());
                        m.max(x)
                            .max(wd.dd.iter().fold(0.0f64, |a, v| a.max(v.abs())))
                    });
                    // tot[0]: J_0 so far (the outer pieces and the near ones)
                    if far_negligible(d, gmax, tot[0].abs()) {
                        continue;
                    }
                }
                // the densities first: a call to exp inside the accumulating loop would
                // make it spill its 14 sums around every call
                let mut zs = [0.0; NODES];
                let mut phs = [0.0; NODES];
                for n in 0..NODES {
                    zs[n] = za_t * nodes[base + n] + zb_t;
                    phs[n] = norm_pdf(zs[n]) * jac;
                }
                let mut chk = [[0.0; NODES]; 2];
                let mut acc = [0.0; NC];
                for n in 0..NODES {
                    let wd = &g[base + n];
                    let (z, ph) = (zs[n], phs[n]);
                    let z2 = z * z;
                    let (h2, h3, h4) = (z2 - 1.0, z * (z2 - 3.0), (z2 - 6.0) * z2 + 3.0);
                    let gw = wd.w * ph;
                    let kw = kronrod_weight(n);
                    let d0 = wd.d[0] * ph;
                    let g4 = gw * h4;
                    acc[0] += kw * gw;
                    acc[1] += kw * gw * z;
                    acc[2] += kw * gw * h2;
                    acc[3] += kw * gw * h3;
                    acc[4] += kw * g4;
                    acc[5] += kw * d0;
                    acc[6] += kw * d0 * z;
                    acc[7] += kw * d0 * h2;
                    acc[11] += kw * wd.dd[0] * ph;
                    if two {
                        let d1 = wd.d[1] * ph;
                        acc[8] += kw * d1;
                        acc[9] += kw * d1 * z;
                        acc[10] += kw * d1 * h2;
                        acc[12] += kw * wd.dd[1] * ph;
                        acc[13] += kw * wd.dd[2] * ph;
                    }
                    chk[0][n] = gw;
                    chk[1][n] = g4;
                }
                for c in 0..NC {
                    tot[c] += h * acc[c];
                }
                evals += NODES;
                let mut piece_err: f64 = 0.0;
                for c in 0..2 {
                    let (_, e, r) = gauss_error(&chk[c], h);
                    error[c] += e;
                    resabs[c] += r;
                    piece_err = piece_err.max(e);
                }
                if piece_err > worst.0 {
                    worst = (piece_err, Some(j));
                }
            }
        }
        self.quad_evals += evals;
        let rel = (0..2)
            .map(|c| {
                let scale = resabs[c] + outer[c];
                if scale > 0.0 { error[c] / scale } else { 0.0 }
            })
            .fold(0.0f64, f64::max);
        let ok = rel <= self.quad_tol;
        m.j.copy_from_slice(&tot[..5]);
        // components by delta index -> by estimated delta
        for (f, &j) in self.free.iter().enumerate() {
            m.k[f] = [tot[5 + 3 * j], tot[6 + 3 * j], tot[7 + 3 * j]];
            for (g, &l) in self.free.iter().enumerate() {
                m.l[f * q + g] = tot[11 + j + l];
            }
        }
        (rel, if ok { None } else { worst.1 })
    }
}

/// The pieces of a partition with their distance `d` from `mu` in standard deviations
/// (`z_of` maps `t` to `z`; `d = max(z(a), -z(b))`, negative inside a piece): first those
/// within [`Z_SKIP`], in order, then the farther ones, in order. The far pieces come last
/// so that [`far_negligible`] can weigh each against the integral of the near ones.
fn near_then_far<'a>(
    pieces: &'a [(f64, f64)],
    z_of: impl Fn(f64) -> f64 + Copy + 'a,
) -> impl Iterator<Item = (usize, f64)> + 'a {
    let dist = move |&(a, b): &(f64, f64)| z_of(a).max(-z_of(b));
    let near = pieces
        .iter()
        .map(dist)
        .enumerate()
        .filter(|&(_, d)| d <= Z_SKIP);
    let far = pieces
        .iter()
        .map(dist)
        .enumerate()
        .filter(|&(_, d)| d > Z_SKIP);
    near.chain(far)
}

/// Whether a piece at least `d > Z_SKIP` standard deviations from `mu`, on which the
/// selection function and its delta derivatives are at most `gmax` in absolute value (the
/// largest at its nodes), contributes less than `SKIP_REL * scale` to every moment:
/// `int_d^inf |He_n(z)| phi(z) dz <= int_d^inf z^4 phi(z) dz = phi(d) (d^3 + 3 d) + 3
/// Q(d) <= phi(d) (d^3 + 3 d + 1)` for `n <= 4` and `d >= 3`.
///
/// `phi(12) = 1.8e-33`, so with a selection function of bounded range (the step function's
/// deltas, small exponents) no far piece counts; but where `w` spans many orders of
/// magnitude (the power type's `w = (1 - p)^delta` with `p` clamped at `1 - 1e-5` is
/// `1e-5^delta` at one end of the `t` line and near 1 at the other) and `mu` lies deep in
/// the flat low end, the far pieces where `w` is large make up most of `A_i`. Skipping them
/// made the `A_i` far too small there: on raudenbush/power with tau^2 = 0 the fit ran to a
/// log-likelihood of +463.7 where metafor's is -165.6 (the sum of `ln A_i` off by 629).
fn far_negligible(d: f64, gmax: f64, scale: f64) -> bool {
    gmax * norm_pdf(d) * (d * d * d + 3.0 * d + 1.0) <= SKIP_REL * scale
}

/// `to = from.clone()` unless they are already equal: the working partition only ever
/// refines the committed one, so equal piece counts mean equal partitions.
fn copy_partition(from: &Option<(Partition, Vec<f64>)>, to: &mut Option<(Partition, Vec<f64>)>) {
    if let (Some((f, _)), Some((t, _))) = (from, to.as_ref()) {
        if f.pieces().len() != t.pieces().len() {
            *to = from.clone();
        }
    }
}

/// `P(a < Z < b)` for a standard normal `Z`, from the tail on the side of the interval.
pub(crate) fn prob(a: f64, b: f64) -> f64 {
    if a >= 0.0 {
        norm_sf(a) - norm_sf(b)
    } else if b <= 0.0 {
        norm_sf(-b) - norm_sf(-a)
    } else {
        1.0 - norm_sf(-a) - norm_sf(b)
    }
}

/// `int_a^b phi(z) He_n(z) dz` for `n = 0..4`.
fn interval_moments(a: f64, b: f64) -> [f64; 5] {
    let he = |z: f64| -> [f64; 4] {
        if z.is_infinite() {
            return [0.0; 4];
        }
        let ph = norm_pdf(z);
        [ph, ph * z, ph * (z * z - 1.0), ph * z * (z * z - 3.0)]
    };
    let (ha, hb) = (he(a), he(b));
    [
        prob(a, b),
        ha[0] - hb[0],
        ha[1] - hb[1],
        ha[2] - hb[2],
        ha[3] - hb[3],
    ]
}

/// The objective of the optimiser: minus the log-likelihood.
impl Objective for Likelihood {
    fn value(&mut self, x: &[f64]) -> f64 {
        let ll = self.loglik(x);
        if ll.is_finite() { -ll } else { f64::INFINITY }
    }

    fn eval(&mut self, x: &[f64]) -> Option<Eval> {
        let (ll, g, h) = self.loglik_derivs(x)?;
        Some(Eval {
            f: -ll,
            grad: -g,
            hess: -h,
        })
    }

    fn accept(&mut self) {
        copy_partition(&self.grid, &mut self.committed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bias::selection::kind::Alternative;

    /// SIMULATED data.
    fn data() -> (Vec<f64>, Vec<f64>, DMatrix<f64>) {
        let y = vec![
            0.62, 0.15, 0.48, 0.05, 0.71, 0.33, -0.12, 0.56, 0.09, 0.40, 0.25, 0.02,
        ];
        let v = vec![
            0.09, 0.01, 0.05, 0.008, 0.12, 0.04, 0.01, 0.07, 0.012, 0.03, 0.02, 0.005,
        ];
        let x = DMatrix::from_fn(
            12,
            2,
            |i, j| if j == 0 { 1.0 } else { i as f64 / 11.0 - 0.4 },
        );
        (y, v, x)
    }

    fn lik(kind: SelectionType, steps: &[f64], alt: Alternative) -> Likelihood {
        let (y, v, x) = data();
        let pval_min = match kind {
            SelectionType::Beta | SelectionType::Power => 1e-5,
            _ => 0.0,
        };
        let w = WeightFn {
            kind,
            steps: steps.to_vec(),
            alternative: alt,
            pval_min,
        };
        let n = w.n_delta();
        Likelihood::new(&y, &v, x, w, vec![1.0; n])
    }

    fn cases() -> Vec<(SelectionType, Vec<f64>, Vec<f64>)> {
        vec![
            (
                SelectionType::StepFunction,
                vec![0.025, 0.5, 1.0],
                vec![0.6, 0.3],
            ),
            (SelectionType::Beta, vec![1.0], vec![0.7, 1.6]),
            (SelectionType::HalfNormal, vec![0.0, 1.0], vec![2.5]),
            (SelectionType::HalfNormal, vec![0.05, 1.0], vec![2.5]),
            (
                SelectionType::NegativeExponential,
                vec![0.0, 1.0],
                vec![1.7],
            ),
            (SelectionType::Logistic, vec![0.0, 1.0], vec![3.1]),
            (SelectionType::Power, vec![0.0, 1.0], vec![0.8]),
            (SelectionType::Power, vec![0.1, 1.0], vec![0.8]),
        ]
    }

    #[test]
    fn gradient_and_hessian_match_central_differences() {
        for alt in [
            Alternative::Greater,
            Alternative::Less,
            Alternative::TwoSided,
        ] {
            for (kind, steps, d) in cases() {
                let mut l = lik(kind, &steps, alt);
                let mut th = vec![0.2, 0.3, 0.04];
                th.extend(&d);
                let (ll, g, h) = l.loglik_derivs(&th).unwrap();
                assert!(
                    (ll - l.loglik(&th)).abs() < 1e-12 * ll.abs(),
                    "{kind} {alt}"
                );
                for j in 0..th.len() {
                    let e = 1e-5 * th[j].abs().max(0.01);
                    let (mut a, mut b) = (th.clone(), th.clone());
                    a[j] += e;
                    b[j] -= e;
                    let num = (l.loglik(&a) - l.loglik(&b)) / (2.0 * e);
                    assert!(
                        (num - g[j]).abs() < 1e-6 * (1.0 + g[j].abs()),
                        "{kind} {alt} grad {j}: {num} vs {}",
                        g[j]
                    );
                    let (_, ga, _) = l.loglik_derivs(&a).unwrap();
                    let (_, gb, _) = l.loglik_derivs(&b).unwrap();
                    for c in 0..th.len() {
                        let num = (ga[c] - gb[c]) / (2.0 * e);
                        assert!(
                            (num - h[(j, c)]).abs() < 1e-5 * (1.0 + h[(j, c)].abs()),
                            "{kind} {alt} hess {j},{c}: {num} vs {}",
                            h[(j, c)]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_rejected_trial_point_leaves_no_refinement_behind() {
        // an evaluation at a point that needs a finer partition (delta_1 at the beta
        // type's lower bound, tau^2 = 0) refines it for that evaluation only: the next
        // evaluation elsewhere gives the same bits as before it; once the optimiser
        // accepts that point, the finer partition is kept, and the values agree with the
        // coarse ones within the quadrature tolerance
        let mut l = lik(SelectionType::Beta, &[1.0], Alternative::Greater);
        let th = [0.2, 0.3, 0.04, 0.7, 1.6];
        let wild = [-1.5, 0.8, 0.0, 1e-5, 1.5];
        let before = l.loglik_derivs(&th).unwrap();
        let coarse = l.grid.as_ref().unwrap().0.pieces().len();
        let _ = l.loglik_derivs(&wild).unwrap();
        let fine = l.grid.as_ref().unwrap().0.pieces().len();
        assert!(fine > coarse, "{fine} vs {coarse} pieces");
        assert_eq!(l.loglik_derivs(&th).unwrap(), before);
        assert_eq!(l.loglik(&th), before.0);
        assert_eq!(l.grid.as_ref().unwrap().0.pieces().len(), coarse);
        let _ = l.loglik_derivs(&wild).unwrap();
        l.accept();
        let after = l.loglik_derivs(&th).unwrap();
        assert_eq!(l.grid.as_ref().unwrap().0.pieces().len(), fine);
        let bound = l.y.len() as f64 * QUAD_REL_TOL;
        assert!(
            (after.0 - before.0).abs() <= bound,
            "{} vs {}",
            after.0,
            before.0
        );
        assert_eq!(l.quad_failures, 0);
    }

    #[test]
    fn the_quadrature_error_is_far_below_its_bound() {
        // each ln A_i is within QUAD_REL_TOL of its exact value, so ll within k QUAD_REL_TOL;
        // a partition 16 times finer integrated to 1e-13 shows the error two orders of
        // magnitude below that bound, also where w(p(t)) is |t|^a near t = 0 (the power
        // and beta types with two-sided p-values)
        let mut worst: f64 = 0.0;
        for alt in [
            Alternative::Greater,
            Alternative::Less,
            Alternative::TwoSided,
        ] {
            for (kind, steps, d) in cases().into_iter().filter(|c| c.0.is_continuous()) {
                let mut l = lik(kind, &steps, alt);
                let mut th = vec![0.2, 0.3, 0.04];
                th.extend(&d);
                let coarse = l.loglik(&th);
                assert_eq!(l.quad_failures, 0);
                assert!(l.quad_worst <= QUAD_REL_TOL);
                let mut fine = lik(kind, &steps, alt);
                let (lo, hi, kinks) = fine.domain.clone();
                let mut b = vec![lo];
                b.extend(kinks.iter().copied().filter(|k| *k > lo && *k < hi));
                b.push(hi);
                let part = Partition::new(&b, PIECE_WIDTH / 16.0);
                let pc = part
                    .nodes()
                    .iter()
                    .map(|&t| fine.weight.clamp(fine.weight.p_of_t(t)))
                    .collect();
                fine.grid = Some((part, pc));
                fine.committed = fine.grid.clone();
                fine.quad_tol = 1e-13;
                let reference = fine.loglik(&th);
                assert_eq!(fine.quad_failures, 0, "{kind} {alt}");
                let bound = l.y.len() as f64 * QUAD_REL_TOL;
                let err = (coarse - reference).abs();
                assert!(
                    err <= 1e-2 * bound,
                    "{kind} {alt}: {coarse} vs {reference} (bound {bound:e})"
                );
                worst = worst.max(err / bound);
            }
        }
        eprintln!("largest quadrature error of ll / its bound: {worst:.1e}");
    }

    #[test]
    fn far_pieces_where_w_is_large_are_integrated() {
        // the power type with p-values of positive effects: w = (1 - p)^delta, with p
        // clamped at 1 - 1e-5, is 1e-5^delta = 1e-160 below t = -4.26 and near 1 at t > 2.
        // With tau^2 = 0 and mu = -2.2, the normal mass of the precise studies lies 20 to 31
        // standard deviations below the integration domain, where w is 1e-160, and A_i is
        // made almost entirely by the pieces of the domain that are more than Z_SKIP
        // standard deviations away (where the raudenbush/power fit with tau^2 = 0 ran to a
        // log-likelihood of +464 while metafor's was -166). Reference: each A_i by the
        // closed-form outer parts plus composite Simpson on the domain (h ~ 1/16384).
        let mut l = lik(SelectionType::Power, &[0.0, 1.0], Alternative::Greater);
        l.x = DMatrix::from_element(12, 1, 1.0);
        let th = [-2.2, 0.0, 32.0];
        let (lo, hi, _) = l.domain.clone();
        let delta = [th[2]];
        let w = |t: f64| l.weight.w(l.weight.clamp(l.weight.p_of_t(t)), &delta);
        let mut reference = 0.0;
        let mut dominated = 0;
        for i in 0..l.y.len() {
            let sv = l.v[i].sqrt();
            let z = |t: f64| (sv * t - th[0]) / sv;
            let outer = w(lo) * prob(f64::NEG_INFINITY, z(lo)) + w(hi) * prob(z(hi), f64::INFINITY);
            let n = ((hi - lo) * 8192.0).round() as usize * 2;
            let h = (hi - lo) / n as f64;
            let inner: f64 = (0..=n)
                .map(|j| {
                    let t = lo + j as f64 * h;
                    let c = if j == 0 || j == n {
                        1.0
                    } else if j % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    c * w(t) * norm_pdf(z(t))
                })
                .sum::<f64>()
                * h
                / 3.0;
            let a = outer + inner;
            // the whole domain beyond Z_SKIP standard deviations, and almost all of A_i there
            if z(lo) > Z_SKIP && inner > 0.99 * a {
                dominated += 1;
            }
            let e = l.y[i] - th[0];
            let (lw, _, _) = l.weight.log_w_derivs(l.pvals[i], &delta);
            reference += lw - LN_SQRT_2PI - 0.5 * l.v[i].ln() - 0.5 * e * e / l.v[i] - a.ln();
        }
        assert!(
            dominated >= 4,
            "{dominated} studies exercise the far pieces"
        );
        let ll = l.loglik(&th);
        assert_eq!(l.quad_failures, 0);
        // each ln A_i to QUAD_REL_TOL
        let bound = l.y.len() as f64 * QUAD_REL_TOL;
        assert!((ll - reference).abs() <= bound, "{ll} vs {reference}");
        let (ld, g, _) = l.loglik_derivs(&th).unwrap();
        assert!((ld - reference).abs() <= bound, "{ld} vs {reference}");
        // the moments of the derivatives integrate the same pieces: the gradient in mu and
        // delta (tau^2 is on its bound 0) matches central differences of the value
        for j in [0, 2] {
            let e = 1e-6 * th[j].abs();
            let (mut a, mut b) = (th, th);
            a[j] += e;
            b[j] -= e;
            let num = (l.loglik(&a) - l.loglik(&b)) / (2.0 * e);
            assert!(
                (num - g[j]).abs() < 1e-6 * (1.0 + g[j].abs()),
                "grad {j}: {num} vs {}",
                g[j]
            );
        }
    }

    #[test]
    fn no_selection_is_the_normal_likelihood() {
        // w = 1 everywhere: A_i = 1 and ll is the ML log-likelihood of the normal model
        let (y, v, _) = data();
        let (mu, tau2) = (0.25, 0.03);
        let normal: f64 = y
            .iter()
            .zip(&v)
            .map(|(yi, vi)| {
                let s2 = vi + tau2;
                -LN_SQRT_2PI - 0.5 * s2.ln() - 0.5 * (yi - mu) * (yi - mu) / s2
            })
            .sum();
        for (kind, steps, d0) in [
            (SelectionType::StepFunction, vec![0.025, 1.0], vec![1.0]),
            (SelectionType::Beta, vec![1.0], vec![1.0, 1.0]),
            (SelectionType::HalfNormal, vec![0.0, 1.0], vec![0.0]),
            (
                SelectionType::NegativeExponential,
                vec![0.0, 1.0],
                vec![0.0],
            ),
            (SelectionType::Logistic, vec![0.0, 1.0], vec![0.0]),
            (SelectionType::Power, vec![0.0, 1.0], vec![0.0]),
        ] {
            let mut l = lik(kind, &steps, Alternative::Greater);
            l.x = DMatrix::from_element(12, 1, 1.0);
            let mut th = vec![mu, tau2];
            th.extend(&d0);
            let ll = l.loglik(&th);
            // ll is near 0 here: absolute, on the scale of the 12 terms
            assert!(
                (ll - normal).abs() < 1e-13 * 12.0,
                "{kind}: {ll} vs {normal}"
            );
        }
    }
}
