//! `metan leave1out`, `metan cumul` and `metan influence`: the standard sensitivity
//! diagnostics of an equal- or random-effects model (metafor's `leave1out`, `cumul` and
//! `influence`).
//!
//! Text output prints metafor-like tables; `--format json` prints a JSON array with one
//! object per study (leave1out, influence: input order; cumul: the order in which studies
//! enter) with the fields
//! `study, k, estimate, se, statistic, p_value, ci_lower, ci_upper, q, q_p_value, tau2, i2,
//! h2, converged` (leave1out, cumul) or
//! `study, rstudent, dffits, cook_d, cov_r, tau2_del, q_del, hat, weight, dfbetas,
//! influential` (influence).

use clap::Args;
use metan::data::csv::Table;
use metan::sensitivity::{CumulativeOrder, cumulative, influence, leave_one_out};
use metan::{CheckedMetaAnalysis, MetaError, Studies};

use crate::common::{Format, Input, ModelArgs, to_json};

/// The data and model options shared by the sensitivity subcommands.
#[derive(Args, Debug)]
pub struct DiagModel {
    #[command(flatten)]
    pub input: Input,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Fix tau^2 at this value instead of estimating it.
    #[arg(long, allow_negative_numbers = true)]
    pub tau2: Option<f64>,
    /// Column of weights (required by GENQ).
    #[arg(long)]
    pub weights: Option<String>,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
}

impl DiagModel {
    /// The studies and the checked model settings.
    pub fn load(&self) -> Result<(Studies, CheckedMetaAnalysis), MetaError> {
        let mut ma = self.model_args.analysis()?.digits(self.digits);
        let studies = self.input.read()?;
        if let Some(t) = self.tau2 {
            ma = ma.tau2(t);
        }
        if let Some(w) = &self.weights {
            ma = ma.weights(Table::from_path(&self.input.csv)?.numeric_column(w)?);
        }
        Ok((studies, ma.check()?))
    }
}

/// Arguments of `metan leave1out` and `metan influence`.
#[derive(Args, Debug)]
pub struct DiagArgs {
    #[command(flatten)]
    pub model: DiagModel,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `metan cumul`.
#[derive(Args, Debug)]
pub struct CumulArgs {
    #[command(flatten)]
    pub model: DiagModel,
    /// Numeric column giving the order in which studies enter (ties keep the input order);
    /// default: input order.
    #[arg(long)]
    pub order: Option<String>,
    /// Enter the studies with the largest `--order` values first.
    #[arg(long, requires = "order")]
    pub decreasing: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `metan leave1out`.
pub fn run_leave1out(a: &DiagArgs) -> Result<String, MetaError> {
    let (s, spec) = a.model.load()?;
    let r = leave_one_out(&spec, &s)?;
    match a.format {
        Format::Text => Ok(r.to_string()),
        Format::Json => to_json(&r.rows()),
    }
}

/// Runs `metan cumul`.
pub fn run_cumul(a: &CumulArgs) -> Result<String, MetaError> {
    let (s, spec) = a.model.load()?;
    let order = match &a.order {
        None => CumulativeOrder::Input,
        Some(col) => CumulativeOrder::Values {
            values: Table::from_path(&a.model.input.csv)?.numeric_column(col)?,
            decreasing: a.decreasing,
        },
    };
    let r = cumulative(&spec, &s, &order)?;
    match a.format {
        Format::Text => Ok(r.to_string()),
        Format::Json => to_json(&r.rows()),
    }
}

/// Runs `metan influence`.
pub fn run_influence(a: &DiagArgs) -> Result<String, MetaError> {
    let (s, spec) = a.model.load()?;
    let r = influence(&spec, &s)?;
    match a.format {
        Format::Text => Ok(r.to_string()),
        Format::Json => to_json(&r.rows()),
    }
}
