//! The sensitivity subcommands of the `metan` binary: JSON output against metafor's
//! numbers (from `tests/fixtures/sensitivity.json`), the GOSH CSV and the scenario runner.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metan-cli-sens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn metan(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "metan {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/sensitivity.json")).unwrap()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Writes the fixture's data set `name` as a CSV with columns study, yi, vi, year.
fn dataset_csv(fx: &Value, name: &str) -> PathBuf {
    let ds = &fx["datasets"][name];
    let (y, v) = (nums(&ds["yi"]), nums(&ds["vi"]));
    let mut text = String::from("study,yi,vi,year\n");
    let years = ds.get("year").map(nums);
    for i in 0..y.len() {
        let yr = years.as_ref().map_or(i as f64, |t| t[i]);
        text.push_str(&format!("S{},{:?},{:?},{yr}\n", i + 1, y[i], v[i]));
    }
    let p = tmp(&format!("{name}.csv"));
    std::fs::write(&p, text).unwrap();
    p
}

fn case<'a>(fx: &'a Value, ds: &str, m: &str, t: &str) -> &'a Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == ds && c["method"] == m && c["test"] == t)
        .unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-10 * b.abs() || (b.abs() < 1e-9 && (a - b).abs() < 1e-10),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn leave1out_and_influence_json_match_metafor() {
    let fx = fixture();
    for (ds, m, t) in [
        ("bcg_logrr", "REML", "z"),
        ("landenberger_logor", "DL", "knha"),
        ("hackshaw1998_logor", "EE", "z"),
    ] {
        let csv = dataset_csv(&fx, ds);
        let c = case(&fx, ds, m, t);
        let out: Value = serde_json::from_str(&metan(&[
            "leave1out",
            csv.to_str().unwrap(),
            "--slab",
            "study",
            "--method",
            m,
            "--test",
            t,
            "--format",
            "json",
        ]))
        .unwrap();
        let rows = out.as_array().unwrap();
        let est = nums(&c["leave1out"]["estimate"]);
        let q = nums(&c["leave1out"]["Q"]);
        assert_eq!(rows.len(), est.len());
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r["study"], format!("S{}", i + 1));
            close(r["estimate"].as_f64().unwrap(), est[i], "estimate");
            close(r["q"].as_f64().unwrap(), q[i], "q");
            for f in [
                "se",
                "statistic",
                "p_value",
                "ci_lower",
                "ci_upper",
                "q_p_value",
                "tau2",
                "i2",
                "h2",
            ] {
                assert!(r[f].is_number(), "{f}");
            }
        }
        let out: Value = serde_json::from_str(&metan(&[
            "influence",
            csv.to_str().unwrap(),
            "--method",
            m,
            "--test",
            t,
            "--format",
            "json",
        ]))
        .unwrap();
        let e = &c["influence"];
        for (i, r) in out.as_array().unwrap().iter().enumerate() {
            for (f, col) in [
                ("rstudent", "rstudent"),
                ("dffits", "dffits"),
                ("cook_d", "cook_d"),
                ("cov_r", "cov_r"),
                ("tau2_del", "tau2_del"),
                ("q_del", "q_del"),
                ("hat", "hat"),
                ("weight", "weight"),
                ("dfbetas", "dfbetas"),
            ] {
                close(r[f].as_f64().unwrap(), nums(&e[col])[i], f);
            }
            assert_eq!(r["influential"], e["influential"][i]);
        }
    }
}

#[test]
fn cumul_json_in_year_order_matches_metafor() {
    let fx = fixture();
    let csv = dataset_csv(&fx, "bcg_logrr");
    let c = fx["cumul_ordered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == "bcg_logrr" && c["method"] == "DL" && c["decreasing"] == true)
        .unwrap();
    let out: Value = serde_json::from_str(&metan(&[
        "cumul",
        csv.to_str().unwrap(),
        "--method",
        "DL",
        "--order",
        "year",
        "--decreasing",
        "--format",
        "json",
    ]))
    .unwrap();
    let est = nums(&c["cumul"]["estimate"]);
    let tau2 = nums(&c["cumul"]["tau2"]);
    for (i, r) in out.as_array().unwrap().iter().enumerate() {
        close(r["estimate"].as_f64().unwrap(), est[i], "estimate");
        close(r["tau2"].as_f64().unwrap(), tau2[i], "tau2");
    }
    let text = metan(&["cumul", csv.to_str().unwrap(), "--method", "DL"]);
    assert!(text.contains("estimate") && text.contains("tau2"));
}

#[test]
fn gosh_writes_every_subset() {
    let fx = fixture();
    let csv = dataset_csv(&fx, "tiny_synthetic");
    let out = tmp("gosh.csv");
    let summary = metan(&[
        "gosh",
        csv.to_str().unwrap(),
        "--method",
        "DL",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(summary.contains("15 subsets"), "{summary}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 16);
    assert_eq!(
        lines[0],
        "k,estimate,tau2,i2,h2,q,Study 1,Study 2,Study 3,Study 4"
    );
    // the last subset holds every study: its estimate is the full DL fit's
    let last: Vec<&str> = lines[15].split(',').collect();
    assert_eq!(last[0], "4");
    let full = case(&fx, "tiny_synthetic", "DL", "z")["full"]["estimate"]
        .as_f64()
        .unwrap();
    close(last[1].parse().unwrap(), full, "gosh full estimate");
    // random subsets: reproducible by seed
    let a = metan(&[
        "gosh",
        csv.to_str().unwrap(),
        "--max-subsets",
        "7",
        "--seed",
        "3",
        "--output",
        out.to_str().unwrap(),
    ]);
    let t1 = std::fs::read_to_string(&out).unwrap();
    let _ = metan(&[
        "gosh",
        csv.to_str().unwrap(),
        "--max-subsets",
        "7",
        "--seed",
        "3",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(t1, std::fs::read_to_string(&out).unwrap());
    assert!(a.contains("random, seed 3"));
}

#[test]
fn scenarios_from_toml_and_json_specs() {
    let csv = tmp("toy_scenarios.csv");
    std::fs::write(
        &csv,
        "study,source,yi,vi,design,flawed,simulated\n\
         A,official,-0.60,0.040,RCT,false,true\n\
         A,partner,-0.10,0.050,RCT,false,true\n\
         B,official,-0.50,0.030,quasi,true,true\n\
         C,official,-0.35,0.050,RCT,false,true\n\
         C,partner,0.05,0.060,RCT,false,true\n",
    )
    .unwrap();
    let toml = tmp("spec.toml");
    std::fs::write(
        &toml,
        r#"
provenance = "toy data for the CLI test"
[model]
method = "DL"
[base]
name = "official records"
sources = ["official"]
[[scenario]]
builtin = "source_only"
source = "partner"
[[scenario]]
builtin = "drop_flagged"
flag = "flawed"
[[scenario]]
name = "RCTs"
sources = ["official"]
select = { op = "equals", attr = "design", value = "rct" }
"#,
    )
    .unwrap();
    let text = metan(&[
        "scenarios",
        csv.to_str().unwrap(),
        "--spec",
        toml.to_str().unwrap(),
    ]);
    assert!(
        text.contains("SIMULATED data: toy data for the CLI test"),
        "{text}"
    );
    assert!(text.contains("partner outcomes only"));
    let json: Value = serde_json::from_str(&metan(&[
        "scenarios",
        csv.to_str().unwrap(),
        "--spec",
        toml.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["simulated"], true);
    assert_eq!(json["base"]["k"], 3);
    let ks: Vec<u64> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["k"].as_u64().unwrap())
        .collect();
    assert_eq!(ks, [2, 2, 2]);
    let spec_json = tmp("spec.json");
    std::fs::write(
        &spec_json,
        r#"{"base": {"name": "official", "sources": ["official"]},
            "scenario": [{"builtin": "paired", "source": "partner", "other": "official"}]}"#,
    )
    .unwrap();
    let json: Value = serde_json::from_str(&metan(&[
        "scenarios",
        csv.to_str().unwrap(),
        "--spec",
        spec_json.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    let used: Vec<&str> = json["scenarios"][0]["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["source"].as_str().unwrap())
        .collect();
    assert_eq!(used, ["partner", "partner"]);
}
