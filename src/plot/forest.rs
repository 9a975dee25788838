//! Forest plots: one row per study (label, weight-sized square, confidence-interval
//! whisker, optional text columns), summary diamonds with prediction-interval bars, a
//! reference line, and an axis on the analysis scale with back-transformed tick labels.
//!
//! The input is a plain list of rows ([`ForestData`]), so the same renderer draws an
//! ordinary forest plot ([`ForestData::from_fit`]), subgroup blocks
//! ([`ForestData::subgroups`]), leave-one-out ([`ForestData::leave_one_out`]) and
//! cumulative ([`ForestData::cumulative`]) plots.
//!
//! # References
//! Lewis, S., & Clarke, M. (2001). Forest plots: trying to see the wood and the trees.
//! *BMJ*, 322, 1479-1480. Viechtbauer, W. (2010). Conducting meta-analyses in R with the
//! metafor package. *Journal of Statistical Software*, 36(3), 1-48 (`forest.rma`).

use super::axis::{INK, PAD, draw_x_axis, thin_x, x_axis_height};
use super::scales::{Scale, Transform, axis_ticks, fmt_fixed};
use super::svg::{Anchor, Font, Paint, Svg};
use super::text::{text_width, truncate_to_width};
use super::{MAX_PIXELS, check_option, check_pixels, check_value};
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
    rows: Vec<ForestRow>,
    label_header: String,
    level: f64,
    guide: Option<f64>,
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
    let p = fit.q_p_value();
    let p = if p < 1e-4 {
        "p < 0.0001".to_string()
    } else {
        format!("p = {}", fmt_fixed(p, 4))
    };
    let mut s = format!(
        "Heterogeneity: Q = {}, df = {}, {p}; I\u{b2} = {}%",
        fmt_fixed(fit.q(), 2),
        fmt_fixed(fit.q_df(), 0),
        fmt_fixed(fit.i2(), 1)
    );
    if !fit.method().is_equal_effects() {
        s.push_str(&format!("; \u{3c4}\u{b2} = {}", fmt_fixed(fit.tau2(), 4)));
    }
    s
}

/// A forest plot: the rows of a [`ForestData`] and the drawing options.
///
/// Setters are infallible; [`ForestPlot::render`] checks the options and the data once.
///
/// # Examples
/// ```
/// use metan::plot::{ForestData, ForestPlot, Transform};
/// use metan::{MetaAnalysis, Studies};
/// let s = Studies::from_variances(vec![-0.9, -1.6, -0.2], vec![0.33, 0.19, 0.05])?
///     .with_labels(["Aronson", "Ferguson & Simes", "Frimodt-Moller et al"])?;
/// let fit = MetaAnalysis::new().fit(&s)?;
/// let svg = ForestPlot::new(ForestData::from_fit(&s, &fit)?)
///     .transform(Transform::Exp)
///     .xlabel("Risk Ratio (log scale)")
///     .width(700.0)
///     .render()?;
/// assert!(svg.starts_with("<svg"));
/// assert_eq!(svg.matches("<rect class=\"study\"").count(), 3);
/// assert!(svg.contains("Ferguson &amp; Simes"));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPlot {
    data: ForestData,
    transform: Transform,
    width: f64,
    font_size: f64,
    label_width: f64,
    annotate: bool,
    show_weights: bool,
    prediction: bool,
    notes: bool,
    reference: Option<f64>,
    xlabel: Option<String>,
    xlim: Option<(f64, f64)>,
    digits: usize,
    title: String,
}

impl ForestPlot {
    /// Defaults: identity transform, 800 px wide (more when the text columns need it),
    /// 12 px text, labels at most 220 px wide, estimate and weight columns shown,
    /// prediction intervals and notes shown, reference line at 0, 2 decimals.
    pub fn new(data: ForestData) -> Self {
        ForestPlot {
            data,
            transform: Transform::Identity,
            width: 800.0,
            font_size: 12.0,
            label_width: 220.0,
            annotate: true,
            show_weights: true,
            prediction: true,
            notes: true,
            reference: Some(0.0),
            xlabel: None,
            xlim: None,
            digits: 2,
            title: "Forest plot".into(),
        }
    }

    /// How tick labels and the estimate column show analysis-scale values.
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }
    /// Preferred total width in pixels; the plot grows when its text needs more room.
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }
    /// Font size in pixels (row height is 1.5 times it).
    pub fn font_size(mut self, size: f64) -> Self {
        self.font_size = size;
        self
    }
    /// Maximum width of the label column in pixels; longer labels end in an ellipsis.
    pub fn label_width(mut self, width: f64) -> Self {
        self.label_width = width;
        self
    }
    /// Whether to show the "estimate \[CI\]" column.
    pub fn annotate(mut self, yes: bool) -> Self {
        self.annotate = yes;
        self
    }
    /// Whether to show the weight column (when rows have weights).
    pub fn show_weights(mut self, yes: bool) -> Self {
        self.show_weights = yes;
        self
    }
    /// Whether to draw prediction-interval bars through the diamonds.
    pub fn prediction_interval(mut self, yes: bool) -> Self {
        self.prediction = yes;
        self
    }
    /// Whether to show note rows (heterogeneity statements).
    pub fn notes(mut self, yes: bool) -> Self {
        self.notes = yes;
        self
    }
    /// The reference line on the analysis scale (`Some(0.0)` by default, which reads 1
    /// with [`Transform::Exp`]); `None` hides it. It is also hidden when it lies farther
    /// than the data's own span from the data.
    pub fn reference(mut self, value: Option<f64>) -> Self {
        self.reference = value;
        self
    }
    /// Axis title (default: "Observed Outcome", or "Ratio (log scale)" with `Exp`).
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.xlabel = Some(label.into());
        self
    }
    /// Fixed axis limits on the analysis scale. Intervals reaching beyond them end in
    /// arrows; estimates outside them are not drawn.
    pub fn xlim(mut self, lo: f64, hi: f64) -> Self {
        self.xlim = Some((lo, hi));
        self
    }
    /// Decimals of the estimate column.
    pub fn digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
    /// The SVG `<title>` (for screen readers and tooltips).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    fn validate(&self) -> Result<()> {
        check_pixels("width", self.width)?;
        check_option("font_size", self.font_size, |s| (4.0..=72.0).contains(&s))?;
        check_option("label_width", self.label_width, |w| {
            (0.0..=MAX_PIXELS).contains(&w)
        })?;
        if self.digits > 12 {
            return Err(MetaError::invalid_option(
                "digits",
                self.digits,
                "must be at most 12",
            ));
        }
        if let Some(r) = self.reference {
            check_option("reference", r, |_| true)?;
        }
        if let Some((a, b)) = self.xlim {
            if !(a.is_finite() && b.is_finite() && a < b) {
                return Err(MetaError::invalid_option(
                    "xlim",
                    format!("({a}, {b})"),
                    "must be finite with lower < upper",
                ));
            }
        }
        let level = self.data.level;
        if !(level.is_finite() && level > 0.0 && level < 100.0) {
            return Err(MetaError::invalid_option(
                "level",
                level,
                "must be in (0, 100) percent",
            ));
        }
        if !self
            .data
            .rows
            .iter()
            .any(|r| matches!(r, ForestRow::Study(_) | ForestRow::Summary(_)))
        {
            return Err(MetaError::Empty);
        }
        for (i, row) in self.data.rows.iter().enumerate() {
            match row {
                ForestRow::Study(s) => {
                    check_value(i, &s.label, "estimate", s.estimate)?;
                    check_interval(i, &s.label, "ci", s.ci)?;
                    if let Some(w) = s.weight {
                        if !(w.is_finite() && w >= 0.0) {
                            return Err(MetaError::invalid_value(
                                i,
                                &s.label,
                                "weight",
                                w,
                                "a weight must be finite and >= 0",
                            ));
                        }
                    }
                }
                ForestRow::Summary(s) => {
                    check_value(i, &s.label, "estimate", s.estimate)?;
                    check_interval(i, &s.label, "ci", s.ci)?;
                    if let Some(p) = s.pi {
                        check_interval(i, &s.label, "pi", p)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Renders the plot as an SVG document.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a bad option (width or font size not positive,
    /// reversed `xlim`, ...), [`MetaError::Empty`] when there is no study or summary row,
    /// and [`MetaError::InvalidValue`] naming the row (index and label) for a non-finite
    /// estimate, a non-finite or reversed interval or a negative weight.
    pub fn render(&self) -> Result<String> {
        self.validate()?;
        Ok(self.draw())
    }

    fn draw(&self) -> String {
        let fs = self.font_size;
        let rh = (fs * 1.5).round();
        let tr = self.transform;
        let d = self.digits;
        let rows: Vec<&ForestRow> = self
            .data
            .rows
            .iter()
            .filter(|r| self.notes || !matches!(r, ForestRow::Note(_)))
            .collect();
        let regular = Font::regular(fs);
        let bold = Font::bold(fs);
        let note_font = Font::italic(fs * 0.9);

        // ---- text columns --------------------------------------------------------------
        let has_weights = self.show_weights
            && rows
                .iter()
                .any(|r| matches!(r, ForestRow::Study(s) if s.weight.is_some()));
        let label_of = |r: &ForestRow| -> Option<(String, bool)> {
            match r {
                ForestRow::Study(s) => Some((s.label.clone(), false)),
                ForestRow::Summary(s) => Some((s.label.clone(), s.kind == SummaryKind::Overall)),
                ForestRow::Heading(h) => Some((h.clone(), true)),
                _ => None,
            }
        };
        let labels: Vec<Option<(String, bool)>> = rows
            .iter()
            .map(|r| label_of(r).map(|(l, b)| (truncate_to_width(&l, self.label_width, fs, b), b)))
            .collect();
        let header_label = truncate_to_width(&self.data.label_header, self.label_width, fs, true);
        let label_w = labels
            .iter()
            .flatten()
            .map(|(l, b)| text_width(l, fs, *b))
            .chain(std::iter::once(text_width(&header_label, fs, true)))
            .fold(0.0, f64::max);

        let annot_parts = |est: f64, ci: (f64, f64)| -> [String; 3] {
            [
                fmt_fixed(tr.apply(est), d),
                format!("[{},", fmt_fixed(tr.apply(ci.0), d)),
                format!("{}]", fmt_fixed(tr.apply(ci.1), d)),
            ]
        };
        let annots: Vec<Option<[String; 3]>> = rows
            .iter()
            .map(|r| match r {
                ForestRow::Study(s) if self.annotate => Some(annot_parts(s.estimate, s.ci)),
                ForestRow::Summary(s) if self.annotate => Some(annot_parts(s.estimate, s.ci)),
                _ => None,
            })
            .collect();
        let space = text_width(" ", fs, false);
        let mut part_w = [0.0f64; 3];
        for a in annots.iter().flatten() {
            for (w, p) in part_w.iter_mut().zip(a.iter()) {
                *w = w.max(text_width(p, fs, false));
            }
        }
        let level = self.data.level;
        let level_txt = if level.fract() == 0.0 {
            fmt_fixed(level, 0)
        } else {
            format!("{level}")
        };
        let annot_header = format!(
            "{} [{level_txt}% CI]",
            match tr {
                Transform::Identity => "Estimate",
                Transform::Exp => "Ratio",
            }
        );
        let annot_w = if self.annotate {
            (part_w[0] + part_w[1] + part_w[2] + 2.0 * space).max(text_width(
                &annot_header,
                fs,
                true,
            ))
        } else {
            0.0
        };
        let weights: Vec<Option<String>> = rows
            .iter()
            .map(|r| match r {
                ForestRow::Study(s) if has_weights => {
                    s.weight.map(|w| format!("{}%", fmt_fixed(w, 1)))
                }
                _ => None,
            })
            .collect();
        let weight_w = if has_weights {
            weights
                .iter()
                .flatten()
                .map(|w| text_width(w, fs, false))
                .fold(text_width("Weight", fs, true), f64::max)
        } else {
            0.0
        };

        // ---- horizontal layout ---------------------------------------------------------
        let gap = fs * 1.5;
        let mut fixed = PAD + label_w + gap + gap + PAD;
        if has_weights {
            fixed += weight_w + gap;
        }
        if self.annotate {
            fixed += annot_w;
        }
        let min_panel = (fs * 14.0).max(120.0);
        let panel_w = (self.width - fixed).max(min_panel);
        let total_w = fixed + panel_w;
        let px0 = PAD + label_w + gap;
        let px1 = px0 + panel_w;
        let weight_x1 = px1 + gap + weight_w;
        let annot_x1 = total_w - PAD;

        // ---- vertical layout -----------------------------------------------------------
        let top = PAD;
        let header_base = top + rh * 0.7;
        let rule_y = top + rh;
        let y0 = rule_y + rh * 0.25;
        let n = rows.len() as f64;
        let axis_y = y0 + n * rh + rh * 0.25;
        let total_h = axis_y + x_axis_height(fs) + PAD;
        let cy = |i: usize| y0 + (i as f64 + 0.5) * rh;

        // ---- scale ---------------------------------------------------------------------
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut widen = |a: f64, b: f64| {
            lo = lo.min(a);
            hi = hi.max(b);
        };
        for r in &rows {
            match r {
                ForestRow::Study(s) => widen(s.ci.0.min(s.estimate), s.ci.1.max(s.estimate)),
                ForestRow::Summary(s) => {
                    widen(s.ci.0.min(s.estimate), s.ci.1.max(s.estimate));
                    if let (Some(p), true) = (s.pi, self.prediction) {
                        widen(p.0, p.1);
                    }
                }
                _ => {}
            }
        }
        if let Some(g) = self.data.guide {
            if g.is_finite() {
                widen(g, g);
            }
        }
        if let Some(r) = self.reference {
            let span = hi - lo;
            if r >= lo - span && r <= hi + span {
                lo = lo.min(r);
                hi = hi.max(r);
            }
        }
        let (lo, hi) = self.xlim.unwrap_or((lo, hi));
        let target = ((panel_w / (fs * 6.0)).round() as usize).clamp(3, 8);
        let (ticks, mut domain) = axis_ticks(tr, lo, hi, target);
        let mut ticks = ticks;
        if let Some(lim) = self.xlim {
            let tol = (lim.1 - lim.0) * 1e-9;
            ticks.retain(|t| t.value >= lim.0 - tol && t.value <= lim.1 + tol);
            domain = lim;
        }
        let scale = Scale::new(domain, (px0, px1));
        let ticks = thin_x(ticks, &scale, fs, self.reference);

        // ---- drawing -------------------------------------------------------------------
        let mut svg = Svg::new(total_w, total_h, &self.title);
        svg.open("header");
        svg.text(
            "header",
            PAD,
            header_base,
            &header_label,
            Anchor::Start,
            bold,
        );
        if has_weights {
            svg.text(
                "header",
                weight_x1,
                header_base,
                "Weight",
                Anchor::End,
                bold,
            );
        }
        if self.annotate {
            svg.text(
                "header",
                annot_x1,
                header_base,
                &annot_header,
                Anchor::End,
                bold,
            );
        }
        svg.line(
            "rule",
            PAD,
            rule_y,
            total_w - PAD,
            rule_y,
            Paint::stroke(INK, 1.0),
        );
        svg.close();

        // vertical lines run from the first row to the axis, interrupted by note rows
        // (whose text may cross the panel)
        let mut spans: Vec<(f64, f64)> = Vec::new();
        let mut start = Some(y0);
        for (i, r) in rows.iter().enumerate() {
            let row_top = y0 + i as f64 * rh;
            if matches!(r, ForestRow::Note(_)) {
                if let Some(s) = start.take() {
                    if row_top > s {
                        spans.push((s, row_top));
                    }
                }
            } else if start.is_none() {
                start = Some(row_top);
            }
        }
        if let Some(s) = start {
            spans.push((s, axis_y));
        }
        let vlines = [
            (
                self.reference,
                "refline",
                Paint::stroke("#555555", 1.0).dashed("4 3"),
            ),
            (
                self.data.guide,
                "guide",
                Paint::stroke("#888888", 1.0).dashed("2 2"),
            ),
        ];
        for (value, class, paint) in vlines {
            if let Some(v) = value.filter(|v| scale.contains(*v)) {
                let x = scale.map(v);
                for &(a, b) in &spans {
                    svg.line(class, x, a, x, b, paint);
                }
            }
        }

        let max_w = rows
            .iter()
            .filter_map(|r| match r {
                ForestRow::Study(s) => s.weight,
                _ => None,
            })
            .fold(0.0f64, f64::max);
        let max_side = (rh * 0.75).round();
        let clampx = |x: f64| x.clamp(px0, px1);
        let note_w = total_w - 2.0 * PAD;

        for (i, r) in rows.iter().enumerate() {
            let y = cy(i);
            let base = y + 0.35 * fs;
            match r {
                ForestRow::Study(s) => {
                    svg.open("row");
                    if let Some((l, _)) = &labels[i] {
                        svg.text("label", PAD, base, l, Anchor::Start, regular);
                    }
                    whisker(&mut svg, &scale, s.ci, y, px0, px1, "ci");
                    if scale.contains(s.estimate) {
                        let side = match s.weight {
                            Some(w) if max_w > 0.0 => (max_side * (w / max_w).sqrt()).max(3.0),
                            Some(_) => 3.0,
                            None => (rh * 0.4).round(),
                        };
                        let x = scale.map(s.estimate);
                        svg.rect(
                            "study",
                            x - side / 2.0,
                            y - side / 2.0,
                            side,
                            side,
                            Paint::fill(INK),
                        );
                    }
                }
                ForestRow::Summary(s) => {
                    svg.open("summary-row");
                    if let Some((l, b)) = &labels[i] {
                        let f = if *b { bold } else { regular };
                        svg.text("label", PAD, base, l, Anchor::Start, f);
                    }
                    if let (Some(p), true) = (s.pi, self.prediction) {
                        let (a, b) = (clampx(scale.map(p.0)), clampx(scale.map(p.1)));
                        let paint = Paint::stroke("#444444", 1.5);
                        svg.line("pi", a, y, b, y, paint);
                        let cap = rh * 0.2;
                        if scale.contains(p.0) {
                            svg.line("pi", a, y - cap, a, y + cap, paint);
                        }
                        if scale.contains(p.1) {
                            svg.line("pi", b, y - cap, b, y + cap, paint);
                        }
                    }
                    let hh = rh * 0.38;
                    let (a, m, b) = (
                        clampx(scale.map(s.ci.0)),
                        clampx(scale.map(s.estimate)),
                        clampx(scale.map(s.ci.1)),
                    );
                    let fill = match s.kind {
                        SummaryKind::Overall => INK,
                        SummaryKind::Subgroup => "#808080",
                    };
                    svg.polygon(
                        "summary",
                        &[(a, y), (m, y - hh), (b, y), (m, y + hh)],
                        Paint::both(fill, INK, 0.75),
                    );
                }
                ForestRow::Heading(_) => {
                    svg.open("heading-row");
                    if let Some((l, _)) = &labels[i] {
                        svg.text("heading", PAD, base, l, Anchor::Start, bold);
                    }
                }
                ForestRow::Note(t) => {
                    svg.open("note-row");
                    let t = truncate_to_width(t, note_w, note_font.size, false);
                    svg.text("note", PAD, base, &t, Anchor::Start, note_font);
                }
                ForestRow::Spacer => continue,
            }
            if let Some(w) = &weights[i] {
                svg.text("weight", weight_x1, base, w, Anchor::End, regular);
            }
            if let Some([e, l, u]) = &annots[i] {
                let x3 = annot_x1;
                let x2 = x3 - part_w[2] - space;
                let x1 = x2 - part_w[1] - space;
                svg.text("estimate", x1, base, e, Anchor::End, regular);
                svg.text("estimate", x2, base, l, Anchor::End, regular);
                svg.text("estimate", x3, base, u, Anchor::End, regular);
            }
            svg.close();
        }

        let title = self
            .xlabel
            .clone()
            .unwrap_or_else(|| tr.default_axis_title().to_string());
        draw_x_axis(&mut svg, &scale, &ticks, axis_y, px0, px1, &title, fs);
        svg.finish()
    }
}

/// A confidence-interval whisker from `ci.0` to `ci.1` at height `y`, clipped to the panel
/// `[px0, px1]`; a clipped end gets an arrowhead.
fn whisker(svg: &mut Svg, scale: &Scale, ci: (f64, f64), y: f64, px0: f64, px1: f64, class: &str) {
    let (a, b) = (scale.map(ci.0), scale.map(ci.1));
    if b < px0 || a > px1 {
        // entirely outside: an arrow at the side it lies on
        let (x, dir) = if b < px0 { (px0, -1.0) } else { (px1, 1.0) };
        arrow(svg, x, y, dir);
        return;
    }
    let (ca, cb) = (a.max(px0), b.min(px1));
    svg.line(class, ca, y, cb, y, Paint::stroke(INK, 1.0));
    if a < px0 {
        arrow(svg, px0, y, -1.0);
    }
    if b > px1 {
        arrow(svg, px1, y, 1.0);
    }
}

/// A small arrowhead with its tip at (`x`, `y`), pointing left (`dir < 0`) or right.
fn arrow(svg: &mut Svg, x: f64, y: f64, dir: f64) {
    let l = 6.0 * dir;
    svg.polygon(
        "arrow",
        &[(x, y), (x - l, y - 3.0), (x - l, y + 3.0)],
        Paint::fill(INK),
    );
}

fn check_interval(i: usize, label: &str, field: &str, ci: (f64, f64)) -> Result<()> {
    if ci.0.is_finite() && ci.1.is_finite() && ci.0 <= ci.1 {
        Ok(())
    } else {
        Err(MetaError::invalid_value(
            i,
            label,
            field,
            format!("({}, {})", ci.0, ci.1),
            "an interval must be finite with lower <= upper",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn data() -> ForestData {
        ForestData::new(vec![
            ForestRow::Study(StudyRow::new("A", -0.5, (-1.0, 0.0)).weight(40.0)),
            ForestRow::Study(StudyRow::new("B", 0.5, (0.0, 1.0)).weight(60.0)),
            ForestRow::Summary(
                SummaryRow::new("RE Model", 0.1, (-0.3, 0.5), SummaryKind::Overall).pi((-1.2, 1.4)),
            ),
        ])
    }

    fn attr(svg: &str, class: &str) -> Vec<String> {
        svg.lines()
            .filter(|l| l.contains(&format!("class=\"{class}\"")))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn diamond_spans_the_ci_on_the_axis() {
        let svg = ForestPlot::new(data()).width(600.0).render().unwrap();
        // ticks -1.5 .. 1.5 every 0.5; read the tick positions off the SVG
        let ticks = attr(&svg, "tick");
        let xs: Vec<f64> = ticks
            .iter()
            .map(|l| {
                let s = l.split("x1=\"").nth(1).unwrap();
                s[..s.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        let labels: Vec<String> = attr(&svg, "tick-label")
            .iter()
            .map(|l| l[l.find('>').unwrap() + 1..l.rfind('<').unwrap()].to_string())
            .collect();
        let pos = |v: &str| xs[labels.iter().position(|l| l == v).unwrap()];
        let per_unit = pos("1.0") - pos("0.0");
        let diamond = &attr(&svg, "summary")[0];
        let pts: Vec<f64> = diamond
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|p| p.split(',').next().unwrap().parse().unwrap())
            .collect();
        let x0 = pos("0.0");
        assert!((pts[0] - (x0 - 0.3 * per_unit)).abs() < 0.02, "{pts:?}");
        assert!((pts[1] - (x0 + 0.1 * per_unit)).abs() < 0.02);
        assert!((pts[2] - (x0 + 0.5 * per_unit)).abs() < 0.02);
        assert_eq!(attr(&svg, "study").len(), 2);
        assert_eq!(attr(&svg, "pi").len(), 3);
    }

    #[test]
    fn bad_rows_are_named() {
        let d = ForestData::new(vec![ForestRow::Study(StudyRow::new(
            "Smith",
            0.1,
            (0.5, 0.2),
        ))]);
        let e = ForestPlot::new(d).render().unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.label == "Smith" && field == "ci"),
            "{e:?}"
        );
        assert_eq!(
            ForestPlot::new(ForestData::new(vec![ForestRow::Spacer]))
                .render()
                .unwrap_err(),
            MetaError::Empty
        );
        assert!(matches!(
            ForestPlot::new(data()).xlim(1.0, -1.0).render(),
            Err(MetaError::InvalidOption { .. })
        ));
    }

    #[test]
    fn xlim_clips_with_arrows() {
        let svg = ForestPlot::new(data()).xlim(-0.6, 0.6).render().unwrap();
        // A's CI reaches -1, B's reaches 1: one arrow each
        assert_eq!(attr(&svg, "arrow").len(), 2);
        assert_eq!(attr(&svg, "study").len(), 2);
    }

    #[test]
    fn long_labels_end_in_ellipsis() {
        let long = "A very long study label that goes on and on, 2024";
        let d = ForestData::new(vec![ForestRow::Study(StudyRow::new(long, 0.1, (0.0, 0.2)))]);
        let svg = ForestPlot::new(d).label_width(100.0).render().unwrap();
        let label = &attr(&svg, "label")[0];
        assert!(label.contains('\u{2026}'));
        assert!(!label.contains("2024"));
    }
}
