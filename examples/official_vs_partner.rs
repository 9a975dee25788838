//! Finding 2 of the digest on SIMULATED data: effects shrink when partner (victim) reports
//! replace official records. `cargo run --release --example official_vs_partner`
#[path = "shared/mod.rs"]
mod shared;

use metan::MetaAnalysis;
use metan::datasets::{ipv, published_results};
use metan::sensitivity::{
    BackTransform, MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData,
    SensitivityReport,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sims = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    let data = ScenarioData::from_simulated_ipv(&sims);
    let sound = Predicate::not(Predicate::flag("flawed"));
    let base = Scenario::new("official records, sound designs")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts)
        .select(sound);
    let scenarios = [
        Scenario::source_only(&base, Src::Partner).named("partner reports, sound designs"),
        Scenario::paired(&base, Src::Official, Src::Partner),
        Scenario::paired(&base, Src::Partner, Src::Official),
    ];
    shared::section(
        2,
        "Effects shrink or vanish when partner reports replace official records.",
    );
    let mut rows = vec![base.run(&data, &MetaAnalysis::new())];
    rows.extend(shared::run_all(&data, &scenarios, &MetaAnalysis::new()));
    shared::table(&rows);
    let published = published_results()?;
    shared::compare(
        &published,
        "Wilson, Feder & Olaghere",
        "official reports of IPV",
    );
    shared::compare(&published, "Wilson, Feder & Olaghere", "victim-reported");
    shared::compare(&published, "Feder & Wilson (J Exp", "official reports");
    shared::compare(&published, "Feder & Wilson", "partner/victim");
    // the same scenarios as a SensitivityReport (lists the studies each one used)
    let report =
        SensitivityReport::run(&data, &base, &scenarios)?.with_back_transform(BackTransform::Exp);
    println!("\n{report}");
    shared::forest(&rows[2], "official_paired")?;
    shared::forest(&rows[3], "partner_paired")?;
    Ok(())
}
