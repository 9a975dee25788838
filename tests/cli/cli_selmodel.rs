//! `metan selmodel`: the JSON keys and numbers (against the library and the metafor
//! reference of `tests/fixtures/selmodel.json`), moderators, the plot, and bad input (exit
//! 1 with one line on stderr).

use std::path::PathBuf;
use std::process::{Command, Output};

use metan::bias::{SelectionModel, SelectionType};
use metan::{MetaRegression, Studies};
use serde_json::Value;

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs")
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/selmodel.json")).unwrap()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-selmodel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A CSV of a fixture data set with its moderators (`{:?}` round-trips every double).
fn csv_of(name: &str) -> (PathBuf, Studies) {
    let ds = &fixture()["datasets"][name];
    let (y, v) = (f64s(&ds["yi"]), f64s(&ds["vi"]));
    let mods = ds["mods"].as_object().unwrap();
    let mut s = String::from("yi,vi");
    for m in mods.keys() {
        s.push_str(&format!(",{m}"));
    }
    s.push('\n');
    let mut studies = Studies::from_variances(y.clone(), v.clone()).unwrap();
    for (m, col) in mods {
        let col = col.as_array().unwrap();
        if col[0].is_string() {
            let c: Vec<String> = col
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            studies = studies.with_attribute(m.clone(), c).unwrap();
        } else {
            studies = studies
                .with_moderator(m.clone(), f64s(&Value::Array(col.clone())))
                .unwrap();
        }
    }
    for i in 0..y.len() {
        s.push_str(&format!("{:?},{:?}", y[i], v[i]));
        for col in mods.values() {
            let x = &col[i];
            match x.as_f64() {
                Some(f) => s.push_str(&format!(",{f:?}")),
                None => s.push_str(&format!(",{}", x.as_str().unwrap())),
            }
        }
        s.push('\n');
    }
    (tmp(&format!("{name}.csv"), &s), studies)
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn reference(id: &str) -> Value {
    fixture()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .clone()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn json_has_the_issue_keys_and_metafors_numbers() {
    let (csv, studies) = csv_of("hackshaw");
    let out = metan(&[
        "selmodel",
        csv.to_str().unwrap(),
        "--type",
        "stepfun",
        "--steps",
        "0.025",
        "--format",
        "json",
    ]);
    let j = json_of(&out);
    for key in [
        "type",
        "k",
        "estimate",
        "se",
        "statistic",
        "p_value",
        "ci_lower",
        "ci_upper",
        "tau2",
        "delta",
        "delta_se",
        "lrt",
        "lrt_df",
        "lrt_p_value",
        "loglik",
        "converged",
    ] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    assert!(
        j.get("coefficients").is_none(),
        "coefficients only with --mods"
    );
    assert_eq!(j["type"], "stepfun");
    assert_eq!(j["k"], 37);
    assert_eq!(j["converged"], true);
    // the same numbers as the library
    let fit = SelectionModel::new(SelectionType::StepFunction)
        .steps([0.025])
        .fit(&studies)
        .unwrap();
    assert_eq!(j["estimate"].as_f64().unwrap(), fit.estimate());
    assert_eq!(j["loglik"].as_f64().unwrap(), fit.loglik());
    assert!(j["delta_se"][0].is_null(), "delta_1 is fixed");
    // and metafor's (polished) maximum
    let r = &reference("hackshaw/stepfun(0.025)/greater/ML")["reference"];
    assert!(close(
        j["estimate"].as_f64().unwrap(),
        r["beta"][0].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        j["se"].as_f64().unwrap(),
        r["se"][0].as_f64().unwrap(),
        1e-7
    ));
    assert!(close(
        j["tau2"].as_f64().unwrap(),
        r["tau2"].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        j["delta"][1].as_f64().unwrap(),
        r["delta"][1].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        j["delta_se"][1].as_f64().unwrap(),
        r["se_delta"][1].as_f64().unwrap(),
        1e-7
    ));
    assert!(close(
        j["lrt"].as_f64().unwrap(),
        r["lrt"].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        j["lrt_p_value"].as_f64().unwrap(),
        r["lrt_p"].as_f64().unwrap(),
        1e-8
    ));
    assert!(close(
        j["loglik"].as_f64().unwrap(),
        r["ll"].as_f64().unwrap(),
        1e-11
    ));
    assert_eq!(j["lrt_df"], 1);
}

#[test]
fn moderators_add_the_coefficient_table() {
    let (csv, studies) = csv_of("bcg");
    let out = metan(&[
        "selmodel",
        csv.to_str().unwrap(),
        "--type",
        "stepfun",
        "--steps",
        "0.025",
        "--mods",
        "ablat",
        "--alternative",
        "less",
        "--format",
        "json",
    ]);
    let j = json_of(&out);
    let co = j["coefficients"].as_array().unwrap();
    assert_eq!(co.len(), 2);
    assert_eq!(co[1]["name"], "ablat");
    let fit = SelectionModel::new(SelectionType::StepFunction)
        .steps([0.025])
        .alternative(metan::bias::Alternative::Less)
        .base(
            MetaRegression::new()
                .method(metan::Method::ML)
                .moderator("ablat"),
        )
        .fit(&studies)
        .unwrap();
    assert_eq!(
        co[1]["estimate"].as_f64().unwrap(),
        fit.coefficients()[1].estimate
    );
    let r = &reference("bcg/stepfun(0.025)/less/ML/mods=ablat")["reference"];
    for (c, (b, se)) in co.iter().zip(f64s(&r["beta"]).iter().zip(f64s(&r["se"]))) {
        assert!(close(c["estimate"].as_f64().unwrap(), *b, 1e-8), "{c}");
        assert!(close(c["se"].as_f64().unwrap(), se, 1e-7), "{c}");
    }
    // text output is the library's Display
    let text = metan(&[
        "selmodel",
        csv.to_str().unwrap(),
        "--type",
        "stepfun",
        "--steps",
        "0.025",
        "--mods",
        "ablat",
        "--alternative",
        "less",
    ]);
    assert!(text.status.success());
    assert_eq!(String::from_utf8(text.stdout).unwrap(), fit.to_string());
}

/// A delta that runs off to a bound is reported as a bound, not as an estimate: in the
/// JSON (`delta_at_bound` beside `delta`, no SE) and in the text (a note line). BCG with a
/// 3PSM on one-sided "greater" p-values (the vaccine effects are negative, so most
/// p-values are large): the likelihood keeps rising as delta_2 (the weight of
/// p > 0.025) grows, the reference (tests/fixtures/selmodel.json) holds it on its upper
/// bound 100, and metafor stops somewhere on that plateau (98.27); with the "negexp"
/// type the maximum is delta = 0 (no selection) on the lower bound.
#[test]
fn deltas_on_a_bound_are_reported_as_bounds() {
    let (csv, _) = csv_of("bcg");
    let c = csv.to_str().unwrap();
    let r = &reference("bcg/stepfun(0.025)/greater/ML")["reference"];
    assert_eq!(r["delta_held"], serde_json::json!([false, true]));
    let j = json_of(&metan(&[
        "selmodel", c, "--type", "stepfun", "--steps", "0.025", "--format", "json",
    ]));
    assert_eq!(j["delta_at_bound"], serde_json::json!([null, "upper"]));
    assert_eq!(j["delta"][1].as_f64(), Some(100.0));
    assert!(j["delta_se"][1].is_null());
    let text = metan(&["selmodel", c, "--type", "stepfun", "--steps", "0.025"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Note: delta.2 is on its upper bound 100: the likelihood is flat or still rising towards it, so this is the bound, not a maximum (no standard error)."),
        "{text}"
    );
    let r = &reference("bcg/negexp/greater/ML")["reference"];
    assert_eq!(r["delta_held"], serde_json::json!([true]));
    let j = json_of(&metan(&[
        "selmodel", c, "--type", "negexp", "--format", "json",
    ]));
    assert_eq!(j["delta_at_bound"], serde_json::json!(["lower"]));
    assert_eq!(j["delta"][0].as_f64(), Some(0.0));
    let text = metan(&["selmodel", c, "--type", "negexp"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Note: delta is on its lower bound 0 (no selection): the maximum is on the boundary, no standard error."),
        "{text}"
    );
    // an interior maximum has no note and nulls in delta_at_bound
    let j = json_of(&metan(&[
        "selmodel", c, "--type", "halfnorm", "--format", "json",
    ]));
    assert_eq!(j["delta_at_bound"], serde_json::json!([null]));
    let text = metan(&["selmodel", c, "--type", "halfnorm"]);
    assert!(!String::from_utf8(text.stdout).unwrap().contains("Note:"));
}

#[test]
fn plot_writes_the_selection_function() {
    let (csv, _) = csv_of("molloy");
    let svg = std::env::temp_dir().join(format!("metan-selmodel-{}.svg", std::process::id()));
    let out = metan(&[
        "selmodel",
        csv.to_str().unwrap(),
        "--type",
        "halfnorm",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.ends_with("</svg>\n"));
    assert_eq!(text.matches("<polyline class=\"selection\"").count(), 1);
    assert_eq!(text.matches("<line class=\"rug\"").count(), 16);
}

#[test]
fn bad_input_exits_1_with_one_line() {
    let (csv, _) = csv_of("bcg");
    let c = csv.to_str().unwrap();
    for (args, needle) in [
        (vec!["--type", "stepfun", "--steps", "0.5,0.025"], "steps"),
        (vec!["--type", "stepfun", "--steps", "1.5"], "steps"),
        (vec!["--type", "stepfun", "--steps", "0"], "steps"),
        (vec!["--type", "stepfun"], "steps"),
        (vec!["--type", "halfnorm", "--steps", "0.025,0.5"], "steps"),
        (
            vec!["--type", "stepfun", "--steps", "0.05,0.1,0.5"],
            "no observed p-value",
        ),
        (vec!["--type", "banana"], "selection type"),
        (
            vec!["--type", "beta", "--alternative", "both"],
            "alternative",
        ),
        (vec!["--type", "beta", "--method", "DL"], "method"),
        (
            vec!["--type", "beta", "--mods", "nosuchcolumn"],
            "nosuchcolumn",
        ),
    ] {
        let mut a = vec!["selmodel", c];
        a.extend(args.iter().copied());
        let out = metan(&a);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("metan: error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!err.contains("Some(") && !err.contains("NaN"), "{err}");
    }
    let tiny = tmp("tiny.csv", "yi,vi\n0.1,0.01\n0.3,0.02\n0.2,0.05\n");
    let out = metan(&["selmodel", tiny.to_str().unwrap(), "--type", "beta"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("needs at least 4 studies, got 3"), "{err}");
}
