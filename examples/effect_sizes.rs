//! Recidivism counts -> log odds ratios -> pooled odds ratio, with back-transformed output.
//!
//! Data: Landenberger & Lipsey (2005), 58 studies of cognitive-behavioural programmes for
//! offenders (J Exp Criminol 1:451-476, doi:10.1007/s11292-005-3541-7), as distributed in
//! the R package metadat (`dat.landenberger2005`); a copy is in `data/`, cited in
//! `data/SOURCES.md`. An odds ratio below 1 means fewer re-offenders with CBT.
//!
//! Run with `cargo run --release --example effect_sizes`.

use metan::data::csv::Table;
use metan::data::effect_size::{EffectSizes, TwoByTwo, TwoByTwoMeasure};
use metan::model::{MantelHaenszel, MhMeasure, Peto};
use metan::{MetaAnalysis, MetaError};

const DATA: &str = include_str!("../data/landenberger2005.csv");

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("effect_sizes", || Ok(body()?))
}

fn body() -> Result<(), MetaError> {
    let table = Table::from_reader(DATA.as_bytes(), "data/landenberger2005.csv")?;
    let labels = table.text_column("study")?;
    let rec_cbt = table.numeric_column("n.cbt.rec")?;
    let non_cbt = table.numeric_column("n.cbt.non")?;
    let rec_ctrl = table.numeric_column("n.ctrl.rec")?;
    let non_ctrl = table.numeric_column("n.ctrl.non")?;

    // one 2x2 table per study: re-offenders (events) and non-re-offenders, CBT vs control
    let tables: Vec<TwoByTwo> = (0..table.len())
        .map(|i| TwoByTwo::new(rec_cbt[i], non_cbt[i], rec_ctrl[i], non_ctrl[i]))
        .collect();

    // log odds ratios and their sampling variances (metafor: escalc("OR", ...))
    let es = EffectSizes::two_by_two(&tables, TwoByTwoMeasure::OR)
        .labels(labels)
        .compute()?;
    let back = es.back_transform(); // exp
    println!(
        "Log odds ratios of re-offending, CBT vs control (first 5 of {}):",
        es.k()
    );
    println!("{:<22} {:>9} {:>9} {:>7}", "study", "yi", "vi", "OR");
    for i in 0..5 {
        if let (Some(y), Some(v)) = (es.yi()[i], es.vi()[i]) {
            println!(
                "{:<22} {:>9.4} {:>9.4} {:>7.3}",
                es.label(i),
                y,
                v,
                back.apply(y)
            );
        }
    }

    // random-effects model (REML); the studies remember their measure, so the printout
    // ends with the pooled odds ratio and its confidence and prediction intervals
    let studies = es.into_studies()?;
    let fit = MetaAnalysis::new().fit(&studies)?;
    print!("{fit}");
    if let Some(or) = fit.back_transformed() {
        println!(
            "Pooled odds ratio of re-offending: {:.3} (95% CI {:.3} to {:.3}); \
             a new study's: {:.3} to {:.3}",
            or.estimate,
            or.ci_lower,
            or.ci_upper,
            or.pi_lower.unwrap_or(f64::NAN),
            or.pi_upper.unwrap_or(f64::NAN)
        );
    }

    // the same tables pooled directly: Mantel-Haenszel and Peto (metafor's rma.mh, rma.peto)
    let mh = MantelHaenszel::new(MhMeasure::OR).fit(&tables)?;
    print!("\nMantel-Haenszel:{mh}");
    let peto = Peto::new().fit(&tables)?;
    print!("Peto:{peto}");
    Ok(())
}
