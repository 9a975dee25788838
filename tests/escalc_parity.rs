//! Parity of the effect sizes with metafor 3.8-1's `escalc`, and of back-transformed
//! predictions with `predict(rma(yi, vi), transf = ...)`.
//!
//! Fixtures: `tests/fixtures/escalc.json`, written by `tests/fixtures/generate_escalc.R`
//! (every measure x every variance type metafor allows, on metadat's dat.bcg,
//! dat.landenberger2005, dat.normand1999, dat.molloy2014, dat.pritz1997 and dat.hart1999,
//! and on synthetic tables with zero cells, double zeros and non-integer counts, crossed
//! with `to` x `add` x `drop00`).
//!
//! Tolerance: 1e-10 relative on every value; an `NA` must be `None` and vice versa.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use metan::MetaAnalysis;
use metan::data::effect_size::{
    Correlation, CorrelationMeasure, EffectSizeTable, EffectSizes, EventRate, IncidenceMeasure,
    IncidenceTable, MeansMeasure, Measure, Proportion, ProportionMeasure, RateMeasure, To,
    Transform, TwoByTwo, TwoByTwoMeasure, TwoGroupMeans, VarianceType,
};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/escalc.json")).expect("escalc.json parses")
}

fn col(input: &Value, name: &str) -> Vec<f64> {
    input[name]
        .as_array()
        .unwrap_or_else(|| panic!("column {name}"))
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn opt_vec(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

/// Relative error of `ours` against metafor's `theirs` (0 when both are 0).
fn rel_err(ours: f64, theirs: f64) -> f64 {
    if ours == theirs {
        0.0
    } else {
        (ours - theirs).abs() / ours.abs().max(theirs.abs())
    }
}

fn compute(case: &Value) -> EffectSizeTable {
    let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
    let o = &case["options"];
    let input = &case["input"];
    let add = o["add"].as_f64();
    let to: To = o["to"].as_str().unwrap().parse().unwrap();
    let drop00 = o["drop00"].as_bool().unwrap();
    let vtype: VarianceType = o["vtype"].as_str().unwrap().parse().unwrap();
    match case["family"].as_str().unwrap() {
        "two_by_two" => {
            let ai = col(input, "ai");
            let ci = col(input, "ci");
            let tables: Vec<TwoByTwo> = if input.get("bi").is_some() {
                let (bi, di) = (col(input, "bi"), col(input, "di"));
                (0..ai.len())
                    .map(|i| TwoByTwo::new(ai[i], bi[i], ci[i], di[i]))
                    .collect()
            } else {
                let (n1, n2) = (col(input, "n1i"), col(input, "n2i"));
                (0..ai.len())
                    .map(|i| TwoByTwo::from_events(ai[i], n1[i], ci[i], n2[i]))
                    .collect()
            };
            let m: TwoByTwoMeasure = measure.two_by_two().unwrap();
            let mut b = EffectSizes::two_by_two(&tables, m)
                .to(to)
                .drop00(drop00)
                .vtype(vtype);
            if let Some(a) = add {
                b = b.add(a);
            }
            b.compute().unwrap()
        }
        "means" => {
            let c: Vec<Vec<f64>> = ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
                .iter()
                .map(|n| col(input, n))
                .collect();
            let s: Vec<TwoGroupMeans> = (0..c[0].len())
                .map(|i| TwoGroupMeans::new(c[0][i], c[1][i], c[2][i], c[3][i], c[4][i], c[5][i]))
                .collect();
            let m: MeansMeasure = measure.means().unwrap();
            EffectSizes::means(&s, m).vtype(vtype).compute().unwrap()
        }
        "correlation" => {
            let (r, n) = (col(input, "ri"), col(input, "ni"));
            let s: Vec<Correlation> = (0..r.len()).map(|i| Correlation::new(r[i], n[i])).collect();
            let m: CorrelationMeasure = measure.correlation().unwrap();
            EffectSizes::correlations(&s, m)
                .vtype(vtype)
                .compute()
                .unwrap()
        }
        "proportion" => {
            let (x, n) = (col(input, "xi"), col(input, "ni"));
            let s: Vec<Proportion> = (0..x.len()).map(|i| Proportion::new(x[i], n[i])).collect();
            let m: ProportionMeasure = measure.proportion().unwrap();
            let mut b = EffectSizes::proportions(&s, m).to(to).vtype(vtype);
            if let Some(a) = add {
                b = b.add(a);
            }
            b.compute().unwrap()
        }
        "incidence" => {
            let c: Vec<Vec<f64>> = ["x1i", "t1i", "x2i", "t2i"]
                .iter()
                .map(|n| col(input, n))
                .collect();
            let s: Vec<IncidenceTable> = (0..c[0].len())
                .map(|i| IncidenceTable::new(c[0][i], c[1][i], c[2][i], c[3][i]))
                .collect();
            let m: IncidenceMeasure = measure.incidence().unwrap();
            let mut b = EffectSizes::incidence(&s, m)
                .to(to)
                .drop00(drop00)
                .vtype(vtype);
            if let Some(a) = add {
                b = b.add(a);
            }
            b.compute().unwrap()
        }
        "rate" => {
            let (x, t) = (col(input, "xi"), col(input, "ti"));
            let s: Vec<EventRate> = (0..x.len()).map(|i| EventRate::new(x[i], t[i])).collect();
            let m: RateMeasure = measure.rate().unwrap();
            let mut b = EffectSizes::rates(&s, m).to(to).vtype(vtype);
            if let Some(a) = add {
                b = b.add(a);
            }
            b.compute().unwrap()
        }
        f => panic!("unknown family {f}"),
    }
}

#[test]
fn escalc_matches_metafor_for_every_measure() {
    let fx = fixture();
    let cases = fx["escalc"].as_array().unwrap();
    assert!(cases.len() > 300, "fixture has {} cases", cases.len());
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut na_seen = 0usize;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let measure = case["measure"].as_str().unwrap().to_string();
        let es = compute(case);
        assert_eq!(es.measure().name(), measure, "{name}");
        for (field, ours, theirs) in [
            ("yi", es.yi(), opt_vec(&case["yi"])),
            ("vi", es.vi(), opt_vec(&case["vi"])),
        ] {
            assert_eq!(ours.len(), theirs.len(), "{name}: {field} length");
            for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
                match (o, t) {
                    (None, None) => na_seen += 1,
                    (Some(o), Some(t)) => {
                        let e = rel_err(*o, *t);
                        let w = worst.entry(measure.clone()).or_insert((0.0, String::new()));
                        if e > w.0 {
                            *w = (e, format!("{name} {field}[{i}]"));
                        }
                        if e > REL {
                            failures.push(format!(
                                "{name} {field}[{i}]: {o} vs metafor {t} (rel {e:.2e})"
                            ));
                        }
                    }
                    _ => failures.push(format!("{name} {field}[{i}]: {o:?} vs metafor {t:?}")),
                }
            }
        }
    }
    for (m, (e, at)) in &worst {
        eprintln!("escalc {m:5}: max rel error {e:.3e} at {at}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // every measure of the issue is covered, and NA handling was exercised
    for m in [
        "OR", "RR", "RD", "AS", "PETO", "MD", "SMD", "SMDH", "ROM", "COR", "ZCOR", "PR", "PLO",
        "PLN", "PAS", "PFT", "IRR", "IR",
    ] {
        assert!(worst.contains_key(m), "measure {m} not covered");
    }
    assert!(na_seen > 50, "only {na_seen} NA values compared");
}

#[test]
fn back_transformed_predictions_match_metafor() {
    let fx = fixture();
    for case in fx["predict"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let yi = col(case, "yi");
        let vi = col(case, "vi");
        let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
        let studies = metan::Studies::from_variances(yi, vi)
            .unwrap()
            .with_measure(measure);
        let fit = MetaAnalysis::new().tol(1e-14).fit(&studies).unwrap();
        assert_eq!(fit.measure(), Some(measure));
        let bt = match case["harmonic_n"].as_f64() {
            Some(n) => {
                let t = Transform::IPftHm { harmonic_n: n };
                assert!(fit.back_transformed().is_none(), "{name}: PFT needs n");
                fit.transformed(t)
            }
            None => fit.back_transformed().unwrap(),
        };
        assert_eq!(
            bt.transform.name(),
            case["transform"].as_str().unwrap(),
            "{name}"
        );
        if case["harmonic_n"].is_null() {
            // the printout ends with the back-transformed block, metafor's numbers at 4 decimals
            let printed = fit.to_string();
            let row: Vec<String> = ["pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"]
                .iter()
                .map(|f| format!("{:.4}", case[*f].as_f64().unwrap()))
                .collect();
            let header = format!("Model Results ({} scale):", measure.natural_scale());
            let block = &printed[printed.find(&header).expect("back-transformed block")..];
            let last = block.lines().nth(3).unwrap();
            let cells: Vec<&str> = last.split_whitespace().collect();
            assert_eq!(cells, row, "{name}: {block}");
        }
        for (field, ours) in [
            ("pred", bt.estimate),
            ("ci_lower", bt.ci_lower),
            ("ci_upper", bt.ci_upper),
            ("pi_lower", bt.pi_lower.unwrap()),
            ("pi_upper", bt.pi_upper.unwrap()),
        ] {
            let theirs = case[field].as_f64().unwrap();
            let e = rel_err(ours, theirs);
            assert!(
                e <= REL,
                "{name} {field}: {ours} vs metafor {theirs} (rel {e:.2e})"
            );
        }
    }
}

#[test]
fn harmonic_mean_transform_matches_fixture() {
    let fx = fixture();
    let case = fx["predict"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["transform"] == "ipft_hm")
        .unwrap();
    // the harmonic mean metafor used, from pritz1997's sizes
    let pritz = fx["escalc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "pritz_PFT_LS")
        .unwrap();
    let ni = col(&pritz["input"], "ni");
    let Transform::IPftHm { harmonic_n } = Transform::ipft_hm(&ni) else {
        panic!("not ipft_hm")
    };
    let theirs = case["harmonic_n"].as_f64().unwrap();
    assert!(rel_err(harmonic_n, theirs) <= 1e-14);
    // and the table's own back-transform uses it
    let s: Vec<Proportion> = (0..ni.len())
        .map(|i| Proportion::new(col(&pritz["input"], "xi")[i], ni[i]))
        .collect();
    let es = EffectSizes::proportions(&s, ProportionMeasure::PFT)
        .compute()
        .unwrap();
    assert_eq!(es.back_transform(), Transform::IPftHm { harmonic_n });
}
