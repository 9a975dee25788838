//! # metan
//!
//! Meta-analysis in Rust, numerically identical to R's
//! [metafor](https://www.metafor-project.org) (Viechtbauer 2010): equal- and
//! random-effects models with every common tau^2 estimator (DL, HE, HS, HSk, SJ, ML, REML,
//! EB, PM, PMM, GENQ), z / t / Knapp-Hartung tests, prediction intervals, heterogeneity
//! statistics and their Q-profile confidence intervals; meta-regression, subgroup analyses,
//! likelihood-ratio tests and permutation tests. Every fit is O(k) (O(k p^2) with p
//! moderator columns): no k x k matrix is ever formed.
//!
//! ## Quick start
//!
//! ```
//! use metan::{MetaAnalysis, Method, Studies, TestKind};
//!
//! // log risk ratios and their sampling variances (first six BCG trials)
//! let studies = Studies::from_variances(
//!     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861],
//!     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069],
//! )?;
//!
//! let fit = MetaAnalysis::new()          // REML, z test, 95%
//!     .fit(&studies)?;
//! println!("{fit}");                      // metafor's print.rma.uni layout
//! assert!(fit.estimate() < 0.0);
//! assert!(fit.ci().0 < fit.estimate() && fit.estimate() < fit.ci().1);
//!
//! // a DerSimonian-Laird fit with the Knapp-Hartung adjustment
//! let dl = MetaAnalysis::new().method(Method::DL).test(TestKind::Knha).fit(&studies)?;
//! assert_eq!(dl.df(), Some(5.0));
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! ## Moderators
//!
//! [`MetaRegression`] fits mixed-effects meta-regressions (metafor's `rma(yi, vi, mods = ...)`)
//! with numeric and categorical moderators and every estimator above; [`subgroup_analysis`]
//! pools each subgroup and tests their differences; [`anova`] compares nested models by a
//! likelihood-ratio test; [`PermutationTest`] gives exact or seeded random permutation
//! p-values (in parallel with the default `parallel` feature).
//!
//! ```
//! use metan::{MetaRegression, PermutationTest, Studies, TestKind};
//!
//! let studies = Studies::from_variances(
//!     vec![-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209, 0.0120],
//!     vec![0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040],
//! )?
//! .with_moderator("ablat", vec![44., 55., 42., 52., 13., 44., 19., 13.])?
//! .with_attribute("alloc", ["random", "random", "random", "random", "alternate",
//!                           "alternate", "random", "random"])?;
//!
//! let model = MetaRegression::new().moderators(["ablat", "alloc"]).test(TestKind::Knha);
//! let fit = model.fit(&studies)?;
//! println!("{fit}");                      // metafor's mixed-effects print layout
//! assert_eq!(fit.names(), ["intrcpt", "ablat", "allocrandom"]);
//! let perm = PermutationTest::new().iter(1000).seed(1).run(&model, &studies)?;
//! assert!(perm.qm_p_value() > 0.0);
//! # Ok::<(), metan::MetaError>(())
//! ```
//!
//! Standard errors cannot be passed as variances by accident:
//! [`Studies::from_standard_errors`] and [`Studies::from_variances`] are distinct.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// `!(x > 0.0)` is deliberate throughout: it is true for NaN, which must be rejected too.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::nonminimal_bool)]

pub mod bias;
pub mod data;
pub mod datasets;
pub mod error;
pub mod model;
mod numeric;
pub mod plot;
pub mod sensitivity;

pub use data::Studies;
pub use error::{MetaError, Result};
pub use model::{
    Attempt, Coefficient, CommonTau2, Convergence, FitStats, InfoCriteria, MetaAnalysis, MetaFit,
    MetaRegression, MetaRegressionFit, Method, ModelComparison, MvFit, MvModel, PermutationFit,
    PermutationTest, Prediction, QBetween, StopReason, Structure, Subgroup, SubgroupFit, TestKind,
    anova, subgroup_analysis,
};
