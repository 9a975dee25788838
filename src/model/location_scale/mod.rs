//! Location-scale meta-regression (Viechtbauer & Lopez-Lopez 2022; metafor's
//! `rma(yi, vi, mods = ~ ..., scale = ~ ...)` with its log link): [`LocationScale`] (the
//! specification) -> [`LocationScale::fit`] -> [`LocationScaleFit`].
//!
//! The model is `y_i = x_i' beta + u_i + e_i`, `u_i ~ N(0, tau2_i)`, `e_i ~ N(0, v_i)` with
//! `ln tau2_i = z_i' alpha`: heterogeneity that depends on study features (the design of a
//! study, its year, its size). `beta` is profiled out by generalized least squares, and the
//! (restricted) log-likelihood of `alpha` is maximised by Newton's method with its exact
//! gradient and Hessian (see `fit`). Where the likelihood keeps increasing as a scale
//! coefficient runs off to infinity (the tau^2 of a group going to 0), the coefficient is
//! reported as being on that boundary, not as a number.
//!
//! * `fit` — the likelihood, its derivatives, the optimiser, the boundary analysis;
//! * `print` — `Display` in metafor's `print.rma.uni` layout for location-scale models.
//!
//! # References
//! * Viechtbauer, W., & Lopez-Lopez, J. A. (2022). Location-scale models for meta-analysis.
//!   *Research Synthesis Methods*, 13, 697-715.
//! * Viechtbauer, W., Lopez-Lopez, J. A., Sanchez-Meca, J., & Marin-Martinez, F. (2015). A
//!   comparison of procedures to test for moderators in mixed-effects meta-regression
//!   models. *Psychological Methods*, 20, 360-374.
//! * Harville, D. A. (1977). Maximum likelihood approaches to variance component estimation
//!   and to related problems. *Journal of the American Statistical Association*, 72,
//!   320-338 (the restricted likelihood and its derivatives).

mod fit;
mod print;

use super::fit::FitStats;
use super::method::{Method, TestKind};
use super::regression::Coefficient;
use super::regression::design::ModSpec;

/// Specification of a location-scale model.
///
/// The location part is a meta-regression (`mods`, with an intercept unless switched off);
/// the scale part models `ln tau2_i` by its own moderators (an intercept and the scale
/// moderators). A name is a numeric moderator of the studies if there is one, otherwise a
/// string attribute, which is categorical and dummy-coded against its reference level
/// (default: the first level in sorted order, as R's factors). Setters are infallible;
/// everything is validated in [`LocationScale::fit`].
///
/// # Examples
///
/// ```
/// use metan::{LocationScale, Method, Studies};
/// // tau^2 differing between two kinds of study (SIMULATED numbers)
/// let s = Studies::from_variances(
///     vec![0.10, 0.95, -0.40, 0.30, 1.30, 0.25, 0.28, 0.33, 0.21, 0.30, 0.26, 0.31],
///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.02, 0.03, 0.02, 0.04, 0.03, 0.02],
/// )?
/// .with_attribute("design", ["qe", "qe", "qe", "qe", "qe", "qe",
///                            "rct", "rct", "rct", "rct", "rct", "rct"])?;
/// let fit = LocationScale::new().scale(["design"]).method(Method::REML).fit(&s)?;
/// assert_eq!(fit.scale_coefficients()[1].name, "designrct");
/// let levels = fit.tau2_levels();
/// assert!(levels[0].tau2 > levels[1].tau2);     // more heterogeneity among the "qe" studies
/// assert!(fit.lrt().unwrap().p_value < 0.05);  // than a constant tau^2 allows
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LocationScale {
    location: Vec<ModSpec>,
    location_refs: Vec<(String, String)>,
    intercept: bool,
    scale: Vec<ModSpec>,
    scale_refs: Vec<(String, String)>,
    method: Method,
    test: TestKind,
    level: f64,
    max_iter: usize,
    digits: usize,
}

impl Default for LocationScale {
    fn default() -> Self {
        Self::new()
    }
}

impl LocationScale {
    /// An intercept in both parts and no moderators yet; REML, z tests, 95% (metafor's
    /// defaults).
    pub fn new() -> Self {
        LocationScale {
            location: Vec::new(),
            location_refs: Vec::new(),
            intercept: true,
            scale: Vec::new(),
            scale_refs: Vec::new(),
            method: Method::REML,
            test: TestKind::Z,
            level: 95.0,
            max_iter: 200,
            digits: 4,
        }
    }

    /// Adds location moderators (metafor's `mods`): numeric moderators of the studies, or
    /// else string attributes (categorical).
    pub fn location<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.location
            .extend(names.into_iter().map(|n| ModSpec::Auto(n.into())));
        self
    }

    /// Adds a categorical location moderator, also when the studies hold it as numbers.
    pub fn location_categorical(mut self, name: impl Into<String>) -> Self {
        self.location.push(ModSpec::Categorical(name.into()));
        self
    }

    /// The reference level of a categorical location moderator.
    pub fn location_reference(
        mut self,
        moderator: impl Into<String>,
        level: impl Into<String>,
    ) -> Self {
        let m = moderator.into();
        self.location_refs.retain(|(n, _)| *n != m);
        self.location_refs.push((m, level.into()));
        self
    }

    /// Whether the location part has an intercept (default true).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// Adds scale moderators (metafor's `scale`): `ln tau2_i = alpha_0 + z_i' alpha`.
    pub fn scale<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.scale
            .extend(names.into_iter().map(|n| ModSpec::Auto(n.into())));
        self
    }

    /// Adds a categorical scale moderator, also when the studies hold it as numbers.
    pub fn scale_categorical(mut self, name: impl Into<String>) -> Self {
        self.scale.push(ModSpec::Categorical(name.into()));
        self
    }

    /// The reference level of a categorical scale moderator.
    pub fn scale_reference(
        mut self,
        moderator: impl Into<String>,
        level: impl Into<String>,
    ) -> Self {
        let m = moderator.into();
        self.scale_refs.retain(|(n, _)| *n != m);
        self.scale_refs.push((m, level.into()));
        self
    }

    /// ML or REML (default REML); any other estimator is an error at fit time.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The tests of the coefficients: z (default), t, Knapp-Hartung or ad hoc (metafor's
    /// `test`; the t-type tests use `k - p` df for the location and `k - q` for the scale
    /// part, Knapp-Hartung scaling the location covariance only).
    pub fn test(mut self, test: TestKind) -> Self {
        self.test = test;
        self
    }

    /// Confidence level in percent (a value below 1 is a proportion).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Maximum Newton iterations (default 200).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Decimals used by `Display` (default 4).
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

/// One row of the scale coefficient table. On a boundary of the likelihood (the tau^2 of
/// some studies going to 0 as the coefficient runs off to infinity) the numbers are `None`
/// and [`ScaleCoefficient::boundary`] says which way it runs.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScaleCoefficient {
    /// Column name: `intrcpt`, a numeric moderator's name, or a categorical moderator's
    /// name followed by the level.
    pub name: String,
    /// Estimate of `alpha_j` (`None` on a boundary).
    pub estimate: Option<f64>,
    /// Standard error from the observed information of the profile likelihood.
    pub se: Option<f64>,
    /// z or t statistic.
    pub statistic: Option<f64>,
    /// Degrees of freedom of the t test (`k - q`); `None` for z.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Lower confidence bound.
    pub ci_lower: Option<f64>,
    /// Upper confidence bound.
    pub ci_upper: Option<f64>,
    /// `Some(-1.0)` or `Some(1.0)` when the likelihood is maximal as the coefficient runs
    /// off to minus or plus infinity (it is flat there: a finite estimate would only say
    /// where an optimiser stopped).
    pub boundary: Option<f64>,
}

/// `tau^2` of one level of a categorical scale moderator (metafor's
/// `predict(fit, newscale = ..., transf = exp)`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScaleLevel {
    /// The moderator.
    pub moderator: String,
    /// The level.
    pub level: String,
    /// Number of studies at this level.
    pub k: usize,
    /// `exp(z' alpha)` (0 on a boundary).
    pub tau2: f64,
    /// Confidence interval of tau^2, `exp(z'alpha -/+ crit se)` (`None` on a boundary).
    pub ci_lower: Option<f64>,
    /// Upper bound.
    pub ci_upper: Option<f64>,
    /// `z' alpha`, the log of tau^2 (`None` on a boundary).
    pub log_tau2: Option<f64>,
    /// Its standard error.
    pub se: Option<f64>,
}

/// A predicted `ln tau^2` for new scale moderator values
/// ([`LocationScaleFit::predict_scale`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScalePrediction {
    /// `z' alpha` (negative infinity when `z` points along a boundary direction).
    pub log_tau2: f64,
    /// `sqrt(z' Var(alpha) z)` (`None` on a boundary).
    pub se: Option<f64>,
    /// `exp(z' alpha)`.
    pub tau2: f64,
    /// Lower confidence bound of tau^2.
    pub ci_lower: Option<f64>,
    /// Upper confidence bound of tau^2.
    pub ci_upper: Option<f64>,
}

/// The likelihood-ratio test of the scale moderators: the model against the same location
/// model with a constant tau^2 (metafor's `anova(fit, fit0)` with `fit0 = rma(..., scale =
/// ~ 1)`; same ML or REML likelihood).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScaleLrt {
    /// `2 (ll - ll0)`.
    pub statistic: f64,
    /// `q - 1`.
    pub df: f64,
    /// chi^2 p-value.
    pub p_value: f64,
    /// Log-likelihood of the constant-tau^2 model.
    pub loglik_reduced: f64,
    /// Its tau^2 (`exp(alpha_0)`; 0 on the boundary).
    pub tau2_reduced: f64,
}

/// Why the optimiser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum ScaleStop {
    /// The Newton decrement `g' H^-1 g` fell below 1e-20 (the log-likelihood is within
    /// 1e-20 of its maximum, the estimates within 1e-10 standard errors).
    Converged,
    /// No step increased the log-likelihood any more (it is maximal to rounding).
    NoAscent,
    /// The iteration limit was reached.
    MaxIterations,
}

/// Convergence of the scale optimiser, as data.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScaleConvergence {
    /// Whether the optimum was reached.
    pub converged: bool,
    /// Newton iterations.
    pub iterations: usize,
    /// Why it stopped.
    pub reason: ScaleStop,
    /// The final Newton decrement `g' (-H)^-1 g` (0 along boundary directions excluded).
    pub decrement: f64,
}

/// A fitted location-scale model.
///
/// Built by [`LocationScale::fit`]. With the `serde` feature it serializes to the JSON of
/// `metan fit --scale ... --format json`: `coefficients` (location), `scale_coefficients`,
/// `loglik`, the omnibus tests (`qm`, `qs`), `lrt`, `tau2_levels`, `fit_stats` and the
/// heterogeneity test (`q`, `q_df`, `q_p_value`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LocationScaleFit {
    k: usize,
    p: usize,
    q_params: usize,
    method: Method,
    test: TestKind,
    level: f64,
    int_only: bool,
    coefficients: Vec<Coefficient>,
    vcov: Vec<Vec<f64>>,
    btt: Vec<usize>,
    qm: Option<f64>,
    qm_df: (f64, Option<f64>),
    qm_p_value: Option<f64>,
    scale_coefficients: Vec<ScaleCoefficient>,
    scale_vcov: Vec<Vec<Option<f64>>>,
    att: Vec<usize>,
    qs: Option<f64>,
    qs_df: (f64, Option<f64>),
    qs_p_value: Option<f64>,
    tau2: Vec<f64>,
    loglik: f64,
    fit_stats: FitStats,
    parms: usize,
    lrt: Option<ScaleLrt>,
    tau2_levels: Vec<ScaleLevel>,
    q: f64,
    q_df: f64,
    q_p_value: f64,
    s2w: f64,
    convergence: ScaleConvergence,
    warnings: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    z_int_incl: bool,
    #[cfg_attr(feature = "serde", serde(skip))]
    crit_scale: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    flat_dirs: Vec<Vec<f64>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
    #[cfg_attr(feature = "serde", serde(skip))]
    alpha_hat: Vec<f64>,
}

impl LocationScaleFit {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of location coefficients `p`.
    pub fn p(&self) -> usize {
        self.p
    }
    /// Number of scale coefficients `q`.
    pub fn q_params(&self) -> usize {
        self.q_params
    }
    /// ML or REML.
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
    /// The location coefficients.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The covariance matrix of the location coefficients (p x p; `(X'WX)^-1`, times the
    /// Knapp-Hartung factor for knha/adhoc, as metafor's `vcov`).
    pub fn vcov(&self) -> &[Vec<f64>] {
        &self.vcov
    }
    /// The location coefficients of the omnibus test QM (1-based).
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// QM, the Wald test of the location moderators (`None` without moderators).
    pub fn qm(&self) -> Option<f64> {
        self.qm
    }
    /// Degrees of freedom of QM: `(m, None)` for chi^2, `(m, Some(k - p))` for F.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        self.qm_df
    }
    /// p-value of QM.
    pub fn qm_p_value(&self) -> Option<f64> {
        self.qm_p_value
    }
    /// The scale coefficients.
    pub fn scale_coefficients(&self) -> &[ScaleCoefficient] {
        &self.scale_coefficients
    }
    /// The covariance matrix of the scale coefficients (q x q, the inverse observed
    /// information of the profile likelihood; `None` for coefficients on a boundary).
    pub fn scale_vcov(&self) -> &[Vec<Option<f64>>] {
        &self.scale_vcov
    }
    /// The scale coefficients of QS (1-based; metafor's `att`).
    pub fn att(&self) -> &[usize] {
        &self.att
    }
    /// QS, the Wald test of the scale moderators over the coefficients that are not on a
    /// boundary (`None` when there are none).
    pub fn qs(&self) -> Option<f64> {
        self.qs
    }
    /// Degrees of freedom of QS.
    pub fn qs_df(&self) -> (f64, Option<f64>) {
        self.qs_df
    }
    /// p-value of QS.
    pub fn qs_p_value(&self) -> Option<f64> {
        self.qs_p_value
    }
    /// The fitted `tau2_i = exp(z_i' alpha)` of each study.
    pub fn tau2(&self) -> &[f64] {
        &self.tau2
    }
    /// The maximised log-likelihood (ML or REML, as fitted).
    pub fn loglik(&self) -> f64 {
        self.loglik
    }
    /// Log-likelihoods, deviances and information criteria under ML and REML (metafor's
    /// `fit.stats`, with `p + q` parameters).
    pub fn fit_stats(&self) -> &FitStats {
        &self.fit_stats
    }
    /// Number of estimated parameters, `p + q`.
    pub fn parms(&self) -> usize {
        self.parms
    }
    /// The likelihood-ratio test against a constant tau^2 (`None` when the scale part is
    /// the intercept alone).
    pub fn lrt(&self) -> Option<&ScaleLrt> {
        self.lrt.as_ref()
    }
    /// tau^2 per level when the scale part is an intercept and one categorical moderator
    /// (empty otherwise; see [`LocationScaleFit::predict_scale`]).
    pub fn tau2_levels(&self) -> &[ScaleLevel] {
        &self.tau2_levels
    }
    /// The test for (residual) heterogeneity QE with inverse-variance weights.
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
    /// The Knapp-Hartung factor of the location covariance (1 for z and t tests).
    pub fn s2w(&self) -> f64 {
        self.s2w
    }
    /// Convergence of the optimiser.
    pub fn convergence(&self) -> &ScaleConvergence {
        &self.convergence
    }
    /// True when the optimiser converged.
    pub fn converged(&self) -> bool {
        self.convergence.converged
    }
    /// Warnings (boundary coefficients, non-convergence).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

#[cfg(test)]
mod tests;
