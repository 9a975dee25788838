//! [`MetaFit`], the fitted model, and its metafor-style `Display`.

use std::fmt;

use super::heterogeneity::Heterogeneity;
use super::method::{Method, TestKind};
use super::tau2::StopReason;
use crate::data::effect_size::{BackTransformed, Measure, Transform};
use crate::error::{MetaError, Result};
use crate::format::{fcf, format_df, print_vector, pval_str, stars};

/// One attempt of the fallback chain.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Attempt {
    /// The estimator tried.
    pub method: Method,
    /// Whether it converged.
    pub converged: bool,
    /// Iterations (Fisher scoring steps or root-finder evaluations; 0 for closed forms).
    pub iterations: usize,
    /// Why it stopped.
    pub reason: StopReason,
}

/// How the tau^2 estimate was obtained: convergence is data, never a panic.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Convergence {
    /// True when the estimator that produced the fit converged.
    pub converged: bool,
    /// Iterations of that estimator.
    pub iterations: usize,
    /// Why it stopped.
    pub reason: StopReason,
    /// Every estimator tried, in order (more than one when a fallback was needed).
    pub attempts: Vec<Attempt>,
}

/// Log-likelihood, deviance and information criteria, under ML and under REML
/// (metafor's `fit.stats`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FitStats {
    /// ML log-likelihood.
    pub ll_ml: f64,
    /// ML deviance (relative to the saturated model).
    pub dev_ml: f64,
    /// ML AIC.
    pub aic_ml: f64,
    /// ML BIC.
    pub bic_ml: f64,
    /// ML AICc.
    pub aicc_ml: f64,
    /// REML log-likelihood.
    pub ll_reml: f64,
    /// REML deviance.
    pub dev_reml: f64,
    /// REML AIC.
    pub aic_reml: f64,
    /// REML BIC.
    pub bic_reml: f64,
    /// REML AICc.
    pub aicc_reml: f64,
}

/// A fitted equal- or random-effects model.
///
/// Built by [`crate::MetaAnalysis::fit`]. Fields are private; read them with the
/// accessors. With the `serde` feature it serializes to the JSON object printed by
/// `metan fit --format json` (undefined values become `null`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaFit {
    pub(crate) k: usize,
    pub(crate) method: Method,
    pub(crate) test: TestKind,
    pub(crate) level: f64,
    pub(crate) estimate: f64,
    pub(crate) se: f64,
    pub(crate) statistic: f64,
    pub(crate) df: Option<f64>,
    pub(crate) p_value: f64,
    pub(crate) ci_lower: f64,
    pub(crate) ci_upper: f64,
    pub(crate) pi_lower: Option<f64>,
    pub(crate) pi_upper: Option<f64>,
    pub(crate) heterogeneity: Heterogeneity,
    pub(crate) weights: Vec<f64>,
    pub(crate) converged: bool,
    pub(crate) iterations: usize,
    pub(crate) fit_stats: FitStats,
    pub(crate) convergence: Convergence,
    pub(crate) warnings: Vec<String>,
    /// The effect-size measure of the studies, when known (omitted from JSON when not).
    pub(crate) measure: Option<Measure>,
    pub(crate) digits: usize,
}

impl MetaFit {
    /// The fit, or [`MetaError::Numerical`] when a reported quantity overflowed (e.g.
    /// effects of 1e300 with variances of 1e-300): a non-finite number is never reported
    /// as a valid result.
    pub(crate) fn checked(self) -> Result<Self> {
        let bad = [
            ("the pooled estimate", self.estimate),
            ("its standard error", self.se),
            ("tau^2", self.heterogeneity.tau2),
        ]
        .into_iter()
        .find(|(_, x)| !x.is_finite())
        .map(|(name, _)| name)
        .or_else(|| (!self.weights.iter().all(|w| w.is_finite())).then_some("the study weights"));
        match bad {
            Some(what) => Err(MetaError::Numerical {
                context: format!(
                    "{} ({} fit): {what} is not finite; rescale the effects and variances",
                    self.method.name(),
                    self.k
                ),
            }),
            None => Ok(self),
        }
    }

    /// Natural log of the two-sided p-value of [`MetaFit::p_value`], finite where the
    /// p-value itself underflows to 0 (|z| beyond about 38.5).
    ///
    /// # Formula
    /// `ln p = ln 2 + ln P(Z > |z|)` (or `ln P(T > |t|)` with the fit's df), with the
    /// normal tail from its Mills-ratio asymptotic series and the t tail from
    /// `I_x(df/2, 1/2) = x^a / (a B(a, 1/2)) 2F1(a, 1/2; a + 1; x)`, `x = df/(df + t^2)`,
    /// once the tail underflows.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies};
    /// // z = 100: the p-value underflows to 0, its log does not
    /// let s = Studies::from_variances(vec![100.0], vec![1.0])?;
    /// let fit = MetaAnalysis::new().method(Method::EE).fit(&s)?;
    /// assert_eq!(fit.p_value(), 0.0);
    /// assert!((fit.log_p_value() - (-5004.831061513645)).abs() < 1e-9);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Abramowitz, M., & Stegun, I. A. (1964). *Handbook of Mathematical Functions*,
    /// 7.1.23 and 26.5.4.
    pub fn log_p_value(&self) -> f64 {
        super::inference::log_p2(self.test, self.statistic, self.df)
    }

    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// The estimator that produced the fit (the first converged one of the chain).
    pub fn method(&self) -> Method {
        self.method
    }
    /// The test used for the pooled estimate (metafor switches to `z` when k = 1).
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// Pooled estimate.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// Standard error of the pooled estimate.
    pub fn se(&self) -> f64 {
        self.se
    }
    /// Test statistic (z or t).
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// Degrees of freedom of the t test; `None` for z.
    pub fn df(&self) -> Option<f64> {
        self.df
    }
    /// Two-sided p-value.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// Confidence interval of the pooled estimate.
    pub fn ci(&self) -> (f64, f64) {
        (self.ci_lower, self.ci_upper)
    }
    /// Prediction interval (metafor's `predict()`); `None` for equal-effects models.
    pub fn pi(&self) -> Option<(f64, f64)> {
        self.pi_lower.zip(self.pi_upper)
    }
    /// tau^2 (0 for equal-effects models): `self.heterogeneity().tau2()`.
    pub fn tau2(&self) -> f64 {
        self.heterogeneity.tau2
    }
    /// The heterogeneity: tau^2 and tau, I^2 and H^2, the Q test, and the interval of tau^2
    /// with its transformations.
    pub fn heterogeneity(&self) -> &Heterogeneity {
        &self.heterogeneity
    }
    /// Study weights in percent (they sum to 100).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// True when the estimator converged.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// Iterations of the estimator.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Convergence details, including every attempt of the fallback chain.
    pub fn convergence(&self) -> &Convergence {
        &self.convergence
    }
    /// Log-likelihoods, deviances and information criteria.
    pub fn fit_stats(&self) -> &FitStats {
        &self.fit_stats
    }
    /// Log-likelihood of the fitted model: REML for REML fits, ML otherwise.
    pub fn log_likelihood(&self) -> f64 {
        if self.method == Method::REML {
            self.fit_stats.ll_reml
        } else {
            self.fit_stats.ll_ml
        }
    }
    /// Warnings metafor would have given (k = 1 test switch, extreme variance ratio, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The effect-size measure of the studies, when they recorded one
    /// ([`crate::Studies::with_measure`]).
    pub fn measure(&self) -> Option<Measure> {
        self.measure
    }

    /// The pooled estimate, its confidence interval and (for random-effects models) its
    /// prediction interval, transformed by `transform` (metafor's
    /// `predict(res, transf = ...)`).
    ///
    /// # Examples
    /// ```
    /// use metan::data::effect_size::Transform;
    /// use metan::{MetaAnalysis, Studies};
    /// let s = Studies::from_variances(vec![-0.5, -0.2, -0.9], vec![0.04, 0.02, 0.09])?;
    /// let fit = MetaAnalysis::new().fit(&s)?;
    /// let or = fit.transformed(Transform::Exp);
    /// assert_eq!(or.estimate, fit.estimate().exp());
    /// assert_eq!(or.ci_lower, fit.ci().0.exp());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn transformed(&self, transform: Transform) -> BackTransformed {
        BackTransformed::new(transform, self.estimate, self.ci(), self.pi())
    }

    /// [`MetaFit::transformed`] with the measure's back-transformation
    /// ([`Measure::back_transform`]): `exp` for log ratio measures, `tanh` for Fisher's z,
    /// the inverse logit for logits, ... `None` when the measure is unknown, or is PFT
    /// (whose inverse needs the sample sizes: call `transformed(Transform::ipft_hm(ni))`).
    pub fn back_transformed(&self) -> Option<BackTransformed> {
        let t = self.measure?.back_transform()?;
        Some(self.transformed(t))
    }

    /// The same fit, printed with `digits` decimals (metafor's `print(x, digits=)`).
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MetaFit {
    /// The JSON object of `metan fit --format json`: the heterogeneity fields flat among the
    /// others, in the order of the first releases (undefined values `null`).
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let h = &self.heterogeneity;
        let b = Heterogeneity::bounds;
        let (t2l, t2u) = b(h.tau2_ci());
        let (tl, tu) = b(h.tau_ci());
        let (il, iu) = b(h.i2_ci());
        let (hl, hu) = b(h.h2_ci());
        let (sl, su) = h.tau2_ci_signs();
        let mut s = serializer.serialize_struct("MetaFit", 41)?;
        s.serialize_field("k", &self.k)?;
        s.serialize_field("method", &self.method)?;
        s.serialize_field("test", &self.test)?;
        s.serialize_field("level", &self.level)?;
        s.serialize_field("estimate", &self.estimate)?;
        s.serialize_field("se", &self.se)?;
        s.serialize_field("statistic", &self.statistic)?;
        s.serialize_field("df", &self.df)?;
        s.serialize_field("p_value", &self.p_value)?;
        s.serialize_field("ci_lower", &self.ci_lower)?;
        s.serialize_field("ci_upper", &self.ci_upper)?;
        s.serialize_field("pi_lower", &self.pi_lower)?;
        s.serialize_field("pi_upper", &self.pi_upper)?;
        h.serialize_flat(&mut s)?;
        s.serialize_field("tau2_ci_lower", &t2l)?;
        s.serialize_field("tau2_ci_upper", &t2u)?;
        s.serialize_field("tau_ci_lower", &tl)?;
        s.serialize_field("tau_ci_upper", &tu)?;
        s.serialize_field("i2_ci_lower", &il)?;
        s.serialize_field("i2_ci_upper", &iu)?;
        s.serialize_field("h2_ci_lower", &hl)?;
        s.serialize_field("h2_ci_upper", &hu)?;
        s.serialize_field("tau2_ci_lower_sign", &sl)?;
        s.serialize_field("tau2_ci_upper_sign", &su)?;
        s.serialize_field("weights", &self.weights)?;
        s.serialize_field("converged", &self.converged)?;
        s.serialize_field("iterations", &self.iterations)?;
        s.serialize_field("vt", &h.vt())?;
        s.serialize_field("fit_stats", &self.fit_stats)?;
        s.serialize_field("convergence", &self.convergence)?;
        s.serialize_field("warnings", &self.warnings)?;
        if let Some(m) = &self.measure {
            s.serialize_field("measure", m)?;
        }
        s.end()
    }
}

impl fmt::Display for MetaFit {
    /// The layout of metafor's `print.rma.uni`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        writeln!(f)?;
        if let Some(name) = self.method.equal_effects_title() {
            writeln!(f, "{name} (k = {})", self.k)?;
        } else if self.heterogeneity.tau2_fixed {
            writeln!(
                f,
                "Random-Effects Model (k = {}; user-specified tau^2 value)",
                self.k
            )?;
        } else {
            writeln!(
                f,
                "Random-Effects Model (k = {}; tau^2 estimator: {})",
                self.k, self.method
            )?;
        }
        writeln!(f)?;
        self.heterogeneity.write(f, d)?;
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        let mut cells: Vec<(&str, String)> =
            vec![("estimate", fcf(self.estimate, d)), ("se", fcf(self.se, d))];
        if let Some(df) = self.df {
            cells.push(("tval", fcf(self.statistic, d)));
            cells.push(("df", format_df(df)));
        } else {
            cells.push(("zval", fcf(self.statistic, d)));
        }
        cells.push(("pval", pval_str(self.p_value, d, false, "")));
        cells.push(("ci.lb", fcf(self.ci_lower, d)));
        cells.push(("ci.ub", fcf(self.ci_upper, d)));
        cells.push(("", stars(self.p_value).to_string()));
        print_vector(f, &cells)?;
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(
            f,
            "Signif. codes:  0 \u{2018}***\u{2019} 0.001 \u{2018}**\u{2019} 0.01 \u{2018}*\u{2019} 0.05 \u{2018}.\u{2019} 0.1 \u{2018} \u{2019} 1"
        )?;
        writeln!(f)?;
        if let (Some(m), Some(bt)) = (self.measure, self.back_transformed()) {
            if !bt.transform.is_identity() {
                write_back_transformed(f, m, &bt, d)?;
            }
        }
        Ok(())
    }
}

/// The back-transformed block printed after the model results when the measure is known:
/// the layout of metafor's `print.rma.mh` (`Model Results (OR scale):`), with the
/// prediction interval of `predict(res, transf = ...)` for random-effects models.
pub(crate) fn write_back_transformed(
    f: &mut fmt::Formatter<'_>,
    measure: Measure,
    bt: &BackTransformed,
    d: usize,
) -> fmt::Result {
    writeln!(f, "Model Results ({} scale):", measure.natural_scale())?;
    writeln!(f)?;
    let mut cells: Vec<(&str, String)> = vec![
        ("estimate", fcf(bt.estimate, d)),
        ("ci.lb", fcf(bt.ci_lower, d)),
        ("ci.ub", fcf(bt.ci_upper, d)),
    ];
    if let (Some(l), Some(u)) = (bt.pi_lower, bt.pi_upper) {
        cells.push(("pi.lb", fcf(l, d)));
        cells.push(("pi.ub", fcf(u, d)));
    }
    print_vector(f, &cells)?;
    writeln!(f)
}
