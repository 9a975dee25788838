//! GOSH: the model fitted to (many) subsets of the studies (metafor's `gosh`).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::engine::{self, Bits};
use super::{Prepared, prepare};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{CheckedMetaAnalysis, Method, Settings};
use crate::progress::{Completion, Monitor, run_chunks};

/// Largest k for which all `2^k - 1` subsets are fitted by default.
const EXHAUSTIVE_MAX_K: usize = 20;
/// Number of random subsets drawn by default beyond that (metafor's default, 10^6).
const DEFAULT_SAMPLE: usize = 1_000_000;
/// Subsets per parallel work unit.
const CHUNK: usize = 4096;
/// Chunks per batch of [`Gosh::write_csv`] between progress reports (about 6.5 * 10^4
/// subsets; the batch's CSV text is what memory holds).
const BATCH: usize = 16;

/// GOSH ("graphical display of study heterogeneity") specification: a builder.
///
/// By default every non-empty subset is fitted when k <= 20 (`2^k - 1` fits; metafor fits
/// them all up to 10^6); beyond that, or when [`Gosh::max_subsets`] is smaller than
/// `2^k - 1`, that many random subsets are drawn: each study enters a subset with
/// probability 1/2, empty subsets are redrawn (the distribution metafor samples from).
/// Subset `s` is drawn from its own ChaCha8 stream (`seed`, stream `s`), so the result does
/// not depend on the number of threads.
///
/// [`Gosh::run`] keeps every fitted subset in memory (about 48 bytes each, plus their
/// membership bits when sampled) and refuses, before any work, a request that would need
/// more than [`Gosh::MAX_STORED_BYTES`]; [`Gosh::write_csv`] streams the subsets as CSV
/// text in constant memory, with progress reports and cancellation.
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Method, Studies};
/// use metan::sensitivity::Gosh;
/// let s = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.9], vec![0.01, 0.02, 0.015, 0.03])?;
/// let g = Gosh::new().run(&MetaAnalysis::new().method(Method::DL), &s)?;
/// assert_eq!(g.len(), 15);
/// assert!(g.is_exhaustive());
/// let all = g.subset(14); // the last subset holds every study
/// assert_eq!(all.members, vec![0, 1, 2, 3]);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Olkin, I., Dahabreh, I. J., & Trikalinos, T. A. (2012). GOSH - a graphical display of
/// study heterogeneity. *Research Synthesis Methods*, 3, 214-223.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gosh {
    max_subsets: Option<usize>,
    seed: u64,
}

/// One fitted subset.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct GoshSubset {
    /// Zero-based indices of the studies in the subset, ascending.
    pub members: Vec<usize>,
    /// Number of studies.
    pub k: usize,
    /// Pooled estimate.
    pub estimate: f64,
    /// tau^2 (0 for equal-effects models).
    pub tau2: f64,
    /// I^2 (percent).
    pub i2: f64,
    /// H^2.
    pub h2: f64,
    /// Cochran's Q.
    pub q: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
struct Out {
    k: u32,
    estimate: f64,
    tau2: f64,
    i2: f64,
    h2: f64,
    q: f64,
}

/// The fitted subsets of a [`Gosh`] run.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GoshResult {
    labels: Vec<String>,
    method: Method,
    exhaustive: bool,
    seed: u64,
    /// Membership bits of sampled subsets (`words` u64 per subset); empty when exhaustive
    /// (subset `s` is then the bit mask `s + 1`).
    words: usize,
    members: Vec<u64>,
    out: Vec<Out>,
}

/// What a GOSH run will do: the full fit, the number of subsets and how they are chosen.
struct Plan {
    prep: Prepared,
    exhaustive: bool,
    n: usize,
    words: usize,
}

impl Gosh {
    /// The most memory [`Gosh::run`] may use for the fitted subsets: 1 GiB (about 2 * 10^7
    /// subsets). Larger requests are an error before any work; [`Gosh::write_csv`] streams
    /// any number of subsets.
    pub const MAX_STORED_BYTES: usize = 1 << 30;

    /// All subsets up to k = 20, 10^6 random subsets beyond; seed 0.
    pub fn new() -> Self {
        Gosh::default()
    }
    /// At most this many subsets: all of them when `2^k - 1 <= n`, else `n` random ones.
    pub fn max_subsets(mut self, n: usize) -> Self {
        self.max_subsets = Some(n);
        self
    }
    /// Seed of the random subsets.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Fits every subset with the specification's estimator.
    ///
    /// # Formula
    /// Each subset is fitted like [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) (estimate, tau^2, Q, I^2, H^2). As in
    /// metafor, equal-effects and DerSimonian-Laird fits without user weights or a fixed
    /// tau^2 report `I2 = max(0, 100 (Q - df)/Q)` and `H2 = Q/df` (so H^2 is below 1 when
    /// Q < df); a subset of one study has Q = 0, I^2 = 0, H^2 = 1. The sums of each subset
    /// take one pass over its studies with a numerically stable running weighted mean (West
    /// 1979) and no allocation: one pass for an equal-effects fit, two for DL with
    /// tau^2 > 0, one per iteration for the iterative estimators.
    ///
    /// # Errors
    /// Those of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit), [`MetaError::TooFewStudies`] for k < 2 and
    /// [`MetaError::InvalidOption`] for `max_subsets = 0`.
    pub fn run(&self, spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<GoshResult> {
        let plan = self.plan(spec, studies)?;
        let (n, words, exhaustive) = (plan.n, plan.words, plan.exhaustive);
        let bytes = n as f64 * (std::mem::size_of::<Out>() + 8 * words) as f64;
        if bytes > Self::MAX_STORED_BYTES as f64 {
            return Err(MetaError::invalid_option(
                "max_subsets",
                n,
                format!(
                    "keeping {n} fitted subsets in memory needs {:.1} GB, more than the {} GiB \
                     a GoshResult may hold: stream them with Gosh::write_csv (as metan gosh \
                     --output does), or ask for fewer",
                    bytes / 1e9,
                    Self::MAX_STORED_BYTES >> 30
                ),
            ));
        }
        let ctx = self.ctx(&plan, studies);
        let mut out = vec![Out::default(); n];
        let mut members = vec![0u64; n * words];
        let chunk_words = CHUNK * words;
        let work = |c: usize, outs: &mut [Out], mem: &mut [u64]| {
            let mut mask = [0u64; 1];
            for (o, out) in outs.iter_mut().enumerate() {
                let s = c * CHUNK + o;
                let bits: &[u64] = if exhaustive {
                    mask[0] = s as u64 + 1;
                    &mask
                } else {
                    let m = &mut mem[o * words..(o + 1) * words];
                    ctx.draw(s as u64, m);
                    m
                };
                *out = ctx.fit(bits);
            }
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            if exhaustive {
                out.par_chunks_mut(CHUNK)
                    .enumerate()
                    .for_each(|(c, o)| work(c, o, &mut []));
            } else {
                out.par_chunks_mut(CHUNK)
                    .zip(members.par_chunks_mut(chunk_words))
                    .enumerate()
                    .for_each(|(c, (o, m))| work(c, o, m));
            }
        }
        #[cfg(not(feature = "parallel"))]
        {
            if exhaustive {
                for (c, o) in out.chunks_mut(CHUNK).enumerate() {
                    work(c, o, &mut []);
                }
            } else {
                for (c, (o, m)) in out
                    .chunks_mut(CHUNK)
                    .zip(members.chunks_mut(chunk_words))
                    .enumerate()
                {
                    work(c, o, m);
                }
            }
        }
        Ok(GoshResult {
            labels: studies.labels().to_vec(),
            method: plan.prep.fit.method(),
            exhaustive,
            seed: self.seed,
            words,
            members,
            out,
        })
    }

    /// The subsets of [`Gosh::run`] as CSV text, streamed: `out` receives the header line,
    /// then the rows in subset order, a batch at a time (the text of
    /// [`GoshResult::to_csv`], byte for byte), so memory does not grow with the number of
    /// subsets. `monitor` gets the subsets done about every 6.5 * 10^4; once its flag is
    /// set the run stops at the next chunk of 4096 subsets, having written the first N rows,
    /// and the summary says so ([`Completion::Stopped`]).
    ///
    /// # Errors
    /// Those of [`Gosh::run`] (except the memory cap), the first error `out` returns (the
    /// run stops there), and [`MetaError::Cancelled`] when the flag is set before the
    /// first chunk is complete.
    ///
    /// # Examples
    /// ```
    /// use metan::{MetaAnalysis, Method, Studies};
    /// use metan::progress::Monitor;
    /// use metan::sensitivity::Gosh;
    /// let s = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.9], vec![0.01, 0.02, 0.015, 0.03])?;
    /// let spec = MetaAnalysis::new().method(Method::DL);
    /// let mut text = String::new();
    /// let summary = Gosh::new().write_csv(&spec, &s, Monitor::new(), |t: &str| {
    ///     text.push_str(t);
    ///     Ok(())
    /// })?;
    /// assert_eq!(summary.len(), 15);
    /// assert_eq!(text, Gosh::new().run(&spec, &s)?.to_csv());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn write_csv(
        &self,
        spec: &(impl Settings + ?Sized),
        studies: &Studies,
        mut monitor: Monitor<'_>,
        mut out: impl FnMut(&str) -> Result<()>,
    ) -> Result<GoshSummary> {
        let plan = self.plan(spec, studies)?;
        let (n, words, exhaustive) = (plan.n, plan.words, plan.exhaustive);
        let ctx = self.ctx(&plan, studies);
        let labels = studies.labels();
        out(&csv_header(labels))?;
        let k = studies.k();
        let work = |c: usize| -> (String, f64, f64) {
            let mut bits = vec![0u64; words.max(1)];
            let range = c * CHUNK..((c + 1) * CHUNK).min(n);
            let mut text = String::with_capacity(range.len() * (60 + 2 * k));
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for s in range {
                if exhaustive {
                    bits[0] = s as u64 + 1;
                } else {
                    ctx.draw(s as u64, &mut bits);
                }
                let o = ctx.fit(&bits);
                lo = lo.min(o.estimate);
                hi = hi.max(o.estimate);
                csv_row(&mut text, &o, k, |j| bits[j / 64] >> (j % 64) & 1 == 1);
            }
            (text, lo, hi)
        };
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let chunks = run_chunks(
            n.div_ceil(CHUNK),
            BATCH,
            &mut monitor,
            |c| (c * CHUNK).min(n) as u64,
            work,
            |_, (text, l, h)| {
                lo = lo.min(l);
                hi = hi.max(h);
                out(&text)
            },
        )?;
        let done = (chunks * CHUNK).min(n);
        if done == 0 {
            return Err(MetaError::Cancelled {
                analysis: "GOSH".into(),
                unit: "subset".into(),
            });
        }
        Ok(GoshSummary {
            subsets: done,
            method: plan.prep.fit.method(),
            exhaustive,
            seed: self.seed,
            estimates: (lo <= hi).then_some((lo, hi)),
            completion: if done == n {
                Completion::Complete
            } else {
                Completion::Stopped {
                    done: done as u64,
                    total: n as u64,
                }
            },
        })
    }

    fn plan(&self, spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<Plan> {
        let prep = prepare(spec, studies, 2, "GOSH")?;
        let k = studies.k();
        if self.max_subsets == Some(0) {
            return Err(MetaError::invalid_option(
                "max_subsets",
                0,
                "must be at least 1",
            ));
        }
        let total = if k < 64 { Some((1u64 << k) - 1) } else { None };
        let exhaustive = match (self.max_subsets, total) {
            (None, Some(_)) => k <= EXHAUSTIVE_MAX_K,
            (Some(m), Some(t)) => t <= m as u64,
            (_, None) => false,
        };
        let n = match (exhaustive, total) {
            (true, Some(t)) => t as usize,
            _ => self.max_subsets.unwrap_or(DEFAULT_SAMPLE),
        };
        let words = if exhaustive { 0 } else { k.div_ceil(64) };
        Ok(Plan {
            prep,
            exhaustive,
            n,
            words,
        })
    }

    fn ctx<'a>(&self, plan: &'a Plan, studies: &'a Studies) -> Ctx<'a> {
        let p = &plan.prep.spec;
        let y = studies.yi();
        let k = studies.k();
        Ctx {
            y,
            v: studies.vi(),
            wv: studies.vi().iter().map(|v| 1.0 / v).collect(),
            c: y.iter().sum::<f64>() / k as f64,
            a: p.weights(),
            p,
            q_based: (p.method() == Method::DL || p.method().is_equal_effects())
                && p.weights().is_none()
                && p.fixed_tau2().is_none(),
            k,
            seed: self.seed,
        }
    }
}

/// What [`Gosh::write_csv`] did (the subsets themselves went to the output).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GoshSummary {
    subsets: usize,
    method: Method,
    exhaustive: bool,
    seed: u64,
    estimates: Option<(f64, f64)>,
    completion: Completion,
}

impl GoshSummary {
    /// Number of subsets written.
    pub fn len(&self) -> usize {
        self.subsets
    }
    /// True when no subset was written (never the case for a successful run).
    pub fn is_empty(&self) -> bool {
        self.subsets == 0
    }
    /// The estimator used.
    pub fn method(&self) -> Method {
        self.method
    }
    /// True when every non-empty subset was fitted (or, when stopped, would have been).
    pub fn is_exhaustive(&self) -> bool {
        self.exhaustive
    }
    /// The seed of the random subsets.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The smallest and largest pooled estimate written (`None` if any was NaN throughout).
    pub fn estimate_range(&self) -> Option<(f64, f64)> {
        self.estimates
    }
    /// Whether every subset was written, or the run stopped after the first `done`.
    pub fn completion(&self) -> Completion {
        self.completion
    }
}

struct Ctx<'a> {
    y: &'a [f64],
    v: &'a [f64],
    /// `1/v`.
    wv: Vec<f64>,
    /// The mean of all estimates, the centre of the unweighted sums.
    c: f64,
    a: Option<&'a [f64]>,
    p: &'a CheckedMetaAnalysis,
    /// metafor's fast path (EE, DL): I^2 and H^2 from Q alone.
    q_based: bool,
    k: usize,
    seed: u64,
}

impl Ctx<'_> {
    /// Random membership of subset `s`: each study with probability 1/2, not empty.
    fn draw(&self, s: u64, m: &mut [u64]) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(s);
        let rem = self.k % 64;
        loop {
            for w in m.iter_mut() {
                *w = rng.next_u64();
            }
            if rem != 0 {
                if let Some(last) = m.last_mut() {
                    *last &= (1u64 << rem) - 1;
                }
            }
            if m.iter().any(|&w| w != 0) {
                return;
            }
        }
    }

    fn fit(&self, bits: &[u64]) -> Out {
        let src = Bits::new((self.y, self.v, &self.wv), self.a, self.c, bits);
        let t = engine::tau2(&src, self.p, None);
        let f = engine::pool(&src, self.p, &t);
        let (mut i2, mut h2) = (f.i2, f.h2);
        if self.q_based && f.n > 1 {
            let df = (f.n - 1) as f64;
            i2 = (100.0 * (f.q - df) / f.q).max(0.0);
            h2 = f.q / df;
        }
        Out {
            k: f.n as u32,
            estimate: f.estimate,
            tau2: f.tau2,
            i2,
            h2,
            q: f.q,
        }
    }
}

impl GoshResult {
    /// Number of fitted subsets.
    pub fn len(&self) -> usize {
        self.out.len()
    }
    /// True when no subset was fitted (never the case for a successful run).
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
    /// True when every non-empty subset was fitted (subset `s` is then the bit mask
    /// `s + 1`: study `j` belongs to it when bit `j` is set).
    pub fn is_exhaustive(&self) -> bool {
        self.exhaustive
    }
    /// The estimator used.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The seed of the random subsets.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Study labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// Whether study `j` belongs to subset `s`.
    pub fn contains(&self, s: usize, j: usize) -> bool {
        if self.exhaustive {
            (s as u64 + 1) >> j & 1 == 1
        } else {
            self.members[s * self.words + j / 64] >> (j % 64) & 1 == 1
        }
    }
    /// Subset `s` with its fit. Panics if `s >= len()`, like slice indexing.
    pub fn subset(&self, s: usize) -> GoshSubset {
        let o = &self.out[s];
        GoshSubset {
            members: (0..self.labels.len())
                .filter(|&j| self.contains(s, j))
                .collect(),
            k: o.k as usize,
            estimate: o.estimate,
            tau2: o.tau2,
            i2: o.i2,
            h2: o.h2,
            q: o.q,
        }
    }
    /// Every subset, in order.
    pub fn subsets(&self) -> impl Iterator<Item = GoshSubset> + '_ {
        (0..self.len()).map(|s| self.subset(s))
    }
    /// Pooled estimates of all subsets.
    pub fn estimates(&self) -> Vec<f64> {
        self.out.iter().map(|o| o.estimate).collect()
    }

    /// CSV text: `k,estimate,tau2,i2,h2,q` and one 0/1 membership column per study (named
    /// by its label), one row per subset.
    pub fn to_csv(&self) -> String {
        let k = self.labels.len();
        let mut s = String::with_capacity(self.len() * (60 + 2 * k));
        s.push_str(&csv_header(&self.labels));
        for (i, o) in self.out.iter().enumerate() {
            csv_row(&mut s, o, k, |j| self.contains(i, j));
        }
        s
    }
}

/// `k,estimate,tau2,i2,h2,q` and one column per study label, with the line break.
fn csv_header(labels: &[String]) -> String {
    let mut s = String::from("k,estimate,tau2,i2,h2,q");
    for l in labels {
        s.push(',');
        s.push_str(&csv_field(l));
    }
    s.push('\n');
    s
}

/// One CSV row: the fit (shortest round-trip decimals) and the 0/1 memberships.
fn csv_row(s: &mut String, o: &Out, k: usize, member: impl Fn(usize) -> bool) {
    use std::fmt::Write;
    let _ = write!(
        s,
        "{},{:?},{:?},{:?},{:?},{:?}",
        o.k, o.estimate, o.tau2, o.i2, o.h2, o.q
    );
    for j in 0..k {
        s.push_str(if member(j) { ",1" } else { ",0" });
    }
    s.push('\n');
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
