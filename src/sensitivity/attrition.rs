//! Attrition (missing-outcome) sensitivity analyses for binary outcomes with drop-outs.
//!
//! Each study reports, in each arm, the completers with and without the event (e.g.
//! re-offending) and the drop-outs whose outcome is unknown ([`BinaryCounts`]). A
//! [`MissingRule`] turns these counts into a log odds ratio (treatment vs control, of the
//! event: negative means fewer events under treatment):
//!
//! * [`MissingRule::AvailableCase`]: completers only (drop-outs ignored);
//! * [`MissingRule::DropoutsAsEvents`]: intention to treat with every drop-out counted as an
//!   event (as a failure: "re-offended"), since drop-out predicts re-offending;
//! * [`MissingRule::BestCase`] / [`MissingRule::WorstCase`]: treatment drop-outs without
//!   (with) the event and control drop-outs with (without) it: the extremes for the
//!   treatment;
//! * [`MissingRule::Imor`]: the informative missingness odds ratio model of Higgins, White
//!   & Wood (2008), with one IMOR per arm: the odds of the event among drop-outs are IMOR
//!   times the odds among completers.
//!
//! [`attrition_scenarios`] builds all of them (and a grid of IMORs) as [`Scenario`]s, so that
//! [`SensitivityReport`] shows them side by side.
//!
//! Log odds ratios from counts come from the crate's `escalc` ([`crate::data::effect_size`],
//! metafor's `escalc(measure = "OR")`): 1/2 is added to every cell of a table only when one
//! of its cells is zero.
//!
//! # References
//! * Higgins, J. P. T., White, I. R., & Wood, A. M. (2008). Imputation methods for missing
//!   outcome data in meta-analysis of clinical trials. *Clinical Trials*, 5, 225-239.
//! * White, I. R., & Higgins, J. P. T. (2009). Meta-analysis with missing data. *Stata
//!   Journal*, 9, 57-69.
//! * Murphy, C. M., & Ting, L. A. (2010). Interventions for perpetrators of intimate partner
//!   violence: A review of efficacy research and recent trends. *Partner Abuse*, 1, 26-44.

pub use super::outcome::{ArmCounts, BinaryCounts, MissingRule};
pub use super::scenarios::attrition_scenarios;
use super::scenarios::{Scenario, ScenarioData, SensitivityReport};

/// Runs [`attrition_scenarios`] against the base scenario (available case) as a
/// [`SensitivityReport`].
///
/// # Errors
/// Those of [`SensitivityReport::run`].
///
/// # Examples
/// ```
/// use metan::sensitivity::{ArmCounts, BinaryCounts, OutcomeSource, Scenario, ScenarioData, ScenarioStudy};
/// use metan::sensitivity::attrition::attrition_report;
/// let study = |l: &str, t: ArmCounts, c: ArmCounts| {
///     ScenarioStudy::new(l).binary(OutcomeSource::Official, BinaryCounts::new(t, c))
/// };
/// let data = ScenarioData::simulated(vec![
///     study("A", ArmCounts::new(10.0, 50.0, 30.0), ArmCounts::new(20.0, 45.0, 5.0)),
///     study("B", ArmCounts::new(15.0, 60.0, 25.0), ArmCounts::new(25.0, 55.0, 8.0)),
/// ], "toy");
/// let r = attrition_report(&data, &Scenario::new("all"), &[(2.0, 1.0)])?;
/// assert_eq!(r.scenarios().len(), 4); // ITT, best, worst, one IMOR
/// // high drop-out in the programme arms: counting drop-outs as failures erases the benefit
/// assert!(r.base().estimate < 0.0 && r.scenarios()[0].estimate > 0.0);
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn attrition_report(
    data: &ScenarioData,
    base: &Scenario,
    imor_grid: &[(f64, f64)],
) -> crate::error::Result<SensitivityReport> {
    let base = base.clone().missing(MissingRule::AvailableCase);
    let all = attrition_scenarios(&base, imor_grid);
    SensitivityReport::run(data, &base, &all[1..])
}
