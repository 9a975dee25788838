//! Selection models for publication bias (metafor's `selmodel`): the random-effects model
//! or meta-regression `y_i ~ N(x_i' beta, v_i + tau^2)`, observed only with a probability
//! proportional to a *selection function* `w(p_i; delta)` of the study's p-value.
//!
//! * [`SelectionModel`] -> [`SelectionModel::fit`] -> [`SelectionFit`];
//! * [`SelectionType`]: the step function (3PSM and beyond), beta, half-normal, negative
//!   exponential, logistic and power selection functions;
//! * [`Alternative`]: the direction of the p-values.
//!
//! # Formula
//! With `z_i = y_i/sqrt(v_i)`, the p-value is `p_i = 1 - Phi(z_i)` (greater), `Phi(z_i)`
//! (less) or `2 (1 - Phi(|z_i|))` (two-sided). Study `i` has the weighted density
//!
//! `f(y_i) = w(p_i) phi(y_i; mu_i, v_i + tau^2) / A_i`,
//! `A_i = int w(p(y)) phi(y; mu_i, v_i + tau^2) dy`, `mu_i = x_i' beta`,
//!
//! and the log-likelihood `ll = sum_i [ln w(p_i) + ln phi(y_i; mu_i, v_i + tau^2) - ln A_i]`
//! is maximised over `beta`, `tau^2 >= 0` and `delta`. The selection functions are
//! (with the single step `s` of a continuous type, default 0; `w = 1` for `p <= s`):
//!
//! | type | `w(p)` | deltas | no selection |
//! |---|---|---|---|
//! | `stepfun` | `delta_j` for `a_(j-1) < p <= a_j`, `delta_1 = 1` | one per interval but the first | all 1 |
//! | `beta` | `p^(delta_1 - 1) (1 - p)^(delta_2 - 1)` | 2 | `(1, 1)` |
//! | `halfnorm` | `exp(-delta (p^2 - s^2))` | 1 | 0 |
//! | `negexp` | `exp(-delta (p - s))` | 1 | 0 |
//! | `logistic` | `[e^(-delta p)/(1 + e^(-delta p))] / [e^(-delta s)/(1 + e^(-delta s))]` | 1 | 0 |
//! | `power` | `((1 - p)/(1 - s))^delta` | 1 | 0 |
//!
//! For the step function `A_i = sum_j delta_j P(a_(j-1) < p(Y) <= a_j)` is a sum of normal
//! probabilities. For the continuous types `A_i` is computed by Gauss-Kronrod quadrature
//! (the 21-point Kronrod rule with the 10-point Gauss rule it extends, on pieces at most 3
//! wide, bisected adaptively) on the line of `t = y/sqrt(v_i)`, where `w(p(t))` is
//! constant outside a finite interval (the clamp of `p` into `[1e-5, 1 - 1e-5]` for the
//! beta and power types, as metafor; elsewhere `|t| <= 9`, beyond which `p < 1.2e-19`),
//! so that the two outer pieces are closed forms; the partition is cut at every kink of
//! `w(p(t))` (the clamp, the step, `t = 0` for two-sided p-values). Each `A_i` and its
//! fourth Hermite moment are integrated to a stated error bound `|K21 - G10| + 50 eps
//! int |f|` of at most `1e-10` relative (the bound is the error of the Gauss rule; the
//! Kronrod value used is far more accurate, below `1e-13` in the tests). The derivatives
//! of `A_i` in `(mu_i, tau^2)` are Hermite moments of the same
//! integrand, so one quadrature gives the value, the gradient and the Hessian.
//!
//! The likelihood is maximised by a projected Newton method with that analytic Hessian
//! and metafor's bounds (`0 <= delta <= 100`; `1e-5 <= delta <= 100` for the beta type);
//! standard errors come from the inverse of minus the Hessian at the maximum, in
//! `(beta, tau^2, delta)` as metafor's `numDeriv::hessian`. A delta that ends on a bound
//! (the likelihood still rising there: no study, or all studies, in a region of the
//! selection function) is flagged ([`DeltaEstimate::at_bound`]) and reported without a
//! standard error. The likelihood-ratio test compares `ll` with the unadjusted ML model
//! (`df` = number of estimated deltas).
//!
//! # Examples
//! ```
//! use metan::bias::{SelectionModel, SelectionType};
//! use metan::Studies;
//! // SIMULATED data
//! let s = Studies::from_variances(
//!     vec![0.62, 0.15, 0.48, 0.05, 0.71, 0.33, 0.12, 0.56, 0.09, 0.40, 0.25, 0.02],
//!     vec![0.09, 0.01, 0.05, 0.008, 0.12, 0.04, 0.01, 0.07, 0.012, 0.03, 0.02, 0.005],
//! )?;
//! let fit = SelectionModel::new(SelectionType::StepFunction).steps([0.025]).fit(&s)?;
//! println!("{fit}");            // metafor's print layout
//! let beta = SelectionModel::new(SelectionType::Beta).fit(&s)?;
//! assert_eq!(beta.delta().len(), 2);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! # References
//! * Hedges, L. V. (1992). Modeling publication selection effects in meta-analysis.
//!   *Statistical Science*, 7, 246-255.
//! * Vevea, J. L., & Hedges, L. V. (1995). A general linear model for estimating effect
//!   size in the presence of publication bias. *Psychometrika*, 60, 419-435.
//! * Citkowicz, M., & Vevea, J. L. (2017). A parsimonious weight function for modeling
//!   publication bias. *Psychological Methods*, 22, 28-41.
//! * Preston, C., Ashby, D., & Smyth, R. (2004). Adjusting for publication bias: Modelling
//!   the selection process. *Journal of Evaluation in Clinical Practice*, 10, 313-322.
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48; and the documentation of
//!   `metafor::selmodel` (version 3.8-1).
//! * Piessens, R., de Doncker-Kapenga, E., Überhuber, C. W., & Kahaner, D. K. (1983).
//!   *QUADPACK*. Springer.

mod fit;
mod kind;
mod likelihood;
mod print;
mod weight;

pub use fit::{
    Bound, DeltaEstimate, OptimStop, PInterval, SelectionConvergence, SelectionFit, SelectionModel,
};
pub use kind::{Alternative, SelectionType};
