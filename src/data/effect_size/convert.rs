//! Conversions: standard errors from confidence intervals, p-values and test statistics;
//! d <-> log odds ratio; r <-> Fisher's z.

use std::f64::consts::PI;

use crate::error::{MetaError, Result};
use crate::numeric::dist::{norm_isf, t_isf};

fn alpha_of(level: f64) -> Result<f64> {
    let alpha = if level > 1.0 {
        (100.0 - level) / 100.0
    } else {
        1.0 - level
    };
    if !(level.is_finite() && level > 0.0 && level < 100.0 && alpha > 0.0 && alpha < 1.0) {
        return Err(MetaError::invalid_option(
            "level",
            level,
            "must be in (0, 100) percent",
        ));
    }
    Ok(alpha)
}

fn finite_arg(name: &str, x: f64) -> Result<()> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(MetaError::invalid_option(name, x, "must be finite"))
    }
}

/// The standard error of an estimate from its (symmetric, Wald-type) confidence interval.
///
/// The interval must be on the scale the estimate is analysed on: for ratio measures,
/// pass the logs of the bounds. `level` is in percent (a value below 1 is read as a
/// proportion, as in [`crate::MetaAnalysis::level`]).
///
/// # Formula
/// `SE = (upper - lower) / (2 z_{1 - alpha/2})`. [`wald_variance`] gives the variance with
/// the checks of metafor's `conv.wald` (the estimate inside and near the middle).
///
/// # Errors
/// [`MetaError::InvalidOption`] for non-finite bounds, `upper <= lower`, or a level outside
/// (0, 100).
///
/// # Examples
/// ```
/// use metan::data::effect_size::se_from_ci;
/// // an odds ratio of 2.0 with 95% CI 1.2 to 3.3: work on the log scale
/// let se = se_from_ci(1.2f64.ln(), 3.3f64.ln(), 95.0)?;
/// assert!((se - (3.3f64 / 1.2).ln() / (2.0 * 1.959963984540054)).abs() < 1e-15);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Higgins, J. P. T., et al. (eds.) (2023). *Cochrane Handbook for Systematic Reviews of
/// Interventions*, version 6.4, section 6.5.2.2.
pub fn se_from_ci(lower: f64, upper: f64, level: f64) -> Result<f64> {
    finite_arg("lower", lower)?;
    finite_arg("upper", upper)?;
    let alpha = alpha_of(level)?;
    if !(upper > lower) {
        return Err(MetaError::invalid_option(
            "upper",
            upper,
            format!("the upper bound must exceed the lower bound {lower}"),
        ));
    }
    Ok((upper - lower) / (2.0 * norm_isf(alpha / 2.0)))
}

/// The standard error of an estimate from its two-sided p-value of a z test
/// (`H0: theta = 0`).
///
/// # Formula
/// `SE = |estimate| / z_{1 - p/2}`.
///
/// # Errors
/// [`MetaError::InvalidOption`] for a non-finite or zero estimate, or `p` outside (0, 1).
///
/// # Examples
/// ```
/// use metan::data::effect_size::se_from_p;
/// let se = se_from_p(0.5, 0.05)?;
/// assert!((se - 0.5 / 1.959963984540054).abs() < 1e-15);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Altman, D. G., & Bland, J. M. (2011). How to obtain the confidence interval from a P
/// value. *BMJ*, 343, d2090.
pub fn se_from_p(estimate: f64, p: f64) -> Result<f64> {
    check_estimate_p(estimate, p)?;
    Ok(estimate.abs() / norm_isf(p / 2.0))
}

/// The standard error of an estimate from its two-sided p-value of a t test with `df`
/// degrees of freedom.
///
/// # Formula
/// `SE = |estimate| / t_{df, 1 - p/2}`.
///
/// # Errors
/// As [`se_from_p`], and [`MetaError::InvalidOption`] for `df` not finite and `> 0`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::se_from_p_t;
/// let se = se_from_p_t(0.5, 0.05, 10.0)?;
/// assert!((se - 0.5 / 2.228138851986274).abs() < 1e-14);
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn se_from_p_t(estimate: f64, p: f64, df: f64) -> Result<f64> {
    check_estimate_p(estimate, p)?;
    if !(df.is_finite() && df > 0.0) {
        return Err(MetaError::invalid_option(
            "df",
            df,
            "must be finite and > 0",
        ));
    }
    Ok(estimate.abs() / t_isf(p / 2.0, df))
}

fn check_estimate_p(estimate: f64, p: f64) -> Result<()> {
    finite_arg("estimate", estimate)?;
    if estimate == 0.0 {
        return Err(MetaError::invalid_option(
            "estimate",
            estimate,
            "an estimate of 0 carries no information about its standard error",
        ));
    }
    if !(p > 0.0 && p < 1.0) {
        return Err(MetaError::invalid_option("p", p, "must be in (0, 1)"));
    }
    Ok(())
}

/// The standard error of an estimate from its test statistic (`z` or `t = estimate/SE`).
///
/// # Formula
/// `SE = |estimate / statistic|`.
///
/// # Errors
/// [`MetaError::InvalidOption`] for a non-finite estimate or a statistic that is zero or
/// not finite.
///
/// # Examples
/// ```
/// let se = metan::data::effect_size::se_from_t(0.8, -2.5)?;
/// assert_eq!(se, 0.32);
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn se_from_t(estimate: f64, statistic: f64) -> Result<f64> {
    finite_arg("estimate", estimate)?;
    finite_arg("statistic", statistic)?;
    if statistic == 0.0 {
        return Err(MetaError::invalid_option(
            "statistic",
            statistic,
            "a statistic of 0 gives no standard error",
        ));
    }
    Ok((estimate / statistic).abs())
}

/// A Wald-type confidence interval as reported: bounds, level and how far from its middle
/// the estimate may lie (metafor's `conv.wald` check).
///
/// Bounds are on the scale the caller works on: [`wald_variance`] takes them as given,
/// while [`super::scale::Effect::from_reported`] first maps them (and the estimate) from the
/// natural scale of its [`super::scale::Scale`] (e.g. `ln` of an odds ratio).
///
/// # Examples
/// ```
/// use metan::data::effect_size::Ci;
/// let ci = Ci::new(0.33, 1.22).level(90.0).max_asymmetry(0.2);
/// assert_eq!((ci.lower, ci.upper, ci.level, ci.max_asymmetry), (0.33, 1.22, 90.0, 0.2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ci {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level in percent (a value below 1 is read as a proportion). Default 95.
    pub level: f64,
    /// The largest allowed distance of the estimate from the middle of the interval, as a
    /// fraction of its width: `|(lower + upper)/2 - estimate| / (upper - lower)`. Default
    /// 0.1, metafor's threshold (`cifac`); a larger distance suggests an interval that is
    /// not Wald-type on this scale. `f64::INFINITY` disables the check.
    pub max_asymmetry: f64,
}

impl Ci {
    /// A 95% interval, checked with metafor's tolerance of 0.1.
    pub fn new(lower: f64, upper: f64) -> Self {
        Ci {
            lower,
            upper,
            level: 95.0,
            max_asymmetry: 0.1,
        }
    }
    /// The confidence level in percent.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }
    /// The largest allowed asymmetry (see the field).
    pub fn max_asymmetry(mut self, max_asymmetry: f64) -> Self {
        self.max_asymmetry = max_asymmetry;
        self
    }
}

/// What a report gives about the precision of an estimate: the inputs of metafor 4's
/// `conv.wald` (a CI, a Wald z or its two-sided p-value), plus t and F(1, df) statistics,
/// the p-value of a t test, and a standard error.
///
/// Test statistics carry a sign where the estimate has one: a statistic whose sign
/// contradicts the estimate's is an error. p-values are two-sided and unsigned; the
/// estimate gives the direction.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Reported {
    /// A Wald-type confidence interval `estimate +- z_{1-alpha/2} SE`.
    Ci(Ci),
    /// The two-sided p-value of a Wald z test of `theta = 0`.
    P(f64),
    /// A Wald z statistic, `estimate / SE`.
    Z(f64),
    /// A t statistic, `estimate / SE`.
    T(f64),
    /// The two-sided p-value of a t test of `theta = 0` with `df` degrees of freedom.
    PT {
        /// The p-value.
        p: f64,
        /// Degrees of freedom of the t test.
        df: f64,
    },
    /// An F(1, df) statistic: the square of the t statistic.
    F(f64),
    /// A standard error.
    Se(f64),
}

impl Reported {
    /// The name of the field an error about this input names: `ci`, `pval`, `zval`,
    /// `tval`, `fval` or `sei`.
    pub fn field(&self) -> &'static str {
        match self {
            Reported::Ci(_) => "ci",
            Reported::P(_) | Reported::PT { .. } => "pval",
            Reported::Z(_) => "zval",
            Reported::T(_) => "tval",
            Reported::F(_) => "fval",
            Reported::Se(_) => "sei",
        }
    }
}

/// Why a reported value is invalid: (field, value, reason).
pub(crate) type Invalid = (&'static str, f64, String);

/// The sampling variance of an estimate from what its report gives (metafor 4's
/// `conv.wald`, extended to t and F statistics).
///
/// The estimate and the reported values must be on the scale the estimate is analysed on
/// (log odds ratios, not odds ratios); [`super::scale::Effect::from_reported`] does the
/// mapping from the natural scale.
///
/// # Formula
/// - CI: `v = ((upper - lower) / (2 z_{1-alpha/2}))^2`, after checking that the estimate
///   lies within the interval and `|(lower + upper)/2 - y| / (upper - lower) <=
///   max_asymmetry`;
/// - Wald p-value: `z = Phi^-1(1 - p/2)`, `v = (y / z)^2`;
/// - z or t statistic: `v = (y / z)^2`;
/// - p-value of a t test: `t = F_t^-1(1 - p/2; df)`, `v = (y / t)^2`;
/// - F(1, df): `v = (y / sqrt(F))^2`;
/// - standard error: `v = SE^2`.
///
/// # Errors
/// [`MetaError::InvalidOption`] naming the field: a non-finite value; a CI with `upper <=
/// lower`, that does not contain the estimate, or whose asymmetry exceeds `max_asymmetry`;
/// a level outside (0, 100); a p-value not in (0, 1) (a p of 0 or 1 gives no finite
/// variance); a statistic of 0 or whose sign contradicts the estimate's; an estimate of 0
/// with a p-value or statistic (its variance would be 0); `df <= 0`; `F <= 0`; `SE <= 0`;
/// and inputs whose variance overflows or underflows (not finite and > 0).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{Ci, Reported, wald_variance};
/// // metafor's conv.wald example: OR 0.64 (0.33 to 1.22), on the log scale
/// let v = wald_variance(0.64f64.ln(), Reported::Ci(Ci::new(0.33f64.ln(), 1.22f64.ln())))?;
/// assert!((v - 0.1113).abs() < 1e-4);
/// let v = wald_variance(0.64f64.ln(), Reported::P(0.17))?;
/// assert!((v - 0.1058).abs() < 1e-4);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Viechtbauer, W. (2010). *Journal of Statistical Software*, 36(3), 1-48 (metafor;
/// `conv.wald` from version 4.0). Altman, D. G., & Bland, J. M. (2011). How to obtain the
/// confidence interval from a P value. *BMJ*, 343, d2090.
pub fn wald_variance(estimate: f64, reported: Reported) -> Result<f64> {
    wald_variance_checked(estimate, reported)
        .map_err(|(field, value, reason)| MetaError::invalid_option(field, value, reason))
}

/// [`wald_variance`] with the failure as data, so that a caller with rows can name the row.
pub(crate) fn wald_variance_checked(
    estimate: f64,
    reported: Reported,
) -> std::result::Result<f64, Invalid> {
    let v = wald_variance_raw(estimate, reported)?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        let value = match reported {
            Reported::Ci(ci) => ci.upper - ci.lower,
            Reported::P(x) | Reported::Z(x) | Reported::T(x) | Reported::F(x) | Reported::Se(x) => {
                x
            }
            Reported::PT { p, .. } => p,
        };
        Err((
            reported.field(),
            value,
            format!("gives a sampling variance of {v}, not finite and > 0"),
        ))
    }
}

fn wald_variance_raw(estimate: f64, reported: Reported) -> std::result::Result<f64, Invalid> {
    let fail = |field: &'static str, value: f64, reason: &str| Err((field, value, reason.into()));
    if !estimate.is_finite() {
        return fail("estimate", estimate, "must be a finite number");
    }
    let nonzero = |what: &str| {
        if estimate == 0.0 {
            Err((
                "estimate",
                estimate,
                format!("an estimate of 0 with a {what} gives a variance of 0"),
            ))
        } else {
            Ok(())
        }
    };
    // a statistic's sign must agree with the estimate's (both being nonzero)
    let direction = |field: &'static str, stat: f64| {
        if !stat.is_finite() || stat == 0.0 {
            return Err((
                field,
                stat,
                "a test statistic must be finite and nonzero".to_string(),
            ));
        }
        nonzero(field)?;
        if stat.signum() != estimate.signum() {
            return Err((
                field,
                stat,
                format!("its sign contradicts the direction of the estimate {estimate}"),
            ));
        }
        Ok(())
    };
    let p_ok = |p: f64| {
        if p > 0.0 && p < 1.0 {
            Ok(())
        } else {
            Err((
                "pval",
                p,
                "a two-sided p-value must be in (0, 1): 0 and 1 give no finite variance"
                    .to_string(),
            ))
        }
    };
    match reported {
        Reported::Ci(ci) => {
            let (lo, hi) = (ci.lower, ci.upper);
            if !lo.is_finite() {
                return fail("ci_lb", lo, "must be a finite number");
            }
            if !hi.is_finite() {
                return fail("ci_ub", hi, "must be a finite number");
            }
            if !(hi > lo) {
                return Err((
                    "ci_ub",
                    hi,
                    format!("the upper bound must exceed the lower bound {lo}"),
                ));
            }
            if !(lo <= estimate && estimate <= hi) {
                return Err((
                    "estimate",
                    estimate,
                    format!("the confidence interval ({lo}, {hi}) does not contain the estimate"),
                ));
            }
            let asym = ((lo + hi) / 2.0 - estimate).abs() / (hi - lo);
            if !(asym <= ci.max_asymmetry) {
                return Err((
                    "estimate",
                    estimate,
                    format!(
                        "the estimate is not halfway between ({lo}, {hi}) on this scale: \
                         its distance from the middle is {asym:.3} of the width, more than {}; \
                         was the interval computed on another scale (e.g. the log scale)?",
                        ci.max_asymmetry
                    ),
                ));
            }
            let alpha = alpha_of(ci.level)
                .map_err(|_| ("level", ci.level, "must be in (0, 100) percent".to_string()))?;
            let crit = norm_isf(alpha / 2.0);
            let se = (hi - lo) / (2.0 * crit);
            Ok(se * se)
        }
        Reported::P(p) => {
            p_ok(p)?;
            nonzero("p-value")?;
            let z = norm_isf(p / 2.0);
            let r = estimate / z;
            Ok(r * r)
        }
        Reported::Z(z) => {
            direction("zval", z)?;
            let r = estimate / z;
            Ok(r * r)
        }
        Reported::T(t) => {
            direction("tval", t)?;
            let r = estimate / t;
            Ok(r * r)
        }
        Reported::PT { p, df } => {
            p_ok(p)?;
            if !(df.is_finite() && df > 0.0) {
                return fail("df", df, "must be finite and > 0");
            }
            nonzero("p-value")?;
            let t = t_isf(p / 2.0, df);
            let r = estimate / t;
            Ok(r * r)
        }
        Reported::F(f) => {
            if !(f.is_finite() && f > 0.0) {
                return fail("fval", f, "an F statistic must be finite and > 0");
            }
            nonzero("F statistic")?;
            let r = estimate / f.sqrt();
            Ok(r * r)
        }
        Reported::Se(se) => {
            if !(se.is_finite() && se > 0.0) {
                return fail("sei", se, "a standard error must be finite and > 0");
            }
            Ok(se * se)
        }
    }
}

/// How a log odds ratio and a standardized mean difference d are related: the
/// distribution assumed for the latent continuous variable in both groups.
///
/// # Formula
/// `ln OR = k d` with `k = pi/sqrt(3) ~ 1.8138` (logistic; Hasselblad & Hedges 1995,
/// metafor's `D2ORL`/`OR2DL`) or `k = 1.65` (normal; Cox 1970, Sanchez-Meca et al. 2003,
/// metafor's `D2ORN`/`OR2DN`); the sampling variance scales by `k^2`.
///
/// # References
/// Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
/// tests. *Psychological Bulletin*, 117(1), 167-178. Cox, D. R. (1970). *Analysis of
/// Binary Data*. Methuen. Sanchez-Meca, J., Marin-Martinez, F., & Chacon-Moscoso, S.
/// (2003). Effect-size indices for dichotomized outcomes in meta-analysis. *Psychological
/// Methods*, 8(4), 448-467. Borenstein, M., et al. (2009). *Introduction to Meta-Analysis*,
/// chapter 7. Wiley.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum OddsRatioMethod {
    /// Logistic distributions: `ln OR = d pi/sqrt(3)` (Hasselblad & Hedges 1995; the
    /// method of Borenstein et al. 2009, ch. 7). The default.
    #[default]
    Logistic,
    /// Normal distributions: `ln OR = 1.65 d` (Cox 1970; Sanchez-Meca et al. 2003).
    Normal,
}

impl OddsRatioMethod {
    /// `logistic` or `normal`.
    pub fn name(self) -> &'static str {
        match self {
            OddsRatioMethod::Logistic => "logistic",
            OddsRatioMethod::Normal => "normal",
        }
    }

    /// The formula of d to ln OR, in text.
    pub fn d_to_log_or_formula(self) -> &'static str {
        match self {
            OddsRatioMethod::Logistic => "logOR = d*pi/sqrt(3) (Hasselblad & Hedges 1995)",
            OddsRatioMethod::Normal => "logOR = 1.65*d (Cox 1970)",
        }
    }

    /// The formula of ln OR to d, in text.
    pub fn log_or_to_d_formula(self) -> &'static str {
        match self {
            OddsRatioMethod::Logistic => "d = logOR*sqrt(3)/pi (Hasselblad & Hedges 1995)",
            OddsRatioMethod::Normal => "d = logOR/1.65 (Cox 1970)",
        }
    }
}

impl std::fmt::Display for OddsRatioMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OddsRatioMethod {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "logistic" | "l" | "hasselblad-hedges" => Ok(OddsRatioMethod::Logistic),
            "normal" | "n" | "cox" => Ok(OddsRatioMethod::Normal),
            _ => Err(MetaError::UnknownName {
                kind: "odds-ratio conversion method".into(),
                name: s.to_string(),
                expected: "logistic, normal".into(),
            }),
        }
    }
}

/// The normal (Cox) factor: `ln OR = 1.65 d`.
const COX: f64 = 1.65;

/// A standardized mean difference to a log odds ratio, as metafor's measure `D2ORL`
/// ([`OddsRatioMethod::Logistic`]).
///
/// # Formula
/// `ln OR = d pi / sqrt(3)`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::{d_to_log_odds_ratio, log_odds_ratio_to_d};
/// let l = d_to_log_odds_ratio(0.5);
/// assert!((log_odds_ratio_to_d(l) - 0.5).abs() < 1e-15);
/// ```
///
/// # References
/// Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
/// tests. *Psychological Bulletin*, 117(1), 167-178.
pub fn d_to_log_odds_ratio(d: f64) -> f64 {
    d_to_log_odds_ratio_with(d, OddsRatioMethod::Logistic)
}

/// The sampling variance of [`d_to_log_odds_ratio`].
///
/// # Formula
/// `v_lnOR = v_d pi^2 / 3`.
pub fn var_d_to_log_odds_ratio(v: f64) -> f64 {
    var_d_to_log_odds_ratio_with(v, OddsRatioMethod::Logistic)
}

/// A log odds ratio to a standardized mean difference, as metafor's measure `OR2DL`
/// ([`OddsRatioMethod::Logistic`]).
///
/// # Formula
/// `d = ln OR sqrt(3) / pi`.
pub fn log_odds_ratio_to_d(log_or: f64) -> f64 {
    log_odds_ratio_to_d_with(log_or, OddsRatioMethod::Logistic)
}

/// The sampling variance of [`log_odds_ratio_to_d`].
///
/// # Formula
/// `v_d = v_lnOR 3 / pi^2`.
pub fn var_log_odds_ratio_to_d(v: f64) -> f64 {
    var_log_odds_ratio_to_d_with(v, OddsRatioMethod::Logistic)
}

/// d to a log odds ratio by either method (metafor's `D2ORL` / `D2ORN`).
///
/// # Formula
/// `ln OR = d pi/sqrt(3)` (logistic) or `1.65 d` (normal).
///
/// # Examples
/// ```
/// use metan::data::effect_size::{OddsRatioMethod, d_to_log_odds_ratio_with};
/// assert_eq!(d_to_log_odds_ratio_with(1.0, OddsRatioMethod::Normal), 1.65);
/// ```
pub fn d_to_log_odds_ratio_with(d: f64, method: OddsRatioMethod) -> f64 {
    match method {
        OddsRatioMethod::Logistic => PI / 3f64.sqrt() * d,
        OddsRatioMethod::Normal => COX * d,
    }
}

/// The sampling variance of [`d_to_log_odds_ratio_with`].
///
/// # Formula
/// `v_lnOR = v_d pi^2/3` (logistic) or `1.65^2 v_d` (normal).
pub fn var_d_to_log_odds_ratio_with(v: f64, method: OddsRatioMethod) -> f64 {
    match method {
        OddsRatioMethod::Logistic => PI * PI / 3.0 * v,
        OddsRatioMethod::Normal => COX * COX * v,
    }
}

/// A log odds ratio to d by either method (metafor's `OR2DL` / `OR2DN`).
///
/// # Formula
/// `d = ln OR sqrt(3)/pi` (logistic) or `ln OR / 1.65` (normal).
pub fn log_odds_ratio_to_d_with(log_or: f64, method: OddsRatioMethod) -> f64 {
    match method {
        OddsRatioMethod::Logistic => 3f64.sqrt() / PI * log_or,
        OddsRatioMethod::Normal => log_or / COX,
    }
}

/// The sampling variance of [`log_odds_ratio_to_d_with`].
///
/// # Formula
/// `v_d = v_lnOR 3/pi^2` (logistic) or `v_lnOR / 1.65^2` (normal).
pub fn var_log_odds_ratio_to_d_with(v: f64, method: OddsRatioMethod) -> f64 {
    match method {
        OddsRatioMethod::Logistic => 3.0 / (PI * PI) * v,
        OddsRatioMethod::Normal => v / (COX * COX),
    }
}

/// A correlation to a standardized mean difference (Borenstein et al. 2009, eq. 7.5-7.6).
///
/// # Formula
/// `d = 2 r / sqrt(1 - r^2)`, `v_d = 4 v_r / (1 - r^2)^3`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::{r_to_d, d_to_r};
/// let (d, v) = r_to_d(0.5, 0.01);
/// assert!((d - 1.0 / 0.75f64.sqrt()).abs() < 1e-15);
/// assert!((d_to_r(d, v, 50.0, 50.0).0 - 0.5).abs() < 1e-15); // equal groups: a = 4
/// ```
///
/// # References
/// Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
/// *Introduction to Meta-Analysis*, chapter 7. Wiley.
pub fn r_to_d(r: f64, v: f64) -> (f64, f64) {
    let q = 1.0 - r * r;
    (2.0 * r / q.sqrt(), 4.0 * v / (q * q * q))
}

/// A standardized mean difference to a (point-biserial) correlation, for groups of sizes
/// `n1` and `n2` (Borenstein et al. 2009, eq. 7.7-7.9).
///
/// # Formula
/// With `a = (n1 + n2)^2 / (n1 n2)` (4 for equal groups): `r = d / sqrt(d^2 + a)`,
/// `v_r = a^2 v_d / (d^2 + a)^3`.
///
/// # References
/// Borenstein, M., et al. (2009). *Introduction to Meta-Analysis*, chapter 7. Wiley.
pub fn d_to_r(d: f64, v: f64, n1: f64, n2: f64) -> (f64, f64) {
    let a = (n1 + n2) * (n1 + n2) / (n1 * n2);
    let s = d * d + a;
    (d / s.sqrt(), a * a * v / (s * s * s))
}

/// The delta method (metafor 4's `conv.delta`, with an analytic derivative): a transformed
/// estimate and its sampling variance.
///
/// # Formula
/// `(f(y), f'(y)^2 v)`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::delta_method;
/// // a log odds ratio to an odds ratio
/// let (or, v) = delta_method(0.5, 0.04, f64::exp, f64::exp);
/// assert_eq!(or, 0.5f64.exp());
/// assert!((v - 0.04 * 1f64.exp()).abs() < 1e-15);
/// ```
///
/// # References
/// van der Vaart, A. W. (1998). *Asymptotic Statistics*, chapter 3. Cambridge University
/// Press.
pub fn delta_method(
    y: f64,
    v: f64,
    f: impl Fn(f64) -> f64,
    derivative: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let g = derivative(y);
    (f(y), g * g * v)
}

/// Fisher's r-to-z transformation (metafor's `transf.rtoz`).
///
/// # Formula
/// `z = ln((1 + r)/(1 - r)) / 2 = atanh(r)`; its sampling variance is `1/(n - 3)`.
///
/// # Examples
/// ```
/// use metan::data::effect_size::{r_to_z, z_to_r};
/// assert!((z_to_r(r_to_z(0.3)) - 0.3).abs() < 1e-15);
/// ```
///
/// # References
/// Fisher, R. A. (1921). *Metron*, 1, 3-32.
pub fn r_to_z(r: f64) -> f64 {
    0.5 * ((1.0 + r) / (1.0 - r)).ln()
}

/// Fisher's z back to a correlation (metafor's `transf.ztor`).
///
/// # Formula
/// `r = tanh(z)`.
pub fn z_to_r(z: f64) -> f64 {
    z.tanh()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        assert!(matches!(
            se_from_ci(1.0, 0.5, 95.0),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "upper"
        ));
        assert!(matches!(
            se_from_ci(0.0, 0.5, 100.0),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "level"
        ));
        assert!(matches!(
            se_from_p(0.3, 1.0),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "p"
        ));
        assert!(matches!(
            se_from_t(0.3, 0.0),
            Err(MetaError::InvalidOption { ref option, .. }) if option == "statistic"
        ));
        // conv.wald's checks, as errors naming the field
        let field = |r: Result<f64>| match r {
            Err(MetaError::InvalidOption { option, .. }) => option,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(wald_variance(2.0, Reported::Ci(Ci::new(-1.0, 1.0)))),
            "estimate"
        );
        assert_eq!(
            field(wald_variance(0.3, Reported::Ci(Ci::new(-1.0, 1.0)))),
            "estimate"
        );
        assert!(wald_variance(0.3, Reported::Ci(Ci::new(-1.0, 1.0).max_asymmetry(0.2))).is_ok());
        assert_eq!(
            field(wald_variance(0.3, Reported::Ci(Ci::new(1.0, -1.0)))),
            "ci_ub"
        );
        for p in [0.0, 1.0, -0.1, f64::NAN] {
            assert_eq!(field(wald_variance(0.3, Reported::P(p))), "pval");
        }
        assert_eq!(field(wald_variance(0.3, Reported::Z(-2.0))), "zval");
        assert_eq!(field(wald_variance(-0.3, Reported::T(2.0))), "tval");
        assert_eq!(field(wald_variance(0.0, Reported::T(2.0))), "estimate");
        assert_eq!(field(wald_variance(0.3, Reported::F(0.0))), "fval");
        assert_eq!(field(wald_variance(0.3, Reported::Se(-1.0))), "sei");
        assert_eq!(
            field(wald_variance(0.3, Reported::PT { p: 0.04, df: 0.0 })),
            "df"
        );
        assert_eq!(wald_variance(0.3, Reported::Se(0.2)).unwrap(), 0.2 * 0.2);
        assert_eq!(wald_variance(-0.3, Reported::F(4.0)).unwrap(), 0.15 * 0.15);
        // 90% level given as a proportion
        let a = se_from_ci(-1.0, 1.0, 0.9).unwrap();
        let b = se_from_ci(-1.0, 1.0, 90.0).unwrap();
        assert_eq!(a, b);
        assert!((a - 1.0 / 1.6448536269514722).abs() < 1e-15);
    }
}
