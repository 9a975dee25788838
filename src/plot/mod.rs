//! Plots as SVG: forest, funnel, Baujat and GOSH plots.
//!
//! Every plot is a builder with infallible setters and a `render()` that validates once and
//! returns the SVG text. Rendering is deterministic and needs no fonts: text is measured
//! with a built-in table of Helvetica advance widths ([`text_width`]), numbers are
//! formatted without locale, and the output is the same bytes on every machine.
//!
//! * [`ForestPlot`] draws a [`ForestData`]: rows of studies, summaries (diamonds with
//!   prediction-interval bars), headings and notes. [`ForestData::from_fit`] gives the
//!   standard plot of a [`crate::MetaFit`]; subgroup, leave-one-out and cumulative plots
//!   are built from plain rows.
//! * [`FunnelPlot`]: estimates against standard errors, with the pseudo-confidence
//!   triangle, optional contour-enhanced regions and hollow trim-and-fill points.
//! * [`BaujatPlot`] draws a [`BaujatData`] (contribution to heterogeneity against
//!   influence, as metafor's `baujat`).
//! * [`GoshPlot`]: estimate against I^2 for many subsets.
//! * [`SelectionPlot`]: the estimated selection function of a selection model (metafor's
//!   `plot.rma.uni.selmodel`).
//!
//! With [`Transform::Exp`] log ratios are shown as ratios: the axis stays on the log scale
//! and its ticks sit at round ratios (0.25, 0.5, 1, 2, 4).
//!
//! ```
//! use metan::plot::{ForestData, ForestPlot, FunnelPlot, Transform};
//! use metan::{MetaAnalysis, Studies};
//! let s = Studies::from_variances(vec![-0.89, -1.59, -1.35, -1.44], vec![0.33, 0.19, 0.42, 0.02])?;
//! let fit = MetaAnalysis::new().fit(&s)?;
//! let forest = ForestPlot::new(ForestData::from_fit(&s, &fit)?)
//!     .transform(Transform::Exp)
//!     .render()?;
//! let funnel = FunnelPlot::from_fit(&s, &fit)?.transform(Transform::Exp).render()?;
//! assert!(forest.ends_with("</svg>\n") && funnel.ends_with("</svg>\n"));
//! # Ok::<(), metan::MetaError>(())
//! ```

mod axis;
mod baujat;
mod forest;
mod funnel;
mod gosh;
mod scales;
mod selection;
mod svg;
mod text;

pub use baujat::{BaujatData, BaujatPlot, PointLabels};
pub use forest::{
    ForestData, ForestPlot, ForestRow, StudyRow, Subgroup, SummaryKind, SummaryRow,
    heterogeneity_label,
};
pub use funnel::FunnelPlot;
pub use gosh::GoshPlot;
pub use scales::Transform;
pub use selection::SelectionPlot;
pub use text::{text_width, truncate_to_width};

use crate::error::{MetaError, Result};

/// An option that must be finite and satisfy `ok`.
pub(crate) fn check_option(name: &str, v: f64, ok: impl Fn(f64) -> bool) -> Result<()> {
    if v.is_finite() && ok(v) {
        Ok(())
    } else {
        Err(MetaError::invalid_option(name, v, "out of range"))
    }
}

/// Largest width or height of a plot in pixels: the SVG writer clamps coordinates to
/// +-1e7, so a larger canvas would silently lose its content.
pub(crate) const MAX_PIXELS: f64 = 1e6;

/// A width or height in pixels: between 1 and [`MAX_PIXELS`].
pub(crate) fn check_pixels(name: &str, v: f64) -> Result<()> {
    if (1.0..=MAX_PIXELS).contains(&v) {
        Ok(())
    } else {
        Err(MetaError::invalid_option(
            name,
            v,
            format!("must be between 1 and {MAX_PIXELS:e} pixels"),
        ))
    }
}

/// A data value that must be finite, named by row index, label and field.
pub(crate) fn check_value(i: usize, label: &str, field: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(MetaError::invalid_value(
            i,
            label,
            field,
            v,
            "must be finite",
        ))
    }
}

/// Light grid lines at the ticks of a scatter plot's frame.
pub(crate) fn draw_grid(svg: &mut svg::Svg, frame: &axis::Frame) {
    let paint = svg::Paint::stroke("#dddddd", 1.0);
    svg.open("grid");
    for t in &frame.xticks {
        let x = frame.x.map(t.value);
        svg.line("grid", x, frame.top, x, frame.bottom, paint);
    }
    for t in &frame.yticks {
        let y = frame.y.map(t.value);
        svg.line("grid", frame.left, y, frame.right, y, paint);
    }
    svg.close();
}
