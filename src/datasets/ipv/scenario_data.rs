//! The adapter from the simulated evaluations to the scenario engine's data
//! ([`ScenarioData`]): the dependency runs from the data sets to the sensitivity analyses,
//! never back.

use super::{LongArm, SimulatedStudy, Source, long_arms};
use crate::sensitivity::{ArmCounts, BinaryCounts, OutcomeSource, ScenarioData, ScenarioStudy};

impl From<&[SimulatedStudy]> for ScenarioData {
    /// The project's **SIMULATED** IPV programme evaluations ([`crate::datasets::ipv`]) as
    /// scenario data, labelled simulated: the same data as reading
    /// [`to_long_csv`](crate::datasets::ipv::to_long_csv) of the studies with
    /// [`ScenarioData::from_csv_reader`] (which `metan scenarios` does with
    /// `data/ipv_simulated_long.csv`).
    ///
    /// Each measured outcome source (official, partner, self-report) becomes an outcome of
    /// binary counts with drop-outs: programme vs comparison arm (completers with / without
    /// re-offending, drop-outs, and the drop-outs' re-offending where the evaluation followed
    /// them up: [`MissingRule::ObservedDropouts`](crate::sensitivity::MissingRule::ObservedDropouts) is the analysis each evaluation reports),
    /// or, for completer-vs-drop-out designs, completers vs drop-outs. Studies without a
    /// comparison group have attributes only: they are counted, never pooled. Attributes:
    /// `comparison` (one of [`Comparison::name`](crate::datasets::ipv::Comparison::name), see
    /// [`ComparisonType`](crate::sensitivity::ComparisonType)), `id`, `model`, `design`, `flawed`, `completer_only`, `tailored`,
    /// `region`, `income`, `country`, `year`, `follow_up_months`, `dropout_rate` (programme
    /// arm) and `simulated`.
    ///
    /// # Examples
    /// ```
    /// use metan::datasets::ipv;
    /// use metan::sensitivity::{OutcomeSource, Scenario, ScenarioData, SensitivityReport};
    /// let sims = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    /// let data = ScenarioData::from(sims.as_slice());
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
    fn from(studies: &[SimulatedStudy]) -> Self {
        let counts = |a: LongArm| {
            let c = ArmCounts::new(
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

impl ScenarioData {
    /// The **SIMULATED** IPV evaluations as scenario data: `ScenarioData::from(studies)`
    /// (see the [`From`] implementation for what each study becomes).
    pub fn from_simulated_ipv(studies: &[SimulatedStudy]) -> Self {
        Self::from(studies)
    }
}
