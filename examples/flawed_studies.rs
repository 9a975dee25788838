//! Finding 3 of the digest on SIMULATED data: stronger designs show smaller effects, and the
//! effect fades when the flawed studies (completer-vs-drop-out designs, completer-only
//! analyses) are dropped. `cargo run --release --example flawed_studies`
#[path = "shared/mod.rs"]
mod shared;

use metan::MetaAnalysis;
use metan::datasets::{ipv, published_results};
use metan::sensitivity::{
    MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData, leave_out_each_flagged,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sims = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    let data = ScenarioData::from_simulated_ipv(&sims);
    let base = Scenario::new("official records, all designs")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts);
    let mut scenarios = vec![
        base.clone(),
        Scenario::rcts_only(&base, "design", "rct"),
        Scenario::drop_flagged(&base, "flawed"),
        base.clone()
            .select(Predicate::flag("flawed"))
            .named("flawed designs only"),
    ];
    shared::section(3, "Stronger designs show smaller effects.");
    let rows = shared::run_all(&data, &scenarios, &MetaAnalysis::new());
    shared::table(&rows);
    println!("\n  Leaving out each flawed study in turn (SIMULATED data):");
    scenarios = leave_out_each_flagged(&data, &base, "flawed");
    shared::table(&shared::run_all(&data, &scenarios, &MetaAnalysis::new()));
    let published = published_results()?;
    shared::compare(&published, "Cheng", "DV recidivism");
    shared::digest_says(
        "Eckhardt et al. (2013): none positive once the 3 flawed studies are removed.",
    );
    shared::forest(&rows[2], "flawed_dropped")?;
    Ok(())
}
