//! `metan`: meta-analysis from the command line. A thin layer over the public API.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bias;
mod common;
mod diagnostics;
mod escalc;
mod fit;
mod gosh;
mod mv;
mod permutest;
mod plot;
mod pool;
mod raw;
mod robu;
mod scenarios;
mod selmodel;
mod subgroup;

/// Meta-analysis with metafor's numbers, from the command line.
#[derive(Parser, Debug)]
#[command(name = "metan", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Fit an equal- or random-effects model, or a meta-regression with --mods (metafor's rma).
    Fit(fit::FitArgs),
    /// Compute effect sizes from raw data (metafor's escalc): CSV or JSON with yi and vi.
    Escalc(escalc::EscalcArgs),
    /// Pool 2x2 tables with the Mantel-Haenszel method (metafor's rma.mh).
    Mh(pool::MhArgs),
    /// Pool 2x2 tables with Peto's one-step odds ratio (metafor's rma.peto).
    Peto(pool::PoolArgs),
    /// Forest plot of a model as SVG (studies, summary diamond, prediction interval).
    Forest(plot::ForestArgs),
    /// Funnel plot as SVG (optionally contour-enhanced).
    Funnel(plot::FunnelArgs),
    /// Baujat plot as SVG (contribution to heterogeneity against influence).
    Baujat(plot::BaujatArgs),
    /// Subgroup analysis: a pooled estimate per level of a column and tests of differences.
    Subgroup(subgroup::SubgroupArgs),
    /// Permutation test of a (meta-regression) model (metafor's permutest).
    Permutest(permutest::PermutestArgs),
    /// Leave-one-out analysis (metafor's leave1out).
    Leave1out(diagnostics::DiagArgs),
    /// Cumulative meta-analysis (metafor's cumul).
    Cumul(diagnostics::CumulArgs),
    /// Outlier and influence diagnostics (metafor's influence).
    Influence(diagnostics::DiagArgs),
    /// Fits to all (or random) subsets of the studies, written as CSV (metafor's gosh).
    Gosh(gosh::GoshArgs),
    /// Named sensitivity scenarios (outcome sources, flawed studies, drop-out) side by side.
    Scenarios(scenarios::ScenarioArgs),
    /// Publication bias and small-study effects: regression test, rank test, trim-and-fill,
    /// fail-safe N and PET-PEESE (metafor's regtest, ranktest, trimfill, fsn).
    Bias(bias::BiasArgs),
    /// Selection models for publication bias: step functions (3PSM), beta, half-normal,
    /// negative-exponential, logistic and power selection (metafor's selmodel).
    Selmodel(selmodel::SelmodelArgs),
    /// Multilevel (three-level) and multivariate models for dependent effects: several
    /// effects per study (metafor's rma.mv, with vcalc's constant sampling correlation).
    Mv(mv::MvArgs),
    /// Robust variance estimation for dependent effects (robumeta's robu): correlated or
    /// hierarchical effects weights, small-sample corrected t tests.
    Robu(robu::RobuArgs),
}

/// A command-line error of clap on one line: its message without the usage block, the
/// tip kept, and where to find help (clap's own layout spans several lines).
pub(crate) fn usage_error(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "metan: error: no command given (see metan --help for the commands)".into();
    }
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            continue;
        }
        if let Some(tip) = line.strip_prefix("tip:") {
            parts.push(format!("; tip:{tip}"));
        } else if !line.is_empty() {
            let sep = if parts.is_empty() { "" } else { " " };
            parts.push(format!("{sep}{}", line.trim_start_matches("error:").trim()));
        }
    }
    format!(
        "metan: error: {} (see metan --help, or metan COMMAND --help)",
        parts.concat()
    )
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap's text on stdout, exit 0
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", usage_error(&e));
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Fit(args) => fit::run(&args),
        Command::Escalc(args) => escalc::run(&args),
        Command::Mh(args) => pool::run_mh(&args),
        Command::Peto(args) => pool::run_peto(&args),
        Command::Forest(args) => plot::run_forest(&args),
        Command::Funnel(args) => plot::run_funnel(&args),
        Command::Baujat(args) => plot::run_baujat(&args),
        Command::Subgroup(args) => subgroup::run(&args),
        Command::Permutest(args) => permutest::run(&args),
        Command::Leave1out(args) => diagnostics::run_leave1out(&args),
        Command::Cumul(args) => diagnostics::run_cumul(&args),
        Command::Influence(args) => diagnostics::run_influence(&args),
        Command::Gosh(args) => gosh::run(&args),
        Command::Scenarios(args) => scenarios::run(&args),
        Command::Bias(args) => bias::run(&args),
        Command::Selmodel(args) => selmodel::run(&args),
        Command::Mv(args) => mv::run(&args),
        Command::Robu(args) => robu::run(&args),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            match common::partial_note() {
                Some(note) => {
                    eprintln!("metan: interrupted: {note}");
                    ExitCode::from(130)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("metan: error: {e}");
            ExitCode::FAILURE
        }
    }
}
