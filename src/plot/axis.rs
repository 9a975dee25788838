//! Axes: drawing an x or y axis with its ticks, and the frame of a scatter plot (funnel,
//! Baujat, GOSH).

use super::scales::{Scale, Tick, Transform, axis_ticks, thin_ticks};
use super::svg::{Anchor, Font, Paint, Svg};
use super::text::{text_width, truncate_to_width};

/// Length of a tick mark in pixels.
pub(crate) const TICK_LEN: f64 = 5.0;
/// Outer margin of every plot in pixels.
pub(crate) const PAD: f64 = 10.0;
/// Colour of axes and text.
pub(crate) const INK: &str = "#000000";

/// Vertical space an x axis needs below its line: ticks, labels and title.
pub(crate) fn x_axis_height(fs: f64) -> f64 {
    TICK_LEN + 3.0 + fs + 8.0 + fs + 4.0
}

/// Draws a horizontal axis at pixel height `y` from `x0` to `x1`, with `ticks` (already
/// thinned) placed by `scale`, and a centred title below.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_x_axis(
    svg: &mut Svg,
    scale: &Scale,
    ticks: &[Tick],
    y: f64,
    x0: f64,
    x1: f64,
    title: &str,
    fs: f64,
) {
    svg.open("x-axis");
    svg.line("axis", x0, y, x1, y, Paint::stroke(INK, 1.0));
    for t in ticks {
        let x = scale.map(t.value);
        svg.line("tick", x, y, x, y + TICK_LEN, Paint::stroke(INK, 1.0));
        svg.text(
            "tick-label",
            x,
            y + TICK_LEN + 3.0 + fs * 0.8,
            &t.label,
            Anchor::Middle,
            Font::regular(fs),
        );
    }
    let title = truncate_to_width(title, (x1 - x0).max(0.0) + 2.0 * PAD, fs, false);
    svg.text(
        "axis-title",
        (x0 + x1) / 2.0,
        y + TICK_LEN + 3.0 + fs + 8.0 + fs * 0.8,
        &title,
        Anchor::Middle,
        Font::regular(fs),
    );
    svg.close();
}

/// Draws a vertical axis at pixel `x` from `y0` (top) to `y1` (bottom), with tick labels
/// to its left and a rotated title at `title_x`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_y_axis(
    svg: &mut Svg,
    scale: &Scale,
    ticks: &[Tick],
    x: f64,
    y0: f64,
    y1: f64,
    title: &str,
    title_x: f64,
    fs: f64,
) {
    svg.open("y-axis");
    svg.line("axis", x, y0, x, y1, Paint::stroke(INK, 1.0));
    for t in ticks {
        let y = scale.map(t.value);
        svg.line("tick", x - TICK_LEN, y, x, y, Paint::stroke(INK, 1.0));
        svg.text(
            "tick-label",
            x - TICK_LEN - 3.0,
            y + 0.35 * fs,
            &t.label,
            Anchor::End,
            Font::regular(fs),
        );
    }
    let title = truncate_to_width(title, (y1 - y0).max(0.0) + 2.0 * PAD, fs, false);
    svg.text_rotated(
        "axis-title",
        title_x,
        (y0 + y1) / 2.0,
        &title,
        Anchor::Middle,
        Font::regular(fs),
        true,
    );
    svg.close();
}

/// Ticks of a horizontal axis, thinned so their labels do not overlap.
pub(crate) fn thin_x(ticks: Vec<Tick>, scale: &Scale, fs: f64, keep: Option<f64>) -> Vec<Tick> {
    thin_ticks(
        ticks,
        |v| scale.map(v),
        |s| text_width(s, fs, false),
        fs * 0.8,
        keep,
    )
}

/// Ticks of a vertical axis, thinned so their labels (one line high) do not overlap.
pub(crate) fn thin_y(ticks: Vec<Tick>, scale: &Scale, fs: f64, keep: Option<f64>) -> Vec<Tick> {
    thin_ticks(ticks, |v| scale.map(v), |_| fs, fs * 0.4, keep)
}

/// One axis of a scatter plot: its data range, transform, title and whether it is
/// inverted (funnel plots put SE = 0 at the top).
#[derive(Debug, Clone)]
pub(crate) struct AxisSpec {
    pub lo: f64,
    pub hi: f64,
    pub transform: Transform,
    pub title: String,
    /// Fixed limits instead of the nice extension of `[lo, hi]`.
    pub limits: Option<(f64, f64)>,
    /// A value whose tick survives thinning.
    pub keep: Option<f64>,
}

/// The frame of a scatter plot: panel bounds, scales and ticks.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub x: Scale,
    pub y: Scale,
    pub xticks: Vec<Tick>,
    pub yticks: Vec<Tick>,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub fs: f64,
    xtitle: String,
    ytitle: String,
    ytitle_x: f64,
}

impl Frame {
    /// Lays out a `width` x `height` plot with a panel for the two axes. `y_down` puts the
    /// low end of the y axis at the top (funnel plots). `legend_h` reserves space above the
    /// panel.
    pub fn new(
        width: f64,
        height: f64,
        fs: f64,
        xs: &AxisSpec,
        ys: &AxisSpec,
        y_down: bool,
        legend_h: f64,
    ) -> Frame {
        let (xlo, xhi) = xs.limits.unwrap_or((xs.lo, xs.hi));
        let (ylo, yhi) = ys.limits.unwrap_or((ys.lo, ys.hi));
        let (xt, xd) = axis_ticks(xs.transform, xlo, xhi, 5);
        let (yt, yd) = axis_ticks(ys.transform, ylo, yhi, 5);
        let (xt, xd) = restrict(xt, xd, xs.limits);
        let (yt, yd) = restrict(yt, yd, ys.limits);
        let ylab_w = yt
            .iter()
            .map(|t| text_width(&t.label, fs, false))
            .fold(0.0, f64::max);
        let ytitle_x = PAD + fs * 0.8;
        let left = PAD + fs + 8.0 + ylab_w + TICK_LEN + 3.0;
        // room for half of the last x tick label
        let right = (width - PAD - fs * 1.5).max(left + 50.0);
        let top = PAD + legend_h + fs * 0.5;
        let bottom = (height - PAD - x_axis_height(fs)).max(top + 50.0);
        let x = Scale::new(xd, (left, right));
        let y = if y_down {
            Scale::new(yd, (top, bottom))
        } else {
            Scale::new(yd, (bottom, top))
        };
        let xticks = thin_x(xt, &x, fs, xs.keep);
        let yticks = thin_y(yt, &y, fs, ys.keep);
        Frame {
            x,
            y,
            xticks,
            yticks,
            left,
            right,
            top,
            bottom,
            fs,
            xtitle: xs.title.clone(),
            ytitle: ys.title.clone(),
            ytitle_x,
        }
    }

    /// The total width and height the frame needs (at least the requested ones).
    pub fn size(&self) -> (f64, f64) {
        (
            self.right + PAD + self.fs * 1.5,
            self.bottom + x_axis_height(self.fs) + PAD,
        )
    }

    /// Draws both axes (on the left and bottom edges of the panel) and a box around it.
    pub fn draw_axes(&self, svg: &mut Svg) {
        svg.rect(
            "panel",
            self.left,
            self.top,
            self.right - self.left,
            self.bottom - self.top,
            Paint::stroke("#888888", 0.5),
        );
        draw_x_axis(
            svg,
            &self.x,
            &self.xticks,
            self.bottom,
            self.left,
            self.right,
            &self.xtitle,
            self.fs,
        );
        draw_y_axis(
            svg,
            &self.y,
            &self.yticks,
            self.left,
            self.top,
            self.bottom,
            &self.ytitle,
            self.ytitle_x,
            self.fs,
        );
    }
}

/// With fixed limits, keeps only the ticks inside them and uses them as the domain.
fn restrict(
    ticks: Vec<Tick>,
    domain: (f64, f64),
    limits: Option<(f64, f64)>,
) -> (Vec<Tick>, (f64, f64)) {
    match limits {
        None => (ticks, domain),
        Some((a, b)) => {
            let tol = (b - a).abs() * 1e-9;
            let t = ticks
                .into_iter()
                .filter(|t| t.value >= a - tol && t.value <= b + tol)
                .collect();
            (t, (a, b))
        }
    }
}
