//! The evidence digest *Perpetrator Intervention Programmes in Emergencies* (GBV AoR
//! Helpdesk), reproduced finding by finding.
//!
//! ```sh
//! cargo run --release --example digest            # the default seed
//! cargo run --release --example digest -- 42      # another simulated data set
//! ```
//!
//! **What is real and what is simulated.** No complete study-level dataset of IPV programme
//! evaluations could be read, so findings 1-8 run on **simulated** evaluations
//! ([`metan::datasets::ipv`]). The simulator is calibrated to the published pooled results
//! and to the digest's structure, and every table built from it says "SIMULATED". The
//! published figure shown under each table is real: it comes from
//! `data/published-results.csv`, and each comes with what it measures and its source. The
//! closing section uses real data, the 58 CBT-for-offenders studies of Landenberger & Lipsey
//! (2005).
//!
//! **One comparison per table.** Each pooled row pools one comparison (programme vs no
//! programme, couples therapy vs a standard programme, or completers vs drop-outs, which is
//! not a programme effect); studies without a comparison group are counted and described,
//! never pooled. The scenarios and the pattern each finding states are in
//! `examples/shared/findings.rs`, shared with `tests/integration/digest_findings.rs`; the footer runs
//! them on 200 other seeds.
//!
//! The same scenarios from the command line:
//! `metan scenarios data/ipv_simulated_long.csv --spec data/digest_scenarios.toml`.
//!
//! Forest plots of the scenarios are written to `target/digest/`.

use std::error::Error;
use std::fs;

#[path = "shared/mod.rs"]
mod shared;
use shared::findings;
use shared::{
    DIRECTION, OUT_DIR, compare, digest_says, fmt_p, forest, or_ci, run_all, section,
    subgroup_test, table, wrapped,
};

use metan::datasets::ipv::{self, Comparison, Design, IncomeGroup, Source};
use metan::datasets::published_results;

const TRADITIONAL: &str = "Duluth and CBT programmes vs no programme or treatment as usual";
const ALL_PROGRAMMES: &str = "programmes vs no programme or treatment as usual";

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("digest", body)
}

fn body() -> Result<(), Box<dyn Error>> {
    let seed = run::arg::<u64>(
        std::env::args().nth(1).as_deref(),
        "seed",
        "a non-negative integer such as 42",
    )?
    .unwrap_or(ipv::DEFAULT_SEED);
    let (sims, data) = findings::simulated(seed)?;
    let published = published_results()?;
    fs::create_dir_all(OUT_DIR)?;

    println!("THE EVIDENCE DIGEST, REPRODUCED WITH metan");
    println!("==========================================");
    wrapped(
        "",
        &format!(
            "Findings 1-8 use SIMULATED programme evaluations: {} studies from metan::datasets::ipv (default assumptions, seed {seed}). They show what the digest's findings look like in data; they are not real studies. The 'published' lines beneath each table are real, with what they measure and their sources.",
            sims.len()
        ),
    );
    wrapped("", DIRECTION);
    wrapped(
        "",
        "Model: REML, z test, 95% CI. Each table pools one comparison, named in its title; studies without a comparison group are counted and described, never pooled.",
    );

    // 1 -------------------------------------------------------------------------------------
    section(
        1,
        "Pooled effects are small at best and often not statistically significant.",
    );
    let res = run_all(&data, &findings::finding1())?;
    table(TRADITIONAL, &res);
    let ns = res.iter().filter(|r| r.p_value >= 0.05).count();
    println!(
        "  {ns} of {} rows not significant; largest effect d = {:.2} (Cohen's small = 0.2, medium = 0.5).",
        res.len(),
        res.iter()
            .map(|r| findings::as_d(r.estimate))
            .fold(0.0, f64::max)
    );
    shared::partner_score_table(&findings::partner_scores(&sims, &data)?)?;
    compare(
        &published,
        "Wilson, Feder & Olaghere",
        "official reports of IPV",
        "odds ratio of IPV recidivism in official records, court-mandated programme vs control, experimental studies; < 1 favours the programme (the direction of the tables)",
    );
    compare(
        &published,
        "Wilson, Feder & Olaghere",
        "victim-reported",
        "odds ratio of IPV reported by the victim, programme vs control, experimental studies; < 1 favours the programme",
    );
    compare(
        &published,
        "Smedslund",
        "new violence",
        "risk ratio of new violence, CBT vs no-intervention control, randomised trials; < 1 favours CBT",
    );
    forest(&res[0], "1_official_rcts")?;

    // 2 -------------------------------------------------------------------------------------
    section(
        2,
        "Effects shrink or vanish when partner reports replace official records.",
    );
    shared::bivariate_table(&data)?;
    compare(
        &published,
        "Feder & Wilson (J Exp",
        "official reports",
        "mean standardised difference d, studies relying on official reports; d > 0 favours the programme (d = 0.26 is about OR 0.62)",
    );
    compare(
        &published,
        "Feder & Wilson",
        "partner/victim",
        "mean standardised difference d, studies relying on partner (victim) reports; d > 0 favours the programme",
    );

    // 3 -------------------------------------------------------------------------------------
    section(
        3,
        "Stronger designs show smaller effects; drop the flawed studies and the effect fades.",
    );
    let res = run_all(&data, &findings::finding3())?;
    table(TRADITIONAL, &res);
    let flawed = sims
        .iter()
        .filter(|s| s.comparison_type == Comparison::ProgrammeVsNoProgramme)
        .filter(|s| s.model.is_traditional())
        .filter(|s| s.is_flawed())
        .count();
    let traditional = sims
        .iter()
        .filter(|s| s.comparison_type == Comparison::ProgrammeVsNoProgramme)
        .filter(|s| s.model.is_traditional())
        .count();
    println!(
        "  Flawed (completer-only analyses): {flawed} of the {traditional} SIMULATED traditional evaluations with a comparison group."
    );
    wrapped(
        "  ",
        &format!(
            "Without them the estimate moves toward the null ({:.2} to {:.2}); RCTs alone: OR {:.2}, {}. What remains in official records of the sound designs is the records' bias towards men in programmes (OR 0.79 where partners report 0.99, Wilson et al. 2021) and the quasi-experiments' selection, not a programme effect on violence.",
            res[0].estimate.exp(),
            res[1].estimate.exp(),
            res[2].estimate.exp(),
            if res[2].p_value < 0.05 {
                "significant"
            } else {
                "not significant"
            }
        ),
    );
    shared::scale_by_design_table()?;
    shared::bias_table()?;
    digest_says(
        "Eckhardt et al. (2013): about half of the 20 traditional-programme studies positive; none once the 3 methodologically flawed studies are removed.",
    );
    compare(
        &published,
        "Eckhardt",
        "",
        "a narrative review of 20 traditional and 10 alternative-format studies with a comparison group (no pooled number)",
    );
    compare(
        &published,
        "Cheng",
        "DV recidivism",
        "recidivism, programme vs comparison, as 'times less likely' (no odds ratios in the abstract), with significance by design and outcome source",
    );
    forest(&res[1], "3_flawed_dropped")?;

    // 4 -------------------------------------------------------------------------------------
    section(
        4,
        "High drop-out inflates success: completers look better than everyone assigned.",
    );
    let res = run_all(&data, &findings::finding4())?;
    table(
        &format!("{ALL_PROGRAMMES} (sound designs, official records)"),
        &res,
    );
    let dropouts = run_all(&data, &findings::finding4_dropouts())?;
    table(
        "completers vs drop-outs of the same programme: what drop-out selects, NOT a programme effect",
        &dropouts,
    );
    println!(
        "  'Every drop-out a re-offender' is the pessimistic bound: programmes with drop-out (and controls"
    );
    println!(
        "  without) then look harmful. IMOR = informative missingness odds ratio (Higgins, White & Wood 2008)."
    );
    digest_says(
        "Drop-out is 40-90% in Spain (Ferrer-Perez & Bosch-Fiol 2018) and 30-75% in Europe (Akoensi et al. 2012); drop-out predicts re-offending (Murphy & Ting 2010).",
    );
    compare(
        &published,
        "Santirso",
        "dropout",
        "drop-out, programmes with motivational strategies vs without, as 'times less likely' to drop out; > 1 favours the motivational strategies",
    );

    // 5 -------------------------------------------------------------------------------------
    section(
        5,
        "No model (Duluth vs CBT) is consistently better than another.",
    );
    let res = run_all(&data, &findings::finding5())?;
    table(
        "Duluth vs no programme; CBT vs no programme (sound designs, official records)",
        &res[..2],
    );
    let diff = findings::difference(&data, &res[2], |s| {
        s.attribute("model")
            .is_some_and(|m| m.to_string() == "duluth")
    })?;
    println!(
        "  Duluth vs CBT (meta-regression on a Duluth indicator, common tau^2; SIMULATED data, k = {} + {}):",
        diff.k.0, diff.k.1
    );
    println!(
        "    ratio of odds ratios {}, p = {}",
        or_ci(diff.estimate, diff.ci95.0, diff.ci95.1),
        fmt_p(diff.p)
    );
    println!(
        "    equivalence bounds {:.2} to {:.2} (d = +-{}, Cohen's small effect); 90% CI [{:.2}, {:.2}];",
        (-diff.bound).exp(),
        diff.bound.exp(),
        findings::EQUIVALENCE_D,
        diff.ci90.0.exp(),
        diff.ci90.1.exp()
    );
    println!(
        "    two one-sided tests (TOST): p = {}: equivalence {} at alpha = .05.",
        fmt_p(diff.tost_p),
        if diff.equivalent() {
            "shown"
        } else {
            "NOT shown"
        }
    );
    if diff.equivalent() {
        println!(
            "  The difference is within a small effect: here the data support 'no model is better'."
        );
    } else {
        wrapped(
            "  ",
            "A non-significant difference is not evidence of no difference: these data cannot rule out a difference as large as a small effect, so 'no model is consistently better' stays absence of evidence.",
        );
    }
    subgroup_test(&data, &res[2], "model")?;
    compare(
        &published,
        "Babcock",
        "Duluth vs CBT",
        "effect sizes of Duluth and CBT programmes compared (the abstract gives no numbers)",
    );
    compare(
        &published,
        "Arias, Arce & Vilariño",
        "Duluth / CBT",
        "counternull effect size delta by model, official reports; > 0 favours the programme (the effect as large as the null is small, by the data)",
    );

    // 6 -------------------------------------------------------------------------------------
    section(
        6,
        "Integrated models (substance use, trauma, motivation) and tailoring show some promise.",
    );
    let res = run_all(&data, &findings::finding6())?;
    table(
        &format!("{ALL_PROGRAMMES} (sound designs, official records)"),
        &res,
    );
    let all = run_all(&data, &findings::finding6_all())?;
    let integrated = findings::difference(&data, &all[0], |s| {
        s.attribute("model")
            .is_some_and(|m| m.to_string().starts_with("integrated"))
    })?;
    let tailored = findings::difference(&data, &all[0], |s| {
        s.attribute("tailored").is_some_and(|t| t.is_true())
    })?;
    for (what, d) in [
        ("integrated vs traditional", integrated),
        ("tailored vs standard     ", tailored),
    ] {
        println!(
            "  {what}: ratio of odds ratios {}, p = {} (SIMULATED data, k = {} + {})",
            or_ci(d.estimate, d.ci95.0, d.ci95.1),
            fmt_p(d.p),
            d.k.0,
            d.k.1
        );
    }
    digest_says(
        "Karakurt et al. (2019): CBT augmented with substance-use or trauma components more effective than Duluth or CBT alone; Arias, Arce & Vilariño (2013): treatment tailored to the perpetrator more effective, standard-manual programmes less so.",
    );
    compare(
        &published,
        "Karakurt, Koç",
        "pre-post",
        "pooled pre-post change in violence, all programmes, no comparison group; < 0 = less violence after the programme (a different scale from the tables)",
    );
    compare(
        &published,
        "Stephens-Lewis",
        "integrated",
        "IPV and substance-use outcomes, integrated IPV + substance-use treatment vs substance-use treatment as usual (no pooled number in the abstract)",
    );
    compare(
        &published,
        "Arias, Arce & Vilariño",
        "long-term",
        "weighted mean effect size delta, long-term interventions; > 0 favours the programme",
    );

    // 7 -------------------------------------------------------------------------------------
    section(
        7,
        "Couples therapy: a moderate effect in six studies, with safety concerns.",
    );
    let res = run_all(&data, &findings::finding7())?;
    table(
        "couples therapy vs a standard (Duluth or CBT) programme",
        &res,
    );
    println!(
        "  d = {:.2} (Cohen's medium = 0.5). Every row compares couples therapy with a standard programme;",
        findings::as_d(res[0].estimate)
    );
    println!(
        "  none of these {} studies is a completer-vs-drop-out or uncontrolled design.",
        sims.iter()
            .filter(|s| s.comparison_type == Comparison::CouplesVsStandardProgramme)
            .count()
    );
    digest_says(
        "Karakurt et al. (2016): six studies, a moderate, significant positive effect of couples therapy over standard treatment; only under select conditions, with strict safety screening: joint sessions can be coercive.",
    );
    compare(
        &published,
        "Karakurt, Whiting",
        "",
        "couples therapy vs standard (Duluth or CBT) treatment, six studies",
    );
    forest(&res[0], "7_couples")?;

    // 8 -------------------------------------------------------------------------------------
    section(
        8,
        "Evidence from low- and middle-income settings is very thin; none from humanitarian settings.",
    );
    println!(
        "  SIMULATED evaluations by income group and comparison (counted; nothing pooled in this table):"
    );
    let heads = [
        "income group",
        "studies",
        "programme vs none/TAU",
        "couples vs standard",
        "completers vs drop-outs",
        "no comparison group",
        "RCTs",
    ];
    println!(
        "  {:<20} {}",
        heads[0],
        heads[1..]
            .iter()
            .map(|h| format!("{h:>7}"))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for g in [
        IncomeGroup::High,
        IncomeGroup::UpperMiddle,
        IncomeGroup::LowerMiddleOrLow,
    ] {
        let in_g: Vec<_> = sims.iter().filter(|s| s.income == g).collect();
        let n = |c: Comparison| in_g.iter().filter(|s| s.comparison_type == c).count();
        let cells = [
            in_g.len(),
            n(Comparison::ProgrammeVsNoProgramme),
            n(Comparison::CouplesVsStandardProgramme),
            n(Comparison::CompletersVsDropouts),
            n(Comparison::NoComparisonGroup),
            in_g.iter().filter(|s| s.design == Design::Rct).count(),
        ];
        println!(
            "  {:<20} {}",
            g.name(),
            cells
                .iter()
                .zip(&heads[1..])
                .map(|(c, h)| format!("{c:>w$}", w = h.len().max(7)))
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    let single: Vec<f64> = sims
        .iter()
        .filter(|s| s.comparison_type == Comparison::NoComparisonGroup)
        .filter_map(|s| {
            Source::ALL
                .into_iter()
                .find_map(|src| s.programme_rate(src))
        })
        .collect();
    let (lo, hi) = single
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    wrapped(
        "  ",
        &format!(
            "The {} SIMULATED studies without a comparison group report re-offending among their participants from {:.1}% to {:.1}%: described, never pooled as a programme effect (a rate without a comparison says nothing about what the programme changed).",
            single.len(),
            100.0 * lo,
            100.0 * hi
        ),
    );
    let res = run_all(&data, &findings::finding8())?;
    table(ALL_PROGRAMMES, &res[..1]);
    if res[1].k == 0 {
        println!(
            "  middle or low income: no study with a comparison group, so no programme effect can be estimated."
        );
    } else {
        table(ALL_PROGRAMMES, &res[1..]);
    }
    digest_says(
        "Esquivel Santovena & da Silva (2016): 7 Latin American provider studies, none with a comparison group; recidivism 0.8% to 65%. No evaluation from a humanitarian setting (none is simulated either).",
    );
    compare(
        &published,
        "Cunha",
        "ranges",
        "ranges across 36 studies of 2000-2013 (success, drop-out and recidivism rates; programme formats), not a pooled effect",
    );

    // Real data -------------------------------------------------------------------------------
    shared::real_data()?;

    // Across seeds ----------------------------------------------------------------------------
    let rates = findings::rates(findings::SEEDS)?;
    println!();
    println!("How typical is this SIMULATED data set? The same checks on seeds 1-200");
    println!("----------------------------------------------------------------------");
    wrapped(
        "",
        "Each finding's pattern as the digest states it (examples/shared/findings.rs; tests/integration/digest_findings.rs asserts each holds in most seeds):",
    );
    let here = findings::patterns(&sims, &data)?.0;
    for ((rate, parts), now) in rates.findings.iter().zip(&here) {
        println!(
            "  finding {}: holds in {:>5.1}% of seeds (seed {seed}: {})",
            now.finding,
            100.0 * rate,
            if now.holds { "holds" } else { "does not hold" }
        );
        for (what, r) in parts {
            println!("      {:>5.1}%  {what}", 100.0 * r);
        }
    }
    println!(
        "  all eight together: {:.1}% of seeds; Duluth and CBT shown equivalent (TOST, d = +-{}): {:.1}%;",
        100.0 * rates.all,
        findings::EQUIVALENCE_D,
        100.0 * rates.equivalent
    );
    println!(
        "  official minus partner significant (CR2, CHE, rho = {}): {:.1}%.",
        findings::RHO,
        100.0 * rates.contrast_significant
    );
    println!();
    println!("Forest plots of the scenarios: {OUT_DIR}/*.svg");
    Ok(())
}
