//! GOSH scatter: the pooled estimate (x) against I^2 (y) of many subsets of the studies.
//!
//! The subsets are fitted elsewhere (a GOSH analysis); this plot takes plain vectors.
//!
//! # References
//! Olkin, I., Dahabreh, I. J., & Trikalinos, T. A. (2012). GOSH - a graphical display of
//! study heterogeneity. *Research Synthesis Methods*, 3, 214-223.

use super::axis::{AxisSpec, Frame};
use super::scales::Transform;
use super::svg::{Paint, Svg};
use super::{check_option, check_pixels, check_value, draw_grid};
use crate::error::{MetaError, Result};

/// A GOSH scatter plot.
///
/// # Examples
/// ```
/// use metan::plot::GoshPlot;
/// let svg = GoshPlot::new(vec![0.1, 0.2, 0.15], vec![10.0, 40.0, 25.0]).render()?;
/// assert_eq!(svg.matches("<circle class=\"subset\"").count(), 3);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GoshPlot {
    estimates: Vec<f64>,
    i2: Vec<f64>,
    transform: Transform,
    width: f64,
    height: f64,
    font_size: f64,
    radius: f64,
    opacity: f64,
    xlabel: Option<String>,
    ylabel: String,
    title: String,
}

impl GoshPlot {
    /// One point per subset: its pooled estimate (analysis scale) and its I^2 (percent).
    pub fn new(estimates: Vec<f64>, i2: Vec<f64>) -> Self {
        GoshPlot {
            estimates,
            i2,
            transform: Transform::Identity,
            width: 600.0,
            height: 480.0,
            font_size: 12.0,
            radius: 2.0,
            opacity: 0.3,
            xlabel: None,
            ylabel: "I\u{b2} (%)".into(),
            title: "GOSH plot".into(),
        }
    }
    /// How x tick labels show analysis-scale values.
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
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
    /// Point radius in pixels (default 2).
    pub fn radius(mut self, radius: f64) -> Self {
        self.radius = radius;
        self
    }
    /// Fill opacity of the points in (0, 1] (default 0.3), so dense regions show.
    pub fn opacity(mut self, opacity: f64) -> Self {
        self.opacity = opacity;
        self
    }
    /// Title of the x axis.
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.xlabel = Some(label.into());
        self
    }
    /// Title of the y axis (default "I² (%)").
    pub fn ylabel(mut self, label: impl Into<String>) -> Self {
        self.ylabel = label.into();
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
    /// [`MetaError::Empty`] for no points, [`MetaError::LengthMismatch`] when the vectors
    /// differ in length, [`MetaError::InvalidValue`] naming the subset for a non-finite
    /// value, and [`MetaError::InvalidOption`] for a bad option.
    pub fn render(&self) -> Result<String> {
        check_pixels("width", self.width)?;
        check_pixels("height", self.height)?;
        check_option("font_size", self.font_size, |s| (4.0..=72.0).contains(&s))?;
        check_option("radius", self.radius, |r| r > 0.0 && r <= 100.0)?;
        check_option("opacity", self.opacity, |o| o > 0.0 && o <= 1.0)?;
        if self.estimates.is_empty() {
            return Err(MetaError::Empty);
        }
        if self.i2.len() != self.estimates.len() {
            return Err(MetaError::LengthMismatch {
                field: "i2".into(),
                expected: self.estimates.len(),
                found: self.i2.len(),
            });
        }
        for (i, (&e, &h)) in self.estimates.iter().zip(&self.i2).enumerate() {
            let label = format!("subset {}", i + 1);
            check_value(i, &label, "estimate", e)?;
            check_value(i, &label, "i2", h)?;
        }
        let fs = self.font_size;
        let range = |v: &[f64]| {
            v.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                })
        };
        let (x0, x1) = range(&self.estimates);
        let (y0, y1) = range(&self.i2);
        let xs = AxisSpec {
            lo: x0,
            hi: x1,
            transform: self.transform,
            title: self
                .xlabel
                .clone()
                .unwrap_or_else(|| self.transform.default_axis_title().to_string()),
            limits: None,
            keep: None,
        };
        let ys = AxisSpec {
            lo: y0,
            hi: y1,
            transform: Transform::Identity,
            title: self.ylabel.clone(),
            limits: None,
            keep: None,
        };
        let frame = Frame::new(self.width, self.height, fs, &xs, &ys, false, 0.0);
        let (w, h) = frame.size();
        let mut svg = Svg::new(w.max(self.width), h.max(self.height), &self.title);
        draw_grid(&mut svg, &frame);
        let (l, r, t, b) = (frame.left, frame.right, frame.top, frame.bottom);
        svg.open_clipped("panel-content", "gosh-panel", l, t, r - l, b - t);
        let paint = Paint::fill("#1f4e9c").opacity(self.opacity);
        for (&e, &h) in self.estimates.iter().zip(&self.i2) {
            svg.circle("subset", frame.x.map(e), frame.y.map(h), self.radius, paint);
        }
        svg.close();
        frame.draw_axes(&mut svg);
        Ok(svg.finish())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mismatched_vectors_are_rejected() {
        assert_eq!(
            GoshPlot::new(vec![0.1, 0.2], vec![1.0])
                .render()
                .unwrap_err(),
            MetaError::LengthMismatch {
                field: "i2".into(),
                expected: 2,
                found: 1
            }
        );
        assert!(matches!(
            GoshPlot::new(vec![0.1, f64::NAN], vec![1.0, 2.0]).render(),
            Err(MetaError::InvalidValue { ref study, .. }) if study.index == 1
        ));
    }
}
