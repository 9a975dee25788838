//! Scenario engine: named sensitivity scenarios run side by side against a base case.
//!
//! * A [`ScenarioStudy`] carries one or more outcomes keyed by [`OutcomeSource`] (official
//!   records, partner/victim reports, self-reports, couple reports, or any user-defined
//!   source), each an effect `(yi, vi)` or binary counts with drop-outs
//!   ([`super::BinaryCounts`]), and any number of attributes ([`AttrValue`]: text, number or
//!   flag; e.g. design, risk-of-bias flags, drop-out rate, programme model, region,
//!   follow-up).
//! * A [`ScenarioData`] is a list of such studies with its **provenance**: a description and
//!   a `simulated` flag, printed in the title of every table. Simulated data always say so.
//! * A [`Scenario`] is a selection of studies ([`Predicate`]), an outcome-source preference
//!   order (e.g. partner, else couple, else leave the study out), a rule for drop-outs
//!   ([`super::MissingRule`], binary outcomes only) and an optional model ([`MetaAnalysis`](crate::MetaAnalysis)).
//! * **One comparison per pooled estimate.** A study may record what its effect compares in
//!   the attribute `comparison` ([`ComparisonType`]: e.g. `programme_vs_no_programme`,
//!   `couples_vs_standard_programme`, `completers_vs_dropouts`, `no_comparison_group`). A
//!   scenario can keep one comparison ([`Scenario::comparison`]); a scenario whose studies
//!   compare different things is the error [`MetaError::MixedComparisons`](crate::MetaError::MixedComparisons) unless it allows
//!   it explicitly ([`Scenario::allow_mixed_comparisons`]); studies without a comparison group
//!   are counted (in every report) and never pooled as an effect.
//! * A [`SensitivityReport`] runs a list of scenarios against a base scenario: k, estimate,
//!   CI, p, tau^2, I^2 and the change from the base, as a `Display` table or JSON, with the
//!   studies (and outcome source) each scenario used and why the others were left out.
//!
//! Built-in scenarios: [`Scenario::drop_flagged`], [`Scenario::rcts_only`],
//! [`Scenario::source_only`], [`Scenario::paired`], [`leave_out_each_flagged`], and the
//! attrition scenarios of [`super::attrition`].
//!
//! # Scenario files (`metan scenarios --spec FILE`)
//!
//! TOML (or JSON with the same structure):
//!
//! ```toml
//! # all optional: a label printed in every table, and whether the data are simulated
//! provenance = "simulated data drawn from the digest"
//! simulated = true
//! back_transform = "exp"          # print exp(estimate) and exp(CI), e.g. odds ratios
//!
//! [model]                          # default model of every scenario: any MetaAnalysis
//! method = "REML"                  #   setting by its setter's name (method: a name or
//! test = "z"                       #   a fallback chain; test: z, t, knha, adhoc)
//! level = 95
//!
//! [base]                           # the base case
//! name = "official records"
//! sources = ["official"]           # preference order; [] = each study's first outcome
//! comparison = "programme_vs_no_programme"   # one comparison (the `comparison` attribute)
//!
//! [[scenario]]
//! name = "partner reports, else couple reports"
//! sources = ["partner", "couple"]
//!
//! [[scenario]]
//! name = "RCTs with low drop-out"
//! sources = ["official"]
//! select = { op = "and", all = [
//!   { op = "equals", attr = "design", value = "RCT" },
//!   { op = "lt", attr = "dropout_rate", value = 0.3 },
//! ] }
//! missing = { rule = "imor", treatment = 2.0, control = 1.0 }   # binary outcomes only
//! model = { method = "DL", test = "knha" }
//! # mix_comparisons = true        # only to pool different comparisons on purpose
//!
//! [[scenario]]                     # built-in scenarios
//! builtin = "drop_flagged"         # also: rcts_only, source_only, paired,
//! flag = "flawed"                  #       leave_out_each_flagged, attrition
//! ```
//!
//! Predicates (`op`): `all`, `equals` / `not_equals` (`attr`, `value`), `in` (`attr`,
//! `values`), `lt` / `le` / `gt` / `ge` (`attr`, numeric `value`), `flag` (`attr` is
//! present and true: `true`, a non-zero number, or text other than empty, `no`, `false`,
//! `0`), `has` (`attr` recorded), `has_source` (`source`), `label` (`label`), `and`
//! (`all = [...]`), `or` (`any = [...]`), `not` (`not = {...}`). Text comparisons ignore
//! case and surrounding spaces.
//!
//! Built-ins take: `drop_flagged` and `leave_out_each_flagged`: `flag` (and the base's
//! sources); `rcts_only`: `attr` (default `design`) and `value` (default `RCT`);
//! `source_only`: `source`; `paired`: `source` and `other` (studies reporting both, using
//! `source`); `attrition`: `imor` (a list of `[treatment, control]` pairs) and the base's
//! selection and sources. Each built-in also accepts `name`.

mod csv;
mod predicate;
mod report;
mod scenario;
#[cfg(feature = "serde")]
mod spec;
mod study;
#[cfg(test)]
mod tests;

pub use predicate::Predicate;
pub use report::{BackTransform, SensitivityReport};
pub use scenario::{
    ExcludedStudy, Scenario, ScenarioResult, UsedStudy, attrition_scenarios, leave_out_each_flagged,
};
#[cfg(feature = "serde")]
pub use spec::ScenarioSpec;
pub use study::{
    AttrValue, COMPARISON_ATTR, ComparisonType, Outcome, OutcomeSource, ScenarioData, ScenarioStudy,
};
