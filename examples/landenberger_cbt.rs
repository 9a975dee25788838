//! Real data: the 58 CBT-for-offenders studies of Landenberger & Lipsey (2005), J Exp
//! Criminol 1:451-476, doi:10.1007/s11292-005-3541-7 (as distributed in metadat):
//! the pooled odds ratio, design, design problems, setting and programme features.
//! `cargo run --release --example landenberger_cbt`
#[path = "shared/mod.rs"]
mod shared;

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("landenberger_cbt", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    shared::real_data()
}
