//! `metan`: meta-analysis from the command line. A thin layer over the public API.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "cli/common.rs"]
mod common;
#[path = "cli/fit.rs"]
mod fit;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit::run(&args),
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
