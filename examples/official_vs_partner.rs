//! Finding 2 of the digest on SIMULATED data: effects shrink when partner (victim) reports
//! replace official records. `cargo run --release --example official_vs_partner`
//!
//! One comparison (programme vs no programme or treatment as usual); odds ratios of
//! re-offending, < 1 favours the programme.
#[path = "shared/mod.rs"]
mod shared;

use metan::datasets::{ipv, published_results};
use metan::sensitivity::{BackTransform, SensitivityReport};
use shared::findings;

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("official_vs_partner", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    let (_, data) = findings::simulated(ipv::DEFAULT_SEED)?;
    let scenarios = findings::finding2();
    shared::section(
        2,
        "Effects shrink or vanish when partner reports replace official records.",
    );
    let rows = shared::run_all(&data, &scenarios)?;
    shared::table("programmes vs no programme or treatment as usual", &rows);
    let published = published_results()?;
    shared::compare(
        &published,
        "Wilson, Feder & Olaghere",
        "official reports of IPV",
        "odds ratio of IPV recidivism in official records, programme vs control, experimental studies; < 1 favours the programme",
    );
    shared::compare(
        &published,
        "Wilson, Feder & Olaghere",
        "victim-reported",
        "odds ratio of IPV reported by the victim, programme vs control, experimental studies; < 1 favours the programme",
    );
    // the same scenarios as a SensitivityReport (lists the studies each one used)
    let report = SensitivityReport::run(&data, &scenarios[0], &scenarios[1..])?
        .with_back_transform(BackTransform::Exp);
    println!("\n{report}");
    shared::forest(&rows[2], "official_paired")?;
    shared::forest(&rows[3], "partner_paired")?;
    Ok(())
}
