//! Parity of the Mantel-Haenszel and Peto methods with metafor 3.8-1's `rma.mh` and
//! `rma.peto`: BCG (dat.bcg), Landenberger & Lipsey (dat.landenberger2005) and synthetic
//! tables with zero cells and double zeros, for OR, RR and RD, with metafor's default and
//! non-default `add`/`to`/`drop00` (both the per-study and the table values), `correct` and
//! `level`. Fixtures: `tests/fixtures/escalc.json` (`tests/fixtures/generate_escalc.R`).
//!
//! Tolerance: 1e-10 relative on every number; the printouts must be identical.

use std::collections::BTreeMap;

use metan::MetaError;
use metan::data::effect_size::{To, TwoByTwo};
use metan::model::{MantelHaenszel, MhFit, MhMeasure, Peto, PetoFit};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/escalc.json")).expect("escalc.json parses")
}

fn tables(input: &Value) -> Vec<TwoByTwo> {
    let col = |n: &str| -> Vec<f64> {
        input[n]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let (a, b, c, d) = (col("ai"), col("bi"), col("ci"), col("di"));
    (0..a.len())
        .map(|i| TwoByTwo::new(a[i], b[i], c[i], d[i]))
        .collect()
}

fn rel_err(ours: f64, theirs: f64) -> f64 {
    if ours == theirs {
        0.0
    } else {
        (ours - theirs).abs() / ours.abs().max(theirs.abs())
    }
}

/// Compares one field; `None`/NaN on our side must be `null` on metafor's.
fn check(
    name: &str,
    field: &str,
    ours: Option<f64>,
    theirs: &Value,
    worst: &mut BTreeMap<String, f64>,
    key: &str,
) {
    let ours = ours.filter(|x| !x.is_nan());
    match (ours, theirs.as_f64()) {
        (None, None) => {}
        (Some(o), Some(t)) => {
            let e = rel_err(o, t);
            let w = worst.entry(key.to_string()).or_insert(0.0);
            *w = w.max(e);
            assert!(e <= REL, "{name} {field}: {o} vs metafor {t} (rel {e:.2e})");
        }
        (o, t) => panic!("{name} {field}: {o:?} vs metafor {t:?}"),
    }
}

fn options(o: &Value) -> (f64, To, bool, f64, To, bool, f64) {
    (
        o["add"].as_f64().unwrap(),
        o["to"].as_str().unwrap().parse().unwrap(),
        o["drop00"].as_bool().unwrap(),
        o["table_add"].as_f64().unwrap(),
        o["table_to"].as_str().unwrap().parse().unwrap(),
        o["table_drop00"].as_bool().unwrap(),
        o["level"].as_f64().unwrap(),
    )
}

fn mh_fit(case: &Value) -> MhFit {
    let o = &case["options"];
    let (add, to, drop00, tadd, tto, tdrop, level) = options(o);
    let m: MhMeasure = case["measure"].as_str().unwrap().parse().unwrap();
    MantelHaenszel::new(m)
        .add(add)
        .to(to)
        .drop00(drop00)
        .table_add(tadd)
        .table_to(tto)
        .table_drop00(tdrop)
        .correct(o["correct"].as_bool().unwrap())
        .level(level)
        .fit(&tables(&case["input"]))
        .unwrap()
}

fn peto_fit(case: &Value) -> PetoFit {
    let (add, to, drop00, tadd, tto, tdrop, level) = options(&case["options"]);
    Peto::new()
        .add(add)
        .to(to)
        .drop00(drop00)
        .table_add(tadd)
        .table_to(tto)
        .table_drop00(tdrop)
        .level(level)
        .fit(&tables(&case["input"]))
        .unwrap()
}

#[test]
fn mantel_haenszel_matches_rma_mh() {
    let fx = fixture();
    let cases = fx["mh"].as_array().unwrap();
    assert_eq!(cases.len(), 45);
    let mut worst = BTreeMap::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let key = format!("MH {}", case["measure"].as_str().unwrap());
        let fit = mh_fit(case);
        assert_eq!(fit.k() as u64, case["k"].as_u64().unwrap(), "{name} k");
        assert_eq!(
            fit.k_yi() as u64,
            case["k_yi"].as_u64().unwrap(),
            "{name} k_yi"
        );
        assert_eq!(
            fit.k_pos().map(|k| k as u64),
            case["k_pos"].as_u64(),
            "{name} k_pos"
        );
        let mut fields: Vec<(&str, Option<f64>)> = vec![
            ("estimate", Some(fit.estimate())),
            ("se", Some(fit.se())),
            ("statistic", Some(fit.statistic())),
            ("p_value", Some(fit.p_value())),
            ("ci_lower", Some(fit.ci().0)),
            ("ci_upper", Some(fit.ci().1)),
            ("q", Some(fit.q())),
            ("q_p_value", Some(fit.q_p_value())),
            ("i2", Some(fit.i2())),
            ("h2", Some(fit.h2())),
            ("cochran", fit.cochran()),
            ("cochran_p_value", fit.cochran_p_value()),
            ("cmh", fit.cmh()),
            ("cmh_p_value", fit.cmh_p_value()),
            ("breslow_day", fit.breslow_day()),
            ("breslow_day_p_value", fit.breslow_day_p_value()),
            ("tarone", fit.tarone()),
            ("tarone_p_value", fit.tarone_p_value()),
        ];
        // the ratio scale (OR, RR): exp of metafor's log-scale values
        match fit.back_transformed() {
            Some(b) => fields.extend([
                ("estimate", Some(b.estimate.ln())),
                ("ci_lower", Some(b.ci_lower.ln())),
                ("ci_upper", Some(b.ci_upper.ln())),
            ]),
            None => assert_eq!(case["measure"], "RD", "{name}"),
        }
        for (field, ours) in fields {
            check(name, field, ours, &case[field], &mut worst, &key);
        }
        assert_eq!(
            fit.to_string(),
            format!("{}\n", case["printed"].as_str().unwrap()),
            "{name}: printout"
        );
    }
    for (k, e) in &worst {
        eprintln!("{k}: max rel error {e:.3e}");
    }
    for k in ["MH OR", "MH RR", "MH RD"] {
        assert!(worst.contains_key(k));
    }
}

#[test]
fn peto_matches_rma_peto() {
    let fx = fixture();
    let cases = fx["peto"].as_array().unwrap();
    assert_eq!(cases.len(), 15);
    let mut worst = BTreeMap::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let fit = peto_fit(case);
        assert_eq!(fit.k() as u64, case["k"].as_u64().unwrap(), "{name} k");
        assert_eq!(
            fit.k_yi() as u64,
            case["k_yi"].as_u64().unwrap(),
            "{name} k_yi"
        );
        assert_eq!(
            fit.k_pos() as u64,
            case["k_pos"].as_u64().unwrap(),
            "{name} k_pos"
        );
        let bt = fit.back_transformed();
        for (field, ours) in [
            ("estimate", fit.estimate()),
            ("se", fit.se()),
            ("statistic", fit.statistic()),
            ("p_value", fit.p_value()),
            ("ci_lower", fit.ci().0),
            ("ci_upper", fit.ci().1),
            ("q", fit.q()),
            ("q_p_value", fit.q_p_value()),
            ("i2", fit.i2()),
            ("h2", fit.h2()),
            ("estimate", bt.estimate.ln()),
            ("ci_lower", bt.ci_lower.ln()),
        ] {
            check(name, field, Some(ours), &case[field], &mut worst, "PETO");
        }
        assert_eq!(
            fit.to_string(),
            format!("{}\n", case["printed"].as_str().unwrap()),
            "{name}: printout"
        );
    }
    for (k, e) in &worst {
        eprintln!("{k}: max rel error {e:.3e}");
    }
}

#[test]
fn bad_tables_are_typed_errors() {
    let t = [
        TwoByTwo::new(1.0, 2.0, 3.0, 4.0),
        TwoByTwo::new(1.0, 2.0, -3.0, 4.0),
    ];
    let e = MantelHaenszel::new(MhMeasure::OR)
        .labels(["Smith", "Jones"])
        .fit(&t)
        .unwrap_err();
    match e {
        MetaError::InvalidValue { study, field, .. } => {
            assert_eq!(
                (study.index, study.label.as_str(), field.as_str()),
                (1, "Jones", "ci")
            );
        }
        e => panic!("unexpected {e:?}"),
    }
    // one outcome never occurs: metafor stops, so do we
    let none = [
        TwoByTwo::new(0.0, 10.0, 0.0, 12.0),
        TwoByTwo::new(0.0, 20.0, 0.0, 18.0),
    ];
    assert!(matches!(
        Peto::new().fit(&none),
        Err(MetaError::TooFewStudies { found: 0, .. })
    ));
    // the MH odds ratio is NA (R = 0), as in metafor, but the fit is returned
    let fit = MantelHaenszel::new(MhMeasure::OR).fit(&none).unwrap();
    assert!(!fit.is_estimable());
    assert!(fit.cmh().is_none());
    assert!(matches!(
        MantelHaenszel::new(MhMeasure::RR).level(100.0).fit(&t[..1]),
        Err(MetaError::InvalidOption { .. })
    ));
    assert_eq!(
        MantelHaenszel::new(MhMeasure::RD).fit(&[]),
        Err(MetaError::Empty)
    );
}
