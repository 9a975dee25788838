//! A minimal, deterministic SVG writer.
//!
//! Every coordinate is written with at most two decimals, trailing zeros removed, without
//! locale (Rust's formatting never uses one), so the same plot is the same bytes on every
//! machine. Styles are presentation attributes (no CSS), which every SVG renderer reads.
//! Each mark carries a `class` naming what it shows (`study`, `summary`, `ci`, ...), so
//! tests and style sheets can find the marks.

use std::fmt::Write as _;

/// The font stack: Helvetica and its metric-compatible clones, whose widths
/// [`super::text`] uses for layout.
pub(crate) const FONT_FAMILY: &str = "Helvetica, Arial, 'Liberation Sans', sans-serif";

/// Horizontal text anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Fill and stroke of a mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Paint {
    pub fill: &'static str,
    pub stroke: &'static str,
    pub stroke_width: f64,
    pub dash: Option<&'static str>,
    pub opacity: Option<f64>,
}

impl Paint {
    /// A filled shape without outline.
    pub fn fill(color: &'static str) -> Self {
        Paint {
            fill: color,
            stroke: "none",
            stroke_width: 0.0,
            dash: None,
            opacity: None,
        }
    }
    /// A line (no fill).
    pub fn stroke(color: &'static str, width: f64) -> Self {
        Paint {
            fill: "none",
            stroke: color,
            stroke_width: width,
            dash: None,
            opacity: None,
        }
    }
    /// A filled and outlined shape.
    pub fn both(fill: &'static str, stroke: &'static str, width: f64) -> Self {
        Paint {
            fill,
            stroke,
            stroke_width: width,
            dash: None,
            opacity: None,
        }
    }
    /// The same paint, dashed (an SVG `stroke-dasharray`).
    pub fn dashed(mut self, dash: &'static str) -> Self {
        self.dash = Some(dash);
        self
    }
    /// The same paint with a fill opacity.
    pub fn opacity(mut self, opacity: f64) -> Self {
        self.opacity = Some(opacity);
        self
    }

    fn write(&self, out: &mut String) {
        let _ = write!(out, " fill=\"{}\"", self.fill);
        if self.stroke != "none" {
            let _ = write!(
                out,
                " stroke=\"{}\" stroke-width=\"{}\"",
                self.stroke,
                num(self.stroke_width)
            );
            if let Some(d) = self.dash {
                let _ = write!(out, " stroke-dasharray=\"{d}\"");
            }
        }
        if let Some(o) = self.opacity {
            let _ = write!(out, " fill-opacity=\"{}\"", num(o));
        }
    }
}

/// Text style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Font {
    pub size: f64,
    pub bold: bool,
    pub italic: bool,
    pub color: &'static str,
}

impl Font {
    pub fn regular(size: f64) -> Self {
        Font {
            size,
            bold: false,
            italic: false,
            color: "#000000",
        }
    }
    pub fn bold(size: f64) -> Self {
        Font {
            bold: true,
            ..Font::regular(size)
        }
    }
    pub fn italic(size: f64) -> Self {
        Font {
            italic: true,
            ..Font::regular(size)
        }
    }
}

/// A coordinate or length as SVG text: at most two decimals, no trailing zeros, no `-0`,
/// and never `NaN`/`inf` (non-finite values become 0, huge ones are clamped to ±1e7).
pub(crate) fn num(x: f64) -> String {
    let x = if x.is_finite() {
        x.clamp(-1e7, 1e7)
    } else {
        0.0
    };
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        return "0".to_string();
    }
    let mut s = format!("{r:.2}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s
}

/// Escapes text for XML character data and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // control characters are not allowed in XML 1.0
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push(' '),
            '\u{FFFE}' | '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document under construction.
#[derive(Debug, Clone)]
pub(crate) struct Svg {
    out: String,
}

impl Svg {
    /// Starts a document of `width` x `height` pixels with a white background and a
    /// `<title>`.
    pub fn new(width: f64, height: f64, title: &str) -> Self {
        let (w, h) = (num(width.ceil()), num(height.ceil()));
        let mut out = String::with_capacity(16 * 1024);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\">"
        );
        let _ = writeln!(out, "<title>{}</title>", escape(title));
        let _ = writeln!(
            out,
            "<rect class=\"background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"
        );
        Svg { out }
    }

    /// Opens a group `<g class="...">`.
    pub fn open(&mut self, class: &str) {
        let _ = writeln!(self.out, "<g class=\"{}\">", escape(class));
    }

    /// Defines a rectangular clip path `id` and opens a group clipped by it (close it with
    /// [`Svg::close`]).
    pub fn open_clipped(&mut self, class: &str, id: &str, x: f64, y: f64, w: f64, h: f64) {
        let _ = writeln!(
            self.out,
            "<clipPath id=\"{id}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
        let _ = writeln!(
            self.out,
            "<g class=\"{}\" clip-path=\"url(#{id})\">",
            escape(class)
        );
    }

    /// Closes the innermost group.
    pub fn close(&mut self) {
        self.out.push_str("</g>\n");
    }

    /// A line segment.
    pub fn line(&mut self, class: &str, x1: f64, y1: f64, x2: f64, y2: f64, paint: Paint) {
        let _ = write!(
            self.out,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
        paint.write(&mut self.out);
        self.out.push_str("/>\n");
    }

    /// A rectangle with its top-left corner at (`x`, `y`).
    pub fn rect(&mut self, class: &str, x: f64, y: f64, w: f64, h: f64, paint: Paint) {
        let _ = write!(
            self.out,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
        paint.write(&mut self.out);
        self.out.push_str("/>\n");
    }

    /// A closed polygon.
    pub fn polygon(&mut self, class: &str, points: &[(f64, f64)], paint: Paint) {
        let _ = write!(self.out, "<polygon class=\"{class}\" points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            let _ = write!(self.out, "{},{}", num(*x), num(*y));
        }
        self.out.push('"');
        paint.write(&mut self.out);
        self.out.push_str("/>\n");
    }

    /// An open polyline through `points`.
    pub fn polyline(&mut self, class: &str, points: &[(f64, f64)], paint: Paint) {
        let _ = write!(self.out, "<polyline class=\"{class}\" points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            let _ = write!(self.out, "{},{}", num(*x), num(*y));
        }
        self.out.push('"');
        paint.write(&mut self.out);
        self.out.push_str("/>\n");
    }

    /// A circle.
    pub fn circle(&mut self, class: &str, cx: f64, cy: f64, r: f64, paint: Paint) {
        let _ = write!(
            self.out,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\"",
            num(cx),
            num(cy),
            num(r.max(0.0))
        );
        paint.write(&mut self.out);
        self.out.push_str("/>\n");
    }

    /// Text with its baseline at `y`.
    pub fn text(&mut self, class: &str, x: f64, y: f64, text: &str, anchor: Anchor, font: Font) {
        self.text_rotated(class, x, y, text, anchor, font, false);
    }

    /// Text with its baseline at `y`, optionally rotated by -90 degrees about (`x`, `y`)
    /// (for vertical axis titles).
    #[allow(clippy::too_many_arguments)]
    pub fn text_rotated(
        &mut self,
        class: &str,
        x: f64,
        y: f64,
        text: &str,
        anchor: Anchor,
        font: Font,
        vertical: bool,
    ) {
        if text.is_empty() {
            return;
        }
        let (xs, ys) = (num(x), num(y));
        let _ = write!(
            self.out,
            "<text class=\"{class}\" x=\"{xs}\" y=\"{ys}\" font-size=\"{}\"",
            num(font.size)
        );
        if anchor != Anchor::Start {
            let _ = write!(self.out, " text-anchor=\"{}\"", anchor.as_str());
        }
        if font.bold {
            self.out.push_str(" font-weight=\"bold\"");
        }
        if font.italic {
            self.out.push_str(" font-style=\"italic\"");
        }
        if font.color != "#000000" {
            let _ = write!(self.out, " fill=\"{}\"", font.color);
        }
        if vertical {
            let _ = write!(self.out, " transform=\"rotate(-90 {xs} {ys})\"");
        }
        let _ = writeln!(self.out, ">{}</text>", escape(text));
    }

    /// Ends the document and returns its text.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_fixed_and_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(1e300), "10000000");
        assert_eq!(num(123456.789), "123456.79");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("A & B <c> \"d\" 'e'\u{1}"),
            "A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos; "
        );
    }

    #[test]
    fn document_is_closed() {
        let mut s = Svg::new(100.0, 50.0, "t");
        s.open("g");
        s.line(
            "l",
            0.0,
            0.0,
            1.0,
            1.0,
            Paint::stroke("#000000", 1.0).dashed("2 2"),
        );
        s.text("x", 1.0, 2.0, "a<b", Anchor::End, Font::bold(12.0));
        s.close();
        let out = s.finish();
        assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(out.ends_with("</svg>\n"));
        assert!(out.contains(
            "<line class=\"l\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/>"
        ));
        assert!(out.contains(
            "<text class=\"x\" x=\"1\" y=\"2\" font-size=\"12\" text-anchor=\"end\" font-weight=\"bold\">a&lt;b</text>"
        ));
    }
}
