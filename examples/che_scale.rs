//! Time and memory of a three-level CHE fit (REML, rho = 0.6, one moderator) + CR2 at
//! scale, on SIMULATED data: `cargo run --release --example che_scale -- [clusters] [size]`
//! (default 10^5 clusters of 10 = 10^6 effects). Run under `/usr/bin/time -v` for the
//! peak memory (maximum resident set size). Prints wall-clock and process CPU seconds of
//! the fit and of CR2 (wall clock is noisy on a shared machine; CPU time is not).

#[path = "shared/che.rs"]
mod che;

use metan::{MvModel, RobustKind};
use std::time::Instant;

fn cpu_seconds() -> f64 {
    // utime + stime of this process, from /proc (Linux); NaN elsewhere
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn main() -> Result<(), metan::MetaError> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let n_cl = args.next().flatten().unwrap_or(100_000);
    let size = args.next().flatten().unwrap_or(10);
    let s = che::che_data(n_cl, size, 2)?;
    let spec = MvModel::new().rho(0.6).moderator("x");
    for run in 1..=3 {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let fit = spec.fit(&s)?;
        let (t1, c1) = (t0.elapsed().as_secs_f64(), cpu_seconds());
        let cr2 = fit.robust(RobustKind::CR2)?;
        let (t2, c2) = (t0.elapsed().as_secs_f64(), cpu_seconds());
        println!(
            "run {run}: k = {}, clusters = {}: fit {:.3} s wall ({:.2} s CPU, {} iterations), \
             + CR2 {:.3} s wall ({:.2} s CPU); total {:.3} s wall, {:.2} s CPU; \
             sigma2 = {:?}, CR2 df(x) = {:.2}",
            fit.k(),
            fit.n_clusters(),
            t1,
            c1 - c0,
            fit.iterations(),
            t2 - t1,
            c2 - c1,
            t2,
            c2 - c0,
            fit.sigma2(),
            cr2.coefficients()[1].df.unwrap_or(f64::NAN)
        );
    }
    println!("SIMULATED data (examples/shared/che.rs)");
    Ok(())
}
