//! Helpers shared by the digest examples (tables on the odds-ratio scale, published
//! comparators, subgroup tests and forest plots). Every table built from simulated data
//! says so.
#![allow(dead_code)]

use std::error::Error;
use std::fs;
use std::path::Path;

pub mod findings;

use metan::data::effect_size::{EffectSizes, TwoByTwo, TwoByTwoMeasure};
use metan::datasets::{PublishedResult, landenberger2005};
use metan::plot::{ForestData, ForestPlot, Transform};
use metan::sensitivity::{Scenario, ScenarioData, ScenarioResult};
use metan::{MetaAnalysis, MetaError, MetaRegression, Studies, subgroup_analysis};

/// Where the examples write their forest plots.
pub const OUT_DIR: &str = "target/digest";

/// Width of the wrapped text (published comparators, notes).
const WIDTH: usize = 100;

/// The direction convention of every table, simulated and real (stated once, at the top).
pub const DIRECTION: &str = "Direction, in every table below (simulated and real): the odds ratio of re-offending, the first group against the second; OR < 1 favours the first group (the programme). Published comparators name their own measure and its direction.";

pub fn section(n: usize, finding: &str) {
    println!();
    println!("Finding {n}. {finding}");
    println!("{}", "-".repeat(finding.len().min(100) + 11));
}

/// Prints `text` wrapped at word boundaries to [`WIDTH`] columns after the label `first`
/// (e.g. `"  note:"`); continuation lines are indented to where the text starts. Nothing is
/// cut.
pub fn wrapped(first: &str, text: &str) {
    let n = first.chars().count();
    let indent = if first.trim().is_empty() { n } else { n + 1 };
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > WIDTH {
            println!("{line}");
            line = " ".repeat(indent);
        }
        if !line.is_empty() && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    println!("{line}");
}

pub fn digest_says(text: &str) {
    wrapped("  digest:", text);
}

/// Runs scenarios with the examples' one model; a scenario that would pool different
/// comparisons is an error.
pub fn run_all(
    data: &ScenarioData,
    scenarios: &[Scenario],
) -> Result<Vec<ScenarioResult>, MetaError> {
    findings::run(data, scenarios)
}

pub fn fmt_p(p: f64) -> String {
    if p < 0.0001 {
        "<.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// `OR [lower, upper]` from a log odds ratio and its CI.
pub fn or_ci(est: f64, lo: f64, hi: f64) -> String {
    format!("{:.2} [{:.2}, {:.2}]", est.exp(), lo.exp(), hi.exp())
}

/// A scenario table on the odds-ratio scale, titled with the one comparison it pools; every
/// one of them is simulated data. Names are printed whole.
pub fn table(comparison: &str, rows: &[ScenarioResult]) {
    let w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .chain(std::iter::once(25))
        .max()
        .unwrap_or(25);
    println!("  SIMULATED data. Comparison: {comparison}.");
    println!(
        "  {:<w$} {:>3}  {:>20}  {:>7}  {:>7}  {:>6}",
        "scenario (SIMULATED data)", "k", "OR [95% CI]", "p", "tau^2", "I^2"
    );
    for r in rows {
        if let Some(e) = &r.error {
            let why = if r.k == 0 {
                "no study in this selection"
            } else {
                e.as_str()
            };
            println!("  {:<w$} {:>3}  {why}", r.name, r.k);
            continue;
        }
        println!(
            "  {:<w$} {:>3}  {:>20}  {:>7}  {:>7.4}  {:>5.1}%",
            r.name,
            r.k,
            or_ci(r.estimate, r.ci_lower, r.ci_upper),
            fmt_p(r.p_value),
            r.tau2,
            r.i2
        );
    }
}

/// Prints a published result (real) with its source, whole: what it measures (`reads`, in
/// words, with its direction), the number with its CI where one was printed, and the note
/// (the review's own words and the caveats) in any case, wrapped, never cut.
pub fn compare(published: &[PublishedResult], review: &str, outcome: &str, reads: &str) {
    let hit = published.iter().find(|p| {
        p.review.starts_with(review) && p.outcome.as_deref().unwrap_or("").contains(outcome)
    });
    let Some(p) = hit else {
        println!("  published: ({review}, {outcome}: not in data/published-results.csv)");
        return;
    };
    let what = p
        .outcome
        .as_deref()
        .map(|o| format!(" [{o}]"))
        .unwrap_or_default();
    wrapped("  published:", &format!("{} {}{what}", p.review, p.year));
    wrapped("    measures:", reads);
    if let (Some(m), Some(v)) = (&p.measure, &p.value_text) {
        let ci = p
            .ci_text
            .as_deref()
            .map(|c| format!(" (95% CI {c})"))
            .unwrap_or_default();
        let k = p.k.as_deref().map(|k| format!(", {k}")).unwrap_or_default();
        wrapped("    result:  ", &format!("{m} {v}{ci}{k}"));
    }
    if let Some(n) = &p.note {
        wrapped("    note:    ", n);
    }
    let src = p.source_url.split(" ; ").next().unwrap_or("");
    println!("    source:   {src}");
}

/// The scenario's studies as `Studies`, labelled as simulated.
pub fn scenario_studies(r: &ScenarioResult) -> Result<Studies, metan::MetaError> {
    let yi: Vec<f64> = r.used.iter().map(|u| u.yi).collect();
    let vi: Vec<f64> = r.used.iter().map(|u| u.vi).collect();
    Studies::from_variances(yi, vi)?.with_labels(r.used.iter().map(|u| u.study.clone()))
}

/// Subgroup test of a categorical attribute among a scenario's studies.
pub fn subgroup_test(
    data: &ScenarioData,
    r: &ScenarioResult,
    attr: &str,
) -> Result<(), Box<dyn Error>> {
    let levels: Vec<String> = r
        .used
        .iter()
        .map(|u| {
            data.studies()
                .iter()
                .find(|s| s.label() == u.study)
                .and_then(|s| s.attribute(attr))
                .map(|a| a.to_string())
                .unwrap_or_default()
        })
        .collect();
    let studies = scenario_studies(r)?.with_attribute(attr, levels)?;
    let sg = subgroup_analysis(&studies, attr, &findings::model().analysis())?;
    let q = sg.separate();
    println!(
        "  test of subgroup differences ({attr}, separate tau^2): Q = {:.2}, df = {}, p = {} (SIMULATED data)",
        q.q,
        q.df,
        fmt_p(q.p_value)
    );
    if let Some(c) = sg.common() {
        println!(
            "  test of subgroup differences ({attr}, common tau^2):   QM = {:.2}, df = {}, p = {} (SIMULATED data)",
            c.qm(),
            c.qm_df().0,
            fmt_p(c.qm_p_value())
        );
    }
    Ok(())
}

/// A forest plot of a scenario (odds-ratio axis), titled as simulated.
pub fn forest(r: &ScenarioResult, name: &str) -> Result<(), Box<dyn Error>> {
    if r.used.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(OUT_DIR)?;
    let studies = scenario_studies(r)?;
    let fit = MetaAnalysis::new().fit(&studies)?;
    let svg = ForestPlot::new(ForestData::from_fit(&studies, &fit)?)
        .transform(Transform::Exp)
        .title(format!("{} (SIMULATED data)", r.name))
        .render()?;
    fs::write(Path::new(OUT_DIR).join(format!("{name}.svg")), svg)?;
    Ok(())
}

/// The same questions on real data: Landenberger & Lipsey (2005).
pub fn real_data() -> Result<(), Box<dyn Error>> {
    fs::create_dir_all(OUT_DIR)?;
    println!();
    println!("Real data: CBT programmes for offenders (Landenberger & Lipsey 2005)");
    println!("--------------------------------------------------------------------");
    println!(
        "Source: Landenberger, N. A., & Lipsey, M. W. (2005). The positive effects of cognitive-behavioral"
    );
    println!(
        "programs for offenders. Journal of Experimental Criminology, 1, 451-476. doi:10.1007/s11292-005-3541-7"
    );
    println!(
        "(58 studies, as distributed in the R package metadat). These are real studies, not simulated."
    );
    println!(
        "Effect: odds ratio of re-offending, CBT vs control (metafor's escalc 'OR' with re-offending as the"
    );
    println!(
        "event): the direction of the simulated tables, OR < 1 favours CBT. (metadat's own example counts"
    );
    println!("NOT re-offending as the event, which inverts every odds ratio and its CI.)");
    let rows = landenberger2005()?;
    let tables: Vec<TwoByTwo> = rows
        .iter()
        .map(|r| {
            TwoByTwo::new(
                f64::from(r.n_cbt_rec),
                f64::from(r.n_cbt_non),
                f64::from(r.n_ctrl_rec),
                f64::from(r.n_ctrl_non),
            )
        })
        .collect();
    let studies = EffectSizes::two_by_two(&tables, TwoByTwoMeasure::OR)
        .labels(rows.iter().map(|r| r.study.clone()))
        .studies()?
        .with_attribute("design", rows.iter().map(|r| r.design.clone()))?
        .with_attribute("designprob", rows.iter().map(|r| r.designprob.clone()))?
        .with_attribute("setting", rows.iter().map(|r| r.setting.clone()))?
        .with_attribute(
            "anger_control",
            rows.iter().map(|r| yes(r.components.anger_control)),
        )?
        .with_attribute(
            "cognitive_restructuring",
            rows.iter()
                .map(|r| yes(r.components.cognitive_restructuring)),
        )?
        .with_attribute(
            "interpersonal_problem_solving",
            rows.iter()
                .map(|r| yes(r.components.interpersonal_problem_solving)),
        )?
        .with_moderator(
            "hrs_total",
            rows.iter().map(|r| r.hrs_total).collect::<Vec<f64>>(),
        )?;
    let fit = MetaAnalysis::new().fit(&studies)?;
    println!(
        "  all 58 studies: OR {:.2} [{:.2}, {:.2}], p {}, tau^2 {:.4}, I^2 {:.1}%",
        fit.estimate().exp(),
        fit.ci().0.exp(),
        fit.ci().1.exp(),
        fmt_p(fit.p_value()),
        fit.tau2(),
        fit.i2()
    );
    let svg = ForestPlot::new(ForestData::from_fit(&studies, &fit)?)
        .transform(Transform::Exp)
        .title("Landenberger & Lipsey (2005): CBT for offenders (real data)")
        .render()?;
    fs::write(Path::new(OUT_DIR).join("real_landenberger.svg"), svg)?;
    for (attr, what) in [
        ("design", "design (rct / match / nonequiv)"),
        (
            "designprob",
            "design problems (no / favors_trt / favors_ctrl)",
        ),
        ("setting", "setting"),
        ("anger_control", "programme feature: anger control"),
        (
            "cognitive_restructuring",
            "programme feature: cognitive restructuring",
        ),
        (
            "interpersonal_problem_solving",
            "programme feature: interpersonal problem solving",
        ),
    ] {
        let sg = subgroup_analysis(&studies, attr, &MetaAnalysis::new())?;
        println!("  by {what}:");
        for g in sg.groups() {
            let f = g.fit();
            println!(
                "    {:<12} k = {:>2}  OR {:.2} [{:.2}, {:.2}]",
                g.level(),
                f.k(),
                f.estimate().exp(),
                f.ci().0.exp(),
                f.ci().1.exp()
            );
        }
        let q = sg.separate();
        println!(
            "    test of differences: Q = {:.2}, df = {}, p = {}",
            q.q,
            q.df,
            fmt_p(q.p_value)
        );
    }
    let mr = MetaRegression::new().moderator("hrs_total").fit(&studies)?;
    if let Some(c) = mr.coefficients().get(1) {
        println!(
            "  meta-regression on total programme hours: slope {:.5} per hour (SE {:.5}), p = {}",
            c.estimate,
            c.se,
            fmt_p(c.p_value)
        );
    }
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
