//! The refitting engine behind every sensitivity analysis (private).
//!
//! Every diagnostic refits the intercept-only model of a [`MetaAnalysis`] on a subset of the
//! studies: all but one (leave-one-out, influence, Baujat), a prefix (cumulative), or any
//! subset (GOSH). The estimators and the inference below are written once, against a
//! [`Source`] that delivers the few sums they need for the subset at a given tau^2:
//!
//! * with `w = 1/(v + tau2)` and centred estimates `d = y - c`: `sum w`, `sum w^2`,
//!   `sum w^3`, `sum w d`, `sum w d^2`, `sum w^2 d`, `sum w^2 d^2` ([`WSums`]);
//! * without `tau2`: the unweighted sums (Hedges, Sidik-Jonkman's start) and the sums with the
//!   user weights `a` (GENQ, weighted estimates) ([`PlainSums`]);
//! * `sum log(v + tau2)` for the likelihood check of ML/REML.
//!
//! From these, `Q = y'Py`, `y'PPy`, `tr(P)` and `tr(PP)` follow in O(1) (see
//! `model::projection` for the closed forms). Two kinds of sources exist:
//!
//! * [`Direct`]: one pass over the subset's studies, O(n) per query;
//! * [`Series`]: "all studies but one" in O(terms) per query, from moments of the full data
//!   at a centre `tau0`. With `a_j = 1/(v_j + tau0)`, `b_j = s a_j <= 1` (`s = min v + tau0`)
//!   and `x = (tau2 - tau0)/s`, the weights expand as
//!   `w_j^p = (b_j/s)^p sum_n C(n+p-1, n) (-x b_j)^n`, so every sum over all studies is a
//!   short series in the moments `B[m][r] = sum_j b_j^m d_j^r`, and the left-out study's own
//!   term is subtracted exactly. The series is used only when it converges to below 1e-17
//!   within the stored moments and the left-out study carries less than half the weight;
//!   otherwise the source falls back to a direct pass. For large k every leave-one-out tau^2
//!   lies close to the full-data value (|x| ~ 1/k), so a handful of terms suffice: this is
//!   what makes leave-one-out and influence O(k) for every estimator, iterative ones
//!   included: ML, REML and EB start where metafor starts (their likelihood can have several
//!   maxima) and follow nearly the path of the full-data iterations, whose iterates are
//!   used as series centres; PM and PMM are warm-started at the full-data tau^2.

use std::cell::{Cell, RefCell};

use crate::model::inference::crit_and_p;
use crate::model::tau2::{self, AtTau2, Control, Sums, Tau2Estimate, Terms, Weights};
use crate::model::{CheckedMetaAnalysis, PSums, TestKind};
use crate::numeric::dist::chisq_sf;

/// Sums over a subset at one tau^2 (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WSums {
    /// The centre `c` of `d = y - c`.
    pub c: f64,
    pub n: f64,
    pub sw: f64,
    pub s2: f64,
    pub s3: f64,
    pub swd: f64,
    pub swd2: f64,
    pub s2d: f64,
    pub s2d2: f64,
}

impl WSums {
    /// `mean - c`, the weighted mean relative to the centre.
    pub fn shift(&self) -> f64 {
        self.swd / self.sw
    }
    /// `Q = y'Py = sum w (y - mean)^2`.
    pub fn q(&self) -> f64 {
        self.swd2 - self.swd * self.swd / self.sw
    }
    /// `y'PPy = sum w^2 (y - mean)^2`.
    pub fn ypp(&self) -> f64 {
        let m = self.shift();
        self.s2d2 - 2.0 * m * self.s2d + m * m * self.s2
    }
    /// `tr(P) = sum w - sum w^2 / sum w`.
    pub fn trp(&self) -> f64 {
        self.sw - self.s2 / self.sw
    }
    /// `tr(PP) = sum w^2 - 2 sum w^3 / sum w + (sum w^2 / sum w)^2`.
    pub fn trpp(&self) -> f64 {
        let r = self.s2 / self.sw;
        self.s2 - 2.0 * self.s3 / self.sw + r * r
    }
    /// The summaries of `P` these sums determine (no `V` terms: NaN).
    pub fn psums(&self) -> PSums {
        PSums {
            sw: self.sw,
            s2: self.s2,
            q: self.q(),
            ypp: self.ypp(),
            trp: self.trp(),
            trpp: self.trpp(),
            trpv: f64::NAN,
            pvp: f64::NAN,
            trpvpv: f64::NAN,
        }
    }
    #[inline]
    fn add(&mut self, w: f64, d: f64, sign: f64) {
        let w2 = w * w;
        self.n += sign;
        self.sw += sign * w;
        self.s2 += sign * w2;
        self.s3 += sign * w2 * w;
        self.swd += sign * w * d;
        self.swd2 += sign * w * d * d;
        self.s2d += sign * w2 * d;
        self.s2d2 += sign * w2 * d * d;
    }
}

/// `sum(w)`, `sum(w^2)`, the weighted mean and `Q = sum w (y - mean)^2` on a subset.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Basic {
    pub sw: f64,
    pub s2: f64,
    pub mean: f64,
    pub q: f64,
}

impl Basic {
    /// `tr(P) = sum w - sum w^2 / sum w`.
    pub fn trp(&self) -> f64 {
        self.sw - self.s2 / self.sw
    }
}

/// Sums that do not depend on tau^2: unweighted, and with the user weights `a`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PlainSums {
    /// The centre `c` of `d = y - c`.
    pub c: f64,
    pub n: f64,
    pub sd: f64,
    pub sd2: f64,
    pub sv: f64,
    pub sa: f64,
    pub sa2: f64,
    pub sad: f64,
    pub sad2: f64,
    pub sav: f64,
    pub sa2v: f64,
}

impl PlainSums {
    fn add(&mut self, d: f64, v: f64, a: f64, sign: f64) {
        self.n += sign;
        self.sd += sign * d;
        self.sd2 += sign * d * d;
        self.sv += sign * v;
        self.sa += sign * a;
        self.sa2 += sign * a * a;
        self.sad += sign * a * d;
        self.sad2 += sign * a * d * d;
        self.sav += sign * a * v;
        self.sa2v += sign * a * a * v;
    }
    /// Unweighted residual sum of squares `sum (y - mean(y))^2`.
    fn rss(&self) -> f64 {
        self.sd2 - self.sd * self.sd / self.n
    }
    /// The summaries of `P` for unit weights (`P = I - J/n`); of the `V` terms only
    /// `tr(PV) = (1 - 1/n) sum v` (the others NaN).
    fn unit(&self) -> PSums {
        let n = self.n;
        let rss = self.rss();
        PSums {
            sw: n,
            s2: n,
            q: rss,
            ypp: rss,
            trp: n - 1.0,
            trpp: n - 1.0,
            trpv: self.sv * (1.0 - 1.0 / n),
            pvp: f64::NAN,
            trpvpv: f64::NAN,
        }
    }
    /// The summaries of `P` for the user weights `a` (all NaN without them); of those that
    /// need `a^3` or `V` twice, NaN.
    fn user(&self) -> PSums {
        if !(self.sa > 0.0) {
            return PSums::nan();
        }
        PSums {
            sw: self.sa,
            s2: self.sa2,
            q: self.sad2 - self.sad * self.sad / self.sa,
            ypp: f64::NAN,
            trp: self.sa - self.sa2 / self.sa,
            trpp: f64::NAN,
            trpv: self.sav - self.sa2v / self.sa,
            pvp: f64::NAN,
            trpvpv: f64::NAN,
        }
    }
}

/// What the estimators and the inference need from a subset.
pub(crate) trait Source {
    /// Number of studies.
    fn n(&self) -> usize;
    /// Sums with `w = 1/(v + tau2)`.
    fn at(&self, tau2: f64) -> WSums;
    /// The part of [`Source::at`] a moment estimator, a pooled estimate and `Q` need.
    fn basic(&self, tau2: f64) -> Basic {
        let s = self.at(tau2);
        Basic {
            sw: s.sw,
            s2: s.s2,
            mean: s.c + s.shift(),
            q: s.q(),
        }
    }
    /// `sum log(v + tau2)`.
    fn log_det(&self, tau2: f64) -> f64;
    /// Unweighted and user-weighted sums.
    fn plain(&self) -> PlainSums;
    /// The same studies as one exact direct pass, when this source is an approximation.
    fn exact(&self) -> Option<Direct<'_>> {
        None
    }
}

/// A direct pass over (a subset of) gathered studies, optionally skipping one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Direct<'a> {
    pub y: &'a [f64],
    pub v: &'a [f64],
    pub a: Option<&'a [f64]>,
    pub c: f64,
    pub skip: Option<usize>,
}

impl<'a> Direct<'a> {
    /// All of `y`, centred at its unweighted mean.
    pub fn new(y: &'a [f64], v: &'a [f64], a: Option<&'a [f64]>) -> Self {
        let c = if y.is_empty() {
            0.0
        } else {
            y.iter().sum::<f64>() / y.len() as f64
        };
        Direct {
            y,
            v,
            a,
            c,
            skip: None,
        }
    }
}

impl Direct<'_> {
    fn each(&self, mut f: impl FnMut(usize, f64, f64)) {
        for (j, (&y, &v)) in self.y.iter().zip(self.v).enumerate() {
            if Some(j) != self.skip {
                f(j, y, v);
            }
        }
    }
}

impl Source for Direct<'_> {
    fn n(&self) -> usize {
        self.y.len() - usize::from(self.skip.is_some())
    }
    /// Two passes: the weighted mean, then sums centred at it (no cancellation in `Q`).
    fn at(&self, tau2: f64) -> WSums {
        let (mut sw, mut swd) = (0.0, 0.0);
        self.each(|_, y, v| {
            let w = 1.0 / (v + tau2);
            sw += w;
            swd += w * (y - self.c);
        });
        let c = self.c + swd / sw;
        let mut s = WSums {
            c,
            ..WSums::default()
        };
        self.each(|_, y, v| s.add(1.0 / (v + tau2), y - c, 1.0));
        s
    }
    fn log_det(&self, tau2: f64) -> f64 {
        let mut l = 0.0;
        self.each(|_, _, v| l += (v + tau2).ln());
        l
    }
    /// Two passes: the unweighted mean, then sums centred at it.
    fn plain(&self) -> PlainSums {
        let (mut n, mut sd) = (0.0, 0.0);
        self.each(|_, y, _| {
            n += 1.0;
            sd += y - self.c;
        });
        let c = self.c + sd / n;
        let mut p = PlainSums {
            c,
            ..PlainSums::default()
        };
        self.each(|j, y, v| p.add(y - c, v, self.a.map_or(0.0, |a| a[j]), 1.0));
        p
    }
}

/// A subset given by a bit mask (study `j` is in when bit `j % 64` of word `j / 64` is set):
/// GOSH's subsets, without gathering them.
#[derive(Debug, Clone)]
pub(crate) struct Bits<'a> {
    pub y: &'a [f64],
    pub v: &'a [f64],
    pub a: Option<&'a [f64]>,
    /// `1/v`, the weights at tau^2 = 0.
    pub wv: &'a [f64],
    /// A centre for the unweighted sums (e.g. the mean of all studies).
    pub c: f64,
    bits: &'a [u64],
    n: usize,
    /// The sums at tau^2 = 0, asked for by the moment estimators, Q and I^2.
    zero: Cell<Option<WSums>>,
    /// [`Source::basic`] at tau^2 = 0.
    zero_basic: Cell<Option<Basic>>,
}

impl<'a> Bits<'a> {
    /// The subset `bits` of the studies `(y, v)` with user weights `a`; `wv = 1/v`.
    pub fn new(
        (y, v, wv): (&'a [f64], &'a [f64], &'a [f64]),
        a: Option<&'a [f64]>,
        c: f64,
        bits: &'a [u64],
    ) -> Self {
        let n = bits.iter().map(|w| w.count_ones() as usize).sum();
        Bits {
            y,
            v,
            a,
            wv,
            c,
            bits,
            n,
            zero: Cell::new(None),
            zero_basic: Cell::new(None),
        }
    }

    /// The sums about the running weighted mean (West's weighted form of Welford's update):
    /// adding a study moves the mean by `delta`, and the sums about the old mean move
    /// exactly, `sum w^2 d -= delta sum w^2` and
    /// `sum w^2 d^2 -= 2 delta sum w^2 d - delta^2 sum w^2`, before the study's own terms.
    fn running(&self, tau2: f64) -> WSums {
        let mut s = WSums::default();
        let mut mean = 0.0;
        self.each(|j| {
            let w = self.w(j, tau2);
            let y = self.y[j];
            let sw_new = s.sw + w;
            let delta = (y - mean) * w / sw_new;
            s.s2d2 += delta * (delta * s.s2 - 2.0 * s.s2d);
            s.s2d -= delta * s.s2;
            let d_old = y - mean;
            mean += delta;
            let d = y - mean;
            s.swd2 += w * d_old * d;
            s.sw = sw_new;
            let w2 = w * w;
            s.s2 += w2;
            s.s3 += w2 * w;
            s.s2d += w2 * d;
            s.s2d2 += w2 * d * d;
            s.n += 1.0;
        });
        s.c = mean;
        s
    }

    /// The weight of study `j` at `tau2`.
    #[inline]
    fn w(&self, j: usize, tau2: f64) -> f64 {
        if tau2 == 0.0 {
            self.wv[j]
        } else {
            1.0 / (self.v[j] + tau2)
        }
    }

    #[inline(always)]
    fn each(&self, mut f: impl FnMut(usize)) {
        for (wi, &word) in self.bits.iter().enumerate() {
            let mut b = word;
            while b != 0 {
                f(wi * 64 + b.trailing_zeros() as usize);
                b &= b - 1;
            }
        }
    }
}

impl Source for Bits<'_> {
    fn n(&self) -> usize {
        self.n
    }
    /// One pass about the running weighted mean ([`Bits::running`]).
    fn at(&self, tau2: f64) -> WSums {
        if tau2 == 0.0 {
            if let Some(s) = self.zero.get() {
                return s;
            }
        }
        let s = self.running(tau2);
        if tau2 == 0.0 {
            self.zero.set(Some(s));
        }
        s
    }
    /// One pass (West's update of the mean and `Q`).
    fn basic(&self, tau2: f64) -> Basic {
        if tau2 == 0.0 {
            if let Some(b) = self.zero_basic.get() {
                return b;
            }
        }
        let (mut sw, mut s2, mut mean, mut q) = (0.0, 0.0, 0.0, 0.0);
        let mut add = |w: f64, y: f64| {
            let sw_new = sw + w;
            let d = y - mean;
            mean += d * w / sw_new;
            q += w * d * (y - mean);
            sw = sw_new;
            s2 += w * w;
        };
        if tau2 == 0.0 {
            self.each(|j| add(self.wv[j], self.y[j]));
        } else {
            self.each(|j| add(1.0 / (self.v[j] + tau2), self.y[j]));
        }
        let b = Basic { sw, s2, mean, q };
        if tau2 == 0.0 {
            self.zero_basic.set(Some(b));
        }
        b
    }
    fn log_det(&self, tau2: f64) -> f64 {
        let mut l = 0.0;
        self.each(|j| l += (self.v[j] + tau2).ln());
        l
    }
    /// Two passes: the unweighted mean, then sums centred at it.
    fn plain(&self) -> PlainSums {
        let (mut n, mut sd) = (0.0, 0.0);
        self.each(|j| {
            n += 1.0;
            sd += self.y[j] - self.c;
        });
        let c = self.c + sd / n;
        let mut p = PlainSums {
            c,
            ..PlainSums::default()
        };
        self.each(|j| p.add(self.y[j] - c, self.v[j], self.a.map_or(0.0, |a| a[j]), 1.0));
        p
    }
}

/// Moments of the full data at one centre `tau0` (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    /// Centre of the estimates.
    c: f64,
    tau0: f64,
    /// `s = min(v) + tau0`.
    s: f64,
    /// `B[m] = [sum b^m, sum b^m d, sum b^m d^2]`, `m = 0..=MAX_M`.
    b: Vec<[f64; 3]>,
    /// `sum log(v + tau0)`.
    log_det: f64,
}

/// Highest moment stored: series of up to `MAX_M - 3` terms.
const MAX_M: usize = 64;

impl Moments {
    pub fn new(y: &[f64], v: &[f64], c: f64, tau0: f64) -> Self {
        let vmin = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let s = vmin + tau0;
        let mut b = vec![[0.0; 3]; MAX_M + 1];
        let mut log_det = 0.0;
        for (&yj, &vj) in y.iter().zip(v) {
            let bj = s / (vj + tau0);
            let d = yj - c;
            let mut p = 1.0;
            for m in b.iter_mut() {
                m[0] += p;
                m[1] += p * d;
                m[2] += p * d * d;
                p *= bj;
            }
            log_det += (vj + tau0).ln();
        }
        Moments {
            c,
            tau0,
            s,
            b,
            log_det,
        }
    }

    /// Number of terms for `|x|`: the smallest `N` with `C(N+2, 2) |x|^N < 1e-17`
    /// (`None` when more than the stored moments would be needed).
    fn terms(x: f64) -> Option<usize> {
        let ax = x.abs();
        if ax == 0.0 {
            return Some(1);
        }
        if !(ax < 0.9) {
            return None;
        }
        let mut pw = 1.0;
        for n in 1..=(MAX_M - 3) {
            pw *= ax;
            let c = ((n + 1) * (n + 2)) as f64 / 2.0;
            if c * pw < 1e-17 {
                return Some(n + 1);
            }
        }
        None
    }

    /// Sums over all studies at `tau2`, or `None` when the series is too long.
    fn all_at(&self, tau2: f64, n: usize) -> Option<WSums> {
        let x = (tau2 - self.tau0) / self.s;
        let nt = Self::terms(x)?;
        let mut t1 = [0.0; 3];
        let mut t2 = [0.0; 3];
        let mut t3 = 0.0;
        let mut pw = 1.0; // (-x)^i
        for i in 0..nt {
            let fi = i as f64;
            let b1 = &self.b[i + 1];
            let b2 = &self.b[i + 2];
            let c2 = (fi + 1.0) * pw;
            let c3 = (fi + 1.0) * (fi + 2.0) / 2.0 * pw;
            for r in 0..3 {
                t1[r] += pw * b1[r];
                t2[r] += c2 * b2[r];
            }
            t3 += c3 * self.b[i + 3][0];
            pw *= -x;
        }
        let s = self.s;
        let s2 = s * s;
        Some(WSums {
            c: self.c,
            n: n as f64,
            sw: t1[0] / s,
            swd: t1[1] / s,
            swd2: t1[2] / s,
            s2: t2[0] / s2,
            s2d: t2[1] / s2,
            s2d2: t2[2] / s2,
            s3: t3 / (s2 * s),
        })
    }

    fn log_det_at(&self, tau2: f64) -> Option<f64> {
        let x = (tau2 - self.tau0) / self.s;
        let nt = Self::terms(x)?;
        let mut l = 0.0;
        let mut pw = 1.0;
        for i in 1..=nt {
            pw *= x;
            let sign = if i % 2 == 1 { 1.0 } else { -1.0 };
            l += sign * pw / i as f64 * self.b[i][0];
        }
        Some(self.log_det + l)
    }
}

/// Full data with their moment tables: the parent of the leave-one-out [`Series`] sources.
#[derive(Debug, Clone)]
pub(crate) struct SeriesData<'a> {
    pub y: &'a [f64],
    pub v: &'a [f64],
    pub a: Option<&'a [f64]>,
    pub c: f64,
    tables: Vec<Moments>,
    plain: PlainSums,
}

impl<'a> SeriesData<'a> {
    /// Tables at each of `centres` (e.g. 0 and the full-data tau^2).
    pub fn new(y: &'a [f64], v: &'a [f64], a: Option<&'a [f64]>, c: f64, centres: &[f64]) -> Self {
        let tables = centres.iter().map(|&t| Moments::new(y, v, c, t)).collect();
        let plain = Direct {
            y,
            v,
            a,
            c,
            skip: None,
        }
        .plain();
        SeriesData {
            y,
            v,
            a,
            c,
            tables,
            plain,
        }
    }

    /// The source "all studies but `skip`" (`None`: all studies).
    pub fn without(&self, skip: Option<usize>) -> Series<'_, 'a> {
        Series { data: self, skip }
    }

    fn nearest(&self, tau2: f64) -> Option<&Moments> {
        self.tables.iter().min_by(|p, q| {
            let dp = ((tau2 - p.tau0) / p.s).abs();
            let dq = ((tau2 - q.tau0) / q.s).abs();
            dp.total_cmp(&dq)
        })
    }

    fn direct(&self, skip: Option<usize>) -> Direct<'a> {
        Direct {
            y: self.y,
            v: self.v,
            a: self.a,
            c: self.c,
            skip,
        }
    }
}

/// "All studies but one" from moment series, with an exact direct fallback.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Series<'s, 'a> {
    data: &'s SeriesData<'a>,
    skip: Option<usize>,
}

impl Source for Series<'_, '_> {
    fn n(&self) -> usize {
        self.data.y.len() - usize::from(self.skip.is_some())
    }
    fn exact(&self) -> Option<Direct<'_>> {
        Some(self.data.direct(self.skip))
    }
    fn at(&self, tau2: f64) -> WSums {
        let k = self.data.y.len();
        let series = self
            .data
            .nearest(tau2)
            .and_then(|m| m.all_at(tau2, k))
            .and_then(|mut s| {
                if let Some(i) = self.skip {
                    let w = 1.0 / (self.data.v[i] + tau2);
                    // the subtraction loses accuracy when study i dominates
                    if w > 0.5 * s.sw {
                        return None;
                    }
                    s.add(w, self.data.y[i] - self.data.c, -1.0);
                }
                // sums about the full-data centre: Q and y'PPy lose digits when the subset
                // is far more homogeneous than its distance from that centre
                let ok = s.q() > 1e-4 * s.swd2 && s.ypp() > 1e-4 * s.s2d2;
                ok.then_some(s)
            });
        match series {
            Some(s) => s,
            None => self.data.direct(self.skip).at(tau2),
        }
    }
    fn log_det(&self, tau2: f64) -> f64 {
        match self.data.nearest(tau2).and_then(|m| m.log_det_at(tau2)) {
            Some(l) => l - self.skip.map_or(0.0, |i| (self.data.v[i] + tau2).ln()),
            None => self.data.direct(self.skip).log_det(tau2),
        }
    }
    fn plain(&self) -> PlainSums {
        let mut p = self.data.plain;
        if let Some(i) = self.skip {
            let a = self.data.a.map_or(0.0, |a| a[i]);
            p.add(self.data.y[i] - p.c, self.data.v[i], a, -1.0);
            if !(p.rss() > 1e-4 * p.sd2) {
                return self.data.direct(self.skip).plain();
            }
        }
        p
    }
}

/// The estimator control of the refits: the settings' (no standard errors: refits report
/// tau^2 only), with a warm start for the root finders.
fn control(p: &CheckedMetaAnalysis, warm: Option<f64>) -> Control {
    Control {
        warm,
        se: false,
        ..p.control
    }
}

/// A subset as the tau^2 estimators ([`tau2::Sums`]) see it: the intercept-only model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refit<'s, S: Source>(pub &'s S);

impl<S: Source> Sums for Refit<'_, S> {
    fn k(&self) -> usize {
        self.0.n()
    }
    fn p(&self) -> usize {
        1
    }
    fn psums(&self, w: Weights, terms: Terms) -> PSums {
        match (w, terms) {
            (Weights::Inverse(t), Terms::Q) => {
                let b = self.0.basic(t);
                PSums {
                    trp: b.trp(),
                    sw: b.sw,
                    s2: b.s2,
                    q: b.q,
                    ..PSums::nan()
                }
            }
            (Weights::Inverse(t), Terms::Full | Terms::V) => self.0.at(t).psums(),
            (Weights::Unit, _) => self.0.plain().unit(),
            (Weights::User, _) => self.0.plain().user(),
        }
    }
    fn near(&self, tau2: f64, _centre: &mut f64) -> PSums {
        self.0.at(tau2).psums()
    }
    fn q_slope(&self, tau2: f64, _centre: &mut f64) -> (f64, f64, f64) {
        let s = self.0.at(tau2);
        (s.sw, s.q(), s.ypp())
    }
    fn spread(&self) -> f64 {
        let p = self.0.plain();
        p.rss() / p.n
    }
    fn ln_det_v(&self, tau2: f64) -> f64 {
        self.0.log_det(tau2)
    }
    fn near_logdet(&self, tau2: f64, _centre: &mut f64) -> AtTau2 {
        let s = self.0.at(tau2);
        AtTau2 {
            tau2,
            sums: s.psums(),
            mean: s.c + s.shift(),
            logdet: s.sw.ln(),
        }
    }
}

/// tau^2 on the subset, by the estimator of `p` (its first; the one [`tau2::estimate`], as
/// `MetaAnalysis::fit` computes it).
///
/// ML, REML and EB start, as metafor does, at the truncated Hedges estimate (or
/// `tau2_init`): their likelihoods can have more than one maximum, and the start decides
/// which one is found. `warm` is the starting value of PM/PMM (Newton's method on the
/// monotone `Q(tau2)`, whose root is unique): any start gives the same root.
pub(crate) fn tau2<S: Source>(src: &S, p: &CheckedMetaAnalysis, warm: Option<f64>) -> Tau2Estimate {
    let ctrl = control(p, warm);
    let est = tau2::estimate(p.method(), &Refit(src), &ctrl);
    // Series sums carry rounding noise of ~1e-13 relative; where it exceeds the tolerance
    // (small tau^2, tight tol) the iterations never settle: redo it exactly.
    if !est.converged {
        if let Some(d) = src.exact() {
            return tau2::estimate(p.method(), &Refit(&d), &ctrl);
        }
    }
    est
}

/// The tau^2 values at which the estimator of `p` queries the sums of `src` (from `warm`
/// for PM/PMM): refits of nearby subsets query nearly the same ones (the iterates of Fisher
/// scoring, the root of PM, SJ's start, 0 for the moment estimators), so these make good
/// series centres.
pub(crate) fn visited<S: Source>(src: &S, p: &CheckedMetaAnalysis, warm: Option<f64>) -> Vec<f64> {
    let rec = Recorder {
        inner: Refit(src),
        seen: RefCell::new(Vec::new()),
    };
    tau2::estimate(p.method(), &rec, &control(p, warm));
    rec.seen.into_inner()
}

/// [`Sums`] that records the tau^2 of every inverse-variance query.
struct Recorder<T: Sums> {
    inner: T,
    seen: RefCell<Vec<f64>>,
}

impl<T: Sums> Recorder<T> {
    fn saw(&self, tau2: f64) {
        self.seen.borrow_mut().push(tau2);
    }
}

impl<T: Sums> Sums for Recorder<T> {
    fn k(&self) -> usize {
        self.inner.k()
    }
    fn p(&self) -> usize {
        self.inner.p()
    }
    fn psums(&self, w: Weights, terms: Terms) -> PSums {
        if let Weights::Inverse(t) = w {
            self.saw(t);
        }
        self.inner.psums(w, terms)
    }
    fn near(&self, tau2: f64, centre: &mut f64) -> PSums {
        self.saw(tau2);
        self.inner.near(tau2, centre)
    }
    fn q_slope(&self, tau2: f64, centre: &mut f64) -> (f64, f64, f64) {
        self.saw(tau2);
        self.inner.q_slope(tau2, centre)
    }
    fn spread(&self) -> f64 {
        self.inner.spread()
    }
    fn ln_det_v(&self, tau2: f64) -> f64 {
        self.saw(tau2);
        self.inner.ln_det_v(tau2)
    }
    fn ln_det_v_pair(&self, tau2: f64) -> (f64, f64) {
        self.saw(tau2);
        self.saw(0.0);
        self.inner.ln_det_v_pair(tau2)
    }
    fn near_logdet(&self, tau2: f64, centre: &mut f64) -> AtTau2 {
        self.saw(tau2);
        self.inner.near_logdet(tau2, centre)
    }
}

/// The model on a subset: pooled estimate, its inference and heterogeneity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SubFit {
    pub n: usize,
    pub tau2: f64,
    pub converged: bool,
    pub estimate: f64,
    pub se: f64,
    /// `se^2` (metafor's `vb`, including the Knapp-Hartung factor).
    pub vb: f64,
    pub s2w: f64,
    pub statistic: f64,
    pub p_value: f64,
    pub ci: (f64, f64),
    pub q: f64,
    pub q_p_value: f64,
    pub i2: f64,
    pub h2: f64,
}

/// The pooled estimate on the subset and its heterogeneity, without tests: what GOSH
/// reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pooled {
    pub n: usize,
    pub tau2: f64,
    pub estimate: f64,
    /// The variance of the estimate before any Knapp-Hartung factor.
    pub var: f64,
    /// `Q` at `tau2` (metafor's `RSS` of the Knapp-Hartung factor).
    pub rss_w: f64,
    pub q: f64,
    pub i2: f64,
    pub h2: f64,
}

/// The pooled estimate for a given tau^2 (as `model::inference::infer`) and the
/// heterogeneity statistics on the subset.
pub(crate) fn pool<S: Source>(src: &S, p: &CheckedMetaAnalysis, t: &Tau2Estimate) -> Pooled {
    let ee = p.method().is_equal_effects();
    let tau2 = if ee { 0.0 } else { t.tau2 };
    let b = src.basic(tau2);
    let (estimate, var) = if p.weights.is_some() {
        let a = src.plain();
        (a.c + a.sad / a.sa, (a.sa2v + tau2 * a.sa2) / (a.sa * a.sa))
    } else {
        (b.mean, 1.0 / b.sw)
    };
    let (q, i2, h2) = heterogeneity(src, ee, tau2);
    Pooled {
        n: src.n(),
        tau2,
        estimate,
        var,
        rss_w: b.q,
        q,
        i2,
        h2,
    }
}

/// Estimate and inference on the subset for a given tau^2 (as `model::inference::infer`).
pub(crate) fn infer<S: Source>(src: &S, p: &CheckedMetaAnalysis, t: Tau2Estimate) -> SubFit {
    let pooled = pool(src, p, &t);
    let Pooled {
        n, tau2, estimate, ..
    } = pooled;
    let test = if n == 1 { TestKind::Z } else { p.test };
    let rss_w = pooled.rss_w;
    let mut var = pooled.var;
    let df = n as f64 - 1.0;
    let mut s2w = 1.0;
    if matches!(test, TestKind::Knha | TestKind::Adhoc) {
        s2w = if rss_w <= f64::EPSILON {
            0.0
        } else {
            rss_w / df
        };
        if test == TestKind::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
    }
    var *= s2w;
    let se = var.sqrt();
    let statistic = estimate / se;
    let (crit, p_value) = crit_and_p(test, statistic, df, p.alpha);
    SubFit {
        n,
        tau2,
        converged: t.converged,
        estimate,
        se,
        vb: var,
        s2w,
        statistic,
        p_value,
        ci: (estimate - crit * se, estimate + crit * se),
        q: pooled.q,
        q_p_value: if n <= 1 { 1.0 } else { chisq_sf(pooled.q, df) },
        i2: pooled.i2,
        h2: pooled.h2,
    }
}

/// Cochran's Q, I^2 and H^2 (metafor's definitions) on the subset.
pub(crate) fn heterogeneity<S: Source>(src: &S, ee: bool, tau2: f64) -> (f64, f64, f64) {
    let n = src.n();
    if n <= 1 {
        return (0.0, 0.0, 1.0);
    }
    let df = n as f64 - 1.0;
    let s0 = src.basic(0.0);
    let q = s0.q.max(0.0);
    if ee {
        (q, (100.0 * (q - df) / q).max(0.0), q / df)
    } else {
        let vt = df / s0.trp();
        (q, 100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn data(k: usize) -> (Vec<f64>, Vec<f64>) {
        let mut y = Vec::new();
        let mut v = Vec::new();
        for i in 0..k {
            let f = i as f64;
            y.push(((f * 1.7).sin() * 0.8 + 0.2 * (f * 0.3).cos()) * 0.9);
            v.push(0.02 + 0.3 * ((f * 2.3).cos() + 1.0) / 2.0);
        }
        (y, v)
    }

    /// The series sums equal direct sums, for every study left out, at several tau^2.
    #[test]
    fn series_matches_direct() {
        let (y, v) = data(200);
        let c = 0.1;
        let sd = SeriesData::new(&y, &v, None, c, &[0.0, 0.3]);
        for skip in [None, Some(0), Some(17), Some(199)] {
            let ser = sd.without(skip);
            let dir = sd.direct(skip);
            for t in [0.0, 0.001, 0.29, 0.3, 0.31, 0.45] {
                let a = ser.at(t);
                let b = dir.at(t);
                // the direct sums are centred at the subset's own mean: compare invariants
                for (x, z) in [
                    (a.sw, b.sw),
                    (a.s2, b.s2),
                    (a.s3, b.s3),
                    (a.q(), b.q()),
                    (a.ypp(), b.ypp()),
                    (a.trpp(), b.trpp()),
                ] {
                    assert!((x - z).abs() <= 1e-13 * z.abs(), "{x} vs {z} at {t}");
                }
                let (m1, m2) = (a.c + a.shift(), b.c + b.shift());
                assert!((m1 - m2).abs() <= 1e-14, "{m1} vs {m2}");
                let (l1, l2) = (ser.log_det(t), dir.log_det(t));
                assert!((l1 - l2).abs() <= 1e-12 * l2.abs().max(1.0));
            }
        }
    }

    /// The bit-mask sums (one pass, running mean) equal the two-pass sums of the gathered
    /// subset, with and without the cache at tau^2 = 0.
    #[test]
    fn bits_match_direct() {
        let (y, v) = data(150);
        let wv: Vec<f64> = v.iter().map(|v| 1.0 / v).collect();
        let c = y.iter().sum::<f64>() / y.len() as f64;
        for mask in [
            [1u64, 0, 0],
            [0b1011, 1 << 40, 0x3],
            [u64::MAX, u64::MAX, 0x3f_ffff],
        ] {
            let bits = Bits::new((&y, &v, &wv), None, c, &mask);
            let idx: Vec<usize> = (0..150)
                .filter(|j| mask[j / 64] >> (j % 64) & 1 == 1)
                .collect();
            let ys: Vec<f64> = idx.iter().map(|&j| y[j]).collect();
            let vs: Vec<f64> = idx.iter().map(|&j| v[j]).collect();
            let dir = Direct::new(&ys, &vs, None);
            assert_eq!(bits.n(), dir.n());
            for t in [0.0, 0.3, 0.0, 0.01] {
                let (a, b) = (bits.at(t), dir.at(t));
                let (ba, bb) = (bits.basic(t), dir.basic(t));
                let close = |x: f64, z: f64| (x - z).abs() <= 1e-12 * z.abs().max(1e-300);
                for (x, z) in [
                    (a.sw, b.sw),
                    (a.s2, b.s2),
                    (a.s3, b.s3),
                    (ba.sw, bb.sw),
                    (ba.s2, bb.s2),
                ] {
                    assert!(close(x, z), "{x} vs {z} at {t}");
                }
                for (x, z) in [(a.q(), b.q()), (a.ypp(), b.ypp()), (ba.q, bb.q)] {
                    assert!((x - z).abs() <= 1e-12 * z.abs() + 1e-14, "{x} vs {z}");
                }
                let m = b.c + b.shift();
                assert!((a.c + a.shift() - m).abs() <= 1e-14 && (ba.mean - m).abs() <= 1e-14);
                assert!((bits.log_det(t) - dir.log_det(t)).abs() <= 1e-12 * dir.log_det(t).abs());
            }
        }
    }

    #[test]
    fn term_counts() {
        assert_eq!(Moments::terms(0.0), Some(1));
        assert!(Moments::terms(0.95).is_none());
        let n = Moments::terms(1e-3).unwrap();
        assert!((5..=8).contains(&n), "{n}");
    }
}
