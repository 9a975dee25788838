//! Published pooled results of reviews of IPV perpetrator programmes (real, review-level).

use super::Embedded;
use crate::error::Result;

const FILE: &str = "data/published-results.csv";
const TEXT: &str = include_str!("../../data/published-results.csv");
const HEADER: [&str; 10] = [
    "review",
    "year",
    "k_studies_or_effects",
    "participants",
    "outcome_or_subgroup",
    "pooled_measure",
    "pooled_value",
    "ci_95",
    "significance_or_note",
    "source_url",
];

/// One pooled result as printed in a published review, with the page it was read from.
///
/// Every text field is kept exactly as printed (`None` where the page read gave nothing).
/// [`value`](Self::value), [`ci_lower`](Self::ci_lower) and [`ci_upper`](Self::ci_upper)
/// are parsed from the printed text only where it is a single number (value) or a single
/// `lower–upper` / `lower to upper` interval (CI); anything else (several numbers,
/// percentages, words) leaves them `None` and the text in [`value_text`](Self::value_text).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PublishedResult {
    /// The review (authors, and the journal reference where given), as printed
    /// (`review`).
    pub review: String,
    /// Publication year of the review (`year`).
    pub year: u32,
    /// Number of studies or effect sizes, as printed (`k_studies_or_effects`), e.g.
    /// `"k = 7"`.
    pub k: Option<String>,
    /// Number of participants, as printed (`participants`).
    pub participants: Option<String>,
    /// Outcome or subgroup the result refers to (`outcome_or_subgroup`).
    pub outcome: Option<String>,
    /// The pooled measure, as printed (`pooled_measure`), e.g. `"odds ratio"`, `"mean d"`.
    pub measure: Option<String>,
    /// The pooled value exactly as printed (`pooled_value`).
    pub value_text: Option<String>,
    /// The 95% confidence interval exactly as printed (`ci_95`).
    pub ci_text: Option<String>,
    /// Significance or a note, as printed (`significance_or_note`): quotes from the
    /// review and remarks on what the page read did or did not show.
    pub note: Option<String>,
    /// The page(s) the result was read from (`source_url`; several separated by ` ; `).
    pub source_url: String,
    /// [`value_text`](Self::value_text) as a number, when it is exactly one number.
    pub value: Option<f64>,
    /// Lower bound of [`ci_text`](Self::ci_text), when it is one interval.
    pub ci_lower: Option<f64>,
    /// Upper bound of [`ci_text`](Self::ci_text), when it is one interval.
    pub ci_upper: Option<f64>,
}

/// A single finite number, or `None`.
fn plain_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// `"0.49–1.28"` (en dash) or `"-1.02 to -0.69"` as `(lower, upper)`, or `None`.
fn interval(text: &str) -> Option<(f64, f64)> {
    let (a, b) = text
        .split_once(" to ")
        .or_else(|| text.split_once('\u{2013}'))?;
    let (lo, hi) = (plain_number(a)?, plain_number(b)?);
    (lo <= hi).then_some((lo, hi))
}

/// The published pooled results of systematic reviews and meta-analyses of perpetrator
/// programmes for intimate partner violence, in the order of
/// `data/published-results.csv` (copied unchanged from the project's digest material).
///
/// These are **facts** as printed, each with its source page, and are never altered: use
/// them as the comparators of analyses of the simulated IPV data ([`super::ipv`]). For
/// example, Wilson, Feder & Olaghere (2021) print an odds ratio of 0.79 (0.49–1.28) for
/// official reports and 0.99 (0.74–1.32) for victim reports in experimental studies. No
/// review printed Q, I^2 or tau^2 on the pages read.
///
/// # Errors
/// [`MetaError::Csv`](crate::MetaError::Csv) naming the line and column if the embedded file
/// were malformed (a bug: the shipped file is checked by the tests).
///
/// # Examples
/// ```
/// let results = metan::datasets::published_results()?;
/// let victim = results
///     .iter()
///     .find(|r| r.year == 2021 && r.outcome.as_deref() == Some("experimental studies: victim-reported outcomes"))
///     .unwrap();
/// assert_eq!(victim.measure.as_deref(), Some("odds ratio"));
/// assert_eq!(victim.value, Some(0.99));
/// assert_eq!((victim.ci_lower, victim.ci_upper), (Some(0.74), Some(1.32)));
/// assert_eq!(victim.ci_text.as_deref(), Some("0.74–1.32"));
/// assert!(victim.source_url.starts_with("https://"));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn published_results() -> Result<Vec<PublishedResult>> {
    let t = Embedded::parse(TEXT, FILE, &HEADER)?;
    (0..t.len())
        .map(|r| {
            let value_text = t.opt_string(r, 6);
            let ci_text = t.opt_string(r, 7);
            let ci = ci_text.as_deref().and_then(interval);
            Ok(PublishedResult {
                review: t.string(r, 0)?,
                year: t.count(r, 1)?,
                k: t.opt_string(r, 2),
                participants: t.opt_string(r, 3),
                outcome: t.opt_string(r, 4),
                measure: t.opt_string(r, 5),
                value: value_text.as_deref().and_then(plain_number),
                value_text,
                ci_lower: ci.map(|c| c.0),
                ci_upper: ci.map(|c| c.1),
                ci_text,
                note: t.opt_string(r, 8),
                source_url: t.string(r, 9)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_unambiguous_numbers() {
        assert_eq!(plain_number("0.79"), Some(0.79));
        assert_eq!(plain_number("-0.85"), Some(-0.85));
        assert_eq!(plain_number("0.82 (Duluth); 0.94 (CBT)"), None);
        assert_eq!(plain_number("13.4% treated vs 19.4% untreated"), None);
        assert_eq!(interval("0.49\u{2013}1.28"), Some((0.49, 1.28)));
        assert_eq!(interval("-1.02 to -0.69"), Some((-1.02, -0.69)));
        assert_eq!(interval("0.49"), None);
        assert_eq!(interval("1.2\u{2013}0.3"), None);
    }
}
