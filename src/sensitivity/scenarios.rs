//! Scenarios (stub).
/// Outcome source.
pub enum OutcomeSource {}
/// Predicate.
pub enum Predicate {}
/// Scenario.
pub struct Scenario;
/// Data.
pub struct ScenarioData;
/// Study.
pub struct ScenarioStudy;
/// Report.
pub struct SensitivityReport;
