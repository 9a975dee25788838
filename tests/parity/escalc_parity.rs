//! Parity of the effect sizes with metafor 3.8-1's `escalc`, and of back-transformed
//! predictions with `predict(rma(yi, vi), transf = ...)`.
//!
//! Fixtures: `tests/fixtures/escalc.json`, written by `tests/fixtures/generate_escalc.R`
//! (every measure x every variance type metafor allows, on metadat's dat.bcg,
//! dat.landenberger2005, dat.normand1999, dat.molloy2014, dat.pritz1997 and dat.hart1999,
//! and on synthetic tables with zero cells, double zeros and non-integer counts, crossed
//! with `to` x `add` x `drop00`).
//!
//! `tests/fixtures/escalc_conversions.json` (written by
//! `tests/fixtures/generate_escalc_conversions.R`, issue 18) adds PBIT, OR2DN, OR2DL, D2ORN,
//! D2ORL, MC, SMCC, SMCR, SMCRH, ROMC, PCOR, ZPCOR, SPCOR and SMD/D2ORN/D2ORL from a reported
//! d, t or p, each on at least four data sets; metafor 4's `conv.wald` conversions (from a
//! CI, a p-value, z, t and F statistics) and the scale conversions written out in R; and
//! mixed-outcome tables (dat.gibson2002 and a synthetic one).
//!
//! Tolerance: 1e-10 relative on every value; an `NA` must be `None` and vice versa.

use std::collections::BTreeMap;

use metan::MetaAnalysis;
use metan::data::effect_size::scale::{D, Effect, LogOr, LogRr, R, Z};
use metan::data::effect_size::{
    Ci, Correlation, CorrelationMeasure, EffectScale, EffectSizeTable, EffectSizes, EventRate,
    IncidenceMeasure, IncidenceTable, MeansMeasure, Measure, MixedEffectSizes, MixedStudy,
    OddsRatioMethod, PartialCorrelation, PrePost, Proportion, ProportionMeasure, RateMeasure,
    Reported, To, Transform, TwoByTwo, TwoByTwoMeasure, TwoGroupMeans, TwoGroupStatistic,
    VarianceType, delta_method, wald_variance,
};
use serde_json::Value;

const REL: f64 = 1e-10;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/escalc.json")).expect("escalc.json parses")
}

fn conversions_fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/escalc_conversions.json"))
        .expect("escalc_conversions.json parses")
}

/// Worst relative error and number of compared values, per key.
#[derive(Default)]
struct Tally(BTreeMap<String, (f64, String, usize)>);

impl Tally {
    fn add(&mut self, key: &str, err: f64, at: String) {
        let w = self
            .0
            .entry(key.to_string())
            .or_insert((0.0, String::new(), 0));
        w.2 += 1;
        if err > w.0 || w.1.is_empty() {
            w.0 = w.0.max(err);
            w.1 = at;
        }
    }
    fn print(&self, what: &str) {
        for (k, (e, at, n)) in &self.0 {
            eprintln!("{what} {k:6}: {n:5} values, max rel error {e:.3e} at {at}");
        }
    }
}

/// Compares two optional vectors value by value, recording failures.
fn compare(
    tally: &mut Tally,
    key: &str,
    name: &str,
    field: &str,
    ours: &[Option<f64>],
    theirs: &[Option<f64>],
    failures: &mut Vec<String>,
) {
    assert_eq!(ours.len(), theirs.len(), "{name}: {field} length");
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        match (o, t) {
            (None, None) => {}
            (Some(o), Some(t)) => {
                let e = rel_err(*o, *t);
                tally.add(key, e, format!("{name} {field}[{i}]"));
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
        "statistic" => {
            let (n1, n2) = (col(input, "n1i"), col(input, "n2i"));
            let s: Vec<TwoGroupStatistic> = (0..n1.len())
                .map(|i| {
                    if input.get("di").is_some() {
                        TwoGroupStatistic::d(col(input, "di")[i], n1[i], n2[i])
                    } else if input.get("ti").is_some() {
                        TwoGroupStatistic::t(col(input, "ti")[i], n1[i], n2[i])
                    } else {
                        TwoGroupStatistic::p(col(input, "pi")[i], n1[i], n2[i])
                    }
                })
                .collect();
            EffectSizes::statistics(&s, measure.statistic().unwrap())
                .vtype(vtype)
                .compute()
                .unwrap()
        }
        "pre_post" => {
            let c: Vec<Vec<f64>> = ["m1i", "sd1i", "m2i", "ni", "ri"]
                .iter()
                .map(|n| col(input, n))
                .collect();
            let sd2 = input.get("sd2i").map(|_| col(input, "sd2i"));
            let s: Vec<PrePost> = (0..c[0].len())
                .map(|i| match &sd2 {
                    Some(sd2) => PrePost::new(c[0][i], c[1][i], c[2][i], sd2[i], c[3][i], c[4][i]),
                    None => PrePost::raw_sd(c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]),
                })
                .collect();
            EffectSizes::pre_post(&s, measure.pre_post().unwrap())
                .vtype(vtype)
                .compute()
                .unwrap()
        }
        "partial" => {
            let (t, n, m) = (col(input, "ti"), col(input, "ni"), col(input, "mi"));
            let r2 = input.get("r2i").map(|_| col(input, "r2i"));
            let s: Vec<PartialCorrelation> = (0..t.len())
                .map(|i| {
                    let p = PartialCorrelation::new(t[i], n[i], m[i]);
                    match &r2 {
                        Some(r2) => p.r2(r2[i]),
                        None => p,
                    }
                })
                .collect();
            EffectSizes::partial_correlations(&s, measure.partial().unwrap())
                .vtype(vtype)
                .compute()
                .unwrap()
        }
        f => panic!("unknown family {f}"),
    }
}

/// Runs every escalc case of a fixture; returns the per-measure tally and the NA count.
fn run_escalc_cases(cases: &[Value]) -> (Tally, usize) {
    let mut tally = Tally::default();
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
            na_seen += ours
                .iter()
                .zip(&theirs)
                .filter(|(o, t)| o.is_none() && t.is_none())
                .count();
            compare(
                &mut tally,
                &measure,
                name,
                field,
                ours,
                &theirs,
                &mut failures,
            );
        }
    }
    tally.print("escalc");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (tally, na_seen)
}

#[test]
fn escalc_matches_metafor_for_every_measure() {
    let fx = fixture();
    let cases = fx["escalc"].as_array().unwrap();
    assert!(cases.len() > 300, "fixture has {} cases", cases.len());
    let (tally, na_seen) = run_escalc_cases(cases);
    // every measure of the issue is covered, and NA handling was exercised
    for m in [
        "OR", "RR", "RD", "AS", "PETO", "MD", "SMD", "SMDH", "ROM", "COR", "ZCOR", "PR", "PLO",
        "PLN", "PAS", "PFT", "IRR", "IR",
    ] {
        assert!(tally.0.contains_key(m), "measure {m} not covered");
    }
    assert!(na_seen > 50, "only {na_seen} NA values compared");
}

#[test]
fn new_escalc_measures_match_metafor() {
    let fx = conversions_fixture();
    let cases = fx["escalc"].as_array().unwrap();
    assert!(cases.len() > 150, "fixture has {} cases", cases.len());
    let (tally, na_seen) = run_escalc_cases(cases);
    // every measure of issue 18 on at least four data sets
    for m in [
        "PBIT", "OR2DN", "OR2DL", "D2ORN", "D2ORL", "MC", "SMCC", "SMCR", "SMCRH", "ROMC", "PCOR",
        "ZPCOR", "SPCOR", "SMD",
    ] {
        assert!(tally.0.contains_key(m), "measure {m} not covered");
        // the data set is the case name up to `_<measure>`
        let sets: std::collections::BTreeSet<&str> = cases
            .iter()
            .filter(|c| c["measure"] == m)
            .map(|c| {
                let n = c["name"].as_str().unwrap();
                &n[..n.find(&format!("_{m}")).unwrap()]
            })
            .collect();
        assert!(sets.len() >= 4, "{m}: data sets {sets:?}");
    }
    // SMD from a reported d, t or p, separately
    let stat: Vec<Value> = cases
        .iter()
        .filter(|c| c["family"] == "statistic")
        .cloned()
        .collect();
    assert!(stat.len() >= 40);
    let (st, _) = run_escalc_cases(&stat);
    eprintln!(
        "(the lines above: the {} cases from a reported d, t or p)",
        stat.len()
    );
    assert!(st.0.contains_key("SMD") && st.0.contains_key("D2ORL"));
    assert!(na_seen > 20, "only {na_seen} NA values compared");
}

/// The typed effect of a conv.wald case, or its error.
fn wald_effect(measure: &str, transf: &str, est: f64, r: Reported) -> metan::Result<(f64, f64)> {
    Ok(match (measure, transf) {
        ("OR", "log") => {
            let e = Effect::<LogOr>::from_reported(est, r)?;
            (e.yi(), e.vi())
        }
        ("RR", "log") => {
            let e = Effect::<LogRr>::from_reported(est, r)?;
            (e.yi(), e.vi())
        }
        ("ZCOR", "atanh") => {
            let e = Effect::<Z>::from_reported(est, r)?;
            (e.yi(), e.vi())
        }
        ("SMD", "identity") => {
            let e = Effect::<D>::from_reported(est, r)?;
            (e.yi(), e.vi())
        }
        other => panic!("no scale for {other:?}"),
    })
}

#[test]
fn wald_conversions_match_conv_wald_formulas() {
    let fx = conversions_fixture();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in fx["wald"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let measure = case["measure"].as_str().unwrap();
        let transf = case["transf"].as_str().unwrap();
        let est = col(case, "estimate");
        let k = est.len();
        let get = |f: &str| case.get(f).map(|_| col(case, f));
        let (lb, ub, level) = (get("ci_lb"), get("ci_ub"), get("level"));
        let (p, df, z, t, f) = (
            get("pval"),
            get("df"),
            get("zval"),
            get("tval"),
            get("fval"),
        );
        let asym = get("asymmetry");
        let mut yi = Vec::with_capacity(k);
        let mut vi = Vec::with_capacity(k);
        for i in 0..k {
            let r = if let (Some(lb), Some(ub)) = (&lb, &ub) {
                Reported::Ci(Ci::new(lb[i], ub[i]).level(level.as_ref().unwrap()[i]))
            } else if let (Some(p), Some(df)) = (&p, &df) {
                Reported::PT { p: p[i], df: df[i] }
            } else if let Some(p) = &p {
                Reported::P(p[i])
            } else if let Some(z) = &z {
                Reported::Z(z[i])
            } else if let Some(t) = &t {
                Reported::T(t[i])
            } else {
                Reported::F(f.as_ref().unwrap()[i])
            };
            let out = wald_effect(measure, transf, est[i], r);
            // conv.wald's symmetry check: an error here exactly where it would warn
            let flagged = asym.as_ref().is_some_and(|a| a[i] > 0.1);
            assert_eq!(out.is_err(), flagged, "{name}[{i}]: {out:?}");
            let (y, v) = out.unwrap();
            // the untyped function agrees once on the analysis scale
            if !matches!(r, Reported::Ci(_)) {
                assert_eq!(wald_variance(y, r).unwrap(), v, "{name}[{i}]");
            }
            yi.push(Some(y));
            vi.push(Some(v));
        }
        compare(
            &mut tally,
            "yi",
            name,
            "yi",
            &yi,
            &opt_vec(&case["yi"]),
            &mut failures,
        );
        compare(
            &mut tally,
            "vi",
            name,
            "vi",
            &vi,
            &opt_vec(&case["vi"]),
            &mut failures,
        );
    }
    tally.print("conv.wald");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tally.0["vi"].2 >= 60);
}

#[test]
fn scale_conversions_match_the_formulas_in_r() {
    let fx = conversions_fixture();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let lo = OddsRatioMethod::Logistic;
    let no = OddsRatioMethod::Normal;
    for case in fx["convert"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let conv = case["conversion"].as_str().unwrap();
        let (yi, vi) = (col(case, "yi"), col(case, "vi"));
        let mut oy = Vec::new();
        let mut ov = Vec::new();
        for i in 0..yi.len() {
            let (y, v) = (yi[i], vi[i]);
            let out = match conv {
                "d_to_logor_logistic" => {
                    let e = Effect::<D>::new(y, v).unwrap().to_log_or(lo);
                    (e.yi(), e.vi())
                }
                "d_to_logor_normal" => {
                    let e = Effect::<D>::new(y, v).unwrap().to_log_or(no);
                    (e.yi(), e.vi())
                }
                "logor_to_d_logistic" => {
                    let e = Effect::<LogOr>::new(y, v).unwrap().to_d(lo);
                    (e.yi(), e.vi())
                }
                "logor_to_d_normal" => {
                    let e = Effect::<LogOr>::new(y, v).unwrap().to_d(no);
                    (e.yi(), e.vi())
                }
                "r_to_d" => {
                    let e = Effect::<R>::new(y, v).unwrap().to_d();
                    (e.yi(), e.vi())
                }
                "d_to_r" => {
                    let (n1, n2) = (col(case, "n1i")[i], col(case, "n2i")[i]);
                    let e = Effect::<D>::new(y, v).unwrap().to_r(n1, n2).unwrap();
                    (e.yi(), e.vi())
                }
                "z_to_r" => {
                    let e = Effect::<Z>::new(y, v).unwrap().to_r();
                    (e.yi(), e.vi())
                }
                "r_to_z" => {
                    let e = Effect::<R>::new(y, v).unwrap().to_z();
                    (e.yi(), e.vi())
                }
                "delta_logit" => {
                    delta_method(y, v, |p| (p / (1.0 - p)).ln(), |p| 1.0 / (p * (1.0 - p)))
                }
                other => panic!("unknown conversion {other}"),
            };
            oy.push(Some(out.0));
            ov.push(Some(out.1));
        }
        compare(
            &mut tally,
            conv,
            name,
            "yi",
            &oy,
            &opt_vec(&case["out_yi"]),
            &mut failures,
        );
        compare(
            &mut tally,
            conv,
            name,
            "vi",
            &ov,
            &opt_vec(&case["out_vi"]),
            &mut failures,
        );
    }
    tally.print("convert");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The studies of a mixed case, read from its columns as `metan escalc` reads a CSV.
fn mixed_studies(case: &Value) -> Vec<MixedStudy> {
    let measures: Vec<Measure> = case["measure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().parse().unwrap())
        .collect();
    let cols = case["columns"].as_object().unwrap();
    measures
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let field = |name: &str| cols.get(name).and_then(|c| c[i].as_f64());
            MixedStudy::from_fields(i, &format!("Study {}", i + 1), m, None, field).unwrap()
        })
        .collect()
}

#[test]
fn mixed_outcome_tables_match_metafor() {
    let fx = conversions_fixture();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in fx["mixed"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let studies = mixed_studies(case);
        let mut b = MixedEffectSizes::new(&studies);
        if let Some(t) = case["target"].as_str() {
            b = b.convert_to(t.parse::<EffectScale>().unwrap());
        }
        if let Some(m) = case["method"].as_str() {
            b = b.method(m.parse().unwrap());
        }
        let table = b.compute().unwrap();
        compare(
            &mut tally,
            "mixed",
            name,
            "yi",
            &table.yi(),
            &opt_vec(&case["yi"]),
            &mut failures,
        );
        compare(
            &mut tally,
            "mixed",
            name,
            "vi",
            &table.vi(),
            &opt_vec(&case["vi"]),
            &mut failures,
        );
        let from: Vec<Option<String>> = table
            .rows()
            .iter()
            .map(|r| r.converted_from.map(|s| s.name().to_string()))
            .collect();
        let expected: Vec<Option<String>> = case["converted_from"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect();
        assert_eq!(from, expected, "{name}: converted_from");
    }
    tally.print("mixed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tally.0["mixed"].2 >= 150);
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
