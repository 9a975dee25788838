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
/// `SE = (upper - lower) / (2 z_{1 - alpha/2})`.
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

/// A standardized mean difference to a log odds ratio (Hasselblad & Hedges 1995), as
/// metafor's measure `D2ORL`.
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
    PI / 3f64.sqrt() * d
}

/// The sampling variance of [`d_to_log_odds_ratio`].
///
/// # Formula
/// `v_lnOR = v_d pi^2 / 3`.
pub fn var_d_to_log_odds_ratio(v: f64) -> f64 {
    PI * PI / 3.0 * v
}

/// A log odds ratio to a standardized mean difference (Hasselblad & Hedges 1995), as
/// metafor's measure `OR2DL`.
///
/// # Formula
/// `d = ln OR sqrt(3) / pi`.
pub fn log_odds_ratio_to_d(log_or: f64) -> f64 {
    3f64.sqrt() / PI * log_or
}

/// The sampling variance of [`log_odds_ratio_to_d`].
///
/// # Formula
/// `v_d = v_lnOR 3 / pi^2`.
pub fn var_log_odds_ratio_to_d(v: f64) -> f64 {
    3.0 / (PI * PI) * v
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
        // 90% level given as a proportion
        let a = se_from_ci(-1.0, 1.0, 0.9).unwrap();
        let b = se_from_ci(-1.0, 1.0, 90.0).unwrap();
        assert_eq!(a, b);
        assert!((a - 1.0 / 1.6448536269514722).abs() < 1e-15);
    }
}
