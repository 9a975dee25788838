//! Models: [`MetaAnalysis`] (the specification) -> [`MetaAnalysis::fit`] -> [`MetaFit`].
//!
//! * `method` — [`Method`] and [`TestKind`];
//! * `tau2` — one function per tau^2 estimator;
//! * `inference` — the pooled estimate, its test, CI and prediction interval;
//! * `heterogeneity` — Q, I^2, H^2 and the Q-profile interval;
//! * `fit` — [`MetaFit`] and its metafor-style `Display`.

mod analysis;
mod fit;
mod heterogeneity;
pub(crate) mod inference;
mod method;
mod projection;
mod tau2;

pub use analysis::MetaAnalysis;
pub use fit::{Attempt, Convergence, FitStats, MetaFit};
pub use method::{Method, TestKind};
pub use tau2::StopReason;
