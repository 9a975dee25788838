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
//!
//! The module is split by concept: `data` holds the rows ([`ForestData`]), `layout` turns
//! rows and options into text columns, positions and a scale, `draw` writes the SVG.

mod data;
mod draw;
mod layout;

pub use data::{
    ForestData, ForestRow, StudyRow, Subgroup, SummaryKind, SummaryRow, heterogeneity_label,
};

use super::scales::Transform;
use super::{MAX_PIXELS, check_option, check_pixels, check_value};
use crate::error::{MetaError, Result};

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
                ForestRow::Heading(_) | ForestRow::Note(_) | ForestRow::Spacer => {}
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
        Ok(draw::draw(self, &layout::Layout::new(self)))
    }
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
