//! The rows of a forest plot: studies, summaries, headings, notes and spacers, and the
//! constructors that build them from a fit, subgroups, leave-one-out or cumulative results.

use super::super::scales::fmt_fixed;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::MetaFit;
use crate::numeric::dist::norm_isf;

/// One study (or one leave-one-out / cumulative result): a point estimate with its
/// confidence interval, on the analysis scale, and optionally its weight in percent.
///
/// Rows without a weight are drawn with a square of fixed size.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StudyRow {
    /// Row label (truncated with an ellipsis when too long).
    pub label: String,
    /// Point estimate.
    pub estimate: f64,
    /// Confidence interval `(lower, upper)`.
    pub ci: (f64, f64),
    /// Weight in percent (sizes the square and fills the weight column).
    pub weight: Option<f64>,
}

impl StudyRow {
    /// A row without weight.
    ///
    /// # Examples
    /// ```
    /// use metan::plot::StudyRow;
    /// let r = StudyRow::new("Aronson 1948", -0.89, (-2.01, 0.23)).weight(5.07);
    /// assert_eq!(r.weight, Some(5.07));
    /// ```
    pub fn new(label: impl Into<String>, estimate: f64, ci: (f64, f64)) -> Self {
        StudyRow {
            label: label.into(),
            estimate,
            ci,
            weight: None,
        }
    }

    /// Sets the weight in percent.
    pub fn weight(mut self, weight: f64) -> Self {
        self.weight = Some(weight);
        self
    }
}

/// How a summary row is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum SummaryKind {
    /// The overall pooled estimate: a black diamond.
    Overall,
    /// A subgroup's pooled estimate: a grey diamond.
    Subgroup,
}

/// A pooled estimate: a diamond spanning its confidence interval, with an optional
/// prediction-interval bar.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SummaryRow {
    /// Row label ("RE Model", a subgroup name, ...).
    pub label: String,
    /// Pooled estimate.
    pub estimate: f64,
    /// Confidence interval of the pooled estimate.
    pub ci: (f64, f64),
    /// Prediction interval, drawn as a bar through the diamond.
    pub pi: Option<(f64, f64)>,
    /// Overall or subgroup.
    pub kind: SummaryKind,
}

impl SummaryRow {
    /// A summary row without prediction interval.
    pub fn new(label: impl Into<String>, estimate: f64, ci: (f64, f64), kind: SummaryKind) -> Self {
        SummaryRow {
            label: label.into(),
            estimate,
            ci,
            pi: None,
            kind,
        }
    }

    /// Sets the prediction interval.
    pub fn pi(mut self, pi: (f64, f64)) -> Self {
        self.pi = Some(pi);
        self
    }

    /// The summary of a fitted model, labelled as metafor labels it ("RE Model", "EE Model",
    /// "FE Model", "CE Model"), with the model's prediction interval (random-effects models).
    ///
    /// # Examples
    /// ```
    /// use metan::plot::{SummaryKind, SummaryRow};
    /// use metan::{MetaAnalysis, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.02, 0.03, 0.05])?;
    /// let fit = MetaAnalysis::new().fit(&s)?;
    /// let row = SummaryRow::from_fit(&fit, SummaryKind::Overall);
    /// assert_eq!(row.label, "RE Model");
    /// assert_eq!(row.ci, fit.ci());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_fit(fit: &MetaFit, kind: SummaryKind) -> Self {
        let label = fit.method().summary_label();
        SummaryRow {
            label: label.to_string(),
            estimate: fit.estimate(),
            ci: fit.ci(),
            pi: fit.pi(),
            kind,
        }
    }
}

/// One row of a forest plot.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ForestRow {
    /// A study: square and whisker.
    Study(StudyRow),
    /// A pooled estimate: diamond.
    Summary(SummaryRow),
    /// A bold heading (a subgroup's name).
    Heading(String),
    /// A line of italic text, e.g. a heterogeneity statement.
    Note(String),
    /// An empty row.
    Spacer,
}

/// A subgroup block: a heading, the studies, the subgroup's diamond and its heterogeneity
/// statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    /// Heading of the block.
    pub name: String,
    /// The studies of the subgroup.
    pub studies: Vec<StudyRow>,
    /// The subgroup's pooled estimate (use [`SummaryKind::Subgroup`]).
    pub summary: SummaryRow,
    /// A heterogeneity statement (see [`heterogeneity_label`]).
    pub heterogeneity: Option<String>,
}

/// The rows of a forest plot, top to bottom, with the header of the label column and the
/// confidence level used in the header of the interval column.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ForestData {
    pub(super) rows: Vec<ForestRow>,
    pub(super) label_header: String,
    pub(super) level: f64,
    pub(super) guide: Option<f64>,
}

impl ForestData {
    /// Any list of rows (label header "Study", level 95%).
    pub fn new(rows: Vec<ForestRow>) -> Self {
        ForestData {
            rows,
            label_header: "Study".into(),
            level: 95.0,
            guide: None,
        }
    }

    /// The standard forest plot of a fitted model: one row per study with its weight and
    /// its Wald interval `yi +/- z sqrt(vi)` at the fit's level (as metafor's `forest.rma`),
    /// then the model's summary row (with its prediction interval) and a heterogeneity
    /// note.
    ///
    /// # Formula
    /// `ci_i = yi -/+ qnorm(1 - alpha/2) sqrt(vi)`, weights `100 w_i / sum w`.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when `studies` is not the data set of `fit`.
    ///
    /// # Examples
    /// ```
    /// use metan::plot::{ForestData, ForestRow};
    /// use metan::{MetaAnalysis, Studies};
    /// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.02, 0.03, 0.05])?;
    /// let fit = MetaAnalysis::new().fit(&s)?;
    /// let data = ForestData::from_fit(&s, &fit)?;
    /// assert_eq!(data.study_count(), 3);
    /// assert!(matches!(data.rows()[4], ForestRow::Summary(_)));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    ///
    /// # References
    /// Viechtbauer, W. (2010), metafor's `forest.rma`.
    pub fn from_fit(studies: &Studies, fit: &MetaFit) -> Result<Self> {
        if studies.k() != fit.k() || fit.weights().len() != studies.k() {
            return Err(MetaError::LengthMismatch {
                field: "studies".into(),
                expected: fit.k(),
                found: studies.k(),
            });
        }
        let level = fit.level();
        let z = norm_isf((1.0 - level / 100.0) / 2.0);
        let mut rows: Vec<ForestRow> = studies
            .yi()
            .iter()
            .zip(studies.vi())
            .zip(studies.labels())
            .zip(fit.weights())
            .map(|(((&y, &v), label), &w)| {
                let h = z * v.sqrt();
                ForestRow::Study(StudyRow::new(label.clone(), y, (y - h, y + h)).weight(w))
            })
            .collect();
        rows.push(ForestRow::Spacer);
        rows.push(ForestRow::Summary(SummaryRow::from_fit(
            fit,
            SummaryKind::Overall,
        )));
        if fit.k() > 1 {
            rows.push(ForestRow::Note(heterogeneity_label(fit)));
        }
        Ok(ForestData {
            level,
            ..ForestData::new(rows)
        })
    }

    /// Subgroup blocks (heading, studies, grey diamond, heterogeneity note, blank row),
    /// then the overall summary, if any.
    ///
    /// # Examples
    /// ```
    /// use metan::plot::{ForestData, Subgroup, StudyRow, SummaryKind, SummaryRow};
    /// let g = Subgroup {
    ///     name: "Randomised".into(),
    ///     studies: vec![StudyRow::new("A", 0.1, (-0.2, 0.4)), StudyRow::new("B", 0.3, (0.0, 0.6))],
    ///     summary: SummaryRow::new("Subtotal", 0.2, (0.0, 0.4), SummaryKind::Subgroup),
    ///     heterogeneity: None,
    /// };
    /// let data = ForestData::subgroups(vec![g], None);
    /// assert_eq!(data.study_count(), 2);
    /// ```
    pub fn subgroups(groups: Vec<Subgroup>, overall: Option<SummaryRow>) -> Self {
        let mut rows = Vec::new();
        for g in groups {
            rows.push(ForestRow::Heading(g.name));
            rows.extend(g.studies.into_iter().map(ForestRow::Study));
            rows.push(ForestRow::Summary(g.summary));
            if let Some(h) = g.heterogeneity {
                rows.push(ForestRow::Note(h));
            }
            rows.push(ForestRow::Spacer);
        }
        if let Some(o) = overall {
            rows.push(ForestRow::Summary(o));
        }
        ForestData::new(rows)
    }

    /// A leave-one-out plot: row `i` is the pooled result without study `i` (label it, e.g.,
    /// with the omitted study's name). With `overall`, a dashed guide marks the full-data
    /// estimate and its diamond closes the plot.
    pub fn leave_one_out(rows: Vec<StudyRow>, overall: Option<SummaryRow>) -> Self {
        Self::sequence(rows, overall, "Omitted study")
    }

    /// A cumulative plot: row `i` is the pooled result of the first `i` studies (label it
    /// with the study added). With `overall`, a dashed guide marks the full-data estimate
    /// and its diamond closes the plot.
    pub fn cumulative(rows: Vec<StudyRow>, overall: Option<SummaryRow>) -> Self {
        Self::sequence(rows, overall, "Study added")
    }

    fn sequence(rows: Vec<StudyRow>, overall: Option<SummaryRow>, header: &str) -> Self {
        let guide = overall.as_ref().map(|o| o.estimate);
        let mut out: Vec<ForestRow> = rows.into_iter().map(ForestRow::Study).collect();
        if let Some(o) = overall {
            out.push(ForestRow::Spacer);
            out.push(ForestRow::Summary(o));
        }
        ForestData {
            label_header: header.into(),
            guide,
            ..ForestData::new(out)
        }
    }

    /// Sets the header of the label column.
    pub fn with_label_header(mut self, header: impl Into<String>) -> Self {
        self.label_header = header.into();
        self
    }

    /// Sets the confidence level (percent) named in the header of the interval column.
    pub fn with_level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Draws a dashed vertical guide at this analysis-scale value (e.g. the full-data
    /// estimate in a leave-one-out plot).
    pub fn with_guide(mut self, value: f64) -> Self {
        self.guide = Some(value);
        self
    }

    /// The rows, top to bottom.
    pub fn rows(&self) -> &[ForestRow] {
        &self.rows
    }

    /// The number of study rows.
    pub fn study_count(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r, ForestRow::Study(_)))
            .count()
    }

    /// The header of the label column.
    pub fn label_header(&self) -> &str {
        &self.label_header
    }

    /// The confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
}

/// metafor-style heterogeneity statement of a fit, for a forest plot's note row:
/// `Heterogeneity: Q = 152.23, df = 12, p < 0.0001; I² = 92.2%; τ² = 0.3132`
/// (τ² only for random-effects models).
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Method, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.5, 0.3], vec![0.02, 0.03, 0.05])?;
/// let fit = MetaAnalysis::new().method(Method::EE).fit(&s)?;
/// let h = metan::plot::heterogeneity_label(&fit);
/// assert!(h.starts_with("Heterogeneity: Q = "));
/// assert!(!h.contains('τ'));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn heterogeneity_label(fit: &MetaFit) -> String {
    let p = fit.heterogeneity().q_p_value();
    let p = if p < 1e-4 {
        "p < 0.0001".to_string()
    } else {
        format!("p = {}", fmt_fixed(p, 4))
    };
    let mut s = format!(
        "Heterogeneity: Q = {}, df = {}, {p}; I\u{b2} = {}%",
        fmt_fixed(fit.heterogeneity().q(), 2),
        fmt_fixed(fit.heterogeneity().q_df(), 0),
        fmt_fixed(fit.heterogeneity().i2(), 1)
    );
    if !fit.method().is_equal_effects() {
        s.push_str(&format!("; \u{3c4}\u{b2} = {}", fmt_fixed(fit.tau2(), 4)));
    }
    s
}
