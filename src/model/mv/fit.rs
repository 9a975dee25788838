//! [`MvFit`], the fitted multilevel or multivariate model, and what is derived from it:
//! I^2 by level, linear hypotheses (contrasts), and the per-cluster view that
//! cluster-robust inference takes.

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use super::engine::Problem;
use super::optim::{Optimum, Settings};
use super::params::{Param, Structure};
use super::{MvModel, fit_stats};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::fit::{Attempt, Convergence, FitStats};
use crate::model::inference::crit_and_p;
use crate::model::method::{Method, TestKind};
use crate::model::regression::design::Design;
use crate::model::regression::{Coefficient, wald};
use crate::numeric::dense::spd_inverse;
use crate::numeric::dist::{chisq_sf, f_sf};

/// The random part of a fitted model with its estimates.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum RandomPart {
    /// `~ 1 | cluster/obs`.
    Multilevel {
        /// `sigma^2_1` (between clusters) and `sigma^2_2` (between observations within a
        /// cluster).
        sigma2: Vec<f64>,
        /// Number of levels of each factor: clusters, observations.
        nlevels: Vec<usize>,
        /// Factor names as printed (`cluster`, `cluster/obs`).
        factors: Vec<String>,
    },
    /// `~ outcome | cluster` with a [`Structure`].
    Multivariate {
        /// The outcome column.
        outcome: String,
        /// The outer (cluster) factor name.
        cluster: String,
        /// The structure.
        structure: Structure,
        /// The outcome levels, sorted.
        levels: Vec<String>,
        /// Variances: one (CS) or one per level (HCS, UN).
        tau2: Vec<f64>,
        /// Correlations: one (CS, HCS) or one per pair of levels in the order of R's
        /// `G[lower.tri(G)]` (UN).
        rho: Vec<f64>,
        /// Whether each correlation was fixed (UN: pairs never observed together, at 0).
        rho_fixed: Vec<bool>,
        /// Effects per level.
        k_per_level: Vec<usize>,
        /// Clusters in which each pair of levels occurs together.
        pairs_together: Vec<usize>,
    },
}

/// I^2 by level of a three-level model (percent).
///
/// # Formula
/// With `W = diag(1/v_i)` and `P = W - WX(X'WX)^-1X'W`,
/// `vt = (k - p)/tr(P)` (the typical sampling variance);
/// `I^2_level = 100 sigma^2_level / (sum sigma^2 + vt)`, `I^2_total` their sum
/// (computed in O(k p^2): `tr(P) = sum w_i - tr((X'WX)^-1 X'W^2X)`).
///
/// # References
/// Cheung, M. W.-L. (2014). Modeling dependent effect sizes with three-level
/// meta-analyses: A structural equation modeling approach. *Psychological Methods*, 19,
/// 211-229; metafor's website, "I^2 for multilevel and multivariate models".
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct I2Levels {
    /// Total I^2.
    pub total: f64,
    /// Between clusters, then within clusters.
    pub levels: Vec<f64>,
    /// The typical sampling variance `vt`.
    pub vt: f64,
}

/// A profile-likelihood confidence interval of one variance component (metafor's
/// `confint.rma.mv`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ComponentCi {
    /// metafor's row name: `sigma^2.1`, `tau^2`, `tau^2.2`, `rho`, `rho.3`, ...
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Lower bound.
    pub ci_lower: f64,
    /// Upper bound.
    pub ci_upper: f64,
    /// `"<"` when the lower bound is only the end of the searched interval, else `""`.
    pub lower_sign: String,
    /// `">"` when the upper bound is only the end of the searched interval, else `""`.
    pub upper_sign: String,
}

/// One linear combination `L beta` with its test.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Hypothesis {
    /// metafor's description, e.g. `outcomeAL - outcomePD = 0`.
    pub description: String,
    /// `L beta`.
    pub estimate: f64,
    /// `sqrt(L Var(beta) L')`.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Degrees of freedom of the t test; `None` for z.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Tests of linear combinations of the coefficients (metafor's `anova(fit, X = L)`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LinearHypotheses {
    rows: Vec<Hypothesis>,
    qm: Option<f64>,
    qm_df: f64,
    qm_df2: Option<f64>,
    qm_p_value: Option<f64>,
    test: TestKind,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl LinearHypotheses {
    /// One row per linear combination.
    pub fn rows(&self) -> &[Hypothesis] {
        &self.rows
    }
    /// The joint Wald test (chi^2, or `QM/m` against F for t tests); `None` when `L` does
    /// not have full row rank.
    pub fn qm(&self) -> Option<f64> {
        self.qm
    }
    /// Degrees of freedom of the joint test: `(m, None)` or `(m, Some(k - p))`.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        (self.qm_df, self.qm_df2)
    }
    /// p-value of the joint test.
    pub fn qm_p_value(&self) -> Option<f64> {
        self.qm_p_value
    }
    pub(crate) fn test(&self) -> TestKind {
        self.test
    }
    pub(crate) fn digits(&self) -> usize {
        self.digits
    }
}

/// A fitted multilevel or multivariate model.
///
/// Built by [`MvModel::fit`]; read it with the accessors. `Display` prints metafor's
/// `print.rma.mv` layout; with the `serde` feature it serializes to JSON.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MvFit {
    pub(crate) k: usize,
    pub(crate) p: usize,
    pub(crate) n_clusters: usize,
    pub(crate) method: Method,
    pub(crate) test: TestKind,
    pub(crate) level: f64,
    pub(crate) random: RandomPart,
    pub(crate) coefficients: Vec<Coefficient>,
    pub(crate) vcov: Vec<Vec<f64>>,
    pub(crate) btt: Vec<usize>,
    pub(crate) qm: Option<f64>,
    pub(crate) qm_df: f64,
    pub(crate) qm_df2: Option<f64>,
    pub(crate) qm_p_value: Option<f64>,
    pub(crate) q: f64,
    pub(crate) q_df: f64,
    pub(crate) q_p_value: f64,
    pub(crate) fit_stats: FitStats,
    pub(crate) parms: usize,
    pub(crate) i2: Option<I2Levels>,
    pub(crate) converged: bool,
    pub(crate) iterations: usize,
    pub(crate) convergence: Convergence,
    pub(crate) warnings: Vec<String>,
    pub(crate) int_only: bool,
    pub(crate) int_incl: bool,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) inner: Inner,
}

/// What derived computations (profile intervals, robust inference, refits) need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inner {
    pub pb: Arc<Problem>,
    pub param: Param,
    pub theta: Vec<f64>,
    pub reml: bool,
    /// The coefficients on the engine's orthonormal design (expansion point of refits).
    pub beta_q: Vec<f64>,
    pub alpha: f64,
    pub crit: f64,
    pub settings: Settings,
    pub scale: f64,
    pub cluster_names: Vec<String>,
    pub digits: usize,
}

/// The ingredients of a fit.
pub(crate) struct Parts<'a> {
    pub spec: &'a MvModel,
    pub studies: &'a Studies,
    pub design: Design,
    pub btt: Vec<usize>,
    pub pb: Arc<Problem>,
    pub param: Param,
    pub opt: Optimum,
    pub reml: bool,
    pub alpha: f64,
    pub qe: f64,
    pub ll_sat: f64,
    pub scale: f64,
    #[allow(clippy::type_complexity)]
    pub random_info: Option<(String, Structure, Vec<String>, Vec<usize>, Vec<usize>)>,
    pub warnings: Vec<String>,
    /// Whether the components were estimated (not fixed).
    pub estimated: bool,
}

/// Cluster names of `studies` (already checked to have clusters).
fn cluster_names(studies: &Studies) -> Vec<String> {
    studies
        .clusters()
        .map(|c| c.names().to_vec())
        .unwrap_or_default()
}

pub(crate) fn assemble(parts: Parts<'_>) -> Result<MvFit> {
    let Parts {
        spec,
        studies,
        design: d,
        btt,
        pb,
        param,
        opt,
        reml,
        alpha,
        qe,
        ll_sat,
        scale,
        random_info,
        warnings,
        estimated,
    } = parts;
    let k = pb.k;
    let p = pb.p;
    let (beta_o, vb_o) = pb.to_original(&opt.eval.beta, &opt.eval.vb);
    let ev = &opt.eval;
    if !(beta_o.iter().all(|b| b.is_finite())
        && vb_o.iter().all(|b| b.is_finite())
        && opt.theta.iter().all(|t| t.is_finite()))
    {
        return Err(MetaError::Numerical {
            context: "multilevel model estimates".into(),
        });
    }
    let test = spec.test;
    let dfr = (k - p) as f64;
    let df = test.uses_t().then_some(dfr);
    let (crit, _) = crit_and_p(test, 0.0, dfr, alpha);
    let names = d.names.clone();
    let coefficients: Vec<Coefficient> = (0..p)
        .map(|j| {
            let est = beta_o[j];
            let se = vb_o[j * p + j].sqrt();
            let stat = est / se;
            let (_, pv) = crit_and_p(test, stat, dfr, alpha);
            Coefficient {
                name: names[j].clone(),
                estimate: est,
                se,
                statistic: stat,
                df,
                p_value: pv,
                ci_lower: est - crit * se,
                ci_upper: est + crit * se,
            }
        })
        .collect();
    let beta = DVector::from_vec(beta_o.clone());
    let vbm = DMatrix::from_row_slice(p, p, &vb_o);
    let (qm, qm_df, qm_p) = wald(&beta, &vbm, &btt, test, dfr);
    let has_qm = p > 1;
    let q_df = dfr;
    let q_p = chisq_sf(qe, q_df);
    let ntheta = param.ntheta();
    let parms = p + if estimated { ntheta } else { 0 };
    let fit_stats = fit_stats(ev.ll_ml, ev.ll_reml, ll_sat, parms, k, p);
    let i2 = match param {
        Param::Multilevel => Some(i2_levels(&pb, &opt.theta)),
        Param::Multivariate { .. } => None,
    };
    let (factor_c, factor_o) = spec
        .factor_names
        .clone()
        .unwrap_or_else(|| ("cluster".into(), "obs".into()));
    let ncl = pb.nclusters();
    let random = match random_info {
        None => RandomPart::Multilevel {
            sigma2: opt.theta.clone(),
            nlevels: vec![ncl, pb.ngroups.iter().map(|&g| g as usize).sum()],
            factors: vec![factor_c.clone(), format!("{factor_c}/{factor_o}")],
        },
        Some((outcome, structure, levels, k_per_level, together)) => {
            let rho_fixed = match &param {
                Param::Multivariate { rho_free, .. } if structure == Structure::UN => {
                    rho_free.iter().map(|f| !f).collect()
                }
                _ => vec![false],
            };
            let rho = match structure {
                Structure::UN => param.rhos(&opt.theta),
                _ => vec![param.rhos(&opt.theta)[0]],
            };
            RandomPart::Multivariate {
                outcome,
                cluster: factor_c.clone(),
                structure,
                levels,
                tau2: param.variances(&opt.theta),
                rho,
                rho_fixed,
                k_per_level,
                pairs_together: together,
            }
        }
    };
    let convergence = Convergence {
        converged: opt.converged,
        iterations: opt.iterations,
        reason: opt.reason,
        attempts: vec![Attempt {
            method: spec.method,
            converged: opt.converged,
            iterations: opt.iterations,
            reason: opt.reason,
        }],
    };
    Ok(MvFit {
        k,
        p,
        n_clusters: ncl,
        method: spec.method,
        test,
        level: 100.0 * (1.0 - alpha),
        random,
        coefficients,
        vcov: (0..p)
            .map(|i| (0..p).map(|j| vb_o[i * p + j]).collect())
            .collect(),
        btt,
        qm: has_qm.then_some(qm),
        qm_df: qm_df.0,
        qm_df2: qm_df.1,
        qm_p_value: has_qm.then_some(qm_p),
        q: qe,
        q_df,
        q_p_value: q_p,
        fit_stats,
        parms,
        i2,
        converged: opt.converged,
        iterations: opt.iterations,
        convergence,
        warnings,
        int_only: d.int_only,
        int_incl: d.int_incl,
        inner: Inner {
            pb,
            param,
            beta_q: opt.eval.beta.clone(),
            theta: opt.theta,
            reml,
            alpha,
            crit,
            settings: Settings {
                tol: spec.tol,
                max_iter: spec.max_iter,
            },
            scale,
            cluster_names: cluster_names(studies),
            digits: spec.digits,
        },
    })
}

/// I^2 by level (three-level model).
fn i2_levels(pb: &Problem, sigma2: &[f64]) -> I2Levels {
    let p = pb.p;
    let mut xwx = vec![0.0; p * p];
    let mut xw2x = vec![0.0; p * p];
    let mut sw = 0.0;
    for i in 0..pb.k {
        let w = 1.0 / pb.vi[i];
        sw += w;
        let xi = &pb.x[i * p..(i + 1) * p];
        for a in 0..p {
            for b in 0..p {
                xwx[a * p + b] += w * xi[a] * xi[b];
                xw2x[a * p + b] += w * w * xi[a] * xi[b];
            }
        }
    }
    let inv = spd_inverse(&xwx, p).unwrap_or_else(|| vec![f64::NAN; p * p]);
    let mut tr = 0.0;
    for a in 0..p {
        for b in 0..p {
            tr += inv[a * p + b] * xw2x[b * p + a];
        }
    }
    let trp = sw - tr;
    let vt = (pb.k - p) as f64 / trp;
    let tot: f64 = sigma2.iter().sum();
    I2Levels {
        total: 100.0 * tot / (tot + vt),
        levels: sigma2.iter().map(|s| 100.0 * s / (tot + vt)).collect(),
        vt,
    }
}

impl MvFit {
    /// Number of effects.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.p
    }
    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }
    /// REML or ML.
    pub fn method(&self) -> Method {
        self.method
    }
    /// z or t.
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The random part with its estimates.
    pub fn random(&self) -> &RandomPart {
        &self.random
    }
    /// The variance components of a three-level model: cluster, then observation within
    /// cluster (metafor's `sigma2`); empty for a multivariate model.
    pub fn sigma2(&self) -> &[f64] {
        match &self.random {
            RandomPart::Multilevel { sigma2, .. } => sigma2,
            RandomPart::Multivariate { .. } => &[],
        }
    }
    /// The outcome-level variances of a multivariate model (metafor's `tau2`: one for CS,
    /// one per outcome level in sorted order otherwise); empty for a three-level model.
    pub fn tau2(&self) -> &[f64] {
        match &self.random {
            RandomPart::Multivariate { tau2, .. } => tau2,
            RandomPart::Multilevel { .. } => &[],
        }
    }
    /// The between-outcome correlation(s) of a multivariate model (metafor's `rho`);
    /// empty for a three-level model.
    pub fn rho(&self) -> &[f64] {
        match &self.random {
            RandomPart::Multivariate { rho, .. } => rho,
            RandomPart::Multilevel { .. } => &[],
        }
    }
    /// The coefficient table.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// Coefficient names.
    pub fn names(&self) -> Vec<&str> {
        self.coefficients.iter().map(|c| c.name.as_str()).collect()
    }
    /// The estimates.
    pub fn beta(&self) -> Vec<f64> {
        self.coefficients.iter().map(|c| c.estimate).collect()
    }
    /// `Var(beta) = (X'M^-1X)^-1` (row-major).
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
    /// Coefficients of the omnibus test (1-based).
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// The omnibus test of the coefficients `btt` (chi^2, or `QM/m` against F for t
    /// tests); `None` for a model with one coefficient.
    pub fn qm(&self) -> Option<f64> {
        self.qm
    }
    /// Degrees of freedom of QM: `(m, None)` or `(m, Some(k - p))`.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        (self.qm_df, self.qm_df2)
    }
    /// p-value of QM.
    pub fn qm_p_value(&self) -> Option<f64> {
        self.qm_p_value
    }
    /// QE, the test of residual heterogeneity (with the full `V`).
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Degrees of freedom of QE, `k - p`.
    pub fn q_df(&self) -> f64 {
        self.q_df
    }
    /// p-value of QE.
    pub fn q_p_value(&self) -> f64 {
        self.q_p_value
    }
    /// Log-likelihoods, deviances and information criteria under ML and REML.
    pub fn fit_stats(&self) -> &FitStats {
        &self.fit_stats
    }
    /// The log-likelihood of the fitting method.
    pub fn loglik(&self) -> f64 {
        self.pick(self.fit_stats.ll_reml, self.fit_stats.ll_ml)
    }
    /// The deviance of the fitting method.
    pub fn deviance(&self) -> f64 {
        self.pick(self.fit_stats.dev_reml, self.fit_stats.dev_ml)
    }
    /// AIC of the fitting method.
    pub fn aic(&self) -> f64 {
        self.pick(self.fit_stats.aic_reml, self.fit_stats.aic_ml)
    }
    /// BIC of the fitting method.
    pub fn bic(&self) -> f64 {
        self.pick(self.fit_stats.bic_reml, self.fit_stats.bic_ml)
    }
    /// AICc of the fitting method.
    pub fn aicc(&self) -> f64 {
        self.pick(self.fit_stats.aicc_reml, self.fit_stats.aicc_ml)
    }
    fn pick(&self, reml: f64, ml: f64) -> f64 {
        if self.method == Method::REML {
            reml
        } else {
            ml
        }
    }
    /// Number of estimated parameters (coefficients and variance components).
    pub fn parms(&self) -> usize {
        self.parms
    }
    /// I^2 by level (three-level models; `None` for multivariate ones).
    pub fn i2(&self) -> Option<&I2Levels> {
        self.i2.as_ref()
    }
    /// Whether the optimisation converged.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Newton iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Convergence details (the stop reason is [`crate::StopReason::Boundary`] when a
    /// component ends on its bound, e.g. a variance at exactly 0).
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// True for an intercept-only model.
    pub fn intercept_only(&self) -> bool {
        self.int_only
    }
    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.inner.digits = digits;
        self
    }
    pub(crate) fn digits(&self) -> usize {
        self.inner.digits
    }
    /// The variance components as the optimiser sees them.
    pub(crate) fn theta(&self) -> &[f64] {
        &self.inner.theta
    }

    /// Tests linear combinations of the coefficients, one per row of `l` (metafor's
    /// `anova(fit, X = L)`). A row with `p - 1` entries in a model with an intercept gets
    /// the intercept prepended (as metafor does).
    ///
    /// # Formula
    /// `L beta`, `se = sqrt(diag(L Var(beta) L'))`, z or t (`k - p` df) tests; when `L` has
    /// full row rank `m`, `QM = (L b)'(L Var(b) L')^-1 (L b)` against chi^2(m) (or `QM/m`
    /// against F(m, k - p)).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] (option `contrast`) for no rows, rows of the wrong
    /// length, non-finite entries, a row of zeros, or a combination whose value or variance
    /// overflows double precision.
    ///
    /// # Examples
    /// See [`MvModel`].
    pub fn hypotheses(&self, l: &[Vec<f64>]) -> Result<LinearHypotheses> {
        let p = self.p;
        if l.is_empty() {
            return Err(MetaError::invalid_option(
                "contrast",
                "none",
                "give at least one linear combination",
            ));
        }
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(l.len());
        for given in l {
            let r: Vec<f64> = if self.int_incl && given.len() + 1 == p {
                std::iter::once(1.0).chain(given.iter().copied()).collect()
            } else {
                given.clone()
            };
            if r.len() != p || r.iter().any(|v| !v.is_finite()) {
                return Err(MetaError::invalid_option(
                    "contrast",
                    crate::format::list_num(given),
                    format!(
                        "each combination needs {p} finite coefficients, one per model coefficient"
                    ),
                ));
            }
            if r.iter().all(|&v| v == 0.0) {
                return Err(MetaError::invalid_option(
                    "contrast",
                    crate::format::list_num(given),
                    "a combination of zeros tests nothing (metafor prints NA for it)",
                ));
            }
            rows.push(r);
        }
        let m = rows.len();
        let lm = DMatrix::from_fn(m, p, |a, b| rows[a][b]);
        let vb = DMatrix::from_fn(p, p, |a, b| self.vcov[a][b]);
        let beta = DVector::from_vec(self.beta());
        let lb = &lm * &beta;
        let lvl = &lm * &vb * lm.transpose();
        let dfr = (self.k - self.p) as f64;
        let df = self.test.uses_t().then_some(dfr);
        // a combination whose value or variance overflows double precision has no test
        if let Some(a) = (0..m).find(|&a| !(lb[a].is_finite() && lvl[(a, a)].is_finite())) {
            return Err(MetaError::invalid_option(
                "contrast",
                crate::format::list_num(&l[a]),
                "the combination overflows double precision; rescale its coefficients",
            ));
        }
        let names = self.names();
        let out: Vec<Hypothesis> = (0..m)
            .map(|a| {
                let se = lvl[(a, a)].sqrt();
                let stat = lb[a] / se;
                Hypothesis {
                    description: describe(&rows[a], &names, self.digits()),
                    estimate: lb[a],
                    se,
                    statistic: stat,
                    df,
                    p_value: crit_and_p(self.test, stat, dfr, self.inner.alpha).1,
                }
            })
            .collect();
        let rank = lm
            .clone()
            .svd(false, false)
            .rank(1e-10 * lm.norm().max(1.0));
        let (qm, qm_p) = if rank == m {
            match lvl.clone().cholesky() {
                Some(ch) => {
                    let q = lb.dot(&ch.solve(&lb));
                    if self.test.uses_t() {
                        let f = q / m as f64;
                        (Some(f), Some(f_sf(f, m as f64, dfr)))
                    } else {
                        (Some(q), Some(chisq_sf(q, m as f64)))
                    }
                }
                None => (None, None),
            }
        } else {
            (None, None)
        };
        Ok(LinearHypotheses {
            rows: out,
            qm,
            qm_df: m as f64,
            qm_df2: df,
            qm_p_value: qm_p,
            test: self.test,
            digits: self.digits(),
        })
    }

    /// One contrast `l' beta` (metafor's `anova(fit, X = l)`), e.g. `[1, -1]` for the
    /// difference between two outcomes of a multivariate model.
    ///
    /// # Errors
    /// As [`MvFit::hypotheses`].
    pub fn contrast(&self, l: &[f64]) -> Result<LinearHypotheses> {
        self.hypotheses(&[l.to_vec()])
    }
}

/// metafor's hypothesis text: `2*a + b - c = 0`.
fn describe(row: &[f64], names: &[&str], digits: usize) -> String {
    let f = 10f64.powi(digits as i32);
    let parts: Vec<String> = row
        .iter()
        .zip(names)
        .filter_map(|(&v, n)| {
            let r = (v * f).round() / f;
            (r != 0.0).then(|| format!("{}*{n}", crate::model::mv::print::r_num(r)))
        })
        .collect();
    let s = parts.join(" + ").replace("1*", "").replace("+ -", "- ");
    format!("{s} = 0")
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::model::mv::Structure;
    use serde_json::Value;

    fn f64s(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }
    fn strs(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    }

    /// `clustered_model()` against the blocks clubSandwich's `vcovCR.rma.mv` works on
    /// (`weightMatrix`, `targetVariance`, `residuals_CS`, `vcov`), at metafor's variance
    /// components (tests/fixtures/mv.json, written by generate_mv.R).
    #[test]
    fn clustered_model_matches_clubsandwich_blocks() {
        let fx: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/mv.json"
        )))
        .unwrap();
        let mut checked = 0;
        let mut worst = 0.0f64;
        for f in fx["fits"].as_array().unwrap() {
            let Some(cm) = f.get("clustered").filter(|v| !v.is_null()) else {
                continue;
            };
            let ds = fx["datasets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["name"] == f["dataset"])
                .unwrap();
            let mut s = Studies::from_variances(f64s(&ds["yi"]), f64s(&ds["vi"])).unwrap();
            for (n, v) in ds["numeric"].as_object().into_iter().flatten() {
                s = s.with_moderator(n.clone(), f64s(v)).unwrap();
            }
            for (n, v) in ds["categorical"].as_object().into_iter().flatten() {
                s = s.with_attribute(n.clone(), strs(v)).unwrap();
            }
            s = s.with_clusters(strs(&ds["cluster"])).unwrap();
            if !ds["obs"].is_null() {
                s = s.with_observations(strs(&ds["obs"])).unwrap();
            }
            if !ds["V_blocks"].is_null() {
                let b: Vec<Vec<f64>> = ds["V_blocks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(f64s)
                    .collect();
                s = s.with_covariance_blocks(b).unwrap();
            }
            let mut m = MvModel::new()
                .method(f["method"].as_str().unwrap().parse().unwrap())
                .moderators(strs(&f["mods"]))
                .fixed_components(f64s(&f["theta"]));
            if let Some(r) = f["rho"].as_f64() {
                m = m.rho(r);
            }
            if let Some(o) = f["outcome"].as_str() {
                let st: Structure = f["struct"].as_str().unwrap().parse().unwrap();
                m = m.outcome(o, st);
            }
            let fit = m.fit(&s).unwrap();
            let model = fit.clustered_model(crate::model::RobustKind::CR1);
            let want = cm["clusters"].as_array().unwrap();
            assert_eq!(model.clusters.len(), want.len());
            let mut cmp = |a: f64, b: f64, floor: f64| {
                let e = if a.abs().max(b.abs()) < floor {
                    (a - b).abs() / floor
                } else {
                    (a - b).abs() / a.abs().max(b.abs())
                };
                worst = worst.max(e);
                checked += 1;
                assert!(e <= 1e-10, "{} vs {}", a, b);
            };
            for (blk, w) in model.clusters.iter().zip(want) {
                let name = w["name"].as_str().unwrap();
                let c = model.cluster_names.iter().position(|n| n == name).unwrap();
                let blk_c = &model.clusters[c];
                let rows: Vec<usize> = f64s(&w["rows"]).iter().map(|r| *r as usize).collect();
                assert_eq!(blk_c.rows, rows, "{name}");
                let n = rows.len();
                let (ww, wt, e) = (f64s(&w["w"]), f64s(&w["working"]), f64s(&w["e"]));
                let wmax = ww.iter().fold(0.0f64, |a, b| a.max(b.abs()));
                for a in 0..n {
                    for b in 0..n {
                        cmp(blk_c.w[(a, b)], ww[a * n + b], 1e-12 * wmax);
                        cmp(blk_c.working[(a, b)], wt[a * n + b], 1e-14);
                    }
                    cmp(blk_c.e[a], e[a], 1e-12);
                }
                let _ = blk;
            }
            let bread: Vec<f64> = cm["bread"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(f64s)
                .collect();
            let p = model.beta.len();
            for a in 0..p {
                for b in 0..p {
                    cmp(model.bread[(a, b)], bread[a * p + b], 1e-16);
                }
            }
        }
        assert!(checked > 100, "compared {checked} numbers");
        println!("clustered_model: {checked} numbers, worst relative error {worst:.2e}");
    }
}
