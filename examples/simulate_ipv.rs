//! Writes the **simulated** IPV evaluations (default assumptions and seed) as CSV.
//!
//! ```text
//! cargo run --release --example simulate_ipv -- data/ipv_simulated.csv   # regenerate the shipped file
//! cargo run --release --example simulate_ipv -- out.csv 42               # another seed
//! cargo run --release --example simulate_ipv                             # to standard output
//! ```

use metan::datasets::ipv::{self, Assumptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next();
    let seed = match args.next() {
        Some(s) => s.parse::<u64>()?,
        None => ipv::DEFAULT_SEED,
    };
    let studies = ipv::simulate(&Assumptions::default(), seed)?;
    let text = ipv::to_csv(&studies);
    match path {
        Some(p) => {
            std::fs::write(&p, &text)?;
            eprintln!(
                "wrote {} simulated studies (seed {seed}) to {p}",
                studies.len()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}
