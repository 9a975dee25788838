//! Finding 3 of the digest on SIMULATED data: stronger designs show smaller effects, and the
//! effect fades when the flawed studies (completer-only analyses) are dropped.
//! `cargo run --release --example flawed_studies`
//!
//! One comparison (Duluth and CBT programmes vs no programme or treatment as usual); odds
//! ratios of re-offending, < 1 favours the programme.
#[path = "shared/mod.rs"]
mod shared;

use metan::datasets::{ipv, published_results};
use metan::sensitivity::leave_out_each_flagged;
use shared::findings;

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("flawed_studies", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    let (_, data) = findings::simulated(ipv::DEFAULT_SEED)?;
    let comparison = "Duluth and CBT programmes vs no programme or treatment as usual";
    shared::section(3, "Stronger designs show smaller effects.");
    let rows = shared::run_all(&data, &findings::finding3())?;
    shared::table(comparison, &rows);
    println!("\n  Leaving out each flawed study in turn (SIMULATED data):");
    let each = leave_out_each_flagged(&data, &findings::traditional(), "flawed");
    shared::table(comparison, &shared::run_all(&data, &each)?);
    shared::compare(
        &published_results()?,
        "Cheng",
        "DV recidivism",
        "recidivism, programme vs comparison, as 'times less likely', with significance by design and outcome source",
    );
    shared::digest_says(
        "Eckhardt et al. (2013): none positive once the 3 flawed studies are removed.",
    );
    shared::forest(&rows[1], "flawed_dropped")?;
    Ok(())
}
