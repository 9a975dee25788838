//! `metan`: meta-analysis from the command line. A thin layer over the public API.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "cli/bias.rs"]
mod bias;
#[path = "cli/common.rs"]
mod common;
#[path = "cli/escalc.rs"]
mod escalc;
#[path = "cli/fit.rs"]
mod fit;
#[path = "cli/plot.rs"]
mod plot;
#[path = "cli/pool.rs"]
mod pool;
#[path = "cli/raw.rs"]
mod raw;

/// Meta-analysis with metafor's numbers, from the command line.
#[derive(Parser, Debug)]
#[command(name = "metan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fit an equal- or random-effects model (metafor's rma).
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
    /// Publication bias and small-study effects: regression test, rank test, trim-and-fill,
    /// fail-safe N and PET-PEESE (metafor's regtest, ranktest, trimfill, fsn).
    Bias(bias::BiasArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit::run(&args),
        Command::Escalc(args) => escalc::run(&args),
        Command::Mh(args) => pool::run_mh(&args),
        Command::Peto(args) => pool::run_peto(&args),
        Command::Forest(args) => plot::run_forest(&args),
        Command::Funnel(args) => plot::run_funnel(&args),
        Command::Baujat(args) => plot::run_baujat(&args),
        Command::Bias(args) => bias::run(&args),
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
