//! The tau^2 estimators, one file each, with metafor's (`rma.uni`) definitions, truncation
//! at zero and standard errors: [`dl`], [`he`], [`hs`] (HS, HSk), [`sj`], [`genq`],
//! [`scoring`] (ML, REML, EB) and [`pm`] (PM, PMM). [`estimate`] is the one dispatch on
//! [`Method`]; the full fit ([`super::MetaAnalysis`], [`super::MetaRegression`]), the
//! sensitivity engine (leave-one-out, influence, cumulative, GOSH) and trim-and-fill all
//! call it.
//!
//! Notation: `w_i` weights, `X` the k x p design (`X = 1`, `p = 1` for the intercept-only
//! model), `P = W - W X (X'WX)^-1 X'W`, `Q = y'Py`, `V = diag(v)`. Every estimator is written
//! against [`Sums`], the few summaries of `P` it needs for given weights. Two families of
//! types supply them:
//!
//! * [`Data`], a model seen through its [`Projector`] (see [`super::projection`]): O(k) per
//!   query for the intercept-only model, O(k p^2) for a general design;
//! * the sensitivity engine's subsets (all studies but one, a prefix, any subset), whose
//!   "all but one" sums are O(1) updates of full-data moment series.
//!
//! With moderators, metafor's definitions are used throughout: `k - p` degrees of freedom,
//! and `y` centred at its mean (metafor's `Ymc`) in every quadratic form.
//!
//! # Adding an estimator
//! A new file here with an `estimate` function written against [`Sums`], its variant in
//! [`Method`], and its arm in [`estimate`] (the compiler lists every other place that must
//! decide about it: there is no `_` arm on [`Method`] in the crate).
//!
//! # References
//! * DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
//!   Clinical Trials*, 7, 177-188.
//! * Hedges, L. V. (1983). A random effects model for effect sizes. *Psychological
//!   Bulletin*, 93, 388-395.
//! * Hunter, J. E., & Schmidt, F. L. (2004). *Methods of meta-analysis* (2nd ed.). Sage.
//! * Sidik, K., & Jonkman, J. N. (2005). Simple heterogeneity variance estimation for
//!   meta-analysis. *JRSS C*, 54, 367-384.
//! * Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *J Res Natl
//!   Bur Stand*, 87, 377-385.
//! * Morris, C. N. (1983). Parametric empirical Bayes inference. *JASA*, 78, 47-55.
//! * DerSimonian, R., & Kacker, R. (2007). Random-effects model for meta-analysis of
//!   clinical trials: An update. *Contemporary Clinical Trials*, 28, 105-114.
//! * Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in
//!   the random-effects model. *JEBS*, 30, 261-293.
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *J Stat Softw*, 36(3), 1-48.

mod dl;
mod genq;
mod he;
mod hs;
mod pm;
mod scoring;
mod sj;

use super::method::Method;
use super::projection::{PSums, Projector};
use crate::numeric::logsum::{sum_ln, sum_ln_pair};

pub(crate) use pm::q_newton;

/// Why an estimator stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum StopReason {
    /// A closed-form estimator (EE, DL, HE, HS, HSk, SJ, GENQ): nothing to iterate.
    ClosedForm,
    /// tau^2 was fixed by the user.
    Fixed,
    /// The relative change in tau^2 fell below the tolerance.
    Tolerance,
    /// The estimate lies on the boundary tau^2 = 0 (the estimating equation has no
    /// positive root, or the likelihood is maximal at 0).
    Boundary,
    /// A root of the estimating equation was found to the tolerance.
    RootFound,
    /// The iteration limit was reached before the tolerance.
    MaxIterations,
    /// The computation produced a non-finite value.
    NonFinite,
}

impl std::fmt::Display for StopReason {
    /// A sentence fragment for messages: "the iteration limit was reached", ...
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::ClosedForm => "closed-form estimator, nothing to iterate",
            StopReason::Fixed => "tau^2 was fixed by the user",
            StopReason::Tolerance => "the change in tau^2 fell below the tolerance",
            StopReason::Boundary => "the estimate lies on the boundary tau^2 = 0",
            StopReason::RootFound => "a root of the estimating equation was found",
            StopReason::MaxIterations => "the iteration limit was reached",
            StopReason::NonFinite => "the computation produced a non-finite value",
        })
    }
}

/// One tau^2 estimate with its bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tau2Estimate {
    pub tau2: f64,
    pub se: Option<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub reason: StopReason,
    /// The log sums the likelihood check computed, for the fit statistics to reuse.
    pub log_sums: Option<LogSums>,
    /// Sums the estimator computed at the estimate or at `tau2 = 0` (Cochran's Q), for the
    /// rest of the fit (inference, Q-test, Q-profile) to reuse instead of passing over the
    /// data again.
    pub known: [Option<AtTau2>; 2],
}

impl Tau2Estimate {
    /// A value that needed no computation (`tau2 = 0` of the equal-effects model, a fixed
    /// value of a model with one study).
    fn given(tau2: f64, reason: StopReason) -> Self {
        Tau2Estimate {
            tau2,
            se: None,
            iterations: 0,
            converged: true,
            reason,
            log_sums: None,
            known: [None, None],
        }
    }

    /// Records the sums with `w = 1/v` an estimator computed (without the weighted mean and
    /// `ln det(X'WX)`).
    fn with_sums_at_zero(mut self, sums: PSums) -> Self {
        self.known[1] = Some(AtTau2 {
            tau2: 0.0,
            sums,
            mean: f64::NAN,
            logdet: f64::NAN,
        });
        self
    }

    /// The sums it computed at `tau2`, if any.
    pub(crate) fn sums_at(&self, tau2: f64) -> Option<&AtTau2> {
        self.known.iter().flatten().find(|a| a.tau2 == tau2)
    }
}

/// Sums with the weights `w = 1/(v + tau2)` at one tau^2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AtTau2 {
    pub tau2: f64,
    /// The summaries of `P` (no `V` terms; those a source cannot supply are NaN).
    pub sums: PSums,
    /// The weighted mean (NaN when the source does not supply it).
    pub mean: f64,
    /// `ln det(X'WX)` (`ln sum(w)` without moderators; NaN when not computed).
    pub logdet: f64,
}

/// `sum ln(v + tau2)` at one `tau2` and `sum ln(v)`: the O(k) logarithms of a
/// log-likelihood, computed once per fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogSums {
    tau2: f64,
    ln_v_tau2: f64,
    ln_v: f64,
}

impl LogSums {
    /// `(sum ln(v + tau2), sum ln(v))` if these sums are for `tau2`.
    pub(crate) fn at(&self, tau2: f64) -> Option<(f64, f64)> {
        if tau2 == self.tau2 {
            Some((self.ln_v_tau2, self.ln_v))
        } else if tau2 == 0.0 {
            Some((self.ln_v, self.ln_v))
        } else {
            None
        }
    }
}

/// What the estimators take from the settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Control {
    /// A tau^2 fixed by the user: no estimation (the SE is that of the estimator there).
    pub fixed: Option<f64>,
    /// Iteration limit of Fisher scoring and of the root finders.
    pub max_iter: usize,
    /// Relative convergence tolerance.
    pub tol: f64,
    /// Step-length factor of Fisher scoring.
    pub step_adj: f64,
    /// Start of ML/REML/EB (else the truncated Hedges estimate), or SJ's `tau2_0`.
    pub tau2_init: Option<f64>,
    /// Where the root finders of PM/PMM start (their root is unique, so the start changes
    /// the work, not the result), e.g. the full-data tau^2 for a leave-one-out refit.
    pub warm: Option<f64>,
    /// Whether Fisher scoring (ML, REML, EB) may also start from `warm` instead of the
    /// truncated Hedges estimate. A likelihood with several maxima can make the start
    /// matter, so only callers whose repeated fits move little set it (trim-and-fill's
    /// trimming fits); leave-one-out keeps metafor's start.
    pub scoring_warm: bool,
    /// Whether to compute the standard error (refits that only need tau^2 skip it).
    pub se: bool,
}

/// The weights of one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Weights {
    /// `w = 1/(v + tau2)`.
    Inverse(f64),
    /// `w = 1` (ordinary least squares).
    Unit,
    /// The user's weights `a` (GENQ).
    User,
}

/// Which summaries of `P` a query needs (later ones include the earlier ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terms {
    /// `sum(w)`, `sum(w^2)`, `Q` and `tr(P)`: the moment estimators' (the others may be NaN).
    Q,
    /// Also `y'PPy` and `tr(PP)`: Fisher scoring and the standard errors.
    Full,
    /// Also the `V` terms (`trpv`, `pvp`, `trpvpv`).
    V,
}

/// The summaries of `P` every estimator is written against. Sums over one data set, for
/// the weights of each query; the "near" queries may reuse the weighted mean of an earlier
/// call (`centre`, NaN when there is none) to need one pass over the data instead of two.
pub(crate) trait Sums {
    /// Number of studies.
    fn k(&self) -> usize;
    /// Number of fixed-effect coefficients.
    fn p(&self) -> usize;
    /// Residual degrees of freedom `k - p`.
    fn df(&self) -> f64 {
        self.k() as f64 - self.p() as f64
    }
    /// The summaries `terms` of `P` for weights `w` (a source may supply more). Unit and user
    /// weights always carry `trpv`; a source that cannot supply the terms used only by
    /// standard errors (`pvp`, `trpvpv`, or all V terms of inverse weights) sets them to NaN.
    fn psums(&self, w: Weights, terms: Terms) -> PSums;
    /// [`Sums::psums`] for `w = 1/(v + tau2)` without the V terms; updates `centre` to this
    /// call's weighted mean.
    fn near(&self, tau2: f64, centre: &mut f64) -> PSums;
    /// `(sum(w), Q, y'PPy)` for `w = 1/(v + tau2)`: `Q(tau2)` and minus its derivative;
    /// updates `centre` as [`Sums::near`].
    fn q_slope(&self, tau2: f64, centre: &mut f64) -> (f64, f64, f64);
    /// `sum (y - mean(y))^2 / k`: the spread of the estimates themselves (SJ's start).
    fn spread(&self) -> f64;
    /// `sum ln(v + tau2)`.
    fn ln_det_v(&self, tau2: f64) -> f64;
    /// `(sum ln(v + tau2), sum ln(v))`.
    fn ln_det_v_pair(&self, tau2: f64) -> (f64, f64) {
        (self.ln_det_v(tau2), self.ln_det_v(0.0))
    }
    /// [`Sums::near`] with the weighted mean and `ln det(X'WX)` for `w = 1/(v + tau2)`;
    /// updates `centre` as [`Sums::near`].
    fn near_logdet(&self, tau2: f64, centre: &mut f64) -> AtTau2;
    /// Fisher scoring's start: the raw Hedges estimate, and a centre for the first
    /// weighted sums (the plain mean of `y`; NaN when the source has none).
    fn hedges_start(&self) -> (f64, f64)
    where
        Self: Sized,
    {
        (he::raw(self).0, f64::NAN)
    }
}

/// A model seen through its [`Projector`], with the user weights (GENQ) if any: the sums
/// of a full fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Data<'a, M: Projector> {
    pub model: &'a M,
    pub weights: Option<&'a [f64]>,
}

impl<M: Projector> Sums for Data<'_, M> {
    fn k(&self) -> usize {
        self.model.k()
    }
    fn p(&self) -> usize {
        self.model.p()
    }
    fn df(&self) -> f64 {
        self.model.df()
    }
    fn psums(&self, w: Weights, terms: Terms) -> PSums {
        let v = self.model.v();
        match w {
            Weights::Inverse(t) => self.model.psums(terms == Terms::V, |i| 1.0 / (v[i] + t)),
            Weights::Unit => self.model.psums(true, |_| 1.0),
            Weights::User => match self.weights {
                Some(a) => self.model.psums(true, |i| a[i]),
                None => PSums::nan(),
            },
        }
    }
    fn near(&self, tau2: f64, centre: &mut f64) -> PSums {
        let v = self.model.v();
        let (s, mean) = self.model.psums_near(|i| 1.0 / (v[i] + tau2), *centre);
        *centre = mean;
        s
    }
    fn q_slope(&self, tau2: f64, centre: &mut f64) -> (f64, f64, f64) {
        let v = self.model.v();
        let (s, mean) = self.model.q_slope_near(|i| 1.0 / (v[i] + tau2), *centre);
        *centre = mean;
        s
    }
    fn spread(&self) -> f64 {
        let y = self.model.y();
        let k = y.len() as f64;
        let mean = y.iter().sum::<f64>() / k;
        y.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / k
    }
    fn ln_det_v(&self, tau2: f64) -> f64 {
        sum_ln(self.model.v().iter().map(|v| v + tau2))
    }
    fn ln_det_v_pair(&self, tau2: f64) -> (f64, f64) {
        sum_ln_pair(self.model.v(), tau2)
    }
    fn hedges_start(&self) -> (f64, f64) {
        let (q, trpv, mean) = self.model.unit_q_trpv();
        ((q - trpv) / self.df(), mean)
    }
    fn near_logdet(&self, tau2: f64, centre: &mut f64) -> AtTau2 {
        let v = self.model.v();
        let (sums, mean, logdet) = self
            .model
            .psums_near_logdet(|i| 1.0 / (v[i] + tau2), *centre);
        *centre = mean;
        AtTau2 {
            tau2,
            sums,
            mean,
            logdet,
        }
    }
}

/// tau^2 of `method` on `data`: the one dispatch on [`Method`].
///
/// The equal-effects models (EE, FE, CE) have `tau2 = 0`; with one study every other
/// method gives the fixed value or 0 (metafor's "k1" case, no estimation).
pub(crate) fn estimate<S: Sums>(method: Method, data: &S, ctrl: &Control) -> Tau2Estimate {
    if data.k() <= 1 && !method.is_equal_effects() {
        return match ctrl.fixed {
            Some(t) => Tau2Estimate::given(t, StopReason::Fixed),
            None => Tau2Estimate::given(0.0, StopReason::Boundary),
        };
    }
    match method {
        Method::EE | Method::FE | Method::CE => Tau2Estimate::given(0.0, StopReason::ClosedForm),
        Method::DL => dl::estimate(data, ctrl),
        Method::HE => he::estimate(data, ctrl),
        Method::HS => hs::estimate(data, ctrl, false),
        Method::HSk => hs::estimate(data, ctrl, true),
        Method::SJ => sj::estimate(data, ctrl),
        Method::GENQ => genq::estimate(data, ctrl),
        Method::ML => scoring::estimate(data, ctrl, scoring::Scoring::Ml),
        Method::REML => scoring::estimate(data, ctrl, scoring::Scoring::Reml),
        Method::EB => scoring::estimate(data, ctrl, scoring::Scoring::Eb),
        Method::PM => pm::estimate(data, ctrl, false),
        Method::PMM => pm::estimate(data, ctrl, true),
    }
}

/// Which interval [`super::MetaAnalysis::fit`] reports for tau^2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interval {
    /// None: tau^2 is 0 by definition.
    None,
    /// The Q-profile interval (Viechtbauer 2007).
    QProfile,
    /// The generalized Q interval of the user weights (Jackson 2013).
    GeneralizedQ,
}

/// The interval for tau^2 of each method.
pub(crate) fn interval(method: Method) -> Interval {
    match method {
        Method::EE | Method::FE | Method::CE => Interval::None,
        Method::DL
        | Method::HE
        | Method::HS
        | Method::HSk
        | Method::SJ
        | Method::ML
        | Method::REML
        | Method::EB
        | Method::PM
        | Method::PMM => Interval::QProfile,
        Method::GENQ => Interval::GeneralizedQ,
    }
}

/// A closed-form estimate: the fixed value, or the raw value truncated at 0.
fn closed(tau2_raw: f64, fixed: Option<f64>) -> (f64, StopReason) {
    match fixed {
        Some(t) => (t, StopReason::Fixed),
        None => (tau2_raw.max(0.0), StopReason::ClosedForm),
    }
}

/// A closed-form estimate with its SE (`NaN`: none).
fn done(tau2: f64, se: f64, reason: StopReason) -> Tau2Estimate {
    Tau2Estimate {
        tau2,
        se: se.is_finite().then_some(se),
        iterations: 0,
        converged: tau2.is_finite(),
        reason: if tau2.is_finite() {
            reason
        } else {
            StopReason::NonFinite
        },
        log_sums: None,
        known: [None, None],
    }
}

/// Moment-estimator SE `sqrt((2 a + 4 t b + 2 t^2 c) / d^2)` shared by DL, HS, HE, GENQ, SJ.
fn moment_se(a: f64, b: f64, c: f64, d2: f64, tau2: f64) -> f64 {
    let t = tau2.max(0.0);
    ((2.0 * a + 4.0 * t * b + 2.0 * t * t * c) / d2).sqrt()
}
