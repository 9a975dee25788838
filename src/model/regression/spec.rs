//! The settings of a meta-regression: [`MetaRegression`] (moderators, coding, the tested
//! coefficients, and the [`MetaAnalysis`] settings), checked once in [`MetaRegression::fit`].

use super::MetaRegressionFit;
use super::design::{Design, ModSpec, build};
use super::fit::core_fit;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::analysis::{CheckedMetaAnalysis, MetaAnalysis};
use crate::model::method::{Method, TestKind};

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
/// assert!(fit.heterogeneity().r2().unwrap() > 50.0); // latitude explains most heterogeneity
/// let knha = MetaRegression::new().moderator("ablat").method(Method::DL)
///     .test(TestKind::Knha).fit(&s)?;
/// assert_eq!(knha.qm_df(), (1.0, Some(11.0)));         // F(1, k - p)
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MetaRegression {
    pub(super) spec: MetaAnalysis,
    pub(super) mods: Vec<ModSpec>,
    pub(super) references: Vec<(String, String)>,
    pub(super) intercept: bool,
    pub(super) btt: Option<Vec<usize>>,
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

    /// Validates the estimation options ([`MetaAnalysis::check`]) and what
    /// meta-regression does not support (user weights, hence GENQ).
    pub(crate) fn check(&self) -> Result<CheckedMetaAnalysis> {
        let genq = || {
            MetaError::invalid_option(
                "method",
                "GENQ",
                "GENQ needs user weights, which meta-regression does not support",
            )
        };
        let c = self.spec.check().map_err(|e| match e {
            MetaError::InvalidOption { option, .. } if option == "weights" => genq(),
            e => e,
        })?;
        if c.weights.is_some() {
            return Err(MetaError::invalid_option(
                "weights",
                "given",
                "user weights are not supported for meta-regression",
            ));
        }
        if c.methods.contains(&Method::GENQ) {
            return Err(genq());
        }
        Ok(c)
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
        let spec = self.check()?;
        studies.check_range()?;
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
        let core = core_fit(&spec, &d.x, d.int_only, y, v, &btt)?;
        self.finish(&spec, studies, d, btt, core)
    }
}
