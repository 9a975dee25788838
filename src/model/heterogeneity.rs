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

/// The heterogeneity block of metafor's `print.rma.uni`, shared by [`super::MetaFit`] and
/// [`super::MetaRegressionFit`] (one layout, one place): tau^2 and tau (random-effects
/// models), I^2 and H^2 (and R^2 with moderators), and the test for (residual)
/// heterogeneity. `residual` selects the wording of a model with moderators.
pub(crate) struct HeterogeneityBlock {
    pub equal_effects: bool,
    pub residual: bool,
    pub tau2: f64,
    pub tau2_se: Option<f64>,
    pub tau: f64,
    pub i2: f64,
    pub h2: f64,
    pub r2: Option<f64>,
    pub q: f64,
    pub q_df: f64,
    pub q_p_value: f64,
}

impl HeterogeneityBlock {
    /// Writes the block with `d` decimals, followed by an empty line.
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
                    fcf(self.tau, td2)
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
                    fcf(self.tau, td2)
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
        write_q_test(f, self.residual, self.q_df, self.q, self.q_p_value, d)?;
        writeln!(f)
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
