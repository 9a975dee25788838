//! Permutation tests of the coefficients and of the omnibus test (metafor's
//! `permutest.rma.uni`).
//!
//! With moderators, the rows of the model matrix are permuted against the (estimate,
//! variance) pairs and the model is refitted; without moderators, the signs of the estimates
//! are flipped. The test is exact (every distinct permutation once) when their number does
//! not exceed the requested iterations, as in metafor; otherwise random permutations are
//! drawn, the first one being the observed data (metafor's convention).
//!
//! Randomness is portable and independent of the thread count: permutation `i` is drawn
//! from `ChaCha8Rng::seed_from_u64(seed)` on stream `i`, so the same seed gives the same
//! p-values on any machine, sequentially or in parallel (rayon, the default `parallel`
//! feature).
//!
//! Memory does not grow with the number of permutations: they are run in chunks of 1024
//! whose counts of permuted statistics at least as extreme as the observed ones are summed
//! in order, so 10^9 permutations need as little memory as 10^3. A long run reports
//! progress and can be cancelled ([`PermutationTest::run_with`]); a cancelled run returns
//! the p-values over the permutations done, marked partial ([`PermutationFit::completion`]).
//!
//! # References
//! * Higgins, J. P. T., & Thompson, S. G. (2004). Controlling the risk of spurious findings
//!   from meta-regression. *Statistics in Medicine*, 23, 1663-1682.
//! * Viechtbauer, W., López-López, J. A., Sánchez-Meca, J., & Marín-Martínez, F. (2015). A
//!   comparison of procedures to test for moderators in mixed-effects meta-regression
//!   models. *Psychological Methods*, 20, 360-374.

use std::fmt;

use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::analysis::MetaAnalysis;
use super::regression::print::{write_coef_table, write_qm};
use super::regression::{MetaRegression, MetaRegressionFit, core_fit};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::format::SIGNIF_LEGEND;
use crate::progress::{Completion, Monitor, run_chunks};

/// Largest number of permutations an exact test may enumerate.
const MAX_EXACT: u128 = 100_000_000;
/// Redraws of a random permutation whose fit fails, before it counts as failed.
const MAX_REDRAWS: usize = 100;
/// Permutations per chunk of work (the unit of parallelism and of cancellation).
const CHUNK: usize = 1024;
/// Chunks per batch between progress reports (about 6.5 * 10^4 permutations).
const BATCH: usize = 64;

/// Counts of one chunk of permutations.
struct Counts {
    /// Permuted |z_j| >= |z_j observed| - tol, per coefficient.
    hits: Vec<u64>,
    /// Permuted QM >= QM observed - tol.
    qm_hits: u64,
    /// Permutations whose fit succeeded.
    ok: u64,
    /// Permutations whose fit failed.
    failed: u64,
}

/// Specification of a permutation test (a builder).
///
/// # Examples
/// ```
/// use metan::{MetaRegression, PermutationTest, Studies};
/// let s = Studies::from_variances(
///     vec![-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62],
///     vec![0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22],
/// )?
/// .with_moderator("ablat", vec![44., 55., 42., 52., 13., 44., 19.])?;
/// let model = MetaRegression::new().moderator("ablat");
/// // 7!/2! = 2520 distinct arrangements <= 5000 iterations: exact
/// let p = PermutationTest::new().iter(5000).run(&model, &s)?;
/// assert!(p.exact());
/// assert_eq!(p.permutations(), 2520);
/// assert!(p.p_values()[1] > 0.0 && p.p_values()[1] <= 1.0);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermutationTest {
    iter: usize,
    seed: u64,
    exact: bool,
}

impl Default for PermutationTest {
    fn default() -> Self {
        Self::new()
    }
}

/// A uniform integer in `0..n` (rejection sampling: portable and unbiased).
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n + 1) % n;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return (x % n) as usize;
        }
    }
}

/// The statistics of one permuted fit: the z/t values and QM.
type Stat = Option<(Vec<f64>, f64)>;

impl PermutationTest {
    /// 1000 iterations (metafor's default), seed 0.
    pub fn new() -> Self {
        PermutationTest {
            iter: 1000,
            seed: 0,
            exact: false,
        }
    }

    /// Number of random permutations, and the threshold below which the test is exact.
    pub fn iter(mut self, n: usize) -> Self {
        self.iter = n;
        self
    }

    /// Seed of the random permutations.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Force the exact test even when it needs more than `iter` permutations (metafor's
    /// `exact = TRUE`; at most 10^8).
    pub fn exact(mut self, yes: bool) -> Self {
        self.exact = yes;
        self
    }

    /// The permutation test of an intercept-only model (sign flips).
    ///
    /// # Errors
    /// As [`PermutationTest::run`].
    pub fn run_analysis(&self, spec: &MetaAnalysis, studies: &Studies) -> Result<PermutationFit> {
        self.run(&MetaRegression::from_analysis(spec.clone()), studies)
    }

    /// Fits `model` and tests its coefficients and QM by permutation.
    ///
    /// # Formula
    /// `p_j = #{|z_j*| >= |z_j| - tol} / N` over the N permutations (the observed data among
    /// them), `p_QM = #{QM* >= QM - tol} / N`, `tol = sqrt(machine epsilon)`; permutations
    /// whose fit fails are left out (exact test) or redrawn (random test).
    ///
    /// # Errors
    /// The errors of [`MetaRegression::fit`]; [`MetaError::InvalidOption`] for `iter < 2` or
    /// an exact test needing more than 10^8 permutations.
    pub fn run(&self, model: &MetaRegression, studies: &Studies) -> Result<PermutationFit> {
        self.run_with(model, studies, Monitor::new())
    }

    /// [`PermutationTest::run`] with progress reports and cancellation: `monitor`'s
    /// callback gets the permutations done about every 6.5 * 10^4, and once its flag is set
    /// the run stops at the next chunk of 1024 permutations. The result then holds the
    /// p-values over the first N permutations done (the same N permutations a complete run
    /// starts with), marked [`Completion::Stopped`].
    ///
    /// # Errors
    /// Those of [`PermutationTest::run`], and [`MetaError::Cancelled`] when the flag is set
    /// before the first chunk is complete.
    pub fn run_with(
        &self,
        model: &MetaRegression,
        studies: &Studies,
        mut monitor: Monitor<'_>,
    ) -> Result<PermutationFit> {
        if self.iter < 2 {
            return Err(MetaError::invalid_option(
                "iter",
                self.iter,
                "a permutation test needs at least 2 iterations",
            ));
        }
        let fit = model.fit(studies)?;
        let spec = &model.check()?;
        let design = model.design(studies)?;
        let x = &design.x;
        let (k, p) = x.shape();
        let y = studies.yi();
        let v = studies.vi();
        let btt = fit.btt().to_vec();
        let int_only = design.int_only;

        // distinct rows of X (group ids), for the exact count and the enumeration
        let mut order: Vec<usize> = (0..k).collect();
        let row_cmp = |a: &usize, b: &usize| {
            (0..p)
                .map(|j| x[(*a, j)].total_cmp(&x[(*b, j)]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        order.sort_by(row_cmp);
        let mut unique_rows: Vec<usize> = Vec::new(); // a representative row per group
        let mut counts: Vec<usize> = Vec::new();
        for &i in &order {
            match unique_rows.last() {
                Some(last) if row_cmp(last, &i).is_eq() => {
                    if let Some(c) = counts.last_mut() {
                        *c += 1;
                    }
                }
                _ => {
                    unique_rows.push(i);
                    counts.push(1);
                }
            }
        }
        let exact_count: Option<u128> = if int_only {
            (k < 100).then(|| 1u128 << k.min(99))
        } else {
            multinomial(&counts)
        };
        let exact = self.exact || exact_count.is_some_and(|c| c <= self.iter as u128);
        let n_perm = if exact {
            match exact_count {
                Some(c) if c <= MAX_EXACT => c as usize,
                _ => {
                    let needed = exact_count.map_or("more than 2^127".into(), |c| c.to_string());
                    return Err(if self.exact {
                        MetaError::invalid_option(
                            "exact",
                            true,
                            format!(
                                "an exact test needs {needed} permutations (at most {MAX_EXACT} are enumerated)"
                            ),
                        )
                    } else {
                        // not asked for: iter >= the number of distinct permutations
                        MetaError::invalid_option(
                            "iter",
                            self.iter,
                            format!(
                                "the data have {needed} distinct permutations, not more than iter, \
                                 so the test would be exact, but at most {MAX_EXACT} are \
                                 enumerated: ask for fewer iterations (a random test)"
                            ),
                        )
                    });
                }
            }
        } else {
            self.iter
        };

        let refit = |perm: Perm<'_>| -> Stat {
            let res = match perm {
                Perm::Signs(s) => {
                    let yp: Vec<f64> = y.iter().zip(s).map(|(a, b)| a * b).collect();
                    core_fit(spec, x, true, &yp, v, &btt)
                }
                Perm::Rows(rows) => {
                    let xp = DMatrix::from_fn(k, p, |r, c| x[(rows[r], c)]);
                    core_fit(spec, &xp, false, y, v, &btt)
                }
            };
            res.ok().map(|c| (c.zval, c.qm))
        };
        let observed: (Vec<f64>, f64) = (
            fit.coefficients().iter().map(|c| c.statistic).collect(),
            fit.qm(),
        );
        let one = |i: usize| -> Stat {
            if exact {
                if int_only {
                    let s: Vec<f64> = (0..k)
                        .map(|j| if (i >> j) & 1 == 1 { -1.0 } else { 1.0 })
                        .collect();
                    refit(Perm::Signs(&s))
                } else {
                    let gids = unrank(&counts, i as u128);
                    let rows: Vec<usize> = gids.iter().map(|&g| unique_rows[g]).collect();
                    refit(Perm::Rows(&rows))
                }
            } else if i == 0 {
                Some(observed.clone())
            } else {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(i as u64);
                for _ in 0..MAX_REDRAWS {
                    let stat = if int_only {
                        let s: Vec<f64> = (0..k)
                            .map(|_| if rng.next_u64() >> 63 == 1 { -1.0 } else { 1.0 })
                            .collect();
                        refit(Perm::Signs(&s))
                    } else {
                        let mut rows: Vec<usize> = (0..k).collect();
                        for j in (1..k).rev() {
                            let r = below(&mut rng, j + 1);
                            rows.swap(j, r);
                        }
                        refit(Perm::Rows(&rows))
                    };
                    if stat.is_some() {
                        return stat;
                    }
                }
                None
            }
        };
        let tol = f64::EPSILON.sqrt();
        let count = |c: usize| -> Counts {
            let mut n = Counts {
                hits: vec![0; p],
                qm_hits: 0,
                ok: 0,
                failed: 0,
            };
            for i in c * CHUNK..((c + 1) * CHUNK).min(n_perm) {
                match one(i) {
                    Some((z, qm)) => {
                        n.ok += 1;
                        for ((h, zp), zo) in n.hits.iter_mut().zip(&z).zip(&observed.0) {
                            if zp.abs() >= zo.abs() - tol {
                                *h += 1;
                            }
                        }
                        if qm >= observed.1 - tol {
                            n.qm_hits += 1;
                        }
                    }
                    None => n.failed += 1,
                }
            }
            n
        };
        let mut sum = Counts {
            hits: vec![0; p],
            qm_hits: 0,
            ok: 0,
            failed: 0,
        };
        let chunks = run_chunks(
            n_perm.div_ceil(CHUNK),
            BATCH,
            &mut monitor,
            |c| (c * CHUNK).min(n_perm) as u64,
            count,
            |_, n| {
                for (a, b) in sum.hits.iter_mut().zip(&n.hits) {
                    *a += b;
                }
                sum.qm_hits += n.qm_hits;
                sum.ok += n.ok;
                sum.failed += n.failed;
                Ok(())
            },
        )?;
        let done = (chunks * CHUNK).min(n_perm);
        if done == 0 {
            return Err(MetaError::Cancelled {
                analysis: "the permutation test".into(),
                unit: "permutation".into(),
            });
        }
        let n_ok = sum.ok as f64;
        let p_values: Vec<f64> = sum
            .hits
            .iter()
            .map(|&h| (h as f64 / n_ok).min(1.0))
            .collect();
        let qm_p_value = (sum.qm_hits as f64 / n_ok).min(1.0);
        Ok(PermutationFit {
            p_values,
            qm_p_value,
            exact,
            exact_count: exact_count.map(|c| c as f64),
            permutations: done,
            failed: sum.failed as usize,
            seed: self.seed,
            completion: if done == n_perm {
                Completion::Complete
            } else {
                Completion::Stopped {
                    done: done as u64,
                    total: n_perm as u64,
                }
            },
            fit,
        })
    }
}

enum Perm<'a> {
    Signs(&'a [f64]),
    Rows(&'a [usize]),
}

/// The multinomial coefficient `(sum n)! / prod(n_g!)`, `None` on overflow.
fn multinomial(counts: &[usize]) -> Option<u128> {
    let mut result: u128 = 1;
    let mut n: u128 = 0;
    for &c in counts {
        for i in 1..=c as u128 {
            n += 1;
            result = result.checked_mul(n)? / i;
        }
    }
    Some(result)
}

/// The `rank`-th (0-based, lexicographic) distinct permutation of the multiset with
/// `counts[g]` copies of `g`.
fn unrank(counts: &[usize], mut rank: u128) -> Vec<usize> {
    let mut c = counts.to_vec();
    let n: usize = c.iter().sum();
    let mut total = multinomial(&c).unwrap_or(0);
    let mut out = Vec::with_capacity(n);
    for remaining in (1..=n).rev() {
        for (g, cg) in c.iter_mut().enumerate() {
            if *cg == 0 {
                continue;
            }
            // permutations of the rest when this position gets g
            let sub = total * *cg as u128 / remaining as u128;
            if rank < sub {
                out.push(g);
                *cg -= 1;
                total = sub;
                break;
            }
            rank -= sub;
        }
    }
    out
}

/// The result of a [`PermutationTest`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PermutationFit {
    fit: MetaRegressionFit,
    p_values: Vec<f64>,
    qm_p_value: f64,
    exact: bool,
    exact_count: Option<f64>,
    permutations: usize,
    failed: usize,
    seed: u64,
    completion: Completion,
}

impl PermutationFit {
    /// The fitted model (with its parametric tests).
    pub fn fit(&self) -> &MetaRegressionFit {
        &self.fit
    }
    /// Permutation p-values of the coefficients.
    pub fn p_values(&self) -> &[f64] {
        &self.p_values
    }
    /// Permutation p-value of the omnibus test QM.
    pub fn qm_p_value(&self) -> f64 {
        self.qm_p_value
    }
    /// True when every distinct permutation was used once.
    pub fn exact(&self) -> bool {
        self.exact
    }
    /// The number of distinct permutations (metafor's `exact.iter`; `None` beyond 2^127).
    pub fn exact_count(&self) -> Option<f64> {
        self.exact_count
    }
    /// The number of permutations used (including the observed data); fewer than asked
    /// for when the run was stopped ([`PermutationFit::completion`]).
    pub fn permutations(&self) -> usize {
        self.permutations
    }
    /// Whether every permutation was run, or the run was stopped after the first `done`
    /// (the p-values are then over those: partial).
    pub fn completion(&self) -> Completion {
        self.completion
    }
    /// Permutations whose fit failed and were left out.
    pub fn failed(&self) -> usize {
        self.failed
    }
    /// The seed of the random permutations.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl fmt::Display for PermutationFit {
    /// metafor's progress line ("Running N iterations for an exact permutation test."),
    /// then the layout of `print.permutest.rma.uni`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.fit.digits();
        let fit = &self.fit;
        let kind = if self.exact { "exact" } else { "approximate" };
        match self.completion {
            Completion::Complete => writeln!(
                f,
                "Running {} iterations for an {kind} permutation test.",
                self.permutations
            )?,
            Completion::Stopped { done, total } => {
                writeln!(
                    f,
                    "Running {total} iterations for an {kind} permutation test."
                )?;
                writeln!(
                    f,
                    "STOPPED after {done} of {total} permutations (interrupted): the permutation \
                     p-values below are over the {done} done and are PARTIAL."
                )?;
            }
        }
        writeln!(f)?;
        if !fit.intercept_only() {
            write_qm(
                f,
                fit.btt(),
                fit.qm(),
                fit.qm_df(),
                self.qm_p_value,
                d,
                true,
            )?;
            writeln!(f)?;
        }
        writeln!(f, "Model Results:")?;
        writeln!(f)?;
        write_coef_table(f, fit, Some(&self.p_values), d)?;
        writeln!(f)?;
        writeln!(f, "---")?;
        writeln!(f, "{SIGNIF_LEGEND}")?;
        writeln!(f)?;
        writeln!(
            f,
            "1) p-value{} based on permutation testing",
            if fit.intercept_only() { "" } else { "s" }
        )?;
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrank_enumerates_every_distinct_permutation_once() {
        let counts = [2, 1, 3];
        let n = multinomial(&counts).unwrap();
        assert_eq!(n, 60); // 6!/(2! 1! 3!)
        let mut all: Vec<Vec<usize>> = (0..n).map(|r| unrank(&counts, r)).collect();
        for p in &all {
            for (g, &n) in counts.iter().enumerate() {
                assert_eq!(p.iter().filter(|&&x| x == g).count(), n);
            }
        }
        let sorted = {
            let mut s = all.clone();
            s.sort();
            s
        };
        assert_eq!(all, sorted, "lexicographic order");
        all.dedup();
        assert_eq!(all.len() as u128, n);
        assert_eq!(multinomial(&[1; 13]), Some(6_227_020_800));
        assert_eq!(multinomial(&[2, 7, 4]), Some(25_740));
    }

    #[test]
    fn below_is_in_range_and_portable() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        rng.set_stream(5);
        let draws: Vec<usize> = (0..20).map(|_| below(&mut rng, 7)).collect();
        assert!(draws.iter().all(|&d| d < 7));
        let mut rng2 = ChaCha8Rng::seed_from_u64(1);
        rng2.set_stream(5);
        let again: Vec<usize> = (0..20).map(|_| below(&mut rng2, 7)).collect();
        assert_eq!(draws, again);
    }
}
