//! `metan escalc`: effect sizes from raw data (metafor's `escalc`), one measure for all
//! rows or one per row (mixed outcome types), optionally converted to one scale.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use metan::MetaError;
use metan::data::csv::Table;
use metan::data::effect_size::{EffectScale, Measure, MixedTable, OddsRatioMethod};
use metan::error::StudyRef;

use crate::common::to_json;
use crate::raw::{Corrections, RawColumns, ReportedColumns, effect_sizes, g17, mixed_table};

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
    /// Measure of every row: OR, RR, RD, AS, PETO, PBIT, OR2DN, OR2DL (2x2 tables); MD,
    /// SMD, SMDH, ROM, D2ORN, D2ORL (means; SMD, D2ORN, D2ORL also from dval, tval or pval
    /// with n1i, n2i); MC, SMCC, SMCR, SMCRH, ROMC (one group measured twice: m1i, sd1i,
    /// m2i, sd2i, ni, ri); COR, ZCOR (correlations); PCOR, ZPCOR, SPCOR (tval, ni, mi, r2i);
    /// PR, PLO, PLN, PAS, PFT (proportions); IRR, IR (incidence). Without it, each row's
    /// measure comes from the column `measure` (or --measure-column)
    #[arg(long)]
    pub measure: Option<String>,
    /// Column with each row's measure, for studies of different outcome types (one row a
    /// 2x2 table, the next means and SDs, ...) [default: measure, when --measure is not
    /// given]
    #[arg(long, conflicts_with = "measure")]
    pub measure_column: Option<String>,
    /// Convert every row to one scale: d (standardized mean difference) or logor (log odds
    /// ratio). The output marks the converted rows (columns converted_from and conversion)
    #[arg(long, value_name = "SCALE")]
    pub convert_to: Option<String>,
    /// How d and log odds ratios are related: logistic (logOR = d pi/sqrt(3); Hasselblad &
    /// Hedges 1995) or normal (logOR = 1.65 d; Cox 1970)
    #[arg(long, default_value = "logistic")]
    pub conversion_method: String,
    #[command(flatten)]
    pub columns: RawColumns,
    #[command(flatten)]
    pub reported: ReportedColumns,
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
    let table = Table::from_path(&a.csv)?;
    let labels = a
        .slab
        .as_deref()
        .map(|s| table.text_column(s))
        .transpose()?;
    let target: Option<EffectScale> = a
        .convert_to
        .as_deref()
        .map(|s| match s.parse::<EffectScale>()? {
            t @ (EffectScale::D | EffectScale::LogOddsRatio) => Ok(t),
            other => Err(MetaError::InvalidOption {
                option: "convert-to".into(),
                value: other.to_string(),
                reason: "must be d or logor".into(),
            }),
        })
        .transpose()?;
    let method: OddsRatioMethod = a.conversion_method.parse()?;
    let measure_col = match (&a.measure, &a.measure_column) {
        (None, Some(c)) => Some(c.clone()),
        (None, None) => Some("measure".to_string()),
        (Some(_), _) => None,
    };
    let estimate_col = a.reported.estimate.as_deref().unwrap_or("estimate");
    let per_row = measure_col.is_some() || target.is_some() || table.has_column(estimate_col);
    if !per_row {
        // one measure for every row, metafor's escalc
        let measure: Measure = a.measure.as_deref().unwrap_or_default().parse()?;
        let es = effect_sizes(&table, measure, &a.columns, &a.corrections, labels)?;
        return match a.format {
            EscalcFormat::Csv => csv_output(&table, es.yi(), es.vi(), None),
            EscalcFormat::Json => json_output(&table, es.yi(), es.vi(), None),
        };
    }
    let labels =
        labels.unwrap_or_else(|| (1..=table.len()).map(|i| format!("Study {i}")).collect());
    let measures: Vec<Measure> = match (&a.measure, &measure_col) {
        (Some(m), _) => vec![m.parse()?; table.len()],
        (None, Some(col)) => {
            if !table.has_column(col) {
                return Err(MetaError::Csv {
                    path: table.name().to_string(),
                    row: Some(1),
                    column: Some(col.clone()),
                    message: "no --measure given and no column of measures".into(),
                });
            }
            table
                .text_column(col)?
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    s.parse::<Measure>().map_err(|e| {
                        let expected = match e {
                            MetaError::UnknownName { expected, .. } => expected,
                            other => other.to_string(),
                        };
                        MetaError::InvalidValue {
                            study: StudyRef {
                                index: i,
                                label: labels[i].clone(),
                            },
                            field: col.clone(),
                            value: format!("`{}`", s.trim()),
                            reason: format!("unknown measure; expected one of: {expected}"),
                        }
                    })
                })
                .collect::<Result<_, _>>()?
        }
        (None, None) => Vec::new(),
    };
    let mixed = mixed_table(
        &table,
        &measures,
        &a.columns,
        Some(&a.reported),
        &a.corrections,
        labels,
        target,
        method,
    )?;
    let (yi, vi) = (mixed.yi(), mixed.vi());
    let extra = Some(Extra {
        measure_col: measure_col.unwrap_or_else(|| "measure".into()),
        table: &mixed,
    });
    match a.format {
        EscalcFormat::Csv => csv_output(&table, &yi, &vi, extra),
        EscalcFormat::Json => json_output(&table, &yi, &vi, extra),
    }
}

/// The columns added in per-row mode: each row's measure (kept if the input has the
/// column), the scale it was converted from and the conversion's formula.
struct Extra<'a> {
    measure_col: String,
    table: &'a MixedTable,
}

impl Extra<'_> {
    fn cells(&self, i: usize) -> [(String, Option<String>); 3] {
        let r = &self.table.rows()[i];
        let conv = self.table.conversion_text(i);
        [
            (self.measure_col.clone(), Some(r.measure.name().to_string())),
            (
                "converted_from".into(),
                r.converted_from.map(|s| s.name().to_string()),
            ),
            ("conversion".into(), (!conv.is_empty()).then_some(conv)),
        ]
    }
}

/// The output header: the input columns, with `yi`, `vi` (and the extra columns) replaced
/// where present and appended otherwise; the position of each written column.
fn headers(table: &Table, extra: &[&str]) -> (Vec<String>, Vec<usize>) {
    let mut h = table.headers().to_vec();
    let mut pos = Vec::new();
    for name in ["yi", "vi"].iter().chain(extra) {
        match h.iter().position(|c| c == name) {
            Some(j) => pos.push(j),
            None => {
                h.push((*name).to_string());
                pos.push(h.len() - 1);
            }
        }
    }
    (h, pos)
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "NA".to_string(), g17)
}

fn csv_output(
    table: &Table,
    yi: &[Option<f64>],
    vi: &[Option<f64>],
    extra: Option<Extra<'_>>,
) -> Result<String, MetaError> {
    let names: Vec<String> = extra
        .as_ref()
        .map(|e| e.cells(0).into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (h, pos) = headers(table, &name_refs);
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| MetaError::Numerical {
        context: format!("writing CSV: {e}"),
    };
    w.write_record(&h).map_err(err)?;
    for (i, row) in table.rows().iter().enumerate() {
        let mut r = row.clone();
        r.resize(h.len(), String::new());
        r[pos[0]] = cell(yi[i]);
        r[pos[1]] = cell(vi[i]);
        if let Some(e) = &extra {
            for (j, (_, v)) in e.cells(i).into_iter().enumerate() {
                r[pos[2 + j]] = v.unwrap_or_default();
            }
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

fn json_output(
    table: &Table,
    yi: &[Option<f64>],
    vi: &[Option<f64>],
    extra: Option<Extra<'_>>,
) -> Result<String, MetaError> {
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
            if let Some(e) = &extra {
                for (n, v) in e.cells(i) {
                    m.insert(n, v.map_or(Value::Null, Value::String));
                }
            }
            Value::Object(m)
        })
        .collect();
    to_json(&rows)
}
