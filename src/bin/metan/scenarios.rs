//! `metan scenarios <CSV> --spec FILE`: named sensitivity scenarios side by side.
//!
//! The CSV is in long format, one row per study and outcome source: columns `study`,
//! `source` (official, partner, self_report, couple, or any other name), the outcome as
//! `yi` and `vi` or as the counts `t_events, t_non_events, t_dropouts, c_events,
//! c_non_events, c_dropouts`, and any attribute columns (design, flags, drop-out rate, ...).
//! A `simulated` column with a true value marks the data as simulated; every table then
//! says so.
//!
//! The spec file is TOML (or JSON when its name ends in `.json`):
//!
//! ```toml
//! provenance = "simulated data drawn from the digest"
//! simulated = true
//! back_transform = "exp"            # show odds ratios
//! [model]
//! method = "REML"                   # default model: method, test, level
//! [base]
//! name = "official records"
//! sources = ["official"]            # outcome-source preference order
//! comparison = "programme_vs_no_programme"   # one comparison per pooled estimate
//! [[scenario]]
//! name = "partner, else couple reports"
//! sources = ["partner", "couple"]
//! [[scenario]]
//! name = "RCTs with drop-out below 30%"
//! sources = ["official"]
//! select = { op = "and", all = [ { op = "equals", attr = "design", value = "RCT" },
//!                                { op = "lt", attr = "dropout_rate", value = 0.3 } ] }
//! [[scenario]]
//! builtin = "drop_flagged"          # drop_flagged (flag), rcts_only (attr, value),
//! flag = "flawed"                   # source_only (source), paired (source, other),
//!                                   # leave_out_each_flagged (flag), attrition (imor)
//! ```
//!
//! A scenario whose studies compare different things (the `comparison` column) is refused
//! unless it sets `mix_comparisons = true`; studies with `comparison = no_comparison_group`
//! are counted, never pooled. `data/digest_scenarios.toml` runs the evidence digest's
//! findings on `data/ipv_simulated_long.csv` (SIMULATED data).
//!
//! The full reference (every predicate and option) is in the documentation of
//! `metan::sensitivity::scenarios`.

use std::path::PathBuf;

use clap::Args;
use metan::MetaError;
use metan::sensitivity::{ScenarioData, ScenarioSpec};

use crate::common::{Format, to_json};

/// Arguments of `metan scenarios`.
#[derive(Args, Debug)]
pub struct ScenarioArgs {
    /// Long-format CSV: one row per study and outcome source.
    pub csv: PathBuf,
    /// Scenario file (TOML, or JSON when it ends in .json).
    #[arg(long)]
    pub spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn read(path: &PathBuf) -> Result<String, MetaError> {
    std::fs::read_to_string(path).map_err(|e| MetaError::Csv {
        path: path.display().to_string(),
        row: None,
        column: None,
        message: format!("cannot read: {e}"),
    })
}

/// Runs `metan scenarios`.
pub fn run(a: &ScenarioArgs) -> Result<String, MetaError> {
    let text = read(&a.spec)?;
    let spec = if a
        .spec
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        ScenarioSpec::from_json(&text)?
    } else {
        ScenarioSpec::from_toml(&text)?
    };
    let csv = read(&a.csv)?;
    let data = ScenarioData::from_csv_reader(csv.as_bytes(), &a.csv.display().to_string())?;
    let report = spec.run(&data)?;
    match a.format {
        Format::Text => Ok(report.to_string()),
        Format::Json => to_json(&report),
    }
}
