//! Funnel plots: each study's estimate (x) against its standard error (y, inverted: 0 at
//! the top), the pseudo-confidence triangle `centre +/- z SE` around the pooled estimate,
//! optional contour-enhanced significance regions around a reference value, and hollow
//! points for studies imputed by trim and fill.
//!
//! # References
//! Sterne, J. A. C., & Egger, M. (2001). Funnel plots for detecting bias in meta-analysis:
//! guidelines on choice of axis. *Journal of Clinical Epidemiology*, 54, 1046-1055.
//! Peters, J. L., Sutton, A. J., Jones, D. R., Abrams, K. R., & Rushton, L. (2008).
//! Contour-enhanced meta-analysis funnel plots help distinguish publication bias from other
//! causes of asymmetry. *Journal of Clinical Epidemiology*, 61, 991-996.
//! Duval, S., & Tweedie, R. (2000). Trim and fill. *Biometrics*, 56, 455-463.

use super::axis::{AxisSpec, Frame, INK, PAD};
use super::scales::{Transform, linear_ticks};
use super::svg::{Anchor, Font, Paint, Svg};
use super::text::text_width;
use super::{check_option, check_pixels, check_value};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::MetaFit;
use crate::numeric::dist::norm_isf;

/// Contour levels (two-sided p) and their shades, from the outermost region inwards.
const CONTOURS: [(f64, &str, &str); 3] = [
    (0.01, "#bfbfbf", "0.01 < p \u{2264} 0.05"),
    (0.05, "#8c8c8c", "0.05 < p \u{2264} 0.10"),
    (0.10, "#ffffff", "p > 0.10"),
];
/// Shade of the region beyond the outermost contour (p <= 0.01).
const BACK: &str = "#e5e5e5";

/// A funnel plot.
///
/// # Examples
/// ```
/// use metan::plot::{FunnelPlot, Transform};
/// use metan::{MetaAnalysis, Studies};
/// let s = Studies::from_variances(vec![-0.9, -1.6, -0.2, -0.5], vec![0.33, 0.19, 0.05, 0.01])?;
/// let fit = MetaAnalysis::new().fit(&s)?;
/// let svg = FunnelPlot::from_fit(&s, &fit)?
///     .transform(Transform::Exp)
///     .contours(true)
///     .filled(vec![(0.3, 0.2)])
///     .render()?;
/// assert_eq!(svg.matches("<circle class=\"study\"").count(), 4);
/// assert_eq!(svg.matches("<circle class=\"filled\"").count(), 1);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPlot {
    yi: Vec<f64>,
    sei: Vec<f64>,
    center: f64,
    level: f64,
    filled: Vec<(f64, f64)>,
    transform: Transform,
    contours: bool,
    reference: f64,
    width: f64,
    height: f64,
    font_size: f64,
    xlabel: Option<String>,
    ylabel: String,
    title: String,
}

impl FunnelPlot {
    /// The studies around a given centre (the pooled estimate), with a 95% triangle.
    pub fn new(studies: &Studies, center: f64) -> Self {
        FunnelPlot {
            yi: studies.yi().to_vec(),
            sei: studies.sei(),
            center,
            level: 95.0,
            filled: Vec::new(),
            transform: Transform::Identity,
            contours: false,
            reference: 0.0,
            width: 600.0,
            height: 480.0,
            font_size: 12.0,
            xlabel: None,
            ylabel: "Standard Error".into(),
            title: "Funnel plot".into(),
        }
    }

    /// The studies of a fit around its pooled estimate, with a triangle at the fit's level.
    ///
    /// # Errors
    /// [`MetaError::LengthMismatch`] when `studies` is not the data set of `fit`.
    pub fn from_fit(studies: &Studies, fit: &MetaFit) -> Result<Self> {
        if studies.k() != fit.k() {
            return Err(MetaError::LengthMismatch {
                field: "studies".into(),
                expected: fit.k(),
                found: studies.k(),
            });
        }
        Ok(FunnelPlot {
            level: fit.level(),
            ..FunnelPlot::new(studies, fit.estimate())
        })
    }

    /// The centre of the pseudo-confidence triangle (e.g. the trim-and-fill estimate).
    pub fn center(mut self, center: f64) -> Self {
        self.center = center;
        self
    }
    /// Level (percent) of the pseudo-confidence triangle.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }
    /// Studies imputed by trim and fill, as `(yi, vi)` pairs: drawn as hollow points.
    pub fn filled(mut self, points: Vec<(f64, f64)>) -> Self {
        self.filled = points;
        self
    }
    /// How tick labels show analysis-scale values.
    pub fn transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }
    /// Shades the regions where a study's two-sided p-value (against the reference) is
    /// above 0.10, between 0.05 and 0.10, between 0.01 and 0.05, and below 0.01.
    pub fn contours(mut self, yes: bool) -> Self {
        self.contours = yes;
        self
    }
    /// The value the contours test against (analysis scale; default 0).
    pub fn reference(mut self, value: f64) -> Self {
        self.reference = value;
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
    /// Title of the x axis.
    pub fn xlabel(mut self, label: impl Into<String>) -> Self {
        self.xlabel = Some(label.into());
        self
    }
    /// Title of the y axis (default "Standard Error").
    pub fn ylabel(mut self, label: impl Into<String>) -> Self {
        self.ylabel = label.into();
        self
    }
    /// The SVG `<title>`.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    fn validate(&self) -> Result<()> {
        check_pixels("width", self.width)?;
        check_pixels("height", self.height)?;
        check_option("font_size", self.font_size, |s| (4.0..=72.0).contains(&s))?;
        check_option("center", self.center, |_| true)?;
        check_option("reference", self.reference, |_| true)?;
        check_option("level", self.level, |l| l > 0.0 && l < 100.0)?;
        if self.yi.is_empty() {
            return Err(MetaError::Empty);
        }
        for (i, &(y, v)) in self.filled.iter().enumerate() {
            let label = format!("filled {}", i + 1);
            check_value(i, &label, "yi", y)?;
            if !(v.is_finite() && v > 0.0 && v.sqrt().is_finite()) {
                return Err(MetaError::invalid_value(
                    i,
                    &label,
                    "vi",
                    v,
                    "a sampling variance must be finite and > 0",
                ));
            }
        }
        Ok(())
    }

    /// Renders the plot as an SVG document.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for a bad option, and [`MetaError::InvalidValue`]
    /// naming the filled point for a non-finite estimate or a non-positive variance.
    pub fn render(&self) -> Result<String> {
        self.validate()?;
        Ok(self.draw())
    }

    fn draw(&self) -> String {
        let fs = self.font_size;
        let filled_se: Vec<f64> = self.filled.iter().map(|p| p.1.sqrt()).collect();
        let se_max = self
            .sei
            .iter()
            .chain(&filled_se)
            .cloned()
            .fold(0.0f64, f64::max);
        let (_, ydom) = linear_ticks(0.0, se_max, 5);
        let ymax = ydom.1;
        let z = norm_isf((1.0 - self.level / 100.0) / 2.0);
        let zc: Vec<f64> = CONTOURS.iter().map(|c| norm_isf(c.0 / 2.0)).collect();

        let mut lo = self.center - z * ymax;
        let mut hi = self.center + z * ymax;
        for &y in self.yi.iter().chain(self.filled.iter().map(|p| &p.0)) {
            lo = lo.min(y);
            hi = hi.max(y);
        }
        if self.contours {
            lo = lo.min(self.reference - zc[0] * ymax);
            hi = hi.max(self.reference + zc[0] * ymax);
        }

        // legend rows (contours only)
        let sw = fs;
        let legend_items: Vec<(&str, &str)> = if self.contours {
            CONTOURS
                .iter()
                .rev()
                .map(|c| (c.1, c.2))
                .chain(std::iter::once((BACK, "p \u{2264} 0.01")))
                .collect()
        } else {
            Vec::new()
        };
        let avail = self.width.max(200.0) - 2.0 * PAD;
        let mut legend_rows: Vec<Vec<(f64, &str, &str)>> = Vec::new();
        let mut x = 0.0;
        for &(color, text) in &legend_items {
            let w = sw + 4.0 + text_width(text, fs, false) + fs;
            if legend_rows.is_empty() || (x + w > avail && x > 0.0) {
                legend_rows.push(Vec::new());
                x = 0.0;
            }
            if let Some(row) = legend_rows.last_mut() {
                row.push((x, color, text));
            }
            x += w;
        }
        let lh = (fs * 1.5).round();
        let legend_h = legend_rows.len() as f64 * lh;

        let xs = AxisSpec {
            lo,
            hi,
            transform: self.transform,
            title: self
                .xlabel
                .clone()
                .unwrap_or_else(|| self.transform.default_axis_title().to_string()),
            limits: None,
            keep: Some(if self.contours {
                self.reference
            } else {
                self.center
            }),
        };
        let ys = AxisSpec {
            lo: 0.0,
            hi: se_max,
            transform: Transform::Identity,
            title: self.ylabel.clone(),
            limits: None,
            keep: Some(0.0),
        };
        let frame = Frame::new(self.width, self.height, fs, &xs, &ys, true, legend_h);
        let (w, h) = frame.size();
        let mut svg = Svg::new(w.max(self.width), h.max(self.height), &self.title);

        // legend
        for (r, row) in legend_rows.iter().enumerate() {
            let y = PAD + r as f64 * lh;
            for &(x, color, text) in row {
                svg.rect(
                    "legend-key",
                    PAD + x,
                    y + (lh - sw) / 2.0,
                    sw,
                    sw,
                    Paint::both(color, INK, 0.5),
                );
                svg.text(
                    "legend",
                    PAD + x + sw + 4.0,
                    y + lh / 2.0 + 0.35 * fs,
                    text,
                    Anchor::Start,
                    Font::regular(fs),
                );
            }
        }

        let (l, r, t, b) = (frame.left, frame.right, frame.top, frame.bottom);
        svg.open_clipped("panel-content", "funnel-panel", l, t, r - l, b - t);
        let ybot = ymax;
        let tri = |c: f64, z: f64| {
            [
                (frame.x.map(c - z * ybot), frame.y.map(ybot)),
                (frame.x.map(c), frame.y.map(0.0)),
                (frame.x.map(c + z * ybot), frame.y.map(ybot)),
            ]
        };
        if self.contours {
            svg.rect("region", l, t, r - l, b - t, Paint::fill(BACK));
            for (c, zv) in CONTOURS.iter().zip(&zc) {
                svg.polygon("region", &tri(self.reference, *zv), Paint::fill(c.1));
            }
            let x = frame.x.map(self.reference);
            svg.line(
                "refline",
                x,
                t,
                x,
                b,
                Paint::stroke("#555555", 1.0).dashed("4 3"),
            );
            let p = tri(self.center, z);
            let paint = Paint::stroke(INK, 1.0).dashed("2 2");
            svg.line("triangle", p[0].0, p[0].1, p[1].0, p[1].1, paint);
            svg.line("triangle", p[1].0, p[1].1, p[2].0, p[2].1, paint);
        } else {
            svg.rect("region", l, t, r - l, b - t, Paint::fill("#ebebeb"));
            svg.polygon(
                "triangle",
                &tri(self.center, z),
                Paint::both("#ffffff", "#555555", 1.0).dashed("3 3"),
            );
        }
        let cx = frame.x.map(self.center);
        svg.line(
            "center",
            cx,
            frame.y.map(0.0),
            cx,
            frame.y.map(ybot),
            Paint::stroke(INK, 1.0),
        );
        let rad = (fs * 0.3).max(2.0);
        for (&y, &s) in self.yi.iter().zip(&self.sei) {
            svg.circle(
                "study",
                frame.x.map(y),
                frame.y.map(s),
                rad,
                Paint::both(INK, INK, 0.75),
            );
        }
        for (&(y, _), &s) in self.filled.iter().zip(&filled_se) {
            svg.circle(
                "filled",
                frame.x.map(y),
                frame.y.map(s),
                rad,
                Paint::both("#ffffff", INK, 1.0),
            );
        }
        svg.close();
        frame.draw_axes(&mut svg);
        svg.finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn studies() -> Studies {
        Studies::from_variances(vec![0.1, 0.5, -0.2, 0.3], vec![0.04, 0.09, 0.01, 0.25]).unwrap()
    }

    #[test]
    fn one_point_per_study_and_hollow_filled_points() {
        let svg = FunnelPlot::new(&studies(), 0.2)
            .filled(vec![(-0.4, 0.09), (-0.6, 0.16)])
            .render()
            .unwrap();
        assert_eq!(svg.matches("<circle class=\"study\"").count(), 4);
        assert_eq!(svg.matches("<circle class=\"filled\"").count(), 2);
        assert!(svg.contains("class=\"filled\"") && svg.contains("fill=\"#ffffff\" stroke"));
    }

    #[test]
    fn contours_add_regions_and_legend() {
        let svg = FunnelPlot::new(&studies(), 0.2)
            .contours(true)
            .render()
            .unwrap();
        assert_eq!(svg.matches("class=\"region\"").count(), 4);
        assert_eq!(svg.matches("class=\"legend-key\"").count(), 4);
        assert!(svg.contains("p &gt; 0.10"));
    }

    #[test]
    fn bad_filled_point_is_named() {
        let e = FunnelPlot::new(&studies(), 0.2)
            .filled(vec![(0.1, 0.1), (0.2, -1.0)])
            .render()
            .unwrap_err();
        assert!(
            matches!(e, MetaError::InvalidValue { ref study, ref field, .. } if study.index == 1 && field == "vi"),
            "{e:?}"
        );
    }

    #[test]
    fn triangle_apex_is_at_the_centre_and_se_zero() {
        let svg = FunnelPlot::new(&studies(), 0.2).render().unwrap();
        let tri = svg
            .lines()
            .find(|l| l.contains("class=\"triangle\""))
            .unwrap();
        let center = svg
            .lines()
            .find(|l| l.contains("class=\"center\""))
            .unwrap();
        let pts: Vec<&str> = tri
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .collect();
        let x1 = center
            .split("x1=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let y1 = center
            .split("y1=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(pts[1], format!("{x1},{y1}"));
    }
}
