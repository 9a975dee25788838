//! Finding 4 of the digest on SIMULATED data: high drop-out inflates success rates.
//! Available-case vs intention-to-treat vs best/worst case vs the informative missingness
//! odds ratio (Higgins, White & Wood 2008). `cargo run --release --example attrition`
//!
//! One comparison (programmes vs no programme or treatment as usual, sound designs); odds
//! ratios of re-offending, < 1 favours the programme.
#[path = "shared/mod.rs"]
mod shared;

use metan::datasets::{ipv, published_results};
use metan::sensitivity::attrition::attrition_report;
use metan::sensitivity::{BackTransform, Predicate};
use shared::findings;

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("attrition", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    let (_, data) = findings::simulated(ipv::DEFAULT_SEED)?;
    let base = findings::official()
        .select(Predicate::not(Predicate::flag("flawed")))
        .named("official records, sound designs");
    shared::section(4, "High drop-out inflates success rates.");
    let grid = [(1.5, 1.0), (2.0, 1.0), (3.0, 1.0), (2.0, 2.0), (0.5, 1.0)];
    let report = attrition_report(&data, &base, &grid)?.with_back_transform(BackTransform::Exp);
    let mut rows = vec![report.base().clone()];
    rows.extend(report.scenarios().iter().cloned());
    shared::table("programmes vs no programme or treatment as usual", &rows);
    shared::table(
        "completers vs drop-outs of the same programme: NOT a programme effect",
        &shared::run_all(&data, &findings::finding4_dropouts())?,
    );
    shared::digest_says(
        "drop-out 40-90% in Spain (Ferrer-Perez & Bosch-Fiol 2018), 30-75% in Europe (Akoensi et al. 2012); drop-out predicts re-offending (Murphy & Ting 2010).",
    );
    shared::compare(
        &published_results()?,
        "Santirso",
        "dropout",
        "drop-out, programmes with motivational strategies vs without, as 'times less likely' to drop out",
    );
    Ok(())
}
