//! `Display` of [`LocationScaleFit`] in the layout of metafor's `print.rma.uni` for
//! location-scale models, followed by the likelihood-ratio test against a constant tau^2
//! and, for a categorical scale moderator, tau^2 per level.

use std::fmt;

use crate::model::heterogeneity::write_q_test;

use super::LocationScaleFit;
use crate::format::{SIGNIF_LEGEND, fcf, format_df, print_frame, print_vector, pval_str, stars};
use crate::model::regression::design::format_btt;

/// `"F(df1 = m, df2 = d) = s, p-val ..."` or `"<name>(df = m) = s, p-val ..."`.
fn wald_line(name: &str, s: f64, df: (f64, Option<f64>), p: f64, d: usize) -> String {
    match df.1 {
        Some(df2) => format!(
            "F(df1 = {}, df2 = {}) = {}, p-val {}",
            df.0,
            format_df(df2),
            fcf(s, d),
            pval_str(p, d, true, " ")
        ),
        None => format!(
            "{name}(df = {}) = {}, p-val {}",
            df.0,
            fcf(s, d),
            pval_str(p, d, true, " ")
        ),
    }
}

/// One coefficient table (a vector print when it has a single row).
struct Table<'a> {
    names: Vec<String>,
    est: Vec<String>,
    se: Vec<String>,
    stat: Vec<String>,
    df: Option<Vec<String>>,
    pval: Vec<String>,
    lo: Vec<String>,
    hi: Vec<String>,
    stars: Vec<&'a str>,
    vector: bool,
}

impl Table<'_> {
    fn write(self, f: &mut fmt::Formatter<'_>, t: bool) -> fmt::Result {
        let mut headers = vec!["estimate", "se", if t { "tval" } else { "zval" }];
        let mut cols = vec![self.est, self.se, self.stat];
        if let Some(df) = self.df {
            headers.push("df");
            cols.push(df);
        }
        headers.extend(["pval", "ci.lb", "ci.ub", ""]);
        cols.push(self.pval);
        cols.push(self.lo);
        cols.push(self.hi);
        cols.push(self.stars.iter().map(|s| s.to_string()).collect());
        if self.vector {
            let cells: Vec<(&str, String)> = headers
                .iter()
                .zip(&cols)
                .map(|(h, c)| (*h, c[0].clone()))
                .collect();
            print_vector(f, &cells)
        } else {
            print_frame(f, &self.names, &headers, &cols, 2)
        }
    }
}

impl fmt::Display for LocationScaleFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let t = self.test.uses_t();
        writeln!(f)?;
        writeln!(
            f,
            "Location-Scale Model (k = {}; tau^2 estimator: {})",
            self.k, self.method
        )?;
        writeln!(f)?;
        write_q_test(f, !self.int_only, self.q_df, self.q, self.q_p_value, d)?;
        writeln!(f)?;
        if let (true, Some(qm), Some(qp)) = (self.p > 1, self.qm, self.qm_p_value) {
            writeln!(
                f,
                "Test of Location Coefficients (coefficient{} {}):",
                if self.btt.len() == 1 { "" } else { "s" },
                format_btt(&self.btt)
            )?;
            writeln!(f, "{}", wald_line("QM", qm, self.qm_df, qp, d))?;
            writeln!(f)?;
        }
        writeln!(f, "Model Results (Location):")?;
        writeln!(f)?;
        let c = &self.coefficients;
        Table {
            names: c.iter().map(|c| c.name.clone()).collect(),
            est: c.iter().map(|c| fcf(c.estimate, d)).collect(),
            se: c.iter().map(|c| fcf(c.se, d)).collect(),
            stat: c.iter().map(|c| fcf(c.statistic, d)).collect(),
            df: t.then(|| {
                c.iter()
                    .map(|c| c.df.map_or("NA".into(), format_df))
                    .collect()
            }),
            pval: c
                .iter()
                .map(|c| pval_str(c.p_value, d, false, ""))
                .collect(),
            lo: c.iter().map(|c| fcf(c.ci_lower, d)).collect(),
            hi: c.iter().map(|c| fcf(c.ci_upper, d)).collect(),
            stars: c.iter().map(|c| stars(c.p_value)).collect(),
            vector: self.int_only,
        }
        .write(f, t)?;
        if let (true, Some(qs), Some(qp)) = (self.q_params > 1, self.qs, self.qs_p_value) {
            writeln!(f)?;
            writeln!(
                f,
                "Test of Scale Coefficients (coefficient{} {}):",
                if self.att.len() == 1 { "" } else { "s" },
                format_btt(&self.att)
            )?;
            writeln!(f, "{}", wald_line("QS", qs, self.qs_df, qp, d))?;
        }
        writeln!(f)?;
        writeln!(f, "Model Results (Scale):")?;
        writeln!(f)?;
        let s = &self.scale_coefficients;
        let na = |x: Option<f64>| x.map_or("NA".to_string(), |v| fcf(v, d));
        Table {
            names: s.iter().map(|c| c.name.clone()).collect(),
            est: s
                .iter()
                .map(|c| match (c.estimate, c.boundary) {
                    (_, Some(b)) if b < 0.0 => "-Inf".to_string(),
                    (_, Some(_)) => "Inf".to_string(),
                    (e, None) => na(e),
                })
                .collect(),
            se: s.iter().map(|c| na(c.se)).collect(),
            stat: s.iter().map(|c| na(c.statistic)).collect(),
            df: t.then(|| {
                s.iter()
                    .map(|c| c.df.map_or("NA".into(), format_df))
                    .collect()
            }),
            pval: s
                .iter()
                .map(|c| c.p_value.map_or("NA".into(), |p| pval_str(p, d, false, "")))
                .collect(),
            lo: s.iter().map(|c| na(c.ci_lower)).collect(),
            hi: s.iter().map(|c| na(c.ci_upper)).collect(),
            stars: s.iter().map(|c| c.p_value.map_or("", stars)).collect(),
            vector: s.len() == 1,
        }
        .write(f, t)?;
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(f, "{SIGNIF_LEGEND}")?;
        writeln!(f)?;
        // beyond metafor's print: the boundary note, the LRT and tau^2 per level
        if s.iter().any(|c| c.boundary.is_some()) {
            writeln!(
                f,
                "Note: -Inf or Inf marks a scale coefficient on the boundary of the likelihood (it \
                 keeps increasing as tau^2 -> 0 for the studies concerned); it is left out of QS."
            )?;
            writeln!(f)?;
        }
        if let Some(l) = &self.lrt {
            writeln!(f, "Likelihood-Ratio Test against a constant tau^2:")?;
            writeln!(
                f,
                "LRT(df = {}) = {}, p-val {}",
                l.df,
                fcf(l.statistic, d),
                pval_str(l.p_value, d, true, " ")
            )?;
            writeln!(f)?;
        }
        if let Some(first) = self.tau2_levels.first() {
            writeln!(
                f,
                "tau^2 by level of {} (predict(fit, newscale), exponentiated):",
                first.moderator
            )?;
            writeln!(f)?;
            let l = &self.tau2_levels;
            let opt = |x: Option<f64>| x.map_or("NA".to_string(), |v| fcf(v, d));
            print_frame(
                f,
                &l.iter().map(|x| x.level.clone()).collect::<Vec<_>>(),
                &["k", "tau2", "ci.lb", "ci.ub"],
                &[
                    l.iter().map(|x| x.k.to_string()).collect(),
                    l.iter().map(|x| fcf(x.tau2, d)).collect(),
                    l.iter().map(|x| opt(x.ci_lower)).collect(),
                    l.iter().map(|x| opt(x.ci_upper)).collect(),
                ],
                2,
            )?;
            writeln!(f)?;
        }
        Ok(())
    }
}
