//! `Display` of [`RobustFit`]: clubSandwich's `coef_test` / `conf_int` / `Wald_test`
//! print layouts for CR2, and the cluster-robust part of metafor's `print.robust.rma`
//! for CR1.

use std::fmt;

use super::{RobustFit, RobustKind, WaldTest};
use crate::format::{
    SIGNIF_LEGEND, fcf, format_column, format_df, format_num, format_pval, print_columns,
    print_frame, print_vector, pval_str, stars,
};
use crate::model::regression::print::write_qm;

impl RobustFit {
    /// True for a model whose only coefficient is the intercept.
    fn int_only(&self) -> bool {
        self.coefficients.len() == 1 && self.coefficients[0].name == "intrcpt"
    }

    /// clubSandwich's `print(coef_test(...))`.
    pub(crate) fn coef_test_table(&self) -> String {
        let c = &self.coefficients;
        let col = |f: &dyn Fn(&crate::model::Coefficient) -> f64| -> Vec<f64> {
            c.iter().map(f).collect()
        };
        let p: Vec<f64> = col(&|c| c.p_value);
        let df_label = match self.kind {
            RobustKind::CR2 => "Satt",
            RobustKind::CR1 => "naive-tp",
        };
        let h_df = format!("d.f. ({df_label})");
        let h_p = format!("p-val ({df_label})");
        print_columns(
            None,
            &["Coef.", "Estimate", "SE", "t-stat", &h_df, &h_p, "Sig."],
            &[
                c.iter().map(|c| c.name.clone()).collect(),
                format_column(&col(&|c| c.estimate), 3, true),
                format_column(&col(&|c| c.se), 3, true),
                format_column(&col(&|c| c.statistic), 3, true),
                format_column(&col(&|c| c.df.unwrap_or(f64::NAN)), 3, true),
                format_pval(&p, 3, 1e-3),
                p.iter().map(|&p| stars(p).to_string()).collect(),
            ],
        )
    }

    /// clubSandwich's `print(conf_int(...))`.
    pub(crate) fn conf_int_table(&self) -> String {
        let c = &self.coefficients;
        let col = |f: &dyn Fn(&crate::model::Coefficient) -> f64| -> Vec<f64> {
            c.iter().map(f).collect()
        };
        let lev = format!("{}%", format_num(self.level, 15));
        let lo = format!("Lower {lev} CI");
        let hi = format!("Upper {lev} CI");
        print_columns(
            None,
            &["Coef.", "Estimate", "SE", "d.f.", &lo, &hi],
            &[
                c.iter().map(|c| c.name.clone()).collect(),
                format_column(&col(&|c| c.estimate), 3, true),
                format_column(&col(&|c| c.se), 3, true),
                format_column(&col(&|c| c.df.unwrap_or(f64::NAN)), 3, true),
                format_column(&col(&|c| c.ci_lower), 3, true),
                format_column(&col(&|c| c.ci_upper), 3, true),
            ],
        )
    }

    /// metafor's `print.robust.rma` from "Number of estimates" to the footnote.
    fn write_metafor(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        writeln!(f, "Number of estimates:   {}", self.k)?;
        writeln!(f, "Number of clusters:    {}", self.clusters)?;
        let sizes = &self.sizes;
        let min = sizes.iter().copied().min().unwrap_or(0);
        let max = sizes.iter().copied().max().unwrap_or(0);
        if min == max {
            writeln!(f, "Estimates per cluster: {min}")?;
        } else {
            let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
            let mut s = sizes.clone();
            s.sort_unstable();
            let n = s.len();
            let median = if n % 2 == 1 {
                s[n / 2] as f64
            } else {
                0.5 * (s[n / 2 - 1] + s[n / 2]) as f64
            };
            writeln!(
                f,
                "Estimates per cluster: {min}-{max} (mean: {}, median: {})",
                fcf(mean, 2),
                format_num((median * 100.0).round() / 100.0, 15)
            )?;
        }
        writeln!(f)?;
        if let Some(w) = &self.omnibus {
            if self.coefficients.len() > 1 {
                write_qm(
                    f,
                    &self.btt,
                    w.statistic,
                    (w.df_num, w.df_denom),
                    w.p_value.unwrap_or(f64::NAN),
                    d,
                    true,
                )?;
                writeln!(f)?;
            }
        }
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        let c = &self.coefficients;
        let mark = |s: String| s + " ";
        let headers = [
            "estimate",
            "se\u{b9}",
            "tval\u{b9}",
            "df\u{b9}",
            "pval\u{b9}",
            "ci.lb\u{b9}",
            "ci.ub\u{b9}",
            "",
        ];
        let cols: Vec<Vec<String>> = vec![
            c.iter().map(|c| fcf(c.estimate, d)).collect(),
            c.iter().map(|c| mark(fcf(c.se, d))).collect(),
            c.iter().map(|c| mark(fcf(c.statistic, d))).collect(),
            c.iter()
                .map(|c| mark(c.df.map_or("NA".into(), format_df)))
                .collect(),
            c.iter()
                .map(|c| mark(pval_str(c.p_value, d, false, "")))
                .collect(),
            c.iter().map(|c| mark(fcf(c.ci_lower, d))).collect(),
            c.iter().map(|c| mark(fcf(c.ci_upper, d))).collect(),
            c.iter().map(|c| stars(c.p_value).to_string()).collect(),
        ];
        if self.int_only() {
            let cells: Vec<(&str, String)> = headers
                .iter()
                .zip(&cols)
                .map(|(h, col)| (*h, col[0].clone()))
                .collect();
            print_vector(f, &cells)?;
        } else {
            let rows: Vec<String> = c.iter().map(|c| c.name.clone()).collect();
            print_frame(f, &rows, &headers, &cols, 2)?;
        }
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(f, "{SIGNIF_LEGEND}")?;
        writeln!(f)?;
        writeln!(
            f,
            "1) results based on cluster-robust inference (var-cov estimator: {},",
            self.kind
        )?;
        let what = if self.int_only() {
            "t-test and confidence interval"
        } else {
            "t/F-tests and confidence intervals"
        };
        let df = match self.kind {
            RobustKind::CR1 => "residual method",
            RobustKind::CR2 => "Satterthwaite approx",
        };
        writeln!(f, "   approx {what}, df: {df})")?;
        writeln!(f)
    }
}

/// clubSandwich's `print(Wald_test(...))` of one or more tests.
pub(crate) fn wald_table(tests: &[&WaldTest]) -> String {
    let p: Vec<f64> = tests
        .iter()
        .map(|t| t.p_value.unwrap_or(f64::NAN))
        .collect();
    print_columns(
        None,
        &["test", "Fstat", "df_num", "df_denom", "p_val", "sig"],
        &[
            tests.iter().map(|t| t.test.to_string()).collect(),
            format_column(
                &tests.iter().map(|t| t.statistic).collect::<Vec<_>>(),
                3,
                true,
            ),
            format_column(&tests.iter().map(|t| t.df_num).collect::<Vec<_>>(), 3, true),
            format_column(
                &tests
                    .iter()
                    .map(|t| t.df_denom.unwrap_or(f64::INFINITY))
                    .collect::<Vec<_>>(),
                3,
                true,
            ),
            format_pval(&p, 3, 1e-3),
            p.iter()
                .map(|&p| if p.is_nan() { "" } else { stars(p) }.to_string())
                .collect(),
        ],
    )
}

impl fmt::Display for RobustFit {
    /// CR2: clubSandwich's `coef_test`, `conf_int` and (with moderators) HTZ `Wald_test`
    /// tables; CR1: metafor's `print.robust.rma` from "Number of estimates" on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RobustKind::CR1 => self.write_metafor(f),
            RobustKind::CR2 => {
                write!(f, "{}", self.coef_test_table())?;
                writeln!(f)?;
                write!(f, "{}", self.conf_int_table())?;
                if let Some(w) = &self.omnibus {
                    writeln!(f)?;
                    write!(f, "{}", wald_table(&[w]))?;
                }
                Ok(())
            }
        }
    }
}
