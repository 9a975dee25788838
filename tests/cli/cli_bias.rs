//! `metan bias`: the JSON object against the metafor fixture (`tests/fixtures/bias.json`),
//! the text blocks against metafor's printouts, sample sizes from `--measure`, and the
//! behaviour with too few studies and bad options.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn metan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .expect("runs")
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/bias.json")).unwrap()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-bias-{}", std::process::id()));
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

/// A CSV of a fixture data set (`{:?}` round-trips every double exactly).
fn csv_of(name: &str) -> PathBuf {
    let ds = &fixture()["datasets"][name];
    let (y, v) = (f64s(&ds["yi"]), f64s(&ds["vi"]));
    let ni = (!ds["ni"].is_null()).then(|| f64s(&ds["ni"]));
    let mut s = String::from(if ni.is_some() {
        "yi,vi,ni\n"
    } else {
        "yi,vi\n"
    });
    for i in 0..y.len() {
        match &ni {
            Some(n) => s.push_str(&format!("{:?},{:?},{:?}\n", y[i], v[i], n[i])),
            None => s.push_str(&format!("{:?},{:?}\n", y[i], v[i])),
        }
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

fn close(label: &str, theirs: &Value, mine: &Value) {
    match (theirs.as_f64(), mine.as_f64()) {
        (Some(t), Some(m)) => {
            let e = if t == m {
                0.0
            } else {
                (t - m).abs() / t.abs().max(m.abs())
            };
            assert!(
                e <= 1e-10 || (t - m).abs() < 1e-13,
                "{label}: metafor {t} metan {m}"
            );
        }
        (None, None) => {}
        _ => panic!("{label}: metafor {theirs} metan {mine}"),
    }
}

fn case<'a>(fx: &'a Value, dataset: &str, method: &str) -> &'a Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["dataset"] == dataset
                && c["method"] == method
                && c["test"] == "z"
                && c["weights"] == false
        })
        .unwrap()
}

#[test]
fn json_matches_metafor_for_every_part() {
    let fx = fixture();
    for (name, method) in [("hackshaw", "REML"), ("bcg", "DL"), ("molloy", "EE")] {
        let p = csv_of(name);
        let j = json_of(&metan(&[
            "bias",
            p.to_str().unwrap(),
            "--method",
            method,
            "--format",
            "json",
        ]));
        assert!(j.get("errors").is_none(), "{j}");
        let c = case(&fx, name, method);
        // egger: regtest(model = "rma", predictor = "sei")
        let r = c["regtest"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == "rma" && r["predictor"] == "sei")
            .unwrap();
        for f in [
            "statistic",
            "df",
            "p_value",
            "limit_estimate",
            "limit_ci_lower",
            "limit_ci_upper",
        ] {
            close(&format!("{name} egger {f}"), &r[f], &j["egger"][f]);
        }
        // rank
        let rk = fx["ranktest"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["dataset"] == name)
            .unwrap();
        close(&format!("{name} tau"), &rk["tau"], &j["rank"]["tau"]);
        close(
            &format!("{name} rank p"),
            &rk["p_value"],
            &j["rank"]["p_value"],
        );
        // trimfill: L0, side estimated
        let t = c["trimfill"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["estimator"] == "L0" && t["side_given"].is_null())
            .unwrap();
        assert_eq!(j["trimfill"]["k0"], t["k0"], "{name} k0");
        assert_eq!(j["trimfill"]["side"], t["side"], "{name} side");
        for f in ["estimate", "se", "ci_lower", "ci_upper", "tau2", "se_k0"] {
            close(&format!("{name} trimfill {f}"), &t[f], &j["trimfill"][f]);
        }
        let filled = j["trimfill"]["filled"].as_array().unwrap();
        let fy = f64s(&t["filled_yi"]);
        assert_eq!(filled.len(), fy.len());
        for (a, b) in fy.iter().zip(filled) {
            close(&format!("{name} filled"), &Value::from(*a), &b["yi"]);
        }
        // failsafe
        let fsn = fx["fsn"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dataset"] == name)
            .unwrap();
        for (ty, key) in [
            ("Rosenthal", "rosenthal"),
            ("Orwin", "orwin"),
            ("Rosenberg", "rosenberg"),
        ] {
            let f = fsn["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["type"] == ty && f["args"].as_array().is_some_and(|a| a.is_empty()))
                .unwrap();
            close(&format!("{name} {key}"), &f["fsnum"], &j["failsafe"][key]);
        }
        // PET and PEESE against R's lm
        let pp = fx["pet_peese"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dataset"] == name)
            .unwrap();
        for which in ["pet", "peese"] {
            for (j_idx, part) in [(0, "intercept"), (1, "slope")] {
                let theirs = &pp[which]["coefficients"][j_idx];
                let mine = &j["pet_peese"][which][part];
                for f in ["estimate", "se", "p_value", "ci_lower", "ci_upper"] {
                    close(&format!("{name} {which} {part} {f}"), &theirs[f], &mine[f]);
                }
            }
        }
        let p_pet = pp["pet"]["coefficients"][0]["p_value"].as_f64().unwrap();
        let chosen = if p_pet < 0.10 { "PEESE" } else { "PET" };
        assert_eq!(j["pet_peese"]["chosen"], chosen, "{name}");
    }
}

#[test]
fn sample_size_predictors_from_a_column_and_from_measure() {
    let fx = fixture();
    let c = case(&fx, "bcg", "DL");
    let r = c["regtest"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == "rma" && r["predictor"] == "ninv")
        .unwrap();
    // the ni column of the CSV
    let p = csv_of("bcg");
    let j = json_of(&metan(&[
        "bias",
        p.to_str().unwrap(),
        "--method",
        "DL",
        "--predictor",
        "ninv",
        "--format",
        "json",
    ]));
    close("ninv statistic", &r["statistic"], &j["egger"]["statistic"]);
    close(
        "ninv limit",
        &r["limit_estimate"],
        &j["egger"]["limit_estimate"],
    );
    // raw 2x2 counts with --measure RR: metafor's ni = the total sample size
    let counts = "tpos,tneg,cpos,cneg\n4,119,11,128\n6,300,29,274\n3,228,11,209\n62,13536,248,12619\n33,5036,47,5761\n180,1361,372,1079\n8,2537,10,619\n505,87886,499,87892\n29,7470,45,7232\n17,1699,65,1600\n186,50448,141,27197\n5,2493,3,2338\n27,16886,29,17825\n";
    let p = tmp("bcg_counts.csv", counts);
    let j = json_of(&metan(&[
        "bias",
        p.to_str().unwrap(),
        "--measure",
        "RR",
        "--ai",
        "tpos",
        "--bi",
        "tneg",
        "--ci",
        "cpos",
        "--di",
        "cneg",
        "--method",
        "DL",
        "--predictor",
        "ninv",
        "--format",
        "json",
    ]));
    close(
        "measure ninv statistic",
        &r["statistic"],
        &j["egger"]["statistic"],
    );
    close("measure ninv p", &r["p_value"], &j["egger"]["p_value"]);
}

#[test]
fn text_output_has_metafor_blocks() {
    let fx = fixture();
    let p = csv_of("hackshaw");
    let out = metan(&["bias", p.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for what in [
        "regtest",
        "ranktest",
        "fsn_rosenthal",
        "fsn_orwin",
        "fsn_rosenberg",
    ] {
        let block = fx["printed"][what].as_str().unwrap().trim();
        assert!(text.contains(block), "{what} block missing:\n{block}");
    }
    // the trim-and-fill header and its model
    let tf = fx["printed"]["trimfill"].as_str().unwrap();
    let head = tf.trim().lines().next().unwrap();
    assert!(text.contains(head), "{head}");
    assert!(text.contains("PET-PEESE"));
}

#[test]
fn too_few_studies_are_reported_per_test() {
    let p = tmp("two.csv", "yi,vi\n0.1,0.01\n0.5,0.04\n");
    let j = json_of(&metan(&["bias", p.to_str().unwrap(), "--format", "json"]));
    for part in ["egger", "trimfill", "pet_peese"] {
        assert!(j[part].is_null(), "{part}: {}", j[part]);
        let e = j["errors"][part].as_str().unwrap();
        assert!(e.contains("needs at least 3 studies, got 2"), "{part}: {e}");
    }
    // two studies: Kendall's tau is +-1 with p = 1; the fail-safe numbers exist
    assert_eq!(j["rank"]["p_value"], 1.0);
    assert!(j["failsafe"]["rosenthal"].as_f64().is_some());
    // the text output names the tests that could not be computed
    let out = metan(&["bias", p.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("PET-PEESE: not computed: PET-PEESE needs at least 3 studies, got 2"));
}

#[test]
fn bad_options_fail_cleanly() {
    let p = csv_of("hackshaw");
    for (args, msg) in [
        (vec!["--predictor", "xyz"], "unknown predictor `xyz`"),
        (
            vec!["--estimator", "L1"],
            "unknown trim-and-fill estimator `L1`",
        ),
        (vec!["--side", "up"], "unknown side `up`"),
        (
            vec!["--model", "glm"],
            "unknown regression test model `glm`",
        ),
        (vec!["--method", "XYZ"], "unknown method `XYZ`"),
        (vec!["--level", "150"], "invalid option `level` = 150"),
    ] {
        let mut a = vec!["bias", p.to_str().unwrap()];
        a.extend(args);
        let out = metan(&a);
        assert_eq!(out.status.code(), Some(1), "{a:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(msg), "{a:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    // a sample-size predictor without sample sizes: only the regression test fails
    let j = json_of(&metan(&[
        "bias",
        p.to_str().unwrap(),
        "--predictor",
        "ni",
        "--format",
        "json",
    ]));
    assert!(j["egger"].is_null());
    assert!(
        j["errors"]["egger"]
            .as_str()
            .unwrap()
            .contains("needs sample sizes")
    );
    assert!(j["rank"]["tau"].as_f64().is_some());
}

/// `hc` (metafor's `hc`, Henmi-Copas) in the JSON and text output, against
/// `tests/fixtures/hc.json` (`generate_hc.R`; see tests/parity/hc_parity.rs for the tolerances).
#[test]
fn henmi_copas_in_json_and_text() {
    let hc: Value = serde_json::from_str(include_str!("../fixtures/hc.json")).unwrap();
    let mut n = 0;
    for c in hc["cases"].as_array().unwrap() {
        if c["method"] != "REML" || c["level"] != 95.0 {
            continue;
        }
        let name = c["dataset"].as_str().unwrap();
        if fixture()["datasets"][name].is_null() {
            continue;
        }
        let p = csv_of(name);
        let j = json_of(&metan(&["bias", p.to_str().unwrap(), "--format", "json"]));
        for field in ["estimate", "se", "ci_lower", "ci_upper", "tau2"] {
            close(
                &format!("{name} hc {field}"),
                &c["tight"][field],
                &j["hc"][field],
            );
            n += 1;
        }
    }
    assert!(n >= 25, "{n}");
    let p = csv_of("bcg");
    let out = metan(&["bias", p.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    let block = hc["printed_bcg"].as_str().unwrap().trim_matches('\n');
    assert!(
        text.contains(block),
        "Henmi-Copas block missing:\n{block}\n---\n{text}"
    );
}
