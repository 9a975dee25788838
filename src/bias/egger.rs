//! Egger-type regression tests for funnel-plot asymmetry (metafor's `regtest`).

use std::fmt;
use std::str::FromStr;

use super::lm::WeightedLm;
use super::slope::fit_slope;
use super::{resolve_method, too_few};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{Coefficient, Method, Settings, TestKind};

/// The predictor of the regression test: a measure of precision or of study size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Predictor {
    /// Standard error `sqrt(v_i)` (Egger's test; the default).
    #[default]
    Sei,
    /// Sampling variance `v_i`.
    Vi,
    /// Sample size `n_i`.
    Ni,
    /// Inverse sample size `1/n_i`.
    NInv,
    /// Square root of the sample size.
    SqrtNi,
    /// Inverse square root of the sample size.
    SqrtNInv,
}

impl Predictor {
    /// metafor's name (`sei`, `vi`, `ni`, `ninv`, `sqrtni`, `sqrtninv`).
    pub fn name(self) -> &'static str {
        match self {
            Predictor::Sei => "sei",
            Predictor::Vi => "vi",
            Predictor::Ni => "ni",
            Predictor::NInv => "ninv",
            Predictor::SqrtNi => "sqrtni",
            Predictor::SqrtNInv => "sqrtninv",
        }
    }

    /// True for the predictors that need sample sizes.
    pub fn needs_sample_sizes(self) -> bool {
        matches!(
            self,
            Predictor::Ni | Predictor::NInv | Predictor::SqrtNi | Predictor::SqrtNInv
        )
    }

    /// True when the intercept is the limit estimate (the predictor tends to 0 as the
    /// studies grow): sei, vi, ninv and sqrtninv.
    pub fn has_limit(self) -> bool {
        matches!(
            self,
            Predictor::Sei | Predictor::Vi | Predictor::NInv | Predictor::SqrtNInv
        )
    }

    const ALL: [Predictor; 6] = [
        Predictor::Sei,
        Predictor::Vi,
        Predictor::Ni,
        Predictor::NInv,
        Predictor::SqrtNi,
        Predictor::SqrtNInv,
    ];
}

impl fmt::Display for Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Predictor {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        Predictor::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MetaError::UnknownName {
                kind: "predictor".into(),
                name: s.to_string(),
                expected: Predictor::ALL.map(Predictor::name).join(", "),
            })
    }
}

/// The model of the regression test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum RegModel {
    /// The meta-analytic model itself, with the predictor as a moderator (metafor's
    /// `model = "rma"`, the default): same estimator, test, level and fixed tau^2.
    #[default]
    Rma,
    /// Weighted least squares with weights `1/v_i` and a multiplicative dispersion
    /// parameter (metafor's `model = "lm"`, Egger et al.'s original test).
    Lm,
}

impl FromStr for RegModel {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rma" => Ok(RegModel::Rma),
            "lm" => Ok(RegModel::Lm),
            _ => Err(MetaError::UnknownName {
                kind: "regression test model".into(),
                name: s.to_string(),
                expected: "rma, lm".into(),
            }),
        }
    }
}

/// Specification of the regression test for funnel-plot asymmetry (metafor's `regtest`).
///
/// # Examples
///
/// ```
/// use metan::{MetaAnalysis, Studies};
/// use metan::bias::{RegModel, RegTest};
/// let s = Studies::from_variances(
///     vec![0.9, 0.5, 0.62, 0.2, 0.35, 0.1, 0.15],
///     vec![0.20, 0.11, 0.15, 0.02, 0.05, 0.01, 0.012],
/// )?;
/// let egger = RegTest::new().run(&MetaAnalysis::new(), &s)?;
/// assert!(egger.statistic() > 0.0);              // small studies, larger effects
/// let (lo, hi) = egger.limit_ci().unwrap();
/// assert!(lo < egger.limit_estimate().unwrap() && egger.limit_estimate().unwrap() < hi);
/// let lm = RegTest::new().model(RegModel::Lm).run(&MetaAnalysis::new(), &s)?;
/// assert_eq!(lm.df(), Some(5.0));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegTest {
    model: RegModel,
    predictor: Predictor,
    ni: Option<Vec<f64>>,
}

impl RegTest {
    /// The `rma` model with the standard error as predictor (metafor's defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// The model: [`RegModel::Rma`] (default) or [`RegModel::Lm`].
    pub fn model(mut self, model: RegModel) -> Self {
        self.model = model;
        self
    }

    /// The predictor (default [`Predictor::Sei`]).
    pub fn predictor(mut self, predictor: Predictor) -> Self {
        self.predictor = predictor;
        self
    }

    /// Sample sizes, one per study, for the predictors `ni`, `ninv`, `sqrtni` and
    /// `sqrtninv` (e.g. [`crate::data::effect_size::EffectSizeTable::ni`]).
    pub fn sample_sizes(mut self, ni: impl Into<Vec<f64>>) -> Self {
        self.ni = Some(ni.into());
        self
    }

    fn predictor_values(&self, studies: &Studies) -> Result<Vec<f64>> {
        let v = studies.vi();
        let k = studies.k();
        if !self.predictor.needs_sample_sizes() {
            return Ok(match self.predictor {
                Predictor::Vi => v.to_vec(),
                Predictor::Sei
                | Predictor::Ni
                | Predictor::NInv
                | Predictor::SqrtNi
                | Predictor::SqrtNInv => v.iter().map(|a| a.sqrt()).collect(),
            });
        }
        let ni = self.ni.as_deref().ok_or_else(|| {
            MetaError::invalid_option(
                "predictor",
                self.predictor,
                "needs sample sizes (RegTest::sample_sizes)",
            )
        })?;
        if ni.len() != k {
            return Err(MetaError::LengthMismatch {
                field: "ni".into(),
                expected: k,
                found: ni.len(),
            });
        }
        if let Some(i) = ni.iter().position(|n| !(n.is_finite() && *n > 0.0)) {
            return Err(MetaError::invalid_value(
                i,
                studies.label(i),
                "ni",
                ni[i],
                "a sample size must be finite and > 0",
            ));
        }
        Ok(ni
            .iter()
            .map(|&n| match self.predictor {
                Predictor::Ni => n,
                Predictor::NInv => 1.0 / n,
                Predictor::SqrtNi => n.sqrt(),
                Predictor::SqrtNInv | Predictor::Sei | Predictor::Vi => 1.0 / n.sqrt(),
            })
            .collect())
    }

    /// Runs the test for the model specified by `spec` (its estimator, test, level and
    /// fixed tau^2, as metafor's `regtest` does for an `rma` fit).
    ///
    /// # Formula
    /// The model `y_i = b0 + b1 x_i + u_i + e_i` with the predictor `x_i`; the test of
    /// funnel-plot asymmetry is the test of `H0: b1 = 0` (z or t, as the model's test; for
    /// `lm`, t on `k - 2` df with the dispersion `sigma^2 = RSS/(k - 2)`). For the
    /// predictors that vanish as the studies grow (sei, vi, ninv, sqrtninv), `b0` is the
    /// limit estimate (the expected effect of an infinitely precise study) with its
    /// confidence interval. With a fallback chain, the estimator is the one that fits the
    /// model without the predictor (metafor uses the fitted model's `method`).
    ///
    /// # Errors
    /// [`MetaError::TooFewStudies`] for `k < 3`; [`MetaError::RankDeficient`] when the
    /// predictor is constant; [`MetaError::InvalidOption`] for a predictor without sample
    /// sizes, or user weights with the `rma` model (not supported with moderators);
    /// [`MetaError::LengthMismatch`] / [`MetaError::InvalidValue`] for bad sample sizes;
    /// the errors of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) for the options; [`MetaError::Numerical`] for a
    /// perfect `lm` fit.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies, TestKind};
    /// use metan::bias::{Predictor, RegTest};
    /// let s = Studies::from_variances(vec![0.4, 0.1, 0.3, 0.2], vec![0.09, 0.01, 0.04, 0.02])?;
    /// let t = RegTest::new()
    ///     .predictor(Predictor::NInv)
    ///     .sample_sizes(vec![40.0, 400.0, 90.0, 200.0])
    ///     .run(&MetaAnalysis::new().method(Method::DL).test(TestKind::Knha), &s)?;
    /// assert_eq!(t.df(), Some(2.0));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Egger, M., Davey Smith, G., Schneider, M., & Minder, C. (1997). Bias in
    /// meta-analysis detected by a simple, graphical test. *BMJ*, 315, 629-634.
    /// Sterne, J. A. C., & Egger, M. (2005). Regression methods to detect publication and
    /// other bias in meta-analysis. In H. R. Rothstein, A. J. Sutton, & M. Borenstein (Eds.),
    /// *Publication bias in meta-analysis* (pp. 99-110). Wiley.
    /// Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    /// *J Stat Softw*, 36(3), 1-48.
    pub fn run(&self, spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<RegTestFit> {
        let spec = spec.checked()?;
        spec.check_data(studies)?;
        let alpha = spec.alpha();
        let k = studies.k();
        if k < 3 {
            return Err(too_few(
                "the regression test for funnel plot asymmetry",
                3,
                k,
            ));
        }
        let x = self.predictor_values(studies)?;
        let xmin = x.iter().cloned().fold(f64::INFINITY, f64::min);
        let xmax = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if xmin == xmax {
            return Err(MetaError::RankDeficient {
                columns: vec![self.predictor.name().to_string()],
            });
        }
        let y = studies.yi();
        let v = studies.vi();
        let name = self.predictor.name();
        match self.model {
            RegModel::Lm => {
                let w: Vec<f64> = v.iter().map(|a| 1.0 / a).collect();
                let lm = WeightedLm::fit(&x, y, &w, alpha, ["intrcpt", name])?;
                Ok(self.finish(lm.coefficients().to_vec(), None, None, alpha, Vec::new()))
            }
            RegModel::Rma => {
                if spec.weights.is_some() {
                    return Err(MetaError::invalid_option(
                        "weights",
                        "given",
                        "user weights are not supported by the rma regression test (use RegModel::Lm)",
                    ));
                }
                let method = resolve_method(&spec, studies)?;
                if method == Method::GENQ {
                    return Err(MetaError::invalid_option(
                        "method",
                        "GENQ",
                        "GENQ needs user weights, which the rma regression test does not support",
                    ));
                }
                let c = fit_slope(&spec.with_method(method), y, v, &x, name)?;
                if !c.converged {
                    return Err(MetaError::NotConverged {
                        method: method.to_string(),
                        iterations: c.iterations,
                        reason: "tau^2 of the regression test model".into(),
                    });
                }
                let df = spec.test().uses_t().then_some((k - 2) as f64);
                let coefficients = (0..2)
                    .map(|j| {
                        let b = &c.coef[j];
                        Coefficient {
                            name: if j == 0 { "intrcpt" } else { name }.to_string(),
                            estimate: b.estimate,
                            se: b.se,
                            statistic: b.statistic,
                            df,
                            p_value: b.p_value,
                            ci_lower: b.estimate - c.crit * b.se,
                            ci_upper: b.estimate + c.crit * b.se,
                        }
                    })
                    .collect();
                Ok(self.finish(
                    coefficients,
                    Some((method, spec.test())),
                    Some(c.tau2),
                    alpha,
                    c.warnings,
                ))
            }
        }
    }

    fn finish(
        &self,
        coefficients: Vec<Coefficient>,
        rma: Option<(Method, TestKind)>,
        tau2: Option<f64>,
        alpha: f64,
        warnings: Vec<String>,
    ) -> RegTestFit {
        let b1 = &coefficients[1];
        let b0 = &coefficients[0];
        let limit = self.predictor.has_limit();
        RegTestFit {
            model: self.model,
            predictor: self.predictor,
            method: rma.map(|m| m.0),
            test: rma.map(|m| m.1),
            level: 100.0 * (1.0 - alpha),
            statistic: b1.statistic,
            df: b1.df,
            p_value: b1.p_value,
            limit_estimate: limit.then_some(b0.estimate),
            limit_ci_lower: limit.then_some(b0.ci_lower),
            limit_ci_upper: limit.then_some(b0.ci_upper),
            tau2,
            coefficients,
            warnings,
        }
    }
}

/// The result of [`RegTest::run`]. With the `serde` feature it serializes with the field
/// names of `metan bias --format json` (`statistic`, `df`, `p_value`, `limit_estimate`,
/// `limit_ci_lower`, `limit_ci_upper`, plus the model details).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RegTestFit {
    statistic: f64,
    df: Option<f64>,
    p_value: f64,
    limit_estimate: Option<f64>,
    limit_ci_lower: Option<f64>,
    limit_ci_upper: Option<f64>,
    model: RegModel,
    predictor: Predictor,
    method: Option<Method>,
    test: Option<TestKind>,
    level: f64,
    tau2: Option<f64>,
    coefficients: Vec<Coefficient>,
    warnings: Vec<String>,
}

impl RegTestFit {
    /// The z or t statistic of the predictor's coefficient (the test of asymmetry).
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// Degrees of freedom of the t test; `None` for a z test.
    pub fn df(&self) -> Option<f64> {
        self.df
    }
    /// Two-sided p-value of the test.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// The limit estimate (the intercept: the expected effect as the predictor tends to 0);
    /// `None` for the predictors `ni` and `sqrtni`.
    pub fn limit_estimate(&self) -> Option<f64> {
        self.limit_estimate
    }
    /// Confidence interval of the limit estimate.
    pub fn limit_ci(&self) -> Option<(f64, f64)> {
        self.limit_ci_lower.zip(self.limit_ci_upper)
    }
    /// The model of the test.
    pub fn model(&self) -> RegModel {
        self.model
    }
    /// The predictor.
    pub fn predictor(&self) -> Predictor {
        self.predictor
    }
    /// The estimator of the `rma` model (`None` for `lm`).
    pub fn method(&self) -> Option<Method> {
        self.method
    }
    /// The test of the `rma` model (`None` for `lm`, whose test is t).
    pub fn test(&self) -> Option<TestKind> {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// Residual tau^2 of the `rma` model (`None` for `lm`).
    pub fn tau2(&self) -> Option<f64> {
        self.tau2
    }
    /// Both coefficients: `intrcpt` and the predictor.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Display for RegTestFit {
    /// The layout of metafor's `print.regtest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::format::{fcf, format_df, pval_str};
        writeln!(f)?;
        writeln!(f, "Regression Test for Funnel Plot Asymmetry")?;
        writeln!(f)?;
        match (self.model, self.method) {
            (RegModel::Rma, Some(m)) if !m.is_equal_effects() => {
                writeln!(f, "Model:     mixed-effects meta-regression model")?
            }
            (RegModel::Rma, _) => writeln!(f, "Model:     fixed-effects meta-regression model")?,
            (RegModel::Lm, _) => writeln!(
                f,
                "Model:     weighted regression with multiplicative dispersion"
            )?,
        }
        let pred = match self.predictor {
            Predictor::Sei => "standard error",
            Predictor::Vi => "sampling variance",
            Predictor::Ni => "sample size",
            Predictor::NInv => "inverse of the sample size",
            Predictor::SqrtNi => "square root sample size",
            Predictor::SqrtNInv => "inverse of the square root sample size",
        };
        writeln!(f, "Predictor: {pred}")?;
        writeln!(f)?;
        match self.df {
            None => writeln!(
                f,
                "Test for Funnel Plot Asymmetry: z = {}, p {}",
                fcf(self.statistic, 4),
                pval_str(self.p_value, 4, true, " ")
            )?,
            Some(df) => writeln!(
                f,
                "Test for Funnel Plot Asymmetry: t = {}, df = {}, p {}",
                fcf(self.statistic, 4),
                format_df(df),
                pval_str(self.p_value, 4, true, " ")
            )?,
        }
        if let (Some(b), Some((lo, hi))) = (self.limit_estimate, self.limit_ci()) {
            let lead = match self.predictor {
                Predictor::Sei => "Limit Estimate (as sei -> 0):   ",
                Predictor::Vi => "Limit Estimate (as vi -> 0):    ",
                Predictor::Ni | Predictor::NInv | Predictor::SqrtNi | Predictor::SqrtNInv => {
                    "Limit Estimate (as ni -> inf):  "
                }
            };
            writeln!(
                f,
                "{lead}b = {} (CI: {}, {})",
                fcf(b, 4),
                fcf(lo, 4),
                fcf(hi, 4)
            )?;
        }
        writeln!(f)
    }
}
