//! The data model: studies with outcomes by source ([`OutcomeSource`], [`Outcome`]) and
//! attributes ([`AttrValue`]), what each study compares ([`ComparisonType`]), and the data
//! set with its provenance ([`ScenarioData`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::super::outcome::BinaryCounts;
use crate::error::{MetaError, Result};

/// Where an outcome comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "String", from = "String"))]
pub enum OutcomeSource {
    /// Police or court records.
    Official,
    /// The partner's (victim's) report.
    Partner,
    /// The perpetrator's self-report.
    SelfReport,
    /// A joint or couple report.
    Couple,
    /// Any other, user-defined source.
    Other(String),
}

impl OutcomeSource {
    /// The source's name: `official`, `partner`, `self_report`, `couple`, or the user's.
    pub fn name(&self) -> &str {
        match self {
            OutcomeSource::Official => "official",
            OutcomeSource::Partner => "partner",
            OutcomeSource::SelfReport => "self_report",
            OutcomeSource::Couple => "couple",
            OutcomeSource::Other(s) => s,
        }
    }
}

impl fmt::Display for OutcomeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<String> for OutcomeSource {
    fn from(s: String) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "official" | "police" | "court" | "records" => OutcomeSource::Official,
            "partner" | "victim" => OutcomeSource::Partner,
            "self_report" | "self-report" | "self" | "selfreport" => OutcomeSource::SelfReport,
            "couple" => OutcomeSource::Couple,
            _ => OutcomeSource::Other(s.trim().to_string()),
        }
    }
}

impl From<OutcomeSource> for String {
    fn from(s: OutcomeSource) -> String {
        s.name().to_string()
    }
}

impl FromStr for OutcomeSource {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(OutcomeSource::from(s.to_string()))
    }
}

/// The name of the study attribute that records what a study's effect compares (see
/// [`ComparisonType`]).
pub const COMPARISON_ATTR: &str = "comparison";

/// What a study's effect compares: one comparison per pooled estimate.
///
/// Recorded in the study attribute [`COMPARISON_ATTR`] (`comparison`, e.g. a CSV column).
/// Effects of different comparisons estimate different things (a programme against no
/// programme, one programme against another, completers against drop-outs), so a
/// [`Scenario`](crate::sensitivity::Scenario) that would pool them is the error [`MetaError::MixedComparisons`] unless it
/// allows it ([`Scenario::allow_mixed_comparisons`](crate::sensitivity::Scenario::allow_mixed_comparisons)). Studies with
/// [`ComparisonType::NoComparisonGroup`] have no effect to pool: every scenario leaves them
/// out, and every [`SensitivityReport`](crate::sensitivity::SensitivityReport) counts them.
///
/// Names are compared ignoring case and surrounding spaces.
///
/// # Examples
/// ```
/// use metan::sensitivity::ComparisonType;
/// assert_eq!(ComparisonType::from("No_Comparison_Group".to_string()), ComparisonType::NoComparisonGroup);
/// assert_eq!(ComparisonType::from("completers_vs_dropouts".to_string()).name(), "completers_vs_dropouts");
/// let c = ComparisonType::from(" Programme_vs_No_Programme ".to_string());
/// assert_eq!(c, ComparisonType::Between("programme_vs_no_programme".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "String", from = "String"))]
pub enum ComparisonType {
    /// Two groups compared, named by the user (lower case): e.g.
    /// `programme_vs_no_programme` (an intervention against no intervention, a waiting list
    /// or treatment as usual) or `couples_vs_standard_programme` (head to head).
    Between(String),
    /// `completers_vs_dropouts`: the completers of an intervention against its own
    /// drop-outs. No comparison group in the proper sense: the contrast shows what drop-out
    /// selects, not what the intervention does.
    CompletersVsDropouts,
    /// `no_comparison_group`: a single group (a recidivism rate, a pre-post change). Such
    /// studies are counted and described, never pooled as an effect.
    NoComparisonGroup,
}

impl ComparisonType {
    /// The name: `completers_vs_dropouts`, `no_comparison_group`, or the user's.
    pub fn name(&self) -> &str {
        match self {
            ComparisonType::Between(s) => s,
            ComparisonType::CompletersVsDropouts => "completers_vs_dropouts",
            ComparisonType::NoComparisonGroup => "no_comparison_group",
        }
    }
}

impl fmt::Display for ComparisonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<String> for ComparisonType {
    fn from(s: String) -> Self {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "completers_vs_dropouts" => ComparisonType::CompletersVsDropouts,
            "no_comparison_group" => ComparisonType::NoComparisonGroup,
            _ => ComparisonType::Between(t),
        }
    }
}

impl From<&str> for ComparisonType {
    fn from(s: &str) -> Self {
        ComparisonType::from(s.to_string())
    }
}

impl From<ComparisonType> for String {
    fn from(c: ComparisonType) -> String {
        c.name().to_string()
    }
}

/// One outcome of a study.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Outcome {
    /// An effect size and its sampling variance.
    Effect {
        /// Effect size.
        yi: f64,
        /// Sampling variance.
        vi: f64,
    },
    /// Binary counts with drop-outs (turned into a log odds ratio by the scenario's
    /// [`MissingRule`](crate::sensitivity::MissingRule)).
    Binary(BinaryCounts),
}

/// An attribute value: text, number or flag.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum AttrValue {
    /// A flag.
    Flag(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

impl AttrValue {
    /// Parses CSV text: `true`/`false` as flags, numbers as numbers, anything else as text.
    pub fn parse(s: &str) -> AttrValue {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "true" => return AttrValue::Flag(true),
            "false" => return AttrValue::Flag(false),
            _ => {}
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => AttrValue::Number(x),
            _ => AttrValue::Text(t.to_string()),
        }
    }
    pub(super) fn number(&self) -> Option<f64> {
        match self {
            AttrValue::Number(x) => Some(*x),
            AttrValue::Text(s) => s.trim().parse().ok(),
            AttrValue::Flag(_) => None,
        }
    }
    /// `true`, a non-zero number, or text other than empty / `no` / `false` / `0` / `n` /
    /// `none`.
    pub fn is_true(&self) -> bool {
        match self {
            AttrValue::Flag(b) => *b,
            AttrValue::Number(x) => *x != 0.0,
            AttrValue::Text(s) => !matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "" | "no" | "false" | "0" | "n" | "none"
            ),
        }
    }
    pub(super) fn matches(&self, other: &AttrValue) -> bool {
        match (self, other) {
            (AttrValue::Text(a), AttrValue::Text(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
            (AttrValue::Flag(a), AttrValue::Flag(b)) => a == b,
            (AttrValue::Flag(a), b) | (b, AttrValue::Flag(a)) => b.is_true() == *a,
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Flag(b) => write!(f, "{b}"),
            AttrValue::Number(x) => write!(f, "{x}"),
            AttrValue::Text(s) => f.write_str(s),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Text(s.to_string())
    }
}
impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Text(s)
    }
}
impl From<f64> for AttrValue {
    fn from(x: f64) -> Self {
        AttrValue::Number(x)
    }
}
impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Flag(b)
    }
}

/// A study with its outcomes and attributes.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScenarioStudy {
    pub(super) label: String,
    pub(super) outcomes: Vec<(OutcomeSource, Outcome)>,
    pub(super) attributes: BTreeMap<String, AttrValue>,
}

impl ScenarioStudy {
    /// A study with no outcomes yet.
    pub fn new(label: impl Into<String>) -> Self {
        ScenarioStudy {
            label: label.into(),
            outcomes: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }
    /// Adds (or replaces) the outcome from `source`.
    pub fn outcome(mut self, source: OutcomeSource, outcome: Outcome) -> Self {
        match self.outcomes.iter_mut().find(|(s, _)| *s == source) {
            Some(slot) => slot.1 = outcome,
            None => self.outcomes.push((source, outcome)),
        }
        self
    }
    /// Adds an effect size `yi` with sampling variance `vi` from `source`.
    pub fn effect(self, source: OutcomeSource, yi: f64, vi: f64) -> Self {
        self.outcome(source, Outcome::Effect { yi, vi })
    }
    /// Adds binary counts with drop-outs from `source`.
    pub fn binary(self, source: OutcomeSource, counts: BinaryCounts) -> Self {
        self.outcome(source, Outcome::Binary(counts))
    }
    /// Sets an attribute.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }
    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The outcomes, in the order added.
    pub fn outcomes(&self) -> &[(OutcomeSource, Outcome)] {
        &self.outcomes
    }
    /// The outcome from `source`, if reported.
    pub fn outcome_from(&self, source: &OutcomeSource) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, o)| o)
    }
    /// An attribute.
    pub fn attribute(&self, name: &str) -> Option<&AttrValue> {
        self.attributes.get(name)
    }
    /// Records what the study's effect compares (the attribute [`COMPARISON_ATTR`]).
    pub fn comparison(self, c: ComparisonType) -> Self {
        self.attr(COMPARISON_ATTR, c.name())
    }
    /// What the study's effect compares, if recorded (the attribute [`COMPARISON_ATTR`]).
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{ComparisonType, ScenarioStudy};
    /// let s = ScenarioStudy::new("A").comparison(ComparisonType::NoComparisonGroup);
    /// assert_eq!(s.comparison_type(), Some(ComparisonType::NoComparisonGroup));
    /// assert_eq!(ScenarioStudy::new("B").comparison_type(), None);
    /// ```
    pub fn comparison_type(&self) -> Option<ComparisonType> {
        self.attribute(COMPARISON_ATTR)
            .map(|v| ComparisonType::from(v.to_string()))
    }
}

/// Studies with several outcomes and attributes, and where they come from.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScenarioData {
    pub(super) studies: Vec<ScenarioStudy>,
    pub(super) provenance: String,
    pub(super) simulated: bool,
}

impl ScenarioData {
    /// Real data described by `provenance` (e.g. a citation).
    pub fn new(studies: Vec<ScenarioStudy>, provenance: impl Into<String>) -> Self {
        ScenarioData {
            studies,
            provenance: provenance.into(),
            simulated: false,
        }
    }
    /// **Simulated** data described by `provenance`: every table says "SIMULATED data".
    pub fn simulated(studies: Vec<ScenarioStudy>, provenance: impl Into<String>) -> Self {
        ScenarioData {
            studies,
            provenance: provenance.into(),
            simulated: true,
        }
    }
    /// Marks the data as simulated (or not).
    pub fn with_simulated(mut self, simulated: bool) -> Self {
        self.simulated = simulated;
        self
    }
    /// Replaces the provenance description.
    pub fn with_provenance(mut self, provenance: impl Into<String>) -> Self {
        self.provenance = provenance.into();
        self
    }
    /// The studies.
    pub fn studies(&self) -> &[ScenarioStudy] {
        &self.studies
    }
    /// The provenance description.
    pub fn provenance(&self) -> &str {
        &self.provenance
    }
    /// True for simulated data.
    pub fn is_simulated(&self) -> bool {
        self.simulated
    }
    /// The label printed in every table title: `"SIMULATED data: ..."` for simulated data.
    pub fn data_label(&self) -> String {
        match (self.simulated, self.provenance.is_empty()) {
            (true, true) => "SIMULATED data".into(),
            (true, false) => format!("SIMULATED data: {}", self.provenance),
            (false, _) => self.provenance.clone(),
        }
    }
}
