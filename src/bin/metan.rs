//! `metan`: meta-analysis from the command line. A thin layer over the public API.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "cli/common.rs"]
mod common;
#[path = "cli/fit.rs"]
mod fit;
#[path = "cli/permutest.rs"]
mod permutest;
#[path = "cli/subgroup.rs"]
mod subgroup;

/// Meta-analysis with metafor's numbers, from the command line.
#[derive(Parser, Debug)]
#[command(name = "metan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fit an equal- or random-effects model, or a meta-regression with --mods (metafor's rma).
    Fit(fit::FitArgs),
    /// Subgroup analysis: a pooled estimate per level of a column and tests of differences.
    Subgroup(subgroup::SubgroupArgs),
    /// Permutation test of a (meta-regression) model (metafor's permutest).
    Permutest(permutest::PermutestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit::run(&args),
        Command::Subgroup(args) => subgroup::run(&args),
        Command::Permutest(args) => permutest::run(&args),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("metan: error: {e}");
            ExitCode::FAILURE
        }
    }
}
