//! Findings 5-6 of the digest on SIMULATED data: no model (Duluth vs CBT) is consistently
//! better, and integrated models show some promise. `cargo run --release --example models_compared`
#[path = "shared/mod.rs"]
mod shared;

use metan::MetaAnalysis;
use metan::datasets::{ipv, published_results};
use metan::sensitivity::{MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sims = ipv::simulate(&ipv::Assumptions::default(), ipv::DEFAULT_SEED)?;
    let data = ScenarioData::from_simulated_ipv(&sims);
    let sound = Predicate::not(Predicate::flag("flawed"));
    let base = Scenario::new("official records, sound designs")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts);
    let spec = MetaAnalysis::new();
    shared::section(
        5,
        "No model (Duluth vs CBT) is consistently better than another.",
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
            base.clone()
                .select(Predicate::and([
                    sound.clone(),
                    Predicate::equals("model", *m),
                ]))
                .named(*m)
        })
        .collect();
    shared::table(&shared::run_all(&data, &rows, &spec));
    let traditional = base
        .clone()
        .select(Predicate::and([
            sound.clone(),
            Predicate::or([
                Predicate::equals("model", "duluth"),
                Predicate::equals("model", "cbt"),
            ]),
        ]))
        .run(&data, &spec);
    shared::subgroup_test(&data, &traditional, "model")?;
    let all = base
        .clone()
        .select(Predicate::and([
            sound,
            Predicate::not(Predicate::equals("model", "couples_therapy")),
        ]))
        .run(&data, &spec);
    shared::subgroup_test(&data, &all, "model")?;
    let published = published_results()?;
    shared::compare(&published, "Babcock", "Duluth vs CBT");
    shared::compare(&published, "Arias, Arce & Vilariño", "Duluth / CBT");
    shared::compare(&published, "Stephens-Lewis", "integrated");
    Ok(())
}
