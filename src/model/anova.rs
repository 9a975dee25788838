//! Model comparison: the likelihood-ratio test between nested models (metafor's
//! `anova(full, reduced)`), with AIC, BIC, AICc and the pseudo-R^2 of the full model
//! relative to the reduced one.
//!
//! # References
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48.
//! * Raudenbush, S. W. (2009). Analyzing effect sizes: Random-effects models. In H. Cooper,
//!   L. V. Hedges, & J. C. Valentine (Eds.), *The handbook of research synthesis and
//!   meta-analysis* (2nd ed.). Russell Sage Foundation.

use std::fmt;

use nalgebra::DMatrix;

use super::method::Method;
use super::regression::MetaRegressionFit;
use super::regression::design::collinear_columns;
use crate::error::{MetaError, Result};
use crate::format::{fcf, print_frame, pval_str};
use crate::numeric::dist::chisq_sf;
use crate::numeric::wls::WlsQr;

/// Log-likelihood, deviance and information criteria of one model, under the likelihood
/// the comparison uses (REML for REML fits, ML otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct InfoCriteria {
    /// Log-likelihood.
    pub ll: f64,
    /// Deviance.
    pub dev: f64,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AICc.
    pub aicc: f64,
}

/// The likelihood-ratio test of [`anova`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ModelComparison {
    method: Method,
    parms_full: usize,
    parms_reduced: usize,
    lrt: f64,
    df: f64,
    p_value: f64,
    full: InfoCriteria,
    reduced: InfoCriteria,
    qe_full: f64,
    qe_reduced: f64,
    tau2_full: f64,
    tau2_reduced: f64,
    r2: Option<f64>,
    warnings: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl ModelComparison {
    /// The estimator of both models.
    pub fn method(&self) -> Method {
        self.method
    }
    /// Numbers of parameters `(full, reduced)` (coefficients, plus tau^2 when estimated).
    pub fn parms(&self) -> (usize, usize) {
        (self.parms_full, self.parms_reduced)
    }
    /// The likelihood-ratio statistic `dev_reduced - dev_full` (at least 0).
    pub fn lrt(&self) -> f64 {
        self.lrt
    }
    /// Its degrees of freedom, the difference in parameters.
    pub fn df(&self) -> f64 {
        self.df
    }
    /// p-value (chi^2).
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// Fit statistics of the full model.
    pub fn fit_stats_full(&self) -> &InfoCriteria {
        &self.full
    }
    /// Fit statistics of the reduced model.
    pub fn fit_stats_reduced(&self) -> &InfoCriteria {
        &self.reduced
    }
    /// The residual heterogeneity statistics QE `(full, reduced)`.
    pub fn qe(&self) -> (f64, f64) {
        (self.qe_full, self.qe_reduced)
    }
    /// tau^2 `(full, reduced)`.
    pub fn tau2(&self) -> (f64, f64) {
        (self.tau2_full, self.tau2_reduced)
    }
    /// The proportional reduction in tau^2 from the reduced to the full model, in percent
    /// (metafor's pseudo-R^2; for equal-effects models the reduction in the residual
    /// variance of the weighted least-squares fits).
    pub fn r2(&self) -> Option<f64> {
        self.r2
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn criteria(f: &MetaRegressionFit, reml: bool) -> InfoCriteria {
    let s = f.fit_stats();
    if reml {
        InfoCriteria {
            ll: s.ll_reml,
            dev: s.dev_reml,
            aic: s.aic_reml,
            bic: s.bic_reml,
            aicc: s.aicc_reml,
        }
    } else {
        InfoCriteria {
            ll: s.ll_ml,
            dev: s.dev_ml,
            aic: s.aic_ml,
            bic: s.bic_ml,
            aicc: s.aicc_ml,
        }
    }
}

/// `sigma^2` of R's `lm(y ~ X, weights = 1/v)` (an intercept added, aliased columns dropped).
fn lm_sigma2(x: &DMatrix<f64>, y: &[f64], v: &[f64]) -> f64 {
    let k = y.len();
    let mut cols: Vec<Vec<f64>> = vec![vec![1.0; k]];
    cols.extend((0..x.ncols()).map(|j| x.column(j).iter().copied().collect()));
    let drop = collinear_columns(&cols);
    let keep: Vec<&Vec<f64>> = cols
        .iter()
        .enumerate()
        .filter(|(j, _)| !drop.contains(j))
        .map(|(_, c)| c)
        .collect();
    let rank = keep.len();
    let xm = DMatrix::from_fn(k, rank, |i, j| keep[j][i]);
    match WlsQr::new(&xm, |i| 1.0 / v[i]) {
        Some(qr) => {
            let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
            rss / (k - rank) as f64
        }
        None => f64::NAN,
    }
}

/// The likelihood-ratio test of two nested models fitted to the same data (metafor's
/// `anova(full, reduced)`); the model with more parameters is taken as the full one.
///
/// # Formula
/// `LRT = max(0, dev_reduced - dev_full)` with the REML deviances for REML fits and the ML
/// ones otherwise, on `parms_full - parms_reduced` df (chi^2).
/// `R2 = max(0, 100 (tau2_reduced - tau2_full)/tau2_reduced)` (0 when `tau2_reduced = 0`);
/// for equal-effects models `max(0, 100 (s2_reduced - s2_full)/s2_reduced)` with the
/// residual variances `s2` of the weighted least-squares fits.
///
/// As in metafor, REML likelihoods of models with different fixed effects are not
/// comparable: the test is computed, with a warning (refit both with [`Method::ML`]).
///
/// # Errors
/// [`MetaError::InvalidOption`] when the models have the same number of parameters, were
/// fitted to different data, or mix ML and REML, or an equal-effects full model with a
/// random-effects reduced one.
///
/// # Examples
/// ```
/// use metan::{MetaRegression, Method, Studies, anova};
/// let s = Studies::from_variances(
///     vec![-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02],
///     vec![0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06, 0.07, 0.01, 0.53, 0.07],
/// )?
/// .with_moderator("ablat", vec![44., 55., 42., 52., 13., 44., 19., 13., 27., 42., 18., 33., 33.])?;
/// let full = MetaRegression::new().method(Method::ML).moderator("ablat").fit(&s)?;
/// let reduced = MetaRegression::new().method(Method::ML).fit(&s)?;
/// let lrt = anova(&full, &reduced)?;
/// assert_eq!(lrt.df(), 1.0);
/// assert!(lrt.p_value() < 0.01);
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn anova(a: &MetaRegressionFit, b: &MetaRegressionFit) -> Result<ModelComparison> {
    if a.parms() == b.parms() {
        return Err(MetaError::invalid_option(
            "models",
            a.parms(),
            "the models have the same number of parameters: a LRT is not meaningful",
        ));
    }
    let (f, r) = if a.parms() > b.parms() {
        (a, b)
    } else {
        (b, a)
    };
    if f.data() != r.data() {
        return Err(MetaError::invalid_option(
            "models",
            "different data",
            "the estimates and/or sampling variances differ between the two models",
        ));
    }
    let (mf, mr) = (f.method(), r.method());
    if mf.is_equal_effects() && !mr.is_equal_effects() {
        return Err(MetaError::invalid_option(
            "models",
            format!("{mf} vs {mr}"),
            "the full model is an equal-effects and the reduced one a random/mixed-effects model",
        ));
    }
    if (mf == Method::ML && mr == Method::REML) || (mf == Method::REML && mr == Method::ML) {
        return Err(MetaError::invalid_option(
            "models",
            format!("{mf} vs {mr}"),
            format!("mismatch between {mf} and {mr} estimation in the full and reduced model"),
        ));
    }
    let mut warnings = Vec::new();
    let ok = |m: Method| m.is_equal_effects() || matches!(m, Method::ML | Method::REML);
    if !ok(mf) || !ok(mr) {
        warnings.push("LRTs should be based on ML/REML estimation.".to_string());
    }
    let reml = mf == Method::REML;
    if reml && f.design_matrix() != r.design_matrix() {
        warnings.push("REML comparisons not meaningful for models with different fixed effects\n(use 'refit=TRUE' to refit both models based on ML estimation).".to_string());
    }
    let r2 = if mf.is_equal_effects() {
        let (y, v) = f.data();
        let s2f = lm_sigma2(f.design_matrix(), y, v);
        let s2r = lm_sigma2(r.design_matrix(), y, v);
        Some(100.0 * ((s2r - s2f) / s2r).max(0.0))
    } else if r.tau2() == 0.0 {
        Some(0.0)
    } else {
        Some(100.0 * ((r.tau2() - f.tau2()) / r.tau2()).max(0.0))
    };
    let full = criteria(f, reml);
    let reduced = criteria(r, reml);
    let lrt = (reduced.dev - full.dev).max(0.0);
    let df = (f.parms() - r.parms()) as f64;
    Ok(ModelComparison {
        method: mf,
        parms_full: f.parms(),
        parms_reduced: r.parms(),
        lrt,
        df,
        p_value: chisq_sf(lrt, df),
        full,
        reduced,
        qe_full: f.heterogeneity().q(),
        qe_reduced: r.heterogeneity().q(),
        tau2_full: f.tau2(),
        tau2_reduced: r.tau2(),
        r2,
        warnings,
        digits: f.digits(),
    })
}

impl fmt::Display for ModelComparison {
    /// The layout of metafor's `print.anova.rma` for a likelihood-ratio test.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let ee = self.method.is_equal_effects();
        writeln!(f)?;
        let rows = vec!["Full".to_string(), "Reduced".to_string()];
        let mut headers = vec!["df", "AIC", "BIC", "AICc", "logLik", "LRT", "pval", "QE"];
        let mut cols: Vec<Vec<String>> = vec![
            vec![self.parms_full.to_string(), self.parms_reduced.to_string()],
            vec![fcf(self.full.aic, d), fcf(self.reduced.aic, d)],
            vec![fcf(self.full.bic, d), fcf(self.reduced.bic, d)],
            vec![fcf(self.full.aicc, d), fcf(self.reduced.aicc, d)],
            vec![fcf(self.full.ll, d), fcf(self.reduced.ll, d)],
            vec![String::new(), fcf(self.lrt, d)],
            vec![String::new(), pval_str(self.p_value, d, false, "")],
            vec![fcf(self.qe_full, d), fcf(self.qe_reduced, d)],
        ];
        if !ee {
            headers.push("tau^2");
            cols.push(vec![fcf(self.tau2_full, d), fcf(self.tau2_reduced, d)]);
        }
        headers.push("R^2");
        cols.push(vec![
            String::new(),
            format!("{}%", self.r2.map_or("NA".into(), |r| fcf(r, d))),
        ]);
        print_frame(f, &rows, &headers, &cols, 1)?;
        writeln!(f)
    }
}
