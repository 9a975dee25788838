//! `metan gosh`: the model fitted to all subsets of the studies (k <= 20), or to a seeded
//! random sample of subsets, written as CSV (metafor's `gosh`).
//!
//! The output file has the columns `k, estimate, tau2, i2, h2, q` and one 0/1 membership
//! column per study (named by its label), one row per subset. A summary is printed.

use std::path::PathBuf;

use clap::Args;
use metan::MetaError;
use metan::sensitivity::Gosh;

use crate::diagnostics::ModelArgs;

/// Arguments of `metan gosh`.
#[derive(Args, Debug)]
pub struct GoshArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// At most this many subsets: all when 2^k - 1 <= N, otherwise N random subsets
    /// (default: all up to k = 20, 10^6 random beyond).
    #[arg(long)]
    pub max_subsets: Option<usize>,
    /// Seed of the random subsets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CSV file to write.
    #[arg(long)]
    pub output: PathBuf,
}

/// Runs `metan gosh`.
pub fn run(a: &GoshArgs) -> Result<String, MetaError> {
    let (s, spec) = a.model.load()?;
    let mut g = Gosh::new().seed(a.seed);
    if let Some(n) = a.max_subsets {
        g = g.max_subsets(n);
    }
    let r = g.run(&spec, &s)?;
    std::fs::write(&a.output, r.to_csv()).map_err(|e| MetaError::Csv {
        path: a.output.display().to_string(),
        row: None,
        column: None,
        message: format!("cannot write: {e}"),
    })?;
    let est = r.estimates();
    let (lo, hi) = est
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        });
    Ok(format!(
        "GOSH ({} model): {} subsets of k = {} studies ({}), estimates from {lo:.4} to {hi:.4}; written to {}\n",
        r.method(),
        r.len(),
        s.k(),
        if r.is_exhaustive() {
            "all subsets".to_string()
        } else {
            format!("random, seed {}", r.seed())
        },
        a.output.display()
    ))
}
