//! A scenario (selection, outcome-source preference, drop-out rule, model), the built-in
//! scenarios, and running one: [`ScenarioResult`] with the studies used and left out.

use std::borrow::Cow;

use super::super::outcome::MissingRule;
use super::{ComparisonType, Outcome, OutcomeSource, Predicate, ScenarioData};
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{MetaAnalysis, Method, Settings};

/// A named scenario: which studies, which outcome source, which drop-out rule and model.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct Scenario {
    /// Name shown in the report.
    pub name: String,
    /// Optional longer description.
    #[cfg_attr(feature = "serde", serde(default))]
    pub description: String,
    /// Which studies are eligible.
    #[cfg_attr(feature = "serde", serde(default))]
    pub select: Predicate,
    /// Outcome-source preference: the first source a study reports is used; a study
    /// reporting none of them is left out. Empty: each study's first outcome.
    #[cfg_attr(feature = "serde", serde(default))]
    pub sources: Vec<OutcomeSource>,
    /// How drop-outs enter binary outcomes.
    #[cfg_attr(feature = "serde", serde(default))]
    pub missing: MissingRule,
    /// The model (default: the report's); its Q-profile intervals are never computed.
    #[cfg_attr(feature = "serde", serde(default))]
    pub model: Option<MetaAnalysis>,
    /// Only the studies of this comparison (attribute [`COMPARISON_ATTR`](crate::sensitivity::COMPARISON_ATTR)); `None`: any.
    #[cfg_attr(feature = "serde", serde(default))]
    pub comparison: Option<ComparisonType>,
    /// Pool studies of different comparisons on purpose. Off by default: a scenario that
    /// would pool them is the error [`MetaError::MixedComparisons`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub mix_comparisons: bool,
}

impl Scenario {
    /// Every study, its first outcome, available-case analysis, the report's model.
    pub fn new(name: impl Into<String>) -> Self {
        Scenario {
            name: name.into(),
            description: String::new(),
            select: Predicate::All,
            sources: Vec::new(),
            missing: MissingRule::AvailableCase,
            model: None,
            comparison: None,
            mix_comparisons: false,
        }
    }
    /// Sets the selection.
    pub fn select(mut self, p: Predicate) -> Self {
        self.select = p;
        self
    }
    /// Sets the outcome-source preference order.
    pub fn sources(mut self, s: impl IntoIterator<Item = OutcomeSource>) -> Self {
        self.sources = s.into_iter().collect();
        self
    }
    /// Sets the drop-out rule.
    pub fn missing(mut self, rule: MissingRule) -> Self {
        self.missing = rule;
        self
    }
    /// Sets the model.
    pub fn model(mut self, m: MetaAnalysis) -> Self {
        self.model = Some(m);
        self
    }
    /// Renames the scenario.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Sets the description.
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    /// Keeps only the studies of comparison `c` (attribute [`COMPARISON_ATTR`](crate::sensitivity::COMPARISON_ATTR)).
    pub fn comparison(mut self, c: impl Into<ComparisonType>) -> Self {
        self.comparison = Some(c.into());
        self
    }
    /// Allows the scenario to pool studies of different comparisons (see
    /// [`MetaError::MixedComparisons`]): only for a deliberate, labelled analysis.
    pub fn allow_mixed_comparisons(mut self) -> Self {
        self.mix_comparisons = true;
        self
    }

    /// Built-in: the base scenario without the studies flagged `flag`.
    pub fn drop_flagged(base: &Scenario, flag: &str) -> Self {
        let mut s = base.clone();
        s.name = format!("without studies flagged {flag}");
        s.select = Predicate::and([base.select.clone(), Predicate::not(Predicate::flag(flag))]);
        s
    }
    /// Built-in: randomised trials only (`attr` equals `value`, e.g. `design` = `RCT`).
    pub fn rcts_only(base: &Scenario, attr: &str, value: &str) -> Self {
        let mut s = base.clone();
        s.name = format!("{attr} = {value} only");
        s.select = Predicate::and([base.select.clone(), Predicate::equals(attr, value)]);
        s
    }
    /// Built-in: outcomes from `source` only (studies without it are left out).
    pub fn source_only(base: &Scenario, source: OutcomeSource) -> Self {
        let mut s = base.clone();
        s.name = format!("{source} outcomes only");
        s.sources = vec![source];
        s
    }
    /// Built-in: the studies reporting both `source` and `other`, analysed with `source`.
    pub fn paired(base: &Scenario, source: OutcomeSource, other: OutcomeSource) -> Self {
        let mut s = base.clone();
        s.name = format!("{source}, studies reporting both {source} and {other}");
        s.select = Predicate::and([
            base.select.clone(),
            Predicate::has_source(source.clone()),
            Predicate::has_source(other),
        ]);
        s.sources = vec![source];
        s
    }

    /// The studies this scenario uses and the effect it takes from each, the studies it
    /// leaves out, and the comparisons of the studies used (`None`: not recorded).
    fn assemble(
        &self,
        data: &ScenarioData,
    ) -> (
        Vec<UsedStudy>,
        Vec<ExcludedStudy>,
        Vec<Option<ComparisonType>>,
    ) {
        let mut used = Vec::new();
        let mut excluded = Vec::new();
        let mut comparisons = Vec::new();
        for st in &data.studies {
            let mut leave = |reason: String| {
                excluded.push(ExcludedStudy {
                    study: st.label.clone(),
                    reason,
                })
            };
            if !self.select.matches(st) {
                leave("not selected".into());
                continue;
            }
            let comparison = st.comparison_type();
            if let Some(want) = &self.comparison {
                if comparison.as_ref() != Some(want) {
                    leave(format!(
                        "not selected: comparison {}",
                        comparison
                            .as_ref()
                            .map_or("not recorded", ComparisonType::name)
                    ));
                    continue;
                }
            }
            if comparison == Some(ComparisonType::NoComparisonGroup) {
                leave("no comparison group: counted, never pooled as an effect".into());
                continue;
            }
            let found = if self.sources.is_empty() {
                st.outcomes.first().map(|(s, o)| (s.clone(), *o))
            } else {
                self.sources
                    .iter()
                    .find_map(|s| st.outcome_from(s).map(|o| (s.clone(), *o)))
            };
            let Some((source, outcome)) = found else {
                let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
                leave(format!("no outcome from {}", names.join(" / ")));
                continue;
            };
            let effect = match outcome {
                Outcome::Effect { yi, vi } => Ok((yi, vi)),
                Outcome::Binary(c) => self.missing.log_or(&c),
            };
            match effect {
                Ok((yi, vi)) if yi.is_finite() && vi.is_finite() && vi > 0.0 => {
                    used.push(UsedStudy {
                        study: st.label.clone(),
                        source,
                        yi,
                        vi,
                    });
                    comparisons.push(comparison);
                }
                Ok((yi, vi)) => leave(format!("unusable effect (yi = {yi}, vi = {vi})")),
                Err(e) => leave(e),
            }
        }
        (used, excluded, comparisons)
    }

    /// The error for studies of different comparisons, unless mixing is allowed.
    fn mixed(&self, comparisons: &[Option<ComparisonType>]) -> Result<()> {
        let distinct: std::collections::BTreeSet<&Option<ComparisonType>> =
            comparisons.iter().collect();
        if distinct.len() <= 1 || self.mix_comparisons {
            return Ok(());
        }
        Err(MetaError::MixedComparisons {
            scenario: self.name.clone(),
            comparisons: distinct
                .into_iter()
                .map(|c| {
                    c.as_ref()
                        .map_or("not recorded", ComparisonType::name)
                        .to_string()
                })
                .collect(),
        })
    }

    /// Checks the scenario against the data: the studies it would pool must share one
    /// comparison (attribute [`COMPARISON_ATTR`](crate::sensitivity::COMPARISON_ATTR); a study without it counts as "not
    /// recorded"), unless mixing is allowed ([`Scenario::allow_mixed_comparisons`]).
    ///
    /// # Errors
    /// [`MetaError::MixedComparisons`] naming the scenario and the comparisons.
    ///
    /// # Examples
    /// ```
    /// use metan::MetaError;
    /// use metan::sensitivity::{OutcomeSource as Src, Scenario, ScenarioData, ScenarioStudy};
    /// let data = ScenarioData::simulated(vec![
    ///     ScenarioStudy::new("A").effect(Src::Official, -0.3, 0.04).comparison("programme_vs_no_programme".into()),
    ///     ScenarioStudy::new("B").effect(Src::Official, -0.9, 0.05).comparison("couples_vs_standard_programme".into()),
    ///     ScenarioStudy::new("C").effect(Src::Official, -0.1, 0.04).comparison("programme_vs_no_programme".into()),
    /// ], "toy");
    /// let all = Scenario::new("all studies");
    /// assert!(matches!(all.check(&data), Err(MetaError::MixedComparisons { .. })));
    /// assert!(all.clone().allow_mixed_comparisons().check(&data).is_ok());
    /// assert!(all.comparison("programme_vs_no_programme").check(&data).is_ok());
    /// ```
    pub fn check(&self, data: &ScenarioData) -> Result<()> {
        let (_, _, comparisons) = self.assemble(data);
        self.mixed(&comparisons)
    }

    /// Runs the scenario (with `default_model` unless the scenario sets its own, which is
    /// checked here: invalid settings are reported as the result's `error`). A scenario
    /// that fails [`Scenario::check`] is not fitted: its `error` says why.
    pub fn run(
        &self,
        data: &ScenarioData,
        default_model: &(impl Settings + ?Sized),
    ) -> ScenarioResult {
        let model = match &self.model {
            Some(m) => m.check(),
            None => default_model.checked().map(Cow::into_owned),
        };
        let (used, excluded, comparisons) = self.assemble(data);
        let mixed = self.mixed(&comparisons);
        let mut r = ScenarioResult {
            name: self.name.clone(),
            description: self.description.clone(),
            missing: self.missing.label(),
            method: model.as_ref().map_or(Method::REML, |m| m.method()),
            k: used.len(),
            estimate: f64::NAN,
            se: f64::NAN,
            ci_lower: f64::NAN,
            ci_upper: f64::NAN,
            p_value: f64::NAN,
            tau2: f64::NAN,
            i2: f64::NAN,
            q: f64::NAN,
            change: f64::NAN,
            used,
            excluded,
            error: None,
        };
        let fit = mixed
            .and_then(|()| {
                Studies::from_variances(
                    r.used.iter().map(|u| u.yi).collect::<Vec<_>>(),
                    r.used.iter().map(|u| u.vi).collect::<Vec<_>>(),
                )
            })
            .and_then(|s| s.with_labels(r.used.iter().map(|u| u.study.clone())))
            .and_then(|s| {
                let mut m = model?;
                m.confint = false;
                m.fit(&s)
            });
        match fit {
            Ok(f) => {
                r.estimate = f.estimate();
                r.se = f.se();
                (r.ci_lower, r.ci_upper) = f.ci();
                r.p_value = f.p_value();
                r.tau2 = f.tau2();
                r.i2 = f.heterogeneity().i2();
                r.q = f.heterogeneity().q();
            }
            Err(e) => r.error = Some(e.to_string()),
        }
        r
    }
}

/// Built-in: one scenario per study flagged `flag`, each leaving out that study alone
/// from the base scenario.
///
/// # Examples
/// ```
/// use metan::sensitivity::{OutcomeSource as Src, Scenario, ScenarioData, ScenarioStudy};
/// use metan::sensitivity::leave_out_each_flagged;
/// let data = ScenarioData::simulated(vec![
///     ScenarioStudy::new("A").effect(Src::Official, -0.5, 0.04).attr("flawed", true),
///     ScenarioStudy::new("B").effect(Src::Official, -0.2, 0.03),
///     ScenarioStudy::new("C").effect(Src::Official, -0.4, 0.05).attr("flawed", true),
/// ], "toy");
/// let each = leave_out_each_flagged(&data, &Scenario::new("all"), "flawed");
/// assert_eq!(each.len(), 2);
/// assert_eq!(each[0].name, "without A (flagged flawed)");
/// ```
pub fn leave_out_each_flagged(data: &ScenarioData, base: &Scenario, flag: &str) -> Vec<Scenario> {
    data.studies
        .iter()
        .filter(|s| Predicate::flag(flag).matches(s) && base.select.matches(s))
        .map(|st| {
            let mut s = base.clone();
            s.name = format!("without {} (flagged {flag})", st.label);
            s.select = Predicate::and([
                base.select.clone(),
                Predicate::not(Predicate::Label {
                    label: st.label.clone(),
                }),
            ]);
            s
        })
        .collect()
}

/// A study a scenario used, with the outcome source and effect taken.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct UsedStudy {
    /// Label.
    pub study: String,
    /// The outcome source used.
    pub source: OutcomeSource,
    /// Effect size.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
}

/// A study a scenario left out, and why.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ExcludedStudy {
    /// Label.
    pub study: String,
    /// Why.
    pub reason: String,
}

/// The result of one scenario (on the analysis scale).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The drop-out rule.
    pub missing: String,
    /// Estimator.
    pub method: Method,
    /// Number of studies used.
    pub k: usize,
    /// Pooled estimate (NaN when the model could not be fitted).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// p-value.
    pub p_value: f64,
    /// tau^2.
    pub tau2: f64,
    /// I^2 (percent).
    pub i2: f64,
    /// Cochran's Q.
    pub q: f64,
    /// Estimate minus the base estimate (0 for the base).
    pub change: f64,
    /// The studies used.
    pub used: Vec<UsedStudy>,
    /// The studies left out.
    pub excluded: Vec<ExcludedStudy>,
    /// Why the model could not be fitted (e.g. no study left).
    pub error: Option<String>,
}

/// The attrition scenarios for a base scenario: available case, drop-outs as events, best
/// and worst case, and one IMOR scenario per `(treatment, control)` pair of `imor_grid`
/// (each copying the base's selection, sources and model).
///
/// # Examples
/// ```
/// use metan::sensitivity::{Scenario, attrition::attrition_scenarios};
/// let s = attrition_scenarios(&Scenario::new("all studies"), &[(2.0, 1.0), (1.0, 2.0)]);
/// assert_eq!(s.len(), 6);
/// assert_eq!(s[1].name, "all studies: ITT, drop-outs as events");
/// ```
pub fn attrition_scenarios(base: &Scenario, imor_grid: &[(f64, f64)]) -> Vec<Scenario> {
    let mut rules = vec![
        MissingRule::AvailableCase,
        MissingRule::DropoutsAsEvents,
        MissingRule::BestCase,
        MissingRule::WorstCase,
    ];
    rules.extend(
        imor_grid
            .iter()
            .map(|&(treatment, control)| MissingRule::Imor { treatment, control }),
    );
    rules
        .into_iter()
        .map(|r| {
            let mut s = base.clone().missing(r);
            s.name = format!("{}: {}", base.name, r.label());
            s
        })
        .collect()
}
