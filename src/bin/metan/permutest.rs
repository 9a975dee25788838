//! `metan permutest`.

use clap::Args;
use metan::progress::{Completion, Monitor};
use metan::{MetaError, MetaRegression, PermutationTest, TestKind};

use crate::common::{
    Format, Input, ModelArgs, ProgressLine, catch_interrupt, load_studies, mark_partial, parse_btt,
    parse_reference, split_list, to_json,
};

/// Arguments of `metan permutest`.
#[derive(Args, Debug)]
pub struct PermutestArgs {
    #[command(flatten)]
    pub input: Input,
    /// Moderator columns (comma-separated or repeated); none: the intercept-only model,
    /// tested by sign flips.
    #[arg(long, value_name = "COL[,COL...]")]
    pub mods: Vec<String>,
    /// Reference level of a categorical moderator, e.g. design=rct (repeatable).
    #[arg(long, value_name = "COL=LEVEL")]
    pub reference: Vec<String>,
    /// Coefficients of the omnibus test QM (1-based), e.g. 2,3.
    #[arg(long, value_name = "J[,J...]")]
    pub btt: Option<String>,
    /// Fit the model without an intercept.
    #[arg(long)]
    pub no_intercept: bool,
    /// Number of random permutations; the test is exact when the number of distinct
    /// permutations does not exceed it (as in metafor).
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
    pub iter: usize,
    /// Seed of the random permutations (same seed, same result on any machine).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,
    /// Enumerate every permutation even when there are more than --iter.
    #[arg(long)]
    pub exact: bool,
    #[command(flatten)]
    pub model_args: ModelArgs,
    /// Decimals in the text output.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub digits: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `metan permutest` and returns what to print.
pub fn run(a: &PermutestArgs) -> Result<String, MetaError> {
    let test: TestKind = a.model_args.test()?;
    let level = a.model_args.level()?;
    let mods = split_list(&a.mods);
    let studies = load_studies(&a.input, &mods, &[])?;
    let mut mr = MetaRegression::new()
        .methods(a.model_args.methods()?)
        .test(test)
        .level(level)
        .digits(a.digits)
        .moderators(mods)
        .intercept(!a.no_intercept);
    for r in &a.reference {
        let (c, l) = parse_reference(r)?;
        mr = mr.reference(c, l);
    }
    if let Some(b) = &a.btt {
        mr = mr.btt(parse_btt(b)?);
    }
    let mut line = ProgressLine::new("permutest", "permutations");
    let mut show = |p| line.update(p);
    let monitor = Monitor::new()
        .cancel_on(catch_interrupt())
        .on_progress(&mut show);
    let res = PermutationTest::new()
        .iter(a.iter)
        .seed(a.seed)
        .exact(a.exact)
        .run_with(&mr, &studies, monitor);
    line.finish();
    let res = res?;
    if let Completion::Stopped { done, total } = res.completion() {
        mark_partial(format!(
            "stopped after {done} of {total} permutations; the p-values printed are over the {done} done (partial)"
        ));
    }
    match a.format {
        Format::Text => Ok(res.to_string()),
        Format::Json => to_json(&res),
    }
}
