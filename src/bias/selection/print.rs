//! `Display` of [`SelectionFit`] in the layout of metafor's `print.rma.uni` for
//! `rma.uni.selmodel` objects.

use std::fmt;

use super::fit::{Bound, SelectionFit, delta_bounds};
use super::kind::SelectionType;
use crate::format::{SIGNIF_LEGEND, fcf, print_frame, print_vector, pval_str, stars};
use crate::model::format_btt;

/// metafor's labels of the p-value intervals: `"0     < p <= 0.025"`, the left ends
/// padded to a common width.
fn interval_labels(lower: &[f64], upper: &[f64]) -> Vec<String> {
    let l: Vec<String> = lower.iter().map(|x| r_num(*x)).collect();
    let w = l.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    l.iter()
        .zip(upper)
        .map(|(a, b)| format!("{a:<w$} < p <= {}", r_num(*b)))
        .collect()
}

/// R's `as.character` of a double: up to 15 significant digits, no trailing zeros.
pub(crate) fn r_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{:.15e}", x);
    let v: f64 = s.parse().unwrap_or(x);
    let mut out = format!("{v}");
    if out.contains('e') {
        out = format!("{v:e}");
    }
    out
}

impl fmt::Display for SelectionFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let eps10 = f64::EPSILON * 10.0;
        let io = self.int_only;
        writeln!(f)?;
        writeln!(
            f,
            "{} (k = {}; tau^2 estimator: ML)",
            if io {
                "Random-Effects Model"
            } else {
                "Mixed-Effects Model"
            },
            self.k
        )?;
        writeln!(f)?;
        let td = if self.tau2.abs() <= eps10 { 0 } else { d };
        let se = self
            .tau2_se
            .map(|s| format!(" (SE = {})", fcf(s, d)))
            .unwrap_or_default();
        let td2 = if self.tau2 <= eps10 { 0 } else { d };
        if io {
            writeln!(
                f,
                "tau^2 (estimated amount of total heterogeneity): {}{se}",
                fcf(self.tau2, td)
            )?;
            writeln!(
                f,
                "tau (square root of estimated tau^2 value):      {}",
                fcf(self.tau2.sqrt(), td2)
            )?;
        } else {
            writeln!(
                f,
                "tau^2 (estimated amount of residual heterogeneity):     {}{se}",
                fcf(self.tau2, td)
            )?;
            writeln!(
                f,
                "tau (square root of estimated tau^2 value):             {}",
                fcf(self.tau2.sqrt(), td2)
            )?;
        }
        writeln!(f)?;
        if let Some((lrt, p)) = self.lrt_tau2() {
            writeln!(
                f,
                "{}",
                if io {
                    "Test for Heterogeneity:"
                } else {
                    "Test for Residual Heterogeneity:"
                }
            )?;
            writeln!(
                f,
                "LRT(df = 1) = {}, p-val {}",
                fcf(lrt, d),
                pval_str(p, d, true, " ")
            )?;
            writeln!(f)?;
        }
        if let Some((qm, p)) = self.qm() {
            let m = self.btt.len();
            writeln!(
                f,
                "Test of Moderators (coefficient{} {}):",
                if m == 1 { "" } else { "s" },
                format_btt(&self.btt)
            )?;
            writeln!(
                f,
                "QM(df = {m}) = {}, p-val {}",
                fcf(qm, d),
                pval_str(p, d, true, " ")
            )?;
            writeln!(f)?;
        }
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        let c = &self.coefficients;
        let headers = ["estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""];
        let cols: Vec<Vec<String>> = vec![
            c.iter().map(|c| fcf(c.estimate, d)).collect(),
            c.iter().map(|c| fcf(c.se, d)).collect(),
            c.iter().map(|c| fcf(c.statistic, d)).collect(),
            c.iter()
                .map(|c| pval_str(c.p_value, d, false, ""))
                .collect(),
            c.iter().map(|c| fcf(c.ci_lower, d)).collect(),
            c.iter().map(|c| fcf(c.ci_upper, d)).collect(),
            c.iter().map(|c| stars(c.p_value).to_string()).collect(),
        ];
        if io {
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
        writeln!(f, "Test for Selection Model Parameters:")?;
        writeln!(
            f,
            "LRT(df = {}) = {}, p-val {}",
            self.lrt_df,
            fcf(self.lrt, d),
            pval_str(self.lrt_p_value.unwrap_or(f64::NAN), d, true, " ")
        )?;
        writeln!(f)?;
        writeln!(f, "Selection Model Results:")?;
        writeln!(f)?;
        // missing cells: "---" for a fixed delta, "NA" otherwise (metafor)
        let cell = |fixed: bool, x: Option<String>| {
            x.unwrap_or_else(|| if fixed { "---" } else { "NA" }.to_string())
        };
        let ds = &self.deltas;
        let mut cols: Vec<Vec<String>> = vec![
            ds.iter().map(|x| fcf(x.estimate, d)).collect(),
            ds.iter()
                .map(|x| cell(x.fixed, x.se.map(|v| fcf(v, d))))
                .collect(),
            ds.iter()
                .map(|x| cell(x.fixed, x.statistic.map(|v| fcf(v, d))))
                .collect(),
            ds.iter()
                .map(|x| cell(x.fixed, x.p_value.map(|v| pval_str(v, d, false, ""))))
                .collect(),
            ds.iter()
                .map(|x| cell(x.fixed, x.ci_lower.map(|v| fcf(v, d))))
                .collect(),
            ds.iter()
                .map(|x| cell(x.fixed, x.ci_upper.map(|v| fcf(v, d))))
                .collect(),
            ds.iter()
                .map(|x| x.p_value.map_or("", stars).to_string())
                .collect(),
        ];
        let mut headers = vec!["estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""];
        if self.kind == SelectionType::StepFunction {
            let pt = self.ptable.as_deref().unwrap_or(&[]);
            let lower: Vec<f64> = pt.iter().map(|r| r.lower).collect();
            let upper: Vec<f64> = pt.iter().map(|r| r.upper).collect();
            let rows = interval_labels(&lower, &upper);
            headers.insert(0, "k");
            cols.insert(0, pt.iter().map(|r| r.k.to_string()).collect());
            print_frame(f, &rows, &headers, &cols, 2)?;
        } else if ds.len() == 1 {
            let cells: Vec<(&str, String)> = headers
                .iter()
                .zip(&cols)
                .map(|(h, col)| (*h, col[0].clone()))
                .collect();
            print_vector(f, &cells)?;
        } else {
            let rows: Vec<String> = (1..=ds.len()).map(|j| format!("delta.{j}")).collect();
            print_frame(f, &rows, &headers, &cols, 2)?;
        }
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(f, "{SIGNIF_LEGEND}")?;
        writeln!(f)?;
        // not in metafor's print (it warns once, at the fit, when a delta is within
        // eps^(1/4) of a bound): a delta held on a bound is said to be one, after the table
        let null = self.kind.null_delta();
        let (lo, hi) = delta_bounds(self.kind);
        let several = ds.len() > 1;
        for (j, x) in ds.iter().enumerate() {
            let name = if several {
                format!("delta.{}", j + 1)
            } else {
                "delta".to_string()
            };
            match x.at_bound {
                None => {}
                Some(Bound::Lower) if x.estimate == null => writeln!(
                    f,
                    "Note: {name} is on its lower bound {} (no selection): the maximum is on the boundary, no standard error.",
                    r_num(lo)
                )?,
                Some(b) => writeln!(
                    f,
                    "Note: {name} is on its {} bound {}: the likelihood is flat or still rising towards it, so this is the bound, not a maximum (no standard error).",
                    match b {
                        Bound::Lower => "lower",
                        Bound::Upper => "upper",
                    },
                    r_num(if b == Bound::Upper { hi } else { lo })
                )?,
            }
        }
        if self.delta_at_bound() {
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_labels_pad_like_metafor() {
        let l = interval_labels(&[0.0, 0.025, 0.5], &[0.025, 0.5, 1.0]);
        assert_eq!(
            l,
            ["0     < p <= 0.025", "0.025 < p <= 0.5", "0.5   < p <= 1"]
        );
        assert_eq!(r_num(0.1), "0.1");
        assert_eq!(r_num(1.0), "1");
    }
}
