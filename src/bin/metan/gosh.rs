//! `metan gosh`: the model fitted to all subsets of the studies (k <= 20), or to a seeded
//! random sample of subsets, written as CSV (metafor's `gosh`).
//!
//! The output file has the columns `k, estimate, tau2, i2, h2, q` and one 0/1 membership
//! column per study (named by its label), one row per subset. The rows are streamed to
//! `OUTPUT.part` as they are computed (memory does not grow with the number of subsets),
//! which is renamed to `OUTPUT` when every subset is written. Stopped by Ctrl-C, the rows
//! done stay in `OUTPUT.part` and `OUTPUT` is not written. A summary is printed.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use metan::MetaError;
use metan::progress::{Completion, Monitor};
use metan::sensitivity::Gosh;

use crate::common::{ProgressLine, catch_interrupt, mark_partial};
use crate::diagnostics::DiagModel;

/// Arguments of `metan gosh`.
#[derive(Args, Debug)]
pub struct GoshArgs {
    #[command(flatten)]
    pub model: DiagModel,
    /// At most this many subsets: all when 2^k - 1 <= N, otherwise N random subsets
    /// (default: all up to k = 20, 10^6 random beyond).
    #[arg(long, allow_negative_numbers = true)]
    pub max_subsets: Option<usize>,
    /// Seed of the random subsets.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
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
    let mut part = a.output.clone().into_os_string();
    part.push(".part");
    let part = PathBuf::from(part);
    let io_err = |p: &PathBuf, e: std::io::Error| MetaError::Csv {
        path: p.display().to_string(),
        row: None,
        column: None,
        message: format!("cannot write: {e}"),
    };
    // a directory cannot take the output: said before the work, not after it
    if a.output.is_dir() {
        return Err(MetaError::Csv {
            path: a.output.display().to_string(),
            row: None,
            column: None,
            message: "cannot write: it is a directory (--output names the CSV file to write)"
                .into(),
        });
    }
    let file = std::fs::File::create(&part).map_err(|e| io_err(&part, e))?;
    let mut w = std::io::BufWriter::new(file);
    let mut line = ProgressLine::new("gosh", "subsets");
    let mut show = |p| line.update(p);
    let monitor = Monitor::new()
        .cancel_on(catch_interrupt())
        .on_progress(&mut show);
    let res = g.write_csv(&spec, &s, monitor, |text: &str| {
        w.write_all(text.as_bytes()).map_err(|e| io_err(&part, e))
    });
    line.finish();
    let r = match res.and_then(|r| w.flush().map(|_| r).map_err(|e| io_err(&part, e))) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    let (lo, hi) = r.estimate_range().unwrap_or((f64::NAN, f64::NAN));
    let what = if r.is_exhaustive() {
        "all subsets".to_string()
    } else {
        format!("random, seed {}", r.seed())
    };
    match r.completion() {
        Completion::Complete => {
            if let Err(e) = std::fs::rename(&part, &a.output) {
                let _ = std::fs::remove_file(&part);
                return Err(io_err(&a.output, e));
            }
            Ok(format!(
                "GOSH ({} model): {} subsets of k = {} studies ({what}), estimates from {lo:.4} to {hi:.4}; written to {}\n",
                r.method(),
                r.len(),
                s.k(),
                a.output.display()
            ))
        }
        Completion::Stopped { done, total } => {
            mark_partial(format!(
                "stopped after {done} of {total} subsets; the rows done are in {} (partial), {} was not written",
                part.display(),
                a.output.display()
            ));
            Ok(format!(
                "GOSH ({} model): STOPPED after {done} of {total} subsets of k = {} studies ({what}), PARTIAL: estimates from {lo:.4} to {hi:.4} over the subsets done; the {done} rows are in {} ({} was not written)\n",
                r.method(),
                s.k(),
                part.display(),
                a.output.display()
            ))
        }
    }
}
