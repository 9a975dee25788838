//! [`SelectionModel`] (the specification) -> [`SelectionModel::fit`] -> [`SelectionFit`].

use nalgebra::{DMatrix, DVector};

use super::kind::{Alternative, SelectionType};
use super::likelihood::Likelihood;
use super::weight::WeightFn;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{Coefficient, InfoCriteria, MetaRegression, Method, wald};
use crate::model::{TestKind, crit_and_p};
use crate::numeric::dist::{chisq_sf, norm_p2};
use crate::numeric::optim::{self, Minimum, Options, Stop};

/// Lower and upper bounds of the deltas (metafor's `delta.min`, `delta.max`).
pub(crate) fn delta_bounds(kind: SelectionType) -> (f64, f64) {
    match kind {
        SelectionType::Beta => (1e-5, 100.0),
        SelectionType::StepFunction
        | SelectionType::HalfNormal
        | SelectionType::NegativeExponential
        | SelectionType::Logistic
        | SelectionType::Power => (0.0, 100.0),
    }
}

/// metafor's `pval.min`: p-values are clamped into `[pval.min, 1 - pval.min]` for the
/// beta and power types, whose selection functions are unbounded or flat at the ends.
fn pval_min(kind: SelectionType) -> f64 {
    match kind {
        SelectionType::Beta | SelectionType::Power => 1e-5,
        SelectionType::StepFunction
        | SelectionType::HalfNormal
        | SelectionType::NegativeExponential
        | SelectionType::Logistic => 0.0,
    }
}

/// Specification of a selection model (metafor's `selmodel`) on a
/// random-effects model or meta-regression fitted by maximum likelihood.
///
/// The unadjusted model is a [`MetaRegression`] (no moderators: the random-effects
/// model) with method ML or REML; as in metafor, a REML model is refitted by ML first, so
/// the two give the same selection model. Its level sets the confidence intervals; tests
/// are z tests whatever its test.
///
/// Setters are infallible and chain; everything is validated in [`SelectionModel::fit`].
///
/// # Examples
///
/// ```
/// use metan::bias::{Alternative, SelectionModel, SelectionType};
/// use metan::Studies;
/// // SIMULATED: small studies with large effects more often significant
/// let s = Studies::from_variances(
///     vec![0.62, 0.15, 0.48, 0.05, 0.71, 0.33, 0.12, 0.56, 0.09, 0.40],
///     vec![0.09, 0.01, 0.05, 0.008, 0.12, 0.04, 0.01, 0.07, 0.012, 0.03],
/// )?;
/// let three = SelectionModel::new(SelectionType::StepFunction)
///     .steps([0.025])
///     .fit(&s)?;                                 // the 3PSM
/// assert!(three.converged());
/// assert_eq!(three.delta().len(), 2);            // delta_1 = 1 fixed, delta_2 estimated
/// let hn = SelectionModel::new(SelectionType::HalfNormal)
///     .alternative(Alternative::Greater)
///     .fit(&s)?;
/// assert!(hn.lrt() >= 0.0 && hn.lrt_df() == 1);
/// # Ok::<(), metan::MetaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionModel {
    kind: SelectionType,
    steps: Option<Vec<f64>>,
    alternative: Alternative,
    base: MetaRegression,
    max_iter: usize,
    fixed: Option<Vec<Option<f64>>>,
    tau2_init: Option<f64>,
}

impl SelectionModel {
    /// A selection model of this type on the ML random-effects model, with one-sided
    /// p-values in the direction of positive effects (metafor's defaults).
    pub fn new(kind: SelectionType) -> Self {
        SelectionModel {
            kind,
            steps: None,
            alternative: Alternative::Greater,
            base: MetaRegression::new().method(Method::ML),
            max_iter: 200,
            fixed: None,
            tau2_init: None,
        }
    }

    /// The steps of the selection function (metafor's `steps`): the upper ends of the
    /// p-value intervals of the step function, strictly increasing in `(0, 1]` (1 is
    /// appended when missing), or the single step `s` of a continuous type (below it,
    /// `w = 1`). The 3PSM is `steps([0.025])`.
    pub fn steps(mut self, steps: impl Into<Vec<f64>>) -> Self {
        self.steps = Some(steps.into());
        self
    }

    /// The direction of the p-values (default [`Alternative::Greater`]).
    pub fn alternative(mut self, alternative: Alternative) -> Self {
        self.alternative = alternative;
        self
    }

    /// The unadjusted model: its moderators, method (ML or REML), level and digits.
    pub fn base(mut self, base: MetaRegression) -> Self {
        self.base = base;
        self
    }

    /// The method of the unadjusted model: [`Method::ML`] (the default) or
    /// [`Method::REML`] (refitted by ML, as metafor does).
    pub fn method(mut self, method: Method) -> Self {
        self.base = self.base.method(method);
        self
    }

    /// Adds moderators to the unadjusted model ([`MetaRegression::moderators`]).
    pub fn moderators<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.base = self.base.moderators(names);
        self
    }

    /// Confidence level in percent (default 95).
    pub fn level(mut self, level: f64) -> Self {
        self.base = self.base.level(level);
        self
    }

    /// Decimals used by `Display` (default 4).
    pub fn digits(mut self, digits: usize) -> Self {
        self.base = self.base.digits(digits);
        self
    }

    /// Fixes deltas (metafor's `delta` argument): one entry per delta, `Some(value)` to fix
    /// it, `None` to estimate it (a single entry applies to every delta). The first delta
    /// of the step function is fixed at 1 unless given. With every delta fixed at its
    /// no-selection value the model is the unadjusted one.
    pub fn delta(mut self, values: impl Into<Vec<Option<f64>>>) -> Self {
        self.fixed = Some(values.into());
        self
    }

    /// Most Newton iterations of each optimisation (default 200).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// The starting value of tau^2 (metafor's `control = list(tau2.init = ...)`); by
    /// default the unadjusted fit's tau^2 + 0.001, as metafor. That default is not
    /// scale-equivariant (0.001 is on the scale of the effects): where the likelihood has
    /// several local maxima, effects rescaled by `c` may reach another one unless the start
    /// is rescaled by `c^2` too.
    pub fn tau2_init(mut self, tau2: f64) -> Self {
        self.tau2_init = Some(tau2);
        self
    }

    /// The selection type.
    pub fn kind(&self) -> SelectionType {
        self.kind
    }

    /// metafor's `steps` for this type (ending in 1), after validation.
    fn resolved_steps(&self, warnings: &mut Vec<String>) -> Result<Vec<f64>> {
        let given = match &self.steps {
            None => {
                return match self.kind {
                    SelectionType::StepFunction => Err(MetaError::invalid_option(
                        "steps",
                        "none",
                        "the step function needs at least one step, e.g. 0.025 (the 3PSM)",
                    )),
                    SelectionType::Beta => Ok(vec![1.0]),
                    _ => Ok(vec![0.0, 1.0]),
                };
            }
            Some(s) => s.clone(),
        };
        let shown = crate::format::list_num(&given);
        if given.is_empty() {
            return Err(MetaError::invalid_option("steps", shown, "no steps given"));
        }
        if let Some(bad) = given.iter().find(|s| !(**s > 0.0 && **s <= 1.0)) {
            return Err(MetaError::invalid_option(
                "steps",
                shown,
                format!("step {bad} is outside (0, 1]"),
            ));
        }
        if given.windows(2).any(|w| !(w[1] > w[0])) {
            return Err(MetaError::invalid_option(
                "steps",
                shown,
                "steps must be strictly increasing",
            ));
        }
        let mut steps = given;
        if steps.last() != Some(&1.0) {
            steps.push(1.0);
        }
        match self.kind {
            SelectionType::StepFunction => Ok(steps),
            SelectionType::Beta => {
                warnings.push(
                    "Argument 'steps' ignored (not applicable to this type of selection model)."
                        .into(),
                );
                Ok(vec![1.0])
            }
            _ if steps.len() != 2 => Err(MetaError::invalid_option(
                "steps",
                shown,
                format!(
                    "the {} selection function takes a single step below 1",
                    self.kind
                ),
            )),
            _ => Ok(steps),
        }
    }

    /// Fits the selection model.
    ///
    /// # Formula
    /// The log-likelihood of study `i` is `ln w(p_i) + ln phi(y_i; mu_i, v_i + tau^2) -
    /// ln A_i` with `A_i = int w(p(y)) phi(y; mu_i, v_i + tau^2) dy` (see the module
    /// documentation). It is maximised over `(beta, tau^2 >= 0, delta)` with each delta in
    /// metafor's `[delta.min, delta.max]` (`[0, 100]`; `[1e-5, 100]` for the beta type),
    /// from metafor's starting values (the unadjusted estimates, `tau^2 + 0.001`, deltas
    /// of 1), by a projected Newton method with the analytic Hessian; the beta type also
    /// starts from deltas `(1, 3)` and keeps the higher maximum (its likelihood often has
    /// two). Standard errors are
    /// the square roots of the diagonal of the inverse of minus the Hessian of the
    /// log-likelihood in `(beta, tau^2, delta)` (metafor's `numDeriv::hessian` on the same
    /// scale). `LRT = 2 (ll - ll_0)` against the unadjusted ML model on as many degrees of
    /// freedom as estimated deltas, and the heterogeneity test `2 (ll - ll(tau^2 = 0))` on
    /// one.
    ///
    /// # Errors
    /// * [`MetaError::InvalidOption`] for a method other than ML or REML, steps outside
    ///   `(0, 1]`, not increasing, missing for the step function or more than one for a
    ///   continuous type, and for a step interval without observed p-values whose delta
    ///   is estimated (naming the interval);
    /// * [`MetaError::TooFewStudies`] when `k` is below the number of parameters;
    /// * those of [`MetaRegression::fit`] for the unadjusted model;
    /// * [`MetaError::NotConverged`] when the optimiser fails at the start (a non-finite
    ///   likelihood).
    pub fn fit(&self, studies: &Studies) -> Result<SelectionFit> {
        let mut warnings = Vec::new();
        let settings = self.base.analysis().check()?;
        let given_method = match settings.methods() {
            [m @ (Method::ML | Method::REML)] => *m,
            other => {
                return Err(MetaError::invalid_option(
                    "method",
                    other.iter().map(|m| m.name()).collect::<Vec<_>>().join(","),
                    "a selection model is fitted on an ML or REML model",
                ));
            }
        };
        if settings.fixed_tau2().is_some() {
            return Err(MetaError::invalid_option(
                "tau2",
                "fixed",
                "selection models estimate tau^2; a fixed tau^2 is not supported",
            ));
        }
        let steps = self.resolved_steps(&mut warnings)?;
        // the unadjusted model, by ML (metafor refits a REML model with method = "ML")
        let base = self
            .base
            .clone()
            .method(Method::ML)
            .confint(false)
            .fit(studies)?;
        let k = studies.k();
        let p = base.p();
        let weight = WeightFn {
            kind: self.kind,
            steps,
            alternative: self.alternative,
            pval_min: pval_min(self.kind),
        };
        let n_delta = weight.n_delta();
        let lb_excl = self.kind == SelectionType::Beta;
        let spec: Vec<Option<f64>> = match &self.fixed {
            None => vec![None; n_delta],
            Some(v) if v.len() == 1 => vec![v[0]; n_delta],
            Some(v) if v.len() == n_delta => v.clone(),
            Some(v) => {
                return Err(MetaError::invalid_option(
                    "delta",
                    crate::format::list(
                        &v.iter()
                            .map(|d| d.map_or("NA".to_string(), |d| d.to_string()))
                            .collect::<Vec<_>>(),
                    ),
                    format!("the {} selection model has {n_delta} deltas", self.kind),
                ));
            }
        };
        for (j, d) in spec.iter().enumerate() {
            if let Some(d) = d {
                let ok = d.is_finite() && if lb_excl { *d > 0.0 } else { *d >= 0.0 };
                if !ok {
                    return Err(MetaError::invalid_option(
                        &format!("delta[{}]", j + 1),
                        d,
                        if lb_excl {
                            "must be > 0"
                        } else {
                            "must be >= 0"
                        },
                    ));
                }
            }
        }
        let free: Vec<usize> = (0..n_delta)
            .filter(|&j| spec[j].is_none() && !(self.kind == SelectionType::StepFunction && j == 0))
            .collect();
        let needed = p + 1 + free.len();
        if k < needed {
            return Err(MetaError::TooFewStudies {
                analysis: format!(
                    "a {} selection model with {} coefficient{} and {} delta{}",
                    self.kind,
                    p,
                    if p == 1 { "" } else { "s" },
                    free.len(),
                    if free.len() == 1 { "" } else { "s" }
                ),
                needed,
                found: k,
            });
        }
        let y = studies.yi();
        let v = studies.vi();
        let (xs, m) = scaled_design(base.design_matrix(), base.has_intercept() && p > 1);
        let delta0: Vec<f64> = spec.iter().map(|d| d.unwrap_or(1.0)).collect();
        let mut lik = Likelihood::new(y, v, xs, weight.clone(), delta0.clone());
        lik.free = free.clone();
        // the table of p-value intervals, and metafor's check that each has studies
        let ptable = if self.steps.is_some() && self.kind != SelectionType::Beta {
            let mut counts = vec![0usize; weight.steps.len()];
            for &pv in &lik.pvals {
                counts[weight.group(pv)] += 1;
            }
            let rows: Vec<PInterval> = counts
                .iter()
                .enumerate()
                .map(|(j, &c)| PInterval {
                    lower: if j == 0 { 0.0 } else { weight.steps[j - 1] },
                    upper: weight.steps[j],
                    k: c,
                })
                .collect();
            for (j, r) in rows.iter().enumerate() {
                let estimated = self.kind != SelectionType::StepFunction || free.contains(&j);
                if r.k == 0 && estimated {
                    return Err(MetaError::invalid_option(
                        "steps",
                        crate::format::list_num(self.steps.as_deref().unwrap_or(&[])),
                        format!(
                            "no observed p-value in the interval {} < p <= {}",
                            r.lower, r.upper
                        ),
                    ));
                }
            }
            Some(rows)
        } else {
            None
        };
        let (dlo, dhi) = delta_bounds(self.kind);
        let beta0_orig = DVector::from_vec(base.beta());
        let beta0 = match m.as_ref() {
            Some(m) => m.inverse_apply(&beta0_orig),
            None => beta0_orig.clone(),
        };
        let mut x0: Vec<f64> = beta0.iter().copied().collect();
        let tau2_start = match self.tau2_init {
            None => base.tau2() + 0.001,
            Some(t) if t.is_finite() && t > 0.0 => t,
            Some(t) => {
                return Err(MetaError::invalid_option(
                    "tau2_init",
                    t.to_string(),
                    "the starting value of tau^2 must be finite and > 0",
                ));
            }
        };
        x0.push(tau2_start);
        for &j in &free {
            x0.push(delta0[j]);
        }
        let npar = x0.len();
        let mut lo = vec![f64::NEG_INFINITY; npar];
        let mut hi = vec![f64::INFINITY; npar];
        lo[p] = 0.0;
        for n in 0..free.len() {
            lo[p + 1 + n] = dlo;
            hi[p + 1 + n] = dhi;
        }
        let opts = Options {
            max_iter: self.max_iter,
            ..Options::default()
        };
        // The beta model's likelihood often has two maxima, and which one the optimiser
        // reaches depends on the start (metafor's optim and this Newton iteration can end
        // at different ones). A second start with the shape of publication bias,
        // delta = (1, 3) (w(p) proportional to (1 - p)^2), runs beside the first (in
        // parallel with the `parallel` feature), and the higher maximum is kept.
        let second = (self.kind == SelectionType::Beta && free.len() == 2).then(|| {
            let mut x1 = x0.clone();
            x1[p + 1] = 1.0;
            x1[p + 2] = 3.0;
            (x1, lik.clone())
        });
        let first_run = |lik: &mut Likelihood| optim::minimize(lik, &x0, &lo, &hi, opts);
        let second_run = |s: Option<(Vec<f64>, Likelihood)>| {
            s.map(|(x1, mut l)| (optim::minimize(&mut l, &x1, &lo, &hi, opts), l))
        };
        // (only a second start goes to the thread pool: handing the one run over costs time)
        #[cfg(feature = "parallel")]
        let (mut fit, alt) = if second.is_some() {
            rayon::join(|| first_run(&mut lik), || second_run(second))
        } else {
            (first_run(&mut lik), None)
        };
        #[cfg(not(feature = "parallel"))]
        let (mut fit, alt) = (first_run(&mut lik), second_run(second));
        if let Some((alt, alt_lik)) = alt {
            if let (true, Some(a), Some(b)) = (alt.converged, alt.eval.as_ref(), fit.eval.as_ref())
            {
                // higher by more than the quadrature's noise
                if a.f < b.f - 1e-8 * (1.0 + b.f.abs()) {
                    fit = alt;
                    lik = alt_lik;
                }
            }
        }
        let Some(ev) = fit.eval.clone() else {
            return Err(MetaError::NotConverged {
                method: format!("{} selection model", self.kind),
                iterations: fit.iterations,
                reason: "the likelihood is not finite at the starting values".into(),
            });
        };
        let quad_worst = lik.quad_worst;
        let quad_failures = lik.quad_failures;
        let theta = fit.x.clone();
        let ll = -ev.f;
        let convergence = convergence_of(&fit, quad_worst, quad_failures, self.kind);
        if !fit.converged {
            warnings.push(format!(
                "the optimiser stopped after {} iterations without converging ({:?}); the last iterate is reported",
                fit.iterations, fit.stop
            ));
        }
        if quad_failures > 0 {
            warnings.push(format!(
                "{quad_failures} integrals did not reach the relative tolerance (largest error estimate {quad_worst:e})"
            ));
        }

        // covariance: inverse of minus the Hessian of ll, back on the scale of X
        let jac = |mat: &DMatrix<f64>| -> DMatrix<f64> {
            match m.as_ref() {
                Some(m) => {
                    let mut j = DMatrix::identity(npar, npar);
                    j.view_mut((0, 0), (p, p)).copy_from(&m.matrix);
                    &j * mat * j.transpose()
                }
                None => mat.clone(),
            }
        };
        let (_, _, delta_hat) = lik.unpack(&theta);
        let at_bound: Vec<Option<Bound>> = (0..n_delta)
            .map(|j| {
                let fr = free.contains(&j);
                if fr && delta_hat[j] <= dlo {
                    Some(Bound::Lower)
                } else if fr && delta_hat[j] >= dhi {
                    Some(Bound::Upper)
                } else {
                    None
                }
            })
            .collect();
        // parameters on a bound (tau^2 = 0, a delta at delta.min or delta.max) are held
        // there: the covariance of the others is the inverse of their block of the Hessian
        let tau2_at_bound = theta[p] <= 0.0;
        let held: Vec<bool> = (0..npar)
            .map(|j| {
                (j == p && tau2_at_bound) || (j > p && (theta[j] <= lo[j] || theta[j] >= hi[j]))
            })
            .collect();
        let keep: Vec<usize> = (0..npar).filter(|&j| !held[j]).collect();
        let hk = DMatrix::from_fn(keep.len(), keep.len(), |a, b| ev.hess[(keep[a], keep[b])]);
        let vcov = match hk.cholesky() {
            Some(ch) => {
                let inv = ch.inverse();
                let mut full = DMatrix::zeros(npar, npar);
                for (a, &ja) in keep.iter().enumerate() {
                    for (b, &jb) in keep.iter().enumerate() {
                        full[(ja, jb)] = inv[(a, b)];
                    }
                }
                // back to the scale of X (beta is never held), then mark the held ones
                let mut full = jac(&full);
                for j in (0..npar).filter(|&j| held[j]) {
                    full.row_mut(j).fill(f64::NAN);
                    full.column_mut(j).fill(f64::NAN);
                }
                Some(full)
            }
            None => {
                warnings.push("Error when trying to invert Hessian.".into());
                None
            }
        };
        let beta_s = DVector::from_iterator(p, theta[..p].iter().copied());
        let beta = match m.as_ref() {
            Some(m) => &m.matrix * &beta_s,
            None => beta_s,
        };
        let tau2 = theta[p];
        let alpha = settings.alpha();
        let level_pct = settings.level();
        let (crit, _) = crit_and_p(TestKind::Z, 0.0, f64::NAN, alpha);
        let names = base.names();
        let vb = vcov.as_ref().map(|c| c.view((0, 0), (p, p)).clone_owned());
        let coefficients: Vec<Coefficient> = (0..p)
            .map(|j| {
                let se = vb.as_ref().map_or(f64::NAN, |vb| vb[(j, j)].sqrt());
                let z = beta[j] / se;
                Coefficient {
                    name: names[j].to_string(),
                    estimate: beta[j],
                    se,
                    statistic: z,
                    df: None,
                    p_value: norm_p2(z),
                    ci_lower: beta[j] - crit * se,
                    ci_upper: beta[j] + crit * se,
                }
            })
            .collect();
        let btt = base.btt().to_vec();
        let (qm, qm_p_value) = match &vb {
            Some(vb) if p > 1 => {
                let (qm, _, pv) = wald(&beta, vb, &btt, TestKind::Z, f64::NAN);
                (Some(qm), Some(pv))
            }
            _ => (None, None),
        };
        let tau2_se = vcov
            .as_ref()
            .map(|c| c[(p, p)].sqrt())
            .filter(|s| s.is_finite());
        let null = self.kind.null_delta();
        let deltas: Vec<DeltaEstimate> = (0..n_delta)
            .map(|j| {
                let fixed = !free.contains(&j);
                let bound = at_bound[j];
                let se = if fixed || bound.is_some() {
                    None
                } else {
                    let n = free.iter().position(|&g| g == j).unwrap_or(0);
                    vcov.as_ref()
                        .map(|c| c[(p + 1 + n, p + 1 + n)].sqrt())
                        .filter(|s| s.is_finite())
                };
                let d = delta_hat[j];
                let statistic = se.map(|s| (d - null) / s);
                DeltaEstimate {
                    estimate: d,
                    se,
                    statistic,
                    p_value: statistic.map(norm_p2),
                    ci_lower: se.map(|s| (d - crit * s).max(0.0)),
                    ci_upper: se.map(|s| d + crit * s),
                    fixed,
                    at_bound: bound,
                }
            })
            .collect();
        for (j, d) in deltas.iter().enumerate() {
            let near_lo = d.estimate <= dlo + f64::EPSILON.powf(0.25);
            let near_hi = d.estimate >= dhi - 100.0 * f64::EPSILON.powf(0.25);
            if !d.fixed && (near_lo || near_hi) {
                warnings.push(format!(
                    "delta[{}] = {} is at its {} bound {}: the likelihood is flat (or still rising) there, so it has no standard error",
                    j + 1,
                    d.estimate,
                    if near_lo { "lower" } else { "upper" },
                    if near_lo { dlo } else { dhi },
                ));
            }
        }

        // likelihood-ratio tests
        let ll0 = base.fit_stats().ll_ml;
        let lrt = (-2.0 * (ll0 - ll)).max(0.0);
        let lrt_df = free.len();
        let lrt_p_value = (lrt_df > 0).then(|| chisq_sf(lrt, lrt_df as f64));
        // heterogeneity: the same model with tau^2 = 0, from metafor's starting values
        lik.tau2_fixed = Some(0.0);
        let mut lo0 = lo.clone();
        let mut hi0 = hi.clone();
        lo0[p] = 0.0;
        hi0[p] = 0.0;
        // started from the optimum with tau^2 = 0 (metafor starts from its own starting
        // values; the maximum is the same, this start is closer)
        let mut x00 = theta.clone();
        x00[p] = 0.0;
        let fit0 = optim::minimize(&mut lik, &x00, &lo0, &hi0, opts);
        let (lrt_tau2, lrt_tau2_p_value, convergence_tau2) = match &fit0.eval {
            // no maximum with tau^2 = 0, no test (the last iterate's likelihood is no
            // bound on it): convergence_tau2 says why
            Some(_) if !fit0.converged => {
                warnings.push(format!(
                    "the fit with tau^2 = 0 did not converge ({:?} after {} iterations): no heterogeneity test",
                    fit0.stop, fit0.iterations
                ));
                let c = convergence_of(&fit0, lik.quad_worst, lik.quad_failures, self.kind);
                (None, None, Some(c))
            }
            Some(e0) => {
                let l = (-2.0 * (-e0.f - ll)).max(0.0);
                let c = convergence_of(&fit0, lik.quad_worst, lik.quad_failures, self.kind);
                (Some(l), Some(chisq_sf(l, 1.0)), Some(c))
            }
            None => (None, None, None),
        };
        let parms = p + 1 + free.len();
        let kf = k as f64;
        let pf = parms as f64;
        let fit_stats = InfoCriteria {
            ll,
            dev: -2.0 * ll,
            aic: -2.0 * ll + 2.0 * pf,
            bic: -2.0 * ll + pf * kf.ln(),
            aicc: {
                let kk = kf.max(pf + 2.0);
                -2.0 * ll + 2.0 * pf * kk / (kk - pf - 1.0)
            },
        };
        let pvals = lik.pvals.clone();
        Ok(SelectionFit {
            kind: self.kind,
            alternative: self.alternative,
            method: given_method,
            steps: weight.steps.clone(),
            steps_given: self.steps.is_some() && self.kind != SelectionType::Beta,
            k,
            p,
            int_only: base.intercept_only(),
            coefficients,
            vcov: vb.map(|vb| {
                (0..p)
                    .map(|i| (0..p).map(|j| vb[(i, j)]).collect())
                    .collect()
            }),
            btt,
            qm,
            qm_p_value,
            tau2,
            tau2_se,
            tau2_at_bound,
            deltas,
            ptable,
            pvals,
            lrt,
            lrt_df,
            lrt_p_value,
            lrt_tau2,
            lrt_tau2_p_value,
            loglik: ll,
            loglik0: ll0,
            fit_stats,
            parms,
            converged: fit.converged,
            convergence,
            convergence_tau2,
            warnings,
            level: level_pct,
            digits: settings.digits(),
            weight,
        })
    }
}

/// metafor's rescaling of the moderators for the optimiser: every column that is not a 0/1
/// dummy (and not the intercept) is centred and scaled to unit standard deviation.
/// `beta = M beta_scaled`.
#[derive(Debug, Clone)]
struct Rescale {
    matrix: DMatrix<f64>,
}

impl Rescale {
    fn inverse_apply(&self, beta: &DVector<f64>) -> DVector<f64> {
        match self.matrix.clone().try_inverse() {
            Some(inv) => inv * beta,
            None => beta.clone(),
        }
    }
}

fn scaled_design(x: &DMatrix<f64>, scale: bool) -> (DMatrix<f64>, Option<Rescale>) {
    if !scale {
        return (x.clone(), None);
    }
    let (k, p) = x.shape();
    let mut xs = x.clone();
    let mut m = DMatrix::identity(p, p);
    for j in 1..p {
        let col: Vec<f64> = (0..k).map(|i| x[(i, j)]).collect();
        if col.iter().all(|&c| c == 0.0 || c == 1.0) {
            continue;
        }
        let mean = col.iter().sum::<f64>() / k as f64;
        let sd = (col.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0)).sqrt();
        if !(sd > 0.0 && sd.is_finite()) {
            continue;
        }
        for i in 0..k {
            xs[(i, j)] = (x[(i, j)] - mean) / sd;
        }
        m[(0, j)] = -mean / sd;
        m[(j, j)] = 1.0 / sd;
    }
    (xs, Some(Rescale { matrix: m }))
}

fn convergence_of(
    fit: &Minimum,
    quad_worst: f64,
    quad_failures: usize,
    kind: SelectionType,
) -> SelectionConvergence {
    SelectionConvergence {
        converged: fit.converged,
        iterations: fit.iterations,
        evaluations: fit.evaluations,
        stop: match fit.stop {
            Stop::StepTolerance => OptimStop::StepTolerance,
            Stop::AllAtBounds => OptimStop::AllAtBounds,
            Stop::NoProgress => OptimStop::NoProgress,
            Stop::MaxIterations => OptimStop::MaxIterations,
            Stop::NonFinite => OptimStop::NonFinite,
        },
        quad_max_rel_error: kind.is_continuous().then_some(quad_worst),
        quad_unconverged: quad_failures,
    }
}

/// Which bound a delta estimate sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Bound {
    /// metafor's `delta.min` (0; 1e-5 for the beta type).
    Lower,
    /// metafor's `delta.max` (100).
    Upper,
}

/// One delta of the selection function with its Wald test (against no selection) and
/// confidence interval (lower end clamped at 0, as metafor).
///
/// `se`, `statistic`, `p_value` and the interval are `None` for a fixed delta (the first
/// one of the step function) and for a delta on a bound, where the likelihood is flat or
/// still rising and the curvature is no standard error.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DeltaEstimate {
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: Option<f64>,
    /// `(delta - delta_0)/se` with `delta_0` the value under no selection
    /// ([`SelectionType::null_delta`]).
    pub statistic: Option<f64>,
    /// Two-sided p-value of the statistic.
    pub p_value: Option<f64>,
    /// Lower confidence bound (at least 0).
    pub ci_lower: Option<f64>,
    /// Upper confidence bound.
    pub ci_upper: Option<f64>,
    /// True for a delta fixed by the model (the first one of the step function).
    pub fixed: bool,
    /// The bound the estimate sits on, if any.
    pub at_bound: Option<Bound>,
}

/// One row of metafor's table of p-value intervals: `lower < p <= upper` and the number of
/// observed p-values in it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PInterval {
    /// Lower end (exclusive).
    pub lower: f64,
    /// Upper end (inclusive).
    pub upper: f64,
    /// Studies whose p-value falls in the interval.
    pub k: usize,
}

/// Why an optimisation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum OptimStop {
    /// The Newton step fell below the tolerance (about 1e-10 standard errors).
    StepTolerance,
    /// Every parameter is held at a bound.
    AllAtBounds,
    /// The line search could not decrease minus the log-likelihood.
    NoProgress,
    /// The iteration limit was reached.
    MaxIterations,
    /// The likelihood or its derivatives were not finite.
    NonFinite,
}

/// How a selection model was optimised: convergence is data.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SelectionConvergence {
    /// Whether the optimiser converged.
    pub converged: bool,
    /// Newton iterations.
    pub iterations: usize,
    /// Likelihood evaluations (with and without derivatives).
    pub evaluations: usize,
    /// Why it stopped.
    pub stop: OptimStop,
    /// Continuous types: the largest relative error estimate of a normalising integral
    /// `A_i` at the last evaluation.
    pub quad_max_rel_error: Option<f64>,
    /// Continuous types: integrals of the last evaluation that did not reach the
    /// tolerance.
    pub quad_unconverged: usize,
}

/// A fitted selection model.
///
/// Built by [`SelectionModel::fit`]. Read it with the accessors; `Display` prints
/// metafor's layout, and with the `serde` feature it serializes to the JSON of
/// `metan selmodel --format json`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionFit {
    pub(crate) kind: SelectionType,
    pub(crate) alternative: Alternative,
    pub(crate) method: Method,
    pub(crate) steps: Vec<f64>,
    pub(crate) steps_given: bool,
    pub(crate) k: usize,
    pub(crate) p: usize,
    pub(crate) int_only: bool,
    pub(crate) coefficients: Vec<Coefficient>,
    pub(crate) vcov: Option<Vec<Vec<f64>>>,
    pub(crate) btt: Vec<usize>,
    pub(crate) qm: Option<f64>,
    pub(crate) qm_p_value: Option<f64>,
    pub(crate) tau2: f64,
    pub(crate) tau2_se: Option<f64>,
    pub(crate) tau2_at_bound: bool,
    pub(crate) deltas: Vec<DeltaEstimate>,
    pub(crate) ptable: Option<Vec<PInterval>>,
    pub(crate) pvals: Vec<f64>,
    pub(crate) lrt: f64,
    pub(crate) lrt_df: usize,
    pub(crate) lrt_p_value: Option<f64>,
    pub(crate) lrt_tau2: Option<f64>,
    pub(crate) lrt_tau2_p_value: Option<f64>,
    pub(crate) loglik: f64,
    pub(crate) loglik0: f64,
    pub(crate) fit_stats: InfoCriteria,
    pub(crate) parms: usize,
    pub(crate) converged: bool,
    pub(crate) convergence: SelectionConvergence,
    pub(crate) convergence_tau2: Option<SelectionConvergence>,
    pub(crate) warnings: Vec<String>,
    pub(crate) level: f64,
    pub(crate) digits: usize,
    pub(crate) weight: WeightFn,
}

impl SelectionFit {
    /// The selection type.
    pub fn kind(&self) -> SelectionType {
        self.kind
    }
    /// The direction of the p-values.
    pub fn alternative(&self) -> Alternative {
        self.alternative
    }
    /// The method of the unadjusted model as given (ML or REML; both fit by ML).
    pub fn method(&self) -> Method {
        self.method
    }
    /// metafor's steps (ending in 1; `[0, 1]` for a continuous type without a step).
    pub fn steps(&self) -> &[f64] {
        &self.steps
    }
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.k
    }
    /// True without moderators.
    pub fn intercept_only(&self) -> bool {
        self.int_only
    }
    /// The coefficient table (the pooled estimate alone without moderators).
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }
    /// The covariance matrix of the coefficients (row-major), `None` when the Hessian is
    /// not invertible.
    pub fn vcov(&self) -> Option<&[Vec<f64>]> {
        self.vcov.as_deref()
    }
    /// The adjusted pooled estimate (the intercept with moderators).
    pub fn estimate(&self) -> f64 {
        self.coefficients[0].estimate
    }
    /// Its standard error.
    pub fn se(&self) -> f64 {
        self.coefficients[0].se
    }
    /// Its z statistic.
    pub fn statistic(&self) -> f64 {
        self.coefficients[0].statistic
    }
    /// Its two-sided p-value.
    pub fn p_value(&self) -> f64 {
        self.coefficients[0].p_value
    }
    /// Its confidence interval.
    pub fn ci(&self) -> (f64, f64) {
        (self.coefficients[0].ci_lower, self.coefficients[0].ci_upper)
    }
    /// The omnibus Wald test of the moderators `(QM, p)` on `btt().len()` df.
    pub fn qm(&self) -> Option<(f64, f64)> {
        self.qm.zip(self.qm_p_value)
    }
    /// The coefficients of the omnibus test (1-based).
    pub fn btt(&self) -> &[usize] {
        &self.btt
    }
    /// tau^2 (0 on the boundary).
    pub fn tau2(&self) -> f64 {
        self.tau2
    }
    /// Its standard error from the Hessian (`None` on the boundary tau^2 = 0).
    pub fn tau2_se(&self) -> Option<f64> {
        self.tau2_se
    }
    /// True when tau^2 is on its boundary 0 (the likelihood decreases into tau^2 > 0);
    /// the other standard errors are then those with tau^2 held at 0.
    pub fn tau2_at_bound(&self) -> bool {
        self.tau2_at_bound
    }
    /// The deltas (the first one of the step function is fixed at 1).
    pub fn deltas(&self) -> &[DeltaEstimate] {
        &self.deltas
    }
    /// True when some estimated delta is held on a bound of its range (see
    /// [`DeltaEstimate::at_bound`]): on the upper bound (or the lower one when that is not
    /// "no selection") the likelihood keeps rising towards the bound, so the reported
    /// value is the bound and not a maximum; `Display` adds a note line for each.
    pub fn delta_at_bound(&self) -> bool {
        self.deltas.iter().any(|d| d.at_bound.is_some())
    }
    /// The delta estimates.
    pub fn delta(&self) -> Vec<f64> {
        self.deltas.iter().map(|d| d.estimate).collect()
    }
    /// The table of p-value intervals (when steps were given).
    pub fn ptable(&self) -> Option<&[PInterval]> {
        self.ptable.as_deref()
    }
    /// The p-values of the studies (clamped as in the likelihood).
    pub fn pvals(&self) -> &[f64] {
        &self.pvals
    }
    /// The likelihood-ratio test against the unadjusted model.
    pub fn lrt(&self) -> f64 {
        self.lrt
    }
    /// Its degrees of freedom (the number of estimated deltas).
    pub fn lrt_df(&self) -> usize {
        self.lrt_df
    }
    /// Its p-value (`None` when every delta is fixed).
    pub fn lrt_p_value(&self) -> Option<f64> {
        self.lrt_p_value
    }
    /// The likelihood-ratio test of tau^2 = 0 within the selection model, and its p-value.
    pub fn lrt_tau2(&self) -> Option<(f64, f64)> {
        self.lrt_tau2.zip(self.lrt_tau2_p_value)
    }
    /// The maximised log-likelihood.
    pub fn loglik(&self) -> f64 {
        self.loglik
    }
    /// The log-likelihood of the unadjusted ML model.
    pub fn loglik_unadjusted(&self) -> f64 {
        self.loglik0
    }
    /// Log-likelihood, deviance, AIC, BIC and AICc (metafor's `fit.stats`, ML column).
    pub fn fit_stats(&self) -> &InfoCriteria {
        &self.fit_stats
    }
    /// Number of parameters.
    pub fn parms(&self) -> usize {
        self.parms
    }
    /// Whether the optimiser converged.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// The optimisation's bookkeeping.
    pub fn convergence(&self) -> &SelectionConvergence {
        &self.convergence
    }
    /// The bookkeeping of the fit with tau^2 = 0 (the heterogeneity test).
    pub fn convergence_tau2(&self) -> Option<&SelectionConvergence> {
        self.convergence_tau2.as_ref()
    }
    /// Warnings (metafor's, and flat likelihoods).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Confidence level in percent.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The estimated selection function at a p-value (metafor's `wi.fun` with the
    /// estimated deltas), as drawn by [`crate::plot::SelectionPlot`].
    pub fn selection_weight(&self, p: f64) -> f64 {
        let delta = self.delta();
        self.weight.w(p, &delta)
    }
    /// The range of p-values on which metafor draws the selection function
    /// (`[pval.min, 1 - pval.min]`).
    pub fn p_range(&self) -> (f64, f64) {
        (self.weight.pval_min, 1.0 - self.weight.pval_min)
    }
    /// The same fit printing this many decimals.
    pub fn with_digits(mut self, digits: usize) -> Self {
        self.digits = digits;
        self
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for SelectionFit {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let c0 = &self.coefficients[0];
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("type", &self.kind)?;
        m.serialize_entry("alternative", &self.alternative)?;
        m.serialize_entry("method", &self.method)?;
        m.serialize_entry("steps", &self.steps)?;
        m.serialize_entry("k", &self.k)?;
        m.serialize_entry("estimate", &c0.estimate)?;
        m.serialize_entry("se", &c0.se)?;
        m.serialize_entry("statistic", &c0.statistic)?;
        m.serialize_entry("p_value", &c0.p_value)?;
        m.serialize_entry("ci_lower", &c0.ci_lower)?;
        m.serialize_entry("ci_upper", &c0.ci_upper)?;
        if !self.int_only {
            m.serialize_entry("coefficients", &self.coefficients)?;
            m.serialize_entry("qm", &self.qm)?;
            m.serialize_entry("qm_p_value", &self.qm_p_value)?;
        }
        m.serialize_entry("tau2", &self.tau2)?;
        m.serialize_entry("tau2_se", &self.tau2_se)?;
        m.serialize_entry("tau2_at_bound", &self.tau2_at_bound)?;
        m.serialize_entry("delta", &self.delta())?;
        let se: Vec<Option<f64>> = self.deltas.iter().map(|d| d.se).collect();
        m.serialize_entry("delta_se", &se)?;
        // beside `delta`: which estimates are a bound rather than a maximum (null: interior)
        let at: Vec<Option<Bound>> = self.deltas.iter().map(|d| d.at_bound).collect();
        m.serialize_entry("delta_at_bound", &at)?;
        m.serialize_entry("deltas", &self.deltas)?;
        m.serialize_entry("ptable", &self.ptable)?;
        m.serialize_entry("lrt", &self.lrt)?;
        m.serialize_entry("lrt_df", &self.lrt_df)?;
        m.serialize_entry("lrt_p_value", &self.lrt_p_value)?;
        m.serialize_entry("lrt_tau2", &self.lrt_tau2)?;
        m.serialize_entry("lrt_tau2_p_value", &self.lrt_tau2_p_value)?;
        m.serialize_entry("loglik", &self.loglik)?;
        m.serialize_entry("loglik_unadjusted", &self.loglik0)?;
        m.serialize_entry("fit_stats", &self.fit_stats)?;
        m.serialize_entry("converged", &self.converged)?;
        m.serialize_entry("convergence", &self.convergence)?;
        m.serialize_entry("warnings", &self.warnings)?;
        m.end()
    }
}
