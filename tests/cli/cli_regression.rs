//! The `metan fit --mods`, `metan subgroup` and `metan permutest` commands: they print what
//! the library computes, with the JSON field names of the issue.

use std::path::PathBuf;
use std::process::Command;

use metan::{MetaRegression, Method, Studies, TestKind};
use serde_json::Value;

const CSV: &str = "study,yi,vi,ablat,alloc
S1,-0.8893,0.3256,44,random
S2,-1.5854,0.1946,55,random
S3,-1.3481,0.4154,42,random
S4,-1.4416,0.0200,52,random
S5,-0.2175,0.0512,13,alternate
S6,-0.7861,0.0069,44,alternate
S7,-1.6209,0.2230,19,random
S8,0.0120,0.0040,13,random
S9,-0.4694,0.0564,27,systematic
S10,-1.3713,0.0730,42,systematic
S11,-0.3394,0.0124,18,systematic
S12,0.4459,0.5325,33,systematic
S13,-0.0173,0.0714,33,random
";

fn csv(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("metan-cli-{}-{name}.csv", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

fn metan(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metan"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn studies() -> Studies {
    let rows: Vec<Vec<&str>> = CSV
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let col = |j: usize| {
        rows.iter()
            .map(|r| r[j].parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    Studies::from_variances(col(1), col(2))
        .unwrap()
        .with_moderator("ablat", col(3))
        .unwrap()
        .with_attribute("alloc", rows.iter().map(|r| r[4]))
        .unwrap()
}

#[test]
fn fit_with_moderators_json() {
    let p = csv("fit", CSV);
    let (ok, out, err) = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--mods",
        "ablat,alloc",
        "--reference",
        "alloc=random",
        "--method",
        "DL",
        "--test",
        "knha",
        "--btt",
        "3,4",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let lib = MetaRegression::new()
        .moderators(["ablat", "alloc"])
        .reference("alloc", "random")
        .method(Method::DL)
        .test(TestKind::Knha)
        .btt([3, 4])
        .fit(&studies())
        .unwrap();
    let coefs = v["coefficients"].as_array().unwrap();
    assert_eq!(coefs.len(), 4);
    assert_eq!(coefs[2]["name"], "allocalternate");
    for (c, l) in coefs.iter().zip(lib.coefficients()) {
        assert_eq!(c["estimate"].as_f64().unwrap(), l.estimate);
        assert_eq!(c["p_value"].as_f64().unwrap(), l.p_value);
        assert_eq!(c["df"].as_f64().unwrap(), 9.0);
    }
    assert_eq!(v["qm"].as_f64().unwrap(), lib.qm());
    assert_eq!(v["qm_df"].as_f64().unwrap(), 2.0);
    assert_eq!(v["qm_p_value"].as_f64().unwrap(), lib.qm_p_value());
    assert_eq!(v["r2"].as_f64().unwrap(), lib.heterogeneity().r2().unwrap());
    for (key, val) in [
        ("q", lib.heterogeneity().q()),
        ("q_df", lib.heterogeneity().q_df()),
        ("q_p_value", lib.heterogeneity().q_p_value()),
        ("tau2", lib.tau2()),
        ("i2", lib.heterogeneity().i2()),
        ("h2", lib.heterogeneity().h2()),
    ] {
        assert_eq!(v[key].as_f64().unwrap(), val, "{key}");
    }
    // text output is the library's Display
    let (ok, text, _) = metan(&[
        "fit",
        p.to_str().unwrap(),
        "--mods",
        "ablat",
        "--mods",
        "alloc",
        "--reference",
        "alloc=random",
        "--method",
        "DL",
        "--test",
        "knha",
        "--btt",
        "3,4",
    ]);
    assert!(ok);
    assert_eq!(text, lib.to_string());
    std::fs::remove_file(p).ok();
}

#[test]
fn typed_errors_reach_the_user() {
    let p = csv(
        "err",
        &CSV.replace("S5,-0.2175,0.0512,13,alternate", "S5,-0.2175,0.0512,13,NA"),
    );
    let (ok, _, err) = metan(&["fit", p.to_str().unwrap(), "--mods", "alloc"]);
    assert!(!ok);
    assert!(err.contains("study 5") && err.contains("alloc"), "{err}");
    let (ok, _, err) = metan(&["fit", p.to_str().unwrap(), "--mods", "latitude"]);
    assert!(!ok);
    assert!(err.contains("latitude"), "{err}");
    let q = csv(
        "na",
        &CSV.replace("S5,-0.2175,0.0512,13,", "S5,-0.2175,0.0512,NA,"),
    );
    let (ok, _, err) = metan(&["fit", q.to_str().unwrap(), "--mods", "ablat"]);
    assert!(!ok);
    assert!(err.contains("row 6") && err.contains("ablat"), "{err}");
    std::fs::remove_file(p).ok();
    std::fs::remove_file(q).ok();
}

#[test]
fn subgroup_and_permutest_commands() {
    let p = csv("sub", CSV);
    let (ok, out, err) = metan(&[
        "subgroup",
        p.to_str().unwrap(),
        "--by",
        "alloc",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let lib = metan::subgroup_analysis(&studies(), "alloc", &metan::MetaAnalysis::new()).unwrap();
    assert_eq!(v["separate"]["q"].as_f64().unwrap(), lib.separate().q);
    assert_eq!(v["groups"].as_array().unwrap().len(), 3);
    let (ok, out, err) = metan(&[
        "permutest",
        p.to_str().unwrap(),
        "--mods",
        "ablat",
        "--iter",
        "300",
        "--seed",
        "9",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let lib = metan::PermutationTest::new()
        .iter(300)
        .seed(9)
        .run(&MetaRegression::new().moderator("ablat"), &studies())
        .unwrap();
    assert_eq!(v["qm_p_value"].as_f64().unwrap(), lib.qm_p_value());
    assert_eq!(v["permutations"].as_f64().unwrap(), 300.0);
    std::fs::remove_file(p).ok();
}
