//! Mixed-effects meta-regression: [`MetaRegression`] (the specification) ->
//! [`MetaRegression::fit`] -> [`MetaRegressionFit`].
//!
//! The model is `y_i = x_i' beta + u_i + e_i`, `u_i ~ N(0, tau^2)`, `e_i ~ N(0, v_i)`
//! (metafor's `rma(yi, vi, mods = ...)`). tau^2 is estimated by the same estimators as the
//! intercept-only model (they are generic over the design, see `projection`), with metafor's
//! definitions for models with moderators; the coefficients by weighted least squares with
//! `w_i = 1/(v_i + tau^2)` through the QR decomposition of `sqrt(W) X`.
//!
//! # References
//! * Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
//!   *Journal of Statistical Software*, 36(3), 1-48.
//! * Thompson, S. G., & Higgins, J. P. T. (2002). How should meta-regression analyses be
//!   undertaken and interpreted? *Statistics in Medicine*, 21, 1559-1573.
//! * Knapp, G., & Hartung, J. (2003). Improved tests for a random effects meta-regression
//!   with a single covariate. *Statistics in Medicine*, 22, 2693-2710.
//! * Raudenbush, S. W. (2009). Analyzing effect sizes: Random-effects models. In H. Cooper,
//!   L. V. Hedges, & J. C. Valentine (Eds.), *The handbook of research synthesis and
//!   meta-analysis* (2nd ed., pp. 295-315). Russell Sage Foundation.

pub(crate) mod design;
mod fit;
pub(crate) mod print;
mod result;
mod spec;

pub use result::{Coefficient, MetaRegressionFit, Prediction};
pub use spec::MetaRegression;

pub(crate) use fit::{core_fit, wald};
