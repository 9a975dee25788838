//! Options shared by the subcommands.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use metan::data::csv::{CsvSpec, Table, read_studies};

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

/// The input file and its study columns, shared by every subcommand that reads studies.
#[derive(Args, Debug)]
pub struct Input {
    /// CSV file with one row per study.
    pub csv: PathBuf,
    /// Column of effect estimates.
    #[arg(long, default_value = "yi")]
    pub yi: String,
    /// Column of sampling variances (the default, `vi`).
    #[arg(long, conflicts_with = "sei")]
    pub vi: Option<String>,
    /// Column of standard errors (instead of variances).
    #[arg(long)]
    pub sei: Option<String>,
    /// Column of study labels.
    #[arg(long)]
    pub slab: Option<String>,
}

impl Input {
    /// The columns as a [`CsvSpec`]: standard errors when `--sei` is given, else the
    /// variances of `--vi` (default `vi`).
    pub fn spec(&self) -> CsvSpec {
        let spec = CsvSpec::new(self.yi.clone());
        let spec = match (&self.vi, &self.sei) {
            (_, Some(se)) => spec.standard_errors(se.clone()),
            (Some(v), None) => spec.variances(v.clone()),
            (None, None) => spec.variances("vi"),
        };
        match &self.slab {
            Some(l) => spec.labels(l.clone()),
            None => spec,
        }
    }

    /// Reads the studies (estimates, precision, labels) from the file.
    pub fn read(&self) -> Result<metan::Studies, metan::MetaError> {
        read_studies(&self.csv, &self.spec())
    }
}

/// Reads the studies of a CSV file: estimates, variances (or standard errors), labels, and
/// the moderator columns `mods` (a column whose non-missing cells are all numbers is a
/// numeric moderator, any other column is categorical) and grouping columns `groups`
/// (always categorical, kept as text).
///
/// A missing value in a numeric moderator is an error naming the line and column; one in
/// a categorical moderator is an error naming the study when the model is built.
pub fn load_studies(
    input: &Input,
    mods: &[String],
    groups: &[String],
) -> Result<metan::Studies, metan::MetaError> {
    let csv = &input.csv;
    let mut studies = input.read()?;
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
