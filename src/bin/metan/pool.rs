//! `metan mh` and `metan peto`: pooling 2x2 tables directly (metafor's `rma.mh` and
//! `rma.peto`).

use std::path::PathBuf;

use clap::{ArgAction, Args};
use metan::MetaError;
use metan::data::csv::Table;
use metan::data::effect_size::To;
use metan::model::{MantelHaenszel, MhMeasure, Peto};

use crate::common::{Format, LevelArg, to_json};
use crate::raw::{TableColumns, two_by_two};

/// Options shared by `metan mh` and `metan peto`.
#[derive(Args, Debug)]
pub struct PoolArgs {
    /// CSV file with one 2x2 table per row.
    pub csv: PathBuf,
    #[command(flatten)]
    pub columns: TableColumns,
    /// Column of study labels (used in error messages)
    #[arg(long)]
    pub slab: Option<String>,
    /// Continuity correction of the per-study outcomes behind Q and I^2
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub add: f64,
    /// Per-study outcomes that get `add`: only0, all, if0all or none
    #[arg(long, default_value = "only0")]
    pub to: String,
    /// Whether per-study outcomes of double-zero tables are NA: true or false
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub drop00: bool,
    /// Continuity correction of the tables of the pooled estimate
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub table_add: f64,
    /// Tables of the pooled estimate that get `table-add`: none, only0, all or if0all
    #[arg(long, default_value = "none")]
    pub table_to: String,
    /// Whether double-zero tables are left out of the pooled estimate: true or false
    #[arg(long, default_value_t = false, action = ArgAction::Set)]
    pub table_drop00: bool,
    #[command(flatten)]
    pub level: LevelArg,
    /// Decimals in the text output
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `metan mh`.
#[derive(Args, Debug)]
pub struct MhArgs {
    /// Measure: OR, RR or RD
    #[arg(long, default_value = "OR")]
    pub measure: String,
    /// Whether the CMH test uses the continuity correction: true or false
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub correct: bool,
    #[command(flatten)]
    pub pool: PoolArgs,
}

fn read(p: &PoolArgs) -> Result<(Vec<metan::data::effect_size::TwoByTwo>, Vec<String>), MetaError> {
    let table = Table::from_path(&p.csv)?;
    let tables = two_by_two(&table, &p.columns)?;
    let labels = match &p.slab {
        Some(s) => table.text_column(s)?,
        None => (1..=table.len()).map(|i| format!("Study {i}")).collect(),
    };
    Ok((tables, labels))
}

/// Runs `metan mh`.
pub fn run_mh(a: &MhArgs) -> Result<String, MetaError> {
    let p = &a.pool;
    let measure: MhMeasure = a.measure.parse()?;
    let (tables, labels) = read(p)?;
    let fit = MantelHaenszel::new(measure)
        .add(p.add)
        .to(p.to.parse::<To>()?)
        .drop00(p.drop00)
        .table_add(p.table_add)
        .table_to(p.table_to.parse::<To>()?)
        .table_drop00(p.table_drop00)
        .correct(a.correct)
        .level(p.level.get()?)
        .digits(p.digits)
        .labels(labels)
        .fit(&tables)?;
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    match p.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}

/// Runs `metan peto`.
pub fn run_peto(p: &PoolArgs) -> Result<String, MetaError> {
    let (tables, labels) = read(p)?;
    let fit = Peto::new()
        .add(p.add)
        .to(p.to.parse::<To>()?)
        .drop00(p.drop00)
        .table_add(p.table_add)
        .table_to(p.table_to.parse::<To>()?)
        .table_drop00(p.table_drop00)
        .level(p.level.get()?)
        .digits(p.digits)
        .labels(labels)
        .fit(&tables)?;
    for w in fit.warnings() {
        eprintln!("metan: warning: {w}");
    }
    match p.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}
