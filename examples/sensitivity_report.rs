//! Sensitivity scenarios on a small **SIMULATED** data set: official records vs partner
//! reports vs the studies reporting both sources, flawed studies, and drop-out.
//!
//! Run with `cargo run --release --example sensitivity_report`.
//!
//! Part 1 builds a tiny toy data set here; part 2 runs the same scenarios on the project's
//! simulated IPV evaluations (`metan::datasets::ipv`, also SIMULATED).
//!
//! The data are SIMULATED here, from a seeded portable generator (ChaCha8, seed 2024), so
//! the output is the same on every platform. They are a toy, not evidence: the generating
//! model only mimics the structure the digest describes (see `../shared/digest/README.md`):
//!
//! * 12 programme-vs-comparison studies; re-offending (the event) in the comparison arm
//!   around 30%;
//! * the true effect on violence is null (odds ratio 0.99, as victim reports suggest);
//!   official records are biased towards benefit (odds ratio 0.79), and weaker designs
//!   (quasi-experiments, 3 flagged "flawed": no proper comparison group or completer-only
//!   analysis) add bias towards benefit (odds ratio x 0.7);
//! * drop-out of 10% to 60% in the programme arm (5% to 20% in the comparison arm), with
//!   drop-outs re-offending more often than completers;
//! * every study has official records (counts with drop-outs); 7 also have partner reports
//!   (an effect size and its variance); one has couple reports only besides official ones.

use metan::sensitivity::attrition::attrition_report;
use metan::sensitivity::{
    ArmCounts, BackTransform, BinaryCounts, OutcomeSource as Src, Predicate, Scenario,
    ScenarioData, ScenarioStudy, SensitivityReport, leave_out_each_flagged,
};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

struct Gen(ChaCha8Rng);

impl Gen {
    fn unif(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u = self.unif().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unif()).cos()
    }
    fn binomial(&mut self, n: u32, p: f64) -> f64 {
        (0..n).filter(|_| self.unif() < p).count() as f64
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The SIMULATED toy data set.
fn simulate() -> ScenarioData {
    let mut g = Gen(ChaCha8Rng::seed_from_u64(2024));
    let mut studies = Vec::new();
    for i in 0..12 {
        let rct = i % 2 == 0;
        let flawed = matches!(i, 3 | 7 | 11);
        let n = 60 + (g.unif() * 90.0) as u32;
        let base = (0.3f64 / 0.7).ln() + 0.3 * g.normal();
        let truth = 0.99f64.ln() + 0.1 * g.normal();
        let design_bias =
            if rct { 0.0 } else { 0.7f64.ln() } + if flawed { 0.7f64.ln() } else { 0.0 };
        let official = truth + (0.79f64 / 0.99).ln() + design_bias;
        // official records: counts with drop-outs (drop-outs re-offend more often)
        let drop_t = 0.1 + 0.5 * g.unif();
        let drop_c = 0.05 + 0.15 * g.unif();
        let arm = |g: &mut Gen, logit: f64, drop: f64| {
            let dropouts = g.binomial(n, drop);
            let completers = n - dropouts as u32;
            let events = g.binomial(completers, logistic(logit));
            ArmCounts::new(events, completers as f64 - events, dropouts)
        };
        let counts = BinaryCounts::new(
            arm(&mut g, base + official, drop_t),
            arm(&mut g, base, drop_c),
        );
        let mut s = ScenarioStudy::new(format!("Sim study {:02}", i + 1))
            .binary(Src::Official, counts)
            .attr("design", if rct { "RCT" } else { "quasi" })
            .attr("flawed", flawed)
            .attr("dropout_rate", counts.treatment.dropout_rate());
        // partner reports for 7 studies: close to the (null) truth, noisier
        if i % 3 != 2 || i == 11 {
            let vi = 4.0 / (0.21 * f64::from(n)) + 0.02;
            s = s.effect(Src::Partner, truth + vi.sqrt() * g.normal(), vi);
        } else if i == 5 {
            s = s.effect(Src::Couple, truth + 0.1 * g.normal(), 0.09);
        }
        studies.push(s);
    }
    ScenarioData::simulated(
        studies,
        "toy data from examples/sensitivity_report.rs (seed 2024)",
    )
}

#[path = "shared/run.rs"]
mod run;

fn main() -> std::process::ExitCode {
    run::main("sensitivity_report", || Ok(body()?))
}

fn body() -> Result<(), metan::MetaError> {
    let data = simulate();
    assert!(data.is_simulated());

    // Official records vs partner reports vs the studies reporting both.
    let base = Scenario::new("official records, all studies").sources([Src::Official]);
    let mut scenarios = vec![
        Scenario::source_only(&base, Src::Partner),
        Scenario::new("partner, else couple reports").sources([Src::Partner, Src::Couple]),
        Scenario::paired(&base, Src::Official, Src::Partner),
        Scenario::paired(&base, Src::Partner, Src::Official),
        Scenario::drop_flagged(&base, "flawed"),
        Scenario::rcts_only(&base, "design", "RCT"),
        Scenario::new("official, drop-out below 30%")
            .sources([Src::Official])
            .select(Predicate::Lt {
                attr: "dropout_rate".into(),
                value: 0.3,
            }),
    ];
    scenarios.extend(leave_out_each_flagged(&data, &base, "flawed"));
    let report =
        SensitivityReport::run(&data, &base, &scenarios)?.with_back_transform(BackTransform::Exp);
    println!("{report}");

    // Drop-out: available case vs ITT (drop-outs re-offended), best/worst case, IMORs.
    let attrition = attrition_report(&data, &base, &[(2.0, 1.0), (3.0, 1.0), (2.0, 2.0)])?
        .with_back_transform(BackTransform::Exp);
    println!("{attrition}");

    // Part 2: the project's SIMULATED IPV evaluations (metan::datasets::ipv).
    let sims = metan::datasets::ipv::simulate(
        &metan::datasets::ipv::Assumptions::default(),
        metan::datasets::ipv::DEFAULT_SEED,
    )?;
    let ipv = ScenarioData::from_simulated_ipv(&sims);
    // the base: each evaluation's own analysis (ITT with observed drop-out outcomes, or
    // completers only where drop-outs were not followed up), one comparison: programme vs
    // no programme (the engine refuses to pool it with couples therapy vs a standard
    // programme or with completers vs drop-outs)
    let base = Scenario::new("official records, as reported")
        .sources([Src::Official])
        .missing(metan::sensitivity::MissingRule::ObservedDropouts)
        .comparison("programme_vs_no_programme");
    let scenarios = vec![
        Scenario::source_only(&base, Src::Partner),
        Scenario::paired(&base, Src::Official, Src::Partner),
        Scenario::paired(&base, Src::Partner, Src::Official),
        Scenario::drop_flagged(&base, "flawed"),
        Scenario::rcts_only(&base, "design", "rct"),
        base.clone()
            .missing(metan::sensitivity::MissingRule::AvailableCase)
            .named("official records, completers only"),
        base.clone()
            .missing(metan::sensitivity::MissingRule::DropoutsAsEvents)
            .named("official records, ITT with drop-outs as re-offenders"),
    ];
    let report =
        SensitivityReport::run(&ipv, &base, &scenarios)?.with_back_transform(BackTransform::Exp);
    println!("{report}");
    Ok(())
}
