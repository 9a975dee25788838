//! Publication bias and small-study effects, as metafor computes them.
//!
//! * [`RegTest`] -> [`RegTestFit`]: Egger-type regression tests (metafor's `regtest`), on
//!   the meta-analytic model itself or by weighted least squares, with the standard error,
//!   the variance or a function of the sample size as predictor, and the limit estimate;
//! * [`RankTest`] -> [`RankTestFit`]: Begg and Mazumdar's rank correlation test
//!   (`ranktest`), with R's exact Kendall distribution when there are no ties;
//! * [`TrimFill`] -> [`TrimFillFit`]: Duval and Tweedie's trim-and-fill (`trimfill`) with the
//!   L0, R0 and Q0 estimators, the filled studies and the refitted model;
//! * [`FailSafeN`] -> [`FailSafeFit`]: Rosenthal's, Orwin's and Rosenberg's fail-safe N
//!   (`fsn`);
//! * [`PetPeese`] -> [`PetPeeseFit`]: PET, PEESE and the conditional estimator;
//! * [`SelectionModel`] -> [`SelectionFit`]: selection models (`selmodel`): step functions
//!   (the 3PSM), beta, half-normal, negative-exponential, logistic and power selection
//!   functions, with or without moderators.
//! * [`HenmiCopas`] -> [`HenmiCopasFit`]: the equal-effects estimate with Henmi and Copas'
//!   interval, robust to publication bias (metafor's `hc`).
//!
//! The tests that depend on the model (the regression test and trim-and-fill) take the
//! [`MetaAnalysis`](crate::MetaAnalysis) specification: they use its estimator as metafor's functions do when
//! called on an `rma` fit with that method.
//!
//! Too few studies for a test give [`crate::MetaError::TooFewStudies`], never a NaN.
//!
//! # Examples
//!
//! ```
//! use metan::{MetaAnalysis, Studies};
//! use metan::bias::{FailSafeN, PetPeese, RankTest, RegTest, TrimFill};
//! let s = Studies::from_variances(
//!     vec![0.9, 0.5, 0.62, 0.2, 0.35, 0.1, 0.15, 0.3],
//!     vec![0.20, 0.11, 0.15, 0.02, 0.05, 0.01, 0.012, 0.04],
//! )?;
//! let spec = MetaAnalysis::new();
//! let egger = RegTest::new().run(&spec, &s)?;
//! let begg = RankTest::new().run(&s)?;
//! let tf = TrimFill::new().run(&spec, &s)?;
//! let fsn = FailSafeN::new().run(&s)?;
//! let pp = PetPeese::new().run(&s)?;
//! assert!(egger.p_value() < 1.0 && begg.p_value() <= 1.0);
//! assert!(tf.fit().estimate() <= spec.fit(&s)?.estimate()); // filling on the left lowers it
//! assert!(fsn.rosenthal().fsn > 0.0 && pp.estimate().is_finite());
//! # Ok::<(), metan::MetaError>(())
//! ```

mod egger;
mod failsafe;
mod henmi_copas;
mod lm;
mod pet_peese;
mod rank;
mod selection;
mod slope;
mod trimfill;

pub use egger::{Predictor, RegModel, RegTest, RegTestFit};
pub use failsafe::{FailSafeFit, FailSafeN, Orwin, Rosenberg, Rosenthal};
pub use henmi_copas::{HenmiCopas, HenmiCopasFit};
pub use lm::WeightedLm;
pub use pet_peese::{PetPeese, PetPeeseChoice, PetPeeseFit};
pub use rank::{EXACT_MAX_K, RankTest, RankTestFit, kendall_cdf};
pub use selection::{
    Alternative, Bound, DeltaEstimate, OptimStop, PInterval, SelectionConvergence, SelectionFit,
    SelectionModel, SelectionType,
};
pub use trimfill::{Estimator, FilledStudy, Side, TrimFill, TrimFillFit};

use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{CheckedMetaAnalysis, Method};

/// The estimator metafor records in a fit of `spec` (`x$method`): the method itself, or,
/// for a fallback chain, the one that fitted the intercept-only model.
pub(crate) fn resolve_method(spec: &CheckedMetaAnalysis, studies: &Studies) -> Result<Method> {
    match spec.methods() {
        [m] => Ok(*m),
        _ => {
            let mut s = spec.clone();
            s.confint = false;
            Ok(s.fit(studies)?.method())
        }
    }
}

pub(crate) fn too_few(analysis: &str, needed: usize, found: usize) -> MetaError {
    MetaError::TooFewStudies {
        analysis: analysis.to_string(),
        needed,
        found,
    }
}
