//! `metan robu`: robumeta's robust variance estimation.

use clap::Args;
use metan::data::csv::Table;
use metan::{MetaError, Robu, RobuWeights, Studies};

use crate::common::{Format, Input, load_studies, split_list, to_json};

/// Arguments of `metan robu`.
#[derive(Args, Debug)]
pub struct RobuArgs {
    #[command(flatten)]
    pub input: Input,
    /// The cluster column (the study each effect comes from).
    #[arg(long)]
    pub cluster: String,
    /// Weights: corr (correlated effects) or hier (hierarchical effects).
    #[arg(long, default_value = "corr")]
    pub weights: String,
    /// The assumed correlation of effects within a cluster (correlated effects), in [0, 1].
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub rho: f64,
    /// Moderator columns (comma-separated or repeated); a column that is not numeric is
    /// categorical (dummy-coded against its first level).
    #[arg(long, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Without the small-sample corrections (robumeta's small = FALSE).
    #[arg(long)]
    pub no_small: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The studies of `input` with the clusters of column `cluster` (a missing value is an
/// error naming the row).
pub fn with_clusters(
    input: &Input,
    studies: Studies,
    cluster: &str,
    rows: Option<&[usize]>,
) -> Result<Studies, MetaError> {
    let table = Table::from_path(&input.csv)?;
    let ids = table.text_column(cluster)?;
    let ids: Vec<String> = match rows {
        Some(r) => r.iter().map(|&i| ids[i].clone()).collect(),
        None => ids,
    };
    // "NA" is R's missing value, as an empty cell
    if let Some(i) = ids.iter().position(|s| s.trim() == "NA") {
        return Err(MetaError::Csv {
            path: input.csv.display().to_string(),
            row: Some(table.line(i)),
            column: Some(cluster.to_string()),
            message: "missing cluster identifier (NA)".into(),
        });
    }
    studies.with_clusters(ids)
}

/// Runs `metan robu` and returns what to print.
pub fn run(a: &RobuArgs) -> Result<String, MetaError> {
    let weights: RobuWeights = a.weights.parse()?;
    let mods = split_list(&a.mods);
    let studies = load_studies(&a.input, &mods, &[])?;
    let studies = with_clusters(&a.input, studies, &a.cluster, None)?;
    let fit = Robu::new()
        .weights(weights)
        .rho(a.rho)
        .small(!a.no_small)
        .moderators(mods)
        .fit(&studies)?;
    match a.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}
