//! Text measurement without fonts: a built-in table of advance widths.
//!
//! Layout must not depend on the fonts installed on the machine that renders the plot, so
//! metan measures text with the advance widths of Helvetica (Adobe's core-14 font metrics,
//! 1000 units per em). Arial and Liberation Sans are metric-compatible with Helvetica for
//! every printable ASCII character, so the SVG's font stack
//! `Helvetica, Arial, 'Liberation Sans', sans-serif` is laid out correctly by any of them.
//!
//! # References
//! Adobe Systems (1997). *Helvetica* and *Helvetica-Bold* font metrics (AFM 4.1), as
//! distributed with the Adobe Font Metrics core-14 set (and with R's `grDevices`).

/// Advance widths of Helvetica for the characters `' '` (32) to `'~'` (126).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 222, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 222, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// Advance widths of Helvetica-Bold for the characters `' '` (32) to `'~'` (126).
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 278, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 278, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// The ellipsis that ends a truncated text.
pub(crate) const ELLIPSIS: char = '\u{2026}';

/// Advance width of one character in 1/1000 em.
///
/// Printable ASCII comes from the table; a few typographic characters metan itself writes
/// (`…`, `–`, `−`, `²`, `τ`, `±`, `×`) have their Helvetica widths; other Latin-1 letters
/// count as 611, East-Asian wide characters as 1000 and anything else as 556 (the width of
/// a digit), so an unknown label is never measured as empty.
fn char_units(c: char, bold: bool) -> u32 {
    let code = c as u32;
    if (32..=126).contains(&code) {
        let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
        return u32::from(table[(code - 32) as usize]);
    }
    match c {
        '\u{2026}' | '\u{2014}' => 1000,
        '\u{2013}' => 556,
        '\u{2212}' | '\u{00B1}' | '\u{00D7}' => 584,
        '\u{00B2}' | '\u{00B3}' | '\u{00B9}' => 333,
        '\u{03C4}' => 500,
        '\u{00A0}' => 278,
        '\u{0000}'..='\u{001F}' | '\u{007F}'..='\u{009F}' => 0,
        '\u{00C0}'..='\u{024F}' => 611,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}' => 1000,
        _ => 556,
    }
}

/// Width in pixels of `text` set at `font_size` pixels, regular (`bold = false`) or bold.
///
/// # Formula
/// `width = font_size / 1000 * sum(advance(c))` over the characters of `text`, with the
/// Helvetica advance widths (no kerning).
///
/// # Examples
/// ```
/// use metan::plot::text_width;
/// // "1" is 556/1000 em wide in Helvetica
/// assert!((text_width("11", 10.0, false) - 11.12).abs() < 1e-12);
/// assert!(text_width("W", 12.0, true) > text_width("i", 12.0, true));
/// ```
///
/// # References
/// Adobe Systems (1997). Helvetica font metrics (AFM).
pub fn text_width(text: &str, font_size: f64, bold: bool) -> f64 {
    let units: u64 = text.chars().map(|c| u64::from(char_units(c, bold))).sum();
    units as f64 * font_size / 1000.0
}

/// `text` shortened to fit in `max_width` pixels, ending in an ellipsis (`…`) when it was
/// cut. Cuts happen between characters (never inside a UTF-8 sequence) and trailing
/// spaces before the ellipsis are dropped. When not even the ellipsis fits, the result is
/// empty.
///
/// # Examples
/// ```
/// use metan::plot::{text_width, truncate_to_width};
/// let s = truncate_to_width("Frimodt-Moller et al, 1973", 80.0, 12.0, false);
/// assert!(s.ends_with('…'));
/// assert!(text_width(&s, 12.0, false) <= 80.0);
/// assert_eq!(truncate_to_width("Aronson", 80.0, 12.0, false), "Aronson");
/// ```
pub fn truncate_to_width(text: &str, max_width: f64, font_size: f64, bold: bool) -> String {
    if text_width(text, font_size, bold) <= max_width {
        return text.to_string();
    }
    let budget = max_width - text_width("\u{2026}", font_size, bold);
    if budget.is_nan() || budget < 0.0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = f64::from(char_units(c, bold)) * font_size / 1000.0;
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_widths_follow_helvetica_afm() {
        // AFM: space 278, 'A' 667, 'i' 222, '%' 889 (regular); 'A' 722, 'i' 278 (bold)
        assert_eq!(char_units(' ', false), 278);
        assert_eq!(char_units('A', false), 667);
        assert_eq!(char_units('i', false), 222);
        assert_eq!(char_units('%', false), 889);
        assert_eq!(char_units('~', false), 584);
        assert_eq!(char_units('A', true), 722);
        assert_eq!(char_units('i', true), 278);
        assert!((text_width("Aronson", 1000.0, false) - 3724.0).abs() < 1e-9);
    }

    #[test]
    fn truncation_is_char_safe_and_fits() {
        let s = "Études sur le BCG — Ålesund 1950";
        for w in [0.0, 5.0, 20.0, 50.0, 100.0, 1000.0] {
            let t = truncate_to_width(s, w, 12.0, false);
            assert!(text_width(&t, 12.0, false) <= w + 1e-9, "{t} at {w}");
        }
        assert_eq!(truncate_to_width(s, 1.0, 12.0, false), "");
        assert_eq!(truncate_to_width(s, 1e6, 12.0, false), s);
        // no trailing space before the ellipsis
        let t = truncate_to_width("ab cd", text_width("ab …", 12.0, false), 12.0, false);
        assert_eq!(t, "ab…");
    }
}
