//! `Display` of [`MvFit`] in the layout of metafor's `print.rma.mv`, and of
//! [`LinearHypotheses`] in that of `print.anova.rma`.

use std::fmt;

use crate::model::heterogeneity::write_q_test;

use super::fit::{LinearHypotheses, MvFit, RandomPart};
use super::params::Structure;
use crate::format::{SIGNIF_LEGEND, fcf, format_df, print_frame, print_vector, pval_str, stars};
use crate::model::regression::print::write_qm;

/// R's `as.character` of a number: integers without decimals, others in the shortest
/// form that round-trips.
pub(crate) fn r_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// R's `abbreviate(x, minlength = 4)`: lower-case vowels, then lower-case letters, are
/// dropped from the end (never the first character) until the name is short enough.
pub(crate) fn abbreviate(s: &str) -> String {
    const MIN: usize = 4;
    let mut c: Vec<char> = s.chars().filter(|ch| !ch.is_whitespace()).collect();
    if s.chars().count() <= MIN {
        return s.to_string();
    }
    for class in [
        (|ch: char| "aeiou".contains(ch)) as fn(char) -> bool,
        |ch: char| ch.is_ascii_lowercase(),
    ] {
        while c.len() > MIN {
            match (1..c.len()).rev().find(|&i| class(c[i])) {
                Some(i) => {
                    c.remove(i);
                }
                None => break,
            }
        }
    }
    c.into_iter().collect()
}

impl fmt::Display for MvFit {
    /// metafor's `print.rma.mv`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        writeln!(f)?;
        writeln!(
            f,
            "Multivariate Meta-Analysis Model (k = {}; method: {})",
            self.k, self.method
        )?;
        writeln!(f)?;
        writeln!(f, "Variance Components:")?;
        writeln!(f)?;
        match &self.random {
            RandomPart::Multilevel {
                sigma2,
                nlevels,
                factors,
            } => {
                let rows: Vec<String> =
                    (1..=sigma2.len()).map(|i| format!("sigma^2.{i}")).collect();
                let cols = vec![
                    sigma2.iter().map(|s| fcf(*s, d)).collect(),
                    sigma2.iter().map(|s| fcf(s.sqrt(), d)).collect(),
                    nlevels.iter().map(|n| n.to_string()).collect(),
                    vec!["no".to_string(); sigma2.len()],
                    factors.clone(),
                ];
                print_frame(
                    f,
                    &rows,
                    &["estim", "sqrt", "nlvls", "fixed", "factor"],
                    &cols,
                    2,
                )?;
                writeln!(f)?;
            }
            RandomPart::Multivariate {
                outcome,
                cluster,
                structure,
                levels,
                tau2,
                rho,
                rho_fixed,
                k_per_level,
                pairs_together,
            } => {
                let mng = outcome.chars().count().max(cluster.chars().count());
                writeln!(
                    f,
                    "outer factor: {cluster:<mng$} (nlvls = {})",
                    self.n_clusters
                )?;
                writeln!(
                    f,
                    "inner factor: {outcome:<mng$} (nlvls = {})",
                    levels.len()
                )?;
                writeln!(f)?;
                let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
                match structure {
                    Structure::CS => {
                        let rows = vec!["tau^2    ".to_string(), "rho".to_string()];
                        let cols = vec![
                            vec![fcf(tau2[0], d), fcf(rho[0], d)],
                            vec![fcf(tau2[0].sqrt(), d), String::new()],
                            vec!["no".into(), "no".into()],
                        ];
                        print_frame(f, &rows, &["estim", "sqrt", "fixed"], &cols, 2)?;
                    }
                    Structure::HCS | Structure::UN => {
                        let m = levels.len();
                        let mut rows: Vec<String> =
                            (1..=m).map(|i| format!("tau^2.{i}  ")).collect();
                        let mut cols: Vec<Vec<String>> = vec![
                            tau2.iter().map(|t| fcf(*t, d)).collect(),
                            tau2.iter().map(|t| fcf(t.sqrt(), d)).collect(),
                            k_per_level.iter().map(|n| n.to_string()).collect(),
                            vec!["no".to_string(); m],
                            levels.clone(),
                        ];
                        if *structure == Structure::HCS {
                            rows.push("rho".into());
                            let extra = [
                                fcf(rho[0], d),
                                String::new(),
                                String::new(),
                                yn(false),
                                String::new(),
                            ];
                            for (c, e) in cols.iter_mut().zip(extra) {
                                c.push(e);
                            }
                        }
                        print_frame(
                            f,
                            &rows,
                            &["estim", "sqrt", "k.lvl", "fixed", "level"],
                            &cols,
                            2,
                        )?;
                        if *structure == Structure::UN {
                            writeln!(f)?;
                            let pairs = super::params::lower_pairs(m);
                            let mut g = vec![vec![String::new(); m]; m];
                            let mut info = vec![vec![String::new(); m]; m];
                            for a in 0..m {
                                g[a][a] = "1".into();
                                info[a][a] = "-".into();
                            }
                            for (pi, &(a, b)) in pairs.iter().enumerate() {
                                g[a][b] = fcf(rho[pi], d);
                                info[a][b] = yn(rho_fixed[pi]);
                                info[b][a] = pairs_together[pi].to_string();
                            }
                            let ab: Vec<String> = levels.iter().map(|l| abbreviate(l)).collect();
                            let mut headers: Vec<String> =
                                ab.iter().map(|a| format!("rho.{a}")).collect();
                            headers.push(String::new());
                            headers.extend(ab.iter().cloned());
                            let mut cols: Vec<Vec<String>> = (0..m)
                                .map(|b| (0..m).map(|a| g[a][b].clone()).collect())
                                .collect();
                            cols.push(vec![String::new(); m]);
                            cols.extend(
                                (0..m).map(|b| {
                                    (0..m).map(|a| info[a][b].clone()).collect::<Vec<_>>()
                                }),
                            );
                            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
                            print_frame(f, levels, &h, &cols, 2)?;
                        }
                    }
                }
                writeln!(f)?;
            }
        }
        write_q_test(f, !self.int_only, self.q_df, self.q, self.q_p_value, d)?;
        writeln!(f)?;
        if let (Some(qm), Some(qp)) = (self.qm, self.qm_p_value) {
            write_qm(f, &self.btt, qm, (self.qm_df, self.qm_df2), qp, d, false)?;
            writeln!(f)?;
        }
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        let c = &self.coefficients;
        let t = self.test.uses_t();
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
        headers.extend(["pval", "ci.lb", "ci.ub", ""]);
        cols.push(
            c.iter()
                .map(|c| pval_str(c.p_value, d, false, ""))
                .collect(),
        );
        cols.push(c.iter().map(|c| fcf(c.ci_lower, d)).collect());
        cols.push(c.iter().map(|c| fcf(c.ci_upper, d)).collect());
        cols.push(c.iter().map(|c| stars(c.p_value).to_string()).collect());
        if self.int_only {
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
        writeln!(f)
    }
}

impl fmt::Display for LinearHypotheses {
    /// metafor's `print.anova.rma` for `anova(fit, X = L)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        let rows = self.rows();
        let m = rows.len();
        writeln!(f)?;
        writeln!(f, "{}", if m == 1 { "Hypothesis:" } else { "Hypotheses:" })?;
        let labels: Vec<String> = (1..=m).map(|i| format!("{i}:")).collect();
        let descr: Vec<String> = rows.iter().map(|r| r.description.clone()).collect();
        print_frame(f, &labels, &[""], &[descr], 1)?;
        writeln!(f)?;
        writeln!(f, "Results:")?;
        let t = self.test().uses_t();
        let mut headers = vec!["estimate", "se", if t { "tval" } else { "zval" }];
        let mut cols: Vec<Vec<String>> = vec![
            rows.iter().map(|r| fcf(r.estimate, d)).collect(),
            rows.iter().map(|r| fcf(r.se, d)).collect(),
            rows.iter().map(|r| fcf(r.statistic, d)).collect(),
        ];
        if t {
            headers.push("df");
            cols.push(
                rows.iter()
                    .map(|r| r.df.map_or("NA".into(), format_df))
                    .collect(),
            );
        }
        headers.push("pval");
        cols.push(
            rows.iter()
                .map(|r| pval_str(r.p_value, d, false, ""))
                .collect(),
        );
        print_frame(f, &labels, &headers, &cols, 1)?;
        if let (Some(qm), Some(qp)) = (self.qm(), self.qm_p_value()) {
            writeln!(f)?;
            writeln!(
                f,
                "{}",
                if m == 1 {
                    "Test of Hypothesis:"
                } else {
                    "Omnibus Test of Hypotheses:"
                }
            )?;
            let (df1, df2) = self.qm_df();
            match df2 {
                Some(df2) => writeln!(
                    f,
                    "F(df1 = {df1}, df2 = {}) = {}, p-val {}",
                    format_df(df2),
                    fcf(qm, d),
                    pval_str(qp, d, true, " ")
                )?,
                None => writeln!(
                    f,
                    "QM(df = {df1}) = {}, p-val {}",
                    fcf(qm, d),
                    pval_str(qp, d, true, " ")
                )?,
            }
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_like_r() {
        // R: abbreviate(c("official", "partner", "AL", "verbal", "math"))
        assert_eq!(abbreviate("official"), "offc");
        assert_eq!(abbreviate("partner"), "prtn");
        assert_eq!(abbreviate("AL"), "AL");
        assert_eq!(abbreviate("verbal"), "vrbl");
        assert_eq!(abbreviate("math"), "math");
        assert_eq!(r_num(-1.0), "-1");
        assert_eq!(r_num(0.5), "0.5");
    }
}
