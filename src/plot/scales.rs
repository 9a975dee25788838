//! Scales and ticks: a linear map from data to pixels, "nice" tick values on a linear
//! axis, and round ratio ticks (0.25, 0.5, 1, 2, 4, ...) on a log axis.
//!
//! Plots are drawn on the analysis scale (e.g. log risk ratios); [`Transform`] says how
//! tick labels and text are shown (e.g. `exp` for ratios). With [`Transform::Exp`] the
//! ticks are placed at round values of the *ratio*, so the axis reads 0.25, 0.5, 1, 2, 4
//! rather than `exp` of round log values.
//!
//! # References
//! Heckbert, P. S. (1990). Nice numbers for graph labels. In *Graphics Gems* (pp. 61-63).
//! Academic Press.

/// How values on the analysis scale are shown in labels and text columns.
///
/// # Examples
/// ```
/// use metan::plot::Transform;
/// assert_eq!(Transform::Identity.apply(0.5), 0.5);
/// assert!((Transform::Exp.apply(2f64.ln()) - 2.0).abs() < 1e-15);
/// assert_eq!("exp".parse::<Transform>()?, Transform::Exp);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Transform {
    /// Values are shown as they are (mean differences, SMDs, Fisher's z, ...).
    #[default]
    Identity,
    /// Values are log ratios and are shown as ratios (`exp(x)`): odds, risk and rate ratios.
    /// Axes become log axes with round ratio ticks; the reference line 0 reads 1.
    Exp,
}

impl Transform {
    /// The shown value of an analysis-scale value `x`.
    ///
    /// # Formula
    /// `Identity`: `x`; `Exp`: `exp(x)`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Exp => x.exp(),
        }
    }

    /// The default axis title.
    pub(crate) fn default_axis_title(self) -> &'static str {
        match self {
            Transform::Identity => "Observed Outcome",
            Transform::Exp => "Ratio (log scale)",
        }
    }
}

impl std::str::FromStr for Transform {
    type Err = crate::MetaError;

    /// `none`/`identity` or `exp` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "identity" => Ok(Transform::Identity),
            "exp" => Ok(Transform::Exp),
            _ => Err(crate::MetaError::UnknownName {
                kind: "transform".into(),
                name: s.to_string(),
                expected: "none, exp".into(),
            }),
        }
    }
}

impl std::fmt::Display for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transform::Identity => "none",
            Transform::Exp => "exp",
        })
    }
}

/// A linear map from a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `domain` onto `range`; a degenerate or non-finite domain is made valid first.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        let (d0, d1) = sanitize_domain(domain.0, domain.1);
        Scale {
            d0,
            d1,
            r0: range.0,
            r1: range.1,
        }
    }

    /// The pixel position of `x`. Values far outside the domain are clamped to ten domain
    /// widths beyond it, so that coordinates stay finite and moderate.
    pub fn map(&self, x: f64) -> f64 {
        // halves avoid overflow when the domain spans most of the f64 range
        let t = (x / 2.0 - self.d0 / 2.0) / (self.d1 / 2.0 - self.d0 / 2.0);
        let t = if t.is_nan() {
            0.0
        } else {
            t.clamp(-10.0, 11.0)
        };
        self.r0 + t * (self.r1 - self.r0)
    }

    /// True when `x` lies inside the domain (with a relative tolerance of 1e-9).
    pub fn contains(&self, x: f64) -> bool {
        let tol = (self.d1 - self.d0) * 1e-9;
        x >= self.d0 - tol && x <= self.d1 + tol
    }
}

/// A tick: its position on the analysis scale and its label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    pub value: f64,
    pub label: String,
}

/// Makes `(lo, hi)` a finite interval with `lo < hi`: swaps reversed bounds, replaces
/// non-finite ones, and widens an interval too narrow for distinct ticks to a relative
/// width of 1e-9 around its centre (or to `[-0.5, 0.5]` around 0).
pub(crate) fn sanitize_domain(lo: f64, hi: f64) -> (f64, f64) {
    let fix = |x: f64, default: f64| {
        if x.is_nan() {
            default
        } else {
            x.clamp(-f64::MAX / 4.0, f64::MAX / 4.0)
        }
    };
    let (mut lo, mut hi) = (fix(lo, -1.0), fix(hi, 1.0));
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    let mag = lo.abs().max(hi.abs());
    let min_span = (mag * 1e-9).max(1e-250);
    if hi - lo < min_span {
        let centre = lo / 2.0 + hi / 2.0;
        let half = if mag == 0.0 { 0.5 } else { min_span / 2.0 };
        lo = centre - half;
        hi = centre + half;
        if lo >= hi {
            // centre so large that adding half is lost in rounding: cannot happen with a
            // relative half-width of 5e-10, but stay safe
            lo = centre - centre.abs() * 1e-6;
            hi = centre + centre.abs() * 1e-6;
        }
    }
    (lo, hi)
}

/// `10^e` for integer `e`, exact for `0 <= e <= 22`.
fn pow10(e: i32) -> f64 {
    10f64.powi(e)
}

/// `i * m * 10^e`, computed so that decimal values are correctly rounded (dividing by an
/// exact power of ten rather than multiplying by an inexact one).
fn decimal(i: f64, m: f64, e: i32) -> f64 {
    if e >= 0 {
        i * m * pow10(e)
    } else if e >= -22 {
        (i * m) / pow10(-e)
    } else {
        (i * m) * pow10(e)
    }
}

/// A number with `d` decimals, as R's `formatC(x, format = "f", digits = d)` but without a
/// negative zero; `|x| >= 1e7` is written in scientific notation (`1.23e7`) and
/// non-finite values as `Inf`, `-Inf`, `NA`.
pub(crate) fn fmt_fixed(x: f64, d: usize) -> String {
    if x.is_nan() {
        return "NA".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    let d = d.min(17);
    let s = if x.abs() >= 1e7 {
        format!("{x:.d$e}")
    } else {
        format!("{x:.d$}")
    };
    if s.starts_with('-') && s.bytes().all(|b| matches!(b, b'-' | b'0' | b'.')) {
        s[1..].to_string()
    } else {
        s
    }
}

/// A number with about `sig` significant digits (fixed notation between 1e-4 and 1e7,
/// scientific outside).
pub(crate) fn fmt_sig(x: f64, sig: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return fmt_fixed(x, 0);
    }
    let a = x.abs();
    if (1e-4..1e7).contains(&a) {
        let mag = a.log10().floor() as i64;
        let d = (sig as i64 - 1 - mag).max(0) as usize;
        fmt_fixed(x, d)
    } else {
        let p = sig.saturating_sub(1);
        format!("{x:.p$e}")
    }
}

/// A ratio tick label: the shortest decimal that reads back as the value, scientific
/// outside [1e-4, 1e7).
fn fmt_ratio(v: f64) -> String {
    if (1e-4..1e7).contains(&v) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Nice linear ticks covering `[lo, hi]` (about `target` of them), and the domain they
/// span (from the first tick at or below `lo` to the last at or above `hi`).
///
/// # Formula
/// step = `m * 10^e` with `m` in {1, 2, 5} the nice number nearest above
/// `(hi - lo) / target` (Heckbert 1990); ticks are the multiples of the step.
pub(crate) fn linear_ticks(lo: f64, hi: f64, target: usize) -> (Vec<Tick>, (f64, f64)) {
    let (lo, hi) = sanitize_domain(lo, hi);
    let target = target.max(1) as f64;
    let raw = hi / target - lo / target;
    let mut e = raw.log10().floor();
    if !e.is_finite() {
        return fallback_ticks(lo, hi);
    }
    e = e.clamp(-300.0, 300.0);
    let mut e = e as i32;
    let f = raw / pow10(e);
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        e += 1;
        1.0
    };
    let step = decimal(1.0, m, e);
    let i0 = (lo / step + 1e-9).floor();
    let i1 = (hi / step - 1e-9).ceil();
    if !(i0.is_finite() && i1.is_finite() && i1 >= i0 && i1 - i0 <= 1000.0) {
        return fallback_ticks(lo, hi);
    }
    let n = (i1 - i0) as usize;
    let values: Vec<f64> = (0..=n).map(|j| decimal(i0 + j as f64, m, e)).collect();
    let maxabs = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let d = (-e).max(0) as usize;
    let ticks: Vec<Tick> = values
        .iter()
        .map(|&v| Tick {
            value: v,
            label: if maxabs < 1e7 && d <= 10 {
                fmt_fixed(v, d)
            } else if v == 0.0 {
                "0".to_string()
            } else {
                let p = ((maxabs.log10().floor() as i64) - e as i64).clamp(0, 16) as usize;
                format!("{v:.p$e}")
            },
        })
        .collect();
    let (first, last) = match (values.first(), values.last()) {
        (Some(&a), Some(&b)) if a < b => (a, b),
        _ => (lo, hi),
    };
    (ticks, (first.min(lo), last.max(hi)))
}

/// Two ticks at the ends, for intervals where no nice step exists.
fn fallback_ticks(lo: f64, hi: f64) -> (Vec<Tick>, (f64, f64)) {
    let ticks = [lo, hi]
        .iter()
        .map(|&v| Tick {
            value: v,
            label: fmt_sig(v, 6),
        })
        .collect();
    (ticks, (lo, hi))
}

/// Ticks at round ratio values for an axis whose analysis scale is `log(ratio)`, and the
/// (log-scale) domain they span.
///
/// Tries, in order: linear nice ticks on the ratio scale when the ratios span less than a
/// factor of 4 (0.8, 0.9, 1, 1.1); powers of two between 0.25 and 32 when at most 8 are
/// needed (0.25, 0.5, 1, 2, 4); the 1-2-5 series when at most 8 are needed; powers of ten,
/// every `s`-th decade, otherwise. When `exp` overflows or underflows, ticks fall back to
/// nice values on the log scale labelled by their `exp`.
pub(crate) fn ratio_ticks(lo: f64, hi: f64, target: usize) -> (Vec<Tick>, (f64, f64)) {
    let (lo, hi) = sanitize_domain(lo, hi);
    let (r0, r1) = (lo.exp(), hi.exp());
    if !(r0 > 0.0 && r1.is_finite() && r0 < r1 && r0.is_normal()) || hi - lo < 1e-12 {
        return log_fallback(lo, hi, target);
    }
    let ln10 = std::f64::consts::LN_10;
    let decades = (hi - lo) / ln10;
    let from_ratios = |vals: Vec<f64>| -> Option<(Vec<Tick>, (f64, f64))> {
        let vals: Vec<f64> = vals.into_iter().filter(|v| *v > 0.0).collect();
        let first = vals.first()?.ln();
        let last = vals.last()?.ln();
        let tol = 1e-9 * (1.0 + lo.abs().max(hi.abs()));
        if !(first <= lo + tol && last >= hi - tol) || vals.len() < 2 {
            return None;
        }
        let ticks = vals
            .iter()
            .map(|&v| Tick {
                value: v.ln(),
                label: fmt_ratio(v),
            })
            .collect();
        Some((ticks, (first.min(lo), last.max(hi))))
    };
    if decades < 4f64.log10() {
        let (ticks, _) = linear_ticks(r0, r1, target.saturating_sub(1).max(2));
        let vals: Vec<f64> = ticks.iter().map(|t| t.value).collect();
        if let Some(mut res) = from_ratios(vals) {
            // keep the linear labels (fixed decimals), which are rounder than shortest form
            for (t, lt) in res.0.iter_mut().zip(ticks.iter().filter(|t| t.value > 0.0)) {
                t.label = lt.label.clone();
            }
            return res;
        }
    }
    let ln2 = std::f64::consts::LN_2;
    let n0 = (lo / ln2 + 1e-9).floor();
    let n1 = (hi / ln2 - 1e-9).ceil();
    if n0 >= -2.0 && n1 <= 5.0 && n1 - n0 <= 7.0 {
        let vals = (n0 as i32..=n1 as i32).map(|n| 2f64.powi(n)).collect();
        if let Some(res) = from_ratios(vals) {
            return res;
        }
    }
    let d0 = (lo / ln10 + 1e-9).floor();
    let d1 = (hi / ln10 - 1e-9).ceil();
    if !(d0.is_finite() && d1.is_finite() && d0 >= -300.0 && d1 <= 300.0) {
        return log_fallback(lo, hi, target);
    }
    let (d0, d1) = (d0 as i32, d1 as i32);
    if decades <= 2.5 {
        let mut vals = Vec::new();
        for e in d0..=d1 {
            for m in [1.0, 2.0, 5.0] {
                vals.push(decimal(1.0, m, e));
            }
        }
        // keep from the last value <= r0 to the first >= r1
        let start = vals
            .iter()
            .rposition(|&v| v <= r0 * (1.0 + 1e-9))
            .unwrap_or(0);
        let end = vals
            .iter()
            .position(|&v| v >= r1 * (1.0 - 1e-9))
            .unwrap_or(vals.len().saturating_sub(1));
        if end > start && end - start < 8 {
            if let Some(res) = from_ratios(vals[start..=end].to_vec()) {
                return res;
            }
        }
    }
    let s = (((d1 - d0) as f64) / 7.0).ceil().max(1.0) as i32;
    let a = d0.div_euclid(s) * s;
    let b = -((-d1).div_euclid(s) * s);
    let vals = (a..=b)
        .step_by(s as usize)
        .map(|e| decimal(1.0, 1.0, e))
        .collect();
    from_ratios(vals).unwrap_or_else(|| log_fallback(lo, hi, target))
}

/// Nice ticks on the log scale, labelled by `exp(value)` (3 significant digits), or by
/// `e^value` when `exp` over- or underflows.
fn log_fallback(lo: f64, hi: f64, target: usize) -> (Vec<Tick>, (f64, f64)) {
    let (mut ticks, domain) = linear_ticks(lo, hi, target);
    for t in &mut ticks {
        let r = t.value.exp();
        t.label = if r.is_normal() && r.is_finite() {
            fmt_sig(r, 3)
        } else {
            format!("e^{}", t.label)
        };
    }
    (ticks, domain)
}

/// Ticks for an axis with the given transform: linear nice ticks for
/// [`Transform::Identity`], round ratio ticks for [`Transform::Exp`].
pub(crate) fn axis_ticks(
    transform: Transform,
    lo: f64,
    hi: f64,
    target: usize,
) -> (Vec<Tick>, (f64, f64)) {
    match transform {
        Transform::Identity => linear_ticks(lo, hi, target),
        Transform::Exp => ratio_ticks(lo, hi, target),
    }
}

/// Drops ticks until neighbouring labels (of the given pixel widths, centred on their
/// positions) are at least `gap` pixels apart. Keeps every other tick, preferring the set
/// that contains `keep` (e.g. the reference value), and repeats.
pub(crate) fn thin_ticks(
    ticks: Vec<Tick>,
    pos: impl Fn(f64) -> f64,
    width: impl Fn(&str) -> f64,
    gap: f64,
    keep: Option<f64>,
) -> Vec<Tick> {
    let mut ticks = ticks;
    loop {
        let overlaps = ticks.windows(2).any(|w| {
            let (a, b) = (&w[0], &w[1]);
            let da = (pos(b.value) - pos(a.value)).abs();
            da < (width(&a.label) + width(&b.label)) / 2.0 + gap
        });
        if !overlaps || ticks.len() <= 1 {
            return ticks;
        }
        let parity = keep
            .and_then(|k| {
                ticks
                    .iter()
                    .position(|t| (t.value - k).abs() <= 1e-12 * (1.0 + k.abs()))
            })
            .map(|i| i % 2)
            .unwrap_or(0);
        ticks = ticks
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, t)| t)
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(t: &[Tick]) -> Vec<&str> {
        t.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_nice() {
        let (t, d) = linear_ticks(-2.3, 1.4, 5);
        assert_eq!(labels(&t), ["-3", "-2", "-1", "0", "1", "2"]);
        assert_eq!(d, (-3.0, 2.0));
        let (t, _) = linear_ticks(0.0, 0.37, 5);
        assert_eq!(labels(&t), ["0.0", "0.1", "0.2", "0.3", "0.4"]);
        let (t, _) = linear_ticks(-0.013, 0.012, 5);
        assert_eq!(
            labels(&t),
            [
                "-0.015", "-0.010", "-0.005", "0.000", "0.005", "0.010", "0.015"
            ]
        );
        let (t, _) = linear_ticks(0.0, 4.0e8, 4);
        assert_eq!(labels(&t), ["0", "1e8", "2e8", "3e8", "4e8"]);
    }

    #[test]
    fn ratio_ticks_are_round() {
        // the BCG log risk ratios span about 0.1 to 3.4
        let (t, d) = ratio_ticks(0.1f64.ln(), 3.4f64.ln(), 5);
        assert_eq!(labels(&t), ["0.1", "0.2", "0.5", "1", "2", "5"]);
        assert!((d.0 - 0.1f64.ln()).abs() < 1e-12 && (d.1 - 5f64.ln()).abs() < 1e-12);
        let (t, _) = ratio_ticks(0.3f64.ln(), 3.9f64.ln(), 5);
        assert_eq!(labels(&t), ["0.25", "0.5", "1", "2", "4"]);
        let (t, _) = ratio_ticks(0.8f64.ln(), 1.3f64.ln(), 5);
        assert_eq!(labels(&t), ["0.8", "0.9", "1.0", "1.1", "1.2", "1.3"]);
        let (t, _) = ratio_ticks(0.004f64.ln(), 0.3f64.ln(), 5);
        assert_eq!(
            labels(&t),
            [
                "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5"
            ]
        );
        let (t, _) = ratio_ticks(1e-9f64.ln(), 1e9f64.ln(), 5);
        assert_eq!(
            labels(&t),
            ["1e-9", "1e-6", "0.001", "1", "1000", "1000000", "1e9"]
        );
        // exp overflows: log-scale ticks labelled e^x
        let (t, _) = ratio_ticks(1e6, 1e6 + 3.0, 5);
        assert!(t.iter().all(|t| t.label.starts_with("e^")), "{t:?}");
    }

    #[test]
    fn fixed_format_has_no_negative_zero() {
        assert_eq!(fmt_fixed(-0.0001, 2), "0.00");
        assert_eq!(fmt_fixed(-0.5, 2), "-0.50");
        assert_eq!(fmt_fixed(f64::INFINITY, 2), "Inf");
        assert_eq!(fmt_fixed(1.5e9, 2), "1.50e9");
        assert_eq!(fmt_sig(0.000123456, 3), "0.000123");
        assert_eq!(fmt_sig(0.0000123456, 3), "1.23e-5");
        assert_eq!(fmt_sig(12.3456, 3), "12.3");
    }

    #[test]
    fn thinning_keeps_reference() {
        let ticks: Vec<Tick> = (-3..=3)
            .map(|i| Tick {
                value: i as f64,
                label: format!("{i}"),
            })
            .collect();
        let kept = thin_ticks(ticks, |v| v * 10.0, |_| 12.0, 4.0, Some(0.0));
        assert_eq!(labels(&kept), ["-2", "0", "2"]);
    }

    proptest! {
        #[test]
        fn ticks_cover_and_are_sorted(a in -1e9f64..1e9, w in 0f64..1e9, exp in any::<bool>()) {
            let (lo, hi) = (a, a + w);
            let tr = if exp { Transform::Exp } else { Transform::Identity };
            let (t, d) = axis_ticks(tr, lo, hi, 5);
            prop_assert!(!t.is_empty());
            prop_assert!(d.0 <= d.1);
            prop_assert!(d.0.is_finite() && d.1.is_finite());
            for w in t.windows(2) {
                prop_assert!(w[0].value < w[1].value);
            }
            for tick in &t {
                prop_assert!(tick.value.is_finite());
                prop_assert!(!tick.label.is_empty());
            }
            prop_assert!(t.len() <= 1001);
        }
    }
}
