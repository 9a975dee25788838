//! 2x2 tables prepared for the Mantel-Haenszel and Peto methods: validation, the
//! per-study `yi`/`vi` behind Q and I^2, and the (by default uncorrected) tables the
//! pooled estimate is computed from.
//!
//! metafor's `rma.mh` and `rma.peto` take `add`, `to` and `drop00` with one or two values:
//! the first for the per-study outcomes (defaults `1/2`, `"only0"`, `TRUE`), the second for
//! the tables of the pooled estimate (defaults `0`, `"none"`, `FALSE`: no correction).

use std::fmt;

use crate::data::effect_size::{
    Labels, Options, To, TwoByTwo, TwoByTwoMeasure, VarianceType, two_by_two_effects,
};
use crate::error::{MetaError, Result};
use crate::numeric::dist::chisq_sf;

/// The builder setters of the options in [`TableOptions`], shared by
/// [`super::MantelHaenszel`] and [`super::Peto`] (each keeps them in a field `opts`).
macro_rules! table_option_setters {
    () => {
        /// Continuity correction of the per-study outcomes behind Q and I^2 (metafor's first
        /// `add`; default 1/2).
        #[allow(clippy::should_implement_trait)] // metafor's argument name
        pub fn add(mut self, add: f64) -> Self {
            self.opts.add = add;
            self
        }
        /// Which per-study outcomes get `add` (metafor's first `to`; default `only0`).
        pub fn to(mut self, to: To) -> Self {
            self.opts.to = to;
            self
        }
        /// Whether per-study outcomes of double-zero tables are `NA` (metafor's first
        /// `drop00`; default true).
        pub fn drop00(mut self, drop00: bool) -> Self {
            self.opts.drop00 = drop00;
            self
        }
        /// Continuity correction of the tables of the pooled estimate (metafor's second
        /// `add`; default 0).
        pub fn table_add(mut self, add: f64) -> Self {
            self.opts.table_add = add;
            self
        }
        /// Which tables of the pooled estimate get `table_add` (metafor's second `to`;
        /// default `none`).
        pub fn table_to(mut self, to: To) -> Self {
            self.opts.table_to = to;
            self
        }
        /// Whether double-zero tables are left out of the pooled estimate (metafor's second
        /// `drop00`; default false).
        pub fn table_drop00(mut self, drop00: bool) -> Self {
            self.opts.table_drop00 = drop00;
            self
        }
        /// Confidence level in percent (default 95; below 1 read as a proportion).
        pub fn level(mut self, level: f64) -> Self {
            self.opts.level = level;
            self
        }
        /// Study labels, one per table (for error messages).
        pub fn labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
            self.opts.labels = Some(labels.into_iter().map(Into::into).collect());
            self
        }
        /// Decimals used by `Display` (default 4).
        pub fn digits(mut self, digits: usize) -> Self {
            self.opts.digits = digits;
            self
        }
    };
}
pub(crate) use table_option_setters;

/// Corrections and level shared by [`super::MantelHaenszel`] and [`super::Peto`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableOptions {
    pub add: f64,
    pub to: To,
    pub drop00: bool,
    pub table_add: f64,
    pub table_to: To,
    pub table_drop00: bool,
    pub level: f64,
    pub labels: Option<Vec<String>>,
    pub digits: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            add: 0.5,
            to: To::Only0,
            drop00: true,
            table_add: 0.0,
            table_to: To::None,
            table_drop00: false,
            level: 95.0,
            labels: None,
            digits: 4,
        }
    }
}

/// The tables of the pooled estimate and the per-study outcomes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    /// Cells of the tables used for the pooled estimate (after removal and correction).
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
    pub d: Vec<f64>,
    /// Per-study outcomes with both `yi` and `vi` defined.
    pub yi: Vec<f64>,
    pub vi: Vec<f64>,
    /// `alpha` of the confidence level.
    pub alpha: f64,
    pub warnings: Vec<String>,
}

impl Prepared {
    /// Number of tables used for the pooled estimate (metafor's `k`).
    pub fn k(&self) -> usize {
        self.a.len()
    }
    /// Number of per-study outcomes (metafor's `k.yi`).
    pub fn k_yi(&self) -> usize {
        self.yi.len()
    }
}

/// Validates the options and tables, and prepares both sets of data.
pub(crate) fn prepare(
    tables: &[TwoByTwo],
    measure: TwoByTwoMeasure,
    o: &TableOptions,
    analysis: &str,
) -> Result<Prepared> {
    let alpha = alpha_of(o.level)?;
    super::analysis::check_digits(o.digits)?;
    for (name, a) in [("add", o.add), ("table_add", o.table_add)] {
        if !(a.is_finite() && a >= 0.0) {
            return Err(MetaError::invalid_option(
                name,
                a,
                "the continuity correction must be finite and >= 0 (metafor: a non-negative number)",
            ));
        }
    }
    if tables.is_empty() {
        return Err(MetaError::Empty);
    }
    let labels = match &o.labels {
        Some(l) if l.len() == tables.len() => Labels(Some(l.clone())),
        Some(l) => {
            return Err(MetaError::LengthMismatch {
                field: "labels".into(),
                expected: tables.len(),
                found: l.len(),
            });
        }
        None => Labels(None),
    };
    for (i, t) in tables.iter().enumerate() {
        t.validate(i, &labels)?;
    }
    let mut warnings = Vec::new();

    let per_study = two_by_two_effects(
        tables,
        measure,
        &Options {
            add: o.add,
            to: o.to,
            drop00: o.drop00,
            vtype: VarianceType::LS,
        },
    );
    let (yi, vi): (Vec<f64>, Vec<f64>) = per_study.iter().filter_map(|&(y, v)| y.zip(v)).unzip();
    if yi.len() < tables.len() {
        warnings.push("Some yi/vi values are NA.".to_string());
    }

    let double_zero =
        |t: &TwoByTwo| (t.ai() == 0.0 && t.ci() == 0.0) || (t.bi() == 0.0 && t.di() == 0.0);
    let kept: Vec<&TwoByTwo> = tables
        .iter()
        .filter(|t| !(o.table_drop00 && double_zero(t)))
        .collect();
    if kept.len() < tables.len() {
        warnings.push("Tables with NAs omitted from model fitting.".to_string());
    }
    if kept.is_empty() {
        return Err(MetaError::TooFewStudies {
            analysis: analysis.to_string(),
            needed: 1,
            found: 0,
        });
    }
    let has_zero = |t: &TwoByTwo| t.ai() == 0.0 || t.bi() == 0.0 || t.ci() == 0.0 || t.di() == 0.0;
    let any_zero = kept.iter().any(|t| has_zero(t));
    let mut p = Prepared {
        a: Vec::with_capacity(kept.len()),
        b: Vec::with_capacity(kept.len()),
        c: Vec::with_capacity(kept.len()),
        d: Vec::with_capacity(kept.len()),
        yi,
        vi,
        alpha,
        warnings,
    };
    for t in kept {
        let fix = match o.table_to {
            To::All => true,
            To::Only0 => has_zero(t),
            To::If0All => any_zero,
            To::None => false,
        };
        let add = if fix { o.table_add } else { 0.0 };
        p.a.push(t.ai() + add);
        p.b.push(t.bi() + add);
        p.c.push(t.ci() + add);
        p.d.push(t.di() + add);
    }
    Ok(p)
}

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

/// Compensated (Neumaier) sum: R's `sum()` accumulates in extended precision, and the
/// Mantel-Haenszel variances take differences of such sums.
pub(crate) fn sum(it: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = 0.0f64;
    let mut comp = 0.0f64;
    for x in it {
        let t = s + x;
        if s.abs() >= x.abs() {
            comp += (s - t) + x;
        } else {
            comp += (x - t) + s;
        }
        s = t;
    }
    s + comp
}

/// Q, its df and p-value, I^2 and H^2 of the equal-effects model around `beta`, as
/// metafor's `rma.mh`.
///
/// # Formula
/// `Q = max(0, sum (yi - beta)^2 / vi)` on `k_yi - 1` df; `I2 = max(0, 100 (Q - df)/Q)`,
/// `H2 = Q/df`; with `k_yi <= 1`: `Q = 0`, `p = 1`, `I2 = 0`, `H2 = 1`.
pub(crate) fn heterogeneity(yi: &[f64], vi: &[f64], beta: f64) -> (f64, f64, f64, f64, f64) {
    let k = yi.len();
    if k <= 1 {
        return (0.0, 0.0, 1.0, 0.0, 1.0);
    }
    let df = (k - 1) as f64;
    let q = sum(yi.iter().zip(vi).map(|(y, v)| (y - beta) * (y - beta) / v)).max(0.0);
    let q = if beta.is_nan() { f64::NAN } else { q };
    let i2 = (100.0 * (q - df) / q).max(0.0);
    (
        q,
        df,
        chisq_sf(q, df),
        if q.is_nan() { q } else { i2 },
        q / df,
    )
}

/// The heterogeneity block shared by the MH and Peto printouts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_heterogeneity(
    f: &mut fmt::Formatter<'_>,
    k: usize,
    i2: f64,
    h2: f64,
    q: f64,
    q_df_printed: i64,
    q_p: f64,
    d: usize,
) -> fmt::Result {
    use crate::format::{fcf, pval_str};
    writeln!(f)?;
    writeln!(f, "Equal-Effects Model (k = {k})")?;
    writeln!(f)?;
    if !i2.is_nan() {
        writeln!(
            f,
            "I^2 (total heterogeneity / total variability):  {}%",
            fcf(i2, 2)
        )?;
    }
    if !h2.is_nan() {
        writeln!(
            f,
            "H^2 (total variability / sampling variability): {}",
            fcf(h2, 2)
        )?;
    }
    if !q.is_nan() {
        writeln!(f)?;
        writeln!(f, "Test for Heterogeneity: ")?;
        write!(
            f,
            "Q(df = {q_df_printed}) = {}, p-val {}",
            fcf(q, d),
            pval_str(q_p, d, true, " ")
        )?;
    }
    if !(i2.is_nan() && h2.is_nan() && q.is_nan()) {
        writeln!(f)?;
        writeln!(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum() {
        assert_eq!(sum([1e16, 1.0, -1e16]), 1.0);
    }
}
