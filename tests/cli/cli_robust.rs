//! `metan robu` and `metan fit --cluster --robust`: they print what the library computes,
//! with the JSON keys of issue 14; bad input exits 1 with one line on stderr.

use std::path::PathBuf;
use std::process::Command;

use metan::{MetaAnalysis, MetaRegression, Robu, RobuWeights, RobustKind, Studies};
use serde_json::Value;

const CSV: &str = "study,yi,vi,x,design
A,0.30,0.02,1,rct
A,0.42,0.03,2,rct
B,0.10,0.02,1,qe
B,0.15,0.04,3,qe
B,0.22,0.03,2,qe
C,0.55,0.03,3,rct
C,0.48,0.02,1,rct
D,0.20,0.05,2,qe
E,0.35,0.03,2,rct
E,0.05,0.04,1,rct
F,0.61,0.02,3,qe
";

fn csv(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "metan-cli-robust-{}-{name}.csv",
        std::process::id()
    ));
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
        .with_moderator("x", col(3))
        .unwrap()
        .with_attribute("design", rows.iter().map(|r| r[4]))
        .unwrap()
        .with_clusters(rows.iter().map(|r| r[0]))
        .unwrap()
}

fn coef_json(v: &Value, c: &metan::Coefficient) {
    assert_eq!(v["name"], c.name.as_str());
    for (k, x) in [
        ("estimate", c.estimate),
        ("se", c.se),
        ("statistic", c.statistic),
        ("df", c.df.unwrap()),
        ("p_value", c.p_value),
        ("ci_lower", c.ci_lower),
        ("ci_upper", c.ci_upper),
    ] {
        assert_eq!(v[k].as_f64().unwrap(), x, "{k}");
    }
}

#[test]
fn robu_json_and_text_are_the_library_fit() {
    let p = csv("robu", CSV);
    let path = p.to_str().unwrap();
    for (w, rho, small) in [
        ("corr", "0.8", true),
        ("hier", "0.8", false),
        ("corr", "0.3", false),
    ] {
        let mut args = vec![
            "robu",
            path,
            "--cluster",
            "study",
            "--weights",
            w,
            "--rho",
            rho,
            "--mods",
            "x,design",
        ];
        if !small {
            args.push("--no-small");
        }
        let lib = Robu::new()
            .weights(w.parse::<RobuWeights>().unwrap())
            .rho(rho.parse().unwrap())
            .small(small)
            .moderators(["x", "design"])
            .fit(&studies())
            .unwrap();
        let (ok, out, err) = metan(&args);
        assert!(ok, "{err}");
        assert_eq!(out, lib.to_string());
        args.extend(["--format", "json"]);
        let (ok, out, err) = metan(&args);
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["k"], 11);
        assert_eq!(v["clusters"], 6);
        assert_eq!(v["tau2"].as_f64().unwrap(), lib.tau2());
        match lib.omega2() {
            Some(o) => assert_eq!(v["omega2"].as_f64().unwrap(), o),
            None => assert!(v["omega2"].is_null()),
        }
        let cs = v["coefficients"].as_array().unwrap();
        assert_eq!(cs.len(), lib.coefficients().len());
        for (j, c) in cs.iter().zip(lib.coefficients()) {
            coef_json(j, c);
        }
    }
}

#[test]
fn fit_with_robust_adds_the_robust_block() {
    let p = csv("fit", CSV);
    let path = p.to_str().unwrap();
    let s = studies();
    for kind in ["CR2", "CR1"] {
        let k: RobustKind = kind.parse().unwrap();
        // intercept only
        let lib = MetaAnalysis::new().fit(&s).unwrap().robust(&s, k).unwrap();
        let (ok, out, err) = metan(&[
            "fit",
            path,
            "--cluster",
            "study",
            "--robust",
            kind,
            "--format",
            "json",
        ]);
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["robust"]["type"], kind);
        coef_json(&v["robust"]["coefficients"][0], &lib.coefficients()[0]);
        // with moderators
        let lib = MetaRegression::new()
            .moderator("x")
            .fit(&s)
            .unwrap()
            .robust(&s, k)
            .unwrap();
        let (ok, out, err) = metan(&[
            "fit",
            path,
            "--mods",
            "x",
            "--cluster",
            "study",
            "--robust",
            kind,
            "--format",
            "json",
        ]);
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        for (j, c) in v["robust"]["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .zip(lib.coefficients())
        {
            coef_json(j, c);
        }
        let (ok, out, _) = metan(&[
            "fit",
            path,
            "--mods",
            "x",
            "--cluster",
            "study",
            "--robust",
            kind,
        ]);
        assert!(ok);
        assert!(out.ends_with(&lib.to_string()), "{out}");
    }
}

#[test]
fn bad_input_exits_1_with_one_line() {
    let good = csv("good", CSV);
    let missing = csv("missing", &CSV.replace("D,0.20", ",0.20"));
    let na = csv("na", &CSV.replace("D,0.20", "NA,0.20"));
    let singles = csv(
        "singles",
        "study,yi,vi\nA,0.1,0.02\nB,0.2,0.03\nC,0.3,0.02\n",
    );
    let two = csv(
        "two",
        "study,yi,vi,x\nA,0.1,0.02,1\nA,0.2,0.03,2\nB,0.3,0.02,3\nB,0.1,0.02,1\n",
    );
    let g = good.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["robu", missing.to_str().unwrap(), "--cluster", "study"],
            "cluster",
        ),
        (
            vec!["robu", na.to_str().unwrap(), "--cluster", "study"],
            "missing cluster",
        ),
        (vec!["robu", g, "--cluster", "study", "--rho", "1.5"], "rho"),
        (
            vec!["robu", g, "--cluster", "study", "--rho", "-0.2"],
            "rho",
        ),
        (
            vec!["robu", g, "--cluster", "study", "--weights", "cs"],
            "robu weights",
        ),
        (vec!["robu", g, "--cluster", "nope"], "nope"),
        (
            vec![
                "robu",
                singles.to_str().unwrap(),
                "--cluster",
                "study",
                "--weights",
                "hier",
            ],
            "HIER",
        ),
        (
            vec![
                "robu",
                two.to_str().unwrap(),
                "--cluster",
                "study",
                "--mods",
                "x",
            ],
            "clusters",
        ),
        (vec!["fit", g, "--robust", "CR2"], "--cluster"),
        (vec!["fit", g, "--cluster", "study"], "--robust"),
        (
            vec!["fit", g, "--cluster", "study", "--robust", "CR3"],
            "CR1, CR2",
        ),
        (
            vec![
                "fit",
                two.to_str().unwrap(),
                "--mods",
                "x",
                "--cluster",
                "study",
                "--robust",
                "CR2",
            ],
            "at least 3 clusters",
        ),
    ];
    for (args, needle) in cases {
        let (ok, out, err) = metan(&args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("metan: error: "), "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("Some("), "{err}");
    }
}
