//! [`MetaAnalysis`] (the settings, a builder) -> [`MetaAnalysis::check`] ->
//! [`CheckedMetaAnalysis`] -> [`CheckedMetaAnalysis::fit`] -> [`MetaFit`].

use super::fit::{Attempt, Convergence, FitStats, MetaFit};
use super::genq_ci::genq_interval;
use super::heterogeneity::{Heterogeneity, QTest, i2_h2, q_profile_from};
use super::inference::{Inference, infer};
use super::method::{Method, TestKind};
use super::projection::InterceptOnly;
use super::projection::Projector;
use super::tau2::{self, Control, Data, Interval, Sums, Tau2Estimate};
use crate::data::MAX_VARIANCE;
use std::borrow::Cow;

use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::numeric::logsum::sum_ln_pair;

/// Settings of an equal- or random-effects meta-analysis (a builder).
///
/// Setters are infallible and chain; [`MetaAnalysis::check`] validates every option once and
/// returns the [`CheckedMetaAnalysis`] that fits models and that every analysis built on the
/// model (sensitivity analyses, publication-bias methods) takes through [`Settings`].
/// [`MetaAnalysis::fit`] checks and fits in one call. Defaults follow metafor's `rma()`:
/// REML, z tests, 95% level.
///
/// With the `serde` feature the settings (de)serialize with the setters' names as keys and
/// every key optional (`method` is one name or a fallback chain, e.g.
/// `{ method = "DL", test = "knha" }` in TOML); unknown keys are errors.
///
/// # Examples
///
/// ```
/// use metan::{MetaAnalysis, Method, Studies, TestKind};
/// let studies = Studies::from_variances(
///     vec![-0.89, -1.59, -1.35, -1.44, -0.22, -0.79],
///     vec![0.33, 0.19, 0.42, 0.02, 0.05, 0.01],
/// )?;
/// let fit = MetaAnalysis::new()
///     .method(Method::DL)
///     .test(TestKind::Knha)
///     .level(90.0)
///     .fit(&studies)?;
/// assert!(fit.tau2() > 0.0);
/// assert_eq!(fit.df(), Some(5.0));
///
/// // validated once, used many times
/// let checked = MetaAnalysis::new().level(90.0).check()?;
/// assert_eq!(checked.alpha(), 0.1);
/// let loo = metan::sensitivity::leave_one_out(&checked, &studies)?;
/// assert_eq!(loo.rows().len(), 6);
/// assert!(MetaAnalysis::new().level(120.0).check().is_err());
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MetaAnalysis {
    #[cfg_attr(feature = "serde", serde(rename = "method", with = "one_or_many"))]
    methods: Vec<Method>,
    test: TestKind,
    level: f64,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    tau2: Option<f64>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    weights: Option<Vec<f64>>,
    max_iter: usize,
    tol: f64,
    step_adj: f64,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    tau2_init: Option<f64>,
    confint: bool,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    tau2_max: Option<f64>,
    digits: usize,
}

/// `method`: one name or a list (a fallback chain).
#[cfg(feature = "serde")]
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::model::Method;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Method),
        Many(Vec<Method>),
    }

    pub(super) fn serialize<S: Serializer>(m: &[Method], s: S) -> Result<S::Ok, S::Error> {
        match m {
            [one] => OneOrMany::One(*one),
            many => OneOrMany::Many(many.to_vec()),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Method>, D::Error> {
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(m) => vec![m],
            OneOrMany::Many(v) => v,
        })
    }
}

impl Default for MetaAnalysis {
    fn default() -> Self {
        Self::new()
    }
}

impl MetaAnalysis {
    /// REML, z tests, 95% level, at most 1000 iterations, relative tolerance 1e-12.
    pub fn new() -> Self {
        MetaAnalysis {
            methods: vec![Method::REML],
            test: TestKind::Z,
            level: 95.0,
            tau2: None,
            weights: None,
            max_iter: 1000,
            tol: 1e-12,
            step_adj: 1.0,
            tau2_init: None,
            confint: true,
            tau2_max: None,
            digits: 4,
        }
    }

    /// The model / tau^2 estimator.
    pub fn method(mut self, method: Method) -> Self {
        self.methods = vec![method];
        self
    }

    /// A fallback chain, tried in order until one estimator converges (metafor's
    /// `method = c("REML", "DL")`). An empty chain is rejected by [`MetaAnalysis::check`].
    pub fn methods(mut self, chain: impl IntoIterator<Item = Method>) -> Self {
        self.methods = chain.into_iter().collect();
        self
    }

    /// The test for the pooled estimate.
    pub fn test(mut self, test: TestKind) -> Self {
        self.test = test;
        self
    }

    /// Confidence level in percent (default 95). Like metafor, a value below 1 is read as a
    /// proportion (0.9 means 90%).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Fixes tau^2 at a value (for sensitivity analyses) instead of estimating it.
    pub fn tau2(mut self, tau2: f64) -> Self {
        self.tau2 = Some(tau2);
        self
    }

    /// User weights: required by [`Method::GENQ`], and used for the pooled estimate with
    /// any random-effects method (metafor's `weights` argument).
    pub fn weights(mut self, weights: impl Into<Vec<f64>>) -> Self {
        self.weights = Some(weights.into());
        self
    }

    /// Maximum iterations of Fisher scoring and of the root finders (default 1000).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Relative convergence tolerance on tau^2 (default 1e-12).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Step-length factor of Fisher scoring (metafor's `stepadj`, default 1).
    pub fn step_adj(mut self, step_adj: f64) -> Self {
        self.step_adj = step_adj;
        self
    }

    /// Starting value of ML/REML/EB (default: the truncated Hedges estimate), or tau2_0 of SJ.
    pub fn tau2_init(mut self, tau2: f64) -> Self {
        self.tau2_init = Some(tau2);
        self
    }

    /// Whether to compute the Q-profile confidence intervals of tau^2, I^2 and H^2
    /// (default true).
    pub fn confint(mut self, yes: bool) -> Self {
        self.confint = yes;
        self
    }

    /// Upper end of the interval searched for the Q-profile bounds (metafor's
    /// `confint(control = list(tau2.max = ...))`; default `max(100, 10 tau2)`). A bound beyond
    /// it is reported as this value, flagged by
    /// [`Heterogeneity::tau2_ci_signs`](crate::Heterogeneity::tau2_ci_signs).
    pub fn tau2_max(mut self, tau2_max: f64) -> Self {
        self.tau2_max = Some(tau2_max);
        self
    }

    /// Decimals used by `Display` (default 4).
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }

    /// Validates every option: the one place settings are checked.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] naming the option: a level outside (0, 100) percent, an
    /// empty method chain, a fixed tau^2, `tau2_init` or `tau2_max` that is negative or not
    /// finite, `max_iter = 0`, a tolerance or step factor that is not finite and positive,
    /// GENQ without user weights. The user weights themselves are checked with the studies
    /// they weight ([`CheckedMetaAnalysis::fit`]).
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, MetaError, Method};
    /// let c = MetaAnalysis::new().methods([Method::REML, Method::DL]).check()?;
    /// assert_eq!(c.method(), Method::REML);
    /// assert!(matches!(
    ///     MetaAnalysis::new().method(Method::GENQ).check(),
    ///     Err(MetaError::InvalidOption { .. })
    /// ));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn check(&self) -> Result<CheckedMetaAnalysis> {
        let alpha = alpha_of(self.level)?;
        if self.methods.is_empty() {
            return Err(MetaError::invalid_option(
                "method",
                "[]",
                "the method chain is empty",
            ));
        }
        check_digits(self.digits)?;
        if let Some(t) = self.tau2 {
            if !(t.is_finite() && t >= 0.0) {
                return Err(MetaError::invalid_option(
                    "tau2",
                    t,
                    "a fixed tau^2 must be finite and >= 0",
                ));
            }
            if t > MAX_VARIANCE {
                return Err(MetaError::invalid_option(
                    "tau2",
                    format!("{t:e}"),
                    format!(
                        "a fixed tau^2 must be <= {MAX_VARIANCE:e}, as the sampling variances \
                         (the weights 1/(vi + tau^2) underflow beyond); rescale: divide every \
                         yi by c and every vi and tau^2 by c^2"
                    ),
                ));
            }
        }
        if self.max_iter == 0 {
            return Err(MetaError::invalid_option(
                "max_iter",
                0,
                "must be at least 1",
            ));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(MetaError::invalid_option(
                "tol",
                self.tol,
                "must be finite and > 0",
            ));
        }
        if !(self.step_adj.is_finite() && self.step_adj > 0.0) {
            return Err(MetaError::invalid_option(
                "step_adj",
                self.step_adj,
                "must be finite and > 0",
            ));
        }
        if let Some(t) = self.tau2_max {
            if !(t.is_finite() && t > 0.0) {
                return Err(MetaError::invalid_option(
                    "tau2_max",
                    t,
                    "must be finite and > 0",
                ));
            }
        }
        if let Some(t) = self.tau2_init {
            if !(t.is_finite() && t >= 0.0) {
                return Err(MetaError::invalid_option(
                    "tau2_init",
                    t,
                    "must be finite and >= 0",
                ));
            }
        }
        if self.weights.is_none() && self.methods.contains(&Method::GENQ) {
            return Err(MetaError::invalid_option(
                "weights",
                "none",
                "method GENQ needs user weights (MetaAnalysis::weights)",
            ));
        }
        Ok(CheckedMetaAnalysis {
            methods: self.methods.clone(),
            test: self.test,
            level: if self.level > 1.0 {
                self.level
            } else {
                100.0 * self.level
            },
            alpha,
            weights: self.weights.clone(),
            control: Control {
                fixed: self.tau2,
                max_iter: self.max_iter,
                tol: self.tol,
                step_adj: self.step_adj,
                tau2_init: self.tau2_init,
                warm: None,
                scoring_warm: false,
                se: true,
            },
            confint: self.confint,
            tau2_max: self.tau2_max,
            digits: self.digits,
        })
    }

    /// Checks the settings and fits the model to `studies`
    /// ([`MetaAnalysis::check`], then [`CheckedMetaAnalysis::fit`]).
    ///
    /// # Errors
    /// Those of [`MetaAnalysis::check`] and [`CheckedMetaAnalysis::fit`].
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.01, 0.02, 0.015])?;
    /// let ee = MetaAnalysis::new().method(Method::EE).fit(&s)?;
    /// let re = MetaAnalysis::new().fit(&s)?;
    /// assert!(re.se() >= ee.se());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn fit(&self, studies: &Studies) -> Result<MetaFit> {
        self.check()?.fit(studies)
    }
}

/// `alpha` of a confidence level in percent (or, below 1, as a proportion).
pub(crate) fn alpha_of(l: f64) -> Result<f64> {
    let alpha = if l > 1.0 {
        (100.0 - l) / 100.0
    } else {
        1.0 - l
    };
    if !(l.is_finite() && l > 0.0 && l < 100.0 && alpha > 0.0 && alpha < 1.0) {
        return Err(MetaError::invalid_option(
            "level",
            l,
            "must be in (0, 100) percent",
        ));
    }
    Ok(alpha)
}

/// Validated settings of a meta-analysis ([`MetaAnalysis::check`]): what fits models and
/// what every analysis built on the model takes. With the `serde` feature it serializes as
/// the [`MetaAnalysis`] it came from.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(into = "MetaAnalysis"))]
pub struct CheckedMetaAnalysis {
    /// The estimator chain (never empty).
    pub(crate) methods: Vec<Method>,
    pub(crate) test: TestKind,
    /// The level in percent, as given.
    pub(crate) level: f64,
    pub(crate) alpha: f64,
    pub(crate) weights: Option<Vec<f64>>,
    /// Fixed tau^2 and the iteration control.
    pub(crate) control: Control,
    pub(crate) confint: bool,
    pub(crate) tau2_max: Option<f64>,
    pub(crate) digits: usize,
}

/// Settings an analysis can take: [`MetaAnalysis`] (checked when used) or
/// [`CheckedMetaAnalysis`] (checked already).
pub trait Settings {
    /// The validated settings.
    ///
    /// # Errors
    /// Those of [`MetaAnalysis::check`].
    fn checked(&self) -> Result<Cow<'_, CheckedMetaAnalysis>>;
}

impl Settings for MetaAnalysis {
    fn checked(&self) -> Result<Cow<'_, CheckedMetaAnalysis>> {
        self.check().map(Cow::Owned)
    }
}

impl Settings for CheckedMetaAnalysis {
    fn checked(&self) -> Result<Cow<'_, CheckedMetaAnalysis>> {
        Ok(Cow::Borrowed(self))
    }
}

impl From<CheckedMetaAnalysis> for MetaAnalysis {
    /// The settings a check returned `c`.
    fn from(c: CheckedMetaAnalysis) -> Self {
        MetaAnalysis {
            methods: c.methods,
            test: c.test,
            level: c.level,
            tau2: c.control.fixed,
            weights: c.weights,
            max_iter: c.control.max_iter,
            tol: c.control.tol,
            step_adj: c.control.step_adj,
            tau2_init: c.control.tau2_init,
            confint: c.confint,
            tau2_max: c.tau2_max,
            digits: c.digits,
        }
    }
}

impl CheckedMetaAnalysis {
    /// The estimator, or the first of the fallback chain.
    pub fn method(&self) -> Method {
        self.methods[0]
    }
    /// The estimator chain (one method unless a fallback chain was set).
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }
    /// The test for the pooled estimate.
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// `1 - level`: 0.05 for 95% intervals.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// The confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The fixed tau^2, if any.
    pub fn fixed_tau2(&self) -> Option<f64> {
        self.control.fixed
    }
    /// The user weights, if any.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }
    /// Decimals used by `Display`.
    pub fn digits(&self) -> usize {
        self.digits
    }

    /// The same settings with one estimator (e.g. the one a fallback chain settled on).
    pub(crate) fn with_method(&self, method: Method) -> Self {
        CheckedMetaAnalysis {
            methods: vec![method],
            ..self.clone()
        }
    }

    /// Checks what depends on the data: the user weights, one finite positive weight per
    /// study.
    pub(crate) fn check_data(&self, studies: &Studies) -> Result<()> {
        studies.check_range()?;
        if let Some(w) = &self.weights {
            if w.len() != studies.k() {
                return Err(MetaError::LengthMismatch {
                    field: "weights".into(),
                    expected: studies.k(),
                    found: w.len(),
                });
            }
            if let Some(i) = w.iter().position(|a| !(a.is_finite() && *a > 0.0)) {
                return Err(MetaError::invalid_value(
                    i,
                    studies.label(i),
                    "weights",
                    w[i],
                    "a weight must be finite and > 0",
                ));
            }
            if let Some(i) = w
                .iter()
                .position(|a| !(MIN_WEIGHT..=MAX_WEIGHT).contains(a))
            {
                return Err(MetaError::invalid_value(
                    i,
                    studies.label(i),
                    "weights",
                    format!("{:e}", w[i]),
                    format!(
                        "outside the numerical range of a weight ({MIN_WEIGHT:e} <= w <= \
                         {MAX_WEIGHT:e}: the squared weights overflow or underflow double \
                         precision); rescale the weights (only their ratios matter)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The estimator control of these settings (with standard errors).
    pub(crate) fn control(&self) -> Control {
        self.control
    }

    /// Runs the fallback chain: the first estimator that converges wins; otherwise the last
    /// one with a finite tau^2 (reported with `converged == false`).
    ///
    /// # Errors
    /// [`MetaError::NotConverged`] when no estimator produced a finite tau^2.
    pub(crate) fn run_chain(
        &self,
        mut estimate: impl FnMut(Method) -> Tau2Estimate,
    ) -> Result<(Method, Tau2Estimate, Vec<Attempt>)> {
        let mut attempts = Vec::new();
        let mut chosen: Option<(Method, Tau2Estimate)> = None;
        let mut last: Option<(Method, Tau2Estimate)> = None;
        for &m in &self.methods {
            let est = estimate(m);
            attempts.push(Attempt {
                method: m,
                converged: est.converged,
                iterations: est.iterations,
                reason: est.reason,
            });
            if est.converged {
                chosen = Some((m, est));
                break;
            }
            if est.tau2.is_finite() {
                last = Some((m, est));
            }
        }
        match chosen.or(last) {
            Some((m, est)) => Ok((m, est, attempts)),
            None => {
                let a = attempts.last();
                Err(MetaError::NotConverged {
                    method: a.map(|a| a.method.to_string()).unwrap_or_default(),
                    iterations: a.map(|a| a.iterations).unwrap_or(0),
                    reason: a
                        .map_or_else(|| "no estimator was tried".into(), |a| a.reason.to_string()),
                })
            }
        }
    }

    /// Fits the model to `studies`.
    ///
    /// # Formula
    /// With `w_i = 1/(v_i + tau2)` (or the user weights `a_i`):
    /// `mu = sum(w y)/sum(w)`, `SE = sqrt(1/sum(w))` (`sqrt(sum(a^2 (v + tau2)))/sum(a)`
    /// with user weights). Knapp-Hartung multiplies the variance by
    /// `s2 = sum(w (y - mu)^2)/(k - 1)` (`max(1, s2)` for `adhoc`) and uses t(k - 1).
    /// The prediction interval is `mu -/+ crit sqrt(SE^2 + tau2)` with the CI's critical value.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] / [`MetaError::InvalidValue`] when the user weights are
    /// not one finite positive weight per study, and
    /// [`MetaError::NotConverged`] only when no estimator of the chain produced a finite
    /// tau^2 at all. A fit whose estimator hit the iteration limit is returned with
    /// `converged() == false`.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.01, 0.02, 0.015])?;
    /// let ee = MetaAnalysis::new().method(Method::EE).check()?.fit(&s)?;
    /// let re = MetaAnalysis::new().check()?.fit(&s)?;
    /// assert!(re.se() >= ee.se());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    /// *Journal of Statistical Software*, 36(3), 1-48. Knapp, G., & Hartung, J. (2003).
    /// Improved tests for a random effects meta-regression with a single covariate.
    /// *Statistics in Medicine*, 22, 2693-2710.
    pub fn fit(&self, studies: &Studies) -> Result<MetaFit> {
        self.check_data(studies)?;
        let alpha = self.alpha;
        let y = studies.yi();
        let v = studies.vi();
        let k = studies.k();
        let mut warnings = Vec::new();
        let (vmin, vmax) = studies.v_range();
        if vmax / vmin >= 1e7 {
            // metafor warns at 1/evtol = 1e7
            warnings.push("Ratio of largest to smallest sampling variance extremely large. May not be able to obtain stable results.".to_string());
        }
        let mut test = self.test;
        if k == 1 && test != TestKind::Z {
            warnings.push("Setting argument test=\"z\" since k=1.".to_string());
            test = TestKind::Z;
        }
        let model = InterceptOnly { y, v };
        let data = Data {
            model: &model,
            weights: self.weights.as_deref(),
        };

        // tau^2, through the fallback chain
        let ctrl = self.control();
        let (method, est, attempts) = self.run_chain(|m| tau2::estimate(m, &data, &ctrl))?;
        if !est.converged {
            warnings.push(format!(
                "{method} did not converge after {} iterations; the last iterate is reported.",
                est.iterations
            ));
        }
        let ee = method.is_equal_effects();
        let tau2 = if ee { 0.0 } else { est.tau2 };
        let tau2_fixed = !ee && self.control.fixed.is_some();

        // The sums with w = 1/v (Cochran's Q) and with w = 1/(v + tau2) (the estimate), from
        // the estimator's passes when it made them, else one pass each (each centred at the
        // previous weighted mean).
        let mut centre = f64::NAN;
        let zero = match est.sums_at(0.0) {
            Some(a) if a.sums.q.is_finite() && a.sums.trp.is_finite() => *a,
            _ => data.near_logdet(0.0, &mut centre),
        };
        if zero.mean.is_finite() {
            centre = zero.mean;
        }
        let at = match est.sums_at(tau2) {
            Some(a) if a.mean.is_finite() && a.sums.q.is_finite() => *a,
            _ if tau2 == 0.0 && zero.mean.is_finite() => zero,
            _ => data.near_logdet(tau2, &mut centre),
        };

        let Inference {
            estimate,
            se,
            statistic,
            df,
            p_value,
            ci,
            pi,
            weights,
            rss,
            sw_iv,
        } = infer(
            y,
            v,
            tau2,
            (at.mean, at.sums.sw, at.sums.q),
            self.weights.as_deref(),
            test,
            alpha,
            !ee,
        );

        // heterogeneity
        let qt = if k <= 1 {
            QTest::none()
        } else {
            QTest::from_sums(model.df(), &zero.sums)
        };
        let (i2, h2) = i2_h2(&qt, (!ee).then_some(tau2));

        // Q-profile interval (metafor's confint)
        let mut ci_t = None;
        if self.confint && !ee && !tau2_fixed && k >= 2 {
            let tau2_max = self.tau2_max.unwrap_or_else(|| 100f64.max(10.0 * tau2));
            ci_t = match (tau2::interval(method), self.weights.as_deref()) {
                (Interval::GeneralizedQ, Some(a)) => genq_interval(y, v, a, alpha, tau2_max),
                (Interval::GeneralizedQ, None) | (Interval::None, _) => None,
                (Interval::QProfile, _) => {
                    let known = [zero, at].map(|a| (a.tau2, a.sums.q, a.sums.ypp, a.mean));
                    q_profile_from(&model, alpha, tau2_max, Some(tau2), &known, Some(vmax))
                }
            };
            if ci_t.is_none() {
                warnings.push(format!(
                    "The {} confidence interval for tau^2 could not be computed.",
                    if tau2::interval(method) == Interval::GeneralizedQ {
                        "generalized Q"
                    } else {
                        "Q-profile"
                    }
                ));
            }
        }
        let logs = est.log_sums.and_then(|l| l.at(tau2));
        let fit_stats = fit_stats_design(
            v,
            1,
            tau2,
            rss,
            (k as f64).ln(),
            sw_iv.ln(),
            !ee && !tau2_fixed,
            logs,
        );

        MetaFit {
            k,
            method,
            test,
            level: 100.0 * (1.0 - alpha),
            estimate,
            se,
            statistic,
            df,
            p_value,
            ci_lower: ci.0,
            ci_upper: ci.1,
            pi_lower: pi.map(|p| p.0),
            pi_upper: pi.map(|p| p.1),
            heterogeneity: Heterogeneity {
                tau2,
                tau2_se: if ee || k == 1 { None } else { est.se },
                tau2_fixed,
                i2,
                h2,
                r2: None,
                q: qt,
                tau2_ci: ci_t,
                equal_effects: ee,
                residual: false,
            },
            weights,
            converged: est.converged,
            iterations: est.iterations,
            fit_stats,
            convergence: Convergence {
                converged: est.converged,
                iterations: est.iterations,
                reason: est.reason,
                attempts,
            },
            warnings,
            measure: studies.measure(),
            digits: self.digits,
        }
        .checked()
    }
}

/// metafor's `fit.stats`: log-likelihoods, deviances and information criteria of a model
/// with `p` fixed effects.
///
/// # Formula
/// `ll_ML = -k/2 log(2 pi) - 1/2 sum log(v + tau2) - 1/2 RSS`;
/// `ll_REML = -(k-p)/2 log(2 pi) + 1/2 log det(X'X) - 1/2 sum log(v + tau2)
///  - 1/2 log det(X'WX) - 1/2 RSS` (`det(X'X) = k`, `det(X'WX) = sum(w)` without moderators),
/// with `RSS = sum w (y - X beta)^2`; `AIC = -2 ll + 2 m`, `BIC = -2 ll + m log(n)`,
/// `AICc = -2 ll + 2 m n/(n - m - 1)` (`n = k` for ML, `k - p` for REML,
/// `m = p + [tau2 estimated]`). `logs` are `(sum ln(v + tau2), sum ln(v))` when already known.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_stats_design(
    v: &[f64],
    p: usize,
    tau2: f64,
    rss: f64,
    logdet_xx: f64,
    logdet_xwx: f64,
    tau2_estimated: bool,
    logs: Option<(f64, f64)>,
) -> FitStats {
    let k = v.len() as f64;
    let p = p as f64;
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let (logdet, ln_v) = logs.unwrap_or_else(|| sum_ln_pair(v, tau2));
    let sat = -0.5 * (k * ln2pi + ln_v);
    let ll_ml = -0.5 * k * ln2pi - 0.5 * logdet - 0.5 * rss;
    let ll_reml =
        -0.5 * (k - p) * ln2pi + 0.5 * logdet_xx - 0.5 * logdet - 0.5 * logdet_xwx - 0.5 * rss;
    let m = p + if tau2_estimated { 1.0 } else { 0.0 };
    let dev_ml = if k > p { -2.0 * (ll_ml - sat) } else { 0.0 };
    let aicc = |ll: f64, n: f64| {
        let nn = n.max(m + 2.0);
        -2.0 * ll + 2.0 * m * nn / (nn - m - 1.0)
    };
    FitStats {
        ll_ml,
        dev_ml,
        aic_ml: -2.0 * ll_ml + 2.0 * m,
        bic_ml: -2.0 * ll_ml + m * k.ln(),
        aicc_ml: aicc(ll_ml, k),
        ll_reml,
        dev_reml: -2.0 * ll_reml,
        aic_reml: -2.0 * ll_reml + 2.0 * m,
        bic_reml: -2.0 * ll_reml + m * (k - p).ln(),
        aicc_reml: aicc(ll_reml, k - p),
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Settings round-trip through TOML/JSON; `method` is a name or a chain; omitted keys
    /// take the defaults; unknown keys and invalid values are errors (the latter at check).
    #[test]
    fn settings_serialize_as_the_setters() {
        let m: MetaAnalysis = toml::from_str("method = \"DL\"\ntest = \"knha\"").unwrap();
        assert_eq!(
            m,
            MetaAnalysis::new().method(Method::DL).test(TestKind::Knha)
        );
        let chain: MetaAnalysis =
            serde_json::from_str(r#"{"method": ["REML", "DL"], "level": 90, "tau2_max": 50}"#)
                .unwrap();
        let c = chain.check().unwrap();
        assert_eq!(c.methods(), &[Method::REML, Method::DL]);
        assert_eq!((c.level(), c.alpha()), (90.0, 0.1));
        let back: MetaAnalysis = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, chain);
        assert_eq!(MetaAnalysis::from(c), chain);
        assert!(serde_json::from_str::<MetaAnalysis>(r#"{"methd": "DL"}"#).is_err());
        let bad: MetaAnalysis = serde_json::from_str(r#"{"level": 150}"#).unwrap();
        assert!(matches!(bad.check(), Err(MetaError::InvalidOption { .. })));
    }
}

/// Most decimals the text output (`Display`) prints: R's limit for printed digits
/// (`options(digits = 22)`). A larger `digits` option of a model is an error
/// ([`MetaError::InvalidOption`] naming `digits`); a fitted result's `with_digits` prints at
/// most this many.
pub const MAX_DIGITS: usize = 22;
/// Smallest user weight ([`MetaAnalysis::weights`]) accepted; only the ratios of the weights
/// matter, so weights outside `[1e-100, 1e100]` are rescaled by the user.
pub(crate) const MIN_WEIGHT: f64 = 1e-100;
/// Largest user weight accepted (see [`MIN_WEIGHT`]).
pub(crate) const MAX_WEIGHT: f64 = 1e100;

/// `digits` (option `digits`) is at most [`MAX_DIGITS`].
pub(crate) fn check_digits(digits: usize) -> Result<()> {
    if digits > MAX_DIGITS {
        return Err(MetaError::invalid_option(
            "digits",
            digits,
            format!("must be at most {MAX_DIGITS} (R prints at most 22 digits)"),
        ));
    }
    Ok(())
}
