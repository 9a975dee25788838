//! `Display` of [`MetaRegressionFit`] in the layout of metafor's `print.rma.uni`.

use std::fmt;

use super::MetaRegressionFit;
use super::design::format_btt;
use crate::format::{SIGNIF_LEGEND, fcf, format_df, print_frame, print_vector, pval_str, stars};

/// The "Test of Moderators" line(s) for a Wald test.
/// `mark` appends metafor's footnote symbol (permutation tests).
pub(crate) fn write_qm(
    f: &mut fmt::Formatter<'_>,
    btt: &[usize],
    qm: f64,
    df: (f64, Option<f64>),
    p: f64,
    d: usize,
    mark: bool,
) -> fmt::Result {
    writeln!(
        f,
        "Test of Moderators (coefficient{} {}):{}",
        if btt.len() == 1 { "" } else { "s" },
        format_btt(btt),
        if mark { "\u{b9}" } else { "" }
    )?;
    match df.1 {
        Some(df2) => writeln!(
            f,
            "F(df1 = {}, df2 = {}) = {}, p-val {}",
            df.0,
            format_df(df2),
            fcf(qm, d),
            pval_str(p, d, true, " ")
        ),
        None => writeln!(
            f,
            "QM(df = {}) = {}, p-val {}",
            df.0,
            fcf(qm, d),
            pval_str(p, d, true, " ")
        ),
    }
}

impl fmt::Display for MetaRegressionFit {
    /// The layout of metafor's `print.rma.uni` (mixed-effects / fixed-effects with moderators
    /// models; the random-effects layout for an intercept-only model).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let ee = self.method.is_equal_effects();
        let io = self.int_only;
        writeln!(f)?;
        if ee {
            let name = match (io, self.method.equal_effects_title()) {
                (true, Some(title)) => title,
                (false, _) | (true, None) => "Fixed-Effects with Moderators Model",
            };
            writeln!(f, "{name} (k = {})", self.k)?;
        } else {
            let name = if io {
                "Random-Effects Model"
            } else {
                "Mixed-Effects Model"
            };
            if self.heterogeneity.tau2_fixed {
                writeln!(f, "{name} (k = {}; user-specified tau^2 value)", self.k)?;
            } else {
                writeln!(
                    f,
                    "{name} (k = {}; tau^2 estimator: {})",
                    self.k, self.method
                )?;
            }
        }
        writeln!(f)?;
        self.heterogeneity.write(f, d)?;
        if self.p > 1 && !self.qm.is_nan() {
            write_qm(
                f,
                &self.btt,
                self.qm,
                (self.qm_df, self.qm_df2),
                self.qm_p_value,
                d,
                false,
            )?;
            writeln!(f)?;
        }
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        write_coef_table(f, self, None, d)?;
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(f, "{SIGNIF_LEGEND}")?;
        writeln!(f)
    }
}

/// The coefficient table; `pvals` replaces the p-values (permutation tests).
pub(crate) fn write_coef_table(
    f: &mut fmt::Formatter<'_>,
    fit: &MetaRegressionFit,
    pvals: Option<&[f64]>,
    d: usize,
) -> fmt::Result {
    let c = &fit.coefficients;
    let t = fit.test.uses_t();
    let pv: Vec<f64> = match pvals {
        Some(p) => p.to_vec(),
        None => c.iter().map(|c| c.p_value).collect(),
    };
    let mut headers = vec!["estimate", "se", if t { "tval" } else { "zval" }];
    let mut cols: Vec<Vec<String>> = vec![
        c.iter().map(|c| fcf(c.estimate, d)).collect(),
        c.iter().map(|c| fcf(c.se, d)).collect(),
        c.iter().map(|c| fcf(c.statistic, d)).collect(),
    ];
    if t {
        headers.push("df");
        cols.push(
            c.iter()
                .map(|c| c.df.map_or("NA".into(), format_df))
                .collect(),
        );
    }
    // metafor's .addfootsym marks permutation p-values: `pval¹`, each value padded by a space
    let mark = pvals.is_some();
    headers.extend([
        if mark { "pval\u{b9}" } else { "pval" },
        "ci.lb",
        "ci.ub",
        "",
    ]);
    cols.push(
        pv.iter()
            .map(|&p| pval_str(p, d, false, "") + if mark { " " } else { "" })
            .collect(),
    );
    cols.push(c.iter().map(|c| fcf(c.ci_lower, d)).collect());
    cols.push(c.iter().map(|c| fcf(c.ci_upper, d)).collect());
    cols.push(pv.iter().map(|&p| stars(p).to_string()).collect());
    if fit.int_only {
        let cells: Vec<(&str, String)> = headers
            .iter()
            .zip(&cols)
            .map(|(h, col)| (*h, col[0].clone()))
            .collect();
        print_vector(f, &cells)
    } else {
        let rows: Vec<String> = c.iter().map(|c| c.name.clone()).collect();
        print_frame(f, &rows, &headers, &cols, 2)
    }
}
