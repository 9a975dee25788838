//! The SVG of a forest plot, drawn from its [`Layout`]: the header, the reference and
//! guide lines, one group per row, the axis.

use super::super::axis::{INK, PAD, draw_x_axis};
use super::super::scales::Scale;
use super::super::svg::{Anchor, Paint, Svg};
use super::super::text::truncate_to_width;
use super::layout::Layout;
use super::{ForestPlot, ForestRow, StudyRow, SummaryKind, SummaryRow};

/// The whole document.
pub(super) fn draw(plot: &ForestPlot, l: &Layout) -> String {
    let mut svg = Svg::new(l.total_w, l.total_h, &plot.title);
    header(&mut svg, plot, l);
    vertical_lines(&mut svg, plot, l);

    let max_w = l
        .rows
        .iter()
        .filter_map(|r| match r {
            ForestRow::Study(s) => s.weight,
            ForestRow::Summary(_)
            | ForestRow::Heading(_)
            | ForestRow::Note(_)
            | ForestRow::Spacer => None,
        })
        .fold(0.0f64, f64::max);
    for (i, r) in l.rows.iter().enumerate() {
        let y = l.cy(i);
        let base = y + 0.35 * l.fs;
        match r {
            ForestRow::Study(s) => study(&mut svg, l, i, s, max_w),
            ForestRow::Summary(s) => summary(&mut svg, plot, l, i, s),
            ForestRow::Heading(_) => {
                svg.open("heading-row");
                if let Some((t, _)) = &l.labels[i] {
                    svg.text("heading", PAD, base, t, Anchor::Start, l.bold);
                }
            }
            ForestRow::Note(t) => {
                svg.open("note-row");
                let note_w = l.total_w - 2.0 * PAD;
                let t = truncate_to_width(t, note_w, l.note_font.size, false);
                svg.text("note", PAD, base, &t, Anchor::Start, l.note_font);
            }
            ForestRow::Spacer => continue,
        }
        columns(&mut svg, l, i, base);
        svg.close();
    }

    let title = plot
        .xlabel
        .clone()
        .unwrap_or_else(|| plot.transform.default_axis_title().to_string());
    draw_x_axis(
        &mut svg, &l.scale, &l.ticks, l.axis_y, l.px0, l.px1, &title, l.fs,
    );
    svg.finish()
}

/// The column headers and the rule under them.
fn header(svg: &mut Svg, plot: &ForestPlot, l: &Layout) {
    svg.open("header");
    svg.text(
        "header",
        PAD,
        l.header_base,
        &l.header_label,
        Anchor::Start,
        l.bold,
    );
    if l.has_weights {
        svg.text(
            "header",
            l.weight_x1,
            l.header_base,
            "Weight",
            Anchor::End,
            l.bold,
        );
    }
    if plot.annotate {
        svg.text(
            "header",
            l.annot_x1,
            l.header_base,
            &l.annot_header,
            Anchor::End,
            l.bold,
        );
    }
    svg.line(
        "rule",
        PAD,
        l.rule_y,
        l.total_w - PAD,
        l.rule_y,
        Paint::stroke(INK, 1.0),
    );
    svg.close();
}

/// The reference line and the guide. They run from the first row to the axis, interrupted
/// by note rows (whose text may cross the panel).
fn vertical_lines(svg: &mut Svg, plot: &ForestPlot, l: &Layout) {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let mut start = Some(l.y0);
    for (i, r) in l.rows.iter().enumerate() {
        let row_top = l.y0 + i as f64 * l.rh;
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
        spans.push((s, l.axis_y));
    }
    let vlines = [
        (
            plot.reference,
            "refline",
            Paint::stroke("#555555", 1.0).dashed("4 3"),
        ),
        (
            plot.data.guide,
            "guide",
            Paint::stroke("#888888", 1.0).dashed("2 2"),
        ),
    ];
    for (value, class, paint) in vlines {
        if let Some(v) = value.filter(|v| l.scale.contains(*v)) {
            let x = l.scale.map(v);
            for &(a, b) in &spans {
                svg.line(class, x, a, x, b, paint);
            }
        }
    }
}

/// A study row: label, whisker and a square whose area is proportional to the weight.
/// Opens the row's group.
fn study(svg: &mut Svg, l: &Layout, i: usize, s: &StudyRow, max_w: f64) {
    let y = l.cy(i);
    let base = y + 0.35 * l.fs;
    svg.open("row");
    if let Some((t, _)) = &l.labels[i] {
        svg.text("label", PAD, base, t, Anchor::Start, l.regular);
    }
    whisker(svg, &l.scale, s.ci, y, l.px0, l.px1, "ci");
    if l.scale.contains(s.estimate) {
        let max_side = (l.rh * 0.75).round();
        let side = match s.weight {
            Some(w) if max_w > 0.0 => (max_side * (w / max_w).sqrt()).max(3.0),
            Some(_) => 3.0,
            None => (l.rh * 0.4).round(),
        };
        let x = l.scale.map(s.estimate);
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

/// A summary row: label, prediction-interval bar and the diamond. Opens the row's group.
fn summary(svg: &mut Svg, plot: &ForestPlot, l: &Layout, i: usize, s: &SummaryRow) {
    let y = l.cy(i);
    let base = y + 0.35 * l.fs;
    let clampx = |x: f64| x.clamp(l.px0, l.px1);
    svg.open("summary-row");
    if let Some((t, b)) = &l.labels[i] {
        let f = if *b { l.bold } else { l.regular };
        svg.text("label", PAD, base, t, Anchor::Start, f);
    }
    if let (Some(p), true) = (s.pi, plot.prediction) {
        let (a, b) = (clampx(l.scale.map(p.0)), clampx(l.scale.map(p.1)));
        let paint = Paint::stroke("#444444", 1.5);
        svg.line("pi", a, y, b, y, paint);
        let cap = l.rh * 0.2;
        if l.scale.contains(p.0) {
            svg.line("pi", a, y - cap, a, y + cap, paint);
        }
        if l.scale.contains(p.1) {
            svg.line("pi", b, y - cap, b, y + cap, paint);
        }
    }
    let hh = l.rh * 0.38;
    let (a, m, b) = (
        clampx(l.scale.map(s.ci.0)),
        clampx(l.scale.map(s.estimate)),
        clampx(l.scale.map(s.ci.1)),
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

/// The weight and estimate columns of row `i`.
fn columns(svg: &mut Svg, l: &Layout, i: usize, base: f64) {
    if let Some(w) = &l.weights[i] {
        svg.text("weight", l.weight_x1, base, w, Anchor::End, l.regular);
    }
    if let Some([e, lo, hi]) = &l.annots[i] {
        let x3 = l.annot_x1;
        let x2 = x3 - l.part_w[2] - l.space;
        let x1 = x2 - l.part_w[1] - l.space;
        svg.text("estimate", x1, base, e, Anchor::End, l.regular);
        svg.text("estimate", x2, base, lo, Anchor::End, l.regular);
        svg.text("estimate", x3, base, hi, Anchor::End, l.regular);
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
