//! Leave-one-out analysis (metafor's `leave1out`), and the refits that influence
//! diagnostics and Baujat plots share with it.
//!
//! # Engine
//! Each study's left-out fit runs the same estimator as the full fit on the other `k - 1`
//! studies. The sums each estimator needs are obtained in O(1) from the full-data sums minus
//! the study's own terms (EE, DL, HE, HS, HSk, GENQ) or, at another tau^2, from a short
//! series expansion around the full-data tau^2 (RE estimates, SJ, and the iterative ML,
//! REML, EB, PM, PMM, which are warm-started at the full-data tau^2). The expansion is exact
//! to rounding (it is summed until its terms fall below 1e-17); when it would converge
//! slowly (small k, very different left-out tau^2) or the study dominates the weights, the
//! refit makes a direct O(k) pass instead. So the cost is O(k) in all for large k and at
//! worst O(k^2).

use std::fmt;

use super::engine::{self, SeriesData, SubFit};
use super::{Prepared, prepare, stat_name};
use crate::data::Studies;
use crate::error::Result;
use crate::format::{fcf, write_table};
use crate::model::{Method, Settings, TestKind};

/// One refit: the model without one study (leave-one-out) or on the first studies
/// (cumulative).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RefitRow {
    /// The study left out (leave-one-out) or added last (cumulative).
    pub study: String,
    /// Number of studies in the refit.
    pub k: usize,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Cochran's Q.
    pub q: f64,
    /// p-value of Q.
    pub q_p_value: f64,
    /// tau^2 (0 for equal-effects models).
    pub tau2: f64,
    /// I^2 (percent).
    pub i2: f64,
    /// H^2.
    pub h2: f64,
    /// Whether the estimator converged on this subset.
    pub converged: bool,
}

impl RefitRow {
    pub(crate) fn from_subfit(study: &str, s: &SubFit) -> Self {
        RefitRow {
            study: study.to_string(),
            k: s.n,
            estimate: s.estimate,
            se: s.se,
            statistic: s.statistic,
            p_value: s.p_value,
            ci_lower: s.ci.0,
            ci_upper: s.ci.1,
            q: s.q,
            q_p_value: s.q_p_value,
            tau2: s.tau2,
            i2: s.i2,
            h2: s.h2,
            converged: s.converged,
        }
    }
}

/// A table of refits: [`leave_one_out`] or [`super::cumulative`].
///
/// `Display` prints metafor's `print.list.rma` layout (the tau^2 column is omitted for
/// equal-effects models, as metafor does).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Refits {
    pub(crate) rows: Vec<RefitRow>,
    pub(crate) method: Method,
    pub(crate) test: TestKind,
    pub(crate) level: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) digits: usize,
}

impl Refits {
    /// One row per refit.
    pub fn rows(&self) -> &[RefitRow] {
        &self.rows
    }
    /// The estimator used in every refit.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The test of the pooled estimate.
    pub fn test(&self) -> TestKind {
        self.test
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The same table printed with `digits` decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

impl fmt::Display for Refits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits;
        let ee = self.method.is_equal_effects();
        let mut headers = vec![
            "estimate",
            "se",
            stat_name(self.test),
            "pval",
            "ci.lb",
            "ci.ub",
            "Q",
            "Qp",
        ];
        let col = |g: &dyn Fn(&RefitRow) -> f64| -> Vec<String> {
            self.rows.iter().map(|r| fcf(g(r), d)).collect()
        };
        let mut cols = vec![
            col(&|r| r.estimate),
            col(&|r| r.se),
            col(&|r| r.statistic),
            col(&|r| r.p_value),
            col(&|r| r.ci_lower),
            col(&|r| r.ci_upper),
            col(&|r| r.q),
            col(&|r| r.q_p_value),
        ];
        if !ee {
            headers.push("tau2");
            cols.push(col(&|r| r.tau2));
        }
        headers.extend(["I2", "H2"]);
        cols.push(col(&|r| r.i2));
        cols.push(col(&|r| r.h2));
        let names: Vec<String> = self.rows.iter().map(|r| r.study.clone()).collect();
        writeln!(f)?;
        write_table(f, &names, &headers, &cols)?;
        writeln!(f)
    }
}

/// The left-out fits of every study, in input order (shared with influence and Baujat).
pub(crate) fn deletion_fits(prep: &Prepared, studies: &Studies) -> Vec<SubFit> {
    let weights = prep.spec.weights();
    let y = studies.yi();
    let v = studies.vi();
    let k = studies.k();
    let p = &prep.spec;
    let full_tau2 = prep.fit.tau2();
    let mut centres = vec![0.0];
    if full_tau2 > 0.0 {
        centres.push(full_tau2);
    }
    // where the estimator queries the full data, from the full-data tau^2 for the root
    // finders: the left-out fits query nearly the same values
    let warm = (full_tau2 > 0.0).then_some(full_tau2);
    let full = engine::Direct {
        y,
        v,
        a: weights,
        c: prep.fit.estimate(),
        skip: None,
    };
    centres.extend(engine::visited(&full, p, warm));
    let centres = spread(&centres, v);
    let data = SeriesData::new(y, v, weights, prep.fit.estimate(), &centres);
    let one = |i: usize| {
        let src = data.without(Some(i));
        let t = engine::tau2(&src, p, warm);
        engine::infer(&src, p, t)
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..k).into_par_iter().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..k).map(one).collect()
    }
}

/// Keeps the candidate centres that are at least 5% of `min(v) + centre` apart (at most
/// 24): a left-out tau^2 near a centre then needs about a dozen series terms.
fn spread(cands: &[f64], v: &[f64]) -> Vec<f64> {
    let vmin = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let mut out: Vec<f64> = Vec::new();
    for &c in cands {
        if !(c.is_finite() && c >= 0.0) || out.len() >= 24 {
            continue;
        }
        if out
            .iter()
            .all(|&e| (c - e).abs() > 0.05 * (vmin + e.min(c)))
        {
            out.push(c);
        }
    }
    out
}

/// Leave-one-out analysis: the model refitted without each study in turn (metafor's
/// `leave1out`), with the same estimator, test, level, fixed tau^2 and weights.
///
/// # Formula
/// Row `i` is the fit of the specification on the studies `j != i`: its estimate, SE,
/// test statistic, p-value and CI, Cochran's Q with its p-value, tau^2, I^2 and H^2 (see
/// [`MetaAnalysis::fit`](crate::MetaAnalysis::fit)). A refit that does not converge is reported with
/// `converged = false` (metafor leaves the row `NA`).
///
/// # Errors
/// Those of [`MetaAnalysis::fit`](crate::MetaAnalysis::fit) on the full data, and [`crate::MetaError::TooFewStudies`]
/// for k < 2.
///
/// # Examples
/// ```
/// use metan::{MetaAnalysis, Method, Studies};
/// let s = Studies::from_variances(vec![0.1, 0.5, 0.3, 0.9], vec![0.01, 0.02, 0.015, 0.03])?;
/// let l1o = metan::sensitivity::leave_one_out(&MetaAnalysis::new().method(Method::EE), &s)?;
/// // without study 4 (the largest estimate) the pooled estimate drops
/// let full = MetaAnalysis::new().method(Method::EE).fit(&s)?;
/// assert!(l1o.rows()[3].estimate < full.estimate());
/// assert_eq!(l1o.rows()[3].k, 3);
/// # Ok::<(), metan::MetaError>(())
/// ```
///
/// # References
/// Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
/// meta-analysis. *Research Synthesis Methods*, 1, 112-125.
pub fn leave_one_out(spec: &(impl Settings + ?Sized), studies: &Studies) -> Result<Refits> {
    let prep = prepare(spec, studies, 2, "leave-one-out")?;
    let fits = deletion_fits(&prep, studies);
    let rows = fits
        .iter()
        .enumerate()
        .map(|(i, s)| RefitRow::from_subfit(studies.label(i), s))
        .collect();
    Ok(Refits {
        rows,
        method: prep.fit.method(),
        test: prep.spec.test(),
        level: prep.fit.level(),
        digits: prep.spec.digits(),
    })
}
