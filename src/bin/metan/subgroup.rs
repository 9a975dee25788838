//! `metan subgroup`.

use clap::Args;
use metan::{MetaAnalysis, MetaError, TestKind, subgroup_analysis};

use crate::common::{Format, Input, ModelArgs, load_studies, to_json};

/// Arguments of `metan subgroup`.
#[derive(Args, Debug)]
pub struct SubgroupArgs {
    #[command(flatten)]
    pub input: Input,
    /// The grouping column (its values are the subgroups).
    #[arg(long)]
    pub by: String,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `metan subgroup` and returns what to print.
pub fn run(a: &SubgroupArgs) -> Result<String, MetaError> {
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let studies = load_studies(&a.input, &[], std::slice::from_ref(&a.by))?;
    let ma = MetaAnalysis::new()
        .methods(a.model_args.methods()?)
        .test(test)
        .level(level)
        .digits(a.digits);
    let fit = subgroup_analysis(&studies, &a.by, &ma)?;
    match a.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}
