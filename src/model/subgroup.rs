//! Subgroup analysis: a pooled estimate per level of a grouping attribute, the test for
//! subgroup differences with a separate tau^2 per subgroup (R meta's default) and with a
//! common tau^2 (a factor moderator, metafor's `rma(yi, vi, mods = ~ factor(g))`), and the
//! heterogeneity within each subgroup.
//!
//! # References
//! * Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
//!   *Introduction to meta-analysis*, ch. 19. Wiley.
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48.

use std::fmt;

use super::analysis::{CheckedMetaAnalysis, MetaAnalysis};
use super::fit::MetaFit;
use super::projection::{InterceptOnly, Projector};
use super::regression::design::{ModSpec, build, format_btt};
use super::regression::{Coefficient, MetaRegression};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::format::{SIGNIF_LEGEND, fcf, format_df, print_frame, pval_str, stars};
use crate::numeric::dist::chisq_sf;

/// One subgroup: its level and the model fitted to its studies.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Subgroup {
    level: String,
    fit: MetaFit,
}

impl Subgroup {
    /// The level of the grouping attribute.
    pub fn level(&self) -> &str {
        &self.level
    }
    /// The equal- or random-effects model of the subgroup's studies (its own tau^2, Q, I^2).
    pub fn fit(&self) -> &MetaFit {
        &self.fit
    }
}

/// A Q test of subgroup differences.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QBetween {
    /// The statistic.
    pub q: f64,
    /// Degrees of freedom (number of subgroups - 1).
    pub df: f64,
    /// p-value (chi^2).
    pub p_value: f64,
}

/// The subgroups as a factor moderator of one mixed-effects model: one tau^2 for all.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CommonTau2 {
    estimates: Vec<Coefficient>,
    tau2: f64,
    qe: f64,
    qe_df: f64,
    qe_p_value: f64,
    qm: f64,
    qm_df: f64,
    qm_df2: Option<f64>,
    qm_p_value: f64,
}

impl CommonTau2 {
    /// The subgroup estimates (coefficients of the factor without intercept), named
    /// attribute + level.
    pub fn estimates(&self) -> &[Coefficient] {
        &self.estimates
    }
    /// The common (residual) tau^2.
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// QE: the pooled within-subgroup heterogeneity statistic.
    pub fn qe(&self) -> f64 {
        self.qe
    }
    /// Degrees of freedom of QE (`k - number of subgroups`).
    pub fn qe_df(&self) -> f64 {
        self.qe_df
    }
    /// p-value of QE.
    pub fn qe_p_value(&self) -> f64 {
        self.qe_p_value
    }
    /// The test of equal subgroup effects: QM of the factor in the model with an intercept
    /// (chi^2, or F for t-type tests).
    pub fn qm(&self) -> f64 {
        self.qm
    }
    /// Degrees of freedom of QM: `(levels - 1, None)` or `(levels - 1, Some(k - levels))`.
    pub fn qm_df(&self) -> (f64, Option<f64>) {
        (self.qm_df, self.qm_df2)
    }
    /// p-value of QM.
    pub fn qm_p_value(&self) -> f64 {
        self.qm_p_value
    }
}

/// The result of [`subgroup_analysis`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SubgroupFit {
    attribute: String,
    k: usize,
    groups: Vec<Subgroup>,
    separate: QBetween,
    common: Option<CommonTau2>,
    notes: Vec<String>,
    #[cfg_attr(feature = "serde", serde(skip))]
    spec: CheckedMetaAnalysis,
}

impl SubgroupFit {
    /// The grouping attribute.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }
    /// Total number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// The subgroups, levels in sorted order.
    pub fn groups(&self) -> &[Subgroup] {
        &self.groups
    }
    /// The test for subgroup differences with a separate tau^2 per subgroup (R meta's
    /// default): Cochran's Q of the subgroup estimates weighted by their inverse squared SEs.
    pub fn separate(&self) -> QBetween {
        self.separate
    }
    /// The common-tau^2 model (`None` when it cannot be fitted, e.g. too few studies for
    /// tau^2 beside one coefficient per subgroup; see [`SubgroupFit::notes`]).
    pub fn common(&self) -> Option<&CommonTau2> {
        self.common.as_ref()
    }
    /// Why the common-tau^2 model is missing, and other remarks.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// Subgroup analysis of `studies` by `attribute` (a string attribute, or a numeric
/// moderator whose distinct values are the levels), each subgroup and the common-tau^2
/// model fitted with the options of `spec`.
///
/// # Formula
/// Separate tau^2: `Q_b = sum_g w_g (mu_g - mu_w)^2` with `w_g = 1/SE(mu_g)^2` and
/// `mu_w = sum w_g mu_g / sum w_g`, on `G - 1` df. Common tau^2: the mixed-effects model
/// `y = X beta + u + e` with one dummy per level (no intercept) gives the subgroup
/// estimates; the test of equality is QM of the same factor with an intercept.
///
/// # Errors
/// [`MetaError::UnknownName`] for an unknown attribute, [`MetaError::InvalidValue`] for a
/// missing level, [`MetaError::InvalidOption`] for fewer than two levels or user weights,
/// and the errors of [`MetaAnalysis::fit`].
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Studies, subgroup_analysis};
/// let s = Studies::from_variances(
///     vec![0.1, 0.3, 0.2, 0.8, 0.9, 0.7],
///     vec![0.02, 0.03, 0.02, 0.04, 0.03, 0.05],
/// )?
/// .with_attribute("design", ["rct", "rct", "rct", "obs", "obs", "obs"])?;
/// let sg = subgroup_analysis(&s, "design", &MetaAnalysis::new())?;
/// assert_eq!(sg.groups()[0].level(), "obs");
/// assert!(sg.separate().p_value < 0.01); // the designs differ
/// assert_eq!(sg.common().unwrap().qm_df().0, 1.0);
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn subgroup_analysis(
    studies: &Studies,
    attribute: &str,
    spec: &MetaAnalysis,
) -> Result<SubgroupFit> {
    let checked = spec.check()?;
    if checked.weights.is_some() {
        return Err(MetaError::invalid_option(
            "weights",
            "given",
            "user weights are not supported in subgroup analyses",
        ));
    }
    let d = build(
        studies,
        &[ModSpec::Categorical(attribute.to_string())],
        &[],
        false,
    )?;
    let levels =
        d.factors.first().map(|f| f.1.clone()).ok_or_else(|| {
            MetaError::invalid_option("by", attribute, "not a grouping attribute")
        })?;
    let mut groups = Vec::with_capacity(levels.len());
    for (j, level) in levels.iter().enumerate() {
        let sub = studies.filter(|i| d.x[(i, j)] == 1.0)?;
        let fit = checked.fit(&sub)?;
        groups.push(Subgroup {
            level: level.clone(),
            fit,
        });
    }
    let est: Vec<f64> = groups.iter().map(|g| g.fit.estimate()).collect();
    let var: Vec<f64> = groups.iter().map(|g| g.fit.se() * g.fit.se()).collect();
    let (_, q) = InterceptOnly { y: &est, v: &var }.weighted_q(|i| 1.0 / var[i]);
    let df = (levels.len() - 1) as f64;
    let separate = QBetween {
        q,
        df,
        p_value: chisq_sf(q, df),
    };
    let mut notes = Vec::new();
    let base = MetaRegression::from_analysis(spec.clone().confint(false)).categorical(attribute);
    let common = match (
        base.clone().intercept(false).fit(studies),
        base.fit(studies),
    ) {
        (Ok(noint), Ok(int)) => Some(CommonTau2 {
            estimates: noint.coefficients().to_vec(),
            tau2: noint.tau2(),
            qe: noint.heterogeneity().q(),
            qe_df: noint.heterogeneity().q_df(),
            qe_p_value: noint.heterogeneity().q_p_value(),
            qm: int.qm(),
            qm_df: int.qm_df().0,
            qm_df2: int.qm_df().1,
            qm_p_value: int.qm_p_value(),
        }),
        (Err(e), _) | (_, Err(e)) => {
            notes.push(format!("common-tau^2 model not fitted: {e}"));
            None
        }
    };
    Ok(SubgroupFit {
        attribute: attribute.to_string(),
        k: studies.k(),
        groups,
        separate,
        common,
        notes,
        spec: checked,
    })
}

impl fmt::Display for SubgroupFit {
    /// A metafor-style report: the subgroup table, the test for subgroup differences with
    /// separate tau^2, and the common-tau^2 model.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.spec.digits();
        let t = self.spec.test().uses_t();
        let method = self.groups.first().map(|g| g.fit.method());
        writeln!(f)?;
        match method {
            Some(m) if m.is_equal_effects() => writeln!(
                f,
                "Subgroup Analysis by {} (k = {}; equal-effects models)",
                self.attribute, self.k
            )?,
            Some(m) => writeln!(
                f,
                "Subgroup Analysis by {} (k = {}; tau^2 estimator: {m})",
                self.attribute, self.k
            )?,
            None => {}
        }
        writeln!(f)?;
        writeln!(f, "Subgroups (each with its own tau^2):")?;
        writeln!(f)?;
        let g = &self.groups;
        let rows: Vec<String> = g.iter().map(|g| g.level.clone()).collect();
        let mut headers = vec!["k", "estimate", "se", if t { "tval" } else { "zval" }];
        let mut cols: Vec<Vec<String>> = vec![
            g.iter().map(|g| g.fit.k().to_string()).collect(),
            g.iter().map(|g| fcf(g.fit.estimate(), d)).collect(),
            g.iter().map(|g| fcf(g.fit.se(), d)).collect(),
            g.iter().map(|g| fcf(g.fit.statistic(), d)).collect(),
        ];
        if t {
            headers.push("df");
            cols.push(
                g.iter()
                    .map(|g| g.fit.df().map_or("NA".into(), format_df))
                    .collect(),
            );
        }
        headers.extend(["pval", "ci.lb", "ci.ub", "tau^2", "Q", "Qp", "I^2"]);
        cols.push(
            g.iter()
                .map(|g| pval_str(g.fit.p_value(), d, false, ""))
                .collect(),
        );
        cols.push(g.iter().map(|g| fcf(g.fit.ci().0, d)).collect());
        cols.push(g.iter().map(|g| fcf(g.fit.ci().1, d)).collect());
        cols.push(g.iter().map(|g| fcf(g.fit.tau2(), d)).collect());
        cols.push(
            g.iter()
                .map(|g| fcf(g.fit.heterogeneity().q(), d))
                .collect(),
        );
        cols.push(
            g.iter()
                .map(|g| pval_str(g.fit.heterogeneity().q_p_value(), d, false, ""))
                .collect(),
        );
        cols.push(
            g.iter()
                .map(|g| format!("{}%", fcf(g.fit.heterogeneity().i2(), 2)))
                .collect(),
        );
        print_frame(f, &rows, &headers, &cols, 2)?;
        writeln!(f)?;
        writeln!(f, "Test for Subgroup Differences (separate tau^2):")?;
        writeln!(
            f,
            "Q(df = {}) = {}, p-val {}",
            self.separate.df,
            fcf(self.separate.q, d),
            pval_str(self.separate.p_value, d, true, " ")
        )?;
        writeln!(f)?;
        match &self.common {
            Some(c) => {
                writeln!(f, "Common tau^2 (factor moderator):")?;
                writeln!(f)?;
                if !method.is_some_and(|m| m.is_equal_effects()) {
                    writeln!(
                        f,
                        "tau^2 (common residual heterogeneity): {}",
                        fcf(c.tau2, d)
                    )?;
                }
                writeln!(
                    f,
                    "QE(df = {}) = {}, p-val {}",
                    c.qe_df,
                    fcf(c.qe, d),
                    pval_str(c.qe_p_value, d, true, " ")
                )?;
                writeln!(f)?;
                let btt: Vec<usize> = (2..=c.estimates.len()).collect();
                writeln!(
                    f,
                    "Test for Subgroup Differences (common tau^2, coefficients {}):",
                    format_btt(&btt)
                )?;
                match c.qm_df2 {
                    Some(df2) => writeln!(
                        f,
                        "F(df1 = {}, df2 = {}) = {}, p-val {}",
                        c.qm_df,
                        format_df(df2),
                        fcf(c.qm, d),
                        pval_str(c.qm_p_value, d, true, " ")
                    )?,
                    None => writeln!(
                        f,
                        "QM(df = {}) = {}, p-val {}",
                        c.qm_df,
                        fcf(c.qm, d),
                        pval_str(c.qm_p_value, d, true, " ")
                    )?,
                }
                writeln!(f)?;
                let e = &c.estimates;
                let rows: Vec<String> = e.iter().map(|c| c.name.clone()).collect();
                let mut headers = vec!["estimate", "se", if t { "tval" } else { "zval" }];
                let mut cols: Vec<Vec<String>> = vec![
                    e.iter().map(|c| fcf(c.estimate, d)).collect(),
                    e.iter().map(|c| fcf(c.se, d)).collect(),
                    e.iter().map(|c| fcf(c.statistic, d)).collect(),
                ];
                if t {
                    headers.push("df");
                    cols.push(
                        e.iter()
                            .map(|c| c.df.map_or("NA".into(), format_df))
                            .collect(),
                    );
                }
                headers.extend(["pval", "ci.lb", "ci.ub", ""]);
                cols.push(
                    e.iter()
                        .map(|c| pval_str(c.p_value, d, false, ""))
                        .collect(),
                );
                cols.push(e.iter().map(|c| fcf(c.ci_lower, d)).collect());
                cols.push(e.iter().map(|c| fcf(c.ci_upper, d)).collect());
                cols.push(e.iter().map(|c| stars(c.p_value).to_string()).collect());
                print_frame(f, &rows, &headers, &cols, 2)?;
                writeln!(f)?;
                writeln!(f, "---")?;
                writeln!(f, "{SIGNIF_LEGEND}")?;
            }
            None => {
                for n in &self.notes {
                    writeln!(f, "{n}")?;
                }
            }
        }
        writeln!(f)
    }
}
