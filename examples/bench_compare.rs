//! metan side of `scripts/compare_metafor.sh`: reads the CSVs the R script wrote
//! (SIMULATED data), times each operation in-process with `std::time::Instant`, and prints
//! `op,k,reps,sec,values` lines, `values` being the numbers metafor also reports
//! (semicolon-separated, in the same order as `scripts/compare_metafor.R`).
//!
//! With `--targets` after the directory, it times the performance targets that only metan
//! can reach (k = 10^6, 2^20 GOSH subsets, ...) and writes a SIMULATED 10^6-row CSV.
//!
//! Usage: `cargo run --release --example bench_compare -- target/compare [--targets]`

use metan::bias::{RankTest, RegTest, TrimFill};
use metan::data::csv::{CsvSpec, read_studies};
use metan::sensitivity::{CumulativeOrder, Gosh, cumulative, influence, leave_one_out};
use metan::{
    LocationScale, MetaAnalysis, MetaRegression, Method, MvModel, PermutationTest, RobustKind,
    Studies,
};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn read(dir: &str, k: usize) -> Res<Studies> {
    let spec = CsvSpec::new("yi").moderator("x1").moderator("x2");
    Ok(read_studies(format!("{dir}/data_k{k}.csv"), &spec)?)
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

fn emit(op: &str, k: usize, (sec, reps): (f64, usize), values: &[f64]) {
    let v: Vec<String> = values.iter().map(|x| format!("{x:.17e}")).collect();
    println!("{op},{k},{reps},{sec:e},{}", v.join(";"));
}

/// SIMULATED data as in `benches/fit.rs`: `v ~ U(0.01, 0.21)`, `y ~ N(0.3, v + 0.1)`.
fn simulated(k: usize, seed: u64) -> Res<Studies> {
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let (mut y, mut v) = (Vec::with_capacity(k), Vec::with_capacity(k));
    for _ in 0..k {
        let vi = 0.01 + 0.2 * u();
        let z = (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
        y.push(0.3 + z * (vi + 0.1f64).sqrt());
        v.push(vi);
    }
    Ok(Studies::from_variances(y, v)?)
}

/// `op|measured seconds|target seconds` lines for the performance targets of metan alone
/// (metafor cannot run these sizes), and the 10^6-row CSV for `metan fit`.
fn targets(dir: &str) -> Res<()> {
    let reml = MetaAnalysis::new();
    let s = simulated(100, 100)?;
    let (sec, _, _) = time(1.0, || reml.fit(&s));
    println!("REML fit with Q-profile CIs, k = 100|{sec:e}|25e-6");
    let s = simulated(1_000_000, 1_000_000)?;
    let (sec, _, _) = time(3.0, || reml.fit(&s));
    println!("REML fit with Q-profile CIs, k = 10^6|{sec:e}|0.1");
    let s5 = simulated(100_000, 100_000)?;
    let (sec5, _, _) = time(3.0, || reml.fit(&s5));
    println!("REML fit, time(10^6) / time(10^5)|{:e}|12", sec / sec5);
    let s = simulated(10_000, 10_000)?;
    let (sec, _, _) = time(3.0, || (leave_one_out(&reml, &s), influence(&reml, &s)));
    println!("REML leave-one-out + influence, k = 10^4|{sec:e}|0.1");
    let s = read(dir, 100)?;
    let mr = MetaRegression::new().moderators(["x1", "x2"]);
    let pt = PermutationTest::new().iter(10_000).seed(1);
    let (sec, _, _) = time(3.0, || pt.run(&mr, &s));
    println!("REML permutation test, 10^4 permutations, k = 100|{sec:e}|1");
    let s = simulated(20, 20)?;
    let dl = MetaAnalysis::new().method(Method::DL);
    let (sec, _, _) = time(3.0, || Gosh::new().run(&dl, &s));
    println!("DL GOSH, all 2^20 - 1 subsets|{sec:e}|2");
    // the CSV for `metan fit` (timed by the shell script, with its peak memory)
    let s = simulated(1_000_000, 7)?;
    let mut text = String::with_capacity(60 << 20);
    text.push_str("study,yi,vi\n");
    for (i, (y, v)) in s.yi().iter().zip(s.vi()).enumerate() {
        text.push_str(&format!("SIMULATED {},{y:.17e},{v:.17e}\n", i + 1));
    }
    std::fs::write(format!("{dir}/simulated_k1000000.csv"), text)?;
    Ok(())
}

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("bench_compare", body)
}

fn body() -> Res<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/compare".into());
    if std::env::args().nth(2).as_deref() == Some("--targets") {
        return targets(&dir);
    }
    for k in [100usize, 1000] {
        let s = read(&dir, k)?;
        for m in [Method::REML, Method::DL, Method::PM] {
            // confint(false): metafor's rma() leaves the Q-profile CI to confint()
            let ma = MetaAnalysis::new().method(m).confint(false);
            let (sec, reps, f) = time(0.5, || ma.fit(&s));
            let f = f?;
            let op = format!("{} fit", m.name());
            emit(
                &op,
                k,
                (sec, reps),
                &[f.estimate(), f.se(), f.tau2(), f.heterogeneity().q()],
            );
        }
        let mr = MetaRegression::new()
            .moderators(["x1", "x2"])
            .confint(false);
        let (sec, reps, f) = time(0.5, || mr.fit(&s));
        let f = f?;
        let mut v: Vec<f64> = f.coefficients().iter().map(|c| c.estimate).collect();
        v.extend(f.coefficients().iter().map(|c| c.se));
        v.push(f.tau2());
        emit("REML meta-regression (2 moderators)", k, (sec, reps), &v);
    }

    let s = read(&dir, 100)?;
    let ls = LocationScale::new()
        .location(["x1", "x2"])
        .scale(["x1", "x2"]);
    let (sec, reps, f) = time(0.5, || ls.fit(&s));
    let f = f?;
    emit(
        "REML location-scale (mods and scale ~ x1 + x2)",
        100,
        (sec, reps),
        &[f.fit_stats().ll_reml, f.q()],
    );

    let spec = MetaAnalysis::new();
    // the Q-profile CI: a full fit minus one without it
    let (full, reps, f) = time(0.5, || spec.fit(&s));
    let (bare, _, _) = time(0.5, || spec.clone().confint(false).fit(&s));
    let (lo, hi) = f?.heterogeneity().tau2_ci().ok_or("no tau2 CI")?;
    emit(
        "REML Q-profile CI (confint)",
        100,
        ((full - bare).max(0.0), reps),
        &[lo, hi],
    );

    let (sec, reps, l) = time(0.5, || leave_one_out(&spec, &s));
    let l = l?;
    let mut v: Vec<f64> = l.rows().iter().map(|r| r.estimate).collect();
    v.extend(l.rows().iter().map(|r| r.tau2));
    emit("REML leave1out", 100, (sec, reps), &v);

    let (sec, reps, c) = time(0.5, || cumulative(&spec, &s, &CumulativeOrder::Input));
    let c = c?;
    let mut v: Vec<f64> = c.rows().iter().map(|r| r.estimate).collect();
    v.extend(c.rows().iter().map(|r| r.tau2));
    emit("REML cumul", 100, (sec, reps), &v);

    let (sec, reps, inf) = time(0.5, || influence(&spec, &s));
    let inf = inf?;
    let rows = inf.rows();
    let mut v: Vec<f64> = rows.iter().map(|r| r.rstudent).collect();
    v.extend(rows.iter().map(|r| r.cook_d));
    v.extend(rows.iter().map(|r| r.hat));
    emit("REML influence", 100, (sec, reps), &v);

    let tf = TrimFill::new();
    let (sec, reps, t) = time(0.5, || tf.run(&spec, &s));
    let t = t?;
    emit(
        "REML trimfill (L0)",
        100,
        (sec, reps),
        &[
            t.k0() as f64,
            t.fit().estimate(),
            t.fit().se(),
            t.fit().tau2(),
        ],
    );

    let rt = RegTest::new();
    let (sec, reps, r) = time(0.5, || rt.run(&spec, &s));
    let r = r?;
    let limit = r.limit_estimate().ok_or("no limit estimate")?;
    emit(
        "REML regtest (sei)",
        100,
        (sec, reps),
        &[r.statistic(), r.p_value(), limit],
    );

    let rk = RankTest::new();
    let (sec, reps, r) = time(0.5, || rk.run(&s));
    let r = r?;
    emit("ranktest", 100, (sec, reps), &[r.tau(), r.p_value()]);

    let s14 = read(&dir, 14)?;
    let dl = MetaAnalysis::new().method(Method::DL);
    let (sec, reps, g) = time(1.0, || Gosh::new().run(&dl, &s14));
    let g = g?;
    let mut est: Vec<f64> = g.subsets().map(|x| x.estimate).collect();
    let mut tau2: Vec<f64> = g.subsets().map(|x| x.tau2).collect();
    est.sort_by(f64::total_cmp);
    tau2.sort_by(f64::total_cmp);
    est.extend(tau2);
    emit("DL GOSH (all 16383 subsets)", 14, (sec, reps), &est);

    let mr = MetaRegression::new().moderators(["x1", "x2"]);
    let pt = PermutationTest::new().iter(1000).seed(1);
    let (sec, reps, r) = time(1.0, || pt.run(&mr, &s));
    let z: Vec<f64> = r?
        .fit()
        .coefficients()
        .iter()
        .map(|c| c.statistic)
        .collect();
    emit("REML permutest 1000 permutations", 100, (sec, reps), &z);

    // selection models on the ML fit (the unadjusted fit, the model, its Hessian and the
    // tau^2 = 0 fit of the heterogeneity test are all timed)
    for kind in metan::bias::SelectionType::ALL {
        let m = metan::bias::SelectionModel::new(kind);
        let m = if kind == metan::bias::SelectionType::StepFunction {
            m.steps([0.025])
        } else {
            m
        };
        let (sec, reps, f) = time(0.5, || m.fit(&s));
        let f = f?;
        let op = if kind == metan::bias::SelectionType::StepFunction {
            "selmodel stepfun (3PSM)".to_string()
        } else {
            format!("selmodel {}", kind.name())
        };
        emit(&op, 100, (sec, reps), &[f.estimate(), f.tau2(), f.loglik()]);
    }
    // three-level CHE (rho = 0.6) REML + CR2 on 1,500 effects in 300 clusters (SIMULATED)
    let che_csv = format!("{dir}/che_k1500.csv");
    if std::path::Path::new(&che_csv).exists() {
        let spec = CsvSpec::new("yi").moderator("x");
        let ids = metan::data::csv::Table::from_path(&che_csv)?.text_column("study")?;
        let s = read_studies(&che_csv, &spec)?.with_clusters(ids)?;
        let che = MvModel::new().rho(0.6).moderator("x");
        let (sec, reps, r) = time(1.0, || {
            che.fit(&s)
                .and_then(|f| f.robust(RobustKind::CR2).map(|r| (f, r)))
        });
        let (f, _cr2) = r?;
        emit(
            "three-level CHE REML + CR2 (rma.mv sparse + clubSandwich)",
            1500,
            (sec, reps),
            &[f.loglik()],
        );
    }
    Ok(())
}
