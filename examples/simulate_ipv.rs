//! Writes the **simulated** IPV evaluations (default assumptions and seed) as CSV: one line
//! per study (`data/ipv_simulated.csv`) and, optionally, the long format of `metan
//! scenarios`, one line per study and outcome source (`data/ipv_simulated_long.csv`).
//!
//! ```text
//! cargo run --release --example simulate_ipv -- data/ipv_simulated.csv data/ipv_simulated_long.csv   # regenerate the shipped files
//! cargo run --release --example simulate_ipv -- out.csv out_long.csv 42                              # another seed
//! cargo run --release --example simulate_ipv                                                         # wide format to standard output
//! ```

use metan::datasets::ipv::{self, Assumptions};

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("simulate_ipv", body)
}

fn body() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next();
    let long_path = args.next();
    let seed = run::arg::<u64>(
        args.next().as_deref(),
        "seed",
        "a non-negative integer such as 42",
    )?
    .unwrap_or(ipv::DEFAULT_SEED);
    let studies = ipv::simulate(&Assumptions::default(), seed)?;
    let text = ipv::to_csv(&studies);
    match path {
        Some(p) => {
            std::fs::write(&p, &text)?;
            eprintln!(
                "wrote {} SIMULATED studies (seed {seed}) to {p}",
                studies.len()
            );
        }
        None => print!("{text}"),
    }
    if let Some(p) = long_path {
        std::fs::write(&p, ipv::to_long_csv(&studies))?;
        eprintln!("wrote the same SIMULATED studies in long format to {p}");
    }
    Ok(())
}
