//! The direction of each digest finding under the default simulation assumptions, computed
//! with the same scenarios as `examples/digest.rs` (SIMULATED data, REML, z, 95%).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metan::datasets::ipv::{self, Assumptions};
use metan::sensitivity::{
    MissingRule, OutcomeSource as Src, Predicate, Scenario, ScenarioData, ScenarioResult,
};
use metan::{MetaAnalysis, Studies, subgroup_analysis};

fn data() -> ScenarioData {
    let sims = ipv::simulate(&Assumptions::default(), ipv::DEFAULT_SEED).unwrap();
    ScenarioData::from_simulated_ipv(&sims)
}

fn official() -> Scenario {
    Scenario::new("official")
        .sources([Src::Official])
        .missing(MissingRule::ObservedDropouts)
}

fn sound() -> Predicate {
    Predicate::not(Predicate::flag("flawed"))
}

fn run(d: &ScenarioData, s: Scenario) -> ScenarioResult {
    let r = s.run(d, &MetaAnalysis::new());
    assert!(r.error.is_none(), "{:?}", r.error);
    r
}

/// |log OR|: distance from the null.
fn dist(r: &ScenarioResult) -> f64 {
    r.estimate.abs()
}

#[test]
fn data_are_flagged_simulated() {
    let d = data();
    assert!(d.is_simulated());
    assert!(d.data_label().to_lowercase().contains("simulated"));
}

#[test]
fn finding1_rct_effects_are_small_and_partner_reports_not_significant() {
    let d = data();
    let rct = Predicate::equals("design", "rct");
    let off = run(&d, official().select(rct.clone()));
    let par = run(
        &d,
        Scenario::source_only(&official(), Src::Partner).select(rct),
    );
    // small: the official-record OR within (0.5, 1); partner reports not significant
    assert!(
        off.estimate < 0.0 && off.estimate.exp() > 0.5,
        "{}",
        off.estimate.exp()
    );
    assert!(par.p_value > 0.05, "{}", par.p_value);
}

#[test]
fn finding2_partner_reports_are_closer_to_null() {
    let d = data();
    let base = official().select(sound());
    let off = run(&d, base.clone());
    let par = run(&d, Scenario::source_only(&base, Src::Partner));
    assert!(
        dist(&par) < dist(&off),
        "partner {} official {}",
        par.estimate,
        off.estimate
    );
    let po = run(&d, Scenario::paired(&base, Src::Official, Src::Partner));
    let pp = run(&d, Scenario::paired(&base, Src::Partner, Src::Official));
    assert_eq!(po.k, pp.k);
    assert!(dist(&pp) < dist(&po));
}

#[test]
fn finding3_stronger_designs_are_closer_to_null() {
    let d = data();
    let all = run(&d, official());
    let rct = run(&d, Scenario::rcts_only(&official(), "design", "rct"));
    let dropped = run(&d, Scenario::drop_flagged(&official(), "flawed"));
    assert!(dist(&rct) < dist(&all));
    assert!(dist(&dropped) < dist(&all));
}

#[test]
fn finding4_completers_look_better_than_everyone_assigned() {
    let d = data();
    let base = official().select(sound());
    let completers = run(&d, base.clone().missing(MissingRule::AvailableCase));
    let itt = run(&d, base.clone().missing(MissingRule::DropoutsAsEvents));
    let imor = run(
        &d,
        base.missing(MissingRule::Imor {
            treatment: 2.0,
            control: 1.0,
        }),
    );
    assert!(completers.estimate < imor.estimate && imor.estimate < itt.estimate);
}

fn subgroup_p(d: &ScenarioData, r: &ScenarioResult) -> f64 {
    let levels: Vec<String> = r
        .used
        .iter()
        .map(|u| {
            let s = d.studies().iter().find(|s| s.label() == u.study).unwrap();
            s.attribute("model").unwrap().to_string()
        })
        .collect();
    let s = Studies::from_variances(
        r.used.iter().map(|u| u.yi).collect::<Vec<_>>(),
        r.used.iter().map(|u| u.vi).collect::<Vec<_>>(),
    )
    .unwrap()
    .with_attribute("model", levels)
    .unwrap();
    subgroup_analysis(&s, "model", &MetaAnalysis::new())
        .unwrap()
        .separate()
        .p_value
}

#[test]
fn finding5_duluth_and_cbt_do_not_differ() {
    let d = data();
    let r = run(
        &d,
        official().select(Predicate::and([
            sound(),
            Predicate::or([
                Predicate::equals("model", "duluth"),
                Predicate::equals("model", "cbt"),
            ]),
        ])),
    );
    assert!(subgroup_p(&d, &r) > 0.05);
}

#[test]
fn finding6_integrated_models_look_better_than_traditional() {
    let d = data();
    let traditional = run(
        &d,
        official().select(Predicate::and([
            sound(),
            Predicate::or([
                Predicate::equals("model", "duluth"),
                Predicate::equals("model", "cbt"),
            ]),
        ])),
    );
    let integrated = run(
        &d,
        official().select(Predicate::and([
            sound(),
            Predicate::or([
                Predicate::equals("model", "integrated_substance_use"),
                Predicate::equals("model", "integrated_trauma"),
                Predicate::equals("model", "integrated_motivation"),
            ]),
        ])),
    );
    assert!(integrated.estimate < traditional.estimate);
}

#[test]
fn finding7_couples_therapy_moderate_effect() {
    let d = data();
    let r = run(
        &d,
        official().select(Predicate::equals("model", "couples_therapy")),
    );
    assert!(r.k >= 5 && r.k <= 6, "k = {}", r.k);
    assert!(r.ci_upper < 0.0, "significant benefit");
}

#[test]
fn finding8_thin_evidence_outside_high_income_countries() {
    let sims = ipv::simulate(&Assumptions::default(), ipv::DEFAULT_SEED).unwrap();
    let outside: Vec<_> = sims.iter().filter(|s| s.income.name() != "high").collect();
    assert!(outside.len() < sims.len() / 5);
    assert!(
        outside.iter().all(|s| s.comparison.is_none()),
        "none with a comparison group"
    );
}

#[test]
fn changing_the_seed_or_an_assumption_changes_the_numbers() {
    let base = run(&data(), official());
    let other =
        ScenarioData::from_simulated_ipv(&ipv::simulate(&Assumptions::default(), 7).unwrap());
    assert_ne!(run(&other, official()).estimate, base.estimate);
}
