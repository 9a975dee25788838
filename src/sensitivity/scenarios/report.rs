//! A base scenario and the scenarios run against it, side by side: [`SensitivityReport`].

use std::fmt;

use super::{ComparisonType, Scenario, ScenarioData, ScenarioResult};
use crate::error::{MetaError, Result};
use crate::format::{fcf, write_table};
use crate::model::{CheckedMetaAnalysis, MetaAnalysis, Settings};

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
            col(&|r| fcf(tr(r.estimate), 4)),
            col(&|r| fcf(tr(r.ci_lower), 4)),
            col(&|r| fcf(tr(r.ci_upper), 4)),
            col(&|r| fcf(r.p_value, 4)),
            col(&|r| fcf(r.tau2, 4)),
            col(&|r| fcf(r.i2, 2)),
            col(&|r| fcf(tr(r.change), 4)),
        ];
        write_table(f, &names, &headers, &cols)?;
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
