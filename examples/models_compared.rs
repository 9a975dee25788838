//! Findings 5-6 of the digest on SIMULATED data: no model (Duluth vs CBT) is consistently
//! better (tested for equivalence, not read from a p-value), and integrated models and
//! tailoring show some promise. `cargo run --release --example models_compared`
//!
//! One comparison (programmes vs no programme or treatment as usual, sound designs); odds
//! ratios of re-offending, < 1 favours the programme.
#[path = "shared/mod.rs"]
mod shared;

use metan::datasets::{ipv, published_results};
use shared::{findings, fmt_p, or_ci};

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("models_compared", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    let (_, data) = findings::simulated(ipv::DEFAULT_SEED)?;
    let comparison = "programmes vs no programme or treatment as usual";
    shared::section(
        5,
        "No model (Duluth vs CBT) is consistently better than another.",
    );
    let rows = shared::run_all(&data, &findings::finding5())?;
    shared::table(comparison, &rows);
    let d = findings::difference(&data, &rows[2], findings::is_duluth)?;
    println!(
        "  Duluth vs CBT: ratio of odds ratios {}, p = {}; 90% CI [{:.2}, {:.2}] against {:.2} to {:.2}: TOST p = {} (SIMULATED data)",
        or_ci(d.estimate, d.ci95.0, d.ci95.1),
        fmt_p(d.p),
        d.ci90.0.exp(),
        d.ci90.1.exp(),
        (-d.bound).exp(),
        d.bound.exp(),
        fmt_p(d.tost_p)
    );
    shared::subgroup_test(&data, &rows[2], "model")?;
    shared::section(6, "Integrated models and tailoring show some promise.");
    shared::table(comparison, &shared::run_all(&data, &findings::finding6())?);
    let published = published_results()?;
    shared::compare(
        &published,
        "Babcock",
        "Duluth vs CBT",
        "effect sizes of Duluth and CBT programmes compared (no numbers in the abstract)",
    );
    shared::compare(
        &published,
        "Arias, Arce & Vilariño",
        "Duluth / CBT",
        "counternull effect size delta by model, official reports; > 0 favours the programme",
    );
    shared::compare(
        &published,
        "Stephens-Lewis",
        "integrated",
        "IPV outcomes, integrated IPV + substance-use treatment vs substance-use treatment as usual",
    );
    Ok(())
}
