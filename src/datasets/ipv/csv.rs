//! [`to_csv`] and [`to_long_csv`]: the simulated evaluations as CSV text, in fixed formats.

use super::record::{Arm, ArmOutcome, Comparison, SimulatedStudy, Source};

const ARM_PREFIXES: [&str; 2] = ["prog", "comp"];

/// The header of [`to_csv`].
fn header() -> String {
    let mut cols: Vec<String> = [
        "simulated",
        "label",
        "id",
        "model",
        "design",
        "completer_only",
        "comparison",
        "tailored",
        "country",
        "region",
        "income",
        "year",
        "follow_up_months",
        "true_log_or",
        "true_base_rate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in ARM_PREFIXES {
        cols.push(format!("{p}_n"));
        cols.push(format!("{p}_dropout_rate"));
        cols.push(format!("{p}_dropouts"));
        for s in Source::ALL {
            cols.push(format!("{p}_{}_events", s.name()));
            cols.push(format!("{p}_{}_dropout_events", s.name()));
        }
        for x in ["mean", "sd", "n"] {
            cols.push(format!("{p}_partner_score_{x}"));
        }
    }
    cols.join(",")
}

/// Quotes a text field when it holds a comma, a quote or a line break (RFC 4180).
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(x: Option<u32>) -> String {
    x.map_or_else(|| "NA".to_string(), |v| v.to_string())
}

fn arm_fields(arm: Option<&Arm>, row: &mut Vec<String>) {
    match arm {
        None => row.extend(std::iter::repeat_n("NA".to_string(), 3 + 2 * 3 + 3)),
        Some(a) => {
            row.push(a.n.to_string());
            row.push(format!("{:.6}", a.dropout_rate));
            row.push(a.dropouts.to_string());
            for s in Source::ALL {
                let o = a.outcome(s);
                row.push(opt(o.map(|o| o.completer_events)));
                row.push(opt(o.and_then(|o| o.dropout_events)));
            }
            match &a.partner_score {
                Some(c) => {
                    row.push(format!("{:.6}", c.mean));
                    row.push(format!("{:.6}", c.sd));
                    row.push(c.n.to_string());
                }
                None => row.extend(std::iter::repeat_n("NA".to_string(), 3)),
            }
        }
    }
}

/// The simulated evaluations as CSV text, one line per study (the "wide" format of
/// `data/ipv_simulated.csv`): a header line, `\n` line ends, `NA` for a value that does not
/// exist (a source not measured, drop-out outcomes of a completer-only evaluation, the
/// comparison arm of a design without one). Every row starts with `simulated = true` and a
/// label ending in "(simulated)".
///
/// Columns: `simulated, label, id, model, design, completer_only, comparison, tailored,
/// country, region, income, year, follow_up_months, true_log_or, true_base_rate`, then for
/// the programme arm (`prog_`) and the comparison arm (`comp_`): `n, dropout_rate, dropouts`,
/// for each source (`official`, `partner`, `self`) `<source>_events` (re-offenders among
/// completers) and `<source>_dropout_events` (re-offenders among drop-outs), and the
/// partner-reported score `partner_score_mean, partner_score_sd, partner_score_n`. Names are
/// those of [`ProgrammeModel::name`](super::ProgrammeModel::name),
/// [`Design::name`](super::Design::name), [`Comparison::name`](super::Comparison::name), etc.
///
/// # Formula
/// Real numbers are written with Rust's `{:.6}` (six decimals, correctly rounded from the
/// exact binary value), which is the same on every platform; so the text is a pure function
/// of the records.
///
/// # Examples
/// ```
/// use metan::datasets::ipv;
/// let studies = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
/// let text = ipv::to_csv(&studies);
/// assert_eq!(text, ipv::shipped_csv());
/// assert!(text.lines().skip(1).all(|l| l.starts_with("true,Sim-IPV-") && l.contains("(simulated)")));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn to_csv(studies: &[SimulatedStudy]) -> String {
    let mut out = header();
    out.push('\n');
    for s in studies {
        let mut row = vec![
            s.simulated.to_string(),
            text(&s.label),
            s.id.to_string(),
            s.model.name().to_string(),
            s.design.name().to_string(),
            s.completer_only.to_string(),
            s.comparison_type.name().to_string(),
            s.tailored.to_string(),
            text(&s.country),
            s.region.name().to_string(),
            s.income.name().to_string(),
            s.year.to_string(),
            s.follow_up_months.to_string(),
            format!("{:.6}", s.true_log_or),
            format!("{:.6}", s.true_base_rate),
        ];
        arm_fields(Some(&s.programme), &mut row);
        arm_fields(s.comparison.as_ref(), &mut row);
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The columns of [`to_long_csv`].
pub(crate) const LONG_HEADER: [&str; 24] = [
    "simulated",
    "study",
    "source",
    "comparison",
    "t_events",
    "t_non_events",
    "t_dropouts",
    "t_dropout_events",
    "c_events",
    "c_non_events",
    "c_dropouts",
    "c_dropout_events",
    "id",
    "model",
    "design",
    "flawed",
    "completer_only",
    "tailored",
    "region",
    "income",
    "country",
    "year",
    "follow_up_months",
    "dropout_rate",
];

/// One arm of a long row: re-offending and not re-offending men among those followed up,
/// drop-outs, and the drop-outs known to have re-offended (`None` when not followed up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LongArm {
    pub(crate) events: u32,
    pub(crate) non_events: u32,
    pub(crate) dropouts: u32,
    pub(crate) dropout_events: Option<u32>,
}

impl LongArm {
    fn cells(self) -> [String; 4] {
        [
            self.events.to_string(),
            self.non_events.to_string(),
            self.dropouts.to_string(),
            opt(self.dropout_events),
        ]
    }
}

/// The arms of one study and source in the long format: `(t, Some(c))` for a comparison,
/// `(t, None)` for a study without a comparison group; `None` when there is no outcome (the
/// source not measured, or a completer-vs-drop-out design without completers or without
/// drop-outs).
pub(crate) fn long_arms(s: &SimulatedStudy, source: Source) -> Option<(LongArm, Option<LongArm>)> {
    let p = &s.programme;
    let po: &ArmOutcome = p.outcome(source)?;
    let arm = |a: &Arm, o: &ArmOutcome| LongArm {
        events: o.completer_events,
        non_events: a.completers() - o.completer_events,
        dropouts: a.dropouts,
        dropout_events: o.dropout_events,
    };
    match s.comparison_type {
        Comparison::NoComparisonGroup => Some((arm(p, po), None)),
        Comparison::CompletersVsDropouts => {
            let f = po.dropout_events?;
            (p.completers() > 0 && p.dropouts > 0).then(|| {
                let group = |events: u32, n: u32| LongArm {
                    events,
                    non_events: n - events,
                    dropouts: 0,
                    dropout_events: None,
                };
                (
                    group(po.completer_events, p.completers()),
                    Some(group(f, p.dropouts)),
                )
            })
        }
        Comparison::ProgrammeVsNoProgramme | Comparison::CouplesVsStandardProgramme => {
            let c = s.comparison.as_ref()?;
            let co = c.outcome(source)?;
            Some((arm(p, po), Some(arm(c, co))))
        }
    }
}

/// The simulated evaluations in the long format of `metan scenarios` and
/// [`ScenarioData::from_csv_reader`](crate::sensitivity::ScenarioData::from_csv_reader)
/// (`data/ipv_simulated_long.csv`): one row per study and measured outcome source, so the
/// official, partner and self-report outcomes of one study are rows sharing its `study`
/// label, told apart by `source` (as a bivariate model of the sources needs them). Every row
/// starts with `simulated = true` and the study's label ending in "(simulated)".
///
/// Columns: `simulated, study, source, comparison`, the counts
/// `t_events, t_non_events, t_dropouts, t_dropout_events, c_events, c_non_events, c_dropouts,
/// c_dropout_events`, and the attributes `id, model, design, flawed, completer_only,
/// tailored, region, income, country, year, follow_up_months, dropout_rate` (the programme
/// arm's observed drop-out proportion, written with Rust's shortest round-trip `{}` so it
/// reads back to the same number).
///
/// * Programme vs no programme, couples vs standard programme: `t_` is the programme arm,
///   `c_` the comparison arm: re-offending and not re-offending completers, drop-outs, and
///   re-offending drop-outs where they were followed up (`NA` in completer-only analyses).
/// * Completers vs drop-outs: `t_` the completers, `c_` the drop-outs (both followed up;
///   `t_dropouts = c_dropouts = 0`). A study without completers or without drop-outs has one
///   row with every outcome cell `NA`: counted, never pooled.
/// * No comparison group: `t_` the one group, `c_` `NA`: counted, never pooled.
///
/// # Examples
/// ```
/// use metan::datasets::ipv;
/// let studies = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
/// let text = ipv::to_long_csv(&studies);
/// assert_eq!(text, ipv::shipped_long_csv());
/// assert!(text.lines().skip(1).all(|l| l.starts_with("true,Sim-IPV-") && l.contains("(simulated)")));
/// # Ok::<(), metan::MetaError>(())
/// ```
pub fn to_long_csv(studies: &[SimulatedStudy]) -> String {
    let mut out = LONG_HEADER.join(",");
    out.push('\n');
    for s in studies {
        let attrs = [
            s.id.to_string(),
            s.model.name().to_string(),
            s.design.name().to_string(),
            s.is_flawed().to_string(),
            s.completer_only.to_string(),
            s.tailored.to_string(),
            s.region.name().to_string(),
            s.income.name().to_string(),
            text(&s.country),
            s.year.to_string(),
            s.follow_up_months.to_string(),
            format!("{}", s.programme_dropout_proportion()),
        ];
        let na = || -> [String; 4] { std::array::from_fn(|_| "NA".to_string()) };
        let mut rows: Vec<(Source, [[String; 4]; 2])> = Source::ALL
            .into_iter()
            .filter_map(|src| {
                let (t, c) = long_arms(s, src)?;
                Some((src, [t.cells(), c.map_or_else(na, LongArm::cells)]))
            })
            .collect();
        if rows.is_empty() {
            // a study with no usable outcome is still listed
            let first = Source::ALL
                .into_iter()
                .find(|&src| s.measured(src))
                .unwrap_or(Source::Official);
            rows.push((first, [na(), na()]));
        }
        for (src, [t, c]) in rows {
            let mut row = vec![
                s.simulated.to_string(),
                text(&s.label),
                src.name().to_string(),
                s.comparison_type.name().to_string(),
            ];
            row.extend(t);
            row.extend(c);
            row.extend(attrs.iter().cloned());
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    out
}
