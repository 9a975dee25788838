//! [`MetaAnalysis`]: the model specification (a builder), and `fit`.

use super::fit::{Attempt, Convergence, FitStats, MetaFit};
use super::genq_ci::genq_interval;
use super::heterogeneity::{i2_h2, q_profile, q_test};
use super::inference::{Inference, infer};
use super::method::{Method, TestKind};
use super::projection::{InterceptOnly, Projector};
use super::tau2::{self, Control, Input, Scoring, StopReason, Tau2Estimate};
use crate::data::MAX_VARIANCE;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::numeric::logsum::sum_ln;

/// Specification of an equal- or random-effects meta-analysis.
///
/// Setters are infallible and chain; every option is validated once, in
/// [`MetaAnalysis::fit`]. Defaults follow metafor's `rma()`: REML, z tests, 95% level.
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
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MetaAnalysis {
    pub(crate) methods: Vec<Method>,
    pub(crate) test: TestKind,
    pub(crate) level: f64,
    pub(crate) tau2: Option<f64>,
    pub(crate) weights: Option<Vec<f64>>,
    pub(crate) max_iter: usize,
    pub(crate) tol: f64,
    pub(crate) step_adj: f64,
    pub(crate) tau2_init: Option<f64>,
    pub(crate) confint: bool,
    pub(crate) tau2_max: Option<f64>,
    pub(crate) digits: usize,
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
    /// `method = c("REML", "DL")`). An empty chain is rejected by `fit`.
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
    /// it is reported as this value, flagged by [`MetaFit::tau2_ci_signs`].
    pub fn tau2_max(mut self, tau2_max: f64) -> Self {
        self.tau2_max = Some(tau2_max);
        self
    }

    /// Decimals used by `Display` (default 4).
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }

    pub(crate) fn alpha(&self) -> Result<f64> {
        let l = self.level;
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

    pub(crate) fn validate(&self, studies: &Studies) -> Result<f64> {
        let alpha = self.alpha()?;
        studies.check_range()?;
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
        } else if self.methods.contains(&Method::GENQ) {
            return Err(MetaError::invalid_option(
                "weights",
                "none",
                "method GENQ needs user weights (MetaAnalysis::weights)",
            ));
        }
        Ok(alpha)
    }

    pub(crate) fn estimate<M: Projector>(&self, method: Method, inp: &Input<M>) -> Tau2Estimate {
        let ctrl = Control {
            max_iter: self.max_iter,
            tol: self.tol,
            step_adj: self.step_adj,
            tau2_init: self.tau2_init,
        };
        match method {
            Method::EE | Method::FE | Method::CE => Tau2Estimate {
                tau2: 0.0,
                se: None,
                iterations: 0,
                converged: true,
                reason: StopReason::ClosedForm,
                log_sums: None,
            },
            Method::DL => tau2::dl(inp),
            Method::HE => tau2::he(inp),
            Method::HS => tau2::hs(inp, false),
            Method::HSk => tau2::hs(inp, true),
            Method::SJ => tau2::sj(inp, self.tau2_init),
            Method::GENQ => match inp.weights {
                Some(a) => tau2::genq(inp, a),
                None => Tau2Estimate {
                    tau2: f64::NAN,
                    se: None,
                    iterations: 0,
                    converged: false,
                    reason: StopReason::NonFinite,
                    log_sums: None,
                },
            },
            Method::ML => tau2::fisher_scoring(inp, &ctrl, Scoring::Ml),
            Method::REML => tau2::fisher_scoring(inp, &ctrl, Scoring::Reml),
            Method::EB => tau2::fisher_scoring(inp, &ctrl, Scoring::Eb),
            Method::PM => tau2::pm(inp, &ctrl, false),
            Method::PMM => tau2::pm(inp, &ctrl, true),
        }
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
    /// [`MetaError::InvalidOption`] for an invalid option (level, fixed tau^2, empty chain,
    /// GENQ without weights), [`MetaError::LengthMismatch`] / [`MetaError::InvalidValue`] for
    /// bad weights, and [`MetaError::NotConverged`] only when no estimator of the chain
    /// produced a finite tau^2 at all. A fit whose estimator hit the iteration limit is
    /// returned with `converged() == false`.
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
    ///
    /// # References
    /// Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    /// *Journal of Statistical Software*, 36(3), 1-48. Knapp, G., & Hartung, J. (2003).
    /// Improved tests for a random effects meta-regression with a single covariate.
    /// *Statistics in Medicine*, 22, 2693-2710.
    pub fn fit(&self, studies: &Studies) -> Result<MetaFit> {
        let alpha = self.validate(studies)?;
        let y = studies.yi();
        let v = studies.vi();
        let k = studies.k();
        let mut warnings = Vec::new();
        let (vmin, vmax) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
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
        let inp = Input {
            model: &model,
            weights: self.weights.as_deref(),
            fixed: self.tau2,
        };

        // tau^2, through the fallback chain
        let (method, est, attempts) = self.run_chain(|m| {
            if k == 1 && !m.is_equal_effects() {
                // metafor's "k1" case: no estimation, tau^2 = 0 unless fixed
                Tau2Estimate {
                    tau2: self.tau2.unwrap_or(0.0),
                    se: None,
                    iterations: 0,
                    converged: true,
                    reason: if self.tau2.is_some() {
                        StopReason::Fixed
                    } else {
                        StopReason::Boundary
                    },
                    log_sums: None,
                }
            } else {
                self.estimate(m, &inp)
            }
        })?;
        if !est.converged {
            warnings.push(format!(
                "{method} did not converge after {} iterations; the last iterate is reported.",
                est.iterations
            ));
        }
        let ee = method.is_equal_effects();
        let tau2 = if ee { 0.0 } else { est.tau2 };
        let tau2_fixed = !ee && self.tau2.is_some();

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
        } = infer(y, v, tau2, self.weights.as_deref(), test, alpha, !ee);

        // heterogeneity
        let qt = q_test(&model);
        let (i2, h2) = i2_h2(&qt, (!ee).then_some(tau2));

        // Q-profile interval (metafor's confint)
        let mut ci_t = None;
        if self.confint && !ee && !tau2_fixed && k >= 2 {
            let tau2_max = self.tau2_max.unwrap_or_else(|| 100f64.max(10.0 * tau2));
            ci_t = match (method, self.weights.as_deref()) {
                (Method::GENQ, Some(a)) => genq_interval(y, v, a, alpha, tau2_max),
                _ => q_profile(&model, alpha, tau2_max, Some(tau2)),
            };
            if ci_t.is_none() {
                warnings.push(format!(
                    "The {} confidence interval for tau^2 could not be computed.",
                    if method == Method::GENQ {
                        "generalized Q"
                    } else {
                        "Q-profile"
                    }
                ));
            }
        }
        let tr = |f: &dyn Fn(f64) -> f64| ci_t.map(|c| (f(c.tau2.0), f(c.tau2.1)));
        let tau2_ci = tr(&|t| t);
        let tau_ci = tr(&|t: f64| t.sqrt());
        let vt = qt.vt;
        let i2_ci = tr(&|t| 100.0 * t / (vt + t));
        let h2_ci = tr(&|t| t / vt + 1.0);

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
            tau2,
            tau2_se: if ee || k == 1 { None } else { est.se },
            tau: tau2.sqrt(),
            tau2_fixed,
            i2,
            h2,
            q: qt.q,
            q_df: qt.df,
            q_p_value: qt.p_value,
            tau2_ci_lower: tau2_ci.map(|c| c.0),
            tau2_ci_upper: tau2_ci.map(|c| c.1),
            tau_ci_lower: tau_ci.map(|c| c.0),
            tau_ci_upper: tau_ci.map(|c| c.1),
            i2_ci_lower: i2_ci.map(|c| c.0),
            i2_ci_upper: i2_ci.map(|c| c.1),
            h2_ci_lower: h2_ci.map(|c| c.0),
            h2_ci_upper: h2_ci.map(|c| c.1),
            tau2_ci_lower_sign: ci_t.and_then(|c| sign(c.signs.0)),
            tau2_ci_upper_sign: ci_t.and_then(|c| sign(c.signs.1)),
            weights,
            converged: est.converged,
            iterations: est.iterations,
            vt,
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

fn sign(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
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
    let (logdet, ln_v) = logs.unwrap_or_else(|| {
        (
            sum_ln(v.iter().map(|vi| vi + tau2)),
            sum_ln(v.iter().copied()),
        )
    });
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

/// Read access for the sensitivity analyses, which refit the same specification on subsets.
impl MetaAnalysis {
    /// Validates the specification against `studies`; returns `alpha`.
    pub(crate) fn checked_alpha(&self, studies: &Studies) -> Result<f64> {
        self.validate(studies)
    }
    pub(crate) fn spec_test(&self) -> TestKind {
        self.test
    }
    pub(crate) fn spec_fixed_tau2(&self) -> Option<f64> {
        self.tau2
    }
    pub(crate) fn spec_weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }
    pub(crate) fn spec_max_iter(&self) -> usize {
        self.max_iter
    }
    pub(crate) fn spec_tol(&self) -> f64 {
        self.tol
    }
    pub(crate) fn spec_step_adj(&self) -> f64 {
        self.step_adj
    }
    pub(crate) fn spec_tau2_init(&self) -> Option<f64> {
        self.tau2_init
    }
    pub(crate) fn spec_digits(&self) -> usize {
        self.digits
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
