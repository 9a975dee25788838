//! `metan fit --scale`: the JSON object and the text output against the metafor fixture
//! (`tests/fixtures/location_scale.json`, tolerances as in tests/parity/location_scale_parity.rs),
//! boundaries in JSON, and bad input (exit 1, one line on stderr).

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs")
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-ls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/location_scale.json")).unwrap()
}

/// A CSV of a fixture data set (`{:?}` round-trips every double exactly).
fn csv_of(name: &str) -> PathBuf {
    let j = fixture();
    let ds = j["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()
        .clone();
    let cols = ds["columns"].as_object().unwrap();
    let mut s = String::from("yi,vi");
    for c in cols.keys() {
        s.push(',');
        s.push_str(c);
    }
    s.push('\n');
    let y = ds["yi"].as_array().unwrap();
    let v = ds["vi"].as_array().unwrap();
    for i in 0..y.len() {
        s.push_str(&format!(
            "{:?},{:?}",
            y[i].as_f64().unwrap(),
            v[i].as_f64().unwrap()
        ));
        for c in cols.values() {
            match &c[i] {
                Value::String(t) => s.push_str(&format!(",{t}")),
                x => s.push_str(&format!(",{:?}", x.as_f64().unwrap())),
            }
        }
        s.push('\n');
    }
    tmp(&format!("{name}.csv"), &s)
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn case<'a>(j: &'a Value, ds: &str, scale: &str, method: &str) -> &'a Value {
    j["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["dataset"] == ds
                && c["scale"].as_array().unwrap().len() == 1
                && c["scale"][0] == scale
                && c["mods"].as_array().unwrap().is_empty()
                && c["method"] == method
                && c["test"] == "z"
        })
        .unwrap()
}

#[test]
fn json_has_both_parts_and_matches_metafor() {
    let j = fixture();
    let p = csv_of("landenberger");
    // tau^2 by design on the real Landenberger & Lipsey data (REML): LRT 5.52, p = 0.063
    let out = json_of(&metan(&[
        "fit",
        p.to_str().unwrap(),
        "--scale",
        "design",
        "--format",
        "json",
    ]));
    let c = case(&j, "landenberger", "design", "REML");
    // the intercept alone in the location part
    let co = out["coefficients"].as_array().unwrap();
    assert_eq!(co.len(), 1);
    assert_eq!(co[0]["name"], "intrcpt");
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(
        rel(
            co[0]["estimate"].as_f64().unwrap(),
            c["location"]["estimate"][0].as_f64().unwrap()
        ) < 1e-5
    );
    let sc = out["scale_coefficients"].as_array().unwrap();
    assert_eq!(sc.len(), 3);
    for (i, s) in sc.iter().enumerate() {
        assert_eq!(s["name"], c["scale_part"]["names"][i]);
        for key in [
            "estimate",
            "se",
            "statistic",
            "p_value",
            "ci_lower",
            "ci_upper",
        ] {
            assert!(s[key].is_number(), "{key}");
        }
        let polished = c["scale_part"]["estimate"][i].as_f64().unwrap()
            - c["newton_step"][i].as_f64().unwrap();
        let se = s["se"].as_f64().unwrap();
        assert!((s["estimate"].as_f64().unwrap() - polished).abs() < 1e-8 * (1.0 + se * se));
    }
    let ll = out["loglik"].as_f64().unwrap();
    assert!(rel(ll, c["fit_stats"]["ll_reml"].as_f64().unwrap()) < 1e-9);
    let lrt = &out["lrt"];
    assert!(
        (lrt["statistic"].as_f64().unwrap() - c["lrt"]["statistic"].as_f64().unwrap()).abs() < 1e-6
    );
    assert!((lrt["statistic"].as_f64().unwrap() - 5.5221).abs() < 1e-4);
    assert_eq!(lrt["df"], 2.0);
    assert_eq!(out["tau2_levels"].as_array().unwrap().len(), 3);
}

#[test]
fn boundary_is_reported_as_such() {
    let p = csv_of("landenberger");
    let out = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--scale",
        "design",
        "--method",
        "ML",
        "--format",
        "json",
    ]);
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(err.contains("designnonequiv -> -Inf"), "{err}");
    let j = json_of(&out);
    let s = &j["scale_coefficients"][1];
    assert_eq!(s["name"], "designnonequiv");
    assert!(s["estimate"].is_null() && s["se"].is_null() && s["p_value"].is_null());
    assert_eq!(s["boundary"], -1.0);
    // QS over the identified coefficient only
    assert_eq!(j["qs_df"][0], 1.0);
    assert_eq!(j["tau2_levels"][1]["tau2"], 0.0);
    // text: -Inf and NA in the table, and the note
    let text = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--scale",
        "design",
        "--method",
        "ML",
    ]);
    let t = String::from_utf8(text.stdout).unwrap();
    assert!(t.contains("designnonequiv      -Inf      NA"), "{t}");
    assert!(t.contains("Note: -Inf or Inf marks a scale coefficient on the boundary"));
}

#[test]
fn text_output_has_metafor_layout() {
    let p = csv_of("bcg");
    let out = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--mods",
        "ablat",
        "--scale",
        "ablat",
    ]);
    assert!(out.status.success());
    let t = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Location-Scale Model (k = 13; tau^2 estimator: REML)",
        "Test for Residual Heterogeneity:",
        "Test of Location Coefficients (coefficient 2):",
        "Model Results (Location):",
        "Test of Scale Coefficients (coefficient 2):",
        "Model Results (Scale):",
        "Likelihood-Ratio Test against a constant tau^2:",
    ] {
        assert!(t.contains(line), "{line}\n{t}");
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let p = tmp(
        "sep.csv",
        "yi,vi,grp,x,c\n0.1,0.02,a,1,5\n0.3,0.03,a,2,5\n0.5,0.02,a,3,5\n0.2,0.04,b,4,5\n0.6,0.03,b,5,5\n0.9,0.02,c,6,5\n",
    );
    let f = p.to_str().unwrap();
    for (args, msg) in [
        (
            vec!["fit", f, "--scale", "x", "--method", "DL"],
            "invalid option `method` = DL: location-scale models are fitted by ML or REML",
        ),
        (
            vec!["fit", f, "--scale", "c"],
            "invalid option `scale` = c: constant",
        ),
        (
            vec!["fit", f, "--mods", "grp", "--scale", "grp"],
            "invalid option `scale` = grp = c: the location model fits the one study of this level exactly (leverage 1), so its tau^2 is not identified",
        ),
        (
            vec!["fit", f, "--mods", "grp,x", "--scale", "grp"],
            "needs at least 7 studies, got 6",
        ),
        (
            vec!["fit", f, "--scale", "nope"],
            "column `nope`: column not found",
        ),
        (
            vec!["fit", f, "--scale", "x", "--tau2", "0.1"],
            "invalid option `tau2`",
        ),
    ] {
        let out = metan(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(msg), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("panicked") && !err.contains("Some("));
    }
}
