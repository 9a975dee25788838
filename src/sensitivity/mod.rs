//! Sensitivity analyses: how much do the conclusions depend on particular studies, on the
//! order of the evidence, on which outcome source is used, on flawed studies and on
//! drop-out?
//!
//! **Standard diagnostics** of an intercept-only [`MetaAnalysis`](crate::MetaAnalysis) (metafor's names in
//! brackets), all refitted with the same estimator, test and level as the fit:
//!
//! * [`leave_one_out`] (`leave1out`): the model without each study in turn;
//! * [`cumulative`] (`cumul`): the model on the first 1, 2, ..., k studies, in input order,
//!   by a numeric column or by any permutation ([`CumulativeOrder`]);
//! * [`influence`] (`influence.rma.uni`): externally standardized residuals, DFFITS, Cook's
//!   distance, COVRATIO, tau^2 and Q without the study, hat values, weights, DFBETAS, and
//!   metafor's flags of influential studies;
//! * [`baujat`] (`baujat`): contribution to heterogeneity against influence on the result;
//! * [`Gosh`] (`gosh`): the model on all `2^k - 1` subsets (k <= 20), or on a seeded random
//!   sample of subsets, in parallel.
//!
//! Iterative estimators (ML, REML, EB, PM, PMM) are iterated to a relative change of at most
//! 1e-14 (or the specification's tolerance if smaller) in the full fit and in every refit, so
//! that small differences between them (Cook's distance, DFBETAS of uninfluential studies)
//! are not dominated by convergence noise.
//!
//! Leave-one-out, influence and Baujat cost O(k) per study for every estimator (O(k) in all
//! for large k, where the left-out fits are expanded around the full fit; see the engine
//! notes in [`leave_one_out`]): at k = 10^4 they take milliseconds where metafor refits
//! k times.
//!
//! **Dependent effects** ([`crate::MvModel`] fits): [`leave_one_cluster_out`] (refits
//! without each cluster, with metafor's cluster-level Cook's distance) and [`rho_sweep`]
//! (the same model at assumed sampling correlations 0 to 0.9), refits in parallel.
//!
//! **Scenarios** ([`scenarios`]): studies that carry several outcomes (official records,
//! partner reports, self-reports, ...) and attributes (design, risk-of-bias flags, drop-out,
//! ...), named [`Scenario`]s that select studies and outcome sources, and a
//! [`SensitivityReport`] that puts them side by side with the base case.
//!
//! **Attrition** ([`attrition`]): available-case, drop-outs-as-failures, best/worst case and
//! informative-missingness-odds-ratio (IMOR) analyses of binary outcomes with drop-outs.
//!
//! # Examples
//!
//! ```
//! use metan::{MetaAnalysis, Method, Studies};
//! use metan::sensitivity::{influence, leave_one_out};
//!
//! let studies = Studies::from_variances(
//!     vec![-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62],
//!     vec![0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22],
//! )?;
//! let spec = MetaAnalysis::new().method(Method::DL);
//! let l1o = leave_one_out(&spec, &studies)?;
//! assert_eq!(l1o.rows().len(), 7);
//! let inf = influence(&spec, &studies)?;
//! assert_eq!(inf.rows().len(), 7);
//! # Ok::<(), metan::MetaError>(())
//! ```

pub mod attrition;
mod baujat;
mod cumulative;
mod dependent;
mod engine;
mod gosh;
mod influence;
mod leave_one_out;
mod outcome;
pub mod scenarios;

pub use baujat::{Baujat, BaujatPoint, baujat};
pub use cumulative::{CumulativeOrder, cumulative};
pub use dependent::{
    ClusterInfluence, ClusterRefit, RhoRow, RhoSweep, leave_one_cluster_out, rho_sweep,
};
pub use gosh::{Gosh, GoshResult, GoshSubset, GoshSummary};
pub use influence::{Influence, InfluenceCutoffs, InfluenceRow, influence};
pub use leave_one_out::{RefitRow, Refits, leave_one_out};
pub use outcome::{ArmCounts, BinaryCounts, MissingRule};
#[cfg(feature = "serde")]
pub use scenarios::ScenarioSpec;
pub use scenarios::{
    AttrValue, BackTransform, COMPARISON_ATTR, ComparisonType, ExcludedStudy, Outcome,
    OutcomeSource, Predicate, Scenario, ScenarioData, ScenarioResult, ScenarioStudy,
    SensitivityReport, UsedStudy, leave_out_each_flagged,
};

use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{CheckedMetaAnalysis, MetaFit, Settings, TestKind};

/// The full fit and the settings every refit uses.
pub(crate) struct Prepared {
    pub fit: MetaFit,
    /// The checked settings with the estimator that fitted the full data (the first
    /// converged one of a fallback chain, as metafor's `x$method`) and the tightened
    /// tolerance.
    pub spec: CheckedMetaAnalysis,
}

/// Checks the settings, fits the full model (without the Q-profile intervals, which no
/// diagnostic uses) and narrows the settings to the estimator actually used.
pub(crate) fn prepare(
    spec: &(impl Settings + ?Sized),
    studies: &Studies,
    min_k: usize,
    what: &str,
) -> Result<Prepared> {
    let mut spec = spec.checked()?.into_owned();
    if studies.k() < min_k {
        return Err(MetaError::TooFewStudies {
            analysis: what.to_string(),
            needed: min_k,
            found: studies.k(),
        });
    }
    // Diagnostics compare the full fit with refits (Cook's distance, DFBETAS, ...): both
    // are iterated to a relative change of at most 1e-14 so that convergence noise does not
    // dominate small differences.
    spec.control.tol = spec.control.tol.min(1e-14);
    spec.confint = false;
    let fit = spec.fit(studies)?;
    let spec = spec.with_method(fit.method());
    Ok(Prepared { fit, spec })
}

/// The name metafor gives the test statistic column.
pub(crate) fn stat_name(test: TestKind) -> &'static str {
    if test.uses_t() { "tval" } else { "zval" }
}
