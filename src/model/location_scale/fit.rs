//! The profile likelihood of a location-scale model, its exact derivatives, Newton's
//! method, and the analysis of boundaries.
//!
//! # Formula
//! With `t_i = exp(z_i' alpha)`, `w_i = 1/(v_i + t_i)`, `beta` the GLS estimate, `r_i = y_i -
//! x_i' beta`, `P = W - W X (X'WX)^-1 X'W` and `e = P y` (`e_i = w_i r_i`):
//!
//! * ML: `l = -k/2 ln 2pi - 1/2 sum ln(v_i + t_i) - 1/2 sum w_i r_i^2`;
//! * REML: `l = -(k-p)/2 ln 2pi + 1/2 ln|X'X| - 1/2 sum ln(v_i + t_i) - 1/2 ln|X'WX|
//!   - 1/2 sum w_i r_i^2` (metafor's `.ll.rma.ls` with `REMLf = TRUE`).
//!
//! Derivatives in `t` (Harville 1977): `dl/dt_i = (e_i^2 - w_i)/2` (ML) or
//! `(e_i^2 - P_ii)/2` (REML); `d2l/dt_i dt_j = w_i^2 delta_ij/2 - P_ij e_i e_j` (ML) or
//! `P_ij^2/2 - P_ij e_i e_j` (REML). By the chain rule (`dt_i/dalpha = t_i z_i`):
//! `grad = Z' (t o g)`, `Hess = Z' T H T Z + Z' diag(t o g) Z`. With `sqrt(W) X = Q R`,
//! `P_ij = sqrt(w_i w_j) (delta_ij - q_i'q_j)`, so every sum over pairs `(i, j)` reduces to
//! p x p matrices: O(k (p^2 q + q^2)) per evaluation, no k x k matrix.
//!
//! Newton's method on `alpha` (Jacobi-scaled Cholesky solves; when the observed information
//! is not positive definite, next to a boundary, its eigenvalues are replaced by their
//! absolute values floored at 1e-10 of the largest; steps capped at a change of 5 in any
//! `ln tau2_i` and halved until the log-likelihood increases) stops when the Newton
//! decrement `g'(-H)^-1 g` is below 1e-20. Standard errors come from the observed
//! information `-H` of the profile likelihood (metafor: a numerical Hessian by `numDeriv`).
//!
//! Boundaries: where the likelihood keeps increasing as the tau^2 of some studies goes to 0,
//! `alpha` drifts along a direction `d` in which `-H` vanishes. After convergence the
//! eigenvalues of `-H` (with the columns of `Z` scaled to unit root mean square) below 1e-9
//! of the largest mark such directions, confirmed when moving 30 units of `ln tau2` along
//! them does not lower the log-likelihood by more than 1e-9; coefficients with a component
//! in such a direction are reported as being on the boundary, and the covariance of the
//! others is the pseudo-inverse of `-H` on the complement.

use nalgebra::{DMatrix, DVector};

use super::{
    LocationScale, LocationScaleFit, ScaleCoefficient, ScaleConvergence, ScaleLevel, ScaleLrt,
    ScalePrediction, ScaleStop,
};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::fit::FitStats;
use crate::model::inference::crit_and_p;
use crate::model::method::{Method, TestKind};
use crate::model::regression::Coefficient;
use crate::model::regression::design::{Design, build};
use crate::model::regression::wald;
use crate::numeric::dist::chisq_sf;
use crate::numeric::wls::WlsQr;

/// The largest change of any `ln tau2_i` in one Newton step.
const MAX_STEP: f64 = 5.0;
/// Newton decrement at convergence.
const DECREMENT_TOL: f64 = 1e-20;

/// The profile likelihood of `alpha`.
pub(super) struct Profile<'a> {
    pub y: &'a [f64],
    pub v: &'a [f64],
    pub x: &'a DMatrix<f64>,
    pub z: &'a DMatrix<f64>,
    pub reml: bool,
    pub logdet_xx: f64,
}

/// The likelihood and its derivatives at one `alpha`.
pub(super) struct Eval {
    pub ll: f64,
    pub tau2: Vec<f64>,
    pub qr: WlsQr,
    pub rss: f64,
    pub sum_ln_s: f64,
    pub grad: DVector<f64>,
    pub hess: DMatrix<f64>,
}

impl Profile<'_> {
    fn k(&self) -> usize {
        self.y.len()
    }

    /// `(tau2, qr, weighted residuals, rss, sum ln s, ll)`; `None` when not finite or `X'WX`
    /// is singular.
    #[allow(clippy::type_complexity)]
    fn core(&self, alpha: &DVector<f64>) -> Option<(Vec<f64>, WlsQr, Vec<f64>, f64, f64, f64)> {
        let k = self.k();
        let lin = self.z * alpha;
        let tau2: Vec<f64> = lin.iter().map(|a| a.exp()).collect();
        if tau2.iter().any(|t| !t.is_finite()) {
            return None;
        }
        let s: Vec<f64> = (0..k).map(|i| self.v[i] + tau2[i]).collect();
        let qr = WlsQr::new(self.x, |i| 1.0 / s[i])?;
        let wres = qr.weighted_residuals(self.y);
        let rss: f64 = wres.iter().map(|r| r * r).sum();
        let sum_ln_s: f64 = s.iter().map(|x| x.ln()).sum();
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let p = self.x.ncols() as f64;
        let ll = if self.reml {
            -0.5 * (k as f64 - p) * ln2pi + 0.5 * self.logdet_xx
                - 0.5 * sum_ln_s
                - 0.5 * qr.logdet()
                - 0.5 * rss
        } else {
            -0.5 * k as f64 * ln2pi - 0.5 * sum_ln_s - 0.5 * rss
        };
        ll.is_finite()
            .then_some((tau2, qr, wres, rss, sum_ln_s, ll))
    }

    /// The log-likelihood alone.
    pub(super) fn ll(&self, alpha: &DVector<f64>) -> Option<f64> {
        self.core(alpha).map(|c| c.5)
    }

    /// The log-likelihood with its gradient and Hessian.
    pub(super) fn eval(&self, alpha: &DVector<f64>) -> Option<Eval> {
        let (tau2, qr, wres, rss, sum_ln_s, ll) = self.core(alpha)?;
        let k = self.k();
        let p = self.x.ncols();
        let nq = self.z.ncols();
        let qm = qr.q();
        // column-major storage, read row by row into two small buffers
        let qcol = qm.as_slice();
        let zcol = self.z.as_slice();
        let mut qi = vec![0.0; p];
        let mut zi = vec![0.0; nq];
        let mut grad = vec![0.0; nq];
        let mut hsum = vec![0.0; nq * nq]; // diagonal parts of the Hessian
        // D_a = sum_i z_ia t_i e_i sqrt(w_i) q_i ; A_a = sum_i z_ia t_i w_i q_i q_i' (REML)
        let mut dm = vec![0.0; nq * p];
        let mut am = if self.reml {
            vec![0.0; nq * p * p]
        } else {
            Vec::new()
        };
        for i in 0..k {
            let t = tau2[i];
            let w = 1.0 / (self.v[i] + t);
            let sw = w.sqrt();
            let e = sw * wres[i];
            for (c, q) in qi.iter_mut().enumerate() {
                *q = qcol[c * k + i];
            }
            for (a, z) in zi.iter_mut().enumerate() {
                *z = zcol[a * k + i];
            }
            let h: f64 = qi.iter().map(|x| x * x).sum();
            let g = if self.reml {
                0.5 * (e * e - w * (1.0 - h))
            } else {
                0.5 * (e * e - w)
            };
            // diagonal terms: T3 + the diagonal part of T2 (+ T1)
            let diag_h = t * g - t * t * w * e * e;
            let diag_i = if self.reml {
                0.5 * t * t * w * w * (1.0 - 2.0 * h)
            } else {
                0.5 * t * t * w * w
            };
            for a in 0..nq {
                let za = zi[a];
                if za == 0.0 {
                    continue;
                }
                grad[a] += za * t * g;
                for b in a..nq {
                    let zab = za * zi[b];
                    hsum[a * nq + b] += zab * (diag_h + diag_i);
                }
                let f = za * t * e * sw;
                for (d, q) in dm[a * p..(a + 1) * p].iter_mut().zip(&qi) {
                    *d += f * q;
                }
                if self.reml {
                    let cw = za * t * w;
                    let m = &mut am[a * p * p..(a + 1) * p * p];
                    for r in 0..p {
                        let qr_ = cw * qi[r];
                        for c in r..p {
                            m[r * p + c] += qr_ * qi[c];
                        }
                    }
                }
            }
        }
        let mut hess: DMatrix<f64> = DMatrix::zeros(nq, nq);
        for a in 0..nq {
            for b in a..nq {
                let dd: f64 = (0..p).map(|c| dm[a * p + c] * dm[b * p + c]).sum();
                // tr(A_a A_b) over the full symmetric matrices from their upper triangles
                let tr = if self.reml {
                    let (ma, mb) = (
                        &am[a * p * p..(a + 1) * p * p],
                        &am[b * p * p..(b + 1) * p * p],
                    );
                    let mut s = 0.0;
                    for r in 0..p {
                        s += ma[r * p + r] * mb[r * p + r];
                        for c in r + 1..p {
                            s += 2.0 * ma[r * p + c] * mb[r * p + c];
                        }
                    }
                    0.5 * s
                } else {
                    0.0
                };
                let hv = hsum[a * nq + b] + dd + tr;
                hess[(a, b)] = hv;
                hess[(b, a)] = hv;
            }
        }
        let grad = DVector::from_vec(grad);
        (grad.iter().all(|g| g.is_finite()) && hess.iter().all(|h| h.is_finite())).then_some(Eval {
            ll,
            tau2,
            qr,
            rss,
            sum_ln_s,
            grad,
            hess,
        })
    }
}

/// Solves `m d = g` for a positive definite `m` through a Jacobi-scaled Cholesky
/// factorisation; `None` when `m` is not (numerically) positive definite.
fn spd_solve(m: &DMatrix<f64>, g: &DVector<f64>) -> Option<DVector<f64>> {
    let n = m.nrows();
    let s: Vec<f64> = (0..n)
        .map(|j| {
            let d = m[(j, j)];
            if d > 0.0 { 1.0 / d.sqrt() } else { f64::NAN }
        })
        .collect();
    if s.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let ms = DMatrix::from_fn(n, n, |a, b| m[(a, b)] * s[a] * s[b]);
    let ch = ms.cholesky()?;
    let gs = DVector::from_fn(n, |a, _| g[a] * s[a]);
    let x = ch.solve(&gs);
    let d = DVector::from_fn(n, |a, _| x[a] * s[a]);
    d.iter().all(|v| v.is_finite()).then_some(d)
}

/// A modified Newton direction for a symmetric `m` that is not positive definite (a flat
/// or slightly convex direction next to a boundary): the eigenvalues of the Jacobi-scaled
/// matrix are replaced by their absolute values, floored at 1e-10 of the largest.
fn modified_solve(m: &DMatrix<f64>, g: &DVector<f64>) -> Option<DVector<f64>> {
    let n = m.nrows();
    let dmax = (0..n).fold(0.0f64, |a, j| a.max(m[(j, j)].abs()));
    if !(dmax > 0.0 && dmax.is_finite()) {
        return None;
    }
    let s: Vec<f64> = (0..n)
        .map(|j| 1.0 / m[(j, j)].abs().max(1e-12 * dmax).sqrt())
        .collect();
    let ms = DMatrix::from_fn(n, n, |a, b| m[(a, b)] * s[a] * s[b]);
    let eig = ms.symmetric_eigen();
    let lmax = eig.eigenvalues.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    if !(lmax > 0.0 && lmax.is_finite()) {
        return None;
    }
    let gs = DVector::from_fn(n, |a, _| g[a] * s[a]);
    let ut_g = eig.eigenvectors.transpose() * &gs;
    let scaled = DVector::from_fn(n, |i, _| {
        ut_g[i] / eig.eigenvalues[i].abs().max(1e-10 * lmax)
    });
    let x = &eig.eigenvectors * scaled;
    let d = DVector::from_fn(n, |a, _| x[a] * s[a]);
    d.iter().all(|v| v.is_finite()).then_some(d)
}

/// Newton's method from `alpha`; returns the maximiser, its evaluation and convergence.
pub(super) fn maximize(
    prof: &Profile<'_>,
    mut alpha: DVector<f64>,
    max_iter: usize,
) -> Result<(DVector<f64>, Eval, ScaleConvergence)> {
    let numerical = || MetaError::Numerical {
        context: "location-scale model: the likelihood is not finite at the starting values".into(),
    };
    let mut ev = prof.eval(&alpha).ok_or_else(numerical)?;
    let mut iterations = 0;
    loop {
        let neg_h = -&ev.hess;
        let (d, dec) = match spd_solve(&neg_h, &ev.grad) {
            Some(d) => {
                let dec = ev.grad.dot(&d);
                (d, dec)
            }
            None => match modified_solve(&neg_h, &ev.grad) {
                Some(d) => {
                    let dec = ev.grad.dot(&d);
                    (d, dec)
                }
                None => {
                    let conv = ScaleConvergence {
                        converged: false,
                        iterations,
                        reason: ScaleStop::NoAscent,
                        decrement: f64::NAN,
                    };
                    return Ok((alpha, ev, conv));
                }
            },
        };
        if dec.abs() <= DECREMENT_TOL {
            let conv = ScaleConvergence {
                converged: true,
                iterations,
                reason: ScaleStop::Converged,
                decrement: dec.abs(),
            };
            return Ok((alpha, ev, conv));
        }
        if iterations >= max_iter {
            let conv = ScaleConvergence {
                converged: false,
                iterations,
                reason: ScaleStop::MaxIterations,
                decrement: dec,
            };
            return Ok((alpha, ev, conv));
        }
        iterations += 1;
        let zd = prof.z * &d;
        let biggest = zd.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mut step = if biggest > MAX_STEP {
            MAX_STEP / biggest
        } else {
            1.0
        };
        // near the optimum (decrement < 1e-8) the Newton step is taken as is: the change of
        // the log-likelihood is then below its rounding error
        let mut next = None;
        for _ in 0..60 {
            let cand = &alpha + &d * step;
            if let Some(e) = prof.eval(&cand) {
                if e.ll >= ev.ll || (dec < 1e-8 && step == 1.0) {
                    next = Some((cand, e));
                    break;
                }
            }
            step *= 0.5;
        }
        match next {
            Some((a, e)) => {
                alpha = a;
                ev = e;
            }
            None => {
                let conv = ScaleConvergence {
                    converged: dec <= 1e-12,
                    iterations,
                    reason: ScaleStop::NoAscent,
                    decrement: dec,
                };
                return Ok((alpha, ev, conv));
            }
        }
    }
}

/// Boundary directions and the covariance of `alpha` (see the module docs): `(va, flat)`,
/// `va[a][b]` `None` for boundary coefficients, `flat` the boundary directions `d` (scaled
/// so that the largest `|z_i' d|` is 1) in the direction of increasing likelihood.
pub(super) fn boundary_analysis(
    prof: &Profile<'_>,
    alpha: &DVector<f64>,
    ev: &Eval,
) -> (Vec<Vec<Option<f64>>>, Vec<DVector<f64>>) {
    let nq = alpha.len();
    let k = prof.k() as f64;
    let c: Vec<f64> = (0..nq)
        .map(|j| (prof.z.column(j).norm_squared() / k).sqrt())
        .collect();
    let m = DMatrix::from_fn(nq, nq, |a, b| -ev.hess[(a, b)] / (c[a] * c[b]));
    let eig = m.clone().symmetric_eigen();
    let lmax = eig.eigenvalues.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let tol_ll = 1e-9 * ev.ll.abs().max(1.0);
    let mut flat: Vec<DVector<f64>> = Vec::new();
    let mut keep = vec![true; nq];
    for (idx, lam) in eig.eigenvalues.iter().enumerate() {
        if *lam > 1e-9 * lmax {
            continue;
        }
        let u = eig.eigenvectors.column(idx);
        let mut d = DVector::from_fn(nq, |a, _| u[a] / c[a]);
        let zd = prof.z * &d;
        let big = zd.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        if !(big > 0.0) {
            continue;
        }
        d /= big;
        let try_dir = |s: f64| prof.ll(&(alpha + &d * (30.0 * s)));
        let (lp, lm) = (try_dir(1.0), try_dir(-1.0));
        let best = match (lp, lm) {
            (Some(a), Some(b)) if a >= b => Some((1.0, a)),
            (_, Some(b)) => Some((-1.0, b)),
            (Some(a), None) => Some((1.0, a)),
            (None, None) => None,
        };
        if let Some((s, l)) = best {
            if l >= ev.ll - tol_ll {
                keep[idx] = false;
                flat.push(d * s);
            }
        }
    }
    // pseudo-inverse on the complement of the boundary directions
    let mut vinv = DMatrix::zeros(nq, nq);
    for (idx, lam) in eig.eigenvalues.iter().enumerate() {
        if !keep[idx] || !(*lam > 0.0) {
            continue;
        }
        let u = eig.eigenvectors.column(idx);
        vinv += (u * u.transpose()) / *lam;
    }
    let on_boundary: Vec<bool> = (0..nq)
        .map(|j| flat.iter().any(|d| (d[j] * c[j]).abs() > 1e-6))
        .collect();
    let va = (0..nq)
        .map(|a| {
            (0..nq)
                .map(|b| (!on_boundary[a] && !on_boundary[b]).then(|| vinv[(a, b)] / (c[a] * c[b])))
                .collect()
        })
        .collect();
    (va, flat)
}

/// The model matrices, validated.
struct Setup {
    alpha_level: f64,
    xd: Design,
    zd: Design,
}

impl LocationScale {
    fn setup(&self, studies: &Studies) -> Result<Setup> {
        if !matches!(self.method, Method::ML | Method::REML) {
            return Err(MetaError::invalid_option(
                "method",
                self.method,
                "location-scale models are fitted by ML or REML",
            ));
        }
        let l = self.level;
        let alpha_level = if l > 1.0 {
            (100.0 - l) / 100.0
        } else {
            1.0 - l
        };
        if !(l.is_finite() && l > 0.0 && l < 100.0 && alpha_level > 0.0 && alpha_level < 1.0) {
            return Err(MetaError::invalid_option(
                "level",
                l,
                "must be in (0, 100) percent",
            ));
        }
        if self.max_iter == 0 {
            return Err(MetaError::invalid_option(
                "max_iter",
                0,
                "must be at least 1",
            ));
        }
        crate::model::analysis::check_digits(self.digits)?;
        let xd = build(studies, &self.location, &self.location_refs, self.intercept)?;
        let zd = build(studies, &self.scale, &self.scale_refs, true).map_err(|e| match e {
            MetaError::RankDeficient { columns } => MetaError::invalid_option(
                "scale",
                columns.join(", "),
                "constant, or collinear with the other scale columns: the scale model \
                 matrix is not of full rank",
            ),
            MetaError::InvalidOption {
                option,
                value,
                reason,
            } if option == "moderators" => MetaError::InvalidOption {
                option: "scale".into(),
                value,
                reason,
            },
            other => other,
        })?;
        let (k, p, q) = (studies.k(), xd.names.len(), zd.names.len());
        if k < p + q || k <= p {
            return Err(MetaError::TooFewStudies {
                analysis: format!(
                    "a location-scale model with {p} location and {q} scale coefficients"
                ),
                needed: (p + q).max(p + 1),
                found: k,
            });
        }
        separation(studies, &xd, &zd)?;
        Ok(Setup {
            alpha_level,
            xd,
            zd,
        })
    }

    /// Fits the model.
    ///
    /// # Formula
    /// `ln tau2_i = z_i' alpha`, `alpha` maximising the ML or REML log-likelihood with
    /// `beta` profiled out (see the module `fit`); `beta = (X'WX)^-1 X'Wy`, `Var(beta) =
    /// (X'WX)^-1` with `W = diag(1/(v_i + tau2_i))` (times `RSS/(k - p)` for Knapp-Hartung);
    /// `Var(alpha)` the inverse observed information. QM (location) and QS (scale) are Wald
    /// tests of all coefficients but the intercept (chi^2, or F with `k - p` / `k - q`
    /// denominator df for t-type tests). The likelihood-ratio test compares the fit with the
    /// same location model and a constant tau^2 (`q - 1` df). Fit statistics follow metafor
    /// (`p + q` parameters; BIC and AICc of REML with `k - p`).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a method other than ML/REML, a level out of range,
    /// a scale moderator that is constant, collinear or has a single level (option
    /// `scale`), and a scale level whose studies the location model fits exactly (leverage
    /// 1, so their tau^2 has no information: option `scale`, naming the level);
    /// [`MetaError::TooFewStudies`] when `k < p + q`; the errors of the model matrices
    /// (unknown moderator, missing categorical value, ...); [`MetaError::Numerical`] when
    /// the likelihood cannot be evaluated.
    pub fn fit(&self, studies: &Studies) -> Result<LocationScaleFit> {
        let Setup {
            alpha_level,
            xd,
            zd,
        } = self.setup(studies)?;
        let y = studies.yi();
        let v = studies.vi();
        let k = y.len();
        let (x, z) = (&xd.x, &zd.x);
        let (p, nq) = (x.ncols(), z.ncols());
        let logdet_xx = WlsQr::new(x, |_| 1.0).map_or(f64::NAN, |q| q.logdet());
        let reml = self.method == Method::REML;
        let prof = Profile {
            y,
            v,
            x,
            z,
            reml,
            logdet_xx,
        };

        // QE with inverse-variance weights (metafor centres y first)
        let mean = y.iter().sum::<f64>() / k as f64;
        let yc: Vec<f64> = y.iter().map(|a| a - mean).collect();
        let qe_qr = WlsQr::new(x, |i| 1.0 / v[i]).ok_or_else(|| MetaError::Numerical {
            context: "location-scale model: singular X'WX".into(),
        })?;
        let qe: f64 = qe_qr
            .weighted_residuals(&yc)
            .iter()
            .map(|r| r * r)
            .sum::<f64>()
            .max(0.0);
        let qe_df = (k - p) as f64;
        let qe_p = chisq_sf(qe, qe_df);

        // start: a moment estimate of a constant tau^2
        // tr(P) = sum w_i (1 - h_i), h_i the weighted leverages
        let trp: f64 = (0..k).map(|i| (1.0 - qe_qr.leverage(i)) / v[i]).sum();
        let mean_v = v.iter().sum::<f64>() / k as f64;
        let tau0 = ((qe - qe_df) / trp).max(0.01 * mean_v);
        let start = |zm: &DMatrix<f64>| -> DVector<f64> {
            let ztz = zm.transpose() * zm;
            let rhs = zm.transpose() * DVector::from_element(k, tau0.ln());
            ztz.cholesky()
                .map(|c| c.solve(&rhs))
                .unwrap_or_else(|| DVector::zeros(zm.ncols()))
        };
        let (alpha, ev, convergence) = maximize(&prof, start(z), self.max_iter)?;
        let (va, flat) = boundary_analysis(&prof, &alpha, &ev);
        let mut warnings = Vec::new();
        if !convergence.converged {
            warnings.push(format!(
                "The optimiser stopped after {} iterations ({:?}) with Newton decrement {:e}.",
                convergence.iterations, convergence.reason, convergence.decrement
            ));
        }

        // location part
        let test = self.test;
        let beta = ev.qr.coefficients(y);
        let mut vb = ev.qr.cov_unscaled();
        let dfr = (k - p) as f64;
        let mut s2w = 1.0;
        if matches!(test, TestKind::Knha | TestKind::Adhoc) {
            s2w = if ev.rss <= f64::EPSILON {
                0.0
            } else {
                ev.rss / dfr
            };
            if test == TestKind::Adhoc && s2w < 1.0 {
                s2w = 1.0;
            }
            vb *= s2w;
        }
        let (crit, _) = crit_and_p(test, 0.0, dfr, alpha_level);
        let loc_df = test.uses_t().then_some(dfr);
        let coefficients: Vec<Coefficient> = (0..p)
            .map(|j| {
                let se = vb[(j, j)].sqrt();
                let stat = beta[j] / se;
                Coefficient {
                    name: xd.names[j].clone(),
                    estimate: beta[j],
                    se,
                    statistic: stat,
                    df: loc_df,
                    p_value: crit_and_p(test, stat, dfr, alpha_level).1,
                    ci_lower: beta[j] - crit * se,
                    ci_upper: beta[j] + crit * se,
                }
            })
            .collect();
        let btt: Vec<usize> = if xd.int_incl {
            (2..=p).collect()
        } else {
            (1..=p).collect()
        };
        let (qm, qm_df, qm_p) = if p > 1 || !xd.int_incl {
            let (s, df, pv) = wald(&beta, &vb, &btt, test, dfr);
            (Some(s), df, Some(pv))
        } else {
            (None, (0.0, None), None)
        };

        // scale part
        let dfs = (k - nq) as f64;
        let (crit_s, _) = crit_and_p(test, 0.0, dfs, alpha_level);
        let scale_df = test.uses_t().then_some(dfs);
        let mut scale_coefficients = Vec::with_capacity(nq);
        for j in 0..nq {
            let boundary = flat
                .iter()
                .find(|d| d[j].abs() * (z.column(j).norm_squared() / k as f64).sqrt() > 1e-6)
                .map(|d| d[j].signum());
            let c = match (boundary, va[j][j]) {
                (None, Some(var)) if var > 0.0 => {
                    let se = var.sqrt();
                    let stat = alpha[j] / se;
                    ScaleCoefficient {
                        name: zd.names[j].clone(),
                        estimate: Some(alpha[j]),
                        se: Some(se),
                        statistic: Some(stat),
                        df: scale_df,
                        p_value: Some(crit_and_p(test, stat, dfs, alpha_level).1),
                        ci_lower: Some(alpha[j] - crit_s * se),
                        ci_upper: Some(alpha[j] + crit_s * se),
                        boundary: None,
                    }
                }
                _ => ScaleCoefficient {
                    name: zd.names[j].clone(),
                    estimate: boundary.is_none().then_some(alpha[j]),
                    se: None,
                    statistic: None,
                    df: scale_df,
                    p_value: None,
                    ci_lower: None,
                    ci_upper: None,
                    boundary,
                },
            };
            if let Some(s) = c.boundary {
                warnings.push(format!(
                    "The likelihood keeps increasing as the scale coefficient {} -> {}Inf \
                     (tau^2 -> 0 for the studies it concerns): reported as a boundary, not \
                     an estimate.",
                    c.name,
                    if s < 0.0 { "-" } else { "+" }
                ));
            }
            scale_coefficients.push(c);
        }
        let att_all: Vec<usize> = if nq > 1 {
            (2..=nq).collect()
        } else {
            Vec::new()
        };
        let att: Vec<usize> = att_all
            .iter()
            .copied()
            .filter(|&j| scale_coefficients[j - 1].estimate.is_some() && va[j - 1][j - 1].is_some())
            .collect();
        let (qs, qs_df, qs_p) = if att.is_empty() {
            (None, (0.0, None), None)
        } else {
            let vfull = DMatrix::from_fn(nq, nq, |a, b| va[a][b].unwrap_or(0.0));
            let (s, df, pv) = wald(&alpha, &vfull, &att, test, dfs);
            (Some(s), df, Some(pv))
        };

        // fit statistics (metafor's fit.stats, p + q parameters)
        let fit_stats = fit_stats(&prof, &ev, p, nq);
        let loglik = ev.ll;

        // likelihood-ratio test against a constant tau^2
        let lrt = if nq > 1 {
            let z0 = DMatrix::from_element(k, 1, 1.0);
            let prof0 = Profile { z: &z0, ..prof };
            let (a0, ev0, _) = maximize(&prof0, start(&z0), self.max_iter)?;
            let (_, flat0) = boundary_analysis(&prof0, &a0, &ev0);
            let stat = (2.0 * (loglik - ev0.ll)).max(0.0);
            let df = (nq - 1) as f64;
            Some(ScaleLrt {
                statistic: stat,
                df,
                p_value: chisq_sf(stat, df),
                loglik_reduced: ev0.ll,
                tau2_reduced: if flat0.is_empty() { a0[0].exp() } else { 0.0 },
            })
        } else {
            None
        };

        let mut fit = LocationScaleFit {
            k,
            p,
            q_params: nq,
            method: self.method,
            test,
            level: 100.0 * (1.0 - alpha_level),
            int_only: xd.int_only,
            coefficients,
            vcov: (0..p)
                .map(|i| (0..p).map(|j| vb[(i, j)]).collect())
                .collect(),
            btt,
            qm,
            qm_df,
            qm_p_value: qm_p,
            scale_coefficients,
            scale_vcov: va,
            att,
            qs,
            qs_df,
            qs_p_value: qs_p,
            tau2: ev.tau2.clone(),
            loglik,
            fit_stats,
            parms: p + nq,
            lrt,
            tau2_levels: Vec::new(),
            q: qe,
            q_df: qe_df,
            q_p_value: qe_p,
            s2w,
            convergence,
            warnings,
            z_int_incl: zd.int_incl,
            crit_scale: crit_s,
            flat_dirs: flat.iter().map(|d| d.iter().copied().collect()).collect(),
            digits: self.digits,
            alpha_hat: alpha.iter().copied().collect(),
        };
        fit.tau2_levels = levels(&fit, &zd, z);
        if fit
            .coefficients
            .iter()
            .any(|c| !c.estimate.is_finite() || !c.se.is_finite())
        {
            return Err(MetaError::Numerical {
                context: "location-scale model: location coefficients not finite".into(),
            });
        }
        Ok(fit)
    }
}

/// metafor's `fit.stats` for a location-scale model.
fn fit_stats(prof: &Profile<'_>, ev: &Eval, p: usize, nq: usize) -> FitStats {
    let k = prof.k() as f64;
    let pf = p as f64;
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let ll_ml = -0.5 * k * ln2pi - 0.5 * ev.sum_ln_s - 0.5 * ev.rss;
    let ll_reml = -0.5 * (k - pf) * ln2pi + 0.5 * prof.logdet_xx
        - 0.5 * ev.sum_ln_s
        - 0.5 * ev.qr.logdet()
        - 0.5 * ev.rss;
    let sat: f64 = prof.v.iter().map(|v| -0.5 * (ln2pi + v.ln())).sum();
    let m = (p + nq) as f64;
    let aicc = |ll: f64, n: f64| {
        let nn = n.max(m + 2.0);
        -2.0 * ll + 2.0 * m * nn / (nn - m - 1.0)
    };
    FitStats {
        ll_ml,
        dev_ml: if k > pf { -2.0 * (ll_ml - sat) } else { 0.0 },
        aic_ml: -2.0 * ll_ml + 2.0 * m,
        bic_ml: -2.0 * ll_ml + m * k.ln(),
        aicc_ml: aicc(ll_ml, k),
        ll_reml,
        dev_reml: -2.0 * ll_reml,
        aic_reml: -2.0 * ll_reml + 2.0 * m,
        bic_reml: -2.0 * ll_reml + m * (k - pf).ln(),
        aicc_reml: aicc(ll_reml, k - pf),
    }
}

/// A scale level (or numeric column) whose studies all have leverage 1 in the location
/// model: their residuals are 0 whatever tau^2 is, so it has no information.
fn separation(studies: &Studies, xd: &Design, zd: &Design) -> Result<()> {
    let k = studies.k();
    let Some(qr) = WlsQr::new(&xd.x, |_| 1.0) else {
        return Ok(());
    };
    let exact: Vec<bool> = (0..k).map(|i| qr.leverage(i) > 1.0 - 1e-10).collect();
    if !exact.iter().any(|e| *e) {
        return Ok(());
    }
    let z = &zd.x;
    let first = usize::from(zd.int_incl);
    // categorical levels (the reference level too), then the remaining columns
    let mut covered = vec![false; z.ncols()];
    for (name, levels) in &zd.factors {
        for level in levels {
            let col = zd.names.iter().position(|n| *n == format!("{name}{level}"));
            let members: Vec<usize> = match col {
                Some(j) => {
                    covered[j] = true;
                    (0..k).filter(|&i| z[(i, j)] != 0.0).collect()
                }
                None => {
                    // the reference level: no dummy of this factor is 1
                    let cols: Vec<usize> = levels
                        .iter()
                        .filter_map(|l| zd.names.iter().position(|n| *n == format!("{name}{l}")))
                        .collect();
                    (0..k)
                        .filter(|&i| cols.iter().all(|&j| z[(i, j)] == 0.0))
                        .collect()
                }
            };
            if !members.is_empty() && members.iter().all(|&i| exact[i]) {
                return Err(MetaError::invalid_option(
                    "scale",
                    format!("{name} = {level}"),
                    match members.len() {
                        1 => "the location model fits the one study of this level exactly \
                              (leverage 1), so its tau^2 is not identified"
                            .to_string(),
                        n => format!(
                            "the location model fits the {n} studies of this level exactly \
                             (leverage 1), so their tau^2 is not identified"
                        ),
                    },
                ));
            }
        }
    }
    for j in first..z.ncols() {
        if covered[j] {
            continue;
        }
        let members: Vec<usize> = (0..k).filter(|&i| z[(i, j)] != 0.0).collect();
        if !members.is_empty() && members.iter().all(|&i| exact[i]) {
            return Err(MetaError::invalid_option(
                "scale",
                zd.names[j].clone(),
                "the location model fits every study with a nonzero value of this scale \
                 moderator exactly (leverage 1), so its coefficient is not identified",
            ));
        }
    }
    Ok(())
}

/// tau^2 per level when the scale part is an intercept (or not) and one categorical
/// moderator.
fn levels(fit: &LocationScaleFit, zd: &Design, z: &DMatrix<f64>) -> Vec<ScaleLevel> {
    let [(name, lv)] = zd.factors.as_slice() else {
        return Vec::new();
    };
    let nq = z.ncols();
    if nq != lv.len() {
        return Vec::new();
    }
    lv.iter()
        .map(|level| {
            let mut zr = vec![0.0; nq];
            if zd.int_incl {
                zr[0] = 1.0;
            }
            if let Some(j) = zd.names.iter().position(|n| *n == format!("{name}{level}")) {
                zr[j] = 1.0;
            }
            let count = (0..z.nrows())
                .filter(|&i| (0..nq).all(|j| z[(i, j)] == zr[j]))
                .count();
            let pr = fit.scale_prediction(&zr);
            ScaleLevel {
                moderator: name.clone(),
                level: level.clone(),
                k: count,
                tau2: pr.tau2,
                ci_lower: pr.ci_lower,
                ci_upper: pr.ci_upper,
                log_tau2: pr.se.map(|_| pr.log_tau2),
                se: pr.se,
            }
        })
        .collect()
}

impl LocationScaleFit {
    /// `z' alpha` for a full row `z` of the scale model matrix.
    pub(super) fn scale_prediction(&self, zr: &[f64]) -> ScalePrediction {
        let nq = self.q_params;
        // along a boundary direction the prediction runs off to -inf (tau^2 -> 0)
        let on_boundary = self.flat_dirs.iter().any(|d| {
            let s: f64 = zr.iter().zip(d).map(|(a, b)| a * b).sum();
            s.abs() > 1e-6
        });
        if on_boundary {
            return ScalePrediction {
                log_tau2: f64::NEG_INFINITY,
                se: None,
                tau2: 0.0,
                ci_lower: None,
                ci_upper: None,
            };
        }
        let pred: f64 = zr.iter().zip(&self.alpha_hat).map(|(a, b)| a * b).sum();
        let mut var = 0.0;
        let mut ok = true;
        for a in 0..nq {
            for b in 0..nq {
                if zr[a] == 0.0 || zr[b] == 0.0 {
                    continue;
                }
                match self.scale_vcov[a][b] {
                    Some(x) => var += zr[a] * x * zr[b],
                    None => ok = false,
                }
            }
        }
        let se = (ok && var >= 0.0).then(|| var.sqrt());
        ScalePrediction {
            log_tau2: pred,
            se,
            tau2: pred.exp(),
            ci_lower: se.map(|s| (pred - self.crit_scale * s).exp()),
            ci_upper: se.map(|s| (pred + self.crit_scale * s).exp()),
        }
    }

    /// The predicted tau^2 for new scale moderator values (metafor's
    /// `predict(fit, newscale = ..., transf = exp)`): `newscale` has one value per scale
    /// coefficient other than the intercept (dummy values for categorical moderators).
    ///
    /// # Formula
    /// `ln tau2 = z' alpha`, `se = sqrt(z' Var(alpha) z)`, CI `exp(z'alpha -/+ crit se)`.
    /// Along a boundary direction `tau2 = 0` without interval.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] for the wrong number of values and
    /// [`MetaError::InvalidOption`] for a non-finite value.
    pub fn predict_scale(&self, newscale: &[f64]) -> Result<ScalePrediction> {
        let expected = self.q_params - usize::from(self.z_int_incl);
        if newscale.len() != expected {
            return Err(MetaError::LengthMismatch {
                field: "newscale".into(),
                expected,
                found: newscale.len(),
            });
        }
        if let Some(bad) = newscale.iter().find(|a| !a.is_finite()) {
            return Err(MetaError::invalid_option(
                "newscale",
                bad,
                "scale moderator values must be finite",
            ));
        }
        let mut zr = Vec::with_capacity(self.q_params);
        if self.z_int_incl {
            zr.push(1.0);
        }
        zr.extend_from_slice(newscale);
        Ok(self.scale_prediction(&zr))
    }
}
