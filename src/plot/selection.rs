//! The estimated selection function of a selection model (metafor's
//! `plot.rma.uni.selmodel`): the relative likelihood of selection against the p-value,
//! with a rug of the studies' p-values.
//!
//! As metafor: the curve is drawn on `[pval.min, 1 - pval.min]` from `n = 1000` points (the
//! step function exactly, as steps); the y axis is `[0, 1]` for the half-normal,
//! negative-exponential, logistic and power functions and the range of the curve for the
//! step and beta functions.
//!
//! # References
//! Viechtbauer, W. (2022). `plot.rma.uni.selmodel`, metafor 3.8-1.

use super::axis::{AxisSpec, Frame};
use super::scales::Transform;
use super::svg::{Paint, Svg};
use super::{check_option, draw_grid};
use crate::bias::{SelectionFit, SelectionType};
use crate::error::{MetaError, Result};

/// A plot of the estimated selection function.
///
/// # Examples
/// ```
/// use metan::bias::{SelectionModel, SelectionType};
/// use metan::plot::SelectionPlot;
/// use metan::Studies;
/// // SIMULATED data
/// let s = Studies::from_variances(
///     vec![0.62, 0.15, 0.48, 0.05, 0.71, 0.33, 0.12, 0.56, 0.09, 0.40],
///     vec![0.09, 0.01, 0.05, 0.008, 0.12, 0.04, 0.01, 0.07, 0.012, 0.03],
/// )?;
/// let fit = SelectionModel::new(SelectionType::HalfNormal).fit(&s)?;
/// let svg = SelectionPlot::from_fit(&fit).render()?;
/// assert_eq!(svg.matches("<line class=\"rug\"").count(), 10);
/// assert!(svg.contains("<polyline class=\"selection\""));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionPlot {
    /// The curve (p, w(p)) in increasing p.
    curve: Vec<(f64, f64)>,
    /// Draw the curve as steps (R's `type = "S"`).
    steps: bool,
    ylim: Option<(f64, f64)>,
    pvals: Vec<f64>,
    rug: bool,
    width: f64,
    height: f64,
    font_size: f64,
    xlabel: String,
    ylabel: String,
    title: String,
}

impl SelectionPlot {
    /// The selection function of a fit, evaluated as metafor does.
    pub fn from_fit(fit: &SelectionFit) -> Self {
        Self::from_fit_points(fit, 1000)
    }

    /// The selection function of a fit from `n` equally spaced p-values (at least 2).
    pub fn from_fit_points(fit: &SelectionFit, n: usize) -> Self {
        let (lo, hi) = fit.p_range();
        let n = n.max(2);
        let mut ps: Vec<f64> = (0..n)
            .map(|j| lo + (hi - lo) * j as f64 / (n - 1) as f64)
            .collect();
        let step = fit.kind() == SelectionType::StepFunction;
        if step {
            ps.extend(fit.steps().iter().copied().filter(|&a| a >= lo && a <= hi));
            ps.sort_by(f64::total_cmp);
            ps.dedup();
        }
        let curve: Vec<(f64, f64)> = ps
            .iter()
            .map(|&p| (p, fit.selection_weight(p).max(0.0)))
            .collect();
        let ylim = match fit.kind() {
            SelectionType::HalfNormal
            | SelectionType::NegativeExponential
            | SelectionType::Logistic
            | SelectionType::Power => Some((0.0, 1.0)),
            SelectionType::StepFunction | SelectionType::Beta => None,
        };
        SelectionPlot {
            curve,
            steps: step,
            ylim,
            pvals: fit.pvals().to_vec(),
            rug: true,
            width: 600.0,
            height: 480.0,
            font_size: 12.0,
            xlabel: "p-value".into(),
            ylabel: "Relative Likelihood of Selection".into(),
            title: format!("Selection function ({})", fit.kind()),
        }
    }

    /// Whether to draw the rug of p-values (default true).
    pub fn rug(mut self, yes: bool) -> Self {
        self.rug = yes;
        self
    }
    /// Total width in pixels.
    pub fn width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }
    /// Total height in pixels.
    pub fn height(mut self, height: f64) -> Self {
        self.height = height;
        self
    }
    /// Font size in pixels.
    pub fn font_size(mut self, size: f64) -> Self {
        self.font_size = size;
        self
    }
    /// Limits of the y axis (default as metafor).
    pub fn ylim(mut self, lo: f64, hi: f64) -> Self {
        self.ylim = Some((lo, hi));
        self
    }
    /// The SVG `<title>`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Renders the plot as an SVG document.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a bad size or y range, and
    /// [`MetaError::Numerical`] when the selection function is not finite anywhere.
    pub fn render(&self) -> Result<String> {
        check_option("width", self.width, |w| w > 0.0)?;
        check_option("height", self.height, |h| h > 0.0)?;
        check_option("font_size", self.font_size, |s| (4.0..=72.0).contains(&s))?;
        let finite: Vec<(f64, f64)> = self
            .curve
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if finite.is_empty() {
            return Err(MetaError::Numerical {
                context: "the selection function is not finite on [pval.min, 1 - pval.min]".into(),
            });
        }
        let (y0, y1) = match self.ylim {
            Some((a, b)) => {
                if !(a.is_finite() && b.is_finite() && b > a) {
                    return Err(MetaError::invalid_option(
                        "ylim",
                        format!("({a}, {b})"),
                        "needs finite lo < hi",
                    ));
                }
                (a, b)
            }
            None => finite
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
                    (a.min(y), b.max(y))
                }),
        };
        let xs = AxisSpec {
            lo: 0.0,
            hi: 1.0,
            transform: Transform::Identity,
            title: self.xlabel.clone(),
            limits: Some((0.0, 1.0)),
            keep: None,
        };
        let ys = AxisSpec {
            lo: y0,
            hi: y1,
            transform: Transform::Identity,
            title: self.ylabel.clone(),
            limits: self.ylim,
            keep: None,
        };
        let fs = self.font_size;
        let frame = Frame::new(self.width, self.height, fs, &xs, &ys, false, 0.0);
        let (w, h) = frame.size();
        let mut svg = Svg::new(w.max(self.width), h.max(self.height), &self.title);
        draw_grid(&mut svg, &frame);
        let (l, r, t, b) = (frame.left, frame.right, frame.top, frame.bottom);
        svg.open_clipped("panel-content", "selection-panel", l, t, r - l, b - t);
        let mut pts: Vec<(f64, f64)> = Vec::with_capacity(2 * finite.len());
        for (j, &(x, y)) in finite.iter().enumerate() {
            if self.steps && j > 0 {
                // R's type = "S": along at the previous level, then up or down
                pts.push((frame.x.map(x), frame.y.map(finite[j - 1].1)));
            }
            pts.push((frame.x.map(x), frame.y.map(y)));
        }
        svg.polyline("selection", &pts, Paint::stroke("#000000", 2.0));
        svg.close();
        if self.rug {
            svg.open("rug");
            let len = (fs * 0.5).max(3.0);
            let paint = Paint::stroke("#000000", 0.75);
            for &p in &self.pvals {
                if p.is_finite() && (0.0..=1.0).contains(&p) {
                    let x = frame.x.map(p);
                    svg.line("rug", x, b, x, b - len, paint);
                }
            }
            svg.close();
        }
        frame.draw_axes(&mut svg);
        Ok(svg.finish())
    }
}
