//! The evidence digest *Perpetrator Intervention Programmes in Emergencies* (GBV AoR
//! Helpdesk), reproduced finding by finding.
//!
//! ```sh
//! cargo run --release --example digest
//! ```
//!
//! **What is real and what is simulated.** No complete study-level dataset of IPV programme
//! evaluations could be read, so findings 1-8 run on **simulated** evaluations
//! ([`metan::datasets::ipv`]). The simulator is calibrated to the published pooled results
//! and to the digest's structure, and every table built from it says "SIMULATED". The
//! published figure shown under each table is real: it comes from
//! `data/published-results.csv`, and each comes with its source. The closing section
//! uses real data, the 58 CBT-for-offenders studies of Landenberger & Lipsey (2005).
//!
//! Forest plots of the scenarios are written to `target/digest/`.

use std::error::Error;
use std::fs;

#[path = "shared/mod.rs"]
mod shared;
use shared::{OUT_DIR, compare, digest_says, forest, run_all, section, subgroup_test, table};

use metan::MetaAnalysis;
use metan::datasets::ipv::{self, Assumptions};
use metan::datasets::published_results;
use metan::sensitivity::{
    MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData,
    attrition::attrition_scenarios,
};

fn main() -> Result<(), Box<dyn Error>> {
    let seed = std::env::args()
        .nth(1)
        .map(|s| s.parse::<u64>())
        .transpose()?
        .unwrap_or(ipv::DEFAULT_SEED);
    let sims = ipv::simulate(&Assumptions::default(), seed)?;
    let data = ScenarioData::from_simulated_ipv(&sims);
    let published = published_results()?;
    let spec = MetaAnalysis::new(); // REML, z test, 95%
    fs::create_dir_all(OUT_DIR)?;

    println!("THE EVIDENCE DIGEST, REPRODUCED WITH metan");
    println!("==========================================");
    println!(
        "Findings 1-8 use SIMULATED programme evaluations: {} studies from metan::datasets::ipv",
        sims.len()
    );
    println!(
        "(default assumptions, seed {seed}). They show what the digest's findings look like in data;"
    );
    println!(
        "they are not real studies. The 'published' lines beneath each table are real, with sources."
    );
    println!(
        "Odds ratios < 1 favour the programme (fewer re-offenders). Model: REML, z test, 95% CI."
    );

    // Base: official records, every study as it was reported (drop-outs handled as reported).
    let official = Scenario::new("official records, all designs")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts);
    let partner =
        Scenario::source_only(&official, Src::Partner).named("partner reports, all designs");
    let rct = Predicate::equals("design", "rct");

    // 1 -------------------------------------------------------------------------------------
    section(
        1,
        "Pooled effects are small at best and often not statistically significant.",
    );
    let rows = [
        official
            .clone()
            .select(rct.clone())
            .named("official records, RCTs"),
        partner
            .clone()
            .select(rct.clone())
            .named("partner reports, RCTs"),
        official.clone(),
        partner.clone(),
    ];
    let res = run_all(&data, &rows, &spec);
    table(&res);
    compare(
        &published,
        "Wilson, Feder & Olaghere",
        "official reports of IPV",
    );
    compare(&published, "Wilson, Feder & Olaghere", "victim-reported");
    compare(&published, "Smedslund", "new violence");
    forest(&res[0], "1_official_rcts")?;

    // 2 -------------------------------------------------------------------------------------
    section(
        2,
        "Effects shrink or vanish when partner reports replace official records.",
    );
    let sound = Predicate::not(Predicate::flag("flawed"));
    let rows = [
        official
            .clone()
            .select(sound.clone())
            .named("official records, sound designs"),
        partner
            .clone()
            .select(sound.clone())
            .named("partner reports, sound designs"),
        Scenario::paired(
            &official.clone().select(sound.clone()),
            Src::Official,
            Src::Partner,
        )
        .named("official, sound designs reporting both sources"),
        Scenario::paired(
            &official.clone().select(sound.clone()),
            Src::Partner,
            Src::Official,
        )
        .named("partner, sound designs reporting both sources"),
    ];
    let res = run_all(&data, &rows, &spec);
    table(&res);
    compare(&published, "Feder & Wilson (J Exp", "official reports");
    compare(&published, "Feder & Wilson", "partner/victim");
    forest(&res[2], "2_paired_official")?;
    forest(&res[3], "2_paired_partner")?;

    // 3 -------------------------------------------------------------------------------------
    section(
        3,
        "Stronger designs show smaller effects; drop the flawed studies and the effect fades.",
    );
    let rows = [
        official.clone(),
        official.clone().select(rct.clone()).named("RCTs only"),
        Scenario::drop_flagged(&official, "flawed")
            .named("flawed designs dropped (completer-vs-drop-out, completer-only)"),
        official
            .clone()
            .select(Predicate::flag("flawed"))
            .named("flawed designs only"),
    ];
    let res = run_all(&data, &rows, &spec);
    table(&res);
    compare(&published, "Cheng", "DV recidivism");
    compare(&published, "Feder & Wilson", "partner/victim");
    digest_says(
        "Eckhardt et al. (2013): about half of the traditional-programme studies positive; none once the 3 methodologically flawed studies are removed.",
    );
    compare(&published, "Eckhardt", "");
    forest(&res[2], "3_flawed_dropped")?;

    // 4 -------------------------------------------------------------------------------------
    section(
        4,
        "High drop-out inflates success: completers look better than everyone assigned.",
    );
    let sound = Scenario::drop_flagged(&official, "flawed").named("official, sound designs");
    let mut rows = vec![
        sound
            .clone()
            .missing(MissingRule::ObservedDropouts)
            .named("as reported"),
    ];
    rows.extend(attrition_scenarios(&sound, &[(2.0, 1.0), (3.0, 1.0)]));
    let res = run_all(&data, &rows, &spec);
    table(&res);
    digest_says(
        "Drop-out is 40-90% in Spain (Ferrer-Perez & Bosch-Fiol 2018) and 30-75% in Europe (Akoensi et al. 2012); drop-out predicts re-offending (Murphy & Ting 2010).",
    );
    compare(&published, "Santirso", "dropout");
    println!(
        "  Note: 'drop-outs as events' is the pessimistic bound: every drop-out counted as a re-offender,"
    );
    println!(
        "  so programmes with drop-out (and controls without) look harmful. IMOR = informative missingness"
    );
    println!(
        "  odds ratio (Higgins, White & Wood 2008): drop-outs' odds of re-offending relative to completers'."
    );

    // 5 -------------------------------------------------------------------------------------
    section(
        5,
        "No model (Duluth vs CBT) is consistently better than another.",
    );
    let traditional = Predicate::or([
        Predicate::equals("model", "duluth"),
        Predicate::equals("model", "cbt"),
    ]);
    let res = run_all(
        &data,
        &[
            Scenario::drop_flagged(&official, "flawed")
                .select(Predicate::and([
                    Predicate::not(Predicate::flag("flawed")),
                    Predicate::equals("model", "duluth"),
                ]))
                .named("Duluth (sound designs)"),
            Scenario::drop_flagged(&official, "flawed")
                .select(Predicate::and([
                    Predicate::not(Predicate::flag("flawed")),
                    Predicate::equals("model", "cbt"),
                ]))
                .named("CBT (sound designs)"),
        ],
        &spec,
    );
    table(&res);
    let both = Scenario::drop_flagged(&official, "flawed")
        .select(Predicate::and([
            Predicate::not(Predicate::flag("flawed")),
            traditional,
        ]))
        .run(&data, &spec);
    subgroup_test(&data, &both, "model")?;
    compare(&published, "Babcock", "Duluth vs CBT");
    compare(&published, "Arias, Arce & Vilariño", "Duluth / CBT");

    // 6 -------------------------------------------------------------------------------------
    section(
        6,
        "Integrated models (substance use, trauma, motivation) and tailoring show some promise.",
    );
    let models = [
        "duluth",
        "cbt",
        "integrated_substance_use",
        "integrated_trauma",
        "integrated_motivation",
    ];
    let rows: Vec<Scenario> = models
        .iter()
        .map(|m| {
            Scenario::drop_flagged(&official, "flawed")
                .select(Predicate::and([
                    Predicate::not(Predicate::flag("flawed")),
                    Predicate::equals("model", *m),
                ]))
                .named(*m)
        })
        .collect();
    let res = run_all(&data, &rows, &spec);
    table(&res);
    let all_models = Scenario::drop_flagged(&official, "flawed")
        .select(Predicate::and([
            Predicate::not(Predicate::flag("flawed")),
            Predicate::not(Predicate::equals("model", "couples_therapy")),
        ]))
        .run(&data, &spec);
    subgroup_test(&data, &all_models, "model")?;
    compare(&published, "Karakurt, Koç", "pre-post");
    compare(&published, "Stephens-Lewis", "integrated");
    compare(&published, "Santirso", "dropout");

    // 7 -------------------------------------------------------------------------------------
    section(
        7,
        "Couples therapy: a moderate effect in six studies, with safety concerns.",
    );
    let couples = Predicate::equals("model", "couples_therapy");
    let res = run_all(
        &data,
        &[
            official
                .clone()
                .select(couples.clone())
                .named("couples therapy vs standard programme, official"),
            partner
                .clone()
                .select(couples.clone())
                .named("couples therapy vs standard programme, partner"),
        ],
        &spec,
    );
    table(&res);
    digest_says(
        "Karakurt et al. (2016): six studies, a moderate, significant positive effect of couples therapy over standard treatment; safety concerns about joint sessions.",
    );
    compare(&published, "Karakurt, Whiting", "");
    forest(&res[0], "7_couples")?;

    // 8 -------------------------------------------------------------------------------------
    section(
        8,
        "Evidence from low- and middle-income settings is very thin; none from humanitarian settings.",
    );
    println!(
        "  {:<24} {:>7} {:>18} {:>12}   (SIMULATED)",
        "income group", "studies", "with a comparison", "RCTs"
    );
    for g in ["high", "upper_middle", "lower_middle_or_low"] {
        let in_g: Vec<_> = sims.iter().filter(|s| s.income.name() == g).collect();
        let with_cmp = in_g.iter().filter(|s| s.comparison.is_some()).count();
        let rcts = in_g.iter().filter(|s| s.design.name() == "rct").count();
        println!("  {g:<24} {:>7} {with_cmp:>18} {rcts:>12}", in_g.len());
    }
    let res = run_all(
        &data,
        &[
            official
                .clone()
                .select(Predicate::equals("income", "high"))
                .named("high income"),
            official
                .clone()
                .select(Predicate::not(Predicate::equals("income", "high")))
                .named("middle or low income"),
        ],
        &spec,
    );
    table(&res);
    digest_says(
        "Esquivel Santovena & da Silva (2016): 7 Latin American provider studies, none with a comparison group; recidivism 0.8% to 65%. No evaluation from a humanitarian setting.",
    );
    compare(&published, "Cunha", "ranges");

    // Real data -------------------------------------------------------------------------------
    shared::real_data()?;
    println!();
    println!("Forest plots of the scenarios: {OUT_DIR}/*.svg");
    Ok(())
}
