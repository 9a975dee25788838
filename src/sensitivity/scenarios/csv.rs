//! Long-format CSV input of scenario data: one row per study and outcome source.

use super::super::outcome::{ArmCounts, BinaryCounts};
use super::{
    AttrValue, COMPARISON_ATTR, ComparisonType, Outcome, OutcomeSource, ScenarioData, ScenarioStudy,
};
use crate::error::{MetaError, Result};

impl ScenarioData {
    /// Reads long-format CSV: one row per study and outcome source.
    ///
    /// Columns: `study` (label) and `source` (required); the outcome as `yi` and `vi`, or as
    /// counts `t_events, t_non_events, t_dropouts, c_events, c_non_events, c_dropouts`
    /// (optionally `t_dropout_events` and `c_dropout_events`: the drop-outs known to have had
    /// the event, used by [`MissingRule::ObservedDropouts`](crate::sensitivity::MissingRule::ObservedDropouts); empty or `NA` when not followed
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
                        ArmCounts::new(x[0], x[1], x[2]),
                        ArmCounts::new(x[3], x[4], x[5]),
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
