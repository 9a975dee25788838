//! Tests of the scenario engine: selection, outcome sources, comparisons, reports, specs.

use super::*;
use crate::sensitivity::{ArmCounts, BinaryCounts, MissingRule, attrition};
use crate::{MetaAnalysis, MetaError, Method, Studies};

fn toy() -> ScenarioData {
    let s = |l: &str| ScenarioStudy::new(l);
    ScenarioData::simulated(
        vec![
            s("A")
                .effect(OutcomeSource::Official, -0.6, 0.04)
                .effect(OutcomeSource::Partner, -0.1, 0.05)
                .attr("design", "RCT"),
            s("B")
                .effect(OutcomeSource::Official, -0.5, 0.03)
                .attr("design", "quasi")
                .attr("flawed", true),
            s("C")
                .effect(OutcomeSource::Partner, 0.05, 0.06)
                .effect(OutcomeSource::Couple, 0.1, 0.05)
                .attr("design", "RCT"),
            s("D")
                .binary(
                    OutcomeSource::Official,
                    BinaryCounts::new(
                        ArmCounts::new(10.0, 40.0, 30.0),
                        ArmCounts::new(20.0, 40.0, 5.0),
                    ),
                )
                .attr("design", "quasi")
                .attr("flawed", "yes"),
        ],
        "toy",
    )
}

#[test]
fn selection_and_source_preference() {
    let d = toy();
    let base = Scenario::new("official").sources([OutcomeSource::Official]);
    let r = base.run(&d, &MetaAnalysis::new());
    assert_eq!(r.k, 3);
    assert_eq!(r.excluded[0].study, "C");
    let p = Scenario::new("partner, else couple")
        .sources([OutcomeSource::Partner, OutcomeSource::Couple]);
    let r = p.run(&d, &MetaAnalysis::new());
    let src: Vec<String> = r
        .used
        .iter()
        .map(|u| format!("{}:{}", u.study, u.source))
        .collect();
    assert_eq!(src, ["A:partner", "C:partner"]);
    let r = Scenario::drop_flagged(&base, "flawed").run(&d, &MetaAnalysis::new());
    assert_eq!(r.k, 1);
    let r = Scenario::rcts_only(&base, "design", "RCT").run(&d, &MetaAnalysis::new());
    assert_eq!(r.used.len(), 1);
    assert_eq!(r.used[0].study, "A");
    let r = Scenario::paired(&base, OutcomeSource::Partner, OutcomeSource::Official)
        .run(&d, &MetaAnalysis::new());
    assert_eq!(r.k, 1);
    assert_eq!(r.used[0].yi, -0.1);
    let each = leave_out_each_flagged(&d, &base, "flawed");
    assert_eq!(each.len(), 2);
    assert_eq!(each[1].run(&d, &MetaAnalysis::new()).k, 2);
}

#[test]
fn binary_outcomes_follow_the_missing_rule() {
    let d = toy();
    let base = Scenario::new("official").sources([OutcomeSource::Official]);
    let rep = attrition::attrition_report(&d, &base, &[(2.0, 1.0)]).unwrap();
    let yi = |r: &ScenarioResult| r.used.iter().find(|u| u.study == "D").unwrap().yi;
    let aca = yi(rep.base());
    assert!((aca - (10.0f64 * 40.0 / (40.0 * 20.0)).ln()).abs() < 1e-15);
    let itt = yi(&rep.scenarios()[0]);
    assert!((itt - (40.0f64 * 40.0 / (40.0 * 25.0)).ln()).abs() < 1e-15);
    // effect-size studies are the same in every attrition scenario
    assert_eq!(rep.scenarios()[2].used[0].yi, -0.6);
    assert!(rep.to_string().contains("SIMULATED data: toy"));
}

#[test]
fn report_fits_match_direct_fits() {
    let d = toy();
    let base = Scenario::new("official").sources([OutcomeSource::Official]);
    let rep = SensitivityReport::run(&d, &base, &[]).unwrap();
    let used = &rep.base().used;
    let s = Studies::from_variances(
        used.iter().map(|u| u.yi).collect::<Vec<_>>(),
        used.iter().map(|u| u.vi).collect::<Vec<_>>(),
    )
    .unwrap();
    let fit = MetaAnalysis::new().fit(&s).unwrap();
    assert_eq!(rep.base().estimate, fit.estimate());
    assert_eq!(rep.base().ci_upper, fit.ci().1);
    // an empty selection is reported, not an error
    let none = Scenario::new("none").select(Predicate::Label { label: "Z".into() });
    let rep = SensitivityReport::run(&d, &base, &[none]).unwrap();
    assert_eq!(rep.scenarios()[0].k, 0);
    assert_eq!(
        rep.scenarios()[0].error.as_deref(),
        Some("no studies: the data set is empty")
    );
}

fn comparisons() -> ScenarioData {
    let s = |l: &str, y: f64, c: ComparisonType| {
        ScenarioStudy::new(l)
            .effect(OutcomeSource::Official, y, 0.04)
            .comparison(c)
    };
    let vs = || ComparisonType::from("programme_vs_no_programme");
    ScenarioData::simulated(
        vec![
            s("A", -0.2, vs()),
            s(
                "B",
                -0.9,
                ComparisonType::from("couples_vs_standard_programme"),
            ),
            s("C", -1.4, ComparisonType::CompletersVsDropouts),
            s("D", -0.1, vs()),
            s("E", -2.0, ComparisonType::NoComparisonGroup),
        ],
        "toy",
    )
}

#[test]
fn one_comparison_per_pooled_estimate() {
    let d = comparisons();
    let all = Scenario::new("all");
    // mixing is a typed error naming the scenario and the comparisons ...
    let e = all.check(&d).unwrap_err();
    assert_eq!(
        e,
        MetaError::MixedComparisons {
            scenario: "all".into(),
            comparisons: vec![
                "couples_vs_standard_programme".into(),
                "programme_vs_no_programme".into(),
                "completers_vs_dropouts".into(),
            ],
        }
    );
    assert!(matches!(
        SensitivityReport::run(&d, &all, &[]),
        Err(MetaError::MixedComparisons { .. })
    ));
    let r = all.run(&d, &MetaAnalysis::new());
    assert!(r.estimate.is_nan());
    assert_eq!(r.error, Some(e.to_string()));
    // ... unless asked for; a study without a comparison group is never pooled
    let mixed = all
        .clone()
        .allow_mixed_comparisons()
        .run(&d, &MetaAnalysis::new());
    assert_eq!(mixed.k, 4);
    let e_out = mixed.excluded.iter().find(|x| x.study == "E").unwrap();
    assert_eq!(
        e_out.reason,
        "no comparison group: counted, never pooled as an effect"
    );
    // the filter keeps one comparison
    let vs = all.comparison("programme_vs_no_programme");
    let r = vs.run(&d, &MetaAnalysis::new());
    let used: Vec<&str> = r.used.iter().map(|u| u.study.as_str()).collect();
    assert_eq!(used, ["A", "D"]);
    assert_eq!(
        r.excluded[0].reason,
        "not selected: comparison couples_vs_standard_programme"
    );
    let rep = SensitivityReport::run(&d, &vs, &[Scenario::drop_flagged(&vs, "x")]).unwrap();
    assert_eq!(rep.no_comparison_group(), ["E"]);
    assert!(
        rep.to_string()
            .contains("Studies without a comparison group (counted, never pooled as an effect): 1")
    );
    // studies without the attribute mixed with studies that have it: an error too
    let plus = ScenarioData::simulated(
        vec![
            d.studies()[0].clone(),
            ScenarioStudy::new("F").effect(OutcomeSource::Official, 0.0, 0.04),
        ],
        "toy",
    );
    let e = Scenario::new("x").check(&plus).unwrap_err();
    assert!(e.to_string().contains("not recorded"), "{e}");
    // data without the attribute at all: nothing to check
    assert!(Scenario::new("x").check(&toy()).is_ok());
}

#[test]
fn csv_reads_dropout_events_and_uncontrolled_studies() {
    let text = "study,source,comparison,t_events,t_non_events,t_dropouts,t_dropout_events,\
                c_events,c_non_events,c_dropouts,c_dropout_events,yi,vi\n\
                A,official,programme_vs_no_programme,10,40,20,12,15,35,0,NA,,\n\
                B,official,no_comparison_group,10,40,20,,NA,NA,NA,NA,,\n\
                B,partner,no_comparison_group,12,38,20,,NA,NA,NA,NA,,\n\
                C,official,programme_vs_no_programme,,,,,,,,,-0.2,0.05\n";
    let d = ScenarioData::from_csv_reader(text.as_bytes(), "t.csv").unwrap();
    assert_eq!(d.studies().len(), 3);
    let Outcome::Binary(c) = d.studies()[0].outcomes()[0].1 else {
        panic!("counts expected")
    };
    assert_eq!(c.treatment.dropout_events, Some(12.0));
    assert_eq!(c.control.dropout_events, None);
    assert!(d.studies()[1].outcomes().is_empty());
    assert_eq!(
        d.studies()[1].comparison_type(),
        Some(ComparisonType::NoComparisonGroup)
    );
    let r = Scenario::new("x")
        .missing(MissingRule::ObservedDropouts)
        .run(&d, &MetaAnalysis::new());
    assert_eq!(r.k, 2);
    assert!((r.used[0].yi - ((22.0f64 * 35.0) / (48.0 * 15.0)).ln()).abs() < 1e-15);
}

#[cfg(feature = "serde")]
#[test]
fn predicates_and_scenarios_deserialize() {
    let json = r#"{"name": "x", "sources": ["partner", "police", "my source"],
        "select": {"op": "and", "all": [{"op": "equals", "attr": "design", "value": "RCT"},
                                        {"op": "not", "not": {"op": "flag", "attr": "flawed"}}]},
        "missing": {"rule": "imor", "treatment": 2.0, "control": 1.0},
        "model": {"method": "DL"}}"#;
    let s: Scenario = serde_json::from_str(json).unwrap();
    assert_eq!(
        s.sources,
        vec![
            OutcomeSource::Partner,
            OutcomeSource::Official,
            OutcomeSource::Other("my source".into())
        ]
    );
    assert_eq!(
        s.missing,
        MissingRule::Imor {
            treatment: 2.0,
            control: 1.0
        }
    );
    let m = s.model.clone().unwrap().check().unwrap();
    assert_eq!(m.method(), Method::DL);
    assert_eq!(m.level(), 95.0);
    assert_eq!(s.comparison, None);
    assert!(!s.mix_comparisons);
    let c: Scenario = serde_json::from_str(
        r#"{"name": "y", "comparison": "Couples_vs_Standard_Programme", "mix_comparisons": true}"#,
    )
    .unwrap();
    assert_eq!(
        c.comparison,
        Some(ComparisonType::Between(
            "couples_vs_standard_programme".into()
        ))
    );
    assert!(c.mix_comparisons);
    let d = toy();
    // A and C: RCTs, not flawed, with partner reports
    assert_eq!(s.run(&d, &MetaAnalysis::new()).k, 2);
}
