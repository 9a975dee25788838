//! Models: [`MetaAnalysis`] (the specification) -> [`MetaAnalysis::fit`] -> [`MetaFit`].
//!
//! * `method` — [`Method`] and [`TestKind`];
//! * `tau2` — the tau^2 estimators, one file each, and their one dispatch on [`Method`];
//! * `inference` — the pooled estimate, its test, CI and prediction interval;
//! * `heterogeneity` — Q, I^2, H^2 and the Q-profile interval;
//! * `fit` — [`MetaFit`] and its metafor-style `Display`;
//! * `regression` — [`MetaRegression`] / [`MetaRegressionFit`]: mixed-effects meta-regression;
//! * `location_scale` — [`LocationScale`] / [`LocationScaleFit`]: location-scale models, with
//!   moderators of `ln tau^2`;
//! * `subgroup` — [`subgroup_analysis`]: pooled estimates per subgroup and tests of differences;
//! * `anova` — [`anova`]: likelihood-ratio tests of nested models;
//! * `permutest` — [`PermutationTest`]: exact and random permutation tests;
//! * `mv` — [`MvModel`] / [`MvFit`]: multilevel and multivariate models for dependent
//!   effects (metafor's `rma.mv`);
//! * `mh`, `peto` — pooling 2x2 tables directly: [`MantelHaenszel`] -> [`MhFit`] and
//!   [`Peto`] -> [`PetoFit`] (metafor's `rma.mh` and `rma.peto`).

mod analysis;
mod anova;
mod fit;
mod genq_ci;
mod heterogeneity;
pub(crate) mod inference;
mod location_scale;
mod method;
mod mh;
mod mv;
mod permutest;
mod peto;
mod projection;
mod regression;
pub(crate) mod robust;
mod subgroup;
mod tables;
pub(crate) mod tau2;

pub use analysis::{CheckedMetaAnalysis, MAX_DIGITS, MetaAnalysis, Settings};
pub use anova::{InfoCriteria, ModelComparison, anova};
pub use fit::{Attempt, Convergence, FitStats, MetaFit};
pub use heterogeneity::Heterogeneity;
pub use location_scale::{
    LocationScale, LocationScaleFit, ScaleCoefficient, ScaleConvergence, ScaleLevel, ScaleLrt,
    ScalePrediction, ScaleStop,
};
pub use method::{Method, TestKind};
pub use mh::{MantelHaenszel, MhFit, MhMeasure};
pub use mv::{
    ComponentCi, Hypothesis, I2Levels, LinearHypotheses, MvFit, MvModel, RandomPart, Structure,
};
pub use permutest::{PermutationFit, PermutationTest};
pub use peto::{Peto, PetoFit};
pub use regression::{Coefficient, MetaRegression, MetaRegressionFit, Prediction};
pub use robust::{Robu, RobuFit, RobuWeights, RobustFit, RobustKind, WaldKind, WaldTest};
pub use subgroup::{CommonTau2, QBetween, Subgroup, SubgroupFit, subgroup_analysis};
pub use tau2::StopReason;

// for the publication-bias module
pub(crate) use inference::crit_and_p;
pub(crate) use projection::{InterceptOnly, PSums, Projector};
pub(crate) use regression::design::format_btt;
pub(crate) use regression::wald;
