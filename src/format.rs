//! Numbers and tables as R and the reference packages print them: the one home of the
//! crate's text formatting (private). Every `Display` of a fitted model is built from these.
//!
//! * fixed decimals: [`fcf`] (`formatC(x, format = "f")`), [`format_df`];
//! * p-values: [`pval_str`] and [`pval_add0`] (metafor's `.pval`), [`stars`],
//!   [`SIGNIF_LEGEND`];
//! * R's `format()` (`formatReal`): [`format_column`], [`format_num`], [`format_pval`]
//!   (clubSandwich's and robumeta's layouts);
//! * tables: [`print_vector`] (metafor's `.print.vector`), [`print_frame`] and
//!   [`print_columns`] (R's `print(data.frame)`, with and without metafor's trailing
//!   space), [`write_table`] (the sensitivity tables).

use std::fmt;

/// `formatC(x, format = "f", digits = d)`.
pub(crate) fn fcf(x: f64, d: usize) -> String {
    if x.is_nan() {
        "NA".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else {
        let d = d.min(crate::model::MAX_DIGITS);
        let s = format!("{x:.d$}");
        // formatC prints -0.0000 as "-0.0000"; R does the same, keep it.
        s
    }
}

/// metafor's `.pval(p, digits, showeq, sep)` (`add0 = FALSE`): `"<.0001"` (with `sep`
/// after `<`) below the cutoff `10^-digits`, else `"="` (with `showeq`), `sep` and the
/// value with `digits` decimals.
pub(crate) fn pval_str(p: f64, digits: usize, showeq: bool, sep: &str) -> String {
    pval(p, digits, showeq, sep, false)
}

/// metafor's `.pval(p, digits, showeq = TRUE, sep = " ", add0 = TRUE)`: `"< 0.0001"`.
pub(crate) fn pval_add0(p: f64, digits: usize) -> String {
    pval(p, digits, true, " ", true)
}

fn pval(p: f64, digits: usize, showeq: bool, sep: &str, add0: bool) -> String {
    let digits = digits.max(1);
    let cutoff = 10f64.powi(-(digits as i32));
    let eq = if showeq { "=" } else { "" };
    if p.is_nan() {
        format!("{eq}{sep}NA")
    } else if p >= cutoff {
        format!("{eq}{sep}{}", fcf(p, digits))
    } else {
        let zero = if add0 { "0" } else { "" };
        format!("<{sep}{zero}.{}1", "0".repeat(digits - 1))
    }
}

/// R's `symnum` significance stars.
pub(crate) fn stars(p: f64) -> &'static str {
    if p.is_nan() {
        ""
    } else if p <= 0.001 {
        "***"
    } else if p <= 0.01 {
        "**"
    } else if p <= 0.05 {
        "*"
    } else if p <= 0.1 {
        "."
    } else {
        " "
    }
}

/// `round(df, 2)` printed as R prints a number: no trailing zeros.
pub(crate) fn format_df(df: f64) -> String {
    let r = (df * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        let s = format!("{r:.2}");
        s.trim_end_matches('0').to_string()
    }
}

/// R's significance legend as metafor prints it.
pub(crate) const SIGNIF_LEGEND: &str = "Signif. codes:  0 \u{2018}***\u{2019} 0.001 \u{2018}**\u{2019} 0.01 \u{2018}*\u{2019} 0.05 \u{2018}.\u{2019} 0.1 \u{2018} \u{2019} 1";

/// R's decomposition of `|x|` rounded to `digits` significant digits: the power of ten
/// of the leading digit and the number of significant digits needed (trailing zeros
/// dropped).
fn scientific(x: f64, digits: usize) -> (i32, usize) {
    if x == 0.0 {
        return (0, 1);
    }
    let s = format!("{:.*e}", digits.saturating_sub(1), x.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let kp: i32 = exp.parse().unwrap_or(0);
    let sig: String = mant.chars().filter(char::is_ascii_digit).collect();
    let nsig = sig.trim_end_matches('0').len().max(1);
    (kp, nsig)
}

/// `format(x, digits = digits)` of a numeric vector: one common layout, each entry
/// unpadded. `sci = false` is `scientific = FALSE` (fixed notation always). Non-finite
/// values print as `NA`, `NaN`, `Inf`, `-Inf`.
pub(crate) fn format_column(x: &[f64], digits: usize, sci: bool) -> Vec<String> {
    let digits = digits.max(1);
    let mut rgt = i32::MIN;
    let mut mxsl = i32::MIN;
    let mut mxns = 0usize;
    let mut mxe = i32::MIN;
    let mut mne = i32::MAX;
    let mut neg = 0i32;
    let mut any = false;
    for &v in x.iter().filter(|v| v.is_finite()) {
        any = true;
        let (kp, nsig) = scientific(v, digits);
        let left = kp + 1;
        let neg_i = i32::from(v < 0.0);
        let sleft = neg_i + if left <= 0 { 1 } else { left };
        let right = nsig as i32 - left;
        neg = neg.max(neg_i);
        rgt = rgt.max(right);
        mxsl = mxsl.max(sleft);
        mxns = mxns.max(nsig);
        mxe = mxe.max(kp);
        mne = mne.min(kp);
    }
    let special = |v: f64| {
        if v.is_nan() {
            "NaN".to_string()
        } else if v > 0.0 {
            "Inf".to_string()
        } else {
            "-Inf".to_string()
        }
    };
    if !any {
        return x.iter().map(|&v| special(v)).collect();
    }
    let rgt = rgt.max(0) as usize;
    let w_fixed = mxsl as usize + rgt + usize::from(rgt != 0);
    let e = if mxe >= 100 || mne <= -99 { 2 } else { 1 };
    let d = mxns - 1;
    let w_sci = neg as usize + usize::from(d > 0) + d + 4 + e;
    let fixed = !sci || w_fixed <= w_sci;
    x.iter()
        .map(|&v| {
            if !v.is_finite() {
                special(v)
            } else if fixed {
                let s = format!("{v:.rgt$}");
                // R prints -0 as 0
                if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                    s[1..].to_string()
                } else {
                    s
                }
            } else {
                let s = format!("{v:.d$e}");
                let (m, ex) = s.split_once('e').unwrap_or((s.as_str(), "0"));
                let ex: i32 = ex.parse().unwrap_or(0);
                let sign = if ex < 0 { '-' } else { '+' };
                format!("{m}e{sign}{:0w$}", ex.abs(), w = e + 1)
            }
        })
        .collect()
}

/// One number as `print`/`cat` show it: `format(x, digits = digits)`.
pub(crate) fn format_num(x: f64, digits: usize) -> String {
    format_column(&[x], digits, true).remove(0)
}

/// A list of values as the user writes them on the command line, comma-separated
/// (`0.025,0.5`, `2,3`): how an error message quotes a list option.
pub(crate) fn list<T: fmt::Display>(xs: &[T]) -> String {
    xs.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A list of numbers as [`list`] writes it, very large and very small ones in scientific
/// notation (`1e308`, not its 309 digits).
pub(crate) fn list_num(xs: &[f64]) -> String {
    let one = |x: f64| {
        if x.is_finite() && x != 0.0 && !(1e-4..1e15).contains(&x.abs()) {
            format!("{x:e}")
        } else {
            x.to_string()
        }
    };
    list(&xs.iter().map(|&x| one(x)).collect::<Vec<_>>())
}

/// R's `format.pval(p, digits, eps)`: values below `eps` as `<eps` (e.g. `<0.001`), the
/// others formatted together (fixed-notation ones and scientific ones as two groups).
pub(crate) fn format_pval(p: &[f64], digits: usize, eps: f64) -> Vec<String> {
    let mut out = vec![String::new(); p.len()];
    let small: Vec<bool> = p.iter().map(|&v| v < eps).collect();
    let idx_rest: Vec<usize> = (0..p.len()).filter(|&i| !small[i]).collect();
    let fixp: Vec<usize> = idx_rest
        .iter()
        .copied()
        .filter(|&i| p[i] == 0.0 || p[i].log10().floor() >= -3.0 || p[i].is_nan())
        .collect();
    let sci: Vec<usize> = idx_rest
        .iter()
        .copied()
        .filter(|i| !fixp.contains(i))
        .collect();
    for group in [&fixp, &sci] {
        let vals: Vec<f64> = group.iter().map(|&i| p[i]).collect();
        for (i, s) in group.iter().zip(format_column(&vals, digits, true)) {
            out[*i] = if p[*i].is_nan() { "NA".into() } else { s };
        }
    }
    if small.iter().any(|&s| s) {
        let mut d = digits.saturating_sub(2).max(1);
        let sep = if idx_rest.is_empty() {
            if d == 1 { "" } else { " " }
        } else {
            let nc = idx_rest
                .iter()
                .map(|&i| out[i].chars().count())
                .max()
                .unwrap_or(0);
            if d > 1 && d + 6 > nc {
                d = nc.saturating_sub(7).max(1);
            }
            if d == 1 && nc <= 6 { "" } else { " " }
        };
        let e = format_num(eps, d);
        for (i, s) in small.iter().enumerate() {
            if *s {
                out[i] = format!("<{sep}{e}");
            }
        }
    }
    out
}

/// metafor's `.print.vector`: right-aligned cells, gap of 2, each line ending with a space.
pub(crate) fn print_vector(f: &mut fmt::Formatter<'_>, cells: &[(&str, String)]) -> fmt::Result {
    let widths: Vec<usize> = cells
        .iter()
        .map(|(n, v)| n.chars().count().max(v.chars().count()))
        .collect();
    let head: Vec<String> = cells
        .iter()
        .zip(&widths)
        .map(|((n, _), w)| format!("{n:>w$}"))
        .collect();
    let row: Vec<String> = cells
        .iter()
        .zip(&widths)
        .map(|((_, v), w)| format!("{v:>w$}"))
        .collect();
    writeln!(f, "{} ", head.join("  "))?;
    writeln!(f, "{} ", row.join("  "))
}

/// R's `print(data.frame)` of already formatted columns: every column right-aligned to
/// its widest entry (header included) after a gap of `gap` spaces, the row names (if any)
/// left-aligned before them, and the columns wrapped into blocks narrower than 80
/// characters (R's `width`), each block repeating the row names. One line per entry.
fn frame_lines(
    rownames: Option<&[String]>,
    headers: &[&str],
    cols: &[Vec<String>],
    gap: usize,
) -> Vec<String> {
    const WIDTH: usize = 80;
    let widths: Vec<usize> = headers
        .iter()
        .zip(cols)
        .map(|(h, c)| {
            c.iter()
                .map(|s| s.chars().count())
                .chain(std::iter::once(h.chars().count()))
                .max()
                .unwrap_or(0)
                + gap
        })
        .collect();
    let nrow = rownames.map_or_else(|| cols.first().map_or(0, Vec::len), <[String]>::len);
    let rlabw = rownames.map_or(0, |r| {
        r.iter().map(|s| s.chars().count()).max().unwrap_or(0)
    });
    let label = |r: Option<usize>| -> String {
        let s = match (rownames, r) {
            (Some(names), Some(i)) => names[i].as_str(),
            _ => "",
        };
        format!("{s:<rlabw$}")
    };
    let mut out = Vec::new();
    let ncol = headers.len();
    let mut jmin = 0;
    while jmin < ncol {
        let mut width = rlabw;
        let mut jmax = jmin;
        loop {
            width += widths[jmax];
            jmax += 1;
            if !(jmax < ncol && width + widths[jmax] < WIDTH) {
                break;
            }
        }
        let mut line = label(None);
        for j in jmin..jmax {
            line.push_str(&format!("{:>w$}", headers[j], w = widths[j]));
        }
        out.push(line);
        for r in 0..nrow {
            let mut line = label(Some(r));
            for (col, w) in cols[jmin..jmax].iter().zip(&widths[jmin..jmax]) {
                line.push_str(&format!("{:>w$}", col[r]));
            }
            out.push(line);
        }
        jmin = jmax;
    }
    out
}

/// R's `print(data.frame, quote = FALSE, right = TRUE, print.gap = gap)` followed by
/// metafor's `.print.table` (which ends every line with a space): row names left-aligned,
/// cells and headers right-aligned to the widest entry of their column, and the columns
/// wrapped into blocks of at most 80 characters (R's default `width`), as R does.
pub(crate) fn print_frame(
    f: &mut fmt::Formatter<'_>,
    rownames: &[String],
    headers: &[&str],
    cols: &[Vec<String>],
    gap: usize,
) -> fmt::Result {
    for line in frame_lines(Some(rownames), headers, cols, gap) {
        writeln!(f, "{line} ")?;
    }
    Ok(())
}

/// R's `print(data.frame)` of already formatted columns with a gap of one space (the
/// layout of clubSandwich's and robumeta's printouts), as a string.
pub(crate) fn print_columns(
    rownames: Option<&[String]>,
    headers: &[&str],
    cols: &[Vec<String>],
) -> String {
    let mut out = String::new();
    for line in frame_lines(rownames, headers, cols, 1) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A metafor-style table: row names left-aligned, columns right-aligned, one space apart.
pub(crate) fn write_table(
    f: &mut fmt::Formatter<'_>,
    row_names: &[String],
    headers: &[&str],
    columns: &[Vec<String>],
) -> fmt::Result {
    let name_w = row_names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = headers
        .iter()
        .zip(columns)
        .map(|(h, c)| {
            c.iter()
                .map(|s| s.chars().count())
                .chain(std::iter::once(h.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    write!(f, "{:name_w$} ", "")?;
    for (h, w) in headers.iter().zip(&widths) {
        write!(f, "{h:>w$} ")?;
    }
    writeln!(f)?;
    for (r, name) in row_names.iter().enumerate() {
        write!(f, "{name:<name_w$} ")?;
        for (c, w) in columns.iter().zip(&widths) {
            write!(f, "{:>w$} ", c[r])?;
        }
        writeln!(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pval_formats_like_metafor() {
        assert_eq!(pval_str(0.00001, 4, true, " "), "< .0001");
        assert_eq!(pval_str(0.0019, 4, false, ""), "0.0019");
        assert_eq!(pval_str(1.0, 4, true, " "), "= 1.0000");
        assert_eq!(stars(0.0005), "***");
        assert_eq!(stars(0.5), " ");
        assert_eq!(format_df(12.0), "12");
        assert_eq!(format_df(12.5), "12.5");
    }

    #[test]
    fn pval_add0_keeps_the_leading_zero() {
        assert_eq!(pval_add0(0.00001, 4), "< 0.0001");
        assert_eq!(pval_add0(0.5, 4), "= 0.5000");
        assert_eq!(pval_add0(0.0123, 4), "= 0.0123");
        assert_eq!(pval_add0(f64::NAN, 4), "= NA");
    }

    #[test]
    fn columns_like_r() {
        // format(c(0.0197, -0.0682, 0.5499, 0.5606), digits = 3) etc. (values from R)
        assert_eq!(
            format_column(&[0.019_73, -0.068_2, 0.549_9, 0.560_6], 3, true),
            ["0.0197", "-0.0682", "0.5499", "0.5606"]
        );
        assert_eq!(
            format_column(&[0.2814, -2.544, 6.011, 7.201], 3, true),
            ["0.281", "-2.544", "6.011", "7.201"]
        );
        assert_eq!(format_column(&[6.0001, 8.97], 3, true), ["6.00", "8.97"]);
        assert_eq!(format_num(0.182_832_2, 7), "0.1828322");
        assert_eq!(format_num(5.0, 7), "5");
        assert_eq!(format_num(1e-20, 3), "1e-20");
        assert_eq!(
            format_column(&[1e-5, 1.0], 3, false),
            ["0.00001", "1.00000"]
        );
        assert_eq!(format_column(&[123456789.0], 3, true), ["1.23e+08"]);
        assert_eq!(
            format_column(&[f64::INFINITY, 16.0, 2.63], 3, true),
            ["Inf", "16.00", "2.63"]
        );
    }

    #[test]
    fn pvals_like_r() {
        assert_eq!(
            format_pval(&[0.787_53, 0.043_77, 1e-5, 0.020_01], 3, 1e-3),
            ["0.7875", "0.0438", "<0.001", "0.0200"]
        );
        assert_eq!(format_pval(&[1e-6], 3, 1e-3), ["<0.001"]);
        assert_eq!(format_pval(&[0.036_01], 3, 1e-3), ["0.036"]);
    }
}
