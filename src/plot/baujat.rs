//! Baujat plots: each study's contribution to the overall heterogeneity (x) against its
//! influence on the pooled result (y), as metafor's `baujat.rma` computes them.
//!
//! # References
//! Baujat, B., Mahé, C., Pignon, J.-P., & Hill, C. (2002). A graphical method for exploring
//! heterogeneity in meta-analyses: application to a meta-analysis of 65 trials.
//! *Statistics in Medicine*, 21, 2641-2652. Viechtbauer, W. (2010), metafor's
//! `baujat.rma`.

use super::axis::{AxisSpec, Frame, INK};
use super::scales::Transform;
use super::svg::{Anchor, Font, Paint, Svg};
use super::text::text_width;
use super::{check_option, check_pixels, draw_grid};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{MetaAnalysis, MetaFit, Method};

/// The coordinates of a Baujat plot.
///
/// # Examples
/// ```
/// use metan::plot::BaujatData;
/// use metan::{MetaAnalysis, Method, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.9, 0.3, 0.35], vec![0.02, 0.03, 0.05, 0.04])?;
/// let fit = MetaAnalysis::new().method(Method::EE).fit(&s)?;
/// let b = BaujatData::from_fit(&s, &fit)?;
/// // with an equal-effects model the x values add up to Cochran's Q
/// let q: f64 = b.x().iter().sum();
/// assert!((q - fit.heterogeneity().q()).abs() < 1e-10 * fit.heterogeneity().q());
/// assert!(b.y().iter().all(|y| y.is_some()));
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BaujatData {
    x: Vec<f64>,
    y: Vec<Option<f64>>,
    labels: Vec<String>,
    equal_effects: bool,
}

impl BaujatData {
    /// Computes the Baujat coordinates of every study of a fit.
    ///
    /// The model is refitted without each study with the fit's method, test, level and
    /// (when it was fixed) tau^2, and default iteration controls. User weights are not
    /// part of a [`MetaFit`], so a fit made with `weights` is refitted without them.
    ///
    /// # Formula
    /// `x_i = (y_i - mu)^2 / (tau2 + v_i)` (the squared Pearson residual; for an
    /// equal-effects model the study's contribution to Q), and
    /// `y_i = (mu - mu_(-i))^2 / Var(mu_(-i))`, where `mu_(-i)` is the pooled estimate
    /// without study `i`. A study whose leave-one-out fit fails gets `y_i = None` (metafor's
    /// `NA`).
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when `studies` is not the data set of `fit`,
    /// [`MetaError::TooFewStudies`] for k = 1, and [`MetaError::InvalidOption`] for a GENQ
    /// fit (which needs the user weights).
    ///
    /// # References
    /// Baujat et al. (2002); metafor's `baujat.rma`.
    pub fn from_fit(studies: &Studies, fit: &MetaFit) -> Result<Self> {
        let k = studies.k();
        if k != fit.k() {
            return Err(MetaError::LengthMismatch {
                field: "studies".into(),
                expected: fit.k(),
                found: k,
            });
        }
        if k < 2 {
            return Err(MetaError::TooFewStudies {
                analysis: "a Baujat plot".into(),
                needed: 2,
                found: k,
            });
        }
        if fit.method() == Method::GENQ {
            return Err(MetaError::invalid_option(
                "method",
                "GENQ",
                "a Baujat plot refits the model without each study, and GENQ needs user weights a fit does not keep",
            ));
        }
        let mut spec = MetaAnalysis::new()
            .method(fit.method())
            .test(fit.test())
            .level(fit.level())
            .confint(false);
        if fit.heterogeneity().tau2_fixed() {
            spec = spec.tau2(fit.tau2());
        }
        let mu = fit.estimate();
        let tau2 = fit.tau2();
        let (y, v) = (studies.yi(), studies.vi());
        let x: Vec<f64> = y
            .iter()
            .zip(v)
            .map(|(&yi, &vi)| (yi - mu) * (yi - mu) / (tau2 + vi))
            .collect();
        let mut infl = Vec::with_capacity(k);
        let mut idx: Vec<usize> = (1..k).collect();
        for i in 0..k {
            // idx = 0..k without i
            if i > 0 {
                idx[i - 1] = i - 1;
            }
            let value = studies
                .subset(&idx)
                .and_then(|s| spec.fit(&s))
                .ok()
                .map(|f| {
                    let d = mu - f.estimate();
                    d * d / (f.se() * f.se())
                })
                .filter(|q| q.is_finite());
            infl.push(value);
        }
        Ok(BaujatData {
            x,
            y: infl,
            labels: studies.labels().to_vec(),
            equal_effects: fit.method().is_equal_effects(),
        })
    }

    /// Contribution to heterogeneity (squared Pearson residuals), one per study.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Influence on the pooled result, one per study (`None` where the leave-one-out fit
    /// failed).
    pub fn y(&self) -> &[Option<f64>] {
        &self.y
    }

    /// Study labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

/// How points of a Baujat plot are marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum PointLabels {
    /// Study numbers 1..k (metafor's `symbol = "ids"`).
    #[default]
    Ids,
    /// Study labels.
    Labels,
    /// No text.
    None,
}

/// A Baujat plot.
///
/// # Examples
/// ```
/// use metan::plot::{BaujatData, BaujatPlot, PointLabels};
/// use metan::{MetaAnalysis, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.9, 0.3, 0.35], vec![0.02, 0.03, 0.05, 0.04])?;
/// let fit = MetaAnalysis::new().fit(&s)?;
/// let svg = BaujatPlot::new(BaujatData::from_fit(&s, &fit)?)
///     .point_labels(PointLabels::Labels)
///     .render()?;
/// assert_eq!(svg.matches("<circle class=\"study\"").count(), 4);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BaujatPlot {
    data: BaujatData,
    width: f64,
    height: f64,
    font_size: f64,
    labels: PointLabels,
    xlabel: Option<String>,
    ylabel: Option<String>,
    title: String,
}

impl BaujatPlot {
    /// 600 x 480 pixels, 12 px text, points numbered 1..k.
    pub fn new(data: BaujatData) -> Self {
        BaujatPlot {
            data,
            width: 600.0,
            height: 480.0,
            font_size: 12.0,
            labels: PointLabels::Ids,
            xlabel: None,
            ylabel: None,
            title: "Baujat plot".into(),
        }
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
    /// How points are labelled.
    pub fn point_labels(mut self, labels: PointLabels) -> Self {
        self.labels = labels;
        self
    }
    /// Title of the x axis (default as metafor: "Squared Pearson Residual", or
    /// "Contribution to Overall Heterogeneity" for equal-effects models).
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.xlabel = Some(label.into());
        self
    }
    /// Title of the y axis (default "Influence on Overall Result").
    pub fn ylabel(mut self, label: impl Into<String>) -> Self {
        self.ylabel = Some(label.into());
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
    /// [`MetaError::InvalidOption`] for a bad size, and [`MetaError::Empty`] for no studies.
    pub fn render(&self) -> Result<String> {
        check_pixels("width", self.width)?;
        check_pixels("height", self.height)?;
        check_option("font_size", self.font_size, |s| (4.0..=72.0).contains(&s))?;
        if self.data.x.is_empty() {
            return Err(MetaError::Empty);
        }
        let fs = self.font_size;
        let d = &self.data;
        let pts: Vec<(usize, f64, f64)> =
            d.x.iter()
                .zip(&d.y)
                .enumerate()
                .filter_map(|(i, (&x, y))| y.map(|y| (i, x, y)))
                .filter(|(_, x, y)| x.is_finite() && y.is_finite())
                .collect();
        let range = |v: &mut dyn Iterator<Item = f64>| {
            v.fold((0.0f64, 0.0f64), |(a, b), x| (a.min(x), b.max(x)))
        };
        let (x0, x1) = range(&mut pts.iter().map(|p| p.1));
        let (y0, y1) = range(&mut pts.iter().map(|p| p.2));
        let xs = AxisSpec {
            lo: x0,
            hi: x1,
            transform: Transform::Identity,
            title: self.xlabel.clone().unwrap_or_else(|| {
                if d.equal_effects {
                    "Contribution to Overall Heterogeneity".into()
                } else {
                    "Squared Pearson Residual".into()
                }
            }),
            limits: None,
            keep: Some(0.0),
        };
        let ys = AxisSpec {
            lo: y0,
            hi: y1,
            transform: Transform::Identity,
            title: self
                .ylabel
                .clone()
                .unwrap_or_else(|| "Influence on Overall Result".into()),
            limits: None,
            keep: Some(0.0),
        };
        let frame = Frame::new(self.width, self.height, fs, &xs, &ys, false, 0.0);
        let (w, h) = frame.size();
        let mut svg = Svg::new(w.max(self.width), h.max(self.height), &self.title);
        draw_grid(&mut svg, &frame);
        let (l, r, t, b) = (frame.left, frame.right, frame.top, frame.bottom);
        svg.open_clipped("panel-content", "baujat-panel", l, t, r - l, b - t);
        let rad = (fs * 0.25).max(2.0);
        let lfs = fs * 0.9;
        // point marks first, so labels can avoid all of them
        let marks: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(_, x, y)| (frame.x.map(x), frame.y.map(y)))
            .collect();
        for &(px, py) in &marks {
            svg.circle("study", px, py, rad, Paint::both(INK, INK, 0.5));
        }
        let mut placed: Vec<Rect> = marks
            .iter()
            .map(|&(px, py)| Rect::new(px - rad, py - rad, px + rad, py + rad))
            .collect();
        for (&(i, _, _), &(px, py)) in pts.iter().zip(&marks) {
            let text = match self.labels {
                PointLabels::Ids => format!("{}", i + 1),
                PointLabels::Labels => d.labels[i].clone(),
                PointLabels::None => continue,
            };
            let (tx, ty, anchor) = place_label(&text, px, py, rad, lfs, (l, t, r, b), &mut placed);
            svg.text("point-label", tx, ty, &text, anchor, Font::regular(lfs));
        }
        svg.close();
        frame.draw_axes(&mut svg);
        Ok(svg.finish())
    }
}

/// An axis-aligned box in pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Rect { x0, y0, x1, y1 }
    }
    /// The area the two boxes share; boxes that share less than [`NEGLIGIBLE`] in width or
    /// height only touch (the difference is rounding in their coordinates).
    fn overlap(&self, o: &Rect) -> f64 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        if w > NEGLIGIBLE && h > NEGLIGIBLE {
            w * h
        } else {
            0.0
        }
    }
}

/// Lengths (in px) below which boxes count as touching, not overlapping: far below what a
/// renderer can show, far above the rounding of coordinates.
const NEGLIGIBLE: f64 = 1e-6;

/// Chooses where to put a point's label: the first of fourteen positions around the point
/// (above right, above left, below right, below left, right, left, above, below, then
/// farther above and below) whose box
/// stays inside the panel and overlaps no point and no label placed before; when every
/// position collides, the one with the least overlap (area outside the panel weighs ten
/// times as much). Returns the text position and anchor,
/// and records the chosen box in `placed`.
fn place_label(
    text: &str,
    px: f64,
    py: f64,
    rad: f64,
    fs: f64,
    panel: (f64, f64, f64, f64),
    placed: &mut Vec<Rect>,
) -> (f64, f64, Anchor) {
    let w = text_width(text, fs, false);
    let h = fs;
    let g = rad + 2.0;
    // (left edge, top edge) of the label box for each candidate
    let candidates = [
        (px + g, py - g - h),
        (px - g - w, py - g - h),
        (px + g, py + g),
        (px - g - w, py + g),
        (px + g, py - h / 2.0),
        (px - g - w, py - h / 2.0),
        (px - w / 2.0, py - g - h),
        (px - w / 2.0, py + g),
        (px + g, py - g - 2.0 * h),
        (px - g - w, py - g - 2.0 * h),
        (px + g, py + g + h),
        (px - g - w, py + g + h),
        (px + g, py - g - 3.0 * h),
        (px - g - w, py - g - 3.0 * h),
    ];
    let (l, t, r, b) = panel;
    let mut best = (f64::INFINITY, 0usize);
    for (c, &(x0, y0)) in candidates.iter().enumerate() {
        let bx = Rect::new(x0, y0, x0 + w, y0 + h);
        // area outside the panel counts ten times as much as overlap with other marks
        let inside = Rect::new(l, t, r, b).overlap(&bx);
        let outside = w * h - inside;
        let outside = if outside > NEGLIGIBLE * (w + h) {
            outside
        } else {
            0.0
        };
        let cost = placed.iter().map(|p| p.overlap(&bx)).sum::<f64>() + 10.0 * outside;
        if cost < best.0 {
            best = (cost, c);
            if cost == 0.0 {
                break;
            }
        }
    }
    let (x0, y0) = candidates[best.1];
    placed.push(Rect::new(x0, y0, x0 + w, y0 + h));
    (x0, y0 + 0.8 * h, Anchor::Start)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn k1_is_an_error_and_k2_works() {
        let s1 = Studies::from_variances(vec![0.1], vec![0.02]).unwrap();
        let f1 = MetaAnalysis::new().fit(&s1).unwrap();
        assert!(matches!(
            BaujatData::from_fit(&s1, &f1),
            Err(MetaError::TooFewStudies {
                needed: 2,
                found: 1,
                ..
            })
        ));
        let s2 = Studies::from_variances(vec![0.1, 0.5], vec![0.02, 0.03]).unwrap();
        let f2 = MetaAnalysis::new().fit(&s2).unwrap();
        let b = BaujatData::from_fit(&s2, &f2).unwrap();
        // leaving one of two studies out leaves the other: mu_(-1) = y_2 with variance
        // v_2 + tau2 = v_2 (k = 1 fits have tau2 = 0)
        let mu = f2.estimate();
        let expect = (mu - 0.5) * (mu - 0.5) / 0.03;
        assert!((b.y()[0].unwrap() - expect).abs() < 1e-12 * expect);
        let svg = BaujatPlot::new(b).render().unwrap();
        assert_eq!(svg.matches("<circle class=\"study\"").count(), 2);
    }
}
