//! `metan subgroup`.

use clap::Args;
use metan::{MetaAnalysis, MetaError, TestKind, subgroup_analysis};

use crate::common::{Format, Input, load_studies, to_json};
use crate::fit::parse_methods;

/// Arguments of `metan subgroup`.
#[derive(Args, Debug)]
pub struct SubgroupArgs {
    #[command(flatten)]
    pub input: Input,
    /// The grouping column (its values are the subgroups).
    #[arg(long)]
    pub by: String,
    /// tau^2 estimator (or fallback chain, e.g. REML,DL) of every subgroup and of the
    /// common-tau^2 model.
    #[arg(long, default_value = "REML")]
    pub method: String,
    /// Test: z, t, knha or adhoc.
    #[arg(long, default_value = "z")]
    pub test: String,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0, allow_negative_numbers = true)]
    pub level: f64,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `metan subgroup` and returns what to print.
pub fn run(a: &SubgroupArgs) -> Result<String, MetaError> {
    let test: TestKind = a.test.parse()?;
    let studies = load_studies(&a.input, &[], std::slice::from_ref(&a.by))?;
    let ma = MetaAnalysis::new()
        .methods(parse_methods(&a.method)?)
        .test(test)
        .level(a.level)
        .digits(a.digits);
    let fit = subgroup_analysis(&studies, &a.by, &ma)?;
    match a.format {
        Format::Text => Ok(fit.to_string()),
        Format::Json => to_json(&fit),
    }
}
