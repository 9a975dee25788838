//! `metan escalc`: effect sizes from raw data (metafor's `escalc`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use metan::MetaError;
use metan::data::csv::Table;
use metan::data::effect_size::Measure;

use crate::common::to_json;
use crate::raw::{Corrections, RawColumns, effect_sizes, g17};

/// Output format of `metan escalc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EscalcFormat {
    /// The input CSV with `yi` and `vi` columns (17 significant digits; NA for missing).
    #[default]
    Csv,
    /// A JSON array with one object per study: the input columns plus `yi` and `vi`.
    Json,
}

/// Arguments of `metan escalc`.
#[derive(Args, Debug)]
pub struct EscalcArgs {
    /// CSV file with one row per study.
    pub csv: PathBuf,
    /// Measure: OR, RR, RD, AS, PETO (2x2 tables); MD, SMD, SMDH, ROM (means); COR, ZCOR
    /// (correlations); PR, PLO, PLN, PAS, PFT (proportions); IRR, IR (incidence)
    #[arg(long)]
    pub measure: String,
    #[command(flatten)]
    pub columns: RawColumns,
    #[command(flatten)]
    pub corrections: Corrections,
    /// Column of study labels (used in error messages)
    #[arg(long)]
    pub slab: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = EscalcFormat::Csv)]
    pub format: EscalcFormat,
}

/// Runs `metan escalc` and returns what to print.
pub fn run(a: &EscalcArgs) -> Result<String, MetaError> {
    let measure: Measure = a.measure.parse()?;
    let table = Table::from_path(&a.csv)?;
    let labels = a
        .slab
        .as_deref()
        .map(|s| table.text_column(s))
        .transpose()?;
    let es = effect_sizes(&table, measure, &a.columns, &a.corrections, labels)?;
    match a.format {
        EscalcFormat::Csv => csv_output(&table, es.yi(), es.vi()),
        EscalcFormat::Json => json_output(&table, es.yi(), es.vi()),
    }
}

/// The input columns (with `yi`/`vi` replaced if present, appended otherwise).
fn headers(table: &Table) -> (Vec<String>, Option<usize>, Option<usize>) {
    let mut h = table.headers().to_vec();
    let iy = h.iter().position(|c| c == "yi");
    let iv = h.iter().position(|c| c == "vi");
    if iy.is_none() {
        h.push("yi".into());
    }
    if iv.is_none() {
        h.push("vi".into());
    }
    (h, iy, iv)
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "NA".to_string(), g17)
}

fn csv_output(table: &Table, yi: &[Option<f64>], vi: &[Option<f64>]) -> Result<String, MetaError> {
    let (h, iy, iv) = headers(table);
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| MetaError::Numerical {
        context: format!("writing CSV: {e}"),
    };
    w.write_record(&h).map_err(err)?;
    for (i, row) in table.rows().iter().enumerate() {
        let mut r = row.clone();
        match iy {
            Some(j) => r[j] = cell(yi[i]),
            None => r.push(cell(yi[i])),
        }
        match iv {
            Some(j) => r[j] = cell(vi[i]),
            None => r.push(cell(vi[i])),
        }
        w.write_record(&r).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| MetaError::Numerical {
        context: format!("writing CSV: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| MetaError::Numerical {
        context: format!("writing CSV: {e}"),
    })
}

fn json_output(table: &Table, yi: &[Option<f64>], vi: &[Option<f64>]) -> Result<String, MetaError> {
    use serde_json::{Map, Number, Value};
    let num = |x: Option<f64>| {
        x.and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number)
    };
    let rows: Vec<Value> = table
        .rows()
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut m = Map::new();
            for (name, text) in table.headers().iter().zip(row) {
                let t = text.trim();
                let v = if t.is_empty() || t == "NA" {
                    Value::Null
                } else {
                    match t.parse::<f64>() {
                        Ok(x) if x.is_finite() => num(Some(x)),
                        _ => Value::String(text.clone()),
                    }
                };
                m.insert(name.clone(), v);
            }
            m.insert("yi".into(), num(yi[i]));
            m.insert("vi".into(), num(vi[i]));
            Value::Object(m)
        })
        .collect();
    to_json(&rows)
}
