//! Heterogeneity: Cochran's Q, I^2 and H^2 (metafor's definitions) and the Q-profile
//! confidence interval for tau^2 (Viechtbauer 2007).
//!
//! # References
//! * Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a
//!   meta-analysis. *Statistics in Medicine*, 21, 1539-1558.
//! * Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
//!   meta-analysis. *Statistics in Medicine*, 26, 37-52.

use super::projection::{PSums, Projector};
use super::tau2::q_newton;
use crate::format::{fcf, pval_str};
use crate::numeric::dist::{chisq_isf, chisq_quantile, chisq_sf};

/// Q-test and the "typical" within-study variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct QTest {
    pub q: f64,
    pub df: f64,
    pub p_value: f64,
    /// metafor's `vt = (k - p) / tr(P)` with `W = diag(1/v)` (its default `i2def = "1"`).
    pub vt: f64,
}

/// Cochran's Q (QE, the test for residual heterogeneity, with moderators) with
/// inverse-variance weights.
///
/// # Formula
/// `Q = y'Py` with `W = diag(1/v)` (`sum w_i (y_i - mean_w)^2` for the intercept-only model),
/// on `k - p` df; `vt = (k - p)/tr(P)`.
pub(crate) fn q_test<M: Projector>(model: &M) -> QTest {
    if model.k() <= model.p() {
        return QTest::none();
    }
    let v = model.v();
    QTest::from_sums(model.df(), &model.psums(false, |i| 1.0 / v[i]))
}

impl QTest {
    /// The test of a model with no residual degrees of freedom (`k <= p`).
    pub(crate) fn none() -> Self {
        QTest {
            q: 0.0,
            df: 0.0,
            p_value: 1.0,
            vt: 0.0,
        }
    }

    /// [`q_test`] from the sums with `w = 1/v` (`q` and `trp`) computed elsewhere, on
    /// `df = k - p > 0` degrees of freedom.
    pub(crate) fn from_sums(df: f64, s: &PSums) -> Self {
        let q = s.q.max(0.0);
        QTest {
            q,
            df,
            p_value: chisq_sf(q, df),
            vt: df / s.trp,
        }
    }
}

/// I^2 (in percent) and H^2 as metafor defines them.
///
/// # Formula
/// Equal-effects models: `I2 = max(0, 100 (Q - df)/Q)`, `H2 = Q/df`.
/// Random-effects models: `I2 = 100 tau2/(vt + tau2)`, `H2 = tau2/vt + 1`.
/// With `k = 1`: `I2 = 0`, `H2 = 1`.
pub(crate) fn i2_h2(qt: &QTest, tau2: Option<f64>) -> (f64, f64) {
    if qt.df == 0.0 {
        return (0.0, 1.0);
    }
    match tau2 {
        // the ratio first: `100 x / y` rounds above 100 when `x` rounds to `y`
        None => ((100.0 * ((qt.q - qt.df) / qt.q)).max(0.0), qt.q / qt.df),
        Some(t) => (100.0 * (t / (qt.vt + t)), t / qt.vt + 1.0),
    }
}

/// The interval for tau^2 and its transformations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tau2Interval {
    pub tau2: (f64, f64),
    /// metafor's `lb.sign` / `ub.sign`: `"<"` when the bound is below the search interval
    /// (the interval is the null set `{0}`), `">"` when it is the search limit `tau2_max`.
    pub signs: (&'static str, &'static str),
}

/// Q-profile interval: the tau^2 values where the generalized Q statistic equals the
/// chi^2(k - p) quantiles, searched in `[0, tau2_max]` as metafor's `confint()` does.
///
/// # Formula
/// `lower`: `Q(tau2) = qchisq(1 - alpha/2, k-p)`, 0 when `Q(0)` is below it;
/// `upper`: `Q(tau2) = qchisq(alpha/2, k-p)`, 0 when `Q(0)` is below it.
/// A bound beyond `tau2_max` is reported as `tau2_max` with the sign `">"`.
///
/// `start` is where Newton's method starts, typically the tau^2 estimate, which lies
/// between the two bounds unless the interval is degenerate: both roots then take 3 or 4
/// evaluations instead of 7 or 8 from 0. Any value in `(0, tau2_max)` gives the same
/// roots (the bracket is kept); others are ignored.
pub(crate) fn q_profile<M: Projector>(
    model: &M,
    alpha: f64,
    tau2_max: f64,
    start: Option<f64>,
) -> Option<Tau2Interval> {
    q_profile_from(model, alpha, tau2_max, start, &[], None)
}

/// [`q_profile`] reusing sums with `w = 1/(v + t)` already computed at some `t` (at 0 and
/// at the estimate by the fit): `(t, Q, y'PPy, weighted mean or NaN)`. Every other
/// evaluation passes over the data once when the previous one's weighted mean centres it
/// well, twice otherwise. `vmax` is the largest sampling variance when the caller has it.
///
/// `Q(tau2_max)` is only compared with the two quantiles. It is not computed when a bound
/// from a point `t0 < tau2_max` already evaluated puts it below both: for `t >= t0`,
/// `w_i(t) / w_i(t0) = (v_i + t0) / (v_i + t) <= (vmax + t0) / (vmax + t)`, and `Q(t)` is
/// the minimum over `c` of `sum w_i(t) (y_i - c)^2`, so
/// `Q(t) <= Q(t0) (vmax + t0) / (vmax + t)`.
pub(crate) fn q_profile_from<M: Projector>(
    model: &M,
    alpha: f64,
    tau2_max: f64,
    start: Option<f64>,
    known: &[(f64, f64, f64, f64)],
    vmax: Option<f64>,
) -> Option<Tau2Interval> {
    if model.k() <= model.p() {
        return None;
    }
    let df = model.df();
    let v = model.v();
    let crit_u = chisq_isf(alpha / 2.0, df);
    let crit_l = chisq_quantile(alpha / 2.0, df);
    // `(Q, y'PPy, weighted mean)` at `t`, sums centred at `c` (see `Projector::q_slope_near`)
    let qs = |t: f64, c: f64| match known
        .iter()
        .find(|k| k.0 == t && k.1.is_finite() && k.2.is_finite())
    {
        Some(&(_, q, ypp, mean)) => (q, ypp, mean),
        None => {
            let ((_, q, ypp), mean) = model.q_slope_near(|i| 1.0 / (v[i] + t), c);
            (q, ypp, mean)
        }
    };
    let (q_min, ypp_min, mean_min) = qs(0.0, f64::NAN);
    // Newton's start: the hint when inside the search interval, else 0
    let hint = start
        .filter(|&t| t > 0.0 && t < tau2_max)
        .map(|t| (t, qs(t, mean_min)))
        .filter(|&(_, (q, ypp, _))| q.is_finite() && ypp.is_finite() && ypp > 0.0);
    let near = hint.map_or(mean_min, |(_, (_, _, mean))| mean);
    let (t0, q0) = hint.map_or((0.0, q_min), |(t, (q, _, _))| (t, q));
    let vmax = vmax.unwrap_or_else(|| v.iter().fold(0.0, |m: f64, &a| m.max(a)));
    // the bound, widened by a few roundings of its own
    let bound = q0 * ((vmax + t0) / (vmax + tau2_max)) * (1.0 + 16.0 * f64::EPSILON);
    let q_max = if bound.is_finite() && bound < crit_l.min(crit_u) {
        bound
    } else {
        qs(tau2_max, near).0
    };
    let root = |target: f64| -> Option<f64> {
        let (bracket, (t0, (q, ypp, mut centre))) = match hint {
            // Q decreases in tau2: the root lies above the hint when Q(hint) > target
            Some(h @ (t, (q, _, _))) if q > target => ((t, tau2_max), h),
            Some(h @ (t, (q, _, _))) if q < target => ((0.0, t), h),
            Some((t, _)) => return Some(t),
            None => ((0.0, tau2_max), (0.0, (q_min, ypp_min, mean_min))),
        };
        // each evaluation's weighted mean centres the next one's sums
        let eval = |t: f64| {
            let (q, ypp, mean) = qs(t, centre);
            centre = mean;
            (q, ypp)
        };
        q_newton(eval, target, bracket, (t0, q, ypp), 1e-15, 500).map(|r| r.0)
    };
    // upper bound: Q(tau2) = crit_l
    let (mut ub, mut ub_sign) = if q_min < crit_l {
        (0.0, "<")
    } else if q_max > crit_l {
        (tau2_max, ">")
    } else {
        (root(crit_l)?, "")
    };
    // lower bound: Q(tau2) = crit_u
    let (lb, lb_sign) = if q_max > crit_u {
        ub = tau2_max;
        ub_sign = ">";
        (tau2_max, ">")
    } else if q_min < crit_l {
        (0.0, "<")
    } else if q_min < crit_u {
        (0.0, "")
    } else {
        (root(crit_u)?, "")
    };
    Some(Tau2Interval {
        tau2: (lb, ub),
        signs: (lb_sign, ub_sign),
    })
}

/// The heterogeneity of a fitted [`super::MetaFit`] or [`super::MetaRegressionFit`]
/// (residual heterogeneity with moderators): tau^2 and tau, I^2 and H^2 (and R^2 with
/// moderators), the Q test, and the Q-profile interval of tau^2 with its transformations.
/// One value, stored once in each fit ([`super::MetaFit::heterogeneity`],
/// [`super::MetaRegressionFit::heterogeneity`]), with one print block: its `Display` is the
/// heterogeneity block of metafor's `print.rma.uni` (4 decimals, or the formatter's
/// precision: `{:.3}`).
///
/// # Formula
/// `Q = y'Py` with `W = diag(1/v)` on `k - p` df; `vt = (k - p)/tr(P)`;
/// random-effects models: `I2 = 100 tau2/(vt + tau2)`, `H2 = tau2/vt + 1`; equal-effects
/// models: `I2 = max(0, 100 (Q - df)/Q)`, `H2 = Q/df`. The intervals of tau, I^2 and H^2 are
/// `sqrt`, `100 t/(vt + t)` and `t/vt + 1` of the bounds `t` of the tau^2 interval.
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.3, 0.5, 0.9], vec![0.01, 0.02, 0.01, 0.03])?;
/// let fit = MetaAnalysis::new().fit(&s)?;
/// let het = fit.heterogeneity();
/// assert_eq!(het.q_df(), 3.0);
/// assert!(het.i2() > 0.0 && het.i2() < 100.0);
/// let (lo, hi) = het.tau2_ci().unwrap();
/// assert!(lo <= het.tau2() && het.tau2() <= hi);
/// assert!(het.to_string().contains("I^2 (total heterogeneity / total variability):"));
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// * Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a
///   meta-analysis. *Statistics in Medicine*, 21, 1539-1558.
/// * Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
///   meta-analysis. *Statistics in Medicine*, 26, 37-52.
#[derive(Debug, Clone, PartialEq)]
pub struct Heterogeneity {
    pub(crate) tau2: f64,
    pub(crate) tau2_se: Option<f64>,
    pub(crate) tau2_fixed: bool,
    pub(crate) i2: f64,
    pub(crate) h2: f64,
    pub(crate) r2: Option<f64>,
    pub(crate) q: QTest,
    pub(crate) tau2_ci: Option<Tau2Interval>,
    /// An equal-effects model (no tau^2 lines in the print).
    pub(crate) equal_effects: bool,
    /// A model with moderators (the residual wording in the print).
    pub(crate) residual: bool,
}

impl Heterogeneity {
    /// The fields both fits' JSON objects carry flat, in their order: `tau2`, `tau2_se`,
    /// `tau`, `tau2_fixed`, `i2`, `h2`, `q`, `q_df`, `q_p_value`.
    #[cfg(feature = "serde")]
    pub(crate) fn serialize_flat<S: serde::ser::SerializeStruct>(
        &self,
        s: &mut S,
    ) -> std::result::Result<(), S::Error> {
        s.serialize_field("tau2", &self.tau2)?;
        s.serialize_field("tau2_se", &self.tau2_se)?;
        s.serialize_field("tau", &self.tau())?;
        s.serialize_field("tau2_fixed", &self.tau2_fixed)?;
        s.serialize_field("i2", &self.i2)?;
        s.serialize_field("h2", &self.h2)?;
        s.serialize_field("q", &self.q())?;
        s.serialize_field("q_df", &self.q_df())?;
        s.serialize_field("q_p_value", &self.q_p_value())
    }

    /// tau^2 (residual tau^2 with moderators; 0 for equal-effects models).
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// Standard error of tau^2, for the estimators where metafor reports one.
    pub fn tau2_se(&self) -> Option<f64> {
        self.tau2_se
    }
    /// tau, the square root of tau^2.
    pub fn tau(&self) -> f64 {
        self.tau2.sqrt()
    }
    /// True when tau^2 was fixed by the user.
    pub fn tau2_fixed(&self) -> bool {
        self.tau2_fixed
    }
    /// I^2 in percent (residual I^2 with moderators).
    pub fn i2(&self) -> f64 {
        self.i2
    }
    /// H^2 (residual H^2 with moderators).
    pub fn h2(&self) -> f64 {
        self.h2
    }
    /// R^2 in percent (metafor's pseudo-R^2, `r2def = "1"`); `None` without moderators or
    /// without an intercept.
    pub fn r2(&self) -> Option<f64> {
        self.r2
    }
    /// Cochran's Q (QE, the test for residual heterogeneity, with moderators).
    pub fn q(&self) -> f64 {
        self.q.q
    }
    /// Degrees of freedom of Q (`k - p`).
    pub fn q_df(&self) -> f64 {
        self.q.df
    }
    /// p-value of the Q test.
    pub fn q_p_value(&self) -> f64 {
        self.q.p_value
    }
    /// metafor's "typical" within-study variance `vt = (k - p)/tr(P)`, used by I^2 and H^2.
    pub fn vt(&self) -> f64 {
        self.q.vt
    }
    /// Q-profile (or generalized Q) confidence interval of tau^2 (`None` for equal-effects
    /// models, fixed tau^2, k = 1, `confint(false)`, or when it could not be computed).
    pub fn tau2_ci(&self) -> Option<(f64, f64)> {
        self.tau2_ci.map(|c| c.tau2)
    }
    /// Confidence interval of tau.
    pub fn tau_ci(&self) -> Option<(f64, f64)> {
        self.transformed_ci(f64::sqrt)
    }
    /// Confidence interval of I^2 (percent).
    pub fn i2_ci(&self) -> Option<(f64, f64)> {
        let vt = self.q.vt;
        self.transformed_ci(|t| 100.0 * t / (vt + t))
    }
    /// Confidence interval of H^2.
    pub fn h2_ci(&self) -> Option<(f64, f64)> {
        let vt = self.q.vt;
        self.transformed_ci(|t| t / vt + 1.0)
    }
    /// metafor's `lb.sign` / `ub.sign` of the tau^2 interval: `Some("<")` when the bound lies
    /// below 0 (the interval is `{0}`), `Some(">")` when it lies beyond the searched
    /// `tau2_max` (the reported bound is then that limit), `None` for a proper root.
    pub fn tau2_ci_signs(&self) -> (Option<&'static str>, Option<&'static str>) {
        let sign = |s: &'static str| (!s.is_empty()).then_some(s);
        match self.tau2_ci {
            Some(c) => (sign(c.signs.0), sign(c.signs.1)),
            None => (None, None),
        }
    }

    fn transformed_ci(&self, f: impl Fn(f64) -> f64) -> Option<(f64, f64)> {
        self.tau2_ci.map(|c| (f(c.tau2.0), f(c.tau2.1)))
    }

    /// Writes the block with `d` decimals, followed by an empty line: tau^2 and tau
    /// (random-effects models), I^2 and H^2 (and R^2 with moderators), and the test for
    /// (residual) heterogeneity.
    pub(crate) fn write(&self, f: &mut std::fmt::Formatter<'_>, d: usize) -> std::fmt::Result {
        let eps10 = f64::EPSILON * 10.0;
        if !self.equal_effects {
            let td = if self.tau2.abs() <= eps10 { 0 } else { d };
            let se = self
                .tau2_se
                .map(|s| format!(" (SE = {})", fcf(s, d)))
                .unwrap_or_default();
            let td2 = if self.tau2 <= eps10 { 0 } else { d };
            if self.residual {
                writeln!(
                    f,
                    "tau^2 (estimated amount of residual heterogeneity):     {}{se}",
                    fcf(self.tau2, td)
                )?;
                writeln!(
                    f,
                    "tau (square root of estimated tau^2 value):             {}",
                    fcf(self.tau(), td2)
                )?;
            } else {
                writeln!(
                    f,
                    "tau^2 (estimated amount of total heterogeneity): {}{se}",
                    fcf(self.tau2, td)
                )?;
                writeln!(
                    f,
                    "tau (square root of estimated tau^2 value):      {}",
                    fcf(self.tau(), td2)
                )?;
            }
        }
        if self.residual {
            writeln!(
                f,
                "I^2 (residual heterogeneity / unaccounted variability): {}%",
                fcf(self.i2, 2)
            )?;
            writeln!(
                f,
                "H^2 (unaccounted variability / sampling variability):   {}",
                fcf(self.h2, 2)
            )?;
            if let Some(r2) = self.r2 {
                writeln!(
                    f,
                    "R^2 (amount of heterogeneity accounted for):            {}%",
                    fcf(r2, 2)
                )?;
            }
        } else {
            writeln!(
                f,
                "I^2 (total heterogeneity / total variability):   {}%",
                fcf(self.i2, 2)
            )?;
            writeln!(
                f,
                "H^2 (total variability / sampling variability):  {}",
                fcf(self.h2, 2)
            )?;
        }
        writeln!(f)?;
        write_q_test(f, self.residual, self.q.df, self.q.q, self.q.p_value, d)?;
        writeln!(f)
    }

    /// `(lower, upper)` of an interval, each `None` without it.
    #[cfg(feature = "serde")]
    pub(crate) fn bounds(ci: Option<(f64, f64)>) -> (Option<f64>, Option<f64>) {
        (ci.map(|c| c.0), ci.map(|c| c.1))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Heterogeneity {
    /// The fields under the names of `metan fit --format json` (undefined values `null`).
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Heterogeneity", 21)?;
        let (t2l, t2u) = Self::bounds(self.tau2_ci());
        let (tl, tu) = Self::bounds(self.tau_ci());
        let (il, iu) = Self::bounds(self.i2_ci());
        let (hl, hu) = Self::bounds(self.h2_ci());
        let (sl, su) = self.tau2_ci_signs();
        s.serialize_field("tau2", &self.tau2)?;
        s.serialize_field("tau2_se", &self.tau2_se)?;
        s.serialize_field("tau", &self.tau())?;
        s.serialize_field("tau2_fixed", &self.tau2_fixed)?;
        s.serialize_field("i2", &self.i2)?;
        s.serialize_field("h2", &self.h2)?;
        s.serialize_field("r2", &self.r2)?;
        s.serialize_field("q", &self.q.q)?;
        s.serialize_field("q_df", &self.q.df)?;
        s.serialize_field("q_p_value", &self.q.p_value)?;
        s.serialize_field("vt", &self.q.vt)?;
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
        s.end()
    }
}

impl std::fmt::Display for Heterogeneity {
    /// The heterogeneity block of metafor's `print.rma.uni`, with 4 decimals or the
    /// formatter's precision.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = f.precision().unwrap_or(4);
        self.write(f, d)
    }
}

/// metafor's Q-test lines: "Test for Heterogeneity:" / "Q(df = ..)" for a model without
/// moderators, "Test for Residual Heterogeneity:" / "QE(df = ..)" with them (every
/// model's print: univariate, meta-regression, location-scale, multilevel).
pub(crate) fn write_q_test(
    f: &mut std::fmt::Formatter<'_>,
    residual: bool,
    q_df: f64,
    q: f64,
    q_p_value: f64,
    d: usize,
) -> std::fmt::Result {
    let (title, name) = if residual {
        ("Test for Residual Heterogeneity:", "QE")
    } else {
        ("Test for Heterogeneity:", "Q")
    };
    writeln!(f, "{title}")?;
    writeln!(
        f,
        "{name}(df = {q_df}) = {}, p-val {}",
        fcf(q, d),
        pval_str(q_p_value, d, true, " ")
    )
}
