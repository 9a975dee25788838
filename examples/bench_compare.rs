//! metan side of `scripts/compare_metafor.sh`: reads the CSVs the R script wrote
//! (SIMULATED data), times each operation in-process with `std::time::Instant`, and prints
//! `op,k,reps,sec,estimate,tau2,se` lines.
//!
//! Usage: `cargo run --release --example bench_compare -- target/compare`

use metan::{MetaAnalysis, Method, PermutationTest, Studies};
use std::time::Instant;

fn read(path: &str) -> Result<Studies, Box<dyn std::error::Error>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let (mut y, mut v) = (Vec::new(), Vec::new());
    for rec in rdr.records() {
        let rec = rec?;
        y.push(rec[0].trim().parse::<f64>()?);
        v.push(rec[1].trim().parse::<f64>()?);
    }
    Ok(Studies::from_variances(y, v)?)
}

/// Mean seconds per call over enough repetitions to run about `budget` seconds.
fn time<T>(budget: f64, mut f: impl FnMut() -> T) -> (f64, usize, T) {
    let t = Instant::now();
    let mut r = f();
    let one = t.elapsed().as_secs_f64().max(1e-9);
    let reps = ((budget / one) as usize).clamp(1, 100_000);
    let t = Instant::now();
    for _ in 0..reps {
        r = std::hint::black_box(f());
    }
    (t.elapsed().as_secs_f64() / reps as f64, reps, r)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/compare".into());
    for k in [100usize, 1000] {
        let s = read(&format!("{dir}/data_k{k}.csv"))?;
        for (name, m) in [("REML", Method::REML), ("DL", Method::DL)] {
            // confint(false): metafor's rma() leaves the Q-profile CI to confint()
            let ma = MetaAnalysis::new().method(m).confint(false);
            let (sec, reps, f) = time(0.5, || ma.fit(&s));
            let f = f?;
            println!(
                "{name} fit,{k},{reps},{sec:e},{:.17e},{:.17e},{:.17e}",
                f.estimate(),
                f.tau2(),
                f.se()
            );
        }
    }
    let s = read(&format!("{dir}/data_k100.csv"))?;
    let spec = MetaAnalysis::new().confint(false);
    let pt = PermutationTest::new().iter(1000).seed(1);
    let (sec, reps, r) = time(1.0, || pt.run_analysis(&spec, &s));
    r?;
    println!("permutest 1000 (REML),100,{reps},{sec:e},NA,NA,NA");
    Ok(())
}
