//! Options shared by the subcommands.

use clap::ValueEnum;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// metafor-style text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Serializes to pretty JSON followed by a newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, metan::MetaError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| metan::MetaError::Numerical {
            context: format!("JSON serialization: {e}"),
        })
}

/// Reads the studies of a CSV file: estimates, variances (or standard errors), labels, and
/// the moderator columns `mods` (a column whose non-missing cells are all numbers is a
/// numeric moderator, any other column is categorical) and grouping columns `groups`
/// (always categorical, kept as text).
///
/// A missing value in a numeric moderator is an error naming the line and column; one in
/// a categorical moderator is an error naming the study when the model is built.
pub fn load_studies(
    csv: &std::path::Path,
    yi: &str,
    vi: Option<&str>,
    sei: Option<&str>,
    slab: Option<&str>,
    mods: &[String],
    groups: &[String],
) -> Result<metan::Studies, metan::MetaError> {
    use metan::data::csv::{CsvSpec, Table, read_studies};
    let mut spec = CsvSpec::new(yi);
    spec = match (vi, sei) {
        (_, Some(se)) => spec.standard_errors(se),
        (Some(v), None) => spec.variances(v),
        (None, None) => spec.variances("vi"),
    };
    if let Some(l) = slab {
        spec = spec.labels(l);
    }
    let mut studies = read_studies(csv, &spec)?;
    if mods.is_empty() && groups.is_empty() {
        return Ok(studies);
    }
    let table = Table::from_path(csv)?;
    for m in mods {
        let text = table.text_column(m)?;
        let missing = |s: &str| s.trim().is_empty() || s.trim() == "NA";
        let numeric = text.iter().any(|s| !missing(s))
            && text
                .iter()
                .filter(|s| !missing(s))
                .all(|s| s.trim().parse::<f64>().is_ok_and(f64::is_finite));
        studies = if numeric {
            studies.with_moderator(m.clone(), table.numeric_column(m)?)?
        } else {
            studies.with_attribute(m.clone(), text)?
        };
    }
    for g in groups {
        studies = studies.with_attribute(g.clone(), table.text_column(g)?)?;
    }
    Ok(studies)
}

/// Splits `a,b,c` (empty parts dropped).
pub fn split_list(s: &[String]) -> Vec<String> {
    s.iter()
        .flat_map(|x| x.split(','))
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Parses `COL=LEVEL`.
pub fn parse_reference(s: &str) -> Result<(String, String), metan::MetaError> {
    match s.split_once('=') {
        Some((c, l)) if !c.trim().is_empty() => Ok((c.trim().to_string(), l.trim().to_string())),
        _ => Err(metan::MetaError::InvalidOption {
            option: "reference".into(),
            value: s.to_string(),
            reason: "expected COL=LEVEL".into(),
        }),
    }
}

/// Parses `2,3` (1-based coefficient numbers).
pub fn parse_btt(s: &str) -> Result<Vec<usize>, metan::MetaError> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| metan::MetaError::InvalidOption {
                    option: "btt".into(),
                    value: s.to_string(),
                    reason: "expected 1-based coefficient numbers such as 2,3".into(),
                })
        })
        .collect()
}
