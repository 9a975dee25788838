//! The geometry of a forest plot: the text of each column and its width, the horizontal
//! and vertical positions, and the axis scale with its ticks. No SVG is written here.

use super::super::axis::{PAD, thin_x, x_axis_height};
use super::super::scales::{Scale, Tick, Transform, axis_ticks, fmt_fixed};
use super::super::svg::Font;
use super::super::text::{text_width, truncate_to_width};
use super::{ForestPlot, ForestRow, SummaryKind};

/// Everything `draw` needs, computed once from the options and the (validated) rows.
pub(super) struct Layout<'a> {
    /// Font size and row height in pixels.
    pub fs: f64,
    pub rh: f64,
    /// The rows drawn (note rows dropped when notes are off).
    pub rows: Vec<&'a ForestRow>,
    pub regular: Font,
    pub bold: Font,
    pub note_font: Font,
    /// Whether the weight column is shown.
    pub has_weights: bool,
    /// Per row: the (truncated) label and whether it is bold.
    pub labels: Vec<Option<(String, bool)>>,
    pub header_label: String,
    /// Per row: the estimate column as `[estimate, "[lower,", "upper]"]`.
    pub annots: Vec<Option<[String; 3]>>,
    pub annot_header: String,
    /// Widths of the three parts of the estimate column, and of a space.
    pub part_w: [f64; 3],
    pub space: f64,
    /// Per row: the weight column's text.
    pub weights: Vec<Option<String>>,
    // horizontal
    pub total_w: f64,
    /// The plotting panel `[px0, px1]`.
    pub px0: f64,
    pub px1: f64,
    /// Right edges of the weight and estimate columns.
    pub weight_x1: f64,
    pub annot_x1: f64,
    // vertical
    pub total_h: f64,
    pub header_base: f64,
    pub rule_y: f64,
    /// Top of the first row and the axis line.
    pub y0: f64,
    pub axis_y: f64,
    // scale
    pub scale: Scale,
    pub ticks: Vec<Tick>,
}

impl<'a> Layout<'a> {
    pub(super) fn new(plot: &'a ForestPlot) -> Self {
        let fs = plot.font_size;
        let rh = (fs * 1.5).round();
        let tr = plot.transform;
        let rows: Vec<&ForestRow> = plot
            .data
            .rows
            .iter()
            .filter(|r| plot.notes || !matches!(r, ForestRow::Note(_)))
            .collect();

        // ---- text columns --------------------------------------------------------------
        let has_weights = plot.show_weights
            && rows
                .iter()
                .any(|r| matches!(r, ForestRow::Study(s) if s.weight.is_some()));
        let labels: Vec<Option<(String, bool)>> = rows
            .iter()
            .map(|r| label_of(r).map(|(l, b)| (truncate_to_width(&l, plot.label_width, fs, b), b)))
            .collect();
        let header_label = truncate_to_width(&plot.data.label_header, plot.label_width, fs, true);
        let label_w = labels
            .iter()
            .flatten()
            .map(|(l, b)| text_width(l, fs, *b))
            .chain(std::iter::once(text_width(&header_label, fs, true)))
            .fold(0.0, f64::max);

        let annots: Vec<Option<[String; 3]>> = rows
            .iter()
            .map(|r| match r {
                ForestRow::Study(s) if plot.annotate => {
                    Some(annot_parts(tr, plot.digits, s.estimate, s.ci))
                }
                ForestRow::Summary(s) if plot.annotate => {
                    Some(annot_parts(tr, plot.digits, s.estimate, s.ci))
                }
                ForestRow::Study(_)
                | ForestRow::Summary(_)
                | ForestRow::Heading(_)
                | ForestRow::Note(_)
                | ForestRow::Spacer => None,
            })
            .collect();
        let space = text_width(" ", fs, false);
        let mut part_w = [0.0f64; 3];
        for a in annots.iter().flatten() {
            for (w, p) in part_w.iter_mut().zip(a.iter()) {
                *w = w.max(text_width(p, fs, false));
            }
        }
        let level = plot.data.level;
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
        let annot_w = if plot.annotate {
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
                ForestRow::Study(_)
                | ForestRow::Summary(_)
                | ForestRow::Heading(_)
                | ForestRow::Note(_)
                | ForestRow::Spacer => None,
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
        if plot.annotate {
            fixed += annot_w;
        }
        let min_panel = (fs * 14.0).max(120.0);
        let panel_w = (plot.width - fixed).max(min_panel);
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

        // ---- scale ---------------------------------------------------------------------
        let (scale, ticks) = scale_and_ticks(plot, &rows, panel_w, (px0, px1));

        Layout {
            fs,
            rh,
            rows,
            regular: Font::regular(fs),
            bold: Font::bold(fs),
            note_font: Font::italic(fs * 0.9),
            has_weights,
            labels,
            header_label,
            annots,
            annot_header,
            part_w,
            space,
            weights,
            total_w,
            px0,
            px1,
            weight_x1,
            annot_x1,
            total_h,
            header_base,
            rule_y,
            y0,
            axis_y,
            scale,
            ticks,
        }
    }

    /// The vertical centre of row `i`.
    pub(super) fn cy(&self, i: usize) -> f64 {
        self.y0 + (i as f64 + 0.5) * self.rh
    }
}

/// A row's label and whether it is bold (overall summaries and headings).
fn label_of(r: &ForestRow) -> Option<(String, bool)> {
    match r {
        ForestRow::Study(s) => Some((s.label.clone(), false)),
        ForestRow::Summary(s) => Some((s.label.clone(), s.kind == SummaryKind::Overall)),
        ForestRow::Heading(h) => Some((h.clone(), true)),
        ForestRow::Note(_) | ForestRow::Spacer => None,
    }
}

/// The estimate column of a row: `[estimate, "[lower,", "upper]"]`, back-transformed.
fn annot_parts(tr: Transform, d: usize, est: f64, ci: (f64, f64)) -> [String; 3] {
    [
        fmt_fixed(tr.apply(est), d),
        format!("[{},", fmt_fixed(tr.apply(ci.0), d)),
        format!("{}]", fmt_fixed(tr.apply(ci.1), d)),
    ]
}

/// The axis: the data's span (intervals, prediction intervals when drawn, the guide and a
/// nearby reference line) or the fixed `xlim`, and its thinned ticks.
fn scale_and_ticks(
    plot: &ForestPlot,
    rows: &[&ForestRow],
    panel_w: f64,
    panel: (f64, f64),
) -> (Scale, Vec<Tick>) {
    let fs = plot.font_size;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut widen = |a: f64, b: f64| {
        lo = lo.min(a);
        hi = hi.max(b);
    };
    for r in rows {
        match r {
            ForestRow::Study(s) => widen(s.ci.0.min(s.estimate), s.ci.1.max(s.estimate)),
            ForestRow::Summary(s) => {
                widen(s.ci.0.min(s.estimate), s.ci.1.max(s.estimate));
                if let (Some(p), true) = (s.pi, plot.prediction) {
                    widen(p.0, p.1);
                }
            }
            ForestRow::Heading(_) | ForestRow::Note(_) | ForestRow::Spacer => {}
        }
    }
    if let Some(g) = plot.data.guide {
        if g.is_finite() {
            widen(g, g);
        }
    }
    if let Some(r) = plot.reference {
        let span = hi - lo;
        if r >= lo - span && r <= hi + span {
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    let (lo, hi) = plot.xlim.unwrap_or((lo, hi));
    let target = ((panel_w / (fs * 6.0)).round() as usize).clamp(3, 8);
    let (ticks, mut domain) = axis_ticks(plot.transform, lo, hi, target);
    let mut ticks = ticks;
    if let Some(lim) = plot.xlim {
        let tol = (lim.1 - lim.0) * 1e-9;
        ticks.retain(|t| t.value >= lim.0 - tol && t.value <= lim.1 + tol);
        domain = lim;
    }
    let scale = Scale::new(domain, panel);
    let ticks = thin_x(ticks, &scale, fs, plot.reference);
    (scale, ticks)
}
