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
//!   ([`super::MissingRule`], binary outcomes only) and an optional model ([`MetaAnalysis`]).
//! * **One comparison per pooled estimate.** A study may record what its effect compares in
//!   the attribute `comparison` ([`ComparisonType`]: e.g. `programme_vs_no_programme`,
//!   `couples_vs_standard_programme`, `completers_vs_dropouts`, `no_comparison_group`). A
//!   scenario can keep one comparison ([`Scenario::comparison`]); a scenario whose studies
//!   compare different things is the error [`MetaError::MixedComparisons`] unless it allows
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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::attrition::{BinaryCounts, MissingRule};
use super::fmt_num;
use crate::data::Studies;
use crate::error::{MetaError, Result};
use crate::model::{CheckedMetaAnalysis, MetaAnalysis, Method, Settings};

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
/// [`Scenario`] that would pool them is the error [`MetaError::MixedComparisons`] unless it
/// allows it ([`Scenario::allow_mixed_comparisons`]). Studies with
/// [`ComparisonType::NoComparisonGroup`] have no effect to pool: every scenario leaves them
/// out, and every [`SensitivityReport`] counts them.
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
    /// [`MissingRule`]).
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
    fn number(&self) -> Option<f64> {
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
    fn matches(&self, other: &AttrValue) -> bool {
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
    label: String,
    outcomes: Vec<(OutcomeSource, Outcome)>,
    attributes: BTreeMap<String, AttrValue>,
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
    studies: Vec<ScenarioStudy>,
    provenance: String,
    simulated: bool,
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

    /// Reads long-format CSV: one row per study and outcome source.
    ///
    /// Columns: `study` (label) and `source` (required); the outcome as `yi` and `vi`, or as
    /// counts `t_events, t_non_events, t_dropouts, c_events, c_non_events, c_dropouts`
    /// (optionally `t_dropout_events` and `c_dropout_events`: the drop-outs known to have had
    /// the event, used by [`MissingRule::ObservedDropouts`]; empty or `NA` when not followed
    /// up); every other column is a study attribute (flags `true`/`false`, numbers, or text;
    /// an empty cell is "not recorded"; a study's rows must not disagree). A column
    /// `simulated` with any true value marks the whole data set as simulated. A row whose
    /// `comparison` is `no_comparison_group`, or whose outcome cells are all empty or `NA`,
    /// records the study without an outcome: it is counted, never pooled (see
    /// [`ComparisonType`]).
    ///
    /// # Errors
    /// [`MetaError::Csv`] naming the line and column of a bad or missing value.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::ScenarioData;
    /// let text = "study,source,yi,vi,design,simulated\n\
    ///             A,official,-0.4,0.04,RCT,true\nA,partner,-0.1,0.05,RCT,true\n\
    ///             B,official,-0.3,0.03,quasi,true\n";
    /// let d = ScenarioData::from_csv_reader(text.as_bytes(), "toy.csv")?;
    /// assert_eq!(d.studies().len(), 2);
    /// assert!(d.is_simulated());
    /// assert_eq!(d.studies()[0].outcomes().len(), 2);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_csv_reader<R: std::io::Read>(reader: R, name: &str) -> Result<Self> {
        let err = |row: Option<usize>, col: Option<&str>, msg: String| MetaError::Csv {
            path: name.to_string(),
            row,
            column: col.map(str::to_string),
            message: msg,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| err(None, None, e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let study_c =
            col("study").ok_or_else(|| err(Some(1), Some("study"), "missing column".into()))?;
        let source_c =
            col("source").ok_or_else(|| err(Some(1), Some("source"), "missing column".into()))?;
        let effect_c = (col("yi"), col("vi"));
        let count_names = [
            "t_events",
            "t_non_events",
            "t_dropouts",
            "c_events",
            "c_non_events",
            "c_dropouts",
        ];
        let count_c: Vec<Option<usize>> = count_names.iter().map(|n| col(n)).collect();
        let has_counts = count_c.iter().all(Option::is_some);
        let dropout_event_c = [col("t_dropout_events"), col("c_dropout_events")];
        let comparison_c = col(COMPARISON_ATTR);
        let used: Vec<usize> = [Some(study_c), Some(source_c), effect_c.0, effect_c.1]
            .into_iter()
            .chain(count_c.iter().copied())
            .chain(dropout_event_c)
            .flatten()
            .collect();
        let sim_c = col("simulated");
        let mut simulated = false;
        let mut studies: Vec<ScenarioStudy> = Vec::new();
        for (r, rec) in rdr.records().enumerate() {
            let line = r + 2;
            let rec = rec.map_err(|e| err(Some(line), None, e.to_string()))?;
            let get = |c: usize| rec.get(c).unwrap_or("");
            let num = |c: usize| -> Result<Option<f64>> {
                let s = get(c);
                if s.is_empty() || s.eq_ignore_ascii_case("na") {
                    return Ok(None);
                }
                s.parse::<f64>().map(Some).map_err(|_| {
                    err(
                        Some(line),
                        Some(&headers[c]),
                        format!("not a number: {s:?}"),
                    )
                })
            };
            let label = get(study_c).to_string();
            if label.is_empty() {
                return Err(err(Some(line), Some("study"), "empty study label".into()));
            }
            let source = OutcomeSource::from(get(source_c).to_string());
            let uncontrolled = comparison_c.is_some_and(|c| {
                ComparisonType::from(get(c).to_string()) == ComparisonType::NoComparisonGroup
            });
            let blank = |c: &Option<usize>| {
                c.is_none_or(|c| {
                    let v = get(c);
                    v.is_empty() || v.eq_ignore_ascii_case("na")
                })
            };
            let no_outcome = [effect_c.0, effect_c.1]
                .iter()
                .chain(&count_c)
                .chain(&dropout_event_c)
                .all(blank);
            let outcome = match (effect_c, has_counts) {
                _ if uncontrolled || no_outcome => None,
                ((Some(yc), Some(vc)), _) if num(yc)?.is_some() => {
                    let yi = num(yc)?.unwrap_or(f64::NAN);
                    let vi = num(vc)?
                        .ok_or_else(|| err(Some(line), Some("vi"), "yi given without vi".into()))?;
                    if !(yi.is_finite() && vi.is_finite() && vi > 0.0) {
                        return Err(err(
                            Some(line),
                            Some("vi"),
                            format!("need finite yi and vi > 0, got yi = {yi}, vi = {vi}"),
                        ));
                    }
                    Some(Outcome::Effect { yi, vi })
                }
                (_, true) => {
                    let mut x = [0.0; 6];
                    for (i, c) in count_c.iter().enumerate() {
                        let c = c.unwrap_or(0);
                        x[i] = num(c)?.ok_or_else(|| {
                            err(Some(line), Some(count_names[i]), "missing count".into())
                        })?;
                    }
                    let mut arms = [
                        super::ArmCounts::new(x[0], x[1], x[2]),
                        super::ArmCounts::new(x[3], x[4], x[5]),
                    ];
                    for (arm, c) in arms.iter_mut().zip(dropout_event_c) {
                        if let Some(e) = c.map(num).transpose()?.flatten() {
                            *arm = arm.with_dropout_events(e);
                        }
                    }
                    let counts = BinaryCounts::new(arms[0], arms[1]);
                    counts.check().map_err(|m| err(Some(line), None, m))?;
                    Some(Outcome::Binary(counts))
                }
                _ => {
                    return Err(err(
                        Some(line),
                        None,
                        "no outcome: give yi and vi, or the six count columns".into(),
                    ));
                }
            };
            if let Some(c) = sim_c {
                simulated |= AttrValue::parse(get(c)).is_true();
            }
            let idx = match studies.iter().position(|s| s.label == label) {
                Some(i) => i,
                None => {
                    studies.push(ScenarioStudy::new(label.clone()));
                    studies.len() - 1
                }
            };
            let st = &mut studies[idx];
            if let Some(outcome) = outcome {
                if st.outcome_from(&source).is_some() {
                    return Err(err(
                        Some(line),
                        Some("source"),
                        format!("study {label:?} has two rows for source {source}"),
                    ));
                }
                st.outcomes.push((source, outcome));
            }
            for (c, h) in headers.iter().enumerate() {
                if used.contains(&c) || get(c).is_empty() {
                    continue;
                }
                let v = AttrValue::parse(get(c));
                match st.attributes.get(h) {
                    Some(old) if *old != v => {
                        return Err(err(
                            Some(line),
                            Some(h),
                            format!("study {label:?} has {old} and {v} in different rows"),
                        ));
                    }
                    _ => {
                        st.attributes.insert(h.clone(), v);
                    }
                }
            }
        }
        if studies.is_empty() {
            return Err(MetaError::Empty);
        }
        Ok(ScenarioData {
            studies,
            provenance: name.to_string(),
            simulated,
        })
    }
}

impl ScenarioData {
    /// The project's **SIMULATED** IPV programme evaluations ([`crate::datasets::ipv`]) as
    /// scenario data, labelled simulated: the same data as reading
    /// [`to_long_csv`](crate::datasets::ipv::to_long_csv) of the studies with
    /// [`ScenarioData::from_csv_reader`] (which `metan scenarios` does with
    /// `data/ipv_simulated_long.csv`).
    ///
    /// Each measured outcome source (official, partner, self-report) becomes an outcome of
    /// binary counts with drop-outs: programme vs comparison arm (completers with / without
    /// re-offending, drop-outs, and the drop-outs' re-offending where the evaluation followed
    /// them up: [`MissingRule::ObservedDropouts`] is the analysis each evaluation reports),
    /// or, for completer-vs-drop-out designs, completers vs drop-outs. Studies without a
    /// comparison group have attributes only: they are counted, never pooled. Attributes:
    /// `comparison` (one of [`Comparison::name`](crate::datasets::ipv::Comparison::name), see
    /// [`ComparisonType`]), `id`, `model`, `design`, `flawed`, `completer_only`, `tailored`,
    /// `region`, `income`, `country`, `year`, `follow_up_months`, `dropout_rate` (programme
    /// arm) and `simulated`.
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv;
    /// use metan::sensitivity::{OutcomeSource, Scenario, ScenarioData, SensitivityReport};
    /// let sims = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    /// let data = ScenarioData::from_simulated_ipv(&sims);
    /// assert!(data.is_simulated());
    /// let base = Scenario::new("official records")
    ///     .sources([OutcomeSource::Official])
    ///     .comparison("programme_vs_no_programme");
    /// let partner = Scenario::source_only(&base, OutcomeSource::Partner);
    /// let report = SensitivityReport::run(&data, &base, &[partner])?;
    /// assert!(report.to_string().contains("SIMULATED"));
    /// // every comparison at once is an error
    /// assert!(SensitivityReport::run(&data, &Scenario::new("all"), &[]).is_err());
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_simulated_ipv(studies: &[crate::datasets::ipv::SimulatedStudy]) -> Self {
        use crate::datasets::ipv::{LongArm, Source, long_arms};
        let counts = |a: LongArm| {
            let c = super::ArmCounts::new(
                f64::from(a.events),
                f64::from(a.non_events),
                f64::from(a.dropouts),
            );
            match a.dropout_events {
                Some(f) => c.with_dropout_events(f64::from(f)),
                None => c,
            }
        };
        let list = studies
            .iter()
            .map(|st| {
                let mut s = ScenarioStudy::new(st.label.clone())
                    .attr("comparison", st.comparison_type.name())
                    .attr("id", f64::from(st.id))
                    .attr("model", st.model.name())
                    .attr("design", st.design.name())
                    .attr("flawed", st.is_flawed())
                    .attr("completer_only", st.completer_only)
                    .attr("tailored", st.tailored)
                    .attr("region", st.region.name())
                    .attr("income", st.income.name())
                    .attr("country", st.country.clone())
                    .attr("year", f64::from(st.year))
                    .attr("follow_up_months", f64::from(st.follow_up_months))
                    .attr("dropout_rate", st.programme_dropout_proportion())
                    .attr("simulated", true);
                for (src, os) in [
                    (Source::Official, OutcomeSource::Official),
                    (Source::Partner, OutcomeSource::Partner),
                    (Source::SelfReport, OutcomeSource::SelfReport),
                ] {
                    if let Some((t, Some(c))) = long_arms(st, src) {
                        s = s.binary(os, BinaryCounts::new(counts(t), counts(c)));
                    }
                }
                s
            })
            .collect();
        ScenarioData::simulated(
            list,
            "simulated IPV programme evaluations (metan::datasets::ipv)",
        )
    }
}

/// A selection rule on study attributes, outcome sources and labels (see the module docs
/// for the serialized form).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "op", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Predicate {
    /// Every study.
    #[default]
    All,
    /// The attribute equals the value.
    Equals {
        /// Attribute name.
        attr: String,
        /// Value.
        value: AttrValue,
    },
    /// The attribute is recorded and differs from the value.
    NotEquals {
        /// Attribute name.
        attr: String,
        /// Value.
        value: AttrValue,
    },
    /// The attribute equals one of the values.
    In {
        /// Attribute name.
        attr: String,
        /// Values.
        values: Vec<AttrValue>,
    },
    /// Numeric attribute `<` value.
    Lt {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `<=` value.
    Le {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `>` value.
    Gt {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// Numeric attribute `>=` value.
    Ge {
        /// Attribute name.
        attr: String,
        /// Bound.
        value: f64,
    },
    /// The attribute is present and true (see [`AttrValue::is_true`]).
    Flag {
        /// Attribute name.
        attr: String,
    },
    /// The attribute is recorded.
    Has {
        /// Attribute name.
        attr: String,
    },
    /// The study reports an outcome from this source.
    HasSource {
        /// Outcome source.
        source: OutcomeSource,
    },
    /// The study has this label.
    Label {
        /// Study label.
        label: String,
    },
    /// All of the predicates hold.
    And {
        /// Predicates.
        all: Vec<Predicate>,
    },
    /// Any of the predicates holds.
    Or {
        /// Predicates.
        any: Vec<Predicate>,
    },
    /// The predicate does not hold.
    Not {
        /// Predicate.
        not: Box<Predicate>,
    },
}

impl Predicate {
    /// `attr == value`.
    pub fn equals(attr: impl Into<String>, value: impl Into<AttrValue>) -> Self {
        Predicate::Equals {
            attr: attr.into(),
            value: value.into(),
        }
    }
    /// The flag `attr` is set.
    pub fn flag(attr: impl Into<String>) -> Self {
        Predicate::Flag { attr: attr.into() }
    }
    /// The study reports `source`.
    pub fn has_source(source: OutcomeSource) -> Self {
        Predicate::HasSource { source }
    }
    /// Negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(p: Predicate) -> Self {
        Predicate::Not { not: Box::new(p) }
    }
    /// Conjunction.
    pub fn and(ps: impl IntoIterator<Item = Predicate>) -> Self {
        Predicate::And {
            all: ps.into_iter().collect(),
        }
    }
    /// Disjunction.
    pub fn or(ps: impl IntoIterator<Item = Predicate>) -> Self {
        Predicate::Or {
            any: ps.into_iter().collect(),
        }
    }

    /// Whether the study satisfies the predicate.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{Predicate, ScenarioStudy};
    /// let s = ScenarioStudy::new("A").attr("design", "RCT").attr("dropout_rate", 0.4);
    /// let p = Predicate::and([
    ///     Predicate::equals("design", "rct"),
    ///     Predicate::Gt { attr: "dropout_rate".into(), value: 0.3 },
    /// ]);
    /// assert!(p.matches(&s));
    /// assert!(!Predicate::flag("flawed").matches(&s));
    /// ```
    pub fn matches(&self, s: &ScenarioStudy) -> bool {
        let num = |attr: &str| s.attribute(attr).and_then(AttrValue::number);
        match self {
            Predicate::All => true,
            Predicate::Equals { attr, value } => {
                s.attribute(attr).is_some_and(|a| a.matches(value))
            }
            Predicate::NotEquals { attr, value } => {
                s.attribute(attr).is_some_and(|a| !a.matches(value))
            }
            Predicate::In { attr, values } => s
                .attribute(attr)
                .is_some_and(|a| values.iter().any(|v| a.matches(v))),
            Predicate::Lt { attr, value } => num(attr).is_some_and(|x| x < *value),
            Predicate::Le { attr, value } => num(attr).is_some_and(|x| x <= *value),
            Predicate::Gt { attr, value } => num(attr).is_some_and(|x| x > *value),
            Predicate::Ge { attr, value } => num(attr).is_some_and(|x| x >= *value),
            Predicate::Flag { attr } => s.attribute(attr).is_some_and(AttrValue::is_true),
            Predicate::Has { attr } => s.attribute(attr).is_some(),
            Predicate::HasSource { source } => s.outcome_from(source).is_some(),
            Predicate::Label { label } => s.label == *label,
            Predicate::And { all } => all.iter().all(|p| p.matches(s)),
            Predicate::Or { any } => any.iter().any(|p| p.matches(s)),
            Predicate::Not { not } => !not.matches(s),
        }
    }
}

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
    /// Only the studies of this comparison (attribute [`COMPARISON_ATTR`]); `None`: any.
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
    /// Keeps only the studies of comparison `c` (attribute [`COMPARISON_ATTR`]).
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
    /// comparison (attribute [`COMPARISON_ATTR`]; a study without it counts as "not
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
                r.i2 = f.i2();
                r.q = f.q();
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

/// How estimates are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum BackTransform {
    /// As analysed.
    #[default]
    None,
    /// `exp()`: log odds / risk ratios shown as ratios (the change becomes a ratio).
    Exp,
}

/// Scenarios side by side with a base case (see the module docs).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SensitivityReport {
    data_label: String,
    simulated: bool,
    model: CheckedMetaAnalysis,
    back_transform: BackTransform,
    base: ScenarioResult,
    scenarios: Vec<ScenarioResult>,
    no_comparison_group: Vec<String>,
}

impl SensitivityReport {
    /// Runs `base` and `scenarios` on `data` with the default model (REML, z, 95%).
    ///
    /// # Errors
    /// [`MetaError::Empty`] when the data have no studies; [`MetaError::MixedComparisons`]
    /// when a scenario (or the base) would pool different comparisons (see
    /// [`Scenario::check`]). A scenario that cannot be fitted (e.g. no study left) is
    /// reported with its `error`, not as an error.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{OutcomeSource as Src, Scenario, ScenarioData, ScenarioStudy, SensitivityReport};
    /// let studies = vec![
    ///     ScenarioStudy::new("A").effect(Src::Official, -0.5, 0.04).effect(Src::Partner, -0.1, 0.05),
    ///     ScenarioStudy::new("B").effect(Src::Official, -0.4, 0.03).effect(Src::Partner, 0.0, 0.04),
    ///     ScenarioStudy::new("C").effect(Src::Official, -0.3, 0.05),
    /// ];
    /// let data = ScenarioData::simulated(studies, "toy example");
    /// let base = Scenario::new("official").sources([Src::Official]);
    /// let partner = Scenario::source_only(&base, Src::Partner);
    /// let report = SensitivityReport::run(&data, &base, &[partner])?;
    /// assert_eq!(report.scenarios()[0].k, 2);
    /// assert!(report.scenarios()[0].change > 0.0); // partner reports: smaller effect
    /// assert!(report.to_string().contains("SIMULATED"));
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn run(data: &ScenarioData, base: &Scenario, scenarios: &[Scenario]) -> Result<Self> {
        Self::run_with(data, base, scenarios, &MetaAnalysis::new())
    }

    /// As [`SensitivityReport::run`], with another default model.
    ///
    /// # Errors
    /// As [`SensitivityReport::run`], and those of [`MetaAnalysis::check`] for the model.
    pub fn run_with(
        data: &ScenarioData,
        base: &Scenario,
        scenarios: &[Scenario],
        model: &(impl Settings + ?Sized),
    ) -> Result<Self> {
        let model = model.checked()?.into_owned();
        if data.studies.is_empty() {
            return Err(MetaError::Empty);
        }
        for s in std::iter::once(base).chain(scenarios) {
            s.check(data)?;
        }
        let mut b = base.run(data, &model);
        b.change = 0.0;
        let rs = scenarios
            .iter()
            .map(|s| {
                let mut r = s.run(data, &model);
                r.change = r.estimate - b.estimate;
                r
            })
            .collect();
        Ok(SensitivityReport {
            data_label: data.data_label(),
            simulated: data.simulated,
            model,
            back_transform: BackTransform::None,
            base: b,
            scenarios: rs,
            no_comparison_group: data
                .studies
                .iter()
                .filter(|s| s.comparison_type() == Some(ComparisonType::NoComparisonGroup))
                .map(|s| s.label.clone())
                .collect(),
        })
    }

    /// Shows estimates back-transformed (e.g. [`BackTransform::Exp`] for log odds ratios).
    pub fn with_back_transform(mut self, t: BackTransform) -> Self {
        self.back_transform = t;
        self
    }
    /// The base case.
    pub fn base(&self) -> &ScenarioResult {
        &self.base
    }
    /// The scenarios, in order.
    pub fn scenarios(&self) -> &[ScenarioResult] {
        &self.scenarios
    }
    /// The data label printed in the title.
    pub fn data_label(&self) -> &str {
        &self.data_label
    }
    /// True when the data are simulated.
    pub fn is_simulated(&self) -> bool {
        self.simulated
    }
    /// The studies of the data without a comparison group
    /// ([`ComparisonType::NoComparisonGroup`]): counted, never pooled.
    pub fn no_comparison_group(&self) -> &[String] {
        &self.no_comparison_group
    }
}

impl fmt::Display for SensitivityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.back_transform == BackTransform::Exp;
        let tr = |x: f64| if exp { x.exp() } else { x };
        writeln!(f)?;
        writeln!(f, "Sensitivity analysis ({})", self.data_label)?;
        writeln!(
            f,
            "default model: {}, {} test, {}% CI{}",
            self.model.method(),
            self.model.test(),
            self.model.level(),
            if exp {
                "; estimates and CIs exponentiated"
            } else {
                ""
            }
        )?;
        writeln!(f)?;
        let all: Vec<&ScenarioResult> =
            std::iter::once(&self.base).chain(&self.scenarios).collect();
        let names: Vec<String> = all
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if i == 0 {
                    format!("[base] {}", r.name)
                } else {
                    r.name.clone()
                }
            })
            .collect();
        let col = |g: &dyn Fn(&ScenarioResult) -> String| -> Vec<String> {
            all.iter().map(|r| g(r)).collect()
        };
        let headers = [
            "k",
            "estimate",
            "ci.lb",
            "ci.ub",
            "pval",
            "tau2",
            "I2",
            if exp { "ratio to base" } else { "change" },
        ];
        let cols = vec![
            col(&|r| r.k.to_string()),
            col(&|r| fmt_num(tr(r.estimate), 4)),
            col(&|r| fmt_num(tr(r.ci_lower), 4)),
            col(&|r| fmt_num(tr(r.ci_upper), 4)),
            col(&|r| fmt_num(r.p_value, 4)),
            col(&|r| fmt_num(r.tau2, 4)),
            col(&|r| fmt_num(r.i2, 2)),
            col(&|r| fmt_num(tr(r.change), 4)),
        ];
        super::write_table(f, &names, &headers, &cols)?;
        writeln!(f)?;
        writeln!(f, "Studies used (outcome source):")?;
        for (n, r) in names.iter().zip(&all) {
            let used: Vec<String> = r
                .used
                .iter()
                .map(|u| format!("{} [{}]", u.study, u.source))
                .collect();
            writeln!(f, "  {n}:")?;
            let mut line = String::from("   ");
            for (i, u) in used.iter().enumerate() {
                let item = if i + 1 < used.len() {
                    format!(" {u},")
                } else {
                    format!(" {u}")
                };
                if line.len() + item.len() > 92 && line.len() > 3 {
                    writeln!(f, "{line}")?;
                    line = String::from("   ");
                }
                line.push_str(&item);
            }
            writeln!(
                f,
                "{}",
                if used.is_empty() {
                    "    none".to_string()
                } else {
                    line
                }
            )?;
            if let Some(e) = &r.error {
                writeln!(f, "    not fitted: {e}")?;
            }
        }
        if !self.no_comparison_group.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Studies without a comparison group (counted, never pooled as an effect): {}",
                self.no_comparison_group.len()
            )?;
        }
        writeln!(f)?;
        writeln!(f, "({})", self.data_label)
    }
}

/// A scenario file: data label, default model, base case and scenarios (the format is in
/// the module docs). Read it with [`ScenarioSpec::from_toml`] or [`ScenarioSpec::from_json`]
/// and run it with [`ScenarioSpec::run`].
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    provenance: Option<String>,
    simulated: Option<bool>,
    back_transform: BackTransform,
    model: CheckedMetaAnalysis,
    base: Scenario,
    entries: Vec<SpecEntry>,
}

#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq)]
enum SpecEntry {
    Custom(Scenario),
    Builtin(BuiltinSpec),
}

#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinSpec {
    builtin: String,
    name: Option<String>,
    flag: Option<String>,
    attr: Option<String>,
    value: Option<String>,
    source: Option<OutcomeSource>,
    other: Option<OutcomeSource>,
    imor: Option<Vec<(f64, f64)>>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    provenance: Option<String>,
    simulated: Option<bool>,
    #[serde(default)]
    back_transform: BackTransform,
    #[serde(default)]
    model: MetaAnalysis,
    base: Scenario,
    #[serde(default, alias = "scenarios")]
    scenario: Vec<serde_json::Value>,
}

#[cfg(feature = "serde")]
/// The parser's message on one line: the TOML parser's source excerpt (`1 | ...` and the
/// caret line under it) is left out, its position line and explanation kept.
fn spec_err(e: impl fmt::Display) -> MetaError {
    let text = e.to_string();
    let excerpt = |l: &str| {
        let t = l.trim_start();
        t.starts_with('|')
            || t.split_once(" |")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !excerpt(l))
        .collect();
    MetaError::invalid_option("spec", "file", parts.join(": "))
}

#[cfg(feature = "serde")]
impl ScenarioSpec {
    /// Parses a TOML scenario file.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] with the parser's message.
    ///
    /// # Examples
    /// ```
    /// use metan::sensitivity::{ScenarioData, ScenarioSpec};
    /// let spec = ScenarioSpec::from_toml(r#"
    ///     simulated = true
    ///     [base]
    ///     name = "official"
    ///     sources = ["official"]
    ///     [[scenario]]
    ///     builtin = "source_only"
    ///     source = "partner"
    /// "#)?;
    /// let csv = "study,source,yi,vi\nA,official,-0.5,0.04\nA,partner,-0.1,0.05\nB,official,-0.3,0.03\n";
    /// let data = ScenarioData::from_csv_reader(csv.as_bytes(), "toy")?;
    /// let report = spec.run(&data)?;
    /// assert!(report.is_simulated());
    /// assert_eq!(report.scenarios()[0].k, 1);
    /// # Ok::<(), metan::MetaError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Self> {
        let v: serde_json::Value = toml::from_str(text).map_err(spec_err)?;
        Self::from_value(v)
    }

    /// Parses a JSON scenario file (the same structure as the TOML form).
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] with the parser's message.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(spec_err)?;
        Self::from_value(v)
    }

    fn from_value(v: serde_json::Value) -> Result<Self> {
        let raw: RawSpec = serde_json::from_value(v).map_err(spec_err)?;
        let entries = raw
            .scenario
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let tagged = e.get("builtin").is_some();
                let r = if tagged {
                    serde_json::from_value(e).map(SpecEntry::Builtin)
                } else {
                    serde_json::from_value(e).map(SpecEntry::Custom)
                };
                let r = r.map_err(|err| spec_err(format!("scenario {}: {err}", i + 1)))?;
                if let SpecEntry::Custom(Scenario { model: Some(m), .. }) = &r {
                    m.check()
                        .map_err(|err| spec_err(format!("scenario {}: model: {err}", i + 1)))?;
                }
                Ok(r)
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(m) = &raw.base.model {
            m.check()
                .map_err(|err| spec_err(format!("base: model: {err}")))?;
        }
        Ok(ScenarioSpec {
            provenance: raw.provenance,
            simulated: raw.simulated,
            back_transform: raw.back_transform,
            model: raw
                .model
                .check()
                .map_err(|err| spec_err(format!("model: {err}")))?,
            base: raw.base,
            entries,
        })
    }

    /// The scenarios of the file, built-ins expanded against `data`.
    ///
    /// # Errors
    /// [`MetaError::InvalidOption`] for an unknown built-in or a missing parameter.
    pub fn scenarios(&self, data: &ScenarioData) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for e in &self.entries {
            match e {
                SpecEntry::Custom(s) => out.push(s.clone()),
                SpecEntry::Builtin(b) => {
                    let need = |x: &Option<String>, what: &str| {
                        x.clone().ok_or_else(|| {
                            spec_err(format!("built-in {} needs `{what}`", b.builtin))
                        })
                    };
                    let need_src = |x: &Option<OutcomeSource>, what: &str| {
                        x.clone().ok_or_else(|| {
                            spec_err(format!("built-in {} needs `{what}`", b.builtin))
                        })
                    };
                    let mut made = match b.builtin.as_str() {
                        "drop_flagged" => {
                            vec![Scenario::drop_flagged(&self.base, &need(&b.flag, "flag")?)]
                        }
                        "rcts_only" => vec![Scenario::rcts_only(
                            &self.base,
                            b.attr.as_deref().unwrap_or("design"),
                            b.value.as_deref().unwrap_or("RCT"),
                        )],
                        "source_only" => vec![Scenario::source_only(
                            &self.base,
                            need_src(&b.source, "source")?,
                        )],
                        "paired" => vec![Scenario::paired(
                            &self.base,
                            need_src(&b.source, "source")?,
                            need_src(&b.other, "other")?,
                        )],
                        "leave_out_each_flagged" => {
                            leave_out_each_flagged(data, &self.base, &need(&b.flag, "flag")?)
                        }
                        "attrition" => {
                            let all = super::attrition::attrition_scenarios(
                                &self.base,
                                b.imor.as_deref().unwrap_or(&[]),
                            );
                            all.into_iter().skip(1).collect()
                        }
                        other => {
                            return Err(spec_err(format!(
                                "unknown built-in {other:?} (drop_flagged, rcts_only, source_only, paired, leave_out_each_flagged, attrition)"
                            )));
                        }
                    };
                    if let (Some(n), 1) = (&b.name, made.len()) {
                        made[0].name = n.clone();
                    }
                    out.extend(made);
                }
            }
        }
        Ok(out)
    }

    /// Runs the file's scenarios on `data` (its `provenance` and `simulated` override the
    /// data's when given; data flagged simulated stay simulated).
    ///
    /// # Errors
    /// Those of [`ScenarioSpec::scenarios`] and [`SensitivityReport::run`].
    pub fn run(&self, data: &ScenarioData) -> Result<SensitivityReport> {
        let mut data = data.clone();
        if let Some(p) = &self.provenance {
            data.provenance = p.clone();
        }
        if let Some(s) = self.simulated {
            data.simulated |= s;
        }
        let scenarios = self.scenarios(&data)?;
        Ok(
            SensitivityReport::run_with(&data, &self.base, &scenarios, &self.model)?
                .with_back_transform(self.back_transform),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sensitivity::{ArmCounts, attrition};

    fn toy() -> ScenarioData {
        let s = |l: &str| ScenarioStudy::new(l);
        ScenarioData::simulated(
            vec![
                s("A")
                    .effect(OutcomeSource::Official, -0.6, 0.04)
                    .effect(OutcomeSource::Partner, -0.1, 0.05)
                    .attr("design", "RCT"),
                s("B")
                    .effect(OutcomeSource::Official, -0.5, 0.03)
                    .attr("design", "quasi")
                    .attr("flawed", true),
                s("C")
                    .effect(OutcomeSource::Partner, 0.05, 0.06)
                    .effect(OutcomeSource::Couple, 0.1, 0.05)
                    .attr("design", "RCT"),
                s("D")
                    .binary(
                        OutcomeSource::Official,
                        BinaryCounts::new(
                            ArmCounts::new(10.0, 40.0, 30.0),
                            ArmCounts::new(20.0, 40.0, 5.0),
                        ),
                    )
                    .attr("design", "quasi")
                    .attr("flawed", "yes"),
            ],
            "toy",
        )
    }

    #[test]
    fn selection_and_source_preference() {
        let d = toy();
        let base = Scenario::new("official").sources([OutcomeSource::Official]);
        let r = base.run(&d, &MetaAnalysis::new());
        assert_eq!(r.k, 3);
        assert_eq!(r.excluded[0].study, "C");
        let p = Scenario::new("partner, else couple")
            .sources([OutcomeSource::Partner, OutcomeSource::Couple]);
        let r = p.run(&d, &MetaAnalysis::new());
        let src: Vec<String> = r
            .used
            .iter()
            .map(|u| format!("{}:{}", u.study, u.source))
            .collect();
        assert_eq!(src, ["A:partner", "C:partner"]);
        let r = Scenario::drop_flagged(&base, "flawed").run(&d, &MetaAnalysis::new());
        assert_eq!(r.k, 1);
        let r = Scenario::rcts_only(&base, "design", "RCT").run(&d, &MetaAnalysis::new());
        assert_eq!(r.used.len(), 1);
        assert_eq!(r.used[0].study, "A");
        let r = Scenario::paired(&base, OutcomeSource::Partner, OutcomeSource::Official)
            .run(&d, &MetaAnalysis::new());
        assert_eq!(r.k, 1);
        assert_eq!(r.used[0].yi, -0.1);
        let each = leave_out_each_flagged(&d, &base, "flawed");
        assert_eq!(each.len(), 2);
        assert_eq!(each[1].run(&d, &MetaAnalysis::new()).k, 2);
    }

    #[test]
    fn binary_outcomes_follow_the_missing_rule() {
        let d = toy();
        let base = Scenario::new("official").sources([OutcomeSource::Official]);
        let rep = attrition::attrition_report(&d, &base, &[(2.0, 1.0)]).unwrap();
        let yi = |r: &ScenarioResult| r.used.iter().find(|u| u.study == "D").unwrap().yi;
        let aca = yi(rep.base());
        assert!((aca - (10.0f64 * 40.0 / (40.0 * 20.0)).ln()).abs() < 1e-15);
        let itt = yi(&rep.scenarios()[0]);
        assert!((itt - (40.0f64 * 40.0 / (40.0 * 25.0)).ln()).abs() < 1e-15);
        // effect-size studies are the same in every attrition scenario
        assert_eq!(rep.scenarios()[2].used[0].yi, -0.6);
        assert!(rep.to_string().contains("SIMULATED data: toy"));
    }

    #[test]
    fn report_fits_match_direct_fits() {
        let d = toy();
        let base = Scenario::new("official").sources([OutcomeSource::Official]);
        let rep = SensitivityReport::run(&d, &base, &[]).unwrap();
        let used = &rep.base().used;
        let s = Studies::from_variances(
            used.iter().map(|u| u.yi).collect::<Vec<_>>(),
            used.iter().map(|u| u.vi).collect::<Vec<_>>(),
        )
        .unwrap();
        let fit = MetaAnalysis::new().fit(&s).unwrap();
        assert_eq!(rep.base().estimate, fit.estimate());
        assert_eq!(rep.base().ci_upper, fit.ci().1);
        // an empty selection is reported, not an error
        let none = Scenario::new("none").select(Predicate::Label { label: "Z".into() });
        let rep = SensitivityReport::run(&d, &base, &[none]).unwrap();
        assert_eq!(rep.scenarios()[0].k, 0);
        assert_eq!(
            rep.scenarios()[0].error.as_deref(),
            Some("no studies: the data set is empty")
        );
    }

    fn comparisons() -> ScenarioData {
        let s = |l: &str, y: f64, c: ComparisonType| {
            ScenarioStudy::new(l)
                .effect(OutcomeSource::Official, y, 0.04)
                .comparison(c)
        };
        let vs = || ComparisonType::from("programme_vs_no_programme");
        ScenarioData::simulated(
            vec![
                s("A", -0.2, vs()),
                s(
                    "B",
                    -0.9,
                    ComparisonType::from("couples_vs_standard_programme"),
                ),
                s("C", -1.4, ComparisonType::CompletersVsDropouts),
                s("D", -0.1, vs()),
                s("E", -2.0, ComparisonType::NoComparisonGroup),
            ],
            "toy",
        )
    }

    #[test]
    fn one_comparison_per_pooled_estimate() {
        let d = comparisons();
        let all = Scenario::new("all");
        // mixing is a typed error naming the scenario and the comparisons ...
        let e = all.check(&d).unwrap_err();
        assert_eq!(
            e,
            MetaError::MixedComparisons {
                scenario: "all".into(),
                comparisons: vec![
                    "couples_vs_standard_programme".into(),
                    "programme_vs_no_programme".into(),
                    "completers_vs_dropouts".into(),
                ],
            }
        );
        assert!(matches!(
            SensitivityReport::run(&d, &all, &[]),
            Err(MetaError::MixedComparisons { .. })
        ));
        let r = all.run(&d, &MetaAnalysis::new());
        assert!(r.estimate.is_nan());
        assert_eq!(r.error, Some(e.to_string()));
        // ... unless asked for; a study without a comparison group is never pooled
        let mixed = all
            .clone()
            .allow_mixed_comparisons()
            .run(&d, &MetaAnalysis::new());
        assert_eq!(mixed.k, 4);
        let e_out = mixed.excluded.iter().find(|x| x.study == "E").unwrap();
        assert_eq!(
            e_out.reason,
            "no comparison group: counted, never pooled as an effect"
        );
        // the filter keeps one comparison
        let vs = all.comparison("programme_vs_no_programme");
        let r = vs.run(&d, &MetaAnalysis::new());
        let used: Vec<&str> = r.used.iter().map(|u| u.study.as_str()).collect();
        assert_eq!(used, ["A", "D"]);
        assert_eq!(
            r.excluded[0].reason,
            "not selected: comparison couples_vs_standard_programme"
        );
        let rep = SensitivityReport::run(&d, &vs, &[Scenario::drop_flagged(&vs, "x")]).unwrap();
        assert_eq!(rep.no_comparison_group(), ["E"]);
        assert!(rep.to_string().contains(
            "Studies without a comparison group (counted, never pooled as an effect): 1"
        ));
        // studies without the attribute mixed with studies that have it: an error too
        let plus = ScenarioData::simulated(
            vec![
                d.studies()[0].clone(),
                ScenarioStudy::new("F").effect(OutcomeSource::Official, 0.0, 0.04),
            ],
            "toy",
        );
        let e = Scenario::new("x").check(&plus).unwrap_err();
        assert!(e.to_string().contains("not recorded"), "{e}");
        // data without the attribute at all: nothing to check
        assert!(Scenario::new("x").check(&toy()).is_ok());
    }

    #[test]
    fn csv_reads_dropout_events_and_uncontrolled_studies() {
        let text = "study,source,comparison,t_events,t_non_events,t_dropouts,t_dropout_events,\
                    c_events,c_non_events,c_dropouts,c_dropout_events,yi,vi\n\
                    A,official,programme_vs_no_programme,10,40,20,12,15,35,0,NA,,\n\
                    B,official,no_comparison_group,10,40,20,,NA,NA,NA,NA,,\n\
                    B,partner,no_comparison_group,12,38,20,,NA,NA,NA,NA,,\n\
                    C,official,programme_vs_no_programme,,,,,,,,,-0.2,0.05\n";
        let d = ScenarioData::from_csv_reader(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(d.studies().len(), 3);
        let Outcome::Binary(c) = d.studies()[0].outcomes()[0].1 else {
            panic!("counts expected")
        };
        assert_eq!(c.treatment.dropout_events, Some(12.0));
        assert_eq!(c.control.dropout_events, None);
        assert!(d.studies()[1].outcomes().is_empty());
        assert_eq!(
            d.studies()[1].comparison_type(),
            Some(ComparisonType::NoComparisonGroup)
        );
        let r = Scenario::new("x")
            .missing(MissingRule::ObservedDropouts)
            .run(&d, &MetaAnalysis::new());
        assert_eq!(r.k, 2);
        assert!((r.used[0].yi - ((22.0f64 * 35.0) / (48.0 * 15.0)).ln()).abs() < 1e-15);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn predicates_and_scenarios_deserialize() {
        let json = r#"{"name": "x", "sources": ["partner", "police", "my source"],
            "select": {"op": "and", "all": [{"op": "equals", "attr": "design", "value": "RCT"},
                                            {"op": "not", "not": {"op": "flag", "attr": "flawed"}}]},
            "missing": {"rule": "imor", "treatment": 2.0, "control": 1.0},
            "model": {"method": "DL"}}"#;
        let s: Scenario = serde_json::from_str(json).unwrap();
        assert_eq!(
            s.sources,
            vec![
                OutcomeSource::Partner,
                OutcomeSource::Official,
                OutcomeSource::Other("my source".into())
            ]
        );
        assert_eq!(
            s.missing,
            MissingRule::Imor {
                treatment: 2.0,
                control: 1.0
            }
        );
        let m = s.model.clone().unwrap().check().unwrap();
        assert_eq!(m.method(), Method::DL);
        assert_eq!(m.level(), 95.0);
        assert_eq!(s.comparison, None);
        assert!(!s.mix_comparisons);
        let c: Scenario = serde_json::from_str(
            r#"{"name": "y", "comparison": "Couples_vs_Standard_Programme", "mix_comparisons": true}"#,
        )
        .unwrap();
        assert_eq!(
            c.comparison,
            Some(ComparisonType::Between(
                "couples_vs_standard_programme".into()
            ))
        );
        assert!(c.mix_comparisons);
        let d = toy();
        // A and C: RCTs, not flawed, with partner reports
        assert_eq!(s.run(&d, &MetaAnalysis::new()).k, 2);
    }
}
