//! Peto's one-step odds ratio for 2x2 tables (metafor's `rma.peto`): [`Peto`] ->
//! [`PetoFit`].

use std::fmt;

use super::mh::write_results;
use super::tables::{TableOptions, prepare, sum, table_option_setters, write_heterogeneity};
use crate::data::effect_size::{BackTransformed, To, Transform, TwoByTwo, TwoByTwoMeasure};
use crate::error::{MetaError, Result};
use crate::numeric::dist::{chisq_sf, norm_isf, norm_p2};

/// Specification of Peto's method (metafor's `rma.peto`): the one-step pooled log odds
/// ratio from observed minus expected events.
///
/// As metafor, the pooled estimate uses the tables as given (no continuity correction by
/// default); the per-study outcomes (`add = 1/2`, `to = only0`, `drop00 = true`) only
/// determine `k_yi`, the degrees of freedom of Q.
///
/// # Examples
/// ```
/// use metan::data::effect_size::TwoByTwo;
/// use metan::model::Peto;
/// let t = [
///     TwoByTwo::new(4.0, 119.0, 11.0, 128.0),
///     TwoByTwo::new(6.0, 300.0, 29.0, 274.0),
///     TwoByTwo::new(0.0, 50.0, 0.0, 48.0), // no events: contributes nothing
/// ];
/// let fit = Peto::new().fit(&t)?;
/// assert!(fit.estimate() < 0.0);
/// assert_eq!(fit.k_pos(), 2);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Yusuf, S., Peto, R., Lewis, J., Collins, R., & Sleight, P. (1985). Beta blockade during
/// and after myocardial infarction: An overview of the randomized trials. *Progress in
/// Cardiovascular Diseases*, 27(5), 335-371.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Peto {
    opts: TableOptions,
}

impl Peto {
    /// Peto's method with metafor's defaults.
    pub fn new() -> Self {
        Peto::default()
    }

    table_option_setters!();

    /// Pools the tables.
    ///
    /// # Formula
    /// With `m1 = a + c`, `m2 = b + d`, `E = m1 n1/n`, `V = m1 m2 (n1/n)(n2/n)/(n - 1)`:
    /// `ln OR = sum(a - E)/sum(V)`, `SE = 1/sqrt(sum V)`;
    /// `Q = sum_{V>0} (a - E)^2/V - (sum(a - E))^2/sum(V)` on `k_yi - 1` df.
    ///
    /// # Errors
    /// As [`super::MantelHaenszel::fit`], and [`MetaError::TooFewStudies`] when one of the
    /// two outcomes occurs in no table (metafor: "Peto's method cannot be used").
    pub fn fit(&self, tables: &[TwoByTwo]) -> Result<PetoFit> {
        let analysis = "Peto's method (tables in which both outcomes occur)";
        let p = prepare(tables, TwoByTwoMeasure::PETO, &self.opts, analysis)?;
        let k = p.k();
        let mut oe = Vec::with_capacity(k);
        let mut var = Vec::with_capacity(k);
        for i in 0..k {
            let (a, b, c, d) = (p.a[i], p.b[i], p.c[i], p.d[i]);
            let n1 = a + b;
            let n2 = c + d;
            let n = n1 + n2;
            let xt = a + c;
            let yt = b + d;
            let e = xt * n1 / n;
            oe.push(a - e);
            var.push(xt * yt * (n1 / n) * (n2 / n) / (n - 1.0));
        }
        let sum_v = sum(var.iter().copied());
        if sum_v == 0.0 {
            return Err(MetaError::TooFewStudies {
                analysis: analysis.to_string(),
                needed: 1,
                found: 0,
            });
        }
        let beta = sum(oe.iter().copied()) / sum_v;
        let se = (1.0 / sum_v).sqrt();
        if !(beta.is_finite() && se.is_finite()) {
            return Err(MetaError::Numerical {
                context: "Peto's odds ratio (a table with n <= 1?)".into(),
            });
        }
        let zval = beta / se;
        let crit = norm_isf(p.alpha / 2.0);
        let k_pos = var.iter().filter(|&&v| v > 0.0).count();
        let s_oe = sum(oe.iter().copied());
        let q = (sum(oe
            .iter()
            .zip(&var)
            .filter(|(_, v)| **v > 0.0)
            .map(|(e, v)| e * e / v))
            - s_oe * s_oe / sum(var.iter().copied().filter(|&v| v > 0.0)))
        .max(0.0);
        let k_yi = p.k_yi();
        let df = k_yi as f64 - 1.0;
        let (q_p_value, i2, h2) = if k_pos > 1 {
            (chisq_sf(q, df), (100.0 * (q - df) / q).max(0.0), q / df)
        } else {
            (1.0, 0.0, 1.0)
        };
        let ci = (beta - crit * se, beta + crit * se);
        Ok(PetoFit {
            k,
            k_yi,
            k_pos,
            level: 100.0 * (1.0 - p.alpha),
            estimate: beta,
            se,
            statistic: zval,
            p_value: norm_p2(zval),
            ci_lower: ci.0,
            ci_upper: ci.1,
            q,
            q_df: df,
            q_p_value,
            i2,
            h2,
            back_transformed: BackTransformed::new(Transform::Exp, beta, ci, None),
            warnings: p.warnings,
            digits: self.opts.digits,
        })
    }
}

/// A fit of Peto's method. With the `serde` feature it serializes to the JSON of
/// `metan peto --format json`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PetoFit {
    k: usize,
    k_yi: usize,
    k_pos: usize,
    level: f64,
    estimate: f64,
    se: f64,
    statistic: f64,
    p_value: f64,
    ci_lower: f64,
    ci_upper: f64,
    q: f64,
    q_df: f64,
    q_p_value: f64,
    i2: f64,
    h2: f64,
    back_transformed: BackTransformed,
    warnings: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    digits: usize,
}

impl PetoFit {
    /// Number of tables used for the pooled estimate.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of per-study outcomes (metafor's `k.yi`): Q has `k_yi - 1` df.
    pub fn k_yi(&self) -> usize {
        self.k_yi
    }
    /// Number of tables with a positive variance (metafor's `k.pos`).
    pub fn k_pos(&self) -> usize {
        self.k_pos
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// Pooled log odds ratio.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// Its standard error.
    pub fn se(&self) -> f64 {
        self.se
    }
    /// z statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// Two-sided p-value.
    pub fn p_value(&self) -> f64 {
        self.p_value
    }
    /// Confidence interval.
    pub fn ci(&self) -> (f64, f64) {
        (self.ci_lower, self.ci_upper)
    }
    /// Q statistic.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Degrees of freedom of Q used for its p-value (`k_yi - 1`).
    pub fn q_df(&self) -> f64 {
        self.q_df
    }
    /// p-value of Q (1 when `k_pos <= 1`).
    pub fn q_p_value(&self) -> f64 {
        self.q_p_value
    }
    /// I^2 in percent.
    pub fn i2(&self) -> f64 {
        self.i2
    }
    /// H^2.
    pub fn h2(&self) -> f64 {
        self.h2
    }
    /// The estimate and CI as odds ratios.
    pub fn back_transformed(&self) -> BackTransformed {
        self.back_transformed
    }
    /// Warnings metafor would have given.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// The same fit, printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

impl fmt::Display for PetoFit {
    /// The layout of metafor's `print.rma.peto`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        write_heterogeneity(
            f,
            self.k,
            self.i2,
            self.h2,
            self.q,
            self.k_pos as i64 - 1,
            self.q_p_value,
            d,
        )?;
        write_results(
            f,
            (
                self.estimate,
                self.se,
                self.statistic,
                self.p_value,
                self.ci_lower,
                self.ci_upper,
            ),
            Some(("OR", &self.back_transformed)),
            d,
        )?;
        writeln!(f)
    }
}
