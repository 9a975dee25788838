//! Scenario files (TOML or JSON): [`ScenarioSpec`] (the format is in the module docs).

use std::fmt;

use super::{
    BackTransform, OutcomeSource, Scenario, ScenarioData, SensitivityReport, attrition_scenarios,
    leave_out_each_flagged,
};
use crate::error::{MetaError, Result};
use crate::model::{CheckedMetaAnalysis, MetaAnalysis};

/// A scenario file: data label, default model, base case and scenarios (the format is in
/// the module docs). Read it with [`ScenarioSpec::from_toml`] or [`ScenarioSpec::from_json`]
/// and run it with [`ScenarioSpec::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    provenance: Option<String>,
    simulated: Option<bool>,
    back_transform: BackTransform,
    model: CheckedMetaAnalysis,
    base: Scenario,
    entries: Vec<SpecEntry>,
}

#[derive(Debug, Clone, PartialEq)]
enum SpecEntry {
    Custom(Scenario),
    Builtin(BuiltinSpec),
}

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
                            let all =
                                attrition_scenarios(&self.base, b.imor.as_deref().unwrap_or(&[]));
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
