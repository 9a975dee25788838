//! Progress reports and cancellation of long computations (permutation tests, GOSH).
//!
//! The library handles no signals. A caller that wants Ctrl-C to stop a run (the `metan`
//! binary does) sets an [`AtomicBool`] from its signal handler and passes it in a
//! [`Monitor`]; the computation checks it between fixed-size chunks of work and returns what
//! it had completed, marked [`Completion::Stopped`], never as complete.
//!
//! Work is done in fixed-size chunks whose results are reduced in chunk order, so the
//! result does not depend on the number of threads, and a stopped run has done exactly the
//! first `done` units (iterations, subsets) of the full run.
//!
//! # Examples
//! ```
//! use std::sync::atomic::AtomicBool;
//! use metan::progress::{Completion, Monitor, Progress};
//! use metan::{MetaRegression, PermutationTest, Studies};
//! let s = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.9, 0.2], vec![0.01, 0.02, 0.015, 0.03, 0.02])?;
//! let stop = AtomicBool::new(false);
//! let mut last = Progress { done: 0, total: 0 };
//! let mut seen = |p: Progress| last = p;
//! let fit = PermutationTest::new()
//!     .iter(10)
//!     .run_with(&MetaRegression::new(), &s, Monitor::new().cancel_on(&stop).on_progress(&mut seen))?;
//! assert_eq!(fit.completion(), Completion::Complete);
//! assert_eq!(last, Progress { done: 10, total: 10 });
//! # Ok::<(), metan::MetaError>(())
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Result;

/// How far a long computation got: `done` of `total` units (permutations, subsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Progress {
    /// Units completed.
    pub done: u64,
    /// Units requested.
    pub total: u64,
}

/// Whether a long computation ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "status", rename_all = "snake_case"))]
pub enum Completion {
    /// Every requested unit was done.
    Complete,
    /// Cancelled: only the first `done` of `total` units were done, and the results are over
    /// those (partial).
    Stopped {
        /// Units completed (the first `done` of the full run).
        done: u64,
        /// Units requested.
        total: u64,
    },
}

impl Completion {
    /// True for [`Completion::Complete`].
    pub fn is_complete(&self) -> bool {
        matches!(self, Completion::Complete)
    }
}

/// A progress callback and a cancellation flag for a long computation (a builder; both
/// optional).
///
/// The callback is called from the calling thread between batches of work (about every
/// 10^5 units), with the units done so far; it should return quickly.
#[derive(Default)]
pub struct Monitor<'a> {
    cancel: Option<&'a AtomicBool>,
    report: Option<&'a mut dyn FnMut(Progress)>,
}

impl fmt::Debug for Monitor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("cancel", &self.cancel)
            .field("report", &self.report.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl<'a> Monitor<'a> {
    /// No progress reports, no cancellation.
    pub fn new() -> Self {
        Monitor::default()
    }

    /// Stop at the next chunk boundary once `flag` is true (e.g. set by a Ctrl-C handler).
    pub fn cancel_on(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Call `report` with the progress between batches of work.
    pub fn on_progress(mut self, report: &'a mut dyn FnMut(Progress)) -> Self {
        self.report = Some(report);
        self
    }

    pub(crate) fn flag(&self) -> Option<&'a AtomicBool> {
        self.cancel
    }

    fn report(&mut self, done: u64, total: u64) {
        if let Some(r) = self.report.as_mut() {
            r(Progress { done, total });
        }
    }
}

fn cancelled(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}

/// Runs `work(c)` for the chunks `c = 0..n_chunks`, `batch` chunks at a time (in parallel
/// within a batch with the `parallel` feature), and hands each chunk's result to `sink` in
/// chunk order. Memory holds one batch of results. Between chunks the cancellation flag is
/// checked; the run stops after the longest completed prefix of chunks. `units(c)` is the
/// number of units in the first `c` chunks (for the progress reports, `total` in all).
///
/// Returns the number of chunks completed (all of them unless cancelled).
pub(crate) fn run_chunks<T: Send>(
    n_chunks: usize,
    batch: usize,
    monitor: &mut Monitor<'_>,
    units: impl Fn(usize) -> u64,
    work: impl Fn(usize) -> T + Sync,
    mut sink: impl FnMut(usize, T) -> Result<()>,
) -> Result<usize> {
    let flag = monitor.flag();
    let total = units(n_chunks);
    let batch = batch.max(1);
    let mut start = 0;
    while start < n_chunks {
        let end = (start + batch).min(n_chunks);
        let one = |c: usize| (!cancelled(flag)).then(|| work(c));
        #[cfg(feature = "parallel")]
        let results: Vec<Option<T>> = {
            use rayon::prelude::*;
            (start..end).into_par_iter().map(one).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let results: Vec<Option<T>> = (start..end).map(one).collect();
        for (c, r) in (start..end).zip(results) {
            match r {
                Some(r) => sink(c, r)?,
                None => {
                    monitor.report(units(c), total);
                    return Ok(c);
                }
            }
        }
        monitor.report(units(end), total);
        start = end;
        if cancelled(flag) && start < n_chunks {
            return Ok(start);
        }
    }
    Ok(n_chunks)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn chunks_arrive_in_order_and_cancel_stops_at_a_prefix() {
        let mut got = Vec::new();
        let mut reports = Vec::new();
        let mut rep = |p: Progress| reports.push(p);
        let mut m = Monitor::new().on_progress(&mut rep);
        let n = run_chunks(
            10,
            3,
            &mut m,
            |c| (c * 5) as u64,
            |c| c * c,
            |c, r| {
                got.push((c, r));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(n, 10);
        assert_eq!(got, (0..10).map(|c| (c, c * c)).collect::<Vec<_>>());
        let done: Vec<u64> = reports.iter().map(|p| p.done).collect();
        assert_eq!(done, vec![15, 30, 45, 50]);
        assert!(reports.iter().all(|p| p.total == 50));

        // a flag set from the start: nothing done
        let stop = AtomicBool::new(true);
        let mut m = Monitor::new().cancel_on(&stop);
        let n = run_chunks(10, 3, &mut m, |c| c as u64, |c| c, |_, _| Ok(())).unwrap();
        assert_eq!(n, 0);

        // the flag set by the sink after chunk 4: the run stops at a chunk boundary, having
        // handed over a prefix of the chunks
        let stop = AtomicBool::new(false);
        let mut m = Monitor::new().cancel_on(&stop);
        let mut seen = Vec::new();
        let n = run_chunks(
            100,
            2,
            &mut m,
            |c| c as u64,
            |c| c,
            |c, _| {
                seen.push(c);
                if c == 4 {
                    stop.store(true, Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        assert!((5..=6).contains(&n), "{n}");
    }
}
