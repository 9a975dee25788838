//! [`to_csv`]: the simulated evaluations as CSV text, in a fixed format.

use super::record::{Arm, SimulatedStudy, Source};

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
        None => row.extend(std::iter::repeat_n("NA".to_string(), 3 + 2 * 3)),
        Some(a) => {
            row.push(a.n.to_string());
            row.push(format!("{:.6}", a.dropout_rate));
            row.push(a.dropouts.to_string());
            for s in Source::ALL {
                let o = a.outcome(s);
                row.push(opt(o.map(|o| o.completer_events)));
                row.push(opt(o.and_then(|o| o.dropout_events)));
            }
        }
    }
}

/// The simulated evaluations as CSV text: a header line and one line per study, `\n` line
/// ends, `NA` for a value that does not exist (a source not measured, drop-out outcomes of a
/// completer-only evaluation, the comparison arm of a completer-vs-drop-out design). Every row starts
/// with `simulated = true` and a label ending in "(simulated)".
///
/// Columns: `simulated, label, id, model, design, completer_only, comparison, country, region, income, year,
/// follow_up_months, true_log_or, true_base_rate`, then for the programme arm (`prog_`) and
/// the comparison arm (`comp_`): `n, dropout_rate, dropouts` and, for each source
/// (`official`, `partner`, `self`), `<source>_events` (re-offenders among completers) and
/// `<source>_dropout_events` (re-offenders among drop-outs). Names are those of
/// [`ProgrammeModel::name`](super::ProgrammeModel::name), [`Design::name`](super::Design::name),
/// etc.
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
            s.comparison_condition.name().to_string(),
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
