//! Mixed-effects meta-regression: [`MetaRegression`] (the specification) ->
//! [`MetaRegression::fit`] -> [`MetaRegressionFit`].
//!
//! The model is `y_i = x_i' beta + u_i + e_i`, `u_i ~ N(0, tau^2)`, `e_i ~ N(0, v_i)`
//! (metafor's `rma(yi, vi, mods = ...)`). tau^2 is estimated by the same estimators as the
//! intercept-only model (they are generic over the design, see `projection`), with metafor's
//! definitions for models with moderators; the coefficients by weighted least squares with
//! `w_i = 1/(v_i + tau^2)` through the QR decomposition of `sqrt(W) X`.
//!
//! # References
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48.
//! * Thompson, S. G., & Higgins, J. P. T. (2002). How should meta-regression analyses be
//!   undertaken and interpreted? *Statistics in Medicine*, 21, 1559-1573.
//! * Knapp, G., & Hartung, J. (2003). Improved tests for a random effects meta-regression
//!   with a single covariate. *Statistics in Medicine*, 22, 2693-2710.
//! * Raudenbush, S. W. (2009). Analyzing effect sizes: Random-effects models. In H. Cooper,
//!   L. V. Hedges, & J. C. Valentine (Eds.), *The handbook of research synthesis and
//!   meta-analysis* (2nd ed., pp. 295-315). Russell Sage Foundation.

pub(crate) mod design;
pub(crate) mod print;

use nalgebra::{DMatrix, DVector};

use self::design::{Design, ModSpec, build};
use super::analysis::{MetaAnalysis, fit_stats_design};
use super::fit::{Attempt, Convergence, FitStats};
use super::heterogeneity::{i2_h2, q_profile, q_test};
use super::inference::crit_and_p;
use super::method::{Method, TestKind};
use super::projection::{DesignProjector, InterceptOnly, Projector};
use super::tau2::{Input, StopReason, Tau2Estimate};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::numeric::dist::{chisq_sf, f_sf};
use crate::numeric::wls::WlsQr;

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Coefficient {
    /// Column name: `intrcpt`, a numeric moderator's name, or a categorical moderator's name
    /// followed by the level (`allocrandom`).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Degrees of freedom of the t test (`k - p`); `None` for z.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// A predicted value `x' beta` with its confidence and prediction intervals
/// (metafor's `predict.rma`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Prediction {
    /// `x' beta`.
    pub pred: f64,
    /// `sqrt(x' Var(beta) x)`.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Lower prediction bound (`None` for equal-effects models).
    pub pi_lower: Option<f64>,
    /// Upper prediction bound (`None` for equal-effects models).
    pub pi_upper: Option<f64>,
}

/// Specification of a mixed-effects meta-regression (or, with an equal-effects method, a
/// fixed-effects model with moderators).
///
/// The estimation options (method or fallback chain, test, level, fixed tau^2, iteration
/// control, digits) are those of [`MetaAnalysis`], which this builder wraps: every setter of
/// [`MetaAnalysis`] exists here too, and [`MetaRegression::from_analysis`] reuses an existing
/// specification. Setters are infallible and chain; everything is validated in
/// [`MetaRegression::fit`].
///
/// Moderators come from the [`Studies`]: a name given to [`MetaRegression::moderator`] is a
/// numeric moderator of the studies if there is one, otherwise a string attribute, which is
/// categorical and dummy-coded against its reference level (default: the first level in
/// sorted order, as R's factors).
///
/// # Examples
///
/// ```
/// use metan::{MetaRegression, Method, Studies, TestKind};
/// // log risk ratios of the 13 BCG trials with absolute latitude
/// let s = Studies::from_variances(
///     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120,
///          -0.4694, -1.3713, -0.3394, 0.4459, -0.0173],
///     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040,
///          0.0564, 0.0730, 0.0124, 0.5325, 0.0714],
/// )?
/// .with_moderator("ablat", vec![44., 55., 42., 52., 13., 44., 19., 13., 27., 42., 18., 33., 33.])?;
/// let fit = MetaRegression::new().moderator("ablat").fit(&s)?;
/// assert_eq!(fit.coefficients()[1].name, "ablat");
/// assert!(fit.coefficients()[1].estimate < 0.0);     // farther from the equator, larger effect
/// assert!(fit.r2().unwrap() > 50.0);                  // latitude explains most heterogeneity
/// let knha = MetaRegression::new().moderator("ablat").method(Method::DL)
///     .test(TestKind::Knha).fit(&s)?;
/// assert_eq!(knha.qm_df(), (1.0, Some(11.0)));         // F(1, k - p)
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MetaRegression {
    spec: MetaAnalysis,
    mods: Vec<ModSpec>,
    references: Vec<(String, String)>,
    intercept: bool,
    btt: Option<Vec<usize>>,
}

impl Default for MetaRegression {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! delegate {
    ($($(#[$m:meta])* $name:ident($arg:ident: $ty:ty);)*) => {
        $(
            $(#[$m])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.spec = self.spec.$name($arg);
                self
            }
        )*
    };
}

impl MetaRegression {
    /// An intercept and no moderators yet; REML, z tests, 95% (metafor's defaults).
    pub fn new() -> Self {
        Self::from_analysis(MetaAnalysis::new())
    }

    /// Uses the estimation options of `spec` (method chain, test, level, fixed tau^2,
    /// control, digits). User weights are not supported with moderators.
    pub fn from_analysis(spec: MetaAnalysis) -> Self {
        MetaRegression {
            spec,
            mods: Vec::new(),
            references: Vec::new(),
            intercept: true,
            btt: None,
        }
    }

    /// The estimation options.
    pub fn analysis(&self) -> &MetaAnalysis {
        &self.spec
    }

    /// Adds a moderator: the numeric moderator of this name, or else the string attribute
    /// of this name (categorical).
    pub fn moderator(mut self, name: impl Into<String>) -> Self {
        self.mods.push(ModSpec::Auto(name.into()));
        self
    }

    /// Adds several moderators (see [`MetaRegression::moderator`]).
    pub fn moderators<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.mods
            .extend(names.into_iter().map(|n| ModSpec::Auto(n.into())));
        self
    }

    /// Adds a categorical moderator, also when the studies hold it as numbers (R's
    /// `factor(x)`; the levels are then sorted numerically).
    pub fn categorical(mut self, name: impl Into<String>) -> Self {
        self.mods.push(ModSpec::Categorical(name.into()));
        self
    }

    /// The reference level of a categorical moderator (R's `relevel`); default: the first
    /// level in sorted order.
    pub fn reference(mut self, moderator: impl Into<String>, level: impl Into<String>) -> Self {
        let m = moderator.into();
        self.references.retain(|(n, _)| *n != m);
        self.references.push((m, level.into()));
        self
    }

    /// Whether the model has an intercept (default true). Without one, the first categorical
    /// moderator gets a column for every level.
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// The coefficients tested by the omnibus test QM, **1-based** as metafor's `btt` and as
    /// printed ("Test of Moderators (coefficients 2:3)"). Default: all but the intercept.
    pub fn btt(mut self, coefficients: impl IntoIterator<Item = usize>) -> Self {
        self.btt = Some(coefficients.into_iter().collect());
        self
    }

    delegate! {
        /// The tau^2 estimator ([`MetaAnalysis::method`]).
        method(method: Method);
        /// The test of the coefficients: z, t, Knapp-Hartung or ad hoc ([`MetaAnalysis::test`]).
        test(test: TestKind);
        /// Confidence level in percent ([`MetaAnalysis::level`]).
        level(level: f64);
        /// Fixes tau^2 ([`MetaAnalysis::tau2`]).
        tau2(tau2: f64);
        /// Maximum iterations ([`MetaAnalysis::max_iter`]).
        max_iter(n: usize);
        /// Relative convergence tolerance ([`MetaAnalysis::tol`]).
        tol(tol: f64);
        /// Fisher-scoring step factor ([`MetaAnalysis::step_adj`]).
        step_adj(step_adj: f64);
        /// Starting value of ML/REML/EB, or SJ's tau2_0 ([`MetaAnalysis::tau2_init`]).
        tau2_init(tau2: f64);
        /// Whether to compute the Q-profile interval of tau^2 ([`MetaAnalysis::confint`]).
        confint(yes: bool);
        /// Search limit of the Q-profile interval ([`MetaAnalysis::tau2_max`]).
        tau2_max(tau2_max: f64);
        /// Decimals used by `Display` ([`MetaAnalysis::digits`]).
        digits(digits: usize);
    }

    /// A fallback chain of estimators ([`MetaAnalysis::methods`]).
    pub fn methods(mut self, chain: impl IntoIterator<Item = Method>) -> Self {
        self.spec = self.spec.methods(chain);
        self
    }

    /// The model matrix of these moderators for `studies`, with its column names.
    pub(crate) fn design(&self, studies: &Studies) -> Result<Design> {
        build(studies, &self.mods, &self.references, self.intercept)
    }

    /// Validates the options; returns alpha.
    fn validate(&self, studies: &Studies) -> Result<f64> {
        if self.spec.weights.is_some() {
            return Err(MetaError::invalid_option(
                "weights",
                "given",
                "user weights are not supported for meta-regression",
            ));
        }
        if self.spec.methods.contains(&Method::GENQ) {
            return Err(MetaError::invalid_option(
                "method",
                "GENQ",
                "GENQ needs user weights, which meta-regression does not support",
            ));
        }
        self.spec.validate(studies)
    }

    /// The 1-based coefficients of the omnibus test.
    fn btt_for(&self, d: &Design) -> Result<Vec<usize>> {
        let p = d.names.len();
        match &self.btt {
            None if p == 1 => Ok(vec![1]),
            None if d.int_incl => Ok((2..=p).collect()),
            None => Ok((1..=p).collect()),
            Some(b) => {
                let mut b = b.clone();
                b.sort_unstable();
                b.dedup();
                if b.is_empty() || b.iter().any(|&j| j == 0 || j > p) {
                    return Err(MetaError::invalid_option(
                        "btt",
                        self.btt
                            .as_deref()
                            .unwrap_or(&[])
                            .iter()
                            .map(|j| j.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                        format!("coefficients are numbered 1..={p} (1-based, as in metafor)"),
                    ));
                }
                Ok(b)
            }
        }
    }

    /// Fits the model.
    ///
    /// # Formula
    /// With `w_i = 1/(v_i + tau2)`: `beta = (X'WX)^-1 X'W y`, `Var(beta) = (X'WX)^-1`
    /// (times `s2 = RSS/(k - p)` for Knapp-Hartung, `max(1, s2)` for adhoc; t tests on
    /// `k - p` df). `QM = b' Var(b)^-1 b` over the tested coefficients `b` (chi^2(m); divided
    /// by `m` and F(m, k - p) for t tests). `QE = y'Py` with `W = diag(1/v)` on `k - p` df;
    /// `I2 = 100 tau2/(vt + tau2)`, `H2 = tau2/vt + 1` with `vt = (k - p)/tr(P)`;
    /// `R2 = max(0, 100 (tau2_0 - tau2)/tau2_0)` with `tau2_0` from the intercept-only model
    /// fitted with the same estimator (equal-effects models: the adjusted R^2 of the weighted
    /// least-squares fit). Hat values `h_i = w_i x_i'(X'WX)^-1 x_i`; standardized residuals
    /// `(y_i - x_i'beta)/sqrt((v_i + tau2)(1 - h_i))` (metafor's `rstandard`).
    ///
    /// # Errors
    /// Those of [`MetaAnalysis::fit`] for the options; [`MetaError::TooFewStudies`] when
    /// `k <= p`; [`MetaError::RankDeficient`] naming the collinear columns; and the errors of
    /// the model matrix (unknown moderator, missing categorical value, unknown reference
    /// level, single-level factor).
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaRegression, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.4, 0.3, 0.9, 0.7], vec![0.02; 5])?
    ///     .with_attribute("design", ["rct", "rct", "qe", "qe", "qe"])?;
    /// let fit = MetaRegression::new().moderator("design").reference("design", "rct").fit(&s)?;
    /// assert_eq!(fit.coefficients()[1].name, "designqe");
    /// // equal variances, hence equal weights: the coefficient is the difference of the means
    /// let diff = (0.3 + 0.9 + 0.7) / 3.0 - (0.1 + 0.4) / 2.0;
    /// assert!((fit.coefficients()[1].estimate - diff).abs() < 1e-12);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn fit(&self, studies: &Studies) -> Result<MetaRegressionFit> {
        let alpha = self.validate(studies)?;
        let d = self.design(studies)?;
        let btt = self.btt_for(&d)?;
        let k = studies.k();
        let p = d.names.len();
        if k <= p {
            return Err(MetaError::TooFewStudies {
                analysis: format!("a meta-regression with {p} coefficients"),
                needed: p + 1,
                found: k,
            });
        }
        let y = studies.yi();
        let v = studies.vi();
        let core = core_fit(&self.spec, &d.x, d.int_only, y, v, &btt, alpha)?;
        self.finish(studies, d, btt, core, alpha)
    }

    fn finish(
        &self,
        studies: &Studies,
        d: Design,
        btt: Vec<usize>,
        c: Core,
        alpha: f64,
    ) -> Result<MetaRegressionFit> {
        let y = studies.yi();
        let v = studies.vi();
        let k = y.len();
        let p = d.names.len();
        let x = &d.x;
        let ee = c.method.is_equal_effects();
        let tau2 = c.tau2;
        let tau2_fixed = !ee && self.spec.tau2.is_some();
        let mut warnings = c.warnings;

        // heterogeneity
        let qt = if d.int_only {
            q_test(&InterceptOnly { y, v })
        } else {
            q_test(&DesignProjector::centred(y, v, x))
        };
        let (i2, h2) = i2_h2(&qt, (!ee).then_some(tau2));
        // extreme designs can cancel tr(P) to a meaningless value (found by tests/fuzz.rs):
        // never report a non-finite or out-of-range I^2 / H^2 as if it were valid
        if !(i2.is_finite() && h2.is_finite() && (0.0..=100.0).contains(&i2) && qt.vt.is_finite()) {
            return Err(MetaError::Numerical {
                context: format!(
                    "residual heterogeneity (I^2 = {i2}, H^2 = {h2}): the design is numerically degenerate"
                ),
            });
        }
        let mut ci_t = None;
        if self.spec.confint && !ee && !tau2_fixed {
            let tau2_max = self
                .spec
                .tau2_max
                .unwrap_or_else(|| 100f64.max(10.0 * tau2));
            ci_t = if d.int_only {
                q_profile(&InterceptOnly { y, v }, alpha, tau2_max, Some(tau2))
            } else {
                q_profile(
                    &DesignProjector::new(y.to_vec(), v, x),
                    alpha,
                    tau2_max,
                    Some(tau2),
                )
            };
        }
        let vt = qt.vt;
        let tr = |f: &dyn Fn(f64) -> f64| ci_t.map(|c| (f(c.tau2.0), f(c.tau2.1)));
        let tau2_ci = tr(&|t| t);
        let i2_ci = tr(&|t| 100.0 * t / (vt + t));
        let h2_ci = tr(&|t| t / vt + 1.0);

        // fit statistics
        let logdet_xx = WlsQr::new(x, |_| 1.0).map_or(f64::NAN, |q| q.logdet());
        let fit_stats = fit_stats_design(
            v,
            p,
            tau2,
            c.rss,
            logdet_xx,
            c.qr.logdet(),
            !ee && !tau2_fixed,
            None,
        );
        let parms = p + usize::from(!ee && !tau2_fixed);

        // R^2
        let r2 = if d.int_only || !d.int_incl {
            None
        } else if ee {
            Some(adjusted_r2(x, y, v))
        } else {
            let chain: Vec<Method> = self
                .spec
                .methods
                .iter()
                .copied()
                .skip_while(|m| *m != c.method)
                .collect();
            let mut spec0 = self.spec.clone().methods(chain).confint(false);
            spec0.tau2 = None;
            match spec0.fit(studies) {
                Ok(f0) if f0.tau2() == 0.0 => Some(0.0),
                Ok(f0) => Some((100.0 * (f0.tau2() - tau2) / f0.tau2()).max(0.0)),
                Err(_) => {
                    warnings.push("R^2 not computed: the intercept-only model failed.".into());
                    None
                }
            }
        };

        // hat values, fitted values, standardized residuals
        let mut hat = Vec::with_capacity(k);
        let mut fitted = Vec::with_capacity(k);
        let mut residuals = Vec::with_capacity(k);
        let mut rstandard = Vec::with_capacity(k);
        for i in 0..k {
            let h = c.qr.leverage(i);
            let f: f64 = (0..p).map(|j| x[(i, j)] * c.beta[j]).sum();
            let mut e = y[i] - f;
            if e.abs() < 100.0 * f64::EPSILON {
                e = 0.0;
            }
            hat.push(if h > 1.0 - 10.0 * f64::EPSILON {
                1.0
            } else {
                h
            });
            fitted.push(f);
            residuals.push(e);
            rstandard.push(e / ((v[i] + tau2) * (1.0 - h)).sqrt());
        }
        let df = self.spec.test.uses_t().then_some((k - p) as f64);
        let coefficients = (0..p)
            .map(|j| Coefficient {
                name: d.names[j].clone(),
                estimate: c.beta[j],
                se: c.se[j],
                statistic: c.zval[j],
                df,
                p_value: c.pval[j],
                ci_lower: c.beta[j] - c.crit * c.se[j],
                ci_upper: c.beta[j] + c.crit * c.se[j],
            })
            .collect();
        let tau2_se = if ee { None } else { c.est.se };
        Ok(MetaRegressionFit {
            k,
            p,
            method: c.method,
            test: self.spec.test,
            level: 100.0 * (1.0 - alpha),
            int_only: d.int_only,
            int_incl: d.int_incl,
            coefficients,
            vcov: (0..p)
                .map(|i| (0..p).map(|j| c.vb[(i, j)]).collect())
                .collect(),
            btt,
            qm: c.qm,
            qm_df: c.qm_df.0,
            qm_df2: c.qm_df.1,
            qm_p_value: c.qm_p,
            r2,
            tau2,
            tau2_se,
            tau: tau2.sqrt(),
            tau2_fixed,
            i2,
            h2,
            q: qt.q,
            q_df: qt.df,
            q_p_value: qt.p_value,
            vt,
            tau2_ci_lower: tau2_ci.map(|t| t.0),
            tau2_ci_upper: tau2_ci.map(|t| t.1),
            i2_ci_lower: i2_ci.map(|t| t.0),
            i2_ci_upper: i2_ci.map(|t| t.1),
            h2_ci_lower: h2_ci.map(|t| t.0),
            h2_ci_upper: h2_ci.map(|t| t.1),
            s2w: c.s2w,
            hat,
            fitted,
            residuals,
            rstandard,
            fit_stats,
            parms,
            converged: c.est.converged,
            convergence: Convergence {
                converged: c.est.converged,
                iterations: c.est.iterations,
                reason: c.est.reason,
                attempts: c.attempts,
            },
            warnings,
            crit: c.crit,
            yi: y.to_vec(),
            vi: v.to_vec(),
            x: d.x,
            digits: self.spec.digits,
        })
    }
}

/// The part of a fit that permutation tests repeat.
pub(crate) struct Core {
    pub method: Method,
    pub est: Tau2Estimate,
    pub attempts: Vec<Attempt>,
    pub tau2: f64,
    pub qr: WlsQr,
    pub beta: DVector<f64>,
    pub vb: DMatrix<f64>,
    pub se: Vec<f64>,
    pub zval: Vec<f64>,
    pub pval: Vec<f64>,
    pub crit: f64,
    pub rss: f64,
    pub s2w: f64,
    pub qm: f64,
    pub qm_df: (f64, Option<f64>),
    pub qm_p: f64,
    pub warnings: Vec<String>,
}

/// tau^2 through the fallback chain, then the WLS fit and the tests of the coefficients.
pub(crate) fn core_fit(
    spec: &MetaAnalysis,
    x: &DMatrix<f64>,
    int_only: bool,
    y: &[f64],
    v: &[f64],
    btt: &[usize],
    alpha: f64,
) -> Result<Core> {
    let k = y.len();
    let p = x.ncols();
    let mut warnings = Vec::new();
    let vmax = v.iter().cloned().fold(f64::MIN, f64::max);
    let vmin = v.iter().cloned().fold(f64::MAX, f64::min);
    if vmax / vmin >= 1e7 {
        warnings.push("Ratio of largest to smallest sampling variance extremely large. May not be able to obtain stable results.".to_string());
    }
    let (method, est, attempts) = if int_only {
        chain(spec, &InterceptOnly { y, v })?
    } else {
        chain(spec, &DesignProjector::centred(y, v, x))?
    };
    if !est.converged {
        warnings.push(format!(
            "{method} did not converge after {} iterations; the last iterate is reported.",
            est.iterations
        ));
    }
    let ee = method.is_equal_effects();
    let tau2 = if ee { 0.0 } else { est.tau2 };
    let qr = WlsQr::new(x, |i| 1.0 / (v[i] + tau2)).ok_or_else(|| MetaError::Numerical {
        context: "weighted least squares (singular X'WX)".into(),
    })?;
    let beta = qr.coefficients(y);
    let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
    let mut vb = qr.cov_unscaled();
    let test = spec.test;
    let dfr = (k - p) as f64;
    let mut s2w = 1.0;
    if matches!(test, TestKind::Knha | TestKind::Adhoc) {
        s2w = if rss <= f64::EPSILON { 0.0 } else { rss / dfr };
        if test == TestKind::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
        vb *= s2w;
    }
    let se: Vec<f64> = (0..p).map(|j| vb[(j, j)].sqrt()).collect();
    let zval: Vec<f64> = (0..p).map(|j| beta[j] / se[j]).collect();
    let (crit, _) = crit_and_p(test, 0.0, dfr, alpha);
    let pval = zval
        .iter()
        .map(|&z| crit_and_p(test, z, dfr, alpha).1)
        .collect();
    let (qm, qm_df, qm_p) = wald(&beta, &vb, btt, test, dfr);
    if !(beta.iter().all(|b| b.is_finite()) && tau2.is_finite()) {
        return Err(MetaError::Numerical {
            context: "meta-regression coefficients".into(),
        });
    }
    Ok(Core {
        method,
        est,
        attempts,
        tau2,
        qr,
        beta,
        vb,
        se,
        zval,
        pval,
        crit,
        rss,
        s2w,
        qm,
        qm_df,
        qm_p,
        warnings,
    })
}

fn chain<M: Projector>(
    spec: &MetaAnalysis,
    model: &M,
) -> Result<(Method, Tau2Estimate, Vec<Attempt>)> {
    let inp = Input {
        model,
        weights: None,
        fixed: spec.tau2,
    };
    spec.run_chain(|m| {
        if m.is_equal_effects() {
            Tau2Estimate {
                tau2: 0.0,
                se: None,
                iterations: 0,
                converged: true,
                reason: StopReason::ClosedForm,
                log_sums: None,
            }
        } else {
            spec.estimate(m, &inp)
        }
    })
}

/// The Wald test of the coefficients `btt` (1-based): `(QM, (df1, df2), p)`.
pub(crate) fn wald(
    beta: &DVector<f64>,
    vb: &DMatrix<f64>,
    btt: &[usize],
    test: TestKind,
    dfr: f64,
) -> (f64, (f64, Option<f64>), f64) {
    let m = btt.len();
    let b = DVector::from_iterator(m, btt.iter().map(|&j| beta[j - 1]));
    let s = DMatrix::from_fn(m, m, |a, c| vb[(btt[a] - 1, btt[c] - 1)]);
    let qm = match s.cholesky() {
        Some(ch) => b.dot(&ch.solve(&b)),
        None => f64::NAN,
    };
    let mf = m as f64;
    if test.uses_t() {
        let f = qm / mf;
        let p = if dfr > 0.0 {
            f_sf(f, mf, dfr)
        } else {
            f64::NAN
        };
        (f, (mf, Some(dfr)), p)
    } else {
        (qm, (mf, None), chisq_sf(qm, mf))
    }
}

/// `max(0, 100 * adjusted R^2)` of the weighted (`1/v`) least-squares fit with an intercept,
/// metafor's R^2 for equal-effects models with moderators.
fn adjusted_r2(x: &DMatrix<f64>, y: &[f64], v: &[f64]) -> f64 {
    let k = y.len() as f64;
    let mean = y.iter().sum::<f64>() / k;
    if y.iter().all(|&a| a == mean) {
        return 0.0;
    }
    let Some(qr) = WlsQr::new(x, |i| 1.0 / v[i]) else {
        return f64::NAN;
    };
    let beta = qr.coefficients(y);
    let p = x.ncols();
    let f: Vec<f64> = (0..y.len())
        .map(|i| (0..p).map(|j| x[(i, j)] * beta[j]).sum())
        .collect();
    let sw: f64 = v.iter().map(|vi| 1.0 / vi).sum();
    let m: f64 = f.iter().zip(v).map(|(fi, vi)| fi / vi).sum::<f64>() / sw;
    let mss: f64 = f
        .iter()
        .zip(v)
        .map(|(fi, vi)| (fi - m) * (fi - m) / vi)
        .sum();
    let rss: f64 = qr.weighted_residuals(y).iter().map(|r| r * r).sum();
    let r2 = mss / (mss + rss);
    let adj = 1.0 - (1.0 - r2) * (k - 1.0) / (k - p as f64);
    (100.0 * adj).max(0.0)
}

/// A fitted meta-regression.
///
/// Built by [`MetaRegression::fit`]. With the `serde` feature it serializes to the JSON
/// printed by `metan fit --mods ... --format json`: `coefficients`, `qm`, `qm_df`, `qm_p_value`,
/// `r2`, and the residual heterogeneity under the names `metan fit` uses (`q`, `q_df`,
/// `q_p_value`, `tau2`, `i2`, `h2`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MetaRegressionFit {
    k: usize,
    p: usize,
    method: Method,
    test: TestKind,
    level: f64,
    int_only: bool,
    int_incl: bool,
    coefficients: Vec<Coefficient>,
    vcov: Vec<Vec<f64>>,
    btt: Vec<usize>,
    qm: f64,
    qm_df: f64,
    qm_df2: Option<f64>,
    qm_p_value: f64,
    r2: Option<f64>,
    tau2: f64,
    tau2_se: Option<f64>,
    tau: f64,
    tau2_fixed: bool,
    i2: f64,
    h2: f64,
    q: f64,
    q_df: f64,
    q_p_value: f64,
    vt: f64,
    tau2_ci_lower: Option<f64>,
    tau2_ci_upper: Option<f64>,
    i2_ci_lower: Option<f64>,
    i2_ci_upper: Option<f64>,
    h2_ci_lower: Option<f64>,
    h2_ci_upper: Option<f64>,
    s2w: f64,
    hat: Vec<f64>,
    fitted: Vec<f64>,
    residuals: Vec<f64>,
    rstandard: Vec<f64>,
    fit_stats: FitStats,
    parms: usize,
    converged: bool,
    convergence: Convergence,
    warnings: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    crit: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    yi: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    vi: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    x: DMatrix<f64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl MetaRegressionFit {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.p
    }
    /// The estimator that produced the fit.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The test of the coefficients.
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// True for a model with an intercept and no moderators.
    pub fn intercept_only(&self) -> bool {
        self.int_only
    }
    /// True when the first coefficient is the intercept.
    pub fn has_intercept(&self) -> bool {
        self.int_incl
    }
    /// The coefficient table.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The coefficient names (columns of the model matrix).
    pub fn names(&self) -> Vec<&str> {
        self.coefficients.iter().map(|c| c.name.as_str()).collect()
    }
    /// The estimates `beta`.
    pub fn beta(&self) -> Vec<f64> {
        self.coefficients.iter().map(|c| c.estimate).collect()
    }
    /// The covariance matrix of `beta` (row-major, p x p; scaled by the Knapp-Hartung factor
    /// for knha/adhoc, as metafor's `vcov`).
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
    /// The coefficients of the omnibus test (1-based, as metafor's `btt`).
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// The omnibus test statistic: chi^2 QM for z tests, the F statistic `QM/m` for t tests.
    pub fn qm(&self) -> f64 {
        self.qm
    }
    /// Degrees of freedom of QM: `(m, None)` for chi^2, `(m, Some(k - p))` for F.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        (self.qm_df, self.qm_df2)
    }
    /// p-value of the omnibus test.
    pub fn qm_p_value(&self) -> f64 {
        self.qm_p_value
    }
    /// R^2 in percent (metafor's pseudo-R^2, `r2def = "1"`); `None` for models without an
    /// intercept or without moderators.
    pub fn r2(&self) -> Option<f64> {
        self.r2
    }
    /// Residual heterogeneity tau^2.
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// Standard error of tau^2.
    pub fn tau2_se(&self) -> Option<f64> {
        self.tau2_se
    }
    /// tau.
    pub fn tau(&self) -> f64 {
        self.tau
    }
    /// True when tau^2 was fixed by the user.
    pub fn tau2_fixed(&self) -> bool {
        self.tau2_fixed
    }
    /// Residual I^2 in percent.
    pub fn i2(&self) -> f64 {
        self.i2
    }
    /// Residual H^2.
    pub fn h2(&self) -> f64 {
        self.h2
    }
    /// QE, the test statistic for residual heterogeneity.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Degrees of freedom of QE (`k - p`).
    pub fn q_df(&self) -> f64 {
        self.q_df
    }
    /// p-value of QE.
    pub fn q_p_value(&self) -> f64 {
        self.q_p_value
    }
    /// metafor's typical within-study variance `vt = (k - p)/tr(P)`.
    pub fn vt(&self) -> f64 {
        self.vt
    }
    /// Q-profile confidence interval of tau^2 (`None` for equal-effects models, fixed tau^2
    /// or `confint(false)`).
    pub fn tau2_ci(&self) -> Option<(f64, f64)> {
        self.tau2_ci_lower.zip(self.tau2_ci_upper)
    }
    /// Confidence interval of I^2.
    pub fn i2_ci(&self) -> Option<(f64, f64)> {
        self.i2_ci_lower.zip(self.i2_ci_upper)
    }
    /// Confidence interval of H^2.
    pub fn h2_ci(&self) -> Option<(f64, f64)> {
        self.h2_ci_lower.zip(self.h2_ci_upper)
    }
    /// The Knapp-Hartung scale factor (1 for z and t tests).
    pub fn s2w(&self) -> f64 {
        self.s2w
    }
    /// Hat values `h_i` (metafor's `hatvalues`).
    pub fn hat(&self) -> &[f64] {
        &self.hat
    }
    /// Fitted values `x_i' beta`.
    pub fn fitted(&self) -> &[f64] {
        &self.fitted
    }
    /// Residuals `y_i - x_i' beta`.
    pub fn residuals(&self) -> &[f64] {
        &self.residuals
    }
    /// Standardized residuals (metafor's `rstandard`, marginal).
    pub fn rstandard(&self) -> &[f64] {
        &self.rstandard
    }
    /// Log-likelihoods, deviances and information criteria.
    pub fn fit_stats(&self) -> &FitStats {
        &self.fit_stats
    }
    /// The number of estimated parameters: `p`, plus 1 when tau^2 is estimated.
    pub fn parms(&self) -> usize {
        self.parms
    }
    /// True when the estimator converged.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Convergence details.
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// The model matrix row of study `i` (zero-based).
    pub fn x_row(&self, i: usize) -> Vec<f64> {
        self.x.row(i).iter().copied().collect()
    }
    pub(crate) fn design_matrix(&self) -> &DMatrix<f64> {
        &self.x
    }
    pub(crate) fn data(&self) -> (&[f64], &[f64]) {
        (&self.yi, &self.vi)
    }
    pub(crate) fn digits(&self) -> usize {
        self.digits
    }

    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }

    /// The predicted value for new moderator values (metafor's `predict(fit, newmods)`):
    /// `newmods` has one value per coefficient other than the intercept (dummy values for
    /// categorical moderators), the intercept being added when the model has one.
    ///
    /// # Formula
    /// `pred = x'beta`, `se = sqrt(x' Var(beta) x)`, CI `pred -/+ crit se`, PI
    /// `pred -/+ crit sqrt(se^2 + tau2)` with the critical value of the model's test.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] for the wrong number of values, and
    /// [`MetaError::InvalidOption`] for a non-finite value.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaRegression, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.3, 0.2, 0.6], vec![0.01, 0.02, 0.01, 0.03])?
    ///     .with_moderator("dose", vec![1.0, 2.0, 3.0, 4.0])?;
    /// let fit = MetaRegression::new().moderator("dose").fit(&s)?;
    /// let at2 = fit.predict(&[2.0])?;
    /// assert!((at2.pred - (fit.beta()[0] + 2.0 * fit.beta()[1])).abs() < 1e-12);
    /// assert!(at2.ci_lower < at2.pred && at2.pred < at2.ci_upper);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn predict(&self, newmods: &[f64]) -> Result<Prediction> {
        let expected = self.p - usize::from(self.int_incl);
        if newmods.len() != expected {
            return Err(MetaError::LengthMismatch {
                field: "newmods".into(),
                expected,
                found: newmods.len(),
            });
        }
        if let Some(bad) = newmods.iter().find(|a| !a.is_finite()) {
            return Err(MetaError::invalid_option(
                "newmods",
                bad,
                "moderator values must be finite",
            ));
        }
        let mut xr = Vec::with_capacity(self.p);
        if self.int_incl {
            xr.push(1.0);
        }
        xr.extend_from_slice(newmods);
        let pred: f64 = xr
            .iter()
            .zip(&self.coefficients)
            .map(|(a, c)| a * c.estimate)
            .sum();
        let mut var = 0.0;
        for i in 0..self.p {
            for j in 0..self.p {
                var += xr[i] * self.vcov[i][j] * xr[j];
            }
        }
        let se = if var >= 0.0 { var.sqrt() } else { f64::NAN };
        let ee = self.method.is_equal_effects();
        let s = (var + self.tau2).sqrt();
        Ok(Prediction {
            pred,
            se,
            ci_lower: pred - self.crit * se,
            ci_upper: pred + self.crit * se,
            pi_lower: (!ee).then_some(pred - self.crit * s),
            pi_upper: (!ee).then_some(pred + self.crit * s),
        })
    }
}
